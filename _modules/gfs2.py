"""GFS2 execution module for hapair: format (guarded), inspect and mount GFS2 on DRBD.

``mkfs`` runs ``mkfs.gfs2 -O -t <cluster>:<fs> -p lock_dlm -j <journals>`` only through the pure
planner ``hapair.gfs2.plan_formatted``: never on a device holding any signature (unless
``overwrite=True``), only on the format node, and on DRBD only when this node is Primary with the
peer Connected and UpToDate. ``mount`` installs the promote-before-mount units (as OCFS2's), an
fstab line with ``_netdev`` and ``x-systemd.requires=`` the promote unit and ``dlm.service``, then
mounts. Binaries and paths from config::

    hapair:
      bin: {mkfs.gfs2: mkfs.gfs2, tunegfs2: tunegfs2, gfs2_edit: gfs2_edit, blkid: blkid, mount: mount,
            systemctl: systemctl, drbdadm: /usr/sbin/drbdadm}
      paths: {proc_mounts: /proc/mounts, fstab: /etc/fstab, systemd_dir: /etc/systemd/system}
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.gfs2 as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.gfs2 as core

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "gfs2"


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "mkfs.gfs2", "gfs2-utils")



def _load(topology, name=None):
    """(topology, gfs2 filesystem ``name`` with this node's device, node): ``adapter.load_filesystem``."""
    return adapter.load_filesystem(__salt__, __pillar__, __opts__, topology, "gfs2", name)


def topology_filesystems(topology):
    """List this minion's GFS2 filesystems in a topology, for the formula:
    ``[{"name", "device", "mountpoint", "format": bool (this node formats it), "mount": bool}]``.

    CLI Example:

    .. code-block:: bash

        salt node1 gfs2.topology_filesystems lab_gfs2
    """
    topo, _, node = _load(topology)
    return adapter.node_filesystems(topo, node, "gfs2")


def boot_unit_paths(topology):
    """The promote-before-mount unit files ``gfs2.mount`` installs on this node (for clean.sls).

    CLI Example:

    .. code-block:: bash

        salt node1 gfs2.boot_unit_paths lab_gfs2
    """
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    return sorted(_boot_units(topo, node))


def _dev_path(device):
    return device if "/" in device else f"./{device}"  # gfs2_edit needs a path with a '/'


def signature(device):
    """Return ``blkid -p -o export DEVICE`` as a dict of lower-case keys (``adapter.blkid``;
    ``{}`` when the device holds no signature): ``{"type": "gfs2", "label": ..., "uuid": ...}``.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.signature /dev/drbd0
    """
    return adapter.blkid(__salt__, device)


def info(device):
    """Return the GFS2 superblock (``tunegfs2 -l``) and journals (``gfs2_edit -p journals``).

    ``{"superblock": {"lock_table", "lock_protocol", "uuid", ...}, "journals": [...], "blocks": N}``

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.info /dev/drbd0
    """
    sb = adapter.tool(__salt__, "tunegfs2", "-l", device, parser=core.parse_tunegfs2)
    journals = adapter.tool(__salt__, "gfs2_edit", "-p", "journals", _dev_path(device), parser=core.parse_journals)
    return {"superblock": sb, "journals": journals["journals"], "blocks": journals["blocks"]}


def mounts():
    """Return the mounted GFS2 filesystems: ``[{"device", "mountpoint", "fstype", "options"}]``.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.mounts
    """
    return adapter.mounts(__salt__, "gfs2")


def facts(name, topology):
    """Return the facts the gfs2 planners use for filesystem ``name`` of a topology.

    ``{"node", "cluster_name", "device", "signature", "drbd": resource model|None, "mounts",
    "mount_on"}``.
    Reads only.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.facts gfs2-00 hardcore
    """
    topo, fs, node = _load(topology, name)
    drbd = None
    if fs.get("resource"):
        drbd = adapter.drbd_model(__salt__, fs["resource"], needed="for a filesystem on DRBD")
    return {"node": node, "cluster_name": topo["cluster"]["name"], "device": fs["device"],
            "signature": signature(fs["device"]), "drbd": drbd, "mounts": adapter.mounts(__salt__),
            "mount_on": list(fs.get("mount_on") or []), "mkfs_binary": adapter.binary(__salt__, "mkfs.gfs2"),
            "fstab": (adapter.read_file(adapter.path(__salt__, "fstab")) or "").splitlines(),
            "mountpoint_exists": bool(fs.get("mountpoint")) and os.path.isdir(fs["mountpoint"]),
            "units": {path: adapter.read_file(path) for path in _boot_units(topo, node)}}


def _boot_units(topo, node):
    return adapter.boot_units(__salt__, topo, node)


def plan(name, topology, overwrite=False):
    """Return the steps ``gfs2.mkfs`` would run (``[]`` when formatted already); reads only.

    Raises CommandExecutionError naming the device and the override when formatting is refused.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.plan gfs2-00 hardcore
    """
    _topo, fs, _node = _load(topology, name)
    try:
        return core.plan_formatted(facts(name, topology), fs, overwrite=adapter.flag(overwrite, "overwrite"))
    except HapairError as err:
        raise CommandExecutionError(str(err))


def mkfs(name, topology, overwrite=False):
    """Format GFS2 filesystem ``name`` of a topology (once, guarded; see the module docstring).

    Returns ``{"formatted": bool, "device", "lock_table", "journals", "summary": {...}}``.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.mkfs gfs2-00 hardcore
    """
    steps = plan(name, topology, overwrite=adapter.flag(overwrite, "overwrite"))
    if not steps:
        _topo, fs, _node = _load(topology, name)
        return {"formatted": False, "device": fs["device"], "lock_table": fs.get("lock_table"), "journals": None,
                "summary": {}}
    step = steps[0]
    res = adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)  # mkfs.gfs2 of a large device
    summary = {}
    try:
        summary = core.parse_mkfs(res["stdout"])
    except HapairError:
        summary = {}
    return {"formatted": True, "device": step["device"], "lock_table": step["lock_table"],
            "journals": step["journals"], "summary": summary}


