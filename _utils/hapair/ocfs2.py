"""OCFS2 on DRBD: mkfs argv, parsers for mounted.ocfs2 / debugfs.ocfs2 (blkid: hapair.parsing), pure planners
for formatting and mounting, and the systemd units that order promote-before-mount at boot.

Planners take parsed facts and return steps (``[{"action": ..., ...}]``), raise
:class:`hapair.errors.RefusedError` naming the device and the override, or
:class:`hapair.errors.NotReadyError` naming what formatting waits for (no override: DRBD brings it).

Example::

    >>> mkfs_argv({"device": "/dev/drbd0", "mkfs_type": "mail", "slots": 2, "label": "www",
    ...            "feature_level": "max-features"}, "webcluster")  # doctest: +NORMALIZE_WHITESPACE
    ['mkfs.ocfs2', '-T', 'mail', '--fs-feature-level=max-features', '-N', '2', '-L', 'www',
     '--cluster-stack=o2cb', '--cluster-name=webcluster', '/dev/drbd0']
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from hapair.errors import NotReadyError, ParseError, RefusedError
from hapair.fields import require
from hapair.parsing import parse_proc_mounts, require_blank, to_int  # noqa: F401 - parse_proc_mounts: re-exported

MKFS_TYPES = ("mail", "datafiles", "vmstore")
PROMOTE_UNIT = "hapair-drbd-promote@.service"
SYSTEMD_DIR = "/etc/systemd/system"


# --------------------------------------------------------------------------- mkfs
def mkfs_argv(fs: Mapping[str, Any], cluster_name: str, binary: str = "mkfs.ocfs2",
              stack: str = "o2cb", device: str | None = None, force: bool = False) -> list[str]:
    """Return the ``mkfs.ocfs2`` argv for a normalised filesystem entry.

    ``-T`` (mail|datafiles|vmstore), ``--fs-feature-level``, ``-N`` slots, ``-L`` label,
    ``--cluster-stack`` and ``--cluster-name``, then ``mkfs_options`` and the device.
    ``force`` adds ``-F`` (only after the planner allowed an overwrite of an existing
    signature); without it mkfs.ocfs2 asks before overwriting, which the planner rules out.
    """
    argv = [binary]
    mkfs_type = fs.get("mkfs_type")
    if mkfs_type:
        if mkfs_type not in MKFS_TYPES:
            raise ValueError(f"mkfs_type {mkfs_type!r} is not one of {', '.join(MKFS_TYPES)}")
        argv += ["-T", mkfs_type]
    if fs.get("feature_level"):
        argv.append(f"--fs-feature-level={fs['feature_level']}")
    argv += ["-N", str(int(fs.get("slots") or 2))]
    if fs.get("label"):
        argv += ["-L", str(fs["label"])]
    argv += [f"--cluster-stack={stack}", f"--cluster-name={cluster_name}"]
    if force:
        argv.append("-F")
    argv += [str(opt) for opt in fs.get("mkfs_options") or []]
    argv.append(device or fs["device"])
    return argv


# --------------------------------------------------------------------------- parsers
def _columns(text: str, tool: str, last_rest: bool = True) -> list[dict[str, str]]:
    """Split a fixed-width table on its header's column starts (mounted.ocfs2 -d / -f).

    Raw tokenising only: every value is a stripped string ("" when the column is blank).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ParseError(tool, 0, "", "no output (not even the header)")
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    if names[0] != "Device" or len(set(names)) != len(names):
        raise ParseError(tool, 1, header, "expected a header 'Device ...' of distinct column names")
    rows = []
    for line_no, line in enumerate(lines[1:], 2):
        if not line.startswith("/"):
            raise ParseError(tool, line_no, line, "expected a device path in the first column")
        row = {}
        for index, name in enumerate(names):
            start = starts[index]
            end = starts[index + 1] if index + 1 < len(starts) else None
            if index == 0:  # device paths can be wider than the header column
                row[name] = line.split()[0]
                continue
            if end is None and last_rest:
                row[name] = line[start:].strip()
            else:
                row[name] = line[start:end].strip()
        # device longer than its column shifts nothing: mounted.ocfs2 pads to the widest device
        rows.append(row)
    return rows


def parse_mounted_detect(text: str) -> list[dict[str, Any]]:
    """Parse ``mounted.ocfs2 -d`` (1.8: Device Stack Cluster F UUID Label; 1.6: Device FS UUID Label).

    Schema: ``[{"device", "stack": str|None, "cluster": str|None, "flags": str|None,
    "uuid": "09904139B461...", "label": str|None}]``. DRBD lists the backing disk *and*
    /dev/drbdN with the same UUID: use :func:`for_device`.
    """
    rows = _columns(text, "mounted.ocfs2 -d")
    return [
        {"device": row["Device"], "stack": row.get("Stack") or None, "cluster": row.get("Cluster") or None,
         "flags": row.get("F") or None, "uuid": (row.get("UUID") or "").replace("-", "").upper() or None,
         "label": row.get("Label") or None}
        for row in rows
    ]


