"""o2cb execution module for hapair: the OCFS2 cluster stack's config, status and lifecycle.

Renders ``/etc/ocfs2/cluster.conf`` and ``/etc/default/o2cb`` from a pillar topology, checks a
rendered cluster.conf with the real o2cb parser (``o2cb --config-file=FILE list-cluster NAME``)
and hapair's own checks before installing it, parses both ``o2cb status`` formats, and brings
the cluster online/offline. Binaries and paths from config::

    hapair:
      bin: {o2cb: o2cb, o2cb_init: /etc/init.d/o2cb}
      paths: {o2cb_conf: /etc/ocfs2/cluster.conf, o2cb_defaults: /etc/default/o2cb}
"""

from __future__ import annotations

import os
import tempfile

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.o2cb as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.o2cb as core

from hapair import adapter, changes
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError

__virtualname__ = "o2cb"
INIT_ENV = {"SYSTEMCTL_SKIP_REDIRECT": "1"}  # else Debian's init script redirects to systemctl


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "o2cb", "ocfs2-tools")


def _init():
    return adapter.binary(__salt__, "o2cb_init", "/etc/init.d/o2cb")


def _load(topology):
    """The normalised o2cb topology; this minion need not be one of its nodes."""
    topo, _node = adapter.load_topology(__salt__, __pillar__, __opts__, topology,
                                        stack="o2cb", require_node=False)
    return topo


def render(topology):
    """Return the o2cb files of a topology: ``{path: {"content", "mode", "secret"}}``.

    Paths from ``hapair:paths:o2cb_conf`` and ``hapair:paths:o2cb_defaults``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.render web
    """
    topo = _load(topology)
    return core.render(topo, adapter.path(__salt__, "o2cb_conf"), adapter.path(__salt__, "o2cb_defaults"))


def change_facts(topology):
    """What writing the rendered o2cb files would change on this node, classified (reads only).

    ``{"topology", "file", "changes": [...], "class": worst or None, "online": bool}``:
    ``hapair.changes.classify_o2cb`` between the files on disk and the rendered cluster.conf and
    /etc/default/o2cb (node addresses, ports, numbers, the cluster name and the timeouts are
    ``cluster-offline``); ``file`` is the cluster.conf path, ``online`` whether the cluster runs
    here. ``o2cb.cluster_configured`` refuses from it; ``salt-run hapair.reconfigure`` plans with it.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.change_facts web
    """
    files = render(topology)
    conf = next((p for p, f in files.items() if "O2CB_ENABLED=" not in f["content"]), None)
    defaults = next((p for p, f in files.items() if "O2CB_ENABLED=" in f["content"]), None)
    found = changes.classify_o2cb(adapter.read_file(conf) if conf else None, files[conf]["content"] if conf else None,
                                  adapter.read_file(defaults) if defaults else None,
                                  files[defaults]["content"] if defaults else None)
    return {"topology": topology, "file": conf, "changes": found, "class": changes.worst(found),
            "online": cluster_status()["online"]}


def check_config(topology=None, path=None):
    """Check a cluster.conf with the real o2cb parser and hapair's own checks.

    With ``topology``: the rendered file, written to a temp file first (nothing installed).
    Without: the file at ``path`` (default ``hapair:paths:o2cb_conf``) against the cluster it
    names. Returns ``{"valid": bool, "problems": [...], "listed": <parsed list-cluster>}``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.check_config topology=web
        salt web1 o2cb.check_config path=/etc/ocfs2/cluster.conf
    """
    if topology:
        topo = _load(topology)
        with tempfile.TemporaryDirectory(prefix="hapair-o2cb-") as tmp:
            conf = os.path.join(tmp, "cluster.conf")
            adapter.write_file(conf, core.render_cluster_conf(topo), "0644")
            return _check_file(conf, topo["cluster"]["name"], topo)
    path = path or adapter.path(__salt__, "o2cb_conf")
    text = adapter.read_file(path)
    if text is None:
        return {"valid": False, "problems": [f"{path} does not exist"], "listed": None}
    names = [c["name"] for c in adapter.parsed(core.parse_cluster_conf, text)["clusters"]]
    if len(names) != 1:
        return {"valid": False, "problems": [f"{path} names {len(names)} clusters, expected one"], "listed": None}
    return _check_file(path, names[0], None)


def _check_file(conf, name, topo):
    argv = [adapter.binary(__salt__, "o2cb"), f"--config-file={conf}", "list-cluster", name]
    res = adapter.run(__salt__, argv, ok_codes=(0, 1))
    if res["retcode"] != 0:
        return {"valid": False, "problems": [f"o2cb rejects the file: {res['stderr'].strip()}"], "listed": None}
    problems = core.check_listed(res["stdout"], res["stderr"], topo) if topo else []
    listed = None
    try:
        listed = core.parse_cluster_conf(res["stdout"])
    except HapairError as err:
        problems.append(str(err))
    if listed is not None:
        # o2cb drops foreign nodes from its listing: judge the file itself for those
        problems += core.check_cluster_conf(core.parse_cluster_conf(adapter.read_file(conf) or ""), name)
    return {"valid": not problems, "problems": sorted(set(problems)), "listed": listed}


