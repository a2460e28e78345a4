"""Single-primary filesystems on DRBD and the one-time preparation of a heartbeat service group.

.. code-block:: yaml

    hapair-fs-data-formatted:            # mkfs.ext3 once, on the format node, only on a DRBD
      hapair_fs.formatted:               # Primary with both disks UpToDate, never over a signature
        - name: data                     # a filesystem of the topology (ext3|ext4|xfs|btrfs)
        - topology: apache
    hapair-fs-www-prepared:              # before heartbeat first starts, on the group's node:
      hapair_fs.prepared:                # promote, format, mount, rsync the relocate paths onto
        - name: www                      # the filesystem, unmount, demote; nothing while heartbeat
        - topology: apache               # runs here, the peer is Primary or someone else mounted it
        - overwrite: False

A device holding any signature is formatted only with ``overwrite: True``. Both states are
facts -> plan -> test (``result: None``, the plan as changes) or apply, then the facts are read
again and the plan must be empty (``hapair.converge.converge``).
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.localfs as core
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.localfs as core

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_fs"
_ERRORS = (CommandExecutionError, SaltInvocationError)


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_fs.plan_prepare")


def formatted(name, topology, overwrite=False):
    """Ensure filesystem ``name`` of ``topology`` holds its type (mkfs at most once, on ``format_on``).

    Changes: ``{"formatted": {"device", "type", "label", "argv"}}`` (the mkfs argv, under test too).

    .. code-block:: yaml

        hapair-fs-data-formatted:
          hapair_fs.formatted:
            - name: data
            - topology: apache
    """
    return converge.converge(
        name, None, lambda _facts: __salt__["hapair_fs.plan_format"](topology, name, overwrite=overwrite),
        lambda _steps: __salt__["hapair_fs.format"](topology, name, overwrite=overwrite),
        test=bool(__opts__.get("test")), done=f"{name} holds its filesystem (or is made on its format node)",
        changes=core.changes, would=lambda steps: f"{steps[0]['device']} would be formatted: "
                                                  f"{' '.join(steps[0]['argv'])}",
        did=lambda steps, _done: f"{steps[0]['device']} formatted as {steps[0]['type']}",
        errors=_ERRORS)


def prepared(name, topology, overwrite=False):
    """Ensure service group ``name`` of ``topology`` was prepared on its preferred node: formatted,
    each relocate path copied onto the filesystem (never over an existing copy), unmounted again.

    Nothing is done while heartbeat owns the resource (heartbeat running here, the peer Primary,
    the filesystem mounted by someone else): the comment says so. Plans that can only be finished
    once the device is Primary or mounted show the steps so far and ``"then"`` under test.

    Changes: ``hapair.localfs.changes``: ``{"role", "formatted", "mounted", "copied": {path: target}}``.

    .. code-block:: yaml

        hapair-fs-www-prepared:
          hapair_fs.prepared:
            - name: www
            - topology: apache
    """
    seen = {}

    def plan(_facts):
        seen.clear()
        seen.update(__salt__["hapair_fs.plan_prepare"](topology, name, overwrite=overwrite))
        return seen["steps"]

    return converge.converge(
        name, None, plan, lambda _steps: __salt__["hapair_fs.prepare"](topology, name, overwrite=overwrite),
        test=bool(__opts__.get("test")), done=lambda: seen.get("reason") or f"group {name} is prepared",
        changes=lambda steps: core.changes(steps, seen.get("pending", "")),
        applied=lambda _steps, done: done["changes"],
        would=lambda steps: f"group {name}: would run {converge.actions(steps)}"
                            + (f", {seen['pending']}" if seen.get("pending") else ""),
        did=lambda _steps, done: f"group {name}: ran {converge.actions(done['steps'])}",
        residue=lambda _steps, left: f"group {name}: prepared, yet the plan still holds {converge.actions(left)}",
        errors=_ERRORS)
