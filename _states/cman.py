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

``cluster_configured`` bumps config_version only when the content changed (a re-run changes
nothing); under ``test=True`` it returns ``result: None`` with the XML diff, fence passwords masked.
"""

from __future__ import annotations

import os
import time

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.cman  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.cman  # noqa: F401

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "cman"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "cman.render")


def cluster_configured(name, topology, propagate=True):
    """Manage cluster.conf (``name`` is its path) from a pillar topology.

    Changes: ``{"config_version": {"old": 3, "new": 4}, "diff": "<unified diff, passwords masked>"}``.
    """
    ret = adapter.state_result(name)
    try:
        plan = __salt__["cman.plan_config"](topology, path=name)
        if not plan["changed"]:
            ret["comment"] = f"{name} is up to date (config_version {plan['old_version']})"
            return ret
        changes = {"config_version": {"old": plan["old_version"], "new": plan["new_version"]}, "diff": plan["diff"]}
        if __opts__.get("test"):
            ret.update(result=None, changes=changes,
                       comment=f"{name} would be written with config_version {plan['new_version']}")
            return ret
        done = __salt__["cman.update_config"](topology, path=name, propagate=propagate)
        ret["changes"] = {"config_version": {"old": done["old_version"], "new": done["new_version"]},
                          "diff": done["diff"]}
        ret["comment"] = f"{name} written with config_version {done['new_version']}" + (
            ", propagated with cman_tool version -r" if done["propagated"] else "")
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret


def running(name="cman"):
    """Ensure the cman service runs and this node is a cluster member (``cman_tool status``)."""
    ret = adapter.state_result(name)
    try:
        member = _member()
        if member:
            ret["comment"] = "cman is running and this node is a cluster member"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes={"running": {"old": False, "new": True}},
                       comment=f"service {name} would be started")
            return ret
        __salt__["service.start"](name)
        member = _member()
        ret["changes"] = {"running": {"old": False, "new": member}}
        if not member:
            ret.update(result=False, comment=f"service {name} started but this node is not a cluster member")
        else:
            ret["comment"] = f"service {name} started"
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret


def _member():
    try:
        return bool(__salt__["cman.status"]().get("cluster_member"))
    except CommandExecutionError:
        return False


def _votes(status):
    return (f"{status.get('total_votes')} vote(s) of {status.get('expected_votes')} expected, "
            f"quorum {status.get('quorum')}, {status.get('nodes')} node(s)")


def quorate(name="cman", timeout=300, interval=5):
    """Wait (up to ``timeout`` seconds) until the cman cluster is quorate; reports the votes seen."""
    ret = adapter.state_result(name)
    deadline = time.monotonic() + float(timeout)
    seen = None
    try:
        while True:
            try:
                seen = __salt__["cman.status"]()
            except CommandExecutionError as err:
                seen = {"error": str(err)}
            if seen.get("quorate"):
                ret["comment"] = f"cluster {seen.get('cluster_name')} is quorate: {_votes(seen)}"
                return ret
            if __opts__.get("test"):
                ret.update(result=None, comment="cluster is not quorate yet; the state would wait up to "
                                                f"{timeout}s ({_votes(seen) if 'error' not in seen else seen['error']})")
                return ret
            if time.monotonic() >= deadline:
                break
            time.sleep(float(interval))
        what = seen["error"] if "error" in seen else _votes(seen)
        ret.update(result=False, comment=f"cluster not quorate after {timeout}s: {what}")
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret
