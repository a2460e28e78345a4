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

import difflib
import logging
import os
import shutil
import tempfile

try:
    import hapair.cman as core  # installed with pip, or tests put _utils on sys.path
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
SCHEMA_DEFAULT = "/usr/share/cluster/cluster.rng"
CONFIRM_WORD = "absolutely"


def _found(name):
    binary = __salt__["config.get"](f"hapair:bin:{name}", name)
    return os.access(binary, os.X_OK) if os.path.isabs(binary) else bool(shutil.which(binary))


def __virtual__():
    if any(_found(name) for name in ("cman_tool", "ccs_config_validate", "xmllint")):
        return __virtualname__
    return (False, "cman: neither cman_tool, ccs_config_validate nor xmllint found (set hapair:bin:*)")


# --------------------------------------------------------------------------- helpers
def _bin(name):
    return adapter.binary(__salt__, name)


def _conf_path(path=None):
    return path or adapter.path(__salt__, "cman_conf")


def _schema():
    return __salt__["config.get"]("hapair:paths:cman_schema", SCHEMA_DEFAULT)


def _run(argv, ok_codes=(0,), secrets=(), stdin=None, timeout=None):
    return adapter.run(__salt__, argv, ok_codes=ok_codes, secrets=secrets, stdin=stdin, timeout=timeout)


def _parsed(parser, text, secrets=()):
    try:
        return parser(text)
    except HapairError as err:
        raise CommandExecutionError(mask(str(err), list(secrets)))


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CommandExecutionError(f"cannot read {path}: {err.strerror}")


def _load(topology):
    try:
        import hapair.topology as topo_mod  # noqa: PLC0415
    except ImportError as err:
        raise CommandExecutionError(f"hapair.topology is not available: {err}")
    pillar = __pillar__ if __pillar__ else __salt__["pillar.items"]()
    try:
        topo = topo_mod.load(dict(pillar), topology)
    except HapairError as err:
        raise CommandExecutionError(str(err))
    if topo["cluster"]["stack"] != "cman":
        raise SaltInvocationError(f"topology {topology} uses cluster stack {topo['cluster']['stack']}, not cman")
    return topo


def _secrets(topo=None, text=None):
    found = list(topo.get("secrets") or []) + core.secrets_in(topo) if topo else []
    if text:
        found += core.secrets_in(text)
    return found


def _diff(old, new, path):
    """Unified diff of two cluster.conf texts with fence passwords masked."""
    old_lines = core.mask_xml(old or "").splitlines(keepends=True)
    new_lines = core.mask_xml(new).splitlines(keepends=True)
    return "".join(difflib.unified_diff(old_lines, new_lines, f"{path} (current)", f"{path} (hapair)"))


