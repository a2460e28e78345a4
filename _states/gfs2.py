"""GFS2 states for hapair: format once (guarded) and mount.

.. code-block:: yaml

    hapair-gfs2-gfs2-00-formatted:      # formats on the format node only, when DRBD is
      gfs2.formatted:                   # Primary there with the peer Connected/UpToDate
        - name: gfs2-00
        - topology: hardcore
    hapair-gfs2-gfs2-00-mounted:        # units + fstab (_netdev, after promote and dlm) + mount
      gfs2.mounted:
        - name: gfs2-00
        - topology: hardcore
        - require:
          - gfs2: hapair-gfs2-gfs2-00-formatted

``name`` is the filesystem key under the topology's ``filesystems``. A device holding any
signature is never formatted unless ``overwrite: True``.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.gfs2
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.gfs2

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "gfs2"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "gfs2.plan")


def formatted(name, topology, overwrite=False):
    """Ensure filesystem ``name`` is GFS2 with its lock table (``mkfs.gfs2`` at most once).

    Changes: ``{"formatted": {"device", "lock_table", "journals"}}``.
    """
    ret = adapter.state_result(name)
    try:
        steps = __salt__["gfs2.plan"](name, topology, overwrite=overwrite)
        if not steps:
            ret["comment"] = f"{name}: nothing to format here (GFS2 already, or made on its format_on node only)"
            return ret
        step = steps[0]
        changes = {"formatted": {"device": step["device"], "lock_table": step["lock_table"],
                                 "journals": step["journals"]}}
        if __opts__.get("test"):
            ret.update(result=None, changes=changes, comment=f"{step['device']} would be formatted: "
                                                             f"{' '.join(step['argv'])}")
            return ret
        done = __salt__["gfs2.mkfs"](name, topology, overwrite=overwrite)
        ret["changes"] = {"formatted": {"device": done["device"], "lock_table": done["lock_table"],
                                        "journals": done["journals"]}} if done["formatted"] else {}
        ret["comment"] = f"{done['device']} formatted as GFS2 {done['lock_table']}"
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret


def mounted(name, topology):
    """Ensure filesystem ``name`` is mounted on this node if it is in ``mount_on``, with its boot
    order: the DRBD promote unit before the mount, an fstab line with ``_netdev`` that requires
    the promote unit and ``dlm.service``.

    Changes: ``{"units": [paths], "mkdir": path, "fstab": {"old": [...], "new": line},
    "mounted": {"old": False, "new": True, "mountpoint": "/srv/gfs2-00"}}`` (only what changed).
    """
    ret = adapter.state_result(name)
    try:
        steps = __salt__["gfs2.plan_mount"](name, topology)
        if not steps:
            ret["comment"] = f"{name} is mounted with its fstab line and boot order (or not mounted on this node)"
            return ret
        changes = hapair.gfs2.mount_changes(steps)
        if __opts__.get("test"):
            ret.update(result=None, changes=changes, comment=f"{name}: {', '.join(changes)} would change")
            return ret
        done = __salt__["gfs2.mount"](name, topology)
        ret.update(changes=hapair.gfs2.mount_changes(done), comment=f"{name}: {', '.join(changes)} done")
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret
