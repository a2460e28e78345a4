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

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "heartbeat"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "heartbeat.plan_config")


def configured(name, topology=None):
    """Ensure the heartbeat files of ``topology`` (default: ``name``) are written (authkeys 0600).

    Changes: ``{"/etc/ha.d/ha.cf": {"diff", "mode", "old_mode"}, ...}`` (secrets masked).
    """
    ret = adapter.state_result(name)
    topo = topology or name
    try:
        problems = __salt__["heartbeat.check"](topo)
        if problems:
            ret.update(result=False, comment="heartbeat config refused: " + "; ".join(problems))
            return ret
        plan = __salt__["heartbeat.plan_config"](topo)
        if not plan:
            ret["comment"] = "heartbeat config files are up to date"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes=plan, comment=f"{len(plan)} heartbeat file(s) would be written")
            return ret
        ret.update(changes=__salt__["heartbeat.write_config"](topo),
                   comment=f"{len(plan)} heartbeat file(s) written")
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret
