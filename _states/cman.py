"""cman states for hapair (seed 004): cluster.conf, the cman service, quorum.

.. code-block:: yaml

    hapair-cman-cluster-conf-managed:
      cman.cluster_configured:
        - name: /etc/cluster/cluster.conf
        - topology: hardcore
    hapair-cman-running:
      cman.running:
        - name: cman
        - require:
          - cman: hapair-cman-cluster-conf-managed
    hapair-cman-quorate:
      cman.quorate:
        - timeout: 300
        - require:
          - cman: hapair-cman-running

``cluster_configured`` writes a changed content with the pillar's ``cluster:cman:config_version``
(the same on both nodes, whichever is applied first) and refuses a change whose pillar version is
not above the file's or is below the one cman runs, naming the number to set; a re-run changes
nothing; under ``test=True`` it returns ``result: None`` with the XML diff, fence passwords masked.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.cman  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.cman  # noqa: F401

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "cman"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "cman.render")


_ERRORS = (CommandExecutionError, SaltInvocationError)


def cluster_configured(name, topology, propagate=True):
    """Manage cluster.conf (``name`` is its path) from a pillar topology.

    Changes: ``{"config_version": {"old": 3, "new": 4}, "diff": "<unified diff, passwords masked>"}``.

    .. code-block:: yaml

        hapair-cman-cluster-conf-managed:
          cman.cluster_configured:
            - name: /etc/cluster/cluster.conf
            - topology: hardcore
    """
    seen = {}

    def plan(_facts):
        seen.update(__salt__["cman.plan_config"](topology, path=name))
        return seen if seen["changed"] else {}

    def report(plan):
        return {"config_version": {"old": plan["old_version"], "new": plan["new_version"]}, "diff": plan["diff"]}

    return converge.converge(
        name, None, plan, lambda _plan: __salt__["cman.update_config"](topology, path=name, propagate=propagate),
        test=bool(__opts__.get("test")), done=lambda: f"{name} is up to date (config_version {seen['old_version']})",
        changes=report, applied=lambda _plan, done: report(done),
        would=lambda plan: f"{name} would be written with config_version {plan['new_version']}",
        did=lambda _plan, done: f"{name} written with config_version {done['new_version']}" + (
            ", propagated with cman_tool version -r" if done["propagated"] else ""),
        errors=_ERRORS)


def running(name="cman"):
    """Ensure the cman service runs and this node is a cluster member (``cman_tool status``).

    .. code-block:: yaml

        hapair-cman-running:
          cman.running:
            - name: cman
    """
    return converge.converge(
        name, _member, lambda member: [] if member else [{"action": "start", "key": "running", "old": False,
                                                          "new": True}],
        lambda _steps: __salt__["service.start"](name), test=bool(__opts__.get("test")),
        done="cman is running and this node is a cluster member",
        would=lambda _steps: f"service {name} would be started", did=lambda _steps, _done: f"service {name} started",
        residue=lambda _steps, _left: f"service {name} started but this node is not a cluster member",
        errors=_ERRORS)


def _member():
    try:
        return bool(__salt__["cman.status"]().get("cluster_member"))
    except CommandExecutionError:
        return False


def _votes(status):
    return (f"{status.get('total_votes')} vote(s) of {status.get('expected_votes')} expected, "
            f"quorum {status.get('quorum')}, {status.get('nodes')} node(s)")


def quorate(name="cman", timeout=300, interval=5):
    """Wait (up to ``timeout`` seconds) until the cman cluster is quorate; reports the votes seen.

    Not quorate yet is ``result: None`` under test.

    .. code-block:: yaml

        hapair-cman-quorate:
          cman.quorate:
            - timeout: 300
    """
    return converge.wait_until(
        name, __salt__["cman.status"], ready=lambda seen: bool(seen.get("quorate")), seen=_votes,
        test=bool(__opts__.get("test")), timeout=timeout, interval=interval,
        done=lambda seen: f"cluster {seen.get('cluster_name')} is quorate: {_votes(seen)}", waiting="quorate",
        errors=(CommandExecutionError,))
