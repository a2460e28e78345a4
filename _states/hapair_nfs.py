"""hapair_nfs state: a topology's NFS exports (seed 001), only over mounted filesystems.

.. code-block:: yaml

    hapair-nfs-exported:
      hapair_nfs.exported:
        - name: fileserver        # the topology; writes /etc/exports.d/hapair-fileserver.exports

Starts (and enables) nfs-server and runs ``exportfs -ra`` when the file changed or a path is not
exported yet; fails, changing nothing, while an export's filesystem is not mounted here.
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

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_nfs"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_nfs.plan")


def _changes(steps):
    changes = {}
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
    """
    ret = adapter.state_result(name)
    try:
        steps = __salt__["hapair_nfs.plan"](name)
        if steps["refused"]:
            ret.update(result=False, comment="refusing to export: " + "; ".join(steps["refused"]))
            return ret
        changes = _changes(steps)
        if not changes:
            ret["comment"] = f"the exports of {name} are in place"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes=changes, comment=f"would update the exports of {name}")
            return ret
        done = __salt__["hapair_nfs.apply"](name)
        ret["changes"] = _changes(done)
        ret["comment"] = f"exports of {name} in place ({done['path']})"
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret
