"""Whole-disk partitions for hapair's DRBD backing disks (seeds 000 and 003): the topology's
``partitions`` section made real, guarded.

``apply`` runs only the steps of the pure planner ``hapair.partition.plan_partitioned``: on a blank
disk ``parted -s -a optimal <disk> mklabel <msdos|gpt> mkpart primary 1MiB 100%`` then
``wipefs -a <partition>``; a disk with a partition table or any signature is refused unless
``overwrite=True`` (then ``wipefs -a <disk>`` first), a mounted or held disk always is. A disk
that already has the one aligned partition is left alone. Binaries from config
``hapair:bin:{lsblk,sfdisk,wipefs,parted}``; sysfs from ``hapair:paths:sys_block`` (``/sys/class/block``).
"""

from __future__ import annotations

import os
import time

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.partition as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.partition as core

from hapair import adapter
from hapair.errors import RefusedError
from salt.exceptions import CommandExecutionError

__virtualname__ = "hapair_disk"
#: seconds to wait for the kernel's partition device node after parted
PARTITION_WAIT = 10


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "parted", "parted")


def _specs(topology):
    """This node's entries of the topology's ``partitions`` section, by disk."""
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    return {disk: spec for disk, spec in sorted((topo.get("partitions") or {}).items()) if node in spec["nodes"]}


def _sys_block():
    return __salt__["config.get"]("hapair:paths:sys_block", "/sys/class/block")


def _holders(tree):
    """``{path: [holder names]}`` from sysfs for the disk and each device below it."""
    found = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or [])
        try:
            held = sorted(os.listdir(os.path.join(_sys_block(), node["name"], "holders")))
        except OSError:
            held = []
        if held:
            found[node["path"]] = held
    return found


def disk_facts(disk, partition=None):
    """What one disk holds: ``{"lsblk": tree | None (no such device), "table": sfdisk -J | None,
    "signatures": wipefs -J, "holders": {path: [names]}, "realpaths": {path: realpath}}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_disk.disk_facts /dev/sdc
    """
    paths = [p for p in (disk, partition) if p]
    real = {p: os.path.realpath(p) for p in paths}
    if not os.path.exists(disk):
        return {"lsblk": None, "table": None, "signatures": [], "holders": {}, "realpaths": real}
    tree = adapter.tool(__salt__, "lsblk", *core.LSBLK_ARGS, disk, parser=core.parse_lsblk)
    table = adapter.tool(__salt__, "sfdisk", *core.SFDISK_ARGS, disk, parser=core.parse_sfdisk,
                         ok_codes=(0, core.SFDISK_NO_TABLE))
    for row in (table or {}).get("partitions") or []:
        real[row["node"]] = os.path.realpath(row["node"])
    return {"lsblk": tree, "table": table,
            "signatures": adapter.tool(__salt__, "wipefs", *core.WIPEFS_ARGS, disk, parser=core.parse_wipefs),
            "holders": _holders(tree), "realpaths": real}


def facts(topology):
    """``{disk: disk_facts}`` for each disk of the topology's ``partitions`` this node partitions.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_disk.facts web
    """
    return {disk: disk_facts(disk, spec["partition"]) for disk, spec in _specs(topology).items()}


def plan(topology, overwrite=False):
    """The steps that would partition this node's disks of the topology (``[]``: all done).

    Raises when a disk has a table or a signature (override ``overwrite=True``), is mounted or held.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_disk.plan web
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    binaries = {tool: adapter.binary(__salt__, tool) for tool in ("parted", "wipefs")}
    steps = []
    try:
        for disk, spec in _specs(topology).items():
            steps += core.plan_partitioned(spec, disk_facts(disk, spec["partition"]), overwrite=overwrite,
                                           binaries=binaries)
    except RefusedError as err:
        raise CommandExecutionError(str(err)) from err
    return steps


def _wait_for(path):
    deadline = time.monotonic() + PARTITION_WAIT
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            raise CommandExecutionError(f"{path} did not appear within {PARTITION_WAIT} s after parted "
                                        "(is partitions:<disk>:partition the kernel's name for it?)")
        time.sleep(0.2)


def apply(topology, overwrite=False):
    """Partition this node's disks of the topology; returns the steps run (``[]``: none).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_disk.apply web overwrite=True
    """
    steps = plan(topology, overwrite=adapter.flag(overwrite, "overwrite"))
    for step in steps:
        if step["action"] == "wipe-partition":
            _wait_for(step["target"])
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
    return steps
