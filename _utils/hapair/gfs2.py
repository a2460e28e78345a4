"""GFS2: lock tables, the mkfs.gfs2 command line, tool parsers and the pure `formatted` planner.

The filesystem dict is one entry of the normalised topology's ``filesystems``::

    {"name": "gfs2-00", "type": "gfs2", "device": "/dev/drbd0", "resource": "r0", "slots": 2,
     "lock_table": "hardcore:gfs2-00" | None, "mkfs_options": [], "mountpoint": "/gfs2-00",
     "mount_options": ["noatime"], "mount_on": ["core-01", "core-02"], "format_on": "core-01" | None}

Limits (gfs2-utils 3.5.0, measured with mkfs.gfs2): ``cluster:fs``, one colon, both parts
non-empty, cluster part <= 32 and fs part <= 30 characters, only letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from hapair import ocfs2 as cluster_fs
from hapair.errors import NotReadyError, ParseError, RefusedError, TopologyError, ValidationError
from hapair.parsing import require_blank, to_int

CLUSTER_MAX = 32
FS_MAX = 30
_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def lock_table(fs: Mapping[str, Any], cluster_name: str) -> str:
    """Return the lock table of ``fs``: its ``lock_table`` or ``<cluster name>:<fs name>``.

    >>> lock_table({"name": "gfs2-00"}, "hardcore")
    'hardcore:gfs2-00'
    """
    return fs.get("lock_table") or f"{cluster_name}:{fs['name']}"


def check_lock_table(table: str, cluster_name: str | None = None, path: str = "lock_table") -> list[TopologyError]:
    """Return every problem of a lock table (empty list = valid); mirrors mkfs.gfs2's own checks
    and adds one it cannot make: the cluster part must equal the cluster's name (or no node can
    mount the filesystem).

    >>> [e.message for e in check_lock_table("other:fs", "hardcore")]
    ["cluster part 'other' is not the cluster name 'hardcore'"]
    """
    errors: list[TopologyError] = []
    if table.count(":") != 1:
        return [TopologyError(path, f"lock table {table!r} needs exactly one ':' (cluster:fs)")]
    cluster, fsname = table.split(":")
    for label, part, limit in (("cluster", cluster, CLUSTER_MAX), ("fs", fsname, FS_MAX)):
        if not part:
            errors.append(TopologyError(path, f"{label} part of {table!r} is empty"))
            continue
        if len(part) > limit:
            errors.append(TopologyError(path, f"{label} part {part!r} is {len(part)} characters (max {limit})"))
        if not _CHARS.fullmatch(part):
            errors.append(TopologyError(path, f"{label} part {part!r} may only hold letters, digits, '-' and '_'"))
    if cluster_name is not None and cluster and cluster != cluster_name:
        errors.append(TopologyError(path, f"cluster part {cluster!r} is not the cluster name {cluster_name!r}",
                                    "gfs_controld/dlm_controld refuse to mount a foreign lock table"))
    return errors


def mkfs_argv(fs: Mapping[str, Any], cluster_name: str, device: str, binary: str = "mkfs.gfs2") -> list[str]:
    """Return the mkfs.gfs2 argv (``-O`` no prompt, ``-t cluster:fs -p lock_dlm -j N``).

    Raises ValidationError when the lock table is invalid.

    >>> mkfs_argv({"name": "gfs2-00", "slots": 2}, "hardcore", "/dev/drbd0")
    ['mkfs.gfs2', '-O', '-t', 'hardcore:gfs2-00', '-p', 'lock_dlm', '-j', '2', '/dev/drbd0']
    """
    table = lock_table(fs, cluster_name)
    errors = check_lock_table(table, cluster_name, f"filesystems:{fs['name']}:lock_table")
    journals = fs.get("slots") or 2
    if not isinstance(journals, int) or journals < 1:
        errors.append(TopologyError(f"filesystems:{fs['name']}:slots", f"journals must be >= 1, got {journals!r}"))
    if errors:
        raise ValidationError(errors)
    extra = [str(opt) for opt in fs.get("mkfs_options") or []]
    return [binary, "-O", "-t", table, "-p", "lock_dlm", "-j", str(journals), *extra, device]


# --------------------------------------------------------------------------- parsers


def _lines(text: str) -> list[tuple[int, str]]:
    return [(no, line.rstrip()) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]


_TUNE_KEYS = {
    "file system volume name": "volume_name",
    "file system uuid": "uuid",
    "file system magic number": "magic",
    "file system format version": "format_version",
    "block size": "block_size",
    "block shift": "block_shift",
    "root inode": "root_inode",
    "master inode": "master_inode",
    "lock protocol": "lock_protocol",
    "lock table": "lock_table",
}
_TUNE_INTS = {"format_version", "block_size", "block_shift", "root_inode", "master_inode"}


def parse_tunegfs2(text: str) -> dict[str, Any]:
    """Parse ``tunegfs2 -l DEVICE``.

    Schema: ``{"volume_name", "uuid", "magic", "format_version": int, "block_size": int,
    "block_shift": int, "root_inode": int, "master_inode": int, "lock_protocol", "lock_table",
    "cluster_name": str|None, "fs_name": str|None}`` (cluster/fs split from the lock table; a key
    whose line is missing is None).

    Example: ``Lock table: hardcore:gfs2-00`` -> ``{"lock_table": "hardcore:gfs2-00",
    "cluster_name": "hardcore", "fs_name": "gfs2-00", ...}``.
    """
    tool = "tunegfs2 -l"
    out: dict[str, Any] = dict.fromkeys(_TUNE_KEYS.values())
    seen = set()
    for no, line in _lines(text):
        key, sep, value = line.partition(":")
        name = _TUNE_KEYS.get(key.strip().lower())
        if not sep or name is None:
            raise ParseError(tool, no, line, "unknown line")
        value = value.strip()
        seen.add(name)
        if name in _TUNE_INTS:
            if not (value.isascii() and value.isdigit()):
                raise ParseError(tool, no, line, f"expected an integer, got {value!r}")
            out[name] = to_int(tool, no, line, value, name)
        else:
            out[name] = value
    if "lock_table" not in seen or "lock_protocol" not in seen:
        raise ParseError(tool, 0, "", "no 'Lock protocol'/'Lock table' lines: not a GFS2 superblock listing")
    cluster, sep, fsname = out["lock_table"].partition(":")
    out["cluster_name"], out["fs_name"] = (cluster, fsname) if sep else (None, None)
    return out


_JOURNAL = re.compile(r"^journal(\d+):\s+(0x[0-9a-fA-F]+|\d+)\s+(\d+)MB\s+(.+?)\.?$")
_BLOCKS = re.compile(r"\bof\s+(\d+)\s+\(0x[0-9a-fA-F]+\)")


def parse_journals(text: str) -> dict[str, Any]:
    """Parse ``gfs2_edit -p journals ./DEVICE``.

    Schema: ``{"blocks": int|None, "journals": [{"index": int, "name": "journal0",
    "block": int, "size_mb": int, "status": "clean"|...}]}``.

    Example: ``journal1: 0x81b   8MB clean.`` -> ``{"index": 1, "name": "journal1", "block": 2075,
    "size_mb": 8, "status": "clean"}``.
    """
    tool = "gfs2_edit -p journals"
    out: dict[str, Any] = {"blocks": None, "journals": []}
    seen_list = False
    for no, line in _lines(text):
        stripped = line.strip()
        if stripped.startswith("Block #"):
            match = _BLOCKS.search(stripped)
            out["blocks"] = to_int(tool, no, line, match.group(1), "blocks") if match else None
        elif "Journal List" in stripped:
            seen_list = True
        elif set(stripped) <= {"-"}:
            continue
        else:
            match = _JOURNAL.match(stripped)
            if not match or not seen_list:
                raise ParseError(tool, no, line, "expected 'journalN: block sizeMB status.'")
            index, block, size, status = match.groups()
            out["journals"].append({"index": to_int(tool, no, line, index, "journal"), "name": f"journal{index}",
                                    "block": to_int(tool, no, line, block, "block", 0),
                                    "size_mb": to_int(tool, no, line, size, "size"), "status": status})
    if not seen_list:
        raise ParseError(tool, 0, "", "no 'Journal List' section: not gfs2_edit -p journals output")
    return out


def parse_mkfs(text: str) -> dict[str, Any]:
    """Parse the summary mkfs.gfs2 prints (``Key:   value`` lines after the progress lines).

    Schema: ``{"device", "block_size": int, "journals": int, "resource_groups": int,
    "locking_protocol", "lock_table", "uuid", ...}`` (quotes stripped, sizes kept as text).
    """
    out: dict[str, Any] = {}
    for no, line in _lines(text):
        key, sep, value = line.partition(":")
        if not sep or value.strip() in ("Done", ""):
            continue
        name = re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")
        value = value.strip().strip('"')
        out[name] = to_int("mkfs.gfs2", no, line, value, name) if value.isascii() and value.isdigit() else value
    if "lock_table" not in out:
        raise ParseError("mkfs.gfs2", 0, "", "no 'Lock table' in the mkfs.gfs2 summary")
    return out


# --------------------------------------------------------------------------- planner


def _drbd_ready(drbd: Mapping[str, Any] | None) -> str | None:
    """Return why DRBD is not Primary-with-UpToDate-peer, or None when it is."""
    if not drbd:
        return "no DRBD status for the resource"
    if drbd.get("role") != "Primary":
        return f"local role is {drbd.get('role')}, not Primary"
    local = [v.get("disk_state") for v in drbd.get("volumes", [])]
    if not local or any(state != "UpToDate" for state in local):
        return f"local disk is {'/'.join(map(str, local)) or 'unknown'}, not UpToDate"
    peers = drbd.get("peers") or []
    if not peers:
        return "no peer is connected"
    for peer in peers:
        states = [v.get("peer_disk_state") for v in peer.get("volumes", [])]
        if peer.get("connection_state") != "Connected" or not states or any(s != "UpToDate" for s in states):
            return (f"peer {peer.get('name') or ''} is {peer.get('connection_state')}/"
                    f"{'/'.join(map(str, states)) or 'unknown'}, not Connected/UpToDate").replace("  ", " ")
    return None


def plan_formatted(facts: Mapping[str, Any], fs: Mapping[str, Any], overwrite: bool = False) -> list[dict[str, Any]]:
    """Plan the ``gfs2.formatted`` state: ``[]`` (nothing to do), one mkfs step, RefusedError or NotReadyError.

    ``facts``::

        {"node": "core-01",                 # this node (topology node key)
         "cluster_name": "hardcore",
         "device": "/dev/drbd0",
         "signature": {"type": "gfs2", "label": "hardcore:gfs2-00"} | {},   # hapair.parsing.parse_blkid
         "drbd": <normalised DRBD resource model> | None}                   # None: not on DRBD

    Rules: already GFS2 with the wanted lock table -> ``[]``. Only the format node
    (``fs["format_on"]``, default the first of ``mount_on``) formats; on the others ``[]`` (both
    nodes can apply the state at once, as the bootstrap does; gfs2.mounted refuses an unformatted
    device).
    Any existing signature (filesystem, partition table, LVM, ...) refuses unless ``overwrite``
    (``hapair.parsing.require_blank``). On DRBD, formatting needs the local role Primary, the local
    disk UpToDate and every peer Connected and UpToDate (so the new filesystem exists on both disks
    at once): until then ``hapair.errors.NotReadyError`` (no override; ``result: None`` under test).

    Step: ``{"action": "mkfs", "device", "lock_table", "journals", "argv": [...]}``.
    """
    device = facts.get("device") or fs["device"]
    table = lock_table(fs, facts["cluster_name"])
    signature = dict(facts.get("signature") or {})
    if signature.get("type") == "gfs2" and signature.get("label") == table:
        return []
    format_on = fs.get("format_on") or (fs.get("mount_on") or [facts.get("node")])[0]
    if facts.get("node") != format_on:
        return []  # made exactly once, on format_on; gfs2.mounted refuses here until it has been
    require_blank(device, signature, overwrite, then="formatting destroys it")
    if fs.get("resource") or facts.get("drbd") is not None:
        why = _drbd_ready(facts.get("drbd"))
        if why:
            raise NotReadyError(device, f"this node Primary and the peer Connected/UpToDate "
                                        f"(DRBD resource {fs.get('resource')}: {why})")
    argv = mkfs_argv(fs, facts["cluster_name"], device, facts.get("mkfs_binary", "mkfs.gfs2"))
    return [{"action": "mkfs", "device": device, "lock_table": table, "journals": int(argv[argv.index("-j") + 1]),
             "argv": argv}]


DLM_UNIT = "dlm.service"


def mount_changes(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """What a ``plan_mounted`` plan changes, as a state reports it: ``{"units": [paths], "mkdir":
    path, "fstab": {"old": [...], "new": line}, "mounted": {"old": False, "new": True, "mountpoint"}}``
    (only the keys of the actions present)."""
    by_action: dict[str, list[dict[str, Any]]] = {}
    for item in steps:
        by_action.setdefault(item["action"], []).append(item)
    report: dict[str, Any] = {}
    if "unit" in by_action:
        report["units"] = [item["path"] for item in by_action["unit"]]
    if "mkdir" in by_action:
        report["mkdir"] = by_action["mkdir"][0]["path"]
    if "fstab" in by_action:
        report["fstab"] = {"old": by_action["fstab"][0]["old"], "new": by_action["fstab"][0]["line"]}
    if "mount" in by_action:
        report["mounted"] = {"old": False, "new": True, "mountpoint": by_action["mount"][0]["mountpoint"]}
    return report


def mount_options(fs: Mapping[str, Any]) -> list[str]:
    """fstab options: ``_netdev`` first, the recipe's, then ``x-systemd.requires=`` the DRBD promote
    unit (as OCFS2's) and dlm_controld's unit (a GFS2 mount joins a dlm lockspace).

    >>> mount_options({"resource": "r0", "mount_options": ["noatime"]})
    ['_netdev', 'noatime', 'x-systemd.requires=hapair-drbd-promote@r0.service', 'x-systemd.requires=dlm.service']
    """
    dlm = f"x-systemd.requires={DLM_UNIT}"
    return [o for o in cluster_fs.mount_options(fs) if o != dlm] + [dlm]


def fstab_line(fs: Mapping[str, Any]) -> str:
    """``/dev/drbd0 /srv/gfs2-00 gfs2 _netdev,noatime,x-systemd.requires=... 0 0`` (never fsck'd at boot)."""
    return cluster_fs.fstab_fields(fs["device"], fs["mountpoint"], "gfs2", mount_options(fs))


def plan_mounted(facts: Mapping[str, Any], fs: Mapping[str, Any],
                 units: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Plan the ``gfs2.mounted`` state; pure.

    ``facts``: ``{"node", "cluster_name", "device", "signature": blkid dict, "mounts": [{"device",
    "mountpoint", "fstype"}] (/proc/mounts), "fstab": [lines], "mountpoint_exists": bool,
    "units": {path: current text | None}}``; ``units``: the boot-order unit files wanted
    (``hapair.ocfs2.render_boot_units``: promote DRBD before the mount).

    Steps, in order: ``unit`` (each unit file that differs), ``mkdir``, ``fstab`` (our line for
    the mountpoint), ``mount``. ``[]`` when everything is in place or the node is not in
    ``mount_on``. Refuses when another device is mounted there, or (to mount) when the device holds
    something other than GFS2 with the expected lock table; a blank device is not ready yet
    (NotReadyError: ``gfs2.formatted`` makes it, on its format node).
    """
    if facts.get("node") not in (fs.get("mount_on") or []):
        return []
    device = facts.get("device") or fs["device"]
    mountpoint = fs["mountpoint"]
    steps: list[dict[str, Any]] = []
    current_units = facts.get("units") or {}
    for path, spec in sorted((units or {}).items()):
        if current_units.get(path) != spec["content"]:
            steps.append({"action": "unit", "path": path, "content": spec["content"], "mode": spec["mode"],
                          "old": current_units.get(path)})
    if not facts.get("mountpoint_exists"):
        steps.append({"action": "mkdir", "path": mountpoint})
    line = fstab_line({**fs, "device": device})
    current = [entry for entry in facts.get("fstab") or []
               if entry.split()[1:2] == [mountpoint] and not entry.lstrip().startswith("#")]
    if current != [line]:
        steps.append({"action": "fstab", "line": line, "old": current})
    mounted = [m for m in facts.get("mounts") or [] if m["mountpoint"] == mountpoint]
    if mounted:
        if mounted[-1]["device"] != device or mounted[-1].get("fstype") != "gfs2":
            raise RefusedError(mountpoint, f"{mounted[-1]['device']} ({mounted[-1].get('fstype')}) is mounted there",
                               "unmount it first")
        return steps
    table = lock_table(fs, facts["cluster_name"])
    signature = facts.get("signature") or {}
    if not signature:  # blank: its format node has not made it yet (gfs2.formatted)
        raise NotReadyError(device, f"GFS2 with lock table {table!r} on it (gfs2.formatted on its format node)")
    if signature.get("type") != "gfs2" or signature.get("label") != table:
        raise RefusedError(device, f"not GFS2 with lock table {table!r} (found {signature.get('type')} "
                                   f"{signature.get('label')})", "run gfs2.formatted first")
    runtime = [o for o in mount_options(fs) if not o.startswith("x-systemd.")]
    steps.append({"action": "mount", "device": device, "mountpoint": mountpoint, "options": runtime})
    return steps
