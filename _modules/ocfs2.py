"""OCFS2 execution module for hapair: format (guarded), inspect, mount, and boot ordering.

``mkfs`` runs ``mkfs.ocfs2`` only through the pure planner ``hapair.ocfs2.plan_formatted``: on the
format node only, never on a device holding a signature (unless ``overwrite=True``), and on DRBD
only when this node is Primary with the peer UpToDate. ``mount`` writes an fstab line with
``_netdev``, the recipe's options and ``x-systemd.requires=hapair-drbd-promote@<res>.service``;
``install_boot_units`` installs that unit so a rebooted node promotes DRBD before it mounts.
Binaries and paths from config::

    hapair:
      bin: {mkfs.ocfs2: mkfs.ocfs2, debugfs.ocfs2: debugfs.ocfs2, mounted.ocfs2: mounted.ocfs2,
            blkid: blkid, mount: mount, drbdadm: /usr/sbin/drbdadm, systemctl: systemctl}
      paths: {proc_mounts: /proc/mounts, fstab: /etc/fstab, systemd_dir: /etc/systemd/system}
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.ocfs2 as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.ocfs2 as core

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError

__virtualname__ = "ocfs2"


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "mkfs.ocfs2", "ocfs2-tools")



def _exists(path):
    return os.path.exists(path)


def _load(topology, name=None):
    """(topology, filesystem with this node's device, node) for an ocfs2 filesystem of a topology."""
    return adapter.load_filesystem(__salt__, __pillar__, __opts__, topology, "ocfs2", name)


def topology_filesystems(topology):
    """List this minion's OCFS2 filesystems in a topology, for the formula:
    ``[{"name", "device", "mountpoint", "format": bool (this node formats it), "mount": bool}]``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.topology_filesystems web
    """
    topo, _, node = _load(topology)
    return adapter.node_filesystems(topo, node, "ocfs2")


def signature(device):
    """Return ``blkid -p -o export DEVICE`` as a dict of lower-case keys (``adapter.blkid``;
    ``{}`` when the device holds no signature): ``{"type": "gfs2", "label": ..., "uuid": ...}``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.signature /dev/drbd0
    """
    return adapter.blkid(__salt__, device)


def info(device):
    """Return label, UUID, slots and cluster of the OCFS2 volume on ``device``.

    From ``debugfs.ocfs2 -R stats`` (superblock), ``mounted.ocfs2 -d`` (the row of this very
    device, not the backing disk sharing its UUID) and ``blkid``:
    ``{"label", "uuid", "slots", "cluster_stack", "cluster_name", "block_size", "cluster_size",
    "features", "detected": row|None, "blkid": {...}}``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.info /dev/drbd0
    """
    blkid = signature(device)
    if blkid.get("type") != "ocfs2":
        raise CommandExecutionError(f"{device} holds no OCFS2 filesystem ({blkid.get('type') or 'no signature'})")
    stats = adapter.tool(__salt__, "debugfs.ocfs2", "-R", "stats", device, parser=core.parse_debugfs_stats)
    detected = adapter.tool(__salt__, "mounted.ocfs2", "-d", parser=core.parse_mounted_detect)
    return {"label": stats["label"], "uuid": stats["uuid"], "slots": stats["max_node_slots"],
            "cluster_stack": stats["cluster_stack"], "cluster_name": stats["cluster_name"],
            "block_size": stats["block_size"], "cluster_size": stats["cluster_size"],
            "features": stats["features"], "detected": core.for_device(detected, device), "blkid": blkid}


def mounted_nodes(device):
    """Return the nodes that have ``device`` mounted (``mounted.ocfs2 -f``, this device's row).

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.mounted_nodes /dev/drbd0
    """
    rows = adapter.tool(__salt__, "mounted.ocfs2", "-f", parser=core.parse_mounted_full)
    row = core.for_device(rows, device)
    return row["nodes"] if row else []


def mounts():
    """Return /proc/mounts entries of type ocfs2: ``[{"device", "mountpoint", "fstype", "options"}]``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.mounts
    """
    return adapter.mounts(__salt__, "ocfs2")


def facts(name, topology):
    """Return the facts the ocfs2 planners use for filesystem ``name`` of a topology (reads only).

    ``{"node", "format_node", "cluster_name", "device", "device_exists", "signature", "drbd": resource model|None, "mounts",
    "fstab": [lines], "mountpoint_exists"}``

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.facts www web
    """
    topo, fs, node = _load(topology, name)
    drbd = None
    if fs.get("resource"):
        drbd = adapter.drbd_model(__salt__, fs["resource"])
        if drbd is None:
            drbd = {"name": fs["resource"], "role": None, "volumes": [], "peers": []}
    fstab = (adapter.read_file(adapter.path(__salt__, "fstab")) or "").splitlines()
    exists = _exists(fs["device"])
    return {"node": node, "format_node": fs["format_on"], "cluster_name": topo["cluster"]["name"],
            "device": fs["device"],
            "device_exists": exists, "signature": signature(fs["device"]) if exists else {},
            "drbd": drbd, "mounts": adapter.mounts(__salt__), "fstab": fstab,
            "mountpoint_exists": bool(fs.get("mountpoint")) and os.path.isdir(fs["mountpoint"])}


def plan_format(name, topology, overwrite=False):
    """Return the format plan of filesystem ``name`` (``[]`` or one ``mkfs`` step with its argv).

    Raises CommandExecutionError (from the core's error, so a state still tells its kind) when the
    planner refuses (a signature without ``overwrite``) or formatting is not ready (DRBD).

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.plan_format www web
    """
    overwrite = adapter.flag(overwrite, "overwrite")
    topo, fs, _ = _load(topology, name)
    try:
        return core.plan_formatted(facts(name, topology), fs, topo["cluster"]["name"], overwrite=overwrite,
                                   binary=adapter.binary(__salt__, "mkfs.ocfs2"))
    except HapairError as err:
        raise CommandExecutionError(str(err)) from err


def mkfs(name, topology, overwrite=False):
    """Format filesystem ``name`` of a topology with mkfs.ocfs2, once, on the format node.

    Returns ``{"formatted": bool, "device", "argv", "label", "slots", "cluster_name"}``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.mkfs www web
    """
    steps = plan_format(name, topology, overwrite=adapter.flag(overwrite, "overwrite"))
    _, fs, _ = _load(topology, name)
    if not steps:
        return {"formatted": False, "device": fs["device"], "argv": None}
    step = steps[0]
    adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)  # mkfs.ocfs2 of a large device
    got = info(step["device"])
    return {"formatted": True, "device": step["device"], "argv": step["argv"], "label": got["label"],
            "slots": got["slots"], "cluster_name": got["cluster_name"]}


