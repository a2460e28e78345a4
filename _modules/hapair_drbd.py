"""DRBD execution module for hapair: read DRBD state, render its config, run guarded actions.

Loaded as ``drbd`` and as ``hapair_drbd`` (its file's name, and the name hapair's own states,
runner and formula call, so another ``drbd`` module on the minion cannot answer for it:
docs/drbd-name.md). ``status`` returns hapair's normalised
resource model (docs/DESIGN.md) for every resource instead of Salt core's indentation scrape;
``overview`` keeps Salt core's name and per-device keys but covers every resource.

Every binary and path comes from config, so two minions on one host (and the tests) can act as
two nodes::

    hapair:
      bin: {drbdadm: drbdadm, drbdsetup: drbdsetup, blkid: blkid, blockdev: blockdev}
      paths: {proc_drbd: /proc/drbd, drbd_conf: /etc/drbd.conf, drbd_conf_dir: /etc/drbd.d,
              state_dir: /var/lib/hapair, drbd_handler: /usr/lib/hapair/drbd-handler}

``write_config`` (and so ``drbd.configured``) also installs hapair's DRBD handler script at
``hapair:paths:drbd_handler`` (0755; empty to turn the hooks off); the .res files' handlers call it
(split brain, resync, out-of-sync, fence-peer with fencing): it records the event under
``state_dir``/drbd and sends ``hapair/drbd/<resource>/<kind>`` to the master with ``salt-call``
(``hapair:bin:salt_call``, default the one beside the minion's python).

Destructive actions are guarded by ``hapair.drbd_plan``: a refusal raises CommandExecutionError
naming the device and the explicit override. Guards probe the devices the command acts on as the
DRBD config names them (``drbdadm sh-ll-dev``/``sh-md-dev``), each opened first (``blockdev``),
never a device the caller names; override arguments are parsed strictly (``hapair.fields.flag``:
"no" and "false" mean no). Shared secrets never appear in returns, logs or errors.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import shutil
import stat
import sys
import time

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.drbd_plan as plan
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.drbd_plan as plan

from hapair import adapter, changes, drbd_state, parsing
from hapair import drbd_parse as parse
from hapair import drbd_render as render_mod
from hapair import topology as topology_mod
from hapair.errors import HapairError, RefusedError
from hapair.secrets import mask
from salt.exceptions import CommandExecutionError, SaltInvocationError

log = logging.getLogger(__name__)

__virtualname__ = "drbd"
__virtual_aliases__ = ("hapair_drbd",)  # the name hapair's own states and runner call (docs/drbd-name.md)
_CTX = "hapair.drbd"


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "drbdadm", "drbd-utils")


# --------------------------------------------------------------------------- helpers
def _bin(name):
    return adapter.binary(__salt__, name)


def _path(name):
    return adapter.path(__salt__, name)


# drbdadm subcommands that change state get adapter.ACTION_TIMEOUT; probes adapter.DEFAULT_TIMEOUT
_ACTIONS = frozenset({"create-md", "up", "down", "adjust", "attach", "detach", "connect", "disconnect",
                      "primary", "secondary", "net-options", "disk-options", "resize", "new-current-uuid",
                      "invalidate", "invalidate-remote", "verify", "pause-sync", "resume-sync"})


def _timeout(argv):
    """Seconds ``argv`` may run: ACTION_TIMEOUT for a drbdadm action (first non-option word), else DEFAULT_TIMEOUT."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    if os.path.basename(argv[0]) == os.path.basename(_bin("drbdadm")) and words and words[0] in _ACTIONS:
        return adapter.ACTION_TIMEOUT
    return adapter.DEFAULT_TIMEOUT


def _run(argv, ok_codes=(0,), secrets=(), timeout=None):
    """``adapter.run``: errors masked with the secrets of the config on disk, a timeout per command."""
    return adapter.run(__salt__, argv, ok_codes=ok_codes, secrets=secrets, timeout=timeout or _timeout(argv))


def _drbdadm(*args, ok_codes=(0,), secrets=(), timeout=None):
    return _run([_bin("drbdadm"), *args], ok_codes=ok_codes, secrets=secrets, timeout=timeout)


def _config_texts():
    """The DRBD config as text (drbd.conf, conf_dir/*.res and *.conf); never runs a command."""
    paths = adapter.drbd_config_paths(_path("drbd_conf"), _path("drbd_conf_dir"))
    return [text for text in (adapter.read_file(p) for p in paths) if text]


def _kernel_version():
    """Kernel module version from the first line of /proc/drbd, or None when DRBD is not loaded."""
    return parse.kernel_version(adapter.read_file(_path("proc_drbd")))


def _dialect():
    """'8.4' or '9' from the loaded module (cached in __context__), or None when not loaded."""
    key = f"{_CTX}.dialect"
    if __context__.get(key):
        return __context__[key]
    ver = _kernel_version()
    if ver is None:
        return None
    dialect = "8.4" if ver.startswith("8.") else "9"
    __context__[key] = dialect
    return dialect


def _status_run(argv):
    """``hapair.drbd_parse.read_state``'s runner: exit 0, 10 and 20 are answers, anything else fails."""
    res = _run(argv, ok_codes=(0, 10, 20))
    return res["retcode"], res["stdout"], res["stderr"]