def plan_mount(name, topology):
    """Return the steps ``gfs2.mount`` would run on this node (``unit``, ``mkdir``, ``fstab``,
    ``mount``; ``[]`` when all is in place or the node is not in ``mount_on``). Reads only.

    CLI Example:

    .. code-block:: bash

        salt node1 gfs2.plan_mount gfs2-00 lab_gfs2
    """
    topo, fs, node = _load(topology, name)
    if not fs.get("mountpoint"):
        raise SaltInvocationError(f"{name} has no mountpoint")
    try:
        return core.plan_mounted(facts(name, topology), fs, _boot_units(topo, node))
    except HapairError as err:
        raise CommandExecutionError(str(err))


def mount(name, topology):
    """Mount GFS2 filesystem ``name`` of a topology on this node: boot-order units, the fstab line
    (``_netdev``, after the DRBD promote unit and dlm), then ``mount -t gfs2``. Returns the steps run.

    Refuses when the device is not GFS2 with the expected lock table or the mountpoint is taken.

    CLI Example:

    .. code-block:: bash

        salt core-01 gfs2.mount gfs2-00 hardcore
    """
    steps = plan_mount(name, topology)
    fstab_path = adapter.path(__salt__, "fstab")
    systemctl = [adapter.binary(__salt__, "systemctl"), "daemon-reload"]
    for step in steps:
        if step["action"] == "unit":
            adapter.install_file(step["path"], step["content"], step["mode"])
        elif step["action"] == "mkdir":
            os.makedirs(step["path"], exist_ok=True)
        elif step["action"] == "fstab":
            adapter.replace_lines(fstab_path, step["old"], step["line"])
    if any(step["action"] in ("unit", "fstab") for step in steps):
        # systemd regenerates the mount unit from fstab; exit 1 = no systemd running (containers,
        # chroots): the files still count
        adapter.run(__salt__, systemctl, ok_codes=(0, 1), timeout=adapter.ACTION_TIMEOUT)
    for step in steps:
        if step["action"] == "mount":
            adapter.run(__salt__, [adapter.binary(__salt__, "mount"), "-t", "gfs2", "-o", ",".join(step["options"]),
                                   step["device"], step["mountpoint"]], timeout=adapter.ACTION_TIMEOUT)
    return steps
