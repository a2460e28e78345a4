"""OCFS2 states for hapair: format once (guarded), mount with _netdev, promote before mount at boot.

.. code-block:: yaml

    hapair-ocfs2-boot-ordered:
      ocfs2.boot_ordered:                # hapair-drbd-promote@<res>.service + Before= drop-ins
        - name: web
    hapair-ocfs2-www-formatted:          # mkfs.ocfs2 on the format node only, when DRBD is
      ocfs2.formatted:                   # Primary there with the peer UpToDate
        - name: www
        - topology: web
    hapair-ocfs2-www-mounted:
      ocfs2.mounted:
        - name: www
        - topology: web
        - require:
          - ocfs2: hapair-ocfs2-www-formatted
          - ocfs2: hapair-ocfs2-boot-ordered

``name`` is the filesystem key under the topology's ``filesystems``. A device holding any
signature is never formatted unless ``overwrite: True``.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.ocfs2  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.ocfs2  # noqa: F401

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "ocfs2"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "ocfs2.plan_format")


_ERRORS = (CommandExecutionError, SaltInvocationError)


def formatted(name, topology, overwrite=False):
    """Ensure filesystem ``name`` is OCFS2 (``mkfs.ocfs2`` at most once, on one node).

    Changes: ``{"formatted": {"device", "label", "slots", "cluster_name"}}``.

    .. code-block:: yaml

        hapair-ocfs2-www-formatted:
          ocfs2.formatted:
            - name: www
            - topology: web
            - overwrite: False
    """
    return converge.formatted(__salt__, "ocfs2", name, topology, overwrite, test=bool(__opts__.get("test")),
                              errors=_ERRORS)


def mounted(name, topology):
    """Ensure filesystem ``name`` has its fstab line (``_netdev``, the recipe's options,
    ``x-systemd.requires=`` the promote unit) and is mounted, on the nodes in ``mount_on``.

    Changes: ``{"mkdir": path, "fstab": {"old": [...], "new": line}, "mounted": {"old": False, "new": True}}``.

    .. code-block:: yaml

        hapair-ocfs2-www-mounted:
          ocfs2.mounted:
            - name: www
            - topology: web
    """
    return converge.converge(
        name, None, lambda _facts: __salt__["ocfs2.plan_mount"](name, topology),
        lambda _steps: __salt__["ocfs2.mount"](name, topology), test=bool(__opts__.get("test")),
        done=f"{name} is mounted with its fstab line (or not mounted on this node)", changes=_mount_changes,
        applied=lambda _steps, done: _mount_changes(done),
        would=lambda steps: f"{name}: {len(steps)} step(s) would run",
        did=lambda _steps, done: f"{name}: {converge.actions(done)}",
        residue=lambda _steps, _left: f"{name}: still not converged after mounting", errors=_ERRORS)


def _mount_changes(steps):
    changes = {}
    for step in steps:
        if step["action"] == "mkdir":
            changes["mkdir"] = step["path"]
        elif step["action"] == "fstab":
            changes["fstab"] = {"old": step["old"], "new": step["line"]}
        elif step["action"] == "mount":
            changes["mounted"] = {"old": False, "new": True, "mountpoint": step["mountpoint"]}
    return changes


def boot_ordered(name, topology=None):
    """Ensure the promote-before-mount units of ``topology`` (default: ``name``) are installed here.

    ``hapair-drbd-promote@.service`` runs ``drbdadm primary %i`` after drbd and o2cb; a drop-in
    per resource orders it Before= the mount unit, and the fstab lines require it.

    Changes: ``{path: {"old": text|None, "new": text}}``.

    .. code-block:: yaml

        hapair-ocfs2-boot-ordered:
          ocfs2.boot_ordered:
            - name: web
    """
    topo = topology or name
    return converge.converge(
        name, None, lambda _facts: __salt__["ocfs2.plan_boot_units"](topo),
        lambda _plan: __salt__["ocfs2.install_boot_units"](topo), test=bool(__opts__.get("test")),
        done="boot ordering units are installed", changes=dict, applied=lambda _plan, done: done,
        would=lambda plan: f"{len(plan)} unit file(s) would be written",
        did=lambda plan, _done: f"{len(plan)} unit file(s) written", errors=_ERRORS)
