"""The states one node runs in a bootstrap step, as data (``hapair.bootstrap.node_states``).

``orch.hapair.node.step`` (the orchestration's per-node SLS) and the ``hapair.drbd`` formula render
what this returns and nothing else, so both run one DRBD bring-up with one set of state IDs.
Paths from config ``hapair:paths:{corosync_conf, corosync_authkey, dlm_conf}``.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.bootstrap as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.bootstrap as core

from hapair import adapter, orchestrate
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_bootstrap"
PATHS = ("corosync_conf", "corosync_authkey", "dlm_conf")


def __virtual__():
    return __virtualname__


def plan(topology, orchestration=None):
    """The ordered bootstrap steps of ``topology`` (``hapair.bootstrap.steps``) for the orchestration.

    Returns ``{"steps": [...], "options": {...}, "error": None}``. A topology that does not
    validate gives no steps and ``invalid``: the orchestration's validation step reports it, every
    error with its pillar path. Bad ``hapair:orchestration`` options, or a topology the bootstrap
    cannot run (stack cman), give no steps and ``error``: the orchestration fails on it right after
    validation, before any minion job. Read on the master (``salt-run state.orchestrate``) from
    its pillar.

    CLI Example:

    .. code-block:: bash

        salt-call hapair_bootstrap.plan lab_web
        salt-call hapair_bootstrap.plan lab_web orchestration='{"sync_timeout": 7200}'
    """
    out = {"steps": [], "options": None, "error": None, "invalid": None}
    try:
        topo, _ = adapter.load_topology(__salt__, __pillar__, __opts__, topology, require_node=False)
    except CommandExecutionError as err:
        out["invalid"] = str(err)
        return out
    try:
        out["options"] = core.options(orchestration)
        out["steps"] = core.steps(topo, out["options"])
    except hapair.errors.HapairError as err:
        out["error"] = str(err)
    return out


def node_states(topology, step, packages=True, overwrite_data=None, connect_timeout=None, sync_timeout=None,
                groups=None):
    """The states this minion applies in bootstrap step ``step`` of ``topology``, in order.

    Returns ``[{"id", "function", "args": [{key: value}, ...]}]`` (empty: nothing to do here).
    ``step``: ``drbd-up``, ``roles-demote``, ``roles``, ``prepare``, ``heartbeat``, ``o2cb``,
    ``corosync``, ``dlm``, ``mkfs``, ``mount``, ``nfs``, ``group-format``, ``group-start``, or ``drbd`` (the
    formula's whole DRBD bring-up, with its ``overwrite_data`` and timeouts); ``group-stop`` and
    ``group-takeover`` with ``groups`` are ``hapair.failover``'s. Under stack none the states
    follow where this node sees each service group run (its own DRBD roles and mounts, the peer's
    role as DRBD reports it: ``hapair.orchestrate.placement``), so a re-run after a failover
    leaves a moved group where it runs.

    CLI Example:

    .. code-block:: bash

        salt web1 hapair_bootstrap.node_states lab_web drbd-up
        salt web1 hapair_bootstrap.node_states lab_web drbd overwrite_data=False
        salt node2 hapair_bootstrap.node_states lab_crossed group-takeover groups='[store1]'
    """
    if step not in core.NODE_STEPS:
        raise SaltInvocationError(f"unknown bootstrap step {step!r}; expected one of {', '.join(core.NODE_STEPS)}")
    packages = adapter.flag(packages, "packages")
    if overwrite_data is not None:
        overwrite_data = adapter.flag(overwrite_data, "overwrite_data")
    if groups is not None and (not isinstance(groups, list) or not all(isinstance(g, str) for g in groups)):
        raise SaltInvocationError(f"groups must be a list of group names, not {groups!r}")
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    paths = {name: adapter.path(__salt__, name) for name in PATHS}
    try:
        return core.node_states(topo, step, node, with_packages=packages, paths=paths,
                                overwrite_data=overwrite_data, connect_timeout=_seconds(connect_timeout),
                                sync_timeout=_seconds(sync_timeout), placement=_placement(topo, node, step),
                                groups=groups, os_family=_os_family())
    except (ValueError, hapair.errors.HapairError) as err:
        raise CommandExecutionError(str(err))


def _placement(topo, node, step):
    """Where this node sees each stack-none group run (``hapair.orchestrate.placement`` of its own
    view); nothing to read for other stacks, for the failover steps (they name their groups) and
    on a node without DRBD loaded yet."""
    if topo["cluster"]["stack"] != "none" or not topo["groups"] or step in core.FAILOVER_STEPS:
        return None
    if "hapair_drbd.status" not in __salt__:
        return None
    models = list((__salt__["hapair_drbd.status"]().get("resources") or {}).values())
    if not models:
        return None
    view = orchestrate.local_view(topo, node, models, __salt__["mount.active"]())
    return orchestrate.placement(topo, view) or None


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SaltInvocationError(f"a timeout must be a whole number of seconds, not {value!r}")
    return value


def _os_family():
    return (globals().get("__grains__") or {}).get("os_family") or "Debian"


def packages(component):
    """The packages of one part hapair sets up on this minion's OS family (``hapair.bootstrap.PACKAGES``,
    ``REDHAT_PACKAGES``: drbd, o2cb, gfs2, corosync, heartbeat, btrfs, xfs, relocate, lvm, nfs, ...):
    the formulas' default package list. A part the family does not have raises, saying why
    (``hapair_bootstrap.unavailable``).

    CLI Example:

    .. code-block:: bash

        salt-call hapair_bootstrap.packages corosync
    """
    try:
        return core.component_packages(component, _os_family())
    except (ValueError, hapair.errors.HapairError) as err:
        raise SaltInvocationError(str(err)) from None


def unavailable(component):
    """Why part ``component`` cannot be installed on this minion's OS family, or None (the
    formulas turn it into a failing state instead of a render error).

    CLI Example:

    .. code-block:: bash

        salt-call hapair_bootstrap.unavailable o2cb
    """
    if component not in core.PACKAGES:
        raise SaltInvocationError(f"unknown part {component!r}; expected one of {', '.join(core.PACKAGES)}")
    return core.unavailable(component, _os_family())
