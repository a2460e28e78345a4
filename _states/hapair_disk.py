"""hapair_disk state: one aligned partition over each disk of a topology's ``partitions`` section.

.. code-block:: yaml

    hapair-disk-partitioned:
      hapair_disk.partitioned:
        - name: web               # the topology; partitions its disks that name this node
        - overwrite: False

A disk that already has the one aligned partition is left alone; a disk with a partition table or
a signature is refused unless ``overwrite: True`` (parsed strictly: "no" and "false" mean no); a
mounted or held disk always is. The DRBD resources on such a disk use its partition.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.partition  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.partition  # noqa: F401

from hapair import adapter, converge, fields
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_disk"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_disk.plan")


def _changes(steps):
    out = {}
    for step in steps:
        disk = step["target"] if step["action"] != "wipe-partition" else None
        if disk is not None:
            out.setdefault(disk, {"old": step["old"], "new": step["new"]})["new"] = step["new"]
    return {"partitioned": out}


def partitioned(name, overwrite=False):
    """Ensure every disk of topology ``name``'s ``partitions`` on this node has its one partition.

    Changes: ``{"partitioned": {"/dev/sdc": {"old": "blank", "new": "msdos: /dev/sdc1"}}}``.

    .. code-block:: yaml

        hapair-disk-partitioned:
          hapair_disk.partitioned:
            - name: web
    """
    try:
        overwrite = fields.flag(overwrite, "overwrite")
    except HapairError as err:
        return dict(converge.result(name), result=False, comment=str(err))
    return converge.converge(
        name, None, lambda _facts: __salt__["hapair_disk.plan"](name, overwrite=overwrite),
        lambda _steps: __salt__["hapair_disk.apply"](name, overwrite=overwrite), test=bool(__opts__.get("test")),
        done=f"the disks of {name} are partitioned", changes=_changes,
        would=lambda steps: "would run: " + "; ".join(" ".join(s["argv"]) for s in steps),
        did=lambda _steps, done: f"partitioned {len(_changes(done)['partitioned'])} disk(s) for {name}",
        errors=(CommandExecutionError, SaltInvocationError))
