"""o2cb states for hapair: cluster.conf + /etc/default/o2cb installed, and the cluster online.

.. code-block:: yaml

    hapair-o2cb-config-managed:
      o2cb.cluster_configured:
        - name: web                 # the topology (pillar hapair:topologies:web)
    hapair-o2cb-online:
      o2cb.online:
        - name: web
        - require:
          - o2cb: hapair-o2cb-config-managed

``cluster_configured`` renders both files, has the real o2cb parser read the rendered
cluster.conf (``o2cb --config-file=TMP list-cluster NAME``) and runs hapair's checks (duplicate
node numbers, node_count, foreign nodes: o2cb accepts those) before anything is installed.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.o2cb  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.o2cb  # noqa: F401

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "o2cb"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "o2cb.plan_config")


def cluster_configured(name, topology=None):
    """Ensure the o2cb files of ``topology`` (default: ``name``) are installed, checked before they are.

    Changes: ``{"/etc/ocfs2/cluster.conf": {"diff": "...", "mode": "0644"}, ...}``.
    """
    ret = adapter.state_result(name)
    topo = topology or name
    try:
        check = __salt__["o2cb.check_config"](topology=topo)
        if not check["valid"]:
            ret.update(result=False, comment="rendered cluster.conf refused: " + "; ".join(check["problems"]))
            return ret
        plan = __salt__["o2cb.plan_config"](topo)
        if not plan:
            ret["comment"] = "o2cb config files are up to date"
            return ret
        if __opts__.get("test"):
            ret.update(result=None, changes=plan, comment=f"{len(plan)} o2cb file(s) would be written")
            return ret
        ret["changes"] = __salt__["o2cb.write_config"](topo)
        status = __salt__["o2cb.cluster_status"]()
        note = " (the online cluster reads them at its next offline/online)" if status["online"] else ""
        ret["comment"] = f"{len(ret['changes'])} o2cb file(s) written{note}"
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret


def online(name, topology=None):
    """Ensure the o2cb cluster of ``topology`` (default: ``name``) is online on this node.

    Changes: ``{"online": {"old": False, "new": True}, "cluster": "webcluster"}``.
    """
    ret = adapter.state_result(name)
    topo = topology or name
    try:
        plan = __salt__["o2cb.plan_online"](topo)
        if not plan:
            ret["comment"] = "o2cb cluster is online"
            return ret
        step = plan[0]
        if step["action"] == "conflict":
            ret.update(result=False, comment=step["reason"])
            return ret
        changes = {"online": {"old": False, "new": True}, "cluster": step["cluster"]}
        if __opts__.get("test"):
            ret.update(result=None, changes=changes, comment=f"cluster {step['cluster']} would be brought online")
            return ret
        after = __salt__["o2cb.online"](step["cluster"])
        if not after["online"]:
            ret.update(result=False, comment=f"cluster {step['cluster']} is still offline after 'online'")
            return ret
        ret.update(changes=changes, comment=f"cluster {step['cluster']} is online")
    except (CommandExecutionError, SaltInvocationError, HapairError) as err:
        ret.update(result=False, comment=str(err), changes={})
    return ret
