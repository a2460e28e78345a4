"""cman execution module for hapair (RHEL 5/6 cluster suite, seed 004): cluster.conf and status.

Renders ``/etc/cluster/cluster.conf`` from a pillar topology, validates it (``ccs_config_validate``
when present, else ``xmllint --relaxng`` with the RHEL 6 schema), writes it 0640 with a
config_version bump and propagates it (``cman_tool version -r N -S``), and reads the cluster
through ``cman_tool``, ``clustat`` and ``ccs_tool``. Binaries and paths come from config::

    hapair:
      bin: {cman_tool: cman_tool, clustat: clustat, clusvcadm: clusvcadm, ccs_tool: ccs_tool,
            ccs_config_validate: ccs_config_validate, xmllint: xmllint,
            fence_ack_manual: fence_ack_manual}
      paths: {cman_conf: /etc/cluster/cluster.conf,
              cman_schema: /usr/share/cluster/cluster.rng}

The module loads when any of cman_tool, ccs_config_validate or xmllint is found, so configs can
be rendered and validated on a machine without cman (cman is no longer packaged anywhere).
Fence passwords never appear in returns, logs or errors.
"""

from __future__ import annotations

import logging
import os
import tempfile

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.cman as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.cman as core

from hapair import adapter
from hapair.errors import HapairError
from hapair.secrets import mask
from salt.exceptions import CommandExecutionError, SaltInvocationError

log = logging.getLogger(__name__)

__virtualname__ = "cman"
CONFIRM_WORD = "absolutely"
CONF_MODE = "0640"  # cluster.conf holds the fence passwords: no access for others


def __virtual__():
    if any(adapter.has_binary(__salt__, name) for name in ("cman_tool", "ccs_config_validate", "xmllint")):
        return __virtualname__
    return (False, "cman: neither cman_tool, ccs_config_validate nor xmllint found (set hapair:bin:*)")


# --------------------------------------------------------------------------- helpers
def _conf_path(path=None):
    return path or adapter.path(__salt__, "cman_conf")


def _load(topology):
    """The normalised cman topology; this minion need not be one of its nodes."""
    topo, _node = adapter.load_topology(__salt__, __pillar__, __opts__, topology,
                                        stack="cman", require_node=False)
    return topo


def _secrets(topo=None, text=None):
    found = list(topo.get("secrets") or []) + core.secrets_in(topo) if topo else []
    if text:
        found += core.secrets_in(text)
    return found


def _file(path, content, secrets, test):
    """``adapter.install_file`` of cluster.conf (0640), its diff with fence passwords masked."""
    return adapter.install_file(path, content, CONF_MODE, secrets=secrets, redact=core.mask_xml, test=test)


# --------------------------------------------------------------------------- reading
def render(topology, config_version=None):
    """Render cluster.conf for a pillar topology (cman stack); fence passwords masked.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.render hardcore
    """
    topo = _load(topology)
    version = int(config_version) if config_version is not None else None
    return mask(core.mask_xml(core.render_cluster_conf(topo, version)), _secrets(topo))


def status():
    """Return ``cman_tool status`` parsed (see ``hapair.cman.parse_status``).

    CLI Example:

    .. code-block:: bash

        salt '*' cman.status
    """
    return adapter.tool(__salt__, "cman_tool", "status", parser=core.parse_status)


def nodes(fields=None):
    """Return the cluster nodes from ``cman_tool nodes`` (``fields='id,type,votes,name'`` uses -F).

    CLI Example:

    .. code-block:: bash

        salt '*' cman.nodes
        salt '*' cman.nodes fields=id,type,votes,name
    """
    if fields:
        names = [f.strip() for f in str(fields).split(",") if f.strip()]
        return adapter.tool(__salt__, "cman_tool", "nodes", "-F", ",".join(names),
                            parser=lambda text: core.parse_nodes_fields(text, names))
    return adapter.tool(__salt__, "cman_tool", "nodes", parser=core.parse_nodes)


def quorate():
    """True when this node is a member of a quorate cman cluster (False when cman is not running).

    CLI Example:

    .. code-block:: bash

        salt '*' cman.quorate
    """
    res = adapter.run(__salt__, [adapter.binary(__salt__, "cman_tool"), "status"], ok_codes=(0, 1))
    if res["retcode"] != 0:
        return False
    return bool(adapter.parsed(core.parse_status, res["stdout"])["quorate"])


def services():
    """Return the fence/dlm/gfs groups from ``cman_tool services``.

    CLI Example:

    .. code-block:: bash

        salt '*' cman.services
    """
    return adapter.tool(__salt__, "cman_tool", "services", parser=core.parse_services)