def _status_models():
    """Every running resource as a normalised model, keyed by name, and the kernel version
    (``hapair.drbd_parse.read_state``, the grains' reader too); caches the dialect."""
    if _dialect() is None:
        return None, {}
    try:
        state = parse.read_state(adapter.read_file(_path("proc_drbd")), _config_texts, _status_run,
                                 drbdsetup=_bin("drbdsetup"), drbdadm=_bin("drbdadm"))
    except HapairError as err:  # a ParseError names the tool and line
        raise CommandExecutionError(str(err))
    return state["version"], state["resources"]


def _marker(name, kind):
    return drbd_state.marker_path(_path("state_dir"), name, kind)


def _guard(check, *args, **kwargs):
    """Run a ``hapair.drbd_plan`` guard; its refusal (device, override) becomes CommandExecutionError."""
    try:
        check(*args, **kwargs)
    except (RefusedError, plan.PlanError) as err:
        raise CommandExecutionError(str(err))



def _volumes(name):
    """This node's configured backing devices of ``name`` (``drbdadm sh-ll-dev``/``sh-md-dev``), or None."""
    ll_dev = _drbdadm("sh-ll-dev", name, ok_codes=(0, 1, 10))
    md_dev = _drbdadm("sh-md-dev", name, ok_codes=(0, 1, 10))
    if ll_dev["retcode"] != 0 or md_dev["retcode"] != 0:
        return None
    try:
        return plan.backing_devices(ll_dev["stdout"], md_dev["stdout"])
    except plan.PlanError:
        return None


def _ll_dev(name):
    """The first configured lower device of ``name`` on this node, or None."""
    volumes = _volumes(name)
    return volumes[0]["disk"] if volumes else None


def _opens(device):
    """True when ``device`` exists and opens read-only as a block device (``blockdev --getsize64``)."""
    return _run([_bin("blockdev"), "--getsize64", device], ok_codes=(0, 1))["retcode"] == 0


def _blkid(disk):
    """(drbd_metadata, other_signature) from ``blkid -p -o export``; signature None when clean.

    Exit 2 means "nothing found" only for a device that opens (see ``_opens``, probed first).
    """
    kind = parsing.blkid_kind(adapter.blkid(__salt__, disk))
    if kind is None:
        return False, None
    if kind == "drbd":
        return True, None
    return False, kind or "unknown data"


def _probe_disks(name, disk=None):
    """The create-md facts of ``name``: the devices it writes to (from the config), each opened and probed.

    ``{"volumes", "disk", "meta_disk", "requested_disk", "realpaths", "probes", "signature_checked",
    "metadata", "signature"}`` (see ``hapair.drbd_plan.guard_create_md``).
    """
    volumes = _volumes(name)
    out = {"volumes": volumes, "requested_disk": disk, "probes": {}, "signature_checked": False,
           "disk": volumes[0]["disk"] if volumes else disk,
           "meta_disk": volumes[0]["meta_disk"] if volumes else None,
           "metadata": False, "signature": None}
    if not volumes:
        return out
    targets = plan.write_targets(volumes)
    out["realpaths"] = {p: os.path.realpath(p) for p in [*targets, *([disk] if disk else [])]}
    for target in targets:
        if not _opens(target):
            out["probes"][target] = {"opens": False, "metadata": None, "signature": None}
            continue
        has_md, sig = _blkid(target)
        out["probes"][target] = {"opens": True, "metadata": has_md, "signature": sig}
        out["metadata"] = out["metadata"] or has_md
        out["signature"] = out["signature"] or sig
    out["signature_checked"] = all(p["opens"] for p in out["probes"].values())
    return out


def _grains():
    return globals().get("__grains__") or {}


def _self_names(name):
    """This node's own names for ``name``: minion id, hostname, and its node in the rendering topology."""
    grains = _grains()
    names = {n for n in (__opts__.get("id"), grains.get("id"), grains.get("nodename"), grains.get("host"),
                         os.uname().nodename) if n}
    node = None
    topology = rendered_topologies().get(name)
    if topology:
        try:
            _topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology, require_node=False)
        except (CommandExecutionError, SaltInvocationError, HapairError, KeyError):
            node = None
    if node:
        names.add(node)
    return node or __opts__.get("id"), sorted(names)


def _rdev(path):
    """(major, minor) of the block device ``path`` resolves to, or None."""
    try:
        info = os.stat(os.path.realpath(path))
    except (OSError, ValueError):
        return None
    return (os.major(info.st_rdev), os.minor(info.st_rdev)) if stat.S_ISBLK(info.st_mode) else None


def _event(tag, data):
    if __opts__.get("file_client") == "local" or __opts__.get("master_type") == "disable" or __opts__.get("local"):
        __salt__["event.fire"](data, tag)
    else:
        __salt__["event.send"](tag, data)


