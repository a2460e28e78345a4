"""Single-primary filesystems (ext3, ext4, xfs, btrfs) on DRBD, and the one-time preparation of a
heartbeat service group (seed 002): format guarded, mount, copy the relocated paths, unmount.

Every step comes from the pure planners ``hapair.localfs.plan_format`` and ``plan_prepare``:
mkfs never over a signature without ``overwrite=True``, and only on a DRBD Primary with both
disks UpToDate; nothing at all while heartbeat runs here, the peer is Primary or someone else
has the filesystem mounted. Binaries and paths from config::

    hapair:
      bin: {blkid: blkid, mkfs.ext4: mkfs.ext4, mkfs.ext3: mkfs.ext3, mkfs.xfs: mkfs.xfs,
            mkfs.btrfs: mkfs.btrfs, mount: mount, umount: umount, rsync: rsync}
      paths: {proc_mounts: /proc/mounts, state_dir: /var/lib/hapair}
      heartbeat_service: heartbeat
"""

from __future__ import annotations

import json
import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.localfs as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.localfs as core

from hapair import adapter, drbd_plan
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_fs"
__func_alias__ = {"format_": "format"}  # Salt's way to a function named like a builtin
#: Plan rounds of one ``prepare``: primary, mount, then the copies; one more to spare.
MAX_ROUNDS = 4


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "blkid", "util-linux")


def _topology(topology):
    return adapter.load_topology(__salt__, __pillar__, __opts__, topology)


def _filesystem(topo, node, name):
    fs = topo["filesystems"].get(name)
    if fs is None or fs["type"] not in core.FS_TYPES:
        raise SaltInvocationError(f"topology {topo['name']} has no {'/'.join(core.FS_TYPES)} filesystem {name!r}")
    return dict(fs, device=core.device_on(fs, node))


def _group(topo, group):
    spec = (topo.get("groups") or {}).get(group)
    if spec is None:
        raise SaltInvocationError(f"topology {topo['name']} has no group {group!r}")
    return spec


def _drbd(resource):
    return adapter.drbd_model(__salt__, resource)


def _signature(device, model):
    """blkid of ``device``; None (not read) on DRBD when not Primary: a Secondary cannot be opened,
    and blkid's "nothing found" would read as a blank device."""
    if model is not None and drbd_plan.flatten(model)["role"] != "Primary":
        return None
    if not os.path.exists(device):
        return None
    return adapter.blkid(__salt__, device)


def _binaries(fstype):
    return {name: adapter.binary(__salt__, name) for name in (f"mkfs.{fstype}", "mount", "umount", "rsync")}


def _record_path(topo, group):
    return core.record_path(adapter.path(__salt__, "state_dir"), topo["name"], group)


def _read_record(path):
    text = adapter.read_file(path)
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return None  # unreadable: not prepared (safe: mkfs still refuses over a signature)
    return found if isinstance(found, dict) else None


def _source_kind(path):
    if os.path.islink(path):
        return "link"
    if os.path.isdir(path):
        return "directory"
    return "file" if os.path.exists(path) else None


def _format_facts(fs, node):
    model = _drbd(fs.get("resource"))
    return {"node": node, "device": fs["device"], "signature": _signature(fs["device"], model), "drbd": model}


def format_facts(topology, filesystem):
    """Return what ``plan_format`` reads for ``filesystem`` (reads only): ``{"node", "device",
    "signature": blkid dict | None (not read: DRBD Secondary here), "drbd": resource model | None}``.

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.format_facts apache data
    """
    topo, node = _topology(topology)
    return _format_facts(_filesystem(topo, node, filesystem), node)


