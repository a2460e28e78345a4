"""hapair_nfs state: a topology's NFS exports (seed 001), only over mounted filesystems.

.. code-block:: yaml

    hapair-nfs-exported:
      hapair_nfs.exported:
        - name: fileserver        # the topology; writes /etc/exports.d/hapair-fileserver.exports

Creates the exports' layout first (each ``nfs:links`` target and each export under a mountpoint a
directory, each link a symlink; an existing file, directory or other link at a link's path is
refused, never replaced), starts (and enables) nfs-server and runs ``exportfs -ra`` when the file
changed or a path is not exported yet, then reads the file, the service and ``exportfs -s`` again: what still differs fails
the state. Fails, changing nothing, while an export's filesystem is not mounted here.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.nfs  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.nfs  # noqa: F401

from hapair import adapter, converge
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_nfs"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_nfs.plan")


def _changes(steps):
    changes = {}
    if steps.get("mkdir"):
        changes["directories"] = list(steps["mkdir"])
    if steps.get("link"):
        changes["links"] = dict(steps["link"])
    if (steps.get("boot") or {}).get("write"):
        changes["boot_order"] = {"path": steps["boot"].get("path"), "new": steps["boot"]["content"]}
    if steps["write"]:
        changes["exports_file"] = {"path": steps["path"], "new": steps["content"]}
    if steps["start"]:
        changes["service"] = "started and enabled"
    if steps["reload"] or steps["start"]:
        changes["exportfs"] = {"missing": steps["missing"], "command": "exportfs -ra"}
    return changes


def exported(name):
    """Ensure topology ``name``'s ``nfs:exports`` are exported by this node.

    Changes: ``{"exports_file": {"path", "new"}, "service": "started and enabled", "exportfs": {...}}``.

    .. code-block:: yaml

        hapair-nfs-exported:
          hapair_nfs.exported:
            - name: fileserver
    """

    def plan(_facts):
        steps = __salt__["hapair_nfs.plan"](name)
        if steps["refused"]:
            raise HapairError("refusing to export: " + "; ".join(steps["refused"]))
        return _changes(steps)

    return converge.converge(
        name, None, plan, lambda _planned: __salt__["hapair_nfs.apply"](name), test=bool(__opts__.get("test")),
        done=f"the exports of {name} are in place", changes=dict, applied=lambda _planned, done: _changes(done),
        would=lambda _planned: f"would update the exports of {name}",
        did=lambda _planned, done: f"exports of {name} in place ({done['path']})",
        residue=lambda _planned, left: f"the exports of {name} were applied, yet {', '.join(left)} still differ",
        errors=(CommandExecutionError, SaltInvocationError))
