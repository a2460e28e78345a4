"""Heartbeat v1 state for hapair: ha.cf, haresources and authkeys (0600) from a topology.

.. code-block:: yaml

    hapair-heartbeat-config-managed:
      heartbeat.configured:
        - name: apache            # the topology (pillar hapair:topologies:apache)

The authkeys key never appears in changes or comments.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.heartbeat  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.heartbeat  # noqa: F401

from hapair import adapter, converge
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "heartbeat"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "heartbeat.plan_config")


def configured(name, topology=None):
    """Ensure the heartbeat files of ``topology`` (default: ``name``) are written (authkeys 0600).

    Changes: ``{"/etc/ha.d/ha.cf": {"diff", "mode", "old_mode"}, ...}`` (secrets masked).

    .. code-block:: yaml

        hapair-heartbeat-config-managed:
          heartbeat.configured:
            - name: apache
    """
    topo = topology or name

    def plan(_facts):
        problems = __salt__["heartbeat.check"](topo)
        if problems:
            raise HapairError("heartbeat config refused: " + "; ".join(problems))
        return __salt__["heartbeat.plan_config"](topo)

    return converge.converge(
        name, None, plan, lambda _plan: __salt__["heartbeat.write_config"](topo), test=bool(__opts__.get("test")),
        done="heartbeat config files are up to date", changes=dict, applied=lambda _plan, written: written,
        would=lambda plan: f"{len(plan)} heartbeat file(s) would be written",
        did=lambda plan, _written: f"{len(plan)} heartbeat file(s) written",
        errors=(CommandExecutionError, SaltInvocationError))
