"""NFS exports of a hapair topology (seed 001): ``/etc/exports.d/hapair-<topology>.exports``, nfs-server
running, ``exportfs -ra``; only for filesystems that are mounted here.

Binaries and paths from config ``hapair:bin:{exportfs}``, ``hapair:paths:{exports_dir, proc_mounts}``,
the service name from ``hapair:nfs_service`` (default ``nfs-server``).
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.nfs as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.nfs as core

from hapair import adapter
from salt.exceptions import CommandExecutionError

__virtualname__ = "hapair_nfs"


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "exportfs", "nfs-kernel-server")


def _service():
    return __salt__["config.get"]("hapair:nfs_service", "nfs-server")


def _topology(topology):
    topo, _ = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    return topo


def exported():
    """What the kernel exports now (``exportfs -s``): ``{path: [{"client", "options"}]}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_nfs.exported
    """
    return adapter.tool(__salt__, "exportfs", "-s", parser=core.parse_exportfs)


def plan(topology):
    """The exports plan for a topology on this node (see ``hapair.nfs.plan_exported``).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_nfs.plan fileserver
    """
    topo = _topology(topology)
    exports_dir = adapter.path(__salt__, "exports_dir")
    mounts = adapter.mounts(__salt__)
    wanted = core.layout(topo)
    facts = {"current": adapter.read_file(core.exports_path(topo, exports_dir)),
             "exported": exported() if __salt__["service.status"](_service()) else {},
             "mounted": [m["mountpoint"] for m in mounts], "running": __salt__["service.status"](_service()),
             "paths": {p: _path_kind(p) for p in [*wanted["directories"], *wanted["links"]]},
             "resolved": {e["path"]: os.path.realpath(e["path"]) for e in topo["nfs"]["exports"]},
             "dropin": adapter.read_file(_dropin_path(topo))}
    steps = core.plan_exported(topo, facts, exports_dir)
    steps["boot"]["path"] = _dropin_path(topo)
    return steps


def _dropin_path(topo):
    return core.boot_dropin_path(topo, _service(), adapter.path(__salt__, "systemd_dir"))


def _path_kind(path):
    """``{"kind": "missing"|"link"|"dir"|"other", "target"}`` of one path, never following a link."""
    if os.path.islink(path):
        return {"kind": "link", "target": os.readlink(path)}
    if os.path.isdir(path):
        return {"kind": "dir", "target": None}
    return {"kind": "other" if os.path.lexists(path) else "missing", "target": None}


def apply(topology):
    """Create the exports' directories and links, write the topology's exports file and the
    nfs-server drop-in that waits for the exported mounts at boot, start nfs-server (enabled at
    boot), ``exportfs -ra``.

    Raises when an export's filesystem is not mounted here. Returns the plan that was carried out.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_nfs.apply fileserver
    """
    steps = plan(topology)
    if steps["refused"]:
        raise CommandExecutionError("refusing to export: " + "; ".join(steps["refused"]))
    for directory in steps["mkdir"]:
        os.makedirs(directory, mode=0o755, exist_ok=True)  # on a cluster filesystem the peer may make it too
    for link, target in steps["link"].items():
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(target, link)
    if steps["write"]:
        adapter.install_file(steps["path"], steps["content"], "0644")
    if steps["boot"]["write"]:
        adapter.install_file(steps["boot"]["path"], steps["boot"]["content"], "0644")
        # exit 1 = no systemd running (containers, chroots): the drop-in still counts at the next boot
        adapter.run(__salt__, [adapter.binary(__salt__, "systemctl"), "daemon-reload"], ok_codes=(0, 1),
                    timeout=adapter.ACTION_TIMEOUT)
    if steps["start"]:
        __salt__["service.enable"](_service())
        if not __salt__["service.start"](_service()):
            raise CommandExecutionError(f"{_service()} did not start")
    if steps["reload"] or steps["start"]:
        adapter.run(__salt__, [adapter.binary(__salt__, "exportfs"), "-ra"], timeout=adapter.ACTION_TIMEOUT)
    return steps
