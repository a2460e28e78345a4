"""corosync 3 execution module for hapair: corosync.conf from the topology, validation, quorum.

``validate`` runs the real parser, ``corosync -c FILE -t``, inside ``unshare -rn`` with this
node's ring0 address on the namespace's loopback (corosync checks that the local node is in the
nodelist), so it needs no running cluster and touches no real network. The same module manages
the rest of the stack GFS2 needs: ``/etc/corosync/authkey`` (from the topology's base64
``authkey``, a secret: only its size is ever reported), dlm_controld's ``/etc/dlm/dlm.conf`` and
``dlm_tool status``/``ls``. Binaries and paths::

    hapair:
      bin: {corosync: corosync, corosync-quorumtool: corosync-quorumtool,
            corosync-cfgtool: corosync-cfgtool, unshare: unshare, dlm_tool: dlm_tool}
      paths: {corosync_conf: /etc/corosync/corosync.conf, corosync_authkey: /etc/corosync/authkey,
              dlm_conf: /etc/dlm/dlm.conf}
"""

from __future__ import annotations

import os
import tempfile

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.corosync as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.corosync as core

from hapair import adapter, changes
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "corosync"
# run inside `unshare -rn`: loopback up, the node's ring0 address on it, then the real parser
_NS_SCRIPT = 'ip link set lo up && ip addr add "$1" dev lo && exec "$2" -c "$3" -t'


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "corosync", "corosync")


def _load(topology):
    """(normalised corosync topology, this minion's node or None)."""
    return adapter.load_topology(__salt__, __pillar__, __opts__, topology,
                                 stack="corosync", require_node=False)


def render(topology):
    """Render corosync.conf (corosync 3, knet, votequorum two_node) for a pillar topology.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.render lab_gfs2
    """
    return _rendered("corosync.render", core.render_conf, topology)


def _rendered(what, renderer, topology):
    """``renderer(topology)``; a value that would break the file's syntax -> CommandExecutionError."""
    topo, _node = _load(topology)
    try:
        return renderer(topo)
    except (HapairError, ValueError) as err:
        raise CommandExecutionError(f"{what}: {err}")


def _validate_text(content, ring0_addr):
    prefix = "128" if ":" in ring0_addr else "32"
    with tempfile.TemporaryDirectory(prefix="hapair-corosync-") as tmp:
        path = os.path.join(tmp, "corosync.conf")
        adapter.write_file(path, content, "0644")
        os.chmod(tmp, 0o755)
        argv = [adapter.binary(__salt__, "unshare"), "-rn", "sh", "-c", _NS_SCRIPT, "sh", f"{ring0_addr}/{prefix}",
                adapter.binary(__salt__, "corosync"), path]
        res = adapter.run(__salt__, argv, ok_codes=range(0, 256))
    lines = [line for line in (res["stderr"] + "\n" + res["stdout"]).splitlines()
             if line.strip() and "exiting normally" not in line]
    return {"valid": res["retcode"] == 0, "retcode": res["retcode"],
            "errors": [] if res["retcode"] == 0 else [line.replace(path, "corosync.conf") for line in lines]}


def validate(topology=None, path=None, ring0_addr=None):
    """Check corosync.conf with the real parser (``corosync -c FILE -t`` in ``unshare -rn``) plus
    hapair's checks (two_node with two nodes, duplicate ring0 addresses / node ids / names).

    With ``topology`` the rendered config is checked as this node (or the first node) would load
    it; otherwise ``path`` (default ``hapair:paths:corosync_conf``) with ``ring0_addr``.
    Returns ``{"valid": bool, "retcode": int, "errors": [str]}``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.validate topology=lab_gfs2
        salt node1 corosync.validate path=/etc/corosync/corosync.conf ring0_addr=10.99.0.1
    """
    extra = []
    if topology is not None:
        topo, node = _load(topology)
        members = core.nodes(topo)
        me = next((m for m in members if m["node"] == node), members[0])
        content = render(topology)
        ring0_addr = ring0_addr or me["ring0_addr"]
        extra = [str(err) for err in core.check_conf(topo)]
    else:
        path = path or adapter.path(__salt__, "corosync_conf")
        content = adapter.read_file(path)
        if content is None:
            raise CommandExecutionError(f"corosync.validate: {path} does not exist")
        if not ring0_addr:
            raise SaltInvocationError("corosync.validate: pass ring0_addr (this node's address in the nodelist)")
    out = _validate_text(content, ring0_addr)
    out["errors"] += extra
    out["valid"] = out["valid"] and not extra
    return out