def _running_version():
    """The config version cman runs (``cman_tool version``), None when it does not run."""
    try:
        res = adapter.run(__salt__, [adapter.binary(__salt__, "cman_tool"), "version"], ok_codes=(0, 1))
    except CommandExecutionError:  # cman_tool missing: nothing runs
        return None
    if res["retcode"] != 0:
        return None
    return adapter.parsed(core.parse_version, res["stdout"])["config_version"]


def config_version(path=None):
    """Return ``{"running": N|None, "file": N|None}``: the running config version (``cman_tool
    version``; None when cman is not running) and the one in cluster.conf.

    CLI Example:

    .. code-block:: bash

        salt '*' cman.config_version
    """
    out = {"running": _running_version(), "file": None}
    text = adapter.read_file(_conf_path(path))
    if text is not None:
        out["file"] = adapter.parsed(core.config_version, text, secrets=core.secrets_in(text))
    return out


def _validate_file(path, secrets):
    problems = []
    if adapter.has_binary(__salt__, "ccs_config_validate"):
        tool = "ccs_config_validate"
        argv = [adapter.binary(__salt__, "ccs_config_validate"), "-f", path]
        res = adapter.run(__salt__, argv, ok_codes=(0, 1, 2, 3), secrets=secrets)
    else:
        tool = "xmllint"
        schema = adapter.path(__salt__, "cman_schema")
        if not os.path.exists(schema):
            raise CommandExecutionError(f"cman.validate: schema {schema} not found (set hapair:paths:cman_schema "
                                        "or install ccs_config_validate)")
        argv = [adapter.binary(__salt__, "xmllint"), "--noout", "--relaxng", schema, path]
        res = adapter.run(__salt__, argv, ok_codes=(0, 1, 2, 3, 4, 5), secrets=secrets)
    if res["retcode"] != 0:
        detail = (res["stderr"] or res["stdout"]).replace(path, "cluster.conf").strip()
        problems.append(f"{tool}: {mask(core.mask_xml(detail), secrets)}")
    text = adapter.read_file(path) or ""
    try:
        problems += [str(err) for err in core.check_cluster_conf(text)]
    except HapairError as err:
        problems.append(mask(str(err), secrets))
    return {"valid": not problems, "tool": tool, "errors": problems}


def validate(path=None, topology=None):
    """Validate cluster.conf: the schema (``ccs_config_validate -f`` when present, else ``xmllint
    --relaxng`` with ``hapair:paths:cman_schema``) plus hapair's checks (two_node/expected_votes,
    duplicate node ids or names, unknown failover domains, undefined fence devices).

    With ``topology`` the rendered config is validated instead of a file. Returns
    ``{"valid": bool, "tool": str, "errors": [str]}`` with passwords masked.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.validate
        salt core-01 cman.validate topology=hardcore
    """
    if topology is None:
        path = _conf_path(path)
        text = adapter.read_file(path)
        if text is None:
            raise CommandExecutionError(f"cman.validate: {path} does not exist")
        return _validate_file(path, core.secrets_in(text))
    topo = _load(topology)
    content = core.render_cluster_conf(topo)
    with tempfile.TemporaryDirectory(prefix="hapair-cman-") as tmp:
        path = os.path.join(tmp, "cluster.conf")
        adapter.write_file(path, content, CONF_MODE)
        return _validate_file(path, _secrets(topo, content))


def _plan(topology, path):
    """``(topo, path, current text, core plan, secrets, plan_config's dict)``: the core plan (the
    pillar's config_version, checked against the file's and the one cman runs), its diff masked."""
    topo = _load(topology)
    path = _conf_path(path)
    current = adapter.read_file(path)
    try:  # a change without a higher pillar config_version: refused, naming the number to set
        plan = core.plan_cluster_conf(current, topo, running_version=_running_version())
    except HapairError as err:
        raise CommandExecutionError(str(err))
    secrets = _secrets(topo, current)
    out = {"changed": plan["changed"], "old_version": plan["old_version"], "new_version": plan["new_version"],
           "diff": _file(path, plan["content"], secrets, test=True)["diff"] if plan["changed"] else ""}
    return topo, path, current, plan, secrets, out


def plan_config(topology, path=None):
    """Compare cluster.conf on disk with the topology: ``{"changed", "old_version", "new_version",
    "diff"}`` (diff with passwords masked). Reads only.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.plan_config hardcore
    """
    return _plan(topology, path)[-1]