# --------------------------------------------------------------------------- reading
def status(name="all"):
    """Return the normalised state of DRBD resources (hapair's resource model, docs/DESIGN.md).

    Reads /proc/drbd on DRBD 8.4 (minors named from the config files; a minor without a
    configured name is named after its number), ``drbdsetup status --json`` on DRBD 9 (falling
    back to ``drbdadm status``). Returns ``{"version": "8.4.11", "resources": {name: model}}``;
    ``resources`` is empty when DRBD is not loaded.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.status
        salt '*' drbd.status r0
    """
    version, models = _status_models()
    if name not in (None, "all"):
        models = {k: v for k, v in models.items() if k == name}
    return {"version": version, "resources": models}


def report(resources=None, o2cb=False, heartbeat=False):
    """What ``hapair.status`` shows of this node, in one job: DRBD state, mounts, split-brain records.

    Returns ``{"status": drbd.status(), "mounts": mount.active(), "split_brain": {resource: the
    handler's record is there}, "o2cb": o2cb.status() (only with ``o2cb=True``), "heartbeat":
    heartbeat.status() (only with ``heartbeat=True``)}`` for ``resources`` (default: every
    resource ``drbd.status`` shows). Reads only.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.report
        salt web1 drbd.report resources='[r0]' o2cb=True
        salt node1 drbd.report heartbeat=True
    """
    out = {"status": status()}
    names = sorted(out["status"]["resources"]) if resources is None else list(resources)
    out["split_brain"] = {res: os.path.exists(_marker(str(res), "split-brain")) for res in names}
    out["mounts"] = __salt__["mount.active"]()
    if adapter.flag(o2cb, "o2cb"):
        out["o2cb"] = __salt__["o2cb.status"]() if "o2cb.status" in __salt__ else None
    if adapter.flag(heartbeat, "heartbeat"):
        out["heartbeat"] = __salt__["heartbeat.status"]() if "heartbeat.status" in __salt__ else None
    return out


def overview():
    """Salt core's ``drbd.overview`` keys, for every resource (core returned only the last).

    Returns ``{name: {"minor number", "device", "connection state", "local role", "partner role",
    "local disk state", "partner disk state", "synchronisation"?, "percent"?}}``.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.overview
    """
    out = {}
    for name, model in status()["resources"].items():
        flat = plan.flatten(model)
        minor = flat.get("minor")
        entry = {
            "minor number": minor,
            "device": f"drbd{minor}" if minor is not None else None,
            "connection state": flat["replication_state"] if flat["replication_state"] not in (None, "Established")
            else flat["connection_state"],
            "local role": flat["role"],
            "partner role": flat["peer_role"] or "Unknown",
            "local disk state": flat["disk_state"],
            "partner disk state": flat["peer_disk_state"] or "DUnknown",
        }
        if flat.get("percent_done") is not None:
            entry["synchronisation"] = "syncing"
            entry["percent"] = flat["percent_done"]
        out[name] = entry
    return out


def _fields(name, **keys):
    """``{key: flattened_field}`` of a running resource: ``_fields("r0", local="role", peer="peer_role")``."""
    model = status(name)["resources"].get(name)
    if model is None:
        raise CommandExecutionError(f"DRBD resource {name} is not up (not in {_path('proc_drbd')} / drbd status)")
    flat = plan.flatten(model)
    return {key: flat[field] for key, field in keys.items()}


def role(name):
    """Return ``{"local": role, "peer": role}`` of a running resource.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.role r0
    """
    return _fields(name, local="role", peer="peer_role")


def cstate(name):
    """Return ``{"connection_state", "replication_state"}`` of a running resource.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.cstate r0
    """
    return _fields(name, connection_state="connection_state", replication_state="replication_state")


def dstate(name):
    """Return ``{"local": disk state, "peer": disk state}`` of a running resource.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.dstate r0
    """
    return _fields(name, local="disk_state", peer="peer_disk_state")


def rendered_topologies(running=False):
    """Return ``{resource: topology}`` for every ``<drbd_conf_dir>/<resource>.res`` hapair rendered.

    Read from the header line hapair writes at the top of each file; a .res without it is not
    hapair's and is left out. With ``running=True``: every resource the kernel runs instead, with
    its topology or None (not rendered by hapair). The remediation runner uses it to act on a
    running resource only under the topology it was deployed from (several topologies may name
    the same resource). Runs no command but reading DRBD's status.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.rendered_topologies
        salt '*' drbd.rendered_topologies running=True
    """
    out = {}
    for path in sorted(glob.glob(os.path.join(_path("drbd_conf_dir"), "*.res"))):
        name = render_mod.topology_of(adapter.read_file(path) or "")
        if name:
            out[os.path.basename(path)[:-len(".res")]] = name
    if running:
        return {res: out.get(res) for res in status()["resources"]}
    return out


