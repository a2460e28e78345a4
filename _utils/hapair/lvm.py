"""LVM backing devices for DRBD (seed 001's layout): parse ``pvs``/``vgs``/``lvs`` JSON reports and
plan the volume groups and logical volumes a topology's ``lvm`` section names; pure.

The planner creates what is missing and never touches what exists: a device that carries any other
signature (blkid) is refused unless ``overwrite=True``, a physical volume that belongs to another
volume group is always refused, and an existing LV is never resized.

Commands the adapter runs for the facts (lvm2 2.03, ``--reportformat json``)::

    pvs --reportformat json --units b --nosuffix -o pv_name,vg_name
    vgs --reportformat json --units b --nosuffix -o vg_name
    lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_size
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from hapair.errors import ParseError, RefusedError

PVS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,vg_name"]
VGS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name"]
LVS_ARGS = ["--reportformat", "json", "--units", "b", "--nosuffix", "-o", "vg_name,lv_name,lv_size"]


def _report(text: str, kind: str) -> list[dict[str, str]]:
    """The rows of one ``--reportformat json`` report (``kind``: pv, vg or lv)."""
    try:
        doc = json.loads(text)
        rows = doc["report"][0][kind]
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise ParseError(f"{kind}s --reportformat json", 1, text[:200], f"not an lvm2 JSON report ({err})")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ParseError(f"{kind}s --reportformat json", 1, text[:200], f"report.{kind} is not a list of rows")
    return rows


def parse_pvs(text: str) -> dict[str, str]:
    """``pvs`` JSON report -> ``{"/dev/vdc": "vg0", "/dev/vdd": ""}`` (``""``: a PV in no VG)."""
    return {row["pv_name"]: row.get("vg_name", "") for row in _report(text, "pv")}


def parse_vgs(text: str) -> list[str]:
    """``vgs`` JSON report -> ``["vg0"]``."""
    return [row["vg_name"] for row in _report(text, "vg")]


def parse_lvs(text: str) -> dict[str, int]:
    """``lvs`` JSON report (``--units b --nosuffix``) -> ``{"vg0/rep-drbd0": 104857600}``."""
    return {f"{row['vg_name']}/{row['lv_name']}": int(row["lv_size"]) for row in _report(text, "lv")}


def size_args(size: str) -> list[str]:
    """lvcreate's size option for a topology size: ``"2200M"`` -> ``["-L", "2200M"]``,
    ``"50%FREE"`` -> ``["-l", "50%FREE"]``."""
    return ["-l", size] if "%" in size else ["-L", size]


def plan_present(lvm: Mapping[str, Any], facts: Mapping[str, Any], overwrite: bool = False,
                 binaries: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Steps that make the normalised ``lvm`` section true on this node; ``[]`` when it is.

    ``facts``: ``{"pvs": parse_pvs(...), "vgs": parse_vgs(...), "lvs": parse_lvs(...),
    "signatures": {device: blkid TYPE or None}}``. Steps: ``{"action": "pvcreate"|"vgcreate"|
    "vgextend"|"lvcreate", "target", "argv"}``. Raises RefusedError naming the device and override.
    """
    binary = dict({"pvcreate": "pvcreate", "vgcreate": "vgcreate", "vgextend": "vgextend",
                   "lvcreate": "lvcreate"}, **(binaries or {}))
    pvs, vgs, lvs = facts.get("pvs") or {}, set(facts.get("vgs") or ()), facts.get("lvs") or {}
    signatures = facts.get("signatures") or {}
    steps: list[dict[str, Any]] = []
    for vg, spec in sorted(lvm.items()):
        joining = []
        for device in spec["pvs"]:
            owner = pvs.get(device)
            if owner:
                if owner != vg:
                    raise RefusedError(device, f"it is a physical volume of volume group {owner}, not {vg}",
                                       f"nothing: name another device, or vgreduce {owner} by hand")
                continue
            if owner is None:
                signature = signatures.get(device)
                if signature and not overwrite:
                    raise RefusedError(device, f"it carries a {signature} signature (blkid)", "overwrite=True")
                force = ["-ff", "--yes"] if signature else []
                steps.append({"action": "pvcreate", "target": device, "argv": [binary["pvcreate"], *force, device]})
            joining.append(device)
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
