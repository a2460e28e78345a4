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

from hapair import adapter, changes, converge
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "o2cb"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "o2cb.plan_config")


_ERRORS = (CommandExecutionError, SaltInvocationError)


def cluster_configured(name, topology=None):
    """Ensure the o2cb files of ``topology`` (default: ``name``) are installed, checked before they are.

    Changes: ``{"/etc/ocfs2/cluster.conf": {"diff": "...", "mode": "0644"}, ...}``.

    A change that needs the cluster offline (node addresses, ports, numbers, cluster name, o2cb
    timeouts; ``hapair.changes.classify_o2cb``) is refused while the cluster is online with OCFS2
    mounted here, naming ``salt-run hapair.reconfigure <topology>``: o2cb reads the files only at
    its next online, and one node re-read alone would not find its peer.

    .. code-block:: yaml

        hapair-o2cb-config-managed:
          o2cb.cluster_configured:
            - name: web
    """
    topo = topology or name

    def plan(_facts):
        check = __salt__["o2cb.check_config"](topology=topo)
        if not check["valid"]:
            raise HapairError("rendered cluster.conf refused: " + "; ".join(check["problems"]))
        planned = __salt__["o2cb.plan_config"](topo)
        if planned:
            _guard_live(topo)
        return planned

    def did(plan, written):
        note = " (the online cluster reads them at its next offline/online)" if __salt__["o2cb.cluster_status"]()[
            "online"] else ""
        return f"{len(written)} o2cb file(s) written{note}"

    return converge.converge(
        name, None, plan, lambda _plan: __salt__["o2cb.write_config"](topo), test=bool(__opts__.get("test")),
        done="o2cb config files are up to date", changes=dict, applied=lambda _plan, written: written,
        would=lambda plan: f"{len(plan)} o2cb file(s) would be written", did=did, errors=_ERRORS)


def _guard_live(topo):
    """Refuse a ``cluster-offline`` change (``hapair.changes.classify_o2cb``: node addresses, ports,
    numbers, cluster name, timeouts) while the cluster is online with OCFS2 mounted here: the next
    offline/online of one node would leave the two nodes on different clusters."""
    seen = __salt__["o2cb.change_facts"](topo)
    if seen["class"] not in changes.DISRUPTIVE or not seen["online"]:
        return
    mounted = sorted(mp for mp, m in __salt__["mount.active"]().items() if m.get("fstype") == "ocfs2")
    changes.guard(seen["changes"], {"cluster_mounted": mounted}, seen["file"] or "o2cb", topo)


def online(name, topology=None):
    """Ensure the o2cb cluster of ``topology`` (default: ``name``) is online on this node.

    Changes: ``{"online": {"old": False, "new": True}, "cluster": "webcluster"}``.

    .. code-block:: yaml

        hapair-o2cb-online:
          o2cb.online:
            - name: web
    """
    topo = topology or name

    def plan(_facts):
        steps = __salt__["o2cb.plan_online"](topo)
        if steps and steps[0]["action"] == "conflict":
            raise HapairError(steps[0]["reason"])  # another cluster is online: never papered over
        return steps

    return _switch(name, plan, online=True)


def offline(name, topology=None):
    """Ensure the o2cb cluster of ``topology`` (default: ``name``) is offline on this node (the
    init script's ``offline``; o2cb itself refuses while an OCFS2 volume is mounted, and the state
    fails with its words). ``hapair.o2cb.clean`` runs it before the service stops: the bootstrap
    brings a cluster online with the init script, which systemd's o2cb.service does not see.

    Changes: ``{"online": {"old": True, "new": False}, "cluster": "webcluster"}``.

    .. code-block:: yaml

        hapair-o2cb-offline:
          o2cb.offline:
            - name: web
    """
    topo = topology or name

    def plan(_facts):
        return __salt__["o2cb.plan_offline"](topo)

    return _switch(name, plan, online=False)


def _switch(name, plan, online):
    """``o2cb.online`` / ``o2cb.offline``: ``plan`` returns ``[]`` or ``[{"cluster": ...}]``."""
    want, was, verb = ("online", "offline", "brought online") if online else ("offline", "online", "taken offline")
    return converge.converge(
        name, None, plan, lambda steps: __salt__[f"o2cb.{want}"](steps[0]["cluster"]), test=bool(__opts__.get("test")),
        done=f"o2cb cluster is {want}",
        changes=lambda steps: {"online": {"old": not online, "new": online}, "cluster": steps[0]["cluster"]},
        would=lambda steps: f"cluster {steps[0]['cluster']} would be {verb}",
        did=lambda steps, _after: f"cluster {steps[0]['cluster']} is {want}",
        residue=lambda steps, _left: f"cluster {steps[0]['cluster']} is still {was} after '{want}'",
        errors=_ERRORS)