def quorum_status():
    """Return ``corosync-quorumtool -s`` parsed (exit 2 = not quorate is still a valid answer).

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.quorum_status
    """
    return adapter.tool(__salt__, "corosync-quorumtool", "-s", parser=core.parse_quorumtool, ok_codes=(0, 2))


def members():
    """Return the membership from ``corosync-quorumtool -l``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.members
    """
    return adapter.tool(__salt__, "corosync-quorumtool", "-l", parser=core.parse_quorumtool)["members"]


def links():
    """Return the knet link status from ``corosync-cfgtool -s``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.links
    """
    return adapter.tool(__salt__, "corosync-cfgtool", "-s", parser=core.parse_cfgtool)


def plan_config(topology, path=None):
    """Compare corosync.conf on disk with the rendered topology: ``{"changed", "diff"}`` (and
    ``adapter.plan_file``'s ``path``, ``action``, ``mode``, ``old_mode``; 0644). Reads only.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.plan_config lab_gfs2
    """
    return _plan_text(path or adapter.path(__salt__, "corosync_conf"), render(topology))


def _plan_text(path, wanted):
    return adapter.plan_file(path, wanted, "0644")


def change_facts(topology, path=None):
    """What writing the rendered corosync.conf at ``path`` (default ``hapair:paths:corosync_conf``)
    would change, classified (``hapair.changes.classify_corosync``; ``[]`` with no file yet):
    ``{"topology", "file", "changes", "class"}``. Reads only. ``corosync.configured`` refuses
    from it; ``salt-run hapair.reconfigure`` plans with it.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.change_facts lab_gfs2
    """
    path = path or adapter.path(__salt__, "corosync_conf")
    old = adapter.read_file(path)
    found = [] if old is None else changes.classify_corosync(old, render(topology))
    return {"topology": topology, "file": path, "changes": found, "class": changes.worst(found)}


def update_config(topology, path=None, reload=True):
    """Validate the rendered corosync.conf, write it (0644) when it changed, and ask a running
    corosync to reload it (``corosync-cfgtool -R``). Returns ``{"changed", "diff", "reloaded"}``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.update_config lab_gfs2
    """
    path = path or adapter.path(__salt__, "corosync_conf")
    planned = plan_config(topology, path)
    out = dict(planned, reloaded=False)
    if not planned["changed"]:
        return out
    verdict = validate(topology=topology)
    if not verdict["valid"]:
        raise CommandExecutionError("corosync.update_config: rendered corosync.conf is invalid: "
                                    + "; ".join(verdict["errors"]))
    adapter.install_file(path, render(topology), "0644")
    if reload and adapter.has_binary(__salt__, "corosync-cfgtool"):
        res = adapter.run(__salt__, [adapter.binary(__salt__, "corosync-cfgtool"), "-R"], ok_codes=range(0, 256),
                          timeout=adapter.ACTION_TIMEOUT)
        out["reloaded"] = res["retcode"] == 0
    return out


# --------------------------------------------------------------------------- authkey


def _extra_path(name, default):
    return __salt__["config.get"](f"hapair:paths:{name}", default)


def plan_authkey(topology, path=None):
    """Compare ``/etc/corosync/authkey`` with the topology's ``authkey`` (never shows the key).

    Returns ``{"managed": bool (the topology has a key), "changed": bool, "old": "absent" |
    "different" | "mode 0644" | "installed", "new": "installed, N bytes, mode 0400" | None}``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.plan_authkey lab_gfs2
    """
    topo, _node = _load(topology)
    try:
        key = core.authkey_bytes(topo)
    except ValueError as err:
        raise CommandExecutionError(f"corosync.plan_authkey: {err}")
    if key is None:
        return {"managed": False, "changed": False, "old": None, "new": None}
    return _authkey(path, key, test=True)