def _running():
    try:
        res = adapter.run(__salt__, [adapter.binary(__salt__, "cman_tool"), "status"], ok_codes=(0, 1, 2))
        return res["retcode"] == 0
    except CommandExecutionError:  # cman_tool missing
        return False


def update_config(topology, path=None, propagate=True):
    """Write cluster.conf from the topology when its content changed (with the pillar's
    config_version, which must be above the file's and not below the running one; mode 0640),
    validate it first, then propagate with ``cman_tool version -r N -S`` when cman runs.

    Returns ``{"changed", "old_version", "new_version", "diff", "propagated"}`` (passwords masked).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.update_config hardcore
    """
    topo, path, current, plan, secrets, out = _plan(topology, path)
    out["propagated"] = False
    if not plan["changed"]:
        if current is not None and os.stat(path).st_mode & 0o037:
            os.chmod(path, 0o640)
        return out
    with tempfile.TemporaryDirectory(prefix="hapair-cman-") as tmp:
        candidate = os.path.join(tmp, "cluster.conf")
        adapter.write_file(candidate, plan["content"], CONF_MODE)
        verdict = _validate_file(candidate, _secrets(topo, plan["content"]))
    if not verdict["valid"]:
        raise CommandExecutionError("cman.update_config: rendered cluster.conf is invalid: "
                                    + "; ".join(verdict["errors"]))
    _file(path, plan["content"], secrets, test=False)
    if propagate and _running():
        argv = [adapter.binary(__salt__, "cman_tool"), "version", "-r", str(plan["new_version"]), "-S"]
        adapter.run(__salt__, argv, secrets=secrets, timeout=adapter.ACTION_TIMEOUT)
        out["propagated"] = True
    return out


def fence_ack_manual(node, confirm=None):
    """Acknowledge that ``node`` was fenced by hand (DANGEROUS: a wrong ack corrupts GFS2).

    Refuses unless ``confirm='absolutely'`` (the word fence_ack_manual itself asks for), which is
    then fed to the tool's prompt.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.fence_ack_manual core-02 confirm=absolutely
    """
    if confirm != CONFIRM_WORD:
        raise CommandExecutionError(f"refusing to override fencing of {node}: only run this after {node} was "
                                    f"powered off by hand; to proceed anyway pass confirm={CONFIRM_WORD}")
    res = adapter.run(__salt__, [adapter.binary(__salt__, "fence_ack_manual"), str(node)],
                      stdin=f"{CONFIRM_WORD}\n")
    return {"node": node, "acknowledged": True, "output": res["stdout"].strip()}


def clustat(xml=True):
    """Return rgmanager's view (``clustat -x`` parsed; ``xml=False`` parses the text output).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.clustat
    """
    if xml:
        return adapter.tool(__salt__, "clustat", "-x", parser=core.parse_clustat_xml)
    return adapter.tool(__salt__, "clustat", parser=core.parse_clustat)


def _service(service):
    return service if ":" in service else f"vm:{service}"


def relocate(service, node):
    """Relocate an rgmanager service to ``node`` (``clusvcadm -r SERVICE -m NODE``: stop, then start).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.relocate service:web core-02
    """
    res = adapter.run(__salt__, [adapter.binary(__salt__, "clusvcadm"), "-r", _service(service), "-m", str(node)],
                      timeout=adapter.LONG_TIMEOUT)  # stop, then start: service scripts may be slow
    return {"service": _service(service), "node": node, "output": res["stdout"].strip()}


def migrate(service, node):
    """Live-migrate a vm service to ``node`` (``clusvcadm -M vm:NAME -m NODE``).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.migrate vm:winxp_01 core-02
    """
    name = _service(service)
    if not name.startswith("vm:"):
        raise SaltInvocationError(f"only vm services migrate live; use cman.relocate for {name}")
    res = adapter.run(__salt__, [adapter.binary(__salt__, "clusvcadm"), "-M", name, "-m", str(node)],
                      timeout=adapter.LONG_TIMEOUT)  # a live migration copies the VM's memory
    return {"service": name, "node": node, "output": res["stdout"].strip()}


def lsnode():
    """Return ``ccs_tool lsnode`` parsed.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.lsnode
    """
    return adapter.tool(__salt__, "ccs_tool", "lsnode", parser=core.parse_lsnode)


def lsfence():
    """Return ``ccs_tool lsfence`` parsed.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.lsfence
    """
    return adapter.tool(__salt__, "ccs_tool", "lsfence", parser=core.parse_lsfence)