def remediation_facts(name, backing=None):
    """Return what ``hapair.remediate`` reads of resource ``name`` on this node, in one call.

    ``{"status": drbd.status(name), "mounts": mount.active(), "mounted": [mountpoints of the
    resource's device], "gi": drbd.get_gi(name), "markers": drbd.facts(name) (no disk or GI probe),
    "lvm": lvm.lvdisplay(backing) or None, "errors": {part: why}}``. ``mounted`` compares device
    numbers (mountinfo's major:minor, else the st_rdev of the source's realpath) with the
    resource's ``/dev/drbd<minor>``, so by-res, by-label and symlink sources count; it is None
    when the mounts are unknown, ``[]`` when the resource is not up. A part that failed is None with
    its reason in ``errors`` (a status
    that cannot be read fails the call). One call, so the runner needs one job per node: a Salt
    compound job would also be one, but ``saltutil.is_running``, which every ``state.sls``
    consults, crashes while a compound job runs (seen in the lab). Reads only.

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.remediation_facts r0
        salt fs2 drbd.remediation_facts drbd1 backing=/dev/vg0/rep-drbd1
    """
    out = {"status": status(name), "errors": {}}
    parts = {"mounts": lambda: __salt__["mount.active"](), "gi": lambda: get_gi(name),
             "markers": lambda: facts(name, probe_disk=False, probe_gi=False)}
    if backing:
        parts["lvm"] = lambda: __salt__["lvm.lvdisplay"](backing, quiet=True)
    for part, read in parts.items():
        try:
            out[part] = read()
        except (CommandExecutionError, KeyError, OSError) as err:  # KeyError: no such Salt function here
            out[part] = None
            out["errors"][part] = str(err)
    out.setdefault("lvm", None)
    out["mounted"] = _mounted(name, out["status"]["resources"].get(name), out["mounts"])
    return out


def _mounted(name, model, mounts):
    """Mountpoints of resource ``name``'s DRBD device, by device number (see ``remediation_facts``)."""
    if not isinstance(mounts, dict):
        return None
    minor = plan.flatten(model).get("minor") if model else None
    if minor is None:
        return []
    device = (plan.DRBD_MAJOR, int(minor))
    sources = {str(m.get("device")): _rdev(str(m.get("device"))) for m in mounts.values()
               if isinstance(m, dict) and str(m.get("device", "")).startswith("/")}
    return plan.mounted_at({k: v for k, v in mounts.items() if isinstance(v, dict)}, device, sources)


def get_gi(name):
    """Return the parsed generation identifiers (``drbdadm get-gi``), with ``initial`` True on fresh metadata.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.get_gi r0
    """
    res = _drbdadm("get-gi", name)
    return adapter.parsed(parse.parse_gi, res["stdout"])


def version():
    """Return ``drbdadm --version`` parsed, plus the loaded kernel module version (None if not loaded).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.version
    """
    key = f"{_CTX}.version"
    if key not in __context__:
        res = _drbdadm("--version", ok_codes=(0, 1))
        __context__[key] = adapter.parsed(parse.parse_version, res["stdout"])
    out = dict(__context__[key])
    out["kernel_loaded"] = _kernel_version()
    out["dialect"] = _dialect()
    return out


def resources():
    """Return the names of the resources in the DRBD config files (read, no command run).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.resources
    """
    return adapter.parsed(parse.config_resources, _config_texts())


def is_synced(name):
    """True when the resource is Connected with both disks UpToDate and no resync running.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.is_synced r0
    """
    model = status(name)["resources"].get(name)
    return bool(model) and plan.is_synced(plan.flatten(model))


def _probe_gi(name):
    """``(metadata found, initial GI)`` from ``drbdadm get-gi``; the GI flag is None when unknown."""
    gi = _drbdadm("get-gi", name, ok_codes=(0, 1, 10, 20))
    if gi["retcode"] != 0:
        return False, None
    try:
        return True, bool(parse.parse_gi(gi["stdout"]).get("initial"))
    except HapairError:
        return True, None


def facts(name, disk=None, node=None, probe_disk=True, probe_gi=True):
    """Return the facts hapair's planners use for one resource (see ``hapair.drbd_plan``).

    The devices probed are the ones the DRBD config names for this node (``drbdadm sh-ll-dev``
    and ``sh-md-dev``: lower disks and external meta disks), each opened (``blockdev``) before
    ``blkid -p``; ``disk`` is only compared with them (``requested_disk``). ``node`` is the
    minion id, never the caller's ``node`` (kept as ``caller_node``). ``probe_gi=False`` skips
    ``get-gi`` on a running resource (``gi_initial`` None). A running but Diskless resource (its
    disk detached after an I/O error, or a replacement not attached yet) has its configured devices
    probed too (``probe_disk``): ``metadata`` then says whether DRBD metadata is on them
    (``hapair.drbd_plan.guard_attach``, ``guard_create_md``). Reads only; never changes state.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.facts r0 disk=/dev/sdc1
    """
    out = {"resource": name, "node": __opts__.get("id"), "disk": disk, "loaded": _kernel_version() is not None}
    if node:
        out["caller_node"] = node
    model = status(name)["resources"].get(name) if out["loaded"] else None
    out.update(plan.flatten(model))
    if out.get("minor") is not None:
        out["device"] = f"/dev/drbd{out['minor']}"
    if model is not None and out.get("disk_state") == "Diskless" and probe_disk:
        out.update(_probe_disks(name, disk))  # no disk in use: what is on the configured devices decides
    elif model is not None:
        out["metadata"] = True
        out["signature"] = None
    elif probe_disk:
        out["metadata"], initial = _probe_gi(name)
        if out["metadata"]:
            out["gi_initial"] = initial
        disks = _probe_disks(name, disk)
        disks["metadata"] = out["metadata"] or disks["metadata"]
        out.update(disks)
    if model is not None and probe_gi and "gi_initial" not in out:
        out["gi_initial"] = _probe_gi(name)[1]
    out["split_brain"] = os.path.exists(_marker(name, "split-brain"))
    out["initial_sync_done"] = os.path.exists(_marker(name, "initial-sync"))
    return out


