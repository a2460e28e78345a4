"""One aligned partition over a whole disk (seeds 000 and 003), from the topology's ``partitions``
section: argv builders, parsers of the tools' real output, and a guarded planner; pure.

Seed 000 makes it with fdisk (one primary partition, first sector 2048), seed 003 with
``parted -a optimal``, ``mklabel msdos`` and one partition over the disk. hapair runs one parted
command::

    parted -s -a optimal <disk> mklabel <msdos|gpt> mkpart primary 1MiB 100%

The start is ``1MiB``, not ``0%``: parted 3.5 on a device that reports no optimal I/O size (a loop
device, some virtual disks) places ``0%`` at sector 1, misaligned (captured in
``tests/fixtures/disk/sfdisk--2.38.1-msdos-misaligned.out``); 1 MiB is fdisk's default and aligned
for every power-of-two I/O size up to it. The new partition is then cleared of stale signatures
(``wipefs -a <partition>``): it holds nothing of anyone's, and DRBD's create-md guard must not
mistake a filesystem left at that offset for data.

Facts, read by the ``hapair_disk`` execution module (util-linux 2.38)::

    lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,PTTYPE,MOUNTPOINT <disk>   # the tree: partitions, holders, mounts
    sfdisk -J <disk>                                                 # the table (exit 1: none)
    wipefs -J <disk>                                                 # signatures, read-only

Signatures come from wipefs (it probes the device), never from lsblk's FSTYPE/PTTYPE, which are
read from the udev database and are null where udev does not run (captured on the host).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from hapair.errors import ParseError, RefusedError
from hapair.fields import require
from hapair.parsing import load_json, to_int

TABLES = ("msdos", "gpt")
#: parted's label names -> what sfdisk, wipefs and blkid call them
PTTYPE = {"msdos": "dos", "gpt": "gpt"}
#: wipefs types that are partition tables (gpt's protective MBR is PMBR)
TABLE_SIGNATURES = ("dos", "gpt", "PMBR")
#: 1 MiB in 512-byte sectors: where the partition starts, and the alignment a present one must have
ALIGN_BYTES = 2**20
#: an msdos table addresses 2^32 sectors of 512 bytes
MSDOS_MAX_BYTES = 2**32 * 512

LSBLK_ARGS = ["-J", "-b", "-o", "NAME,PATH,TYPE,SIZE,FSTYPE,PTTYPE,MOUNTPOINT"]
SFDISK_ARGS = ["-J"]
WIPEFS_ARGS = ["-J"]
#: sfdisk -J exits 1 on a disk without a partition table ("does not contain a recognized partition table")
SFDISK_NO_TABLE = 1

_TRAILING_DIGIT = re.compile(r".*\d")


def partition_path(disk: str) -> str:
    """The kernel's name of partition 1 of ``disk``: ``p1`` after a name ending in a digit.

    >>> partition_path("/dev/sdb"), partition_path("/dev/nvme0n1"), partition_path("/dev/loop0")
    ('/dev/sdb1', '/dev/nvme0n1p1', '/dev/loop0p1')
    >>> partition_path("/dev/disk/by-id/virtio-data")
    '/dev/disk/by-id/virtio-data-part1'
    """
    if disk.startswith("/dev/disk/"):
        return f"{disk}-part1"  # udev's by-id / by-path links
    return f"{disk}p1" if _TRAILING_DIGIT.fullmatch(disk) else f"{disk}1"


def parted_argv(disk: str, table: str, parted: str = "parted") -> list[str]:
    """The one parted command: a new ``table`` label and one aligned partition over ``disk``.

    >>> parted_argv("/dev/sdb", "msdos")
    ['parted', '-s', '-a', 'optimal', '/dev/sdb', 'mklabel', 'msdos', 'mkpart', 'primary', '1MiB', '100%']
    """
    if table not in TABLES:
        raise ValueError(f"table {table!r} is not one of {', '.join(TABLES)}")
    return [parted, "-s", "-a", "optimal", require("path", disk, "disk"), "mklabel", table,
            "mkpart", "primary", "1MiB", "100%"]


def wipefs_argv(device: str, wipefs: str = "wipefs") -> list[str]:
    """Erase every signature wipefs finds on ``device`` (only after the planner allowed it).

    >>> wipefs_argv("/dev/sdb1")
    ['wipefs', '-a', '/dev/sdb1']
    """
    return [wipefs, "-a", require("path", device, "device")]


# ------------------------------------------------------------------------------------------ parsers
def _text(tool: str, row: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    value = row.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ParseError(tool, 1, str(row)[:200], f"{key} is not a string")
    return value


def _lsblk_node(row: Any) -> dict[str, Any]:
    tool = "lsblk -J"
    if not isinstance(row, dict):
        raise ParseError(tool, 1, str(row)[:200], "a block device that is not an object")
    size = row.get("size")
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise ParseError(tool, 1, str(row)[:200], "size is not a number (run with -b)")
    children = row.get("children") or []
    if not isinstance(children, list):
        raise ParseError(tool, 1, str(row)[:200], "children is not a list")
    return {"name": _text(tool, row, "name"), "path": _text(tool, row, "path"), "type": _text(tool, row, "type"),
            "size": size if isinstance(size, int) else to_int(tool, 1, str(row)[:200], size, "size"),
            "mountpoint": _text(tool, row, "mountpoint", required=False),
            "children": [_lsblk_node(child) for child in children]}


def parse_lsblk(text: str) -> dict[str, Any]:
    """``lsblk -J -b -o NAME,PATH,TYPE,SIZE,FSTYPE,PTTYPE,MOUNTPOINT <disk>`` -> the disk's tree::

        {"name": "loop1", "path": "/dev/loop1", "type": "loop", "size": 67108864, "mountpoint": None,
         "children": [{"name": "loop1p1", "path": "/dev/loop1p1", "type": "part", ...}]}

    Children are partitions (``type: part``) and holders (``lvm``, ``crypt``, ``raid1``...).
    FSTYPE and PTTYPE are not kept: lsblk takes them from udev, null where udev does not run.
    """
    doc = load_json("lsblk -J", text)
    devices = doc.get("blockdevices") if isinstance(doc, dict) else None
    if not isinstance(devices, list) or len(devices) != 1:
        raise ParseError("lsblk -J", 1, text[:200], "not one blockdevices entry (lsblk of one disk)")
    return _lsblk_node(devices[0])


def parse_sfdisk(text: str) -> dict[str, Any] | None:
    """``sfdisk -J <disk>`` -> ``{"label": "dos"|"gpt", "sectorsize": 512, "partitions":
    [{"node": "/dev/loop1p1", "start": 2048, "size": 129024}]}`` (sectors); None for empty output
    (sfdisk's exit 1 on a disk without a table)."""
    if not text.strip():
        return None
    tool = "sfdisk -J"
    doc = load_json(tool, text)
    table = doc.get("partitiontable") if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise ParseError(tool, 1, text[:200], "no partitiontable object")
    parts = table.get("partitions") or []
    if not isinstance(parts, list):
        raise ParseError(tool, 1, text[:200], "partitions is not a list")
    sector = table.get("sectorsize", 512)
    if not isinstance(sector, int) or isinstance(sector, bool) or sector <= 0:
        raise ParseError(tool, 1, text[:200], "sectorsize is not a positive integer")
    out = []
    for row in parts:
        if not isinstance(row, dict):
            raise ParseError(tool, 1, str(row)[:200], "a partition that is not an object")
        numbers = {k: row.get(k) for k in ("start", "size")}
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in numbers.values()):
            raise ParseError(tool, 1, str(row)[:200], "start/size are not sector counts")
        out.append({"node": _text(tool, row, "node"), **numbers})
    return {"label": _text(tool, table, "label"), "sectorsize": sector, "partitions": out}