def plan_config(topology):
    """Return the o2cb files that differ from the rendered ones: ``{path: {"diff", "mode", "old_mode",
    "new": file missing}}`` plus ``adapter.plan_file``'s ``path``, ``changed`` and ``action``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.plan_config web
    """
    return _install(render(topology), test=True)


def _install(files, test):
    """``adapter.install_files``, the changed files only, with o2cb's ``new`` (the file was missing)."""
    return {path: dict(plan, new=plan["action"] == "created")
            for path, plan in adapter.install_files(files, test=test).items() if plan["changed"]}


def write_config(topology):
    """Install cluster.conf and /etc/default/o2cb, after the real o2cb parser and hapair's
    checks accepted the rendered cluster.conf. Returns ``plan_config``'s dict of what changed.

    The running cluster reads these files only when it is brought online: a change to a cluster
    that is online takes effect at its next offline/online (or reboot).

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.write_config web
    """
    check = check_config(topology=topology)
    if not check["valid"]:
        raise CommandExecutionError("refusing to install cluster.conf: " + "; ".join(check["problems"]))
    return _install(render(topology), test=False)


def status():
    """Return ``/etc/init.d/o2cb status`` parsed (ocfs2-tools 1.8 and older formats).

    ``{"format", "drivers", "filesystems", "stack_glue", "stack_plugins", "cluster", "online",
    "heartbeat_active", "heartbeat_dead_threshold", "idle_timeout_ms", "keepalive_delay_ms",
    "reconnect_delay_ms", "heartbeat_mode", "debugfs_mounted"}``

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.status
    """
    res = adapter.run(__salt__, [_init(), "status"], ok_codes=(0, 1, 3), env=INIT_ENV)
    return adapter.parsed(core.parse_init_status, res["stdout"])


def cluster_status(name=None):
    """Return ``o2cb cluster-status [NAME]`` parsed: ``{"cluster": "web"|None, "online": bool}``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.cluster_status
        salt web1 o2cb.cluster_status webcluster
    """
    argv = [adapter.binary(__salt__, "o2cb"), "cluster-status"] + ([name] if name else [])
    res = adapter.run(__salt__, argv, ok_codes=(0, 1))
    return adapter.parsed(core.parse_cluster_status, res["stdout"])


def list_clusters():
    """Return the cluster names in cluster.conf (``o2cb list-clusters``).

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.list_clusters
    """
    conf = adapter.path(__salt__, "o2cb_conf")
    return adapter.tool(__salt__, "o2cb", f"--config-file={conf}", "list-clusters", parser=core.parse_list_clusters)


def list_nodes(name):
    """Return the nodes of cluster ``name`` in cluster.conf (``o2cb list-nodes NAME``):
    ``[{"name", "number", "ip_address", "ip_port", "cluster"}]``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.list_nodes webcluster
    """
    conf = adapter.path(__salt__, "o2cb_conf")
    res = adapter.run(__salt__, [adapter.binary(__salt__, "o2cb"), f"--config-file={conf}", "list-nodes", name])
    if "Unknown cluster" in res["stderr"]:  # o2cb exits 0 for an unknown cluster
        raise CommandExecutionError(f"o2cb: cluster {name!r} is not in {conf}")
    return adapter.parsed(core.parse_cluster_conf, res["stdout"])["nodes"]


def register(name):
    """Register cluster ``name`` with configfs (``o2cb register-cluster NAME``), without the
    init script's module loading and timeouts. Returns ``cluster_status(name)``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.register webcluster
    """
    adapter.run(__salt__, [adapter.binary(__salt__, "o2cb"), "register-cluster", name], timeout=adapter.ACTION_TIMEOUT)
    return cluster_status(name)


def online(name):
    """Bring cluster ``name`` online with the init script (loads the stack, mounts dlmfs,
    registers the cluster, applies /etc/default/o2cb's timeouts). Returns ``cluster_status(name)``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.online webcluster
    """
    adapter.run(__salt__, [_init(), "online", name], env=INIT_ENV, timeout=adapter.ACTION_TIMEOUT)
    return cluster_status(name)


def offline(name):
    """Take cluster ``name`` offline (fails while an OCFS2 volume is mounted). Returns
    ``cluster_status(name)``.

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.offline webcluster
    """
    adapter.run(__salt__, [_init(), "offline", name], env=INIT_ENV, timeout=adapter.ACTION_TIMEOUT)
    return cluster_status(name)


def plan_offline(topology):
    """Return the steps that take the topology's cluster offline here (``[]`` when it is not online).

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.plan_offline web
    """
    return core.plan_offline(cluster_status(), _load(topology)["cluster"]["name"])


def plan_online(topology):
    """Return the steps that bring the topology's cluster online here (``[]`` when it is).

    CLI Example:

    .. code-block:: bash

        salt web1 o2cb.plan_online web
    """
    return core.plan_online(cluster_status(), _load(topology)["cluster"]["name"])