def plan_format(topology, filesystem, overwrite=False):
    """Return the format plan of ``filesystem`` on this node: ``[]`` or one ``mkfs`` step
    ``{"action": "mkfs", "device", "type", "label", "argv", "key", "old", "new"}``.

    Raises when the planner refuses (another signature without ``overwrite``, DRBD not Primary
    with both disks UpToDate).

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.plan_format apache data
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    topo, node = _topology(topology)
    fs = _filesystem(topo, node, filesystem)
    try:
        return core.plan_format(fs, _format_facts(fs, node), overwrite=overwrite,
                                binary=adapter.binary(__salt__, f"mkfs.{fs['type']}"))
    except HapairError as err:
        raise CommandExecutionError(str(err))


def format_(topology, filesystem, overwrite=False):
    """Format ``filesystem`` once (guarded as ``plan_format``). Returns ``{"formatted": bool, "device",
    "type", "argv": list | None, "signature": blkid after}``.

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.format apache data
        salt node01 hapair_fs.format apache data overwrite=True
    """
    steps = plan_format(topology, filesystem, overwrite=overwrite)
    topo, node = _topology(topology)
    fs = _filesystem(topo, node, filesystem)
    for step in steps:
        adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)
    return {"formatted": bool(steps), "device": fs["device"], "type": fs["type"],
            "argv": steps[0]["argv"] if steps else None, "signature": adapter.blkid(__salt__, fs["device"])}


def _facts(topo, node, group):
    spec = _group(topo, group)
    fs = _filesystem(topo, node, spec["filesystem"]) if spec.get("filesystem") else None
    model = _drbd(spec["resource"])
    out = {"node": node, "group": group, "resource": spec["resource"], "drbd": model,
           "heartbeat_running": bool(__salt__["service.status"](
               __salt__["config.get"]("hapair:heartbeat_service", "heartbeat"))),
           "record": _read_record(_record_path(topo, group)),
           "sources": {entry["path"]: _source_kind(entry["path"]) for entry in spec.get("relocate") or []}}
    if fs is None:
        return dict(out, device=None, signature=None, mounts=[], mountpoint_exists=False, targets=None)
    device, mountpoint = fs["device"], fs["mountpoint"]
    real = os.path.realpath(device)
    mounts = [dict(m, is_device=os.path.realpath(m["device"]) == real) for m in adapter.mounts(__salt__)]
    mounts = [m for m in mounts if m["is_device"] or m["mountpoint"] == mountpoint]
    mounted_here = any(m["is_device"] and m["mountpoint"] == mountpoint for m in mounts)
    targets = ({entry["target"]: os.path.lexists(entry["target"]) for entry in spec.get("relocate") or []}
               if mounted_here else None)
    return dict(out, device=device, signature=_signature(device, model), mounts=mounts,
                mountpoint_exists=os.path.isdir(mountpoint), targets=targets)


def facts(topology, group):
    """Return what ``plan_prepare`` reads for service group ``group`` on this node (reads only)::

        {"node", "group", "resource", "drbd": resource model | None (drbd.status: role, peer role,
         both disks), "heartbeat_running": bool (service.status of hapair:heartbeat_service),
         "record": this node's preparation record | None, "sources": {path: "directory" | "file" |
         "link" | None}, "device", "signature": blkid | None (not read: Secondary here),
         "mounts": [{"device", "mountpoint", "fstype", "options", "is_device"}] (the device's and
         the mountpoint's), "mountpoint_exists": bool, "targets": {target: bool} | None (only
         while the device is mounted at its mountpoint)}

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.facts apache www
    """
    topo, node = _topology(topology)
    return _facts(topo, node, group)


def _plan(topo, node, group, overwrite):
    spec = _group(topo, group)
    fstype = topo["filesystems"][spec["filesystem"]]["type"] if spec.get("filesystem") else "ext4"
    try:
        return core.plan_prepare(topo, group, _facts(topo, node, group), overwrite=overwrite,
                                 binaries=_binaries(fstype))
    except HapairError as err:
        raise CommandExecutionError(str(err))


def _result(plan, steps, test):
    return {"steps": list(steps), "reason": plan.reason, "pending": plan.pending, "test": test,
            "changes": core.changes(steps, plan.pending if test else "")}


def plan_prepare(topology, group, overwrite=False):
    """Return the preparation plan of ``group`` here: ``{"steps": [...], "reason": why it is empty,
    "pending": what is planned only after these steps, "test": True, "changes": {...}}``.

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.plan_prepare apache www
    """
    topo, node = _topology(topology)
    plan = _plan(topo, node, group, adapter.flag(overwrite, "overwrite"))
    return _result(plan, plan, True)


def _write_record(topo, group, state, device=None):
    uuid = adapter.blkid(__salt__, device).get("uuid") if device else None
    adapter.install_file(_record_path(topo, group), json.dumps(core.record(topo, group, state, uuid),
                                                              sort_keys=True) + "\n", "0644")


def _run_step(topo, node, group, step):
    action = step["action"]
    if action in ("primary", "secondary"):
        __salt__[f"hapair_drbd.{action}"](step["resource"])
    elif action == "mkfs":
        adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)
    elif action == "mount":
        if step["mkdir"]:
            os.makedirs(step["mountpoint"], exist_ok=True)
        _write_record(topo, group, core.MOUNTED)  # the mount is this preparation's, if interrupted too
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
    elif action == "copy":
        os.makedirs(step["parent"], exist_ok=True)
        adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)
    elif action == "umount":
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
        fs = topo["filesystems"][_group(topo, group)["filesystem"]]
        _write_record(topo, group, core.PREPARED, device=core.device_on(fs, node))
    else:
        raise CommandExecutionError(f"unknown preparation step {action!r}")


def _clean_up(topo, ran):
    """After a failure: unmount what this run mounted and demote what it promoted (best effort)."""
    actions = [step["action"] for step in ran]
    for step in reversed(ran):
        try:
            if step["action"] == "mount" and "umount" not in actions:
                adapter.run(__salt__, [adapter.binary(__salt__, "umount"), step["mountpoint"]],
                            timeout=adapter.ACTION_TIMEOUT)
            elif step["action"] == "primary" and "secondary" not in actions:
                __salt__["hapair_drbd.secondary"](step["resource"])
        except (CommandExecutionError, HapairError):
            continue


def prepare(topology, group, overwrite=False, test=False):
    """Prepare service group ``group`` once on its preferred node, before heartbeat first starts:
    promote (when Secondary), format (guarded), mount at the filesystem's mountpoint, copy each
    relocate path whose target is missing (``rsync -a``), unmount, demote (heartbeat promotes
    where it starts the group). Plans again after ``primary`` and ``mount`` (the device and the targets are
    read only then); on a failure it unmounts and demotes what it changed. ``test=True`` plans only.

    Returns ``{"steps": [what ran, or the plan under test], "reason", "pending", "test",
    "changes": hapair.localfs.changes(steps)}``; no steps and a ``reason`` when nothing is to do
    (e.g. "heartbeat owns r0 now").

    CLI Example:

    .. code-block:: bash

        salt node01 hapair_fs.prepare apache www test=True
        salt node01 hapair_fs.prepare apache www
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    if adapter.flag(test, "test"):
        return plan_prepare(topology, group, overwrite=overwrite)
    topo, node = _topology(topology)
    ran = []
    plan = core.Plan()
    try:
        for _ in range(MAX_ROUNDS):
            plan = _plan(topo, node, group, overwrite)
            if not plan:
                break
            for step in plan:
                _run_step(topo, node, group, step)
                ran.append(step)
                if step["action"] in core.REPLAN_AFTER:
                    break
        else:
            raise CommandExecutionError(f"group {group}: still not prepared after {MAX_ROUNDS} rounds "
                                        f"(left: {', '.join(s['action'] for s in plan)})")
    except (CommandExecutionError, HapairError):
        _clean_up(topo, ran)
        raise
    return _result(core.Plan(reason=plan.reason), ran, False)
