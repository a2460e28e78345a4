"""LXC containers on a DRBD filesystem (seed 003): created once where their resource is Primary
and mounted, their config kept, running or stopped.

.. code-block:: yaml

    hapair-lxc-c1-present:                # lxc-create -B btrfs once, only where r0 is Primary and
      hapair_lxc.present:                 # /srv/store1 mounted; elsewhere True, "not here: ..."
        - name: c1
        - lxcpath: /srv/store1/containers # <the group filesystem's mountpoint>/containers
        - template: busybox
        - backing: btrfs
        - link: null                      # null: no network (lxc.net.0.type = empty); or a bridge
        - resource: r0
    hapair-lxc-c1-running:
      hapair_lxc.running:
        - name: c1
        - lxcpath: /srv/store1/containers
        - require:
          - hapair_lxc: hapair-lxc-c1-present
    hapair-lxc-c1-stopped:                # before the filesystem is unmounted (a failover)
      hapair_lxc.stopped:
        - name: c1
        - lxcpath: /srv/store1/containers
        - timeout: 30

Each is facts -> plan -> test (``result: None``, the plan as changes: the lxc-create argv, the
config lines, the state) or apply, then the facts are read again and the plan must be empty
(``hapair.converge.converge``). On a node where the lxcpath is not mounted every state is
``result: True`` with ``"not here: ..."``: the container lives where its resource is Primary.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.lxc as core
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.lxc as core

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_lxc"
_ERRORS = (CommandExecutionError, SaltInvocationError)


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_lxc.plan_present")


def _converge(name, planned, apply, would, did):
    seen = {}

    def plan(_facts):
        seen.clear()
        seen.update(planned())
        return seen["steps"]

    return converge.converge(
        name, None, plan, lambda _steps: apply(), test=bool(__opts__.get("test")),
        done=lambda: seen.get("reason") or f"{name} is in the wanted state", changes=core.changes,
        would=would, did=lambda steps, _done: did(steps),
        residue=lambda _steps, left: f"{name}: applied, yet the plan still holds {converge.actions(left)}",
        errors=_ERRORS)


def present(name, lxcpath, template="busybox", backing="btrfs", link=None, resource=None):
    """Ensure container ``name`` exists in ``lxcpath`` with hapair's config lines (AppArmor
    unconfined, network empty or veth on ``link``, ``lxc.start.auto = 0``).

    Created once (``lxc-create -P lxcpath -n name -t template -B backing``), only where
    ``lxcpath`` is on its mounted filesystem and ``resource`` (the DRBD resource under it) is
    Primary; on a node where it is not mounted: ``result: True``, ``"not here: ..."``; mounted
    where ``resource`` is not Primary: refused. Under test the comment shows the lxc-create argv.

    Changes: ``{"container": {"old": "absent", "new": "created", "argv"}, "config": {"path",
    "old": [lines], "new": [lines]}}``.

    .. code-block:: yaml

        hapair-lxc-c1-present:
          hapair_lxc.present:
            - name: c1
            - lxcpath: /srv/store1/containers
            - resource: r0
    """
    args = (name, lxcpath, template, backing, link, resource)

    def would(steps):
        create = [step for step in steps if step["action"] == "create"]
        if create:
            return f"{name} would be created: {' '.join(create[0]['argv'])}, then its config kept"
        return f"{name}: would keep its config lines in {steps[0]['path']}"

    return _converge(name, lambda: __salt__["hapair_lxc.plan_present"](*args),
                     lambda: __salt__["hapair_lxc.create"](*args), would=would,
                     did=lambda steps: f"{name}: ran {converge.actions(steps)}")


def running(name, lxcpath, timeout=core.WAIT_TIMEOUT, resource=None):
    """Ensure container ``name`` runs where its ``lxcpath`` is mounted (``lxc-start -d``, then
    ``lxc-wait -s RUNNING -t timeout``). Not mounted here: ``result: True``, ``"not here: ..."``;
    not created yet: not ready (``None`` under test, ``False`` when applying). With ``resource``
    (the DRBD resource under lxcpath) "mounted" means on that resource's device here.

    Changes: ``{"state": {"old": "STOPPED", "new": "RUNNING"}}``.

    .. code-block:: yaml

        hapair-lxc-c1-running:
          hapair_lxc.running:
            - name: c1
            - lxcpath: /srv/store1/containers
    """
    return _converge(name, lambda: __salt__["hapair_lxc.plan_running"](name, lxcpath, timeout=timeout, resource=resource),
                     lambda: __salt__["hapair_lxc.start"](name, lxcpath, timeout=timeout, resource=resource),
                     would=lambda steps: f"{name} would be started: {' '.join(steps[0]['argv'])}",
                     did=lambda _steps: f"{name} started")


def stopped(name, lxcpath, timeout=core.STOP_TIMEOUT, resource=None):
    """Ensure container ``name`` is not running (``lxc-stop -t timeout``: a clean halt, killed after
    ``timeout`` seconds). Missing, stopped or not mounted here: ``result: True`` with the reason.

    Changes: ``{"state": {"old": "RUNNING", "new": "STOPPED"}}``.

    .. code-block:: yaml

        hapair-lxc-c1-stopped:
          hapair_lxc.stopped:
            - name: c1
            - lxcpath: /srv/store1/containers
    """
    return _converge(name, lambda: __salt__["hapair_lxc.plan_stopped"](name, lxcpath, timeout=timeout, resource=resource),
                     lambda: __salt__["hapair_lxc.stop"](name, lxcpath, timeout=timeout, resource=resource),
                     would=lambda steps: f"{name} would be stopped: {' '.join(steps[0]['argv'])}",
                     did=lambda _steps: f"{name} stopped")
