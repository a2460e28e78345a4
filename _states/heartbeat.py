"""Heartbeat v1 states for hapair: the files, the groups' services left to heartbeat, the daemon.

.. code-block:: yaml

    hapair-heartbeat-config-managed:
      heartbeat.configured:
        - name: apache            # the topology (pillar hapair:topologies:apache)

    hapair-heartbeat-group-services-disabled:
      heartbeat.group_services_disabled:
        - name: apache            # apache2 & co. never start at boot: heartbeat starts them

    hapair-heartbeat-running:
      heartbeat.running:
        - name: heartbeat         # the unit: enabled at boot and running
        - require:
          - heartbeat: hapair-heartbeat-config-managed
          - heartbeat: hapair-heartbeat-group-services-disabled

The authkeys key never appears in changes or comments. ``heartbeat.running`` never restarts a
running heartbeat (a restart moves the groups): config changes take effect at its next start.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.heartbeat as core
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.heartbeat as core

from hapair import adapter, converge
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "heartbeat"
_DONE = {"enable": "enabled at boot", "start": "started"}


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "heartbeat.plan_config")


def configured(name, topology=None):
    """Ensure the heartbeat files of ``topology`` (default: ``name``) are written (authkeys 0600,
    the drbdlinks script 0755 and each relocating group's drbdlinks config). Refused, nothing
    written (under ``test=True`` too), when hapair's checks fail or a group's virtual IP does not
    fit this node: its ``ip.interface`` is missing or has no IPv4 address in the VIP's network
    (``heartbeat.vip_problems``); or when the authkeys key reached neither the pillar nor the
    master's ``hapair_secrets`` ext_pillar.

    Changes: ``{"/etc/ha.d/ha.cf": {"diff", "mode", "old_mode"}, ...}`` (secrets masked).

    .. code-block:: yaml

        hapair-heartbeat-config-managed:
          heartbeat.configured:
            - name: apache
    """
    topo = topology or name

    def plan(_facts):
        problems = __salt__["heartbeat.check"](topo) or __salt__["heartbeat.vip_problems"](topo)
        if problems:
            raise HapairError("heartbeat config refused: " + "; ".join(problems))
        return __salt__["heartbeat.plan_config"](topo)

    return converge.converge(
        name, None, plan, lambda _plan: __salt__["heartbeat.write_config"](topo), test=bool(__opts__.get("test")),
        done="heartbeat config files are up to date", changes=dict, applied=lambda _plan, written: written,
        would=lambda plan: f"{len(plan)} heartbeat file(s) would be written",
        did=lambda plan, _written: f"{len(plan)} heartbeat file(s) written",
        errors=(CommandExecutionError, SaltInvocationError))


def group_services_disabled(name, topology=None):
    """Ensure the services of ``topology``'s groups (default: ``name``) that may run on this node
    are disabled at boot: heartbeat starts them where it runs the group. While heartbeat does not
    run on this node (before its first start) a running one is stopped too; once heartbeat runs it
    is left running (heartbeat may be serving it here).

    Changes: ``{"apache2": {"old": "enabled", "new": "disabled"}, "apache2:running": {"old": True,
    "new": False}}``.

    .. code-block:: yaml

        hapair-heartbeat-group-services-disabled:
          heartbeat.group_services_disabled:
            - name: apache
    """
    topo = topology or name

    def facts():
        services = __salt__["heartbeat.group_services"](topo)
        return {"enabled": {svc: bool(__salt__["service.enabled"](svc)) for svc in services},
                "running": {svc: bool(__salt__["service.status"](svc)) for svc in services},
                "heartbeat": bool(__salt__["heartbeat.status"]().get("running"))}

    def plan(seen):
        return core.plan_services_disabled(seen["enabled"], seen["running"], seen["heartbeat"])

    def apply(steps):
        for step in steps:
            stop = step["action"].startswith("stop ")
            if not __salt__["service.stop" if stop else "service.disable"](step["service"]):
                raise CommandExecutionError(f"cannot {'stop' if stop else 'disable at boot'} {step['service']}")

    return converge.converge(
        name, facts, plan, apply, test=bool(__opts__.get("test")),
        done="the groups' services are disabled at boot (heartbeat starts them)",
        would=lambda steps: f"would {', '.join(s['action'] for s in steps)}",
        did=lambda steps, _done: ", ".join(s["action"] for s in steps),
        errors=(CommandExecutionError, SaltInvocationError))


def running(name="heartbeat", enable=True):
    """Ensure the heartbeat service ``name`` is enabled at boot (unless ``enable`` is False) and
    running, like ``service.running`` but never restarted: a restart hands the groups over.

    Changes: ``{"enabled": {"old": False, "new": True}, "running": {"old": False, "new": True}}``.

    .. code-block:: yaml

        hapair-heartbeat-running:
          heartbeat.running:
            - name: heartbeat
    """
    try:
        enable = adapter.flag(enable, "enable")
    except SaltInvocationError as err:
        return dict(converge.result(name), result=False, comment=str(err))

    def facts():
        return {"enabled": bool(__salt__["service.enabled"](name)), "running": bool(__salt__["service.status"](name))}

    def apply(steps):
        for step in steps:
            if step["action"] == "enable" and not __salt__["service.enable"](name):
                raise CommandExecutionError(f"cannot enable {name} at boot")
            if step["action"] == "start" and not __salt__["service.start"](name):
                raise CommandExecutionError(f"cannot start {name}")

    return converge.converge(
        name, facts, lambda facts: core.plan_running(facts, enable=enable), apply, test=bool(__opts__.get("test")),
        done=f"{name} is running" + (" and enabled at boot" if enable else ""),
        would=lambda steps: f"{name}: would {' and '.join(s['action'] for s in steps)}",
        did=lambda steps, _done: f"{name}: {' and '.join(_DONE[s['action']] for s in steps)}",
        errors=(CommandExecutionError, SaltInvocationError))
