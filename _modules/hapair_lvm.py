"""LVM backing devices for hapair's DRBD resources: the topology's ``lvm`` section made real, guarded.

``apply`` runs only the steps of the pure planners ``hapair.lvm.plan_present``: ``pvcreate`` on a
device with no signature (another signature: refused unless ``overwrite=True``), ``vgcreate`` /
``vgextend``, ``lvcreate`` of missing LVs; then ``hapair.lvm.plan_volumes`` for the unreplicated
LVs (``filesystem`` + ``mountpoint``): mkfs once (never over another signature unless
``overwrite=True``), the mountpoint, the fstab line, the mount. It never removes, shrinks or
resizes anything. Binaries from config
``hapair:bin:{pvs,vgs,lvs,pvcreate,vgcreate,vgextend,lvcreate,blkid,mount,mkfs.ext4,...}``; the fstab
is ``hapair:paths:fstab``.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.lvm as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.lvm as core

from hapair import adapter
from hapair.errors import RefusedError
from hapair.parsing import blkid_kind
from salt.exceptions import CommandExecutionError

__virtualname__ = "hapair_lvm"
TOOLS = ("pvcreate", "vgcreate", "vgextend", "lvcreate")


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "lvcreate", "lvm2")


def _lvm(topology):
    topo, _ = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    return topo.get("lvm") or {}



def facts(topology):
    """What LVM holds on this node for a topology's ``lvm`` section: ``{"pvs": {device: vg},
    "vgs": [...], "lvs": {"vg/lv": bytes}, "signatures": {device: blkid TYPE or None},
    "realpaths": {path: realpath}}`` (the topology's devices and every PV, so aliases compare).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lvm.facts fileserver
    """
    devices = sorted({d for spec in _lvm(topology).values() for d in spec["pvs"]})
    signatures = {}
    for device in devices:
        signatures[device] = blkid_kind(adapter.blkid(__salt__, device))
    pvs = adapter.tool(__salt__, "pvs", *core.PVS_ARGS, parser=core.parse_pvs)
    return {"pvs": pvs,
            "vgs": adapter.tool(__salt__, "vgs", *core.VGS_ARGS, parser=core.parse_vgs),
            "lvs": adapter.tool(__salt__, "lvs", *core.LVS_ARGS, parser=core.parse_lvs),
            "signatures": signatures,
            "realpaths": {path: os.path.realpath(path) for path in sorted({*devices, *pvs})}}


def _volumes(lvm):
    return [(vg, lv, spec["filesystem"]) for vg, group in sorted(lvm.items())
            for lv, spec in sorted(group["lvs"].items()) if spec.get("filesystem")]


def volume_facts(topology):
    """What the unreplicated LVs of a topology hold here: ``{"lvs": {"vg/lv": bytes}, "lv_signatures":
    {path: blkid}, "fstab": text, "mounts": [...], "dirs": [existing mountpoints], "realpaths": {...}}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lvm.volume_facts fileserver
    """
    lvm = _lvm(topology)
    volumes = _volumes(lvm)
    lvs = adapter.tool(__salt__, "lvs", *core.LVS_ARGS, parser=core.parse_lvs) if volumes else {}
    signatures, paths = {}, set()
    for vg, lv, fs in volumes:
        path = lvm[vg]["lvs"][lv]["path"]
        paths.update((path, fs["device"]))
        if f"{vg}/{lv}" in lvs:
            signatures[path] = adapter.blkid(__salt__, path)
    mounts = adapter.mounts(__salt__)
    paths.update(m["device"] for m in mounts if m["device"].startswith("/dev/"))
    return {"lvs": lvs, "lv_signatures": signatures, "fstab": adapter.read_file(adapter.path(__salt__, "fstab")),
            "mounts": mounts, "dirs": [fs["mountpoint"] for _vg, _lv, fs in volumes if os.path.isdir(fs["mountpoint"])],
            "realpaths": {p: os.path.realpath(p) for p in sorted(paths)}}


def _plan_volumes(topology, overwrite):
    binaries = {"mount": adapter.binary(__salt__, "mount")}
    binaries.update({f"mkfs.{t}": adapter.binary(__salt__, f"mkfs.{t}") for t in core.LV_FS_TYPES})
    try:
        return core.plan_volumes(_lvm(topology), volume_facts(topology), overwrite=overwrite, binaries=binaries)
    except RefusedError as err:
        raise CommandExecutionError(str(err)) from err


def plan(topology, overwrite=False):
    """The steps that would create this topology's missing PVs, VGs and LVs here (``[]``: none).

    Raises when a device carries another signature (override ``overwrite=True``) or is a PV of
    another volume group.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lvm.plan fileserver
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    binaries = {tool: adapter.binary(__salt__, tool) for tool in TOOLS}
    try:
        steps = core.plan_present(_lvm(topology), facts(topology), overwrite=overwrite, binaries=binaries)
    except RefusedError as err:
        raise CommandExecutionError(str(err))
    return steps + _plan_volumes(topology, overwrite)


def _run_volume_step(step):
    if step["action"] == "mkdir":
        try:
            os.makedirs(step["target"], mode=0o755, exist_ok=True)
        except OSError as err:
            raise CommandExecutionError(f"cannot create {step['target']}: {err.strerror}")
    elif step["action"] == "fstab":
        adapter.replace_lines(adapter.path(__salt__, "fstab"), step["old"], step["line"])
    else:
        timeout = adapter.LONG_TIMEOUT if step["action"] == "mkfs" else adapter.ACTION_TIMEOUT
        adapter.run(__salt__, step["argv"], timeout=timeout)


def apply(topology, overwrite=False):
    """Create this topology's missing PVs, VGs and LVs here; returns the steps run (``[]``: none).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lvm.apply fileserver
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    steps = [s for s in plan(topology, overwrite=overwrite) if s["action"] in core.PRESENT_ACTIONS]
    for step in steps:
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
    volumes = _plan_volumes(topology, overwrite)  # the new LVs read again: blank, or refused
    for step in volumes:
        _run_volume_step(step)
    left = plan(topology, overwrite=overwrite)
    if left:
        raise CommandExecutionError("after " + "; ".join(f"{s['action']} {s['target']}" for s in steps + volumes)
                                    + " still to do: " + "; ".join(f"{s['action']} {s['target']}" for s in left))
    return steps + volumes
