"""Single-primary filesystems (ext3, ext4, xfs, btrfs) on DRBD under heartbeat: pure planners.

Seed 002 (active/passive Apache on DRBD + heartbeat) formats ``/dev/drbd0`` once, mounts it on
the preferred node, copies ``/etc/apache2``, ``/var/www`` and ``/usr/lib/cgi-bin`` onto it and
unmounts it again, all before heartbeat first starts; from then on heartbeat owns the resource
(``drbddisk``, ``Filesystem``, and ``drbdlinks``, which renames each source to
``<path>.drbdlinks`` and links it to its copy). Two planners cover that:

- :func:`plan_format` ``(fs, facts, overwrite=False)``: ``[]`` or one ``mkfs`` step,
  :class:`hapair.errors.RefusedError` naming the device and the override, or
  :class:`hapair.errors.NotReadyError` while DRBD is not a synced Primary here;
- :func:`plan_prepare` ``(topology, group, facts, overwrite=False)``: the ordered steps
  ``primary``, ``mkfs``, ``mount``, ``copy``..., ``umount``, ``secondary`` (a :class:`Plan`: a list
  with a ``reason`` when it is empty and ``pending`` when more is decided after a step).

Both read facts only (the ``hapair_fs`` execution module gathers them); the rules they share with
the cluster filesystems are called, not copied: the signature rule ``hapair.parsing``
(``require_blank``, ``blkid_kind``), "synced" ``hapair.drbd_state.is_synced``, the flat DRBD view
``hapair.drbd_plan.flatten`` and the device of a node ``hapair.ocfs2.device_on``.

>>> mkfs_argv({"type": "ext4", "label": "data", "mkfs_options": ["-m", "1"]}, "/dev/drbd0")
['mkfs.ext4', '-q', '-L', 'data', '-m', '1', '/dev/drbd0']
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

from hapair import drbd_plan, drbd_state
from hapair.errors import NotReadyError, RefusedError, RenderError
from hapair.fields import require
from hapair.ocfs2 import device_on
from hapair.parsing import blkid_kind, require_blank

#: The filesystems these planners make: one node mounts them at a time.
FS_TYPES = ("ext3", "ext4", "xfs", "btrfs")
#: Longest label each mkfs accepts (bytes): e2fsprogs 16, xfsprogs 12, btrfs-progs 255.
LABEL_MAX = {"ext3": 16, "ext4": 16, "xfs": 12, "btrfs": 255}
#: The flag that lets each mkfs write over a signature it finds (only after ``overwrite=True``).
FORCE_FLAG = {"ext3": "-F", "ext4": "-F", "xfs": "-f", "btrfs": "-f"}
#: The step actions of :func:`plan_prepare`, in the order they run.
ACTIONS = ("primary", "mkfs", "mount", "copy", "umount", "secondary")
#: Record states: written before the temporary mount, and once the copies are done and unmounted.
MOUNTED, PREPARED = "mounted", "prepared"
#: After these steps the facts change in ways the plan could not read before: plan again.
REPLAN_AFTER = ("primary", "mount")


class Plan(list):
    """The steps of :func:`plan_prepare` (a plain list), with ``reason`` (why it is empty, when it
    is) and ``pending`` (what is decided only once the steps so far ran: plan again then).

    >>> p = Plan([], reason="heartbeat owns r0 now")
    >>> p == [], p.reason, p.pending
    (True, 'heartbeat owns r0 now', '')
    """

    def __init__(self, steps: Iterable[dict[str, Any]] = (), reason: str = "", pending: str = ""):
        super().__init__(steps)
        self.reason = reason
        self.pending = pending


# --------------------------------------------------------------------------- mkfs
def mkfs_argv(fs: Mapping[str, Any], device: str, binary: str | None = None, force: bool = False) -> list[str]:
    """The mkfs argv of a normalised filesystem entry: ``mkfs.<type> -q [-F|-f] [-L label]
    [mkfs_options] <device>``; every value passes its whitelist (``hapair.fields``), or RenderError.

    ``force`` adds the tool's overwrite flag (``FORCE_FLAG``): only after the planner allowed an
    overwrite of a signature. ``binary`` defaults to ``mkfs.<type>``.

    >>> mkfs_argv({"type": "xfs", "label": "www"}, "/dev/drbd1", force=True)
    ['mkfs.xfs', '-q', '-f', '-L', 'www', '/dev/drbd1']
    >>> mkfs_argv({"type": "xfs", "label": "a-label-too-long"}, "/dev/drbd1")
    Traceback (most recent call last):
    ...
    hapair.errors.RenderError: label: 'a-label-too-long' is longer than xfs allows (12 bytes)
    """
    fstype = fs["type"]
    if fstype not in FS_TYPES:
        raise RenderError(f"type: {fstype!r} is not a single-primary filesystem ({', '.join(FS_TYPES)})")
    argv = [binary or f"mkfs.{fstype}", "-q"]
    if force:
        argv.append(FORCE_FLAG[fstype])
    label = fs.get("label")
    if label:
        require("name", label, "label")
        if len(label.encode()) > LABEL_MAX[fstype]:
            raise RenderError(f"label: {label!r} is longer than {fstype} allows ({LABEL_MAX[fstype]} bytes)")
        argv += ["-L", label]
    argv += [require("token", str(option), "mkfs_options") for option in fs.get("mkfs_options") or []]
    argv.append(require("path", device, "device"))
    return argv


def _require_synced_primary(device: str, resource: str | None, drbd: Mapping[str, Any] | None) -> None:
    """Not ready (NotReadyError, no override) unless this node is Primary and the resource is synced
    (``drbd_state.is_synced``: both disks UpToDate, Connected, no resync): else a resync, not this
    mkfs, decides what the disks hold."""
    flat = drbd_plan.flatten(drbd)
    if flat["role"] == "Primary" and drbd_state.is_synced(drbd):
        return
    seen = (f"{flat['role'] or 'not up'} here, disk {flat['disk_state']}, peer disk {flat['peer_disk_state']}"
            f" ({flat['connection_state']})")
    raise NotReadyError(device, f"this node Primary with both disks UpToDate: only such a Primary formats "
                                f"(resource {resource} is {seen})")


def plan_format(fs: Mapping[str, Any], facts: Mapping[str, Any], overwrite: bool = False,
                binary: str | None = None) -> list[dict[str, Any]]:
    """Plan formatting one single-primary filesystem; pure.

    ``facts``: ``{"node": "node1", "device": "/dev/drbd0", "signature": blkid dict ({} blank) | None
    (not read: a Secondary DRBD device cannot be opened), "drbd": resource model | None}``.

    - Not ``fs["format_on"]``: ``[]`` (made once, on one node).
    - Already ``fs["type"]``: ``[]`` (the label is not compared: a relabel is not a reformat).
    - Another signature: RefusedError naming ``overwrite=True`` (``hapair.parsing.require_blank``).
    - On DRBD (``fs["resource"]``): NotReadyError unless Primary here with both disks UpToDate.
    - A signature that could not be read: RefusedError.
    - Else ``[{"action": "mkfs", "device", "type", "label", "argv", "key": "filesystem", "old", "new"}]``.

    >>> plan_format({"type": "ext3", "resource": None, "format_on": "n1"},
    ...             {"node": "n1", "device": "/dev/vdb", "signature": {"type": "ext3"}})
    []
    """
    device = facts.get("device") or fs["device"]
    if fs.get("format_on") and facts.get("node") != fs["format_on"]:
        return []
    signature = facts.get("signature")
    if signature is not None:
        if signature.get("type") == fs["type"]:
            return []
        require_blank(device, signature, overwrite, then=f"mkfs.{fs['type']} destroys it")
    if fs.get("resource") or facts.get("drbd") is not None:
        _require_synced_primary(device, fs.get("resource"), facts.get("drbd"))
    if signature is None:
        raise RefusedError(device, "its signature was not read (blkid)", "nothing: read it on the Primary first")
    argv = mkfs_argv(fs, device, binary=binary, force=bool(signature))
    return [{"action": "mkfs", "device": device, "type": fs["type"], "label": fs.get("label"), "argv": argv,
             "key": "filesystem", "old": blkid_kind(signature), "new": fs["type"]}]


# --------------------------------------------------------------------------- the record
def record_path(state_dir: str, topology: str, group: str) -> str:
    """Where a node keeps its preparation record of ``group``: ``<state_dir>/localfs/<topology>.<group>.json``.

    >>> record_path("/var/lib/hapair", "apache", "www")
    '/var/lib/hapair/localfs/apache.www.json'
    """
    return os.path.join(require("path", state_dir, "state_dir"), "localfs",
                        f"{require('name', topology, 'topology')}.{require('name', group, 'group')}.json")


def record(topology: Mapping[str, Any], group: str, state: str, uuid: str | None = None) -> dict[str, Any]:
    """The record a node writes before the temporary mount (``MOUNTED``) and after it (``PREPARED``,
    with the new filesystem's blkid ``uuid``): ``{"topology", "group", "filesystem", "type",
    "state", "uuid", "targets": [...]}``. :func:`plan_prepare` reads it back (``facts["record"]``)."""
    spec = topology["groups"][group]
    fs = topology["filesystems"][spec["filesystem"]]
    return {"topology": topology["name"], "group": group, "filesystem": fs["name"], "type": fs["type"],
            "state": state, "uuid": uuid, "targets": [entry["target"] for entry in spec.get("relocate") or []]}


def _prepared(rec: Mapping[str, Any] | None, topology: Mapping[str, Any], group: str,
              signature: Mapping[str, Any] | None) -> bool:
    """True when ``rec`` says this group was prepared for the filesystem as it is now: same
    filesystem and type, every relocate target copied, and (when blkid could read the device) the
    same filesystem UUID; a record of a filesystem made again since is stale."""
    if not rec or rec.get("state") != PREPARED:
        return False
    want = record(topology, group, PREPARED)
    if (rec.get("filesystem"), rec.get("type")) != (want["filesystem"], want["type"]):
        return False
    if not set(want["targets"]) <= set(rec.get("targets") or []):
        return False
    return signature is None or (bool(signature.get("uuid")) and signature.get("uuid") == rec.get("uuid"))


# --------------------------------------------------------------------------- the preparation
def _describe(mount: Mapping[str, Any]) -> str:
    return f"{mount['device']} ({mount.get('fstype')}) on {mount['mountpoint']}"


def _mounts(facts: Mapping[str, Any], mountpoint: str) -> tuple[bool, str]:
    """``(mounted by this preparation, what someone else mounted)`` from ``facts["mounts"]``."""
    mine = [m for m in facts.get("mounts") or [] if m.get("is_device") or m["mountpoint"] == mountpoint]
    rec = facts.get("record") or {}
    ours = (len(mine) == 1 and mine[0].get("is_device") and mine[0]["mountpoint"] == mountpoint
            and rec.get("state") == MOUNTED)
    if ours or not mine:
        return bool(ours), ""
    return False, "; ".join(_describe(m) for m in mine) + " (mounted by someone else)"


def _copies(spec: Mapping[str, Any], facts: Mapping[str, Any], targets: Mapping[str, bool],
            rsync: str) -> list[dict[str, Any]]:
    """One ``copy`` step per relocate entry whose target does not exist; never over a target."""
    steps = []
    sources = facts.get("sources") or {}
    for entry in spec.get("relocate") or []:
        path, target = require("path", entry["path"], "relocate"), require("path", entry["target"], "relocate")
        if targets.get(target):
            continue
        kind = sources.get(path)
        if kind is None:
            raise NotReadyError(path, f"{path} on {facts.get('node')} (install what provides it) before it "
                                      f"is copied to {target}")
        if kind == "link":
            raise RefusedError(path, f"it is a symlink already (drbdlinks relocated it) but {target} is missing",
                               f"nothing: restore {path} or {target} by hand")
        argv = [rsync, "-a", f"{path}/", f"{target}/"] if kind == "directory" else [rsync, "-a", path, target]
        steps.append({"action": "copy", "path": path, "target": target, "parent": os.path.dirname(target),
                      "argv": argv})
    return steps


def plan_prepare(topology: Mapping[str, Any], group: str, facts: Mapping[str, Any], overwrite: bool = False,
                 binaries: Mapping[str, str] | None = None) -> Plan:
    """Plan the one-time preparation of ``group`` on its preferred node before heartbeat starts; pure.

    ``facts`` (``hapair_fs.facts``)::

        {"node": "node1",                     # this node (topology node key)
         "drbd": <resource model> | None,     # drbd.status: role, peer role, both disks (drbd_plan.flatten)
         "heartbeat_running": False,          # heartbeat's service on this node
         "device": "/dev/drbd0",
         "signature": {blkid} | {} | None,    # None: not read (a Secondary device cannot be opened)
         "mounts": [{"device", "mountpoint", "fstype", "is_device": bool}],  # the device's and the mountpoint's
         "mountpoint_exists": bool,
         "targets": {target: bool} | None,    # read only while this preparation has it mounted
         "sources": {path: "directory" | "file" | "link" | None},
         "record": {record()} | None}          # this node's preparation record

    Hands off, ``[]`` with a ``reason``: not the group's preferred node; heartbeat running here;
    the peer Primary; the device or the mountpoint mounted by someone else; prepared already
    (the record, checked against the filesystem's UUID when it can be read). Not ready
    (NotReadyError): the resource down, not synced, or the peer not Secondary; a source missing.
    Refused (RefusedError): another signature on the device (``overwrite=True``).

    Steps (``ACTIONS`` order): ``primary`` when Secondary here (then ``pending``: plan again, the
    device is read once Primary); ``mkfs`` (:func:`plan_format`); ``mount`` at the filesystem's
    mountpoint (an existing filesystem: ``pending``, the targets are read once mounted; a new one
    has none); ``copy`` (``rsync -a <path>/ <target>/``) for each relocate entry whose target is
    missing, never over a target and never removing the source; ``umount``; ``secondary`` (the
    role is heartbeat's once the group is prepared; found Primary or not). Step shapes: ``{"action": "primary" |
    "secondary", "resource", "key": "role", "old", "new"}``, the mkfs step, ``{"action": "mount",
    "device", "mountpoint", "type", "mkdir": bool, "argv"}``, ``{"action": "copy", "path",
    "target", "parent", "argv"}``, ``{"action": "umount", "mountpoint", "argv"}``.
    """
    tools = {"mount": "mount", "umount": "umount", "rsync": "rsync", **dict(binaries or {})}
    spec = topology["groups"][group]
    resource = require("name", spec["resource"], "resource")
    node = facts["node"]
    if not spec.get("filesystem"):
        return Plan(reason=f"group {group} has no filesystem to prepare")
    if node != spec["node"]:
        return Plan(reason=f"group {group} is prepared on its preferred node {spec['node']} only")
    fs = topology["filesystems"][spec["filesystem"]]
    if fs["type"] not in FS_TYPES:
        raise RenderError(f"filesystem {fs['name']}: {fs['type']!r} is not one of {', '.join(FS_TYPES)}")
    device = require("path", facts.get("device") or device_on(fs, node), "device")
    mountpoint = require("path", fs["mountpoint"], "mountpoint")
    if facts.get("heartbeat_running"):
        return Plan(reason=f"heartbeat owns {resource} now (it runs on {node})")
    model = facts.get("drbd")
    flat = drbd_plan.flatten(model)
    if flat["peer_role"] == "Primary":
        return Plan(reason=f"heartbeat owns {resource} now (the peer is Primary)")
    ours, other = _mounts(facts, mountpoint)
    if other:
        return Plan(reason=f"heartbeat owns {resource} now: {other}")
    if not ours and _prepared(facts.get("record"), topology, group, facts.get("signature")):
        return Plan(reason=f"group {group} is prepared already ({fs['type']} on {device}, "
                           f"{len(spec.get('relocate') or [])} path(s) copied)")
    steps: list[dict[str, Any]] = []
    if not ours:
        if not flat["up"]:
            raise NotReadyError(resource, f"the resource up on {node}")
        if not drbd_state.is_synced(model) or flat["peer_role"] != "Secondary":
            raise NotReadyError(resource, f"both disks UpToDate and the peer Secondary (disk {flat['disk_state']},"
                                          f" peer disk {flat['peer_disk_state']}, {flat['connection_state']},"
                                          f" peer {flat['peer_role']})")
        if flat["role"] != "Primary":
            return Plan([{"action": "primary", "resource": resource, "key": "role", "old": flat["role"],
                          "new": "Primary"}], pending=f"then {device} is read, formatted if blank and mounted")
        fmt = plan_format(fs, facts, overwrite=overwrite, binary=tools.get(f"mkfs.{fs['type']}"))
        steps += fmt
        steps.append({"action": "mount", "device": device, "mountpoint": mountpoint, "type": fs["type"],
                      "mkdir": not facts.get("mountpoint_exists"),
                      "argv": [tools["mount"], "-t", require("name", fs["type"], "type"), device, mountpoint]})
        if not fmt:
            return Plan(steps, pending=f"then the relocate targets on {mountpoint} are read and the missing "
                                       "ones copied")
        targets: Mapping[str, bool] = {}
    else:
        targets = facts.get("targets") or {}
    steps += _copies(spec, facts, targets, tools["rsync"])
    steps.append({"action": "umount", "mountpoint": mountpoint, "argv": [tools["umount"], mountpoint]})
    # the role is heartbeat's from here on (drbddisk promotes where the group starts): a Primary left
    # here would make the peer's drbddisk fail if heartbeat started the group there first
    steps.append({"action": "secondary", "resource": resource, "key": "role", "old": "Primary", "new": "Secondary"})
    return Plan(steps)


def changes(steps: Iterable[Mapping[str, Any]], pending: str = "") -> dict[str, Any]:
    """What a preparation changes, as a state reports it (the same under test and after apply):
    ``{"role": {"old", "new"[, "temporarily": "Primary"]}, "formatted": {"device", "type", "label",
    "argv"}, "mounted": {"mountpoint", "old", "new"} (``"temporarily": True`` when unmounted again),
    "copied": {path: target}, "then": pending}`` (only the keys of the steps present).

    >>> changes([{"action": "primary", "key": "role", "old": "Secondary", "new": "Primary"},
    ...          {"action": "secondary", "key": "role", "old": "Primary", "new": "Secondary"}])
    {'role': {'old': 'Secondary', 'new': 'Secondary', 'temporarily': 'Primary'}}
    """
    out: dict[str, Any] = {}
    steps = list(steps)
    roles = drbd_plan.changes([s for s in steps if s["action"] in ("primary", "secondary")]).get("role")
    if roles:
        out["role"] = dict(roles, temporarily="Primary") if roles["old"] == roles["new"] else roles
    for item in steps:
        if item["action"] == "mkfs":
            out["formatted"] = {key: item[key] for key in ("device", "type", "label", "argv")}
        elif item["action"] == "mount":
            out["mounted"] = {"mountpoint": item["mountpoint"], "old": False, "new": True}
        elif item["action"] == "umount":
            if "mounted" in out:
                out["mounted"].update(new=False, temporarily=True)
            else:
                out["mounted"] = {"mountpoint": item["mountpoint"], "old": True, "new": False}
        elif item["action"] == "copy":
            out.setdefault("copied", {})[item["path"]] = item["target"]
    if pending:
        out["then"] = pending
    return out