def parse_mounted_full(text: str) -> list[dict[str, Any]]:
    """Parse ``mounted.ocfs2 -f`` (1.8: Device Stack Cluster F Nodes; 1.6: Device FS Nodes).

    Schema: ``[{"device", "stack", "cluster", "flags", "nodes": ["node1", "node2"]}]``;
    ``Not mounted`` becomes ``[]``.
    """
    rows = _columns(text, "mounted.ocfs2 -f")
    out = []
    for row in rows:
        nodes_text = row.get("Nodes", "")
        nodes = [] if nodes_text in ("", "Not mounted") else [n.strip() for n in nodes_text.split(",") if n.strip()]
        out.append({"device": row["Device"], "stack": row.get("Stack") or None, "cluster": row.get("Cluster") or None,
                    "flags": row.get("F") or None, "nodes": nodes})
    return out


def for_device(rows: list[dict[str, Any]], device: str) -> dict[str, Any] | None:
    """Return the row of ``device`` (e.g. /dev/drbd0), not the backing disk that shares its UUID."""
    for row in rows:
        if row["device"] == device:
            return row
    return None


_STATS_KEYS = {
    "Revision": "revision", "Label": "label", "UUID": "uuid", "Cluster stack": "cluster_stack",
    "Cluster name": "cluster_name", "Max Node Slots": "max_node_slots",
}


def parse_debugfs_stats(text: str) -> dict[str, Any]:
    """Parse ``debugfs.ocfs2 -R stats DEVICE`` (superblock). It exits 0 on a non-OCFS2 device,
    so an output without ``Max Node Slots`` raises ParseError.

    Schema: ``{"revision": "0.90", "label": str|None, "uuid": "8ED4...", "max_node_slots": 2,
    "cluster_stack": "o2cb"|None, "cluster_name": str|None, "block_size": 1024,
    "cluster_size": 4096, "features": {"compat": [...], "incompat": [...], "ro_compat": [...]}}``.
    """
    raw: dict[str, str] = {}
    features: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        for part in re.split(r"\s{3,}", line):  # "Block Size Bits: 10   Cluster Size Bits: 12"
            key, sep, value = part.partition(":")
            if not sep:
                continue
            key, value = key.strip(), value.strip()
            if key.startswith("Feature "):
                words = value.split()
                kind = key[len("Feature "):].lower().replace(" ", "_")
                features[kind] = words[1:] if words and words[0].isdigit() else words
            else:
                raw.setdefault(key, value)
    if "Max Node Slots" not in raw:
        first = next((line for line in text.splitlines() if line.strip()), "")
        raise ParseError("debugfs.ocfs2 -R stats", 1, first, "no OCFS2 superblock in the output")
    tool = "debugfs.ocfs2 -R stats"
    out: dict[str, Any] = {key: (raw.get(src) or None) for src, key in _STATS_KEYS.items()}
    out["max_node_slots"] = to_int(tool, 0, f"Max Node Slots: {raw['Max Node Slots']}", raw["Max Node Slots"],
                                   "Max Node Slots")
    for key, name in (("block_size", "Block Size Bits"), ("cluster_size", "Cluster Size Bits")):
        bits = raw.get(name, "")
        if not (bits.isascii() and bits.isdigit()):
            out[key] = None
        elif len(bits) > 2 or int(bits) > 63:  # 9-12 for blocks, 12-20 for clusters: anything else is no superblock
            raise ParseError(tool, 0, f"{name}: {bits}", f"{name} out of range")
        else:
            out[key] = 1 << int(bits)
    out["features"] = {"compat": features.get("compat", []), "incompat": features.get("incompat", []),
                       "ro_compat": features.get("ro_compat", [])}
    return out


# --------------------------------------------------------------------------- format planner
def device_on(fs: Mapping[str, Any], node: str) -> str:
    """The filesystem's device on ``node`` (normalised ``devices`` per node, else ``device``)."""
    return (fs.get("devices") or {}).get(node) or fs["device"]


