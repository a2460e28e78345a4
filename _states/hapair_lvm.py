"""hapair_lvm state: the LVM volumes a topology's DRBD resources sit on (seed 001's layout).

.. code-block:: yaml

    hapair-lvm-present:
      hapair_lvm.present:
        - name: fileserver        # the topology; creates its lvm: VGs and LVs where missing

Never removes or resizes; a device with another signature is refused unless ``overwrite: True``
(parsed strictly: "no" and "false" mean no); a PV of another VG, by any alias, always is. An LV
with ``filesystem`` and ``mountpoint`` (an unreplicated volume) is also formatted once (the same
override), given its mountpoint and fstab line, and mounted.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.lvm  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.lvm  # noqa: F401

from hapair import adapter, converge, fields
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_lvm"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_lvm.plan")


def present(name, overwrite=False):
    """Ensure the PVs, VGs and LVs of topology ``name``'s ``lvm`` section exist on this node.

    Changes: ``{"created": ["pvcreate /dev/vdc", "vgcreate vg0", "lvcreate /dev/vg0/rep-drbd0", ...,
    "mkfs /dev/vg0/rep-no", "mkdir /vol/rep-no", "fstab /vol/rep-no", "mount /vol/rep-no"]}``.
    After apply the reports are read again: anything still to do fails the state, naming it.

    .. code-block:: yaml

        hapair-lvm-present:
          hapair_lvm.present:
            - name: fileserver
            - overwrite: False
    """
    try:
        overwrite = fields.flag(overwrite, "overwrite")
    except HapairError as err:
        return dict(converge.result(name), result=False, comment=str(err))

    def created(steps):
        return {"created": [f"{s['action']} {s['target']}" for s in steps]}

    return converge.converge(
        name, None, lambda _facts: __salt__["hapair_lvm.plan"](name, overwrite=overwrite),
        lambda _steps: __salt__["hapair_lvm.apply"](name, overwrite=overwrite), test=bool(__opts__.get("test")),
        done=f"the LVM volumes of {name} are present", changes=created, applied=lambda _steps, done: created(done),
        would=lambda steps: "would run: " + "; ".join(" ".join(s["argv"]) if "argv" in s else
                                                      f"{s['action']} {s['target']}" for s in steps),
        did=lambda _steps, done: f"created {len(done)} LVM object(s) for {name}",
        residue=lambda _steps, left: f"the LVM volumes of {name} were created, yet the reports still show "
                                     + "; ".join(f"{s['action']} {s['target']}" for s in left) + " to do",
        errors=(CommandExecutionError, SaltInvocationError))