# --------------------------------------------------------------------------- config
def _topology(topology):
    """Load a pillar topology by name and find this minion's node in it."""
    return adapter.load_topology(__salt__, __pillar__, __opts__, topology)


def topology_resources(topology):
    """List this minion's DRBD resources in a topology with the role state the formula applies.

    Returns ``[{"name": "r0", "mode": "dual-primary", "node": "web1", "role_state":
    "dual_primary"|"primary"|"secondary"|None, "initial_primary": bool}]`` (no secrets).

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.topology_resources web
    """
    topo, node = _topology(topology)
    out = []
    for name, res in sorted(topo["drbd"]["resources"].items()):
        if node not in res.get("nodes", {}):
            continue
        mode = res.get("mode") or "single-primary"
        if mode == "dual-primary":
            role_state = "dual_primary"
        elif res.get("primary"):
            role_state = "primary" if res["primary"] == node else "secondary"
        else:
            role_state = None
        out.append({"name": name, "mode": mode, "node": node, "role_state": role_state,
                    "initial_primary": res.get("initial_primary") == node})
    return out


def _render(topo, node):
    dialect = topo["drbd"].get("dialect") or "auto"
    if dialect == "auto":
        dialect = _dialect()
        if dialect is None:
            ver = version().get("kernel")
            try:
                dialect = render_mod.dialect_for_version(str(ver))
            except HapairError:
                raise CommandExecutionError(
                    "cannot pick the DRBD config dialect: the drbd module is not loaded and "
                    f"drbdadm --version names no kernel version; set {topo['path']}:drbd:dialect to 8.4 or 9")
    handler = _handler_path()
    try:
        files = render_mod.render(topo, node, dialect, _path("drbd_conf"), _path("drbd_conf_dir"), handler_path=handler)
        if handler:  # hapair's DRBD handler script, installed with the config that calls it
            files.update(render_mod.handler_files(handler, _path("state_dir"), _salt_call()))
        return files
    except HapairError as err:
        raise CommandExecutionError(mask(str(err), topo.get("secrets") or []))


def _handler_path():
    """``hapair:paths:drbd_handler`` (default /usr/lib/hapair/drbd-handler); empty: no hapair handlers."""
    return __salt__["config.get"]("hapair:paths:drbd_handler", render_mod.HANDLER_PATH) or None


def _salt_call():
    """The salt-call the DRBD handler uses: ``hapair:bin:salt_call``, else the one beside this minion's python."""
    configured = __salt__["config.get"]("hapair:bin:salt_call", None)
    if configured:
        return configured
    beside = os.path.join(os.path.dirname(sys.executable), "salt-call")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("salt-call") or "/usr/bin/salt-call"


def render(topology):
    """Return this minion's DRBD config files for a pillar topology, secrets masked.

    ``{path: {"content": str (shared-secret masked), "mode": "0600"|"0644", "secret": bool}}``

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.render web
    """
    topo, node = _topology(topology)
    return mask(_render(topo, node), topo.get("secrets") or [])


def config_state(topology):
    """Compare this minion's rendered DRBD config with the files on disk, without contents or digests.

    Returns ``{"desired": {path: {"mode", "secret"}}, "current": {path: {"mode", "matches": bool}
    or None (missing)}, "up": [running resources], "diff": {path: unified diff}, "clashes":
    [error]}``. The diffs mask every secret (``adapter.plan_file``): the topology's and those the
    files on disk hold (a rotated-out shared-secret). ``clashes``: what the topology would clash
    with among the topologies this node's .res files come from (``rendered_topologies``,
    ``hapair.topology.deployed_conflicts``), each with its pillar path; ``drbd.configured``
    refuses to write while there is one.

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.config_state web
    """
    topo, node = _topology(topology)
    files = _render(topo, node)
    plans = adapter.install_files(files, secrets=topo.get("secrets") or [], test=True)
    desired = {p: {"mode": f["mode"], "secret": f["secret"]} for p, f in files.items()}
    current = {p: None if d["action"] == "created"
               else {"mode": d["old_mode"], "matches": d["action"] in ("mode", "unchanged")} for p, d in plans.items()}
    diff = {p: d["diff"] for p, d in plans.items() if d["action"] == "updated"}
    running = list(status()["resources"]) if _kernel_version() else []
    clashes = topology_mod.deployed_conflicts(adapter.pillar_data(__salt__, __pillar__), topo["name"],
                                              {__opts__["id"]: rendered_topologies()})
    return {"desired": desired, "current": current, "up": running, "diff": diff,
            "clashes": [str(err) for err in clashes]}


def write_config(topology):
    """Write this minion's DRBD config files (mode 0600 where a secret lives); return what changed.

    Returns ``{path: "created"|"updated"|"mode"|"unchanged"}`` (never file contents): the
    ``action`` of ``adapter.install_file``.

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.write_config web
    """
    topo, node = _topology(topology)
    files = _render(topo, node)
    return {p: d["action"] for p, d in adapter.install_files(files, secrets=topo.get("secrets") or []).items()}