def plan_mount(name, topology):
    """Return the mount plan of filesystem ``name`` on this node (mkdir, fstab, mount steps).

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.plan_mount www web
    """
    _, fs, node = _load(topology, name)
    try:
        return core.plan_mounted(facts(name, topology), fs, node)
    except HapairError as err:
        raise CommandExecutionError(str(err)) from err


def mount(name, topology):
    """Mount filesystem ``name`` (fstab line with _netdev and the recipe's options, then mount).

    Returns the steps that were run.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.mount www web
    """
    steps = plan_mount(name, topology)
    fstab_path = adapter.path(__salt__, "fstab")
    for step in steps:
        if step["action"] == "mkdir":
            os.makedirs(step["path"], exist_ok=True)
        elif step["action"] == "fstab":
            adapter.replace_lines(fstab_path, step["old"], step["line"])
            # systemd regenerates the mount unit (x-systemd.requires=) from fstab;
            # exit 1 = no systemd running (containers, chroots): the fstab line still counts
            adapter.run(__salt__, [adapter.binary(__salt__, "systemctl"), "daemon-reload"], ok_codes=(0, 1),
                        timeout=adapter.ACTION_TIMEOUT)
        elif step["action"] == "mount":  # explicit, so it does not depend on which fstab was edited
            adapter.run(__salt__, [adapter.binary(__salt__, "mount"), "-t", "ocfs2", "-o", ",".join(step["options"]),
                                   step["device"], step["mountpoint"]], timeout=adapter.ACTION_TIMEOUT)
    return steps


def boot_units(topology):
    """Return the promote-before-mount systemd units for this node: ``{path: {"content", "mode"}}``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.boot_units web
    """
    topo, _, node = _load(topology)
    return adapter.boot_units(__salt__, topo, node)


def plan_boot_units(topology):
    """Return the boot unit files that differ from the rendered ones: ``{path: {"old", "new"}}``
    (the contents) plus ``adapter.plan_file``'s ``path``, ``changed``, ``action``, ``mode``,
    ``old_mode`` and ``diff``.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.plan_boot_units web
    """
    units = boot_units(topology)
    return {path: dict(plan, old=adapter.read_file(path), new=units[path]["content"])
            for path, plan in adapter.install_files(units, test=True).items() if plan["changed"]}


def install_boot_units(topology):
    """Install the promote-before-mount units and reload systemd. Returns what changed.

    CLI Example:

    .. code-block:: bash

        salt web1 ocfs2.install_boot_units web
    """
    changes = plan_boot_units(topology)
    units = boot_units(topology)
    for path in changes:
        adapter.install_file(path, units[path]["content"], units[path]["mode"])
    if changes:
        adapter.run(__salt__, [adapter.binary(__salt__, "systemctl"), "daemon-reload"], ok_codes=(0, 1), timeout=adapter.ACTION_TIMEOUT)
    return changes
