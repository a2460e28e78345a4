"""LVM backing devices for hapair's DRBD resources: the topology's ``lvm`` section made real, guarded.

``apply`` runs only the steps of the pure planner ``hapair.lvm.plan_present``: ``pvcreate`` on a
device with no signature (another signature: refused unless ``overwrite=True``), ``vgcreate`` /
``vgextend``, ``lvcreate`` of missing LVs. It never removes, shrinks or resizes anything. Binaries
from config ``hapair:bin:{pvs,vgs,lvs,pvcreate,vgcreate,vgextend,lvcreate,blkid}``.
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
        return core.plan_present(_lvm(topology), facts(topology), overwrite=overwrite, binaries=binaries)
    except RefusedError as err:
        raise CommandExecutionError(str(err))


def apply(topology, overwrite=False):
    """Create this topology's missing PVs, VGs and LVs here; returns the steps run (``[]``: none).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lvm.apply fileserver
    """
    steps = plan(topology, overwrite=adapter.flag(overwrite, "overwrite"))
    for step in steps:
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
    return steps