def plan_formatted(facts: Mapping[str, Any], fs: Mapping[str, Any], cluster_name: str | None = None,
                   overwrite: bool = False, binary: str = "mkfs.ocfs2") -> list[dict[str, Any]]:
    """Plan ``ocfs2.formatted`` from facts; pure.

    ``facts``: ``{"node": "web1", "format_node": "web1", "cluster_name": "webcluster",
    "device": "/dev/drbd0", "device_exists": True,
    "signature": {"type": "ocfs2", "label": "www", "uuid": ...} | {} (blkid),
    "drbd": <normalised DRBD resource model> | None}``.

    - Not the format node: ``[]`` (the filesystem is made exactly once, on one node).
    - Already OCFS2 with the wanted label (or no label wanted): ``[]``.
    - Any other signature: RefusedError naming the device and ``overwrite=True``
      (``hapair.parsing.require_blank``).
    - The device missing, DRBD not Primary here, or the peer not UpToDate: NotReadyError (not a
      refusal, nothing to override: formatting a device the peer does not mirror would be lost at
      the next sync; drbd.up, drbd.primary and drbd.synced bring it).
    - Else ``[{"action": "mkfs", "device", "label", "slots", "cluster_name", "argv"}]``.
    """
    device = facts.get("device") or fs["device"]
    cluster_name = cluster_name or facts.get("cluster_name")
    if not cluster_name:
        raise ValueError("plan_formatted needs the o2cb cluster name (argument or facts['cluster_name'])")
    if facts.get("node") != facts.get("format_node"):
        return []
    if facts.get("device_exists") is False:
        raise NotReadyError(device, "the DRBD resource up (the device does not exist)")
    signature = facts.get("signature") or {}
    wanted_label = fs.get("label")
    if signature.get("type") == "ocfs2" and (not wanted_label or signature.get("label") == wanted_label):
        return []
    require_blank(device, signature, overwrite)
    drbd = facts.get("drbd")
    if drbd is not None:
        _require_drbd_ready(device, drbd)
    return [{"action": "mkfs", "device": device, "label": wanted_label, "slots": int(fs.get("slots") or 2),
             "cluster_name": cluster_name,
             "argv": mkfs_argv(fs, cluster_name, binary=binary, device=device, force=bool(signature))}]


def _require_drbd_ready(device: str, drbd: Mapping[str, Any]) -> None:
    problems = []
    if drbd.get("role") != "Primary":
        problems.append(f"resource {drbd.get('name')} is {drbd.get('role') or 'not up'} here, not Primary")
    disks = [v.get("disk_state") for v in drbd.get("volumes") or []]
    if not disks or any(d != "UpToDate" for d in disks):
        problems.append(f"local disk is {'/'.join(str(d) for d in disks) or 'unknown'}, not UpToDate")
    peers = drbd.get("peers") or []
    peer_disks = [v.get("peer_disk_state") for p in peers for v in p.get("volumes") or []]
    if not peers or not peer_disks or any(d != "UpToDate" for d in peer_disks):
        problems.append(f"peer disk is {'/'.join(str(d) for d in peer_disks) or 'unknown'}, not UpToDate")
    if problems:
        raise NotReadyError(device, f"this node Primary with both disks UpToDate ({'; '.join(problems)})")


# --------------------------------------------------------------------------- mounts and boot order
def promote_unit_instance(resource: str) -> str:
    """``hapair-drbd-promote@r0.service``"""
    return PROMOTE_UNIT.replace("@.", f"@{resource}.")


def mount_unit_name(path: str) -> str:
    """systemd's path escaping (``systemd-escape -p --suffix=mount``): /vol/ocfs2-small ->
    ``vol-ocfs2\\x2dsmall.mount``."""
    path = re.sub("/+", "/", path).strip("/")
    if not path:
        return "-.mount"
    out = []
    for index, char in enumerate(path):
        if char == "/":
            out.append("-")
        elif char.isascii() and (char.isalnum() or char in ":_" or (char == "." and index > 0)):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
    return "".join(out) + ".mount"


def mount_options(fs: Mapping[str, Any]) -> list[str]:
    """The recipe's options with ``_netdev`` first and ``x-systemd.requires=`` the promote unit.

    >>> mount_options({"resource": "drbd0", "mount_options": ["noatime", "data=writeback"]})
    ['_netdev', 'noatime', 'data=writeback', 'x-systemd.requires=hapair-drbd-promote@drbd0.service']
    """
    options = ["_netdev"] + [require("token", o, "mount_options") for o in fs.get("mount_options") or []
                             if o != "_netdev"]
    if fs.get("resource"):
        requires = f"x-systemd.requires={promote_unit_instance(require('name', fs['resource'], 'resource'))}"
        options = [o for o in options if not o.startswith("x-systemd.requires=hapair-")] + [requires]
    return options