def parse_wipefs(text: str) -> list[dict[str, Any]]:
    """``wipefs -J <device>`` (read-only) -> ``[{"type": "ext4", "offset": 1080, "label": "data",
    "uuid": "..."}]``; ``[]`` when nothing is found (``{"signatures": []}``, or no output at all)."""
    if not text.strip():
        return []
    tool = "wipefs -J"
    doc = load_json(tool, text)
    rows = doc.get("signatures") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise ParseError(tool, 1, text[:200], "no signatures list")
    out = []
    for row in rows:
        if not isinstance(row, dict):
            raise ParseError(tool, 1, str(row)[:200], "a signature that is not an object")
        offset = _text(tool, row, "offset")
        out.append({"type": _text(tool, row, "type"), "offset": to_int(tool, 1, str(row)[:200], offset, "offset", 0),
                    "label": _text(tool, row, "label", required=False),
                    "uuid": _text(tool, row, "uuid", required=False)})
    return out


# ------------------------------------------------------------------------------------------ planner
def _walk(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [node]
    for child in node.get("children") or []:
        found += _walk(child)
    return found


def layout_ok(spec: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """True when the disk holds exactly what ``spec`` asks: a ``spec["table"]`` table with one
    partition, ``spec["partition"]``, starting on a 1 MiB boundary and reaching the disk's last MiB.

    ``facts``: ``{"lsblk": parse_lsblk, "table": parse_sfdisk or None, "realpaths": {path: real}}``.
    """
    table, tree = facts.get("table"), facts.get("lsblk")
    if not table or not tree or table["label"] != PTTYPE[spec["table"]] or len(table["partitions"]) != 1:
        return False
    part = table["partitions"][0]
    real = facts.get("realpaths") or {}
    if real.get(part["node"], part["node"]) != real.get(spec["partition"], spec["partition"]):
        return False
    sector = table["sectorsize"]
    end = (part["start"] + part["size"]) * sector
    return (part["start"] * sector) % ALIGN_BYTES == 0 and end >= tree["size"] - 2 * ALIGN_BYTES


def _describe(table: Mapping[str, Any] | None, signatures: list[Mapping[str, Any]]) -> str:
    if table:
        count = len(table["partitions"])
        return f"a {table['label']} partition table with {count} partition(s)"
    kinds = sorted({s["type"] for s in signatures})
    return f"a {', '.join(kinds)} signature (wipefs)"


def plan_partitioned(spec: Mapping[str, Any], facts: Mapping[str, Any], overwrite: bool = False,
                     binaries: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Steps that give ``spec["disk"]`` one aligned ``spec["table"]`` partition; ``[]`` when it has it.

    ``spec``: a normalised ``partitions`` entry ``{"disk", "table", "partition"}``. ``facts``:
    ``{"lsblk": parse_lsblk(...) | None (no such disk), "table": parse_sfdisk(...) | None,
    "signatures": parse_wipefs(disk), "holders": {path: [holder names from sysfs]},
    "realpaths": {path: realpath}}``.

    Refused (RefusedError naming the device and the override):

    - no such block device, something of the disk mounted, or held (a device-mapper, md or other
      holder in sysfs or lsblk's tree): always (``nothing: ...``);
    - a partition table or any other signature (filesystem, LVM2_member, linux_raid_member...):
      unless ``overwrite=True``, which first erases the disk's signatures (``wipefs -a``);
    - ``msdos`` on a disk over 2 TiB: name ``table: gpt``.

    Steps ``{"action": "wipe"|"partition"|"wipe-partition", "target", "argv", "key", "old", "new"}``.

    >>> spec = {"disk": "/dev/sdb", "table": "msdos", "partition": "/dev/sdb1"}
    >>> facts = {"lsblk": {"name": "sdb", "path": "/dev/sdb", "type": "disk", "size": 2**30,
    ...                    "mountpoint": None, "children": []}, "table": None, "signatures": []}
    >>> [s["action"] for s in plan_partitioned(spec, facts)]
    ['partition', 'wipe-partition']
    >>> plan_partitioned(spec, dict(facts, signatures=[{"type": "ext4", "offset": 1080, "label": None}]))
    Traceback (most recent call last):
    ...
    hapair.errors.RefusedError: refusing on /dev/sdb: it carries a ext4 signature (wipefs); partitioning destroys it; to proceed anyway pass overwrite=True
    """
    binary = dict({"parted": "parted", "wipefs": "wipefs"}, **(binaries or {}))
    disk, table_kind, partition = spec["disk"], spec["table"], spec["partition"]
    tree = facts.get("lsblk")
    if not tree:
        raise RefusedError(disk, "there is no such block device", f"nothing: attach the disk or fix partitions:{disk}")
    if layout_ok(spec, facts):
        return []
    nodes = _walk(tree)
    mounted = [n for n in nodes if n.get("mountpoint")]
    if mounted:
        where = ", ".join(f"{n['path']} on {n['mountpoint']}" for n in mounted)
        raise RefusedError(disk, f"it is in use: {where} is mounted", "nothing: unmount it and check it holds nothing")
    held = sorted({f"{n['path']} by {h}" for n in nodes for h in (facts.get("holders") or {}).get(n["path"], [])}
                  | {f"{n['path']} by {c['name']}" for n in nodes for c in n.get("children") or []
                     if c.get("type") != "part"})
    if held:
        raise RefusedError(disk, f"it is in use: {', '.join(held)}",
                           "nothing: stop the holder (vgchange -an, mdadm --stop, dmsetup remove) first")
    if table_kind == "msdos" and tree["size"] > MSDOS_MAX_BYTES:
        raise RefusedError(disk, f"an msdos table addresses 2 TiB and the disk is {tree['size']} bytes",
                           f"table: gpt at partitions:{disk}")
    table, signatures = facts.get("table"), list(facts.get("signatures") or [])
    steps: list[dict[str, Any]] = []
    old = "blank"
    if table or signatures:
        old = _describe(table, signatures)
        if not overwrite:
            verb = "has" if table else "carries"
            raise RefusedError(disk, f"it {verb} {old}; partitioning destroys it", "overwrite=True")
        steps.append({"action": "wipe", "target": disk, "argv": wipefs_argv(disk, binary["wipefs"]),
                      "key": "partition", "old": old, "new": "blank"})
    steps.append({"action": "partition", "target": disk, "argv": parted_argv(disk, table_kind, binary["parted"]),
                  "key": "partition", "old": old, "new": f"{table_kind}: {partition}"})
    steps.append({"action": "wipe-partition", "target": partition, "argv": wipefs_argv(partition, binary["wipefs"]),
                  "key": "partition", "old": old, "new": f"{table_kind}: {partition}"})
    return steps