def _write(path, content):
    """Write atomically, mode 0640 (root only can read the fence passwords)."""
    os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
    tmp = f"{path}.hapair-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        os.fchmod(fd, 0o640)
        os.write(fd, content.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


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
    res = _run([_bin("cman_tool"), "status"])
    return _parsed(core.parse_status, res["stdout"])


def nodes(fields=None):
    """Return the cluster nodes from ``cman_tool nodes`` (``fields='id,type,votes,name'`` uses -F).

    CLI Example:

    .. code-block:: bash

        salt '*' cman.nodes
        salt '*' cman.nodes fields=id,type,votes,name
    """
    if fields:
        names = [f.strip() for f in str(fields).split(",") if f.strip()]
        res = _run([_bin("cman_tool"), "nodes", "-F", ",".join(names)])
        return _parsed(lambda text: core.parse_nodes_fields(text, names), res["stdout"])
    res = _run([_bin("cman_tool"), "nodes"])
    return _parsed(core.parse_nodes, res["stdout"])


def quorate():
    """True when this node is a member of a quorate cman cluster (False when cman is not running).

    CLI Example:

    .. code-block:: bash

        salt '*' cman.quorate
    """
    res = _run([_bin("cman_tool"), "status"], ok_codes=(0, 1))
    if res["retcode"] != 0:
        return False
    return bool(_parsed(core.parse_status, res["stdout"])["quorate"])


def services():
    """Return the fence/dlm/gfs groups from ``cman_tool services``.

    CLI Example:

    .. code-block:: bash

        salt '*' cman.services
    """
    res = _run([_bin("cman_tool"), "services"])
    return _parsed(core.parse_services, res["stdout"])


def _running_version():
    """The config version cman runs (``cman_tool version``), None when it does not run."""
    try:
        res = _run([_bin("cman_tool"), "version"], ok_codes=(0, 1))
    except CommandExecutionError:  # cman_tool missing: nothing runs
        return None
    if res["retcode"] != 0:
        return None
    return _parsed(core.parse_version, res["stdout"])["config_version"]


def config_version(path=None):
    """Return ``{"running": N|None, "file": N|None}``: the running config version (``cman_tool
    version``; None when cman is not running) and the one in cluster.conf.

    CLI Example:

    .. code-block:: bash

        salt '*' cman.config_version
    """
    out = {"running": _running_version(), "file": None}
    text = _read(_conf_path(path))
    if text is not None:
        out["file"] = _parsed(core.config_version, text, core.secrets_in(text))
    return out


def _validate_file(path, secrets):
    problems = []
    if _found("ccs_config_validate"):
        tool = "ccs_config_validate"
        res = _run([_bin("ccs_config_validate"), "-f", path], ok_codes=(0, 1, 2, 3), secrets=secrets)
    else:
        tool = "xmllint"
        schema = _schema()
        if not os.path.exists(schema):
            raise CommandExecutionError(f"cman.validate: schema {schema} not found (set hapair:paths:cman_schema "
                                        "or install ccs_config_validate)")
        res = _run([_bin("xmllint"), "--noout", "--relaxng", schema, path], ok_codes=(0, 1, 2, 3, 4, 5),
                   secrets=secrets)
    if res["retcode"] != 0:
        detail = (res["stderr"] or res["stdout"]).replace(path, "cluster.conf").strip()
        problems.append(f"{tool}: {mask(core.mask_xml(detail), secrets)}")
    text = _read(path) or ""
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
        text = _read(path)
        if text is None:
            raise CommandExecutionError(f"cman.validate: {path} does not exist")
        return _validate_file(path, core.secrets_in(text))
    topo = _load(topology)
    content = core.render_cluster_conf(topo)
    with tempfile.TemporaryDirectory(prefix="hapair-cman-") as tmp:
        path = os.path.join(tmp, "cluster.conf")
        _write(path, content)
        return _validate_file(path, _secrets(topo, content))


def _plan(current, topo):
    """The core plan, never below the version cman runs (when it runs)."""
    return core.plan_cluster_conf(current, topo, running_version=_running_version())


def plan_config(topology, path=None):
    """Compare cluster.conf on disk with the topology: ``{"changed", "old_version", "new_version",
    "diff"}`` (diff with passwords masked). Reads only.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.plan_config hardcore
    """
    topo = _load(topology)
    path = _conf_path(path)
    current = _read(path)
    plan = _plan(current, topo)
    secrets = _secrets(topo, current)
    return {"changed": plan["changed"], "old_version": plan["old_version"], "new_version": plan["new_version"],
            "diff": mask(_diff(current, plan["content"], path), secrets) if plan["changed"] else ""}


def _running():
    try:
        return _run([_bin("cman_tool"), "status"], ok_codes=(0, 1, 2))["retcode"] == 0
    except CommandExecutionError:  # cman_tool missing
        return False


def update_config(topology, path=None, propagate=True):
    """Write cluster.conf from the topology when its content changed (config_version bumped,
    mode 0640), validate it first, then propagate with ``cman_tool version -r N -S`` when cman runs.

    Returns ``{"changed", "old_version", "new_version", "diff", "propagated"}`` (passwords masked).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.update_config hardcore
    """
    topo = _load(topology)
    path = _conf_path(path)
    current = _read(path)
    plan = _plan(current, topo)
    secrets = _secrets(topo, current)
    out = {"changed": plan["changed"], "old_version": plan["old_version"], "new_version": plan["new_version"],
           "diff": "", "propagated": False}
    if not plan["changed"]:
        if current is not None and os.stat(path).st_mode & 0o037:
            os.chmod(path, 0o640)
        return out
    out["diff"] = mask(_diff(current, plan["content"], path), secrets)
    with tempfile.TemporaryDirectory(prefix="hapair-cman-") as tmp:
        candidate = os.path.join(tmp, "cluster.conf")
        _write(candidate, plan["content"])
        verdict = _validate_file(candidate, _secrets(topo, plan["content"]))
    if not verdict["valid"]:
        raise CommandExecutionError("cman.update_config: rendered cluster.conf is invalid: "
                                    + "; ".join(verdict["errors"]))
    _write(path, plan["content"])
    if propagate and _running():
        _run([_bin("cman_tool"), "version", "-r", str(plan["new_version"]), "-S"], secrets=secrets)
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
    res = _run([_bin("fence_ack_manual"), str(node)], stdin=f"{CONFIRM_WORD}\n")
    return {"node": node, "acknowledged": True, "output": res["stdout"].strip()}


def clustat(xml=True):
    """Return rgmanager's view (``clustat -x`` parsed; ``xml=False`` parses the text output).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.clustat
    """
    if xml:
        return _parsed(core.parse_clustat_xml, _run([_bin("clustat"), "-x"])["stdout"])
    return _parsed(core.parse_clustat, _run([_bin("clustat")])["stdout"])


def _service(service):
    return service if ":" in service else f"vm:{service}"


def relocate(service, node):
    """Relocate an rgmanager service to ``node`` (``clusvcadm -r SERVICE -m NODE``: stop, then start).

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.relocate service:web core-02
    """
    res = _run([_bin("clusvcadm"), "-r", _service(service), "-m", str(node)])
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
    res = _run([_bin("clusvcadm"), "-M", name, "-m", str(node)])
    return {"service": name, "node": node, "output": res["stdout"].strip()}


def lsnode():
    """Return ``ccs_tool lsnode`` parsed.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.lsnode
    """
    return _parsed(core.parse_lsnode, _run([_bin("ccs_tool"), "lsnode"])["stdout"])


def lsfence():
    """Return ``ccs_tool lsfence`` parsed.

    CLI Example:

    .. code-block:: bash

        salt core-01 cman.lsfence
    """
    return _parsed(core.parse_lsfence, _run([_bin("ccs_tool"), "lsfence"])["stdout"])
