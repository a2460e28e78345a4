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

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "gfs2"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "gfs2.plan")


_ERRORS = (CommandExecutionError, SaltInvocationError)


def formatted(name, topology, overwrite=False):
    """Ensure filesystem ``name`` is GFS2 with its lock table (``mkfs.gfs2`` at most once).

    Changes: ``{"formatted": {"device", "lock_table", "journals"}}``. While DRBD is not ready
    (not Primary here, the peer not UpToDate) it is not ready yet: ``result: None`` under test.

    .. code-block:: yaml

        hapair-gfs2-gfs2-00-formatted:
          gfs2.formatted:
            - name: gfs2-00
            - topology: hardcore
            - overwrite: False
    """
    return converge.formatted(__salt__, "gfs2", name, topology, overwrite, test=bool(__opts__.get("test")),
                              errors=_ERRORS)


def mounted(name, topology):
    """Ensure filesystem ``name`` is mounted on this node if it is in ``mount_on``, with its boot
    order: the DRBD promote unit before the mount, an fstab line with ``_netdev`` that requires
    the promote unit and ``dlm.service``.

    Changes: ``{"units": [paths], "mkdir": path, "fstab": {"old": [...], "new": line},
    "mounted": {"old": False, "new": True, "mountpoint": "/srv/gfs2-00"}}`` (only what changed).

    .. code-block:: yaml

        hapair-gfs2-gfs2-00-mounted:
          gfs2.mounted:
            - name: gfs2-00
            - topology: hardcore
    """
    return converge.converge(
        name, None, lambda _facts: __salt__["gfs2.plan_mount"](name, topology),
        lambda _steps: __salt__["gfs2.mount"](name, topology), test=bool(__opts__.get("test")),
        done=f"{name} is mounted with its fstab line and boot order (or not mounted on this node)",
        changes=hapair.gfs2.mount_changes, applied=lambda _steps, done: hapair.gfs2.mount_changes(done),
        would=lambda steps: f"{name}: {', '.join(hapair.gfs2.mount_changes(steps))} would change",
        did=lambda steps, _done: f"{name}: {', '.join(hapair.gfs2.mount_changes(steps))} done",
        residue=lambda _steps, left: f"{name}: mounted, yet {', '.join(hapair.gfs2.mount_changes(left))} "
                                     "still differ",
        errors=_ERRORS)