def _installed(files):
    """``{path: text or None}`` of the rendered files as they are on disk now (None: missing)."""
    return {path: adapter.read_file(path) for path in files}


def _classified(topo, node):
    """(rendered files, files on disk, classified changes from disk to pillar) for this node."""
    files = {p: f for p, f in _render(topo, node).items()
             if p == _path("drbd_conf") or p.endswith(".res") or p.endswith("/global_common.conf")}
    current = _installed(files)
    secrets = list(topo.get("secrets") or [])
    try:
        found = changes.classify_drbd([t for t in current.values() if t], [f["content"] for f in files.values()],
                                      secrets)
    except HapairError as err:  # a hand-edited file drbdadm would not read either: classed down, never guessed
        found = [changes.change("drbd", "common", "file", "unreadable", "rendered", changes.DOWN,
                                mask(str(err), secrets))]
    return files, current, found


def _in_use(names):
    """``{resource: hapair.changes.in_use(...)}`` for the running resources among ``names``."""
    models = status()["resources"] if _kernel_version() else {}
    mounts = None
    out = {}
    for name in names:
        model = models.get(name)
        if model is not None and mounts is None:
            mounts = __salt__["mount.active"]()
        out[name] = changes.in_use(model, _mounted(name, model, mounts) if model is not None else [])
    return out


def change_facts(topology):
    """Classify what writing this node's rendered DRBD config would change on the running pair.

    Compares the files on disk (drbd.conf, global_common.conf, each .res) with the rendered ones
    option by option (``hapair.changes.classify_drbd``: ``online`` / ``reconnect`` / ``down``) and
    reads, per resource of the topology on this node, whether it is in use: ``{"resources":
    {resource: {"changes": [...], "class": worst or None, "steps": [...], "in_use": {"up", "role",
    "peer_role", "mounted", "dual_primary"}}}}``. Changes of ``common`` count for every resource.
    Secrets are masked (shared-secret always). Reads only. ``drbd.configured`` refuses a
    disruptive class on a resource in use; ``salt-run hapair.reconfigure`` applies it.

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.change_facts web
    """
    topo, node = _topology(topology)
    _files, _current, found = _classified(topo, node)
    names = [r for r, res in sorted(topo["drbd"]["resources"].items()) if node in (res.get("nodes") or {})]
    used = _in_use(names)
    out = {}
    for name in names:
        mine = changes.for_resource(found, name)
        out[name] = {"changes": mine, "class": changes.worst(mine), "steps": changes.steps(mine) if mine else [],
                     "in_use": used[name]}
    return {"topology": topo["name"], "node": node, "resources": out}


def drift(topology):
    """What differs, per resource on this node, between pillar, the files on disk and the kernel.

    Returns::

        {"topology": "web", "node": "web1",
         "files": {path: "matches" | "differs" | "missing"},
         "resources": {"r0": {
             "pillar_vs_file": [change, ...],      # hapair.changes.classify_drbd, classified
             "pillar_vs_file_class": "reconnect" | ... | None,
             "file_vs_kernel": [command, ...] | None,  # `drbdadm -d adjust r0`: what adjust would run
             "file_vs_kernel_class": "online" | ... | None,
             "in_use": {"up", "role", "peer_role", "mounted", "dual_primary"}}}}

    ``file_vs_kernel`` is None when the resource is not up or its .res is missing (nothing to
    compare); ``drbdadm -d adjust`` runs nothing but ``drbdsetup show``. No secret is returned:
    ``--shared-secret`` is masked, and so is every secret of the topology and of the files on disk.
    Reads only.

    CLI Example:

    .. code-block:: bash

        salt web1 drbd.drift web
    """
    topo, node = _topology(topology)
    files, current, found = _classified(topo, node)
    secrets = list(topo.get("secrets") or [])
    for text in current.values():
        try:
            secrets += [v for k, v in changes.config_options(text or "").items() if k.endswith(":shared-secret")]
        except HapairError:
            pass
    secrets = [s for s in secrets if s]
    names = [r for r, res in sorted(topo["drbd"]["resources"].items()) if node in (res.get("nodes") or {})]
    used = _in_use(names)
    out = {}
    for name in names:
        mine = changes.for_resource(found, name)
        res_path = os.path.join(_path("drbd_conf_dir"), f"{name}.res")
        commands = None
        if used[name]["up"] and current.get(res_path) is not None:
            res = _drbdadm("-d", "adjust", name, secrets=secrets)
            try:
                commands = changes.parse_adjust_dry_run(res["stdout"], secrets)
            except HapairError as err:
                raise CommandExecutionError(mask(str(err), secrets))
        out[name] = {"pillar_vs_file": mine, "pillar_vs_file_class": changes.worst(mine),
                     "file_vs_kernel": commands,
                     "file_vs_kernel_class": changes.worst(commands) if commands else None,
                     "in_use": used[name]}
    states = {p: "missing" if current[p] is None else "matches" if current[p] == f["content"] else "differs"
              for p, f in files.items()}
    return mask({"topology": topo["name"], "node": node, "files": states, "resources": out}, secrets)


# --------------------------------------------------------------------------- actions
def _action(*args):
    res = _drbdadm(*args)
    return {"resource": args[-1], "argv": res["argv"], "stdout": res["stdout"].strip(), "stderr": res["stderr"].strip()}


def create_md(name, disk=None, overwrite_data=False):
    """Create DRBD metadata for a resource (``drbdadm create-md``), refusing to overwrite data.

    Probes every device create-md writes to as the DRBD config names them for this node (lower
    disk and external meta disk), not ``disk``: a ``disk`` that is not the configured one is
    refused, so is a device that cannot be opened. Refused when a device carries a filesystem/data
    signature (``blkid -p``) or DRBD metadata already, unless ``overwrite_data=True``; refused on a
    resource that is up with a disk attached, but allowed on a Diskless one (a blank replacement
    disk, before ``drbd.attach``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.create_md r0
        salt '*' drbd.create_md r0 disk=/dev/sdc1 overwrite_data=True
    """
    overwrite_data = adapter.flag(overwrite_data, "overwrite_data")
    fct = facts(name, disk=disk)
    if "probes" not in fct:  # attached: facts() probes no disk; create-md would still write to them
        fct.update(_probe_disks(name, disk), metadata=True)
    _guard(plan.guard_create_md, fct, overwrite_data=overwrite_data)
    args = ["create-md", "--force", name] if overwrite_data else ["create-md", name]
    res = _run([_bin("drbdadm"), *args], ok_codes=(0,))
    return {"resource": name, "disk": fct.get("disk"), "meta_disk": fct.get("meta_disk"), "argv": res["argv"],
            "created": True}


def up(name):
    """Bring a resource up (``drbdadm up``): attach, apply options, connect.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.up r0
    """
    return _action("up", name)


def attach(name, force=False):
    """Re-attach the backing disk of a Diskless resource (``drbdadm attach``), after a disk failure.

    For a node that went Diskless (``on-io-error detach``) and serves through its peer, once the
    disk is replaced or repaired (docs/disk-failure.md). Refused unless the resource is Diskless
    here and the peer Connected and UpToDate (``force=True`` waives only that, when this disk is
    known to hold the newest data); refused, naming the device, when a configured device is missing
    (cannot be opened) or the metadata device carries no DRBD metadata (a blank replacement:
    ``drbd.create_md`` first, then a full resync). The resync that follows is DRBD's own;
    ``drbd.wait_synced`` (or the ``drbd.synced`` state) waits for it.

    CLI Example:

    .. code-block:: bash

        salt node1 drbd.attach r0
    """
    force = adapter.flag(force, "force")
    fct = facts(name, probe_disk=True, probe_gi=False)  # Diskless: the configured devices are probed
    _guard(plan.guard_attach, fct, force=force)
    return _action("attach", name)


def down(name):
    """Take a resource down (``drbdadm down``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.down r0
    """
    return _action("down", name)


def adjust(name):
    """Apply changed config to a running resource (``drbdadm adjust``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.adjust r0
    """
    return _action("adjust", name)


def connect(name, only_standalone=False):
    """Connect a resource to its peer (``drbdadm connect``).

    ``only_standalone=True``: do it only while the resource is StandAlone here, else return
    ``{"resource", "skipped": why}`` without running anything (a split-brain survivor whose peer's
    ``connect --discard-my-data`` already connected both).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.connect r0
        salt web1 drbd.connect r0 only_standalone=True
    """
    if only_standalone:
        conn = plan.flatten(status(name)["resources"].get(name)).get("connection_state")
        if conn not in ("StandAlone", None):
            return {"resource": name, "skipped": f"{name} is already {conn}"}
    return _action("connect", name)


def disconnect(name):
    """Disconnect a resource from its peer (``drbdadm disconnect``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.disconnect r0
    """
    return _action("disconnect", name)


def primary(name, force=False, peer_has_no_data=False):
    """Promote a resource (``drbdadm primary``); ``force=True`` only for an initial sync.

    ``force`` is refused unless the local disk is Inconsistent and the peer's is Inconsistent
    too; a Diskless, unknown (DUnknown) or absent peer needs ``peer_has_no_data=True`` as well; a
    peer with data (UpToDate, Consistent, Outdated) is always refused.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.primary r0
        salt '*' drbd.primary r0 force=True
    """
    force = adapter.flag(force, "force")
    peer_has_no_data = adapter.flag(peer_has_no_data, "peer_has_no_data")
    if force:
        _guard(plan.guard_primary_force, facts(name, probe_disk=False, probe_gi=False),
               peer_has_no_data=peer_has_no_data)
        return _action("primary", "--force", name)
    return _action("primary", name)


def _udev_settle():
    """Wait for udev's event queue (``udevadm settle``) when udevadm is there; best effort.

    Closing a block device that was written to makes udev probe it (blkid) and hold it open for a
    moment; a demote in that moment fails "Device is held open by someone" (-12). Seen in the lab
    right after ``umount /dev/drbd0``.
    """
    if adapter.has_binary(__salt__, "udevadm"):
        _run([_bin("udevadm"), "settle", "--timeout=30"], ok_codes=range(256), timeout=40)


def secondary(name):
    """Demote a resource (``drbdadm secondary``), after udev's queue settled.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.secondary r0
    """
    _udev_settle()
    return _action("secondary", name)


def allow_two_primaries(name):
    """Allow two primaries on a running resource (``drbdadm net-options --allow-two-primaries=yes``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.allow_two_primaries r0
    """
    return _action("net-options", "--allow-two-primaries=yes", name)


def new_current_uuid(name, clear_bitmap=True):
    """Start a new data generation; with ``clear_bitmap`` skip the initial sync of two fresh disks.

    ``clear_bitmap=True`` is refused unless both sides are fresh (initial GI), Connected,
    Secondary/Secondary and Inconsistent/Inconsistent.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.new_current_uuid r0
    """
    if adapter.flag(clear_bitmap, "clear_bitmap"):
        _guard(plan.guard_new_current_uuid, facts(name, probe_disk=False))
        return _action("new-current-uuid", "--clear-bitmap", name)
    return _action("new-current-uuid", name)


def invalidate(name):
    """Discard the local data and resync it from the peer (``drbdadm invalidate``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.invalidate r0
    """
    return _action("invalidate", name)


def invalidate_remote(name):
    """Discard the peer's data and resync it from here (``drbdadm invalidate-remote``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.invalidate_remote r0
    """
    return _action("invalidate-remote", name)


def verify(name):
    """Start an online verify of a connected resource (``drbdadm verify``).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.verify r0
    """
    return _action("verify", name)


def discard_my_data_connect(name, victim=None, node=None, split_brain=False):
    """Resolve a split brain on its victim: demote, then ``drbdadm connect --discard-my-data``.

    Refused unless the resource is StandAlone after a split brain (a marker under
    ``hapair:paths:state_dir``/drbd/<name>.split-brain, or ``split_brain=True``) and ``victim``
    names this node. The node's identity is its own (minion id, hostname, its node in the
    topology that rendered the resource); ``node``, if given, must be one of those names.

    CLI Example:

    .. code-block:: bash

        salt web2 drbd.discard_my_data_connect r0 victim=web2
    """
    split_brain = adapter.flag(split_brain, "split_brain")
    fct = facts(name, node=node, probe_disk=False, probe_gi=False)
    fct["node"], fct["node_names"] = _self_names(name)
    fct["split_brain"] = fct.get("split_brain") or split_brain
    _guard(plan.guard_discard_my_data, fct, victim)
    if fct.get("role") == "Primary":
        _action("secondary", name)
    out = _action("connect", "--discard-my-data", name)
    try:
        os.remove(_marker(name, "split-brain"))
    except OSError:
        pass
    return out


def mark_initial_sync(name, how):
    """Record under ``state_dir`` that a resource's initial sync was started (never forced again).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.mark_initial_sync r0 full
    """
    path = _marker(name, "initial-sync")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"resource": name, "initial_sync": how, "time": int(time.time())}, handle)
    return {"resource": name, "marker": path, "initial_sync": how}


def wait_connected(name, timeout=120, interval=1):
    """Wait until a resource is Connected; on timeout raise saying why (StandAlone, WFConnection...).

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.wait_connected r0 timeout=60
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        flat = plan.flatten(status(name)["resources"].get(name))
        flat.setdefault("resource", name)
        if flat["connection_state"] == "Connected":
            return {"resource": name, "connection_state": "Connected"}
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"gave up waiting {timeout}s for {name} Connected on {__opts__.get('id')}: "
                                        f"seen {plan.give_up_reason(flat)}")
        time.sleep(float(interval))


def wait_synced(name, timeout=3600, interval=2):
    """Wait until a resource is in sync, firing ``hapair/drbd/<name>/sync`` progress events.

    Event data: ``{"resource", "percent_done", "eta_seconds", "out_of_sync_kib",
    "replication_state"}``. Gives up at once on StandAlone or a Diskless side, else after
    ``timeout`` seconds, and says why.

    CLI Example:

    .. code-block:: bash

        salt '*' drbd.wait_synced r0 timeout=600
    """
    deadline = time.monotonic() + float(timeout)
    tag = f"hapair/drbd/{name}/sync"
    while True:
        flat = plan.flatten(status(name)["resources"].get(name))
        flat.setdefault("resource", name)
        progress = {"resource": name, "percent_done": flat.get("percent_done"), "eta_seconds": flat.get("eta_seconds"),
                    "out_of_sync_kib": flat.get("out_of_sync_kib"), "replication_state": flat.get("replication_state")}
        if plan.is_synced(flat):
            progress.update(percent_done=100.0, eta_seconds=0, out_of_sync_kib=0, synced=True)
            _event(tag, progress)
            return progress
        _event(tag, dict(progress, synced=False))
        hopeless = (not flat.get("up") or flat["connection_state"] == "StandAlone"
                    or "Diskless" in (flat.get("disk_state"), flat.get("peer_disk_state")))
        if hopeless or time.monotonic() >= deadline:
            why = "gave up at once" if hopeless else f"gave up after {timeout}s"
            raise CommandExecutionError(f"{why} waiting for {name} UpToDate/UpToDate on {__opts__.get('id')}: "
                                        f"seen {plan.give_up_reason(flat)}")
        time.sleep(float(interval))