def _authkey(path, key, test):
    """``adapter.install_file`` of the key (bytes: no diff, nothing shown) as ``plan_authkey`` reports it."""
    path = path or _extra_path("corosync_authkey", "/etc/corosync/authkey")
    done = adapter.install_file(path, key, "0400", test=test)
    old = {"created": "absent", "updated": "different", "mode": f"mode {done['old_mode']}"}.get(done["action"], "installed")
    return {"managed": True, "changed": done["changed"], "old": old, "new": f"installed, {len(key)} bytes, mode 0400"}


def install_authkey(topology, path=None):
    """Write the topology's corosync authkey (root, 0400) when it differs; ``plan_authkey``'s return.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.install_authkey lab_gfs2
    """
    planned = plan_authkey(topology, path)
    if not planned["changed"]:
        return planned
    topo, _node = _load(topology)
    _authkey(path, core.authkey_bytes(topo), test=False)
    return planned


# --------------------------------------------------------------------------- dlm_controld


def dlm_render(topology):
    """Render dlm_controld's ``/etc/dlm/dlm.conf`` (``enable_fencing`` from the topology, default 1).

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.dlm_render lab_gfs2
    """
    return _rendered("corosync.dlm_render", core.render_dlm_conf, topology)


def dlm_check(topology):
    """Return what would make dlm_controld hang (fencing on without a fence method): ``[str]``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.dlm_check lab_gfs2
    """
    topo, _node = _load(topology)
    return [str(err) for err in core.check_dlm(topo)]


def plan_dlm_config(topology, path=None):
    """Compare dlm.conf on disk with the rendered topology: ``{"changed", "diff"}`` (and
    ``adapter.plan_file``'s other keys; 0600, fence passwords masked). Reads only.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.plan_dlm_config lab_gfs2
    """
    return adapter.plan_file(path or _extra_path("dlm_conf", "/etc/dlm/dlm.conf"), dlm_render(topology),
                             core.DLM_CONF_MODE)


def update_dlm_config(topology, path=None):
    """Write dlm.conf (0600: its fence passwords are root's only) when it differs, after
    ``dlm_check``. dlm_controld reads it at start: a running daemon keeps its settings until
    ``systemctl restart dlm`` (only safe with nothing mounted). Returns ``{"changed", "diff"}``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.update_dlm_config lab_gfs2
    """
    problems = dlm_check(topology)
    if problems:
        raise CommandExecutionError("corosync.update_dlm_config: " + "; ".join(problems))
    path = path or _extra_path("dlm_conf", "/etc/dlm/dlm.conf")
    planned = plan_dlm_config(topology, path)
    if planned["changed"]:
        adapter.install_file(path, dlm_render(topology), core.DLM_CONF_MODE)
    return planned


def dlm_status():
    """Return ``dlm_tool status`` parsed, with ``running``: False (and nothing else) when
    dlm_controld does not answer.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.dlm_status
    """
    res = adapter.run(__salt__, [adapter.binary(__salt__, "dlm_tool"), "status"], ok_codes=range(0, 256))
    # dlm 4.2.0 with no daemon: exit 0 and "cannot connect to dlm_controld" on stdout
    if res["retcode"] != 0 or not res["stdout"].strip() or res["stdout"].lstrip().startswith("cannot connect"):
        why = (res["stderr"] + "\n" + res["stdout"]).strip().splitlines()
        return {"running": False, "error": why[-1] if why else f"dlm_tool status: exit {res['retcode']}"}
    return dict(adapter.parsed(core.parse_dlm_status, res["stdout"]), running=True)


def dlm_lockspaces():
    """Return the dlm lockspaces (``dlm_tool ls``): ``[{"name", "id", "members", ...}]``.

    CLI Example:

    .. code-block:: bash

        salt node1 corosync.dlm_lockspaces
    """
    return adapter.tool(__salt__, "dlm_tool", "ls", parser=core.parse_dlm_ls)
