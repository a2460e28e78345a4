"""LVM backing devices for DRBD (seed 001's layout): parse ``pvs``/``vgs``/``lvs`` JSON reports and
plan the volume groups and logical volumes a topology's ``lvm`` section names; pure.

The planner creates what is missing and never touches what exists: a device that carries any other
signature (blkid) is refused unless ``overwrite=True``, a physical volume that belongs to another
volume group is always refused, and an existing LV is never resized. A volume group made by the
installer (seed 001: "Pdi ... creates LVs for root and swap") is named without ``pvs``.

Unreplicated volumes (seed 001's rep-no and rep-unison) carry a filesystem of their own on each
node: :func:`plan_volumes` formats such an LV once (never over another signature unless
``overwrite=True``), makes its mountpoint, keeps its fstab line
(``/dev/mapper/vg0-rep--no /vol/rep-no ext4 noatime,nodiratime 0 2``, the seed's own) and mounts it.

Commands the adapter runs for the facts (lvm2 2.03, ``--reportformat json``)::

    pvs --reportformat json --units b --nosuffix -o pv_name,vg_name
    vgs --reportformat json --units b --nosuffix -o vg_name
    lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_size
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair.errors import ParseError, RefusedError
from hapair.fields import require
from hapair.localfs import mkfs_argv
from hapair.parsing import load_json, require_blank, to_int

#: the actions of plan_present (plan_volumes' follow them)
PRESENT_ACTIONS = ("pvcreate", "vgcreate", "vgextend", "lvcreate")
#: the filesystems an unreplicated LV may carry
LV_FS_TYPES = ("ext4", "ext3", "xfs")

PVS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,vg_name"]
VGS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name"]
LVS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name,lv_name,lv_size"]


def _report(text: str, kind: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of one ``--reportformat json`` report (``kind``: pv, vg or lv), each with ``fields``
    as strings (lvm2 prints every value as a string, ``--nosuffix`` numbers too)."""
    tool = f"{kind}s --reportformat json"
    doc = load_json(tool, text)
    try:
        rows = doc["report"][0][kind]
    except (KeyError, IndexError, TypeError) as err:
        raise ParseError(tool, 1, text[:200], f"not an lvm2 JSON report (no report[0].{kind}: {err!r})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ParseError(tool, 1, text[:200], f"report.{kind} is not a list of rows")
    for row in rows:
        missing = [f for f in fields if not isinstance(row.get(f), str)]
        if missing:
            raise ParseError(tool, 1, str(row)[:200], f"a {kind} row without a string {', '.join(missing)}")
    return rows


def parse_pvs(text: str) -> dict[str, str]:
    """``pvs`` JSON report -> ``{"/dev/vdc": "vg0", "/dev/vdd": ""}`` (``""``: a PV in no VG)."""
    return {row["pv_name"]: row["vg_name"] for row in _report(text, "pv", ("pv_name", "vg_name"))}


def parse_vgs(text: str) -> list[str]:
    """``vgs`` JSON report -> ``["vg0"]``."""
    return [row["vg_name"] for row in _report(text, "vg", ("vg_name",))]


def parse_lvs(text: str) -> dict[str, int]:
    """``lvs`` JSON report (``--units b --nosuffix``) -> ``{"vg0/rep-drbd0": 104857600}``."""
    rows = _report(text, "lv", ("vg_name", "lv_name", "lv_size"))
    tool = "lvs --reportformat json"
    return {f"{row['vg_name']}/{row['lv_name']}": to_int(tool, 1, str(row)[:200], row["lv_size"], "lv_size")
            for row in rows}


def size_args(size: str) -> list[str]:
    """lvcreate's size option for a topology size: ``"2200M"`` -> ``["-L", "2200M"]``,
    ``"50%FREE"`` -> ``["-l", "50%FREE"]``."""
    return ["-l", size] if "%" in size else ["-L", size]


def plan_present(lvm: Mapping[str, Any], facts: Mapping[str, Any], overwrite: bool = False,
                 binaries: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Steps that make the normalised ``lvm`` section true on this node; ``[]`` when it is.

    ``facts``: ``{"pvs": parse_pvs(...), "vgs": parse_vgs(...), "lvs": parse_lvs(...),
    "signatures": {device: blkid TYPE or None}, "realpaths": {path: os.path.realpath(path)}}``.
    Devices and PV names are compared by realpath, so a PV of another VG named by an alias
    (``/dev/disk/by-id/...``, ``/dev/mapper/...``, a symlink) is refused like its kernel name.
    Steps: ``{"action": "pvcreate"|"vgcreate"|"vgextend"|"lvcreate", "target", "argv"}``. Raises
    RefusedError naming the device and override.

    >>> plan_present({"vg0": {"pvs": ["/dev/disk/by-id/virtio-d2"], "lvs": {}}},
    ...              {"pvs": {"/dev/vdc": "other"}, "realpaths": {"/dev/disk/by-id/virtio-d2": "/dev/vdc"}},
    ...              overwrite=True)
    Traceback (most recent call last):
    ...
    hapair.errors.RefusedError: refusing on /dev/disk/by-id/virtio-d2: it is a physical volume of volume group other (/dev/vdc), not vg0; to proceed anyway pass nothing: name another device, or vgreduce other by hand
    """
    binary = dict({"pvcreate": "pvcreate", "vgcreate": "vgcreate", "vgextend": "vgextend",
                   "lvcreate": "lvcreate"}, **(binaries or {}))
    pvs, vgs, lvs = facts.get("pvs") or {}, set(facts.get("vgs") or ()), facts.get("lvs") or {}
    signatures = facts.get("signatures") or {}
    real = facts.get("realpaths") or {}
    owners = {real.get(pv, pv): (pv, vg) for pv, vg in pvs.items()}
    steps: list[dict[str, Any]] = []
    for vg, spec in sorted(lvm.items()):
        joining = []
        for device in spec["pvs"]:
            pv_name, owner = owners.get(real.get(device, device), (device, None))
            if owner:
                if owner != vg:
                    alias = "" if pv_name == device else f" ({pv_name})"
                    raise RefusedError(device, f"it is a physical volume of volume group {owner}{alias}, not {vg}",
                                       f"nothing: name another device, or vgreduce {owner} by hand")
                continue
            if owner is None:
                signature = signatures.get(device)
                require_blank(device, signature, overwrite)
                force = ["-ff", "--yes"] if signature else []
                steps.append({"action": "pvcreate", "target": device, "argv": [binary["pvcreate"], *force, device]})
            joining.append(device)
        if vg not in vgs and not joining:
            raise RefusedError(vg, "the volume group does not exist and lvm:" + vg + ":pvs names no device",
                               f"nothing: create {vg} by hand or list its devices at lvm:{vg}:pvs")
        if vg not in vgs:
            steps.append({"action": "vgcreate", "target": vg, "argv": [binary["vgcreate"], vg, *joining]})
        elif joining:
            steps.append({"action": "vgextend", "target": vg, "argv": [binary["vgextend"], vg, *joining]})
        for lv, lvspec in sorted(spec["lvs"].items()):
            if f"{vg}/{lv}" in lvs:
                continue
            # a new LV holds nothing of anyone's: stale signatures of a removed LV are wiped, so DRBD's
            # create-md guard does not mistake them for data
            steps.append({"action": "lvcreate", "target": lvspec["path"],
                          "argv": [binary["lvcreate"], "--yes", "--wipesignatures", "y", "-n", lv,
                                   *size_args(str(lvspec["size"])), vg]})
    return steps


def mapper_path(vg: str, lv: str) -> str:
    """The device-mapper name of an LV, as the seed's fstab lines write it (``-`` doubled).

    >>> mapper_path("vg0", "rep-no")
    '/dev/mapper/vg0-rep--no'
    """
    return f"/dev/mapper/{vg.replace('-', '--')}-{lv.replace('-', '--')}"


def fstab_line(fs: Mapping[str, Any]) -> str:
    """The fstab line of a normalised LV filesystem ``{device, mountpoint, type, mount_options}``;
    every field passes its whitelist (RenderError otherwise). fsck pass 2, as the seed.

    >>> fstab_line({"device": "/dev/mapper/vg0-rep--no", "mountpoint": "/vol/rep-no", "type": "ext4",
    ...             "mount_options": ["noatime", "nodiratime"]})
    '/dev/mapper/vg0-rep--no /vol/rep-no ext4 noatime,nodiratime 0 2'
    """
    options = ",".join(require("token", o, "mount_options") for o in fs.get("mount_options") or []) or "defaults"
    return " ".join([require("path", fs["device"], "device"), require("path", fs["mountpoint"], "mountpoint"),
                     fs["type"], options, "0", "2"])


def fstab_mounts(text: str | None) -> dict[str, list[str]]:
    r"""``{mountpoint: [lines]}`` of an fstab text (comments and blank lines left out).

    >>> fstab_mounts("# c\n/dev/a /srv ext4 defaults 0 2\nUUID=x / ext4 defaults 0 1\n")
    {'/srv': ['/dev/a /srv ext4 defaults 0 2'], '/': ['UUID=x / ext4 defaults 0 1']}
    """
    found: dict[str, list[str]] = {}
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) >= 2 and not words[0].startswith("#"):
            found.setdefault(words[1], []).append(line)
    return found


def plan_volumes(lvm: Mapping[str, Any], facts: Mapping[str, Any], overwrite: bool = False,
                 binaries: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Steps that give each LV with a ``filesystem`` its filesystem, mountpoint, fstab line and mount.

    ``facts``: ``{"lvs": parse_lvs(...), "lv_signatures": {lv path: blkid dict}, "fstab": text,
    "mounts": [{"device", "mountpoint"}] (/proc/mounts), "dirs": [existing mountpoints]}``. An LV
    not in ``lvs`` is about to be created (``lvcreate --wipesignatures y``): blank. Steps
    ``{"action": "mkfs"|"mkdir"|"fstab"|"mount", "target", ...}``: mkfs has ``argv``, fstab ``line``
    and ``old`` (the lines for that mountpoint it replaces), mount ``argv``.

    Refused: an LV with another signature (``overwrite=True``), something else mounted on the
    mountpoint (always).

    >>> spec = {"vg0": {"lvs": {"rep-no": {"name": "rep-no", "path": "/dev/vg0/rep-no", "filesystem": {
    ...     "type": "ext4", "device": "/dev/mapper/vg0-rep--no", "mountpoint": "/vol/rep-no",
    ...     "mount_options": ["noatime", "nodiratime"]}}}}}
    >>> [s["action"] for s in plan_volumes(spec, {"lvs": {}, "fstab": "", "mounts": [], "dirs": []})]
    ['mkfs', 'mkdir', 'fstab', 'mount']
    """
    binary = dict({"mount": "mount"}, **(binaries or {}))
    present = facts.get("lvs") or {}
    signatures = facts.get("lv_signatures") or {}
    fstab = fstab_mounts(facts.get("fstab"))
    mounted = {m["mountpoint"]: m["device"] for m in facts.get("mounts") or []}
    real = facts.get("realpaths") or {}
    dirs = set(facts.get("dirs") or ())
    steps: list[dict[str, Any]] = []
    for vg, spec in sorted(lvm.items()):
        for lv, lvspec in sorted(spec["lvs"].items()):
            fs = lvspec.get("filesystem")
            if not fs:
                continue
            path = lvspec["path"]
            signature = signatures.get(path, {}) if f"{vg}/{lv}" in present else {}
            if signature.get("type") != fs["type"]:
                require_blank(path, signature, overwrite, then=f"mkfs.{fs['type']} destroys it")
                steps.append({"action": "mkfs", "target": path,
                              "argv": mkfs_argv(fs, path, binary=binary.get(f"mkfs.{fs['type']}"),
                                                force=bool(signature))})
            mountpoint = fs["mountpoint"]
            if mountpoint not in dirs:
                steps.append({"action": "mkdir", "target": mountpoint})
            line = fstab_line(fs)
            if fstab.get(mountpoint) != [line]:
                steps.append({"action": "fstab", "target": mountpoint, "line": line,
                              "old": list(fstab.get(mountpoint) or [])})
            where = mounted.get(mountpoint)
            ours = {real.get(d, d) for d in (path, fs["device"])}
            if where is None:
                steps.append({"action": "mount", "target": mountpoint, "argv": [binary["mount"], mountpoint]})
            elif real.get(where, where) not in ours:
                raise RefusedError(mountpoint, f"{where} is mounted there, not {fs['device']}",
                                   f"nothing: unmount {where} from {mountpoint} first")
    return steps
