"""hapair_fence state: every fence device answers its own ``status`` before the cluster relies on it.

.. code-block:: yaml

    hapair-fence-checked:
      hapair_fence.checked:
        - name: lab_gfs2          # the topology (stack corosync, cluster:corosync:fencing)
        - node: node2             # optional: only the devices that fence node2

Facts: ``hapair_fence.check`` (each device's agent run with ``action=status``, arguments on stdin).
Plan: the devices that did not answer. Nothing is changed: a device that answers (power on or off)
passes; one that fails makes the state False, naming the device, the node and the agent's reason,
never the password. An agent that is not installed yet is "not ready" (None under test: the
fence-agents package may come from an earlier state).
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.fencing  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.fencing  # noqa: F401

from hapair import adapter, converge
from hapair.errors import HapairError, NotReadyError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_fence"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_fence.check")


def _seen(answer):
    how = f"power {answer['power']}" if answer["ok"] else f"FAILED: {answer['error']}"
    return f"{answer['device']} ({answer['agent']}) for {answer['node']}: {how}"


def checked(name, node=None):
    """Ask every fence device of topology ``name`` (or only those fencing ``node``) for ``status``.

    Result True when each answered; False naming each device and node that did not. No changes.

    .. code-block:: yaml

        hapair-fence-checked:
          hapair_fence.checked:
            - name: lab_gfs2
    """
    seen = {}

    def facts():
        try:
            seen["answers"] = __salt__["hapair_fence.check"](name, node=node)
        except CommandExecutionError as err:
            if "is not installed" in str(err):
                raise NotReadyError("fence check", f"the fence agent ({err})") from err
            raise
        return seen["answers"]

    def plan(answers):
        if not answers:
            raise HapairError(f"topology {name} has no fence device" + (f" for {node}" if node else "")
                              + " (cluster:corosync:fencing)")
        failed = [a for a in answers if not a["ok"]]
        if failed:
            raise HapairError("fence device(s) not usable: " + "; ".join(_seen(a) for a in failed))
        return []

    return converge.converge(
        name, facts, plan, lambda _plan: None, test=bool(__opts__.get("test")),
        done=lambda: "every fence device answered: " + "; ".join(_seen(a) for a in seen.get("answers", [])),
        changes=dict, errors=(CommandExecutionError, SaltInvocationError))
