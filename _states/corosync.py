"""corosync 3 states for hapair (the modern stack under GFS2: corosync + dlm_controld).

.. code-block:: yaml

    hapair-corosync-conf-managed:
      corosync.configured:
        - name: /etc/corosync/corosync.conf
        - topology: lab_gfs2
    hapair-corosync-authkey-managed:      # only when the topology has `authkey` (base64, secret)
      corosync.authkey_managed:
        - name: /etc/corosync/authkey
        - topology: lab_gfs2
    hapair-corosync-quorate:
      corosync.quorate:
        - timeout: 120
        - require:
          - corosync: hapair-corosync-conf-managed
    hapair-dlm-conf-managed:
      corosync.dlm_configured:
        - name: /etc/dlm/dlm.conf
        - topology: lab_gfs2

``configured`` validates the rendered file with the real ``corosync -t`` before writing it;
``dlm_configured`` refuses fencing without a fence method (the first GFS2 mount would hang).
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.corosync  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.corosync  # noqa: F401

from hapair import adapter, changes, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "corosync"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "corosync.render")


def _converge(name, check, apply, would=None):
    """Every file state here on ``hapair.converge``: ``check()`` returns ``(changes, comment)``,
    ``changes`` empty when nothing is to do (``comment`` then says so), or raises. ``would(changes)``
    is the ``test=True`` comment (default ``"<name> would be written"``)."""
    seen = {}

    def plan(_facts):
        changes, seen["comment"] = check()
        return changes

    return converge.converge(name, None, plan, lambda _changes: apply(), test=bool(__opts__.get("test")),
                             done=lambda: seen["comment"], changes=dict,
                             would=would or (lambda _changes: f"{name} would be written"),
                             did=lambda _changes, done: done,
                             errors=(CommandExecutionError, SaltInvocationError))


def configured(name, topology, reload=True):
    """Manage corosync.conf (``name`` is its path). Changes: ``{"diff": "<unified diff>"}``, and
    for a file already on disk ``"change": {"class", "changes", "steps"}`` (``hapair.changes``).

    Each difference from the file on disk is classified (``hapair.changes.classify_corosync``):
    logging and the totem timers are ``online`` (``corosync-cfgtool -R`` reloads them); anything
    else (cluster name, transport, crypto, the nodelist, quorum) is ``cluster-offline`` and is
    refused while GFS2 is mounted on this node, naming the file and
    ``salt-run hapair.reconfigure <topology>``: corosync and dlm_controld read it only when they
    start, and one node restarted alone would leave the pair on two clusters. The ``test=True``
    comment lists the class and the steps.

    .. code-block:: yaml

        hapair-corosync-conf-managed:
          corosync.configured:
            - name: /etc/corosync/corosync.conf
            - topology: lab_gfs2
    """
    seen = {}

    def check():
        planned = __salt__["corosync.plan_config"](topology, path=name)
        if not planned["changed"]:
            return {}, f"{name} is up to date"
        if __opts__.get("test"):
            verdict = __salt__["corosync.validate"](topology=topology)  # update_config checks for real
            if not verdict["valid"]:
                raise CommandExecutionError("rendered corosync.conf is invalid: " + "; ".join(verdict["errors"]))
        found = _guard_live(name, topology)
        out = {"diff": planned["diff"]}
        if found:
            out["change"] = seen["change"] = {"class": changes.worst(found),
                                              "changes": [f"{c['what']} {c['key']}: {c['class']}" for c in found],
                                              "steps": _steps(name, found)}
        return out, ""

    def apply():
        done = __salt__["corosync.update_config"](topology, path=name, reload=reload)
        return f"{name} written" + (" and reloaded" if done["reloaded"] else "")

    def would(_changes):
        change = seen.get("change")
        if not change:
            return f"{name} would be written"
        lines = [f"{name} would be written", f"{change['class']} change: " + "; ".join(change["changes"])]
        return "\n".join(lines + [f"  {i}. {what}" for i, what in enumerate(change["steps"], 1)])

    return _converge(name, check, apply, would=would)


def _steps(name, found):
    """The steps of ``found`` in an operator's words: an online-only change is this state's write and
    reload; a disruptive one ``hapair.changes.steps`` (what ``salt-run hapair.reconfigure`` runs)."""
    if changes.worst(found) == changes.ONLINE:
        return [f"write {name}", "corosync-cfgtool -R: the running corosync reloads it"]
    return [f"{s['what']} ({s['where']})" for s in changes.steps(found)]


def _guard_live(name, topology):
    """The changes from the corosync.conf on disk at ``name`` to the rendered one (``[]``: no file
    yet); RefusedError (the file, ``salt-run hapair.reconfigure``) for a ``cluster-offline`` one
    while GFS2 is mounted here."""
    found = __salt__["corosync.change_facts"](topology, path=name)["changes"]
    if changes.worst(found) in changes.DISRUPTIVE:
        mounted = sorted(mp for mp, m in __salt__["mount.active"]().items() if m.get("fstype") == "gfs2")
        changes.guard(found, {"cluster_mounted": mounted}, name, topology)
    return found


def authkey_managed(name, topology):
    """Install the topology's corosync authkey at ``name`` (root, 0400); nothing without one.

    Changes (the key itself never appears): ``{"authkey": {"old": "absent"|"different"|"mode 0644",
    "new": "installed, 256 bytes, mode 0400"}}``.
    """

    def check():
        planned = __salt__["corosync.plan_authkey"](topology, path=name)
        if not planned["managed"]:
            return {}, f"topology {topology} has no corosync authkey"
        if not planned["changed"]:
            return {}, f"{name} is installed"
        return {"authkey": {"old": planned["old"], "new": planned["new"]}}, ""

    def apply():
        __salt__["corosync.install_authkey"](topology, path=name)
        return f"{name} written"

    return _converge(name, check, apply)


def dlm_configured(name, topology):
    """Manage dlm_controld's dlm.conf (``name`` is its path). Changes: ``{"diff": "<unified diff>"}``.

    Refuses (result False) when fencing is on with no fence method. A running dlm_controld keeps
    its old settings until restarted; the comment says so.
    """

    def check():
        problems = __salt__["corosync.dlm_check"](topology)
        if problems:
            raise CommandExecutionError("; ".join(problems))
        planned = __salt__["corosync.plan_dlm_config"](topology, path=name)
        return ({"diff": planned["diff"]} if planned["changed"] else {}), f"{name} is up to date"

    def apply():
        __salt__["corosync.update_dlm_config"](topology, path=name)
        return f"{name} written (a running dlm_controld applies it at its next start)"

    return _converge(name, check, apply)


def _votes(status):
    return (f"{status.get('total_votes')} vote(s) of {status.get('expected_votes')} expected, quorum "
            f"{status.get('quorum')}, members {[m['name'] for m in status.get('members', [])]}, "
            f"flags {' '.join(status.get('flags') or [])}")


def quorate(name="corosync", timeout=120, interval=2):
    """Wait (up to ``timeout`` seconds) until votequorum reports Quorate; reports the votes seen.

    With ``two_node: 1`` (wait_for_all) a freshly started node only becomes quorate once it has
    seen its peer; after that it stays quorate alone. Not quorate yet is ``result: None`` under test.

    .. code-block:: yaml

        hapair-corosync-quorate:
          corosync.quorate:
            - timeout: 120
    """
    return converge.wait_until(
        name, __salt__["corosync.quorum_status"], ready=lambda seen: bool(seen.get("quorate")), seen=_votes,
        test=bool(__opts__.get("test")), timeout=timeout, interval=interval,
        done=lambda seen: f"quorate: {_votes(seen)}", waiting="quorate", errors=(CommandExecutionError,))