def fstab_line(fs: Mapping[str, Any]) -> str:
    """``/dev/drbd0 /vol/ocfs2-small ocfs2 _netdev,noatime,...,x-systemd.requires=... 0 0``.

    Pass 0: never fsck a cluster filesystem at boot (it may be mounted on the peer).
    """
    return fstab_fields(fs["device"], fs["mountpoint"], fs.get("type", "ocfs2"), mount_options(fs))


def fstab_fields(device: str, mountpoint: str, fstype: str, options: list[str]) -> str:
    """One fstab line (dump and pass 0) whose every field passes its whitelist (``hapair.fields``).

    fstab splits on whitespace and would read a newline as a new entry; its ``\\040`` escape is not
    needed for hapair's paths, so such values are refused rather than escaped.

    >>> fstab_fields("/dev/drbd0", "/srv", "gfs2", ["_netdev", "noatime"])
    '/dev/drbd0 /srv gfs2 _netdev,noatime 0 0'
    """
    return (f"{require('path', device, 'fstab device')} {require('path', mountpoint, 'mountpoint')} "
            f"{require('name', fstype, 'fstab type')} "
            f"{','.join(require('token', option, 'mount_options') for option in options)} 0 0")


def render_boot_units(topology: Mapping[str, Any], node: str, drbdadm: str = "/usr/sbin/drbdadm",
                      systemd_dir: str = SYSTEMD_DIR) -> dict[str, dict[str, Any]]:
    """Render the promote-before-mount units for ``node`` (replaces seed 001's rc.local script).

    One template ``hapair-drbd-promote@.service`` (oneshot ``drbdadm primary %i`` after drbd and
    o2cb), and per filesystem mounted on ``node`` a drop-in ordering the instance Before= the
    mount unit. The fstab line's ``x-systemd.requires=`` adds Requires=/After= from the mount side.
    """
    unit = "\n".join([
        "# Managed by hapair (Salt). Promote a dual-primary DRBD resource before its cluster",
        "# filesystem is mounted at boot (what seed 001 did by hand in rc.local).",
        "[Unit]",
        "Description=hapair: promote DRBD resource %i to Primary before its mounts",
        "Wants=network-online.target",
        "After=network-online.target drbd.service o2cb.service",
        "Requires=drbd.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        f"ExecStart={drbdadm} primary %i",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ])
    files = {f"{systemd_dir}/{PROMOTE_UNIT}": {"content": unit, "mode": "0644", "secret": False}}
    for name in sorted(topology.get("filesystems") or {}):
        fs = topology["filesystems"][name]
        if fs.get("type") not in ("ocfs2", "gfs2") or node not in (fs.get("mount_on") or []) or not fs.get("resource"):
            continue
        instance = promote_unit_instance(fs["resource"])
        mount_unit = mount_unit_name(fs["mountpoint"])
        path = f"{systemd_dir}/{instance}.d/hapair-before-mount.conf"
        previous = files.get(path, {}).get("content", "# Managed by hapair (Salt).\n[Unit]\n")
        files[path] = {"content": previous + f"Before={mount_unit}\n", "mode": "0644", "secret": False}
    return files


def plan_mounted(facts: Mapping[str, Any], fs: Mapping[str, Any], node: str) -> list[dict[str, Any]]:
    """Plan ``ocfs2.mounted``; pure.

    ``facts``: ``{"mounts": parse_proc_mounts(...), "fstab": [lines], "mountpoint_exists": bool}``.
    Steps, in order: ``mkdir``, ``fstab`` (replace our line for the mountpoint), ``mount``.
    Mounted elsewhere or another device on the mountpoint raises RefusedError.
    """
    if node not in (fs.get("mount_on") or []):
        return []
    steps: list[dict[str, Any]] = []
    mountpoint, device = fs["mountpoint"], device_on(fs, node)
    line = fstab_line({**fs, "device": device})
    if not facts.get("mountpoint_exists"):
        steps.append({"action": "mkdir", "path": mountpoint})
    current = [entry for entry in facts.get("fstab") or [] if _fstab_mountpoint(entry) == mountpoint]
    if current != [line]:
        steps.append({"action": "fstab", "line": line, "old": current})
    mounted = [m for m in facts.get("mounts") or [] if m["mountpoint"] == mountpoint]
    if mounted and mounted[-1]["device"] != device:
        raise RefusedError(mountpoint, f"{mounted[-1]['device']} is mounted there, not {device}",
                           "unmount it first")
    if not mounted:
        runtime = [o for o in mount_options(fs) if not o.startswith("x-systemd.")]
        steps.append({"action": "mount", "device": device, "mountpoint": mountpoint, "options": runtime})
    return steps


def _fstab_mountpoint(entry: str) -> str | None:
    parts = entry.split()
    return parts[1] if len(parts) >= 2 and not entry.lstrip().startswith("#") else None
