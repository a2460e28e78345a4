"""DRBD resource and role states for hapair: facts, a pure plan, then test or apply.

Seed 000 (two web nodes, r0 dual-primary under OCFS2), applied on both nodes with
``state.apply hapair.drbd pillar='{"topology": "web"}'``:

.. code-block:: yaml

    hapair-drbd-r0-configured:
      drbd.configured:
        - name: r0
        - topology: web
    hapair-drbd-r0-metadata-created:
      drbd.metadata_created:
        - name: r0
        - topology: web
    hapair-drbd-r0-up:
      drbd.up:
        - name: r0
        - topology: web
    hapair-drbd-r0-connected:
      drbd.connected:
        - name: r0
        - topology: web
        - timeout: 120
    hapair-drbd-r0-initial-sync:     # primary --force on initial_primary only, once, recorded
      drbd.initial_sync:
        - name: r0
        - topology: web
    hapair-drbd-r0-synced:           # waits, firing hapair/drbd/r0/sync progress events
      drbd.synced:
        - name: r0
        - topology: web
        - timeout: 3600
    hapair-drbd-r0-dual-primary:     # refused without an ocfs2/gfs2 filesystem on r0
      drbd.dual_primary:
        - name: r0
        - topology: web

After a disk failure (``on-io-error detach``: the node is Diskless and serves through its peer),
once the disk is replaced or repaired, on that node only (docs/disk-failure.md):

.. code-block:: yaml

    hapair-drbd-r0-attached:         # refused unless Diskless, the peer Connected/UpToDate, the disk
      drbd.attached:                 # present with DRBD metadata (a blank one: drbd.create_md first)
        - name: r0
        - topology: web
    hapair-drbd-r0-resynced:         # the resync is DRBD's own; this waits for it
      drbd.synced:
        - name: r0
        - topology: web
        - timeout: 3600
        - require:
          - drbd: hapair-drbd-r0-attached

Every state takes ``name`` (the DRBD resource) and ``topology`` (the pillar topology under
``hapair:topologies``); this minion's node is the one whose ``minion_id`` is the minion id.
Under ``test=True`` a state returns ``result: None`` with the planned changes and runs nothing
that changes state; a second run reports no changes. Shared secrets never appear in returns.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.drbd_plan as plan
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.drbd_plan as plan

from hapair import adapter, changes, converge, fields
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "drbd"
__virtual_aliases__ = ("hapair_drbd",)  # ``hapair_drbd.configured`` works too (docs/drbd-name.md)


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "drbd.facts")


def _load(topology):
    """Return (normalised topology, this minion's node name)."""
    return adapter.load_topology(__salt__, __pillar__, __opts__, topology)


def _resource(topo, name):
    try:
        return topo["drbd"]["resources"][name]
    except KeyError:
        raise SaltInvocationError(f"resource {name} is not in topology {topo.get('name')}")


def _facts(name, res, node, probe_gi=False):
    nres = res["nodes"][node]
    return __salt__["hapair_drbd.facts"](name, disk=nres.get("disk"), node=node, probe_gi=probe_gi)


def _run(name, topology, planner, runner, done_comment, would=None, **kwargs):
    """Shared body: load the topology, then ``hapair.converge``: facts and plan, test or apply."""
    ctx = {}

    def facts():
        if not ctx:
            topo, node = _load(topology)
            ctx.update(topo=topo, node=node, res=_resource(topo, name))
        return ctx

    def apply(steps):
        for item in steps:
            runner(item, ctx["topo"], ctx["node"], ctx["res"], **kwargs)

    return converge.converge(
        name, facts, lambda c: planner(c["topo"], c["node"], c["res"]), apply, test=bool(__opts__.get("test")),
        done=done_comment, would=would, changes=plan.changes, errors=(CommandExecutionError, SaltInvocationError),
        not_ready=(plan.PlanError,), secrets=lambda: (ctx.get("topo") or {}).get("secrets") or [])


_BY_NAME = ("adjust", "up", "down", "connect", "primary", "secondary", "allow_two_primaries")  # drbd.<action>(name)
_WAITS = {"wait_connected": 120, "wait_synced": 3600}  # drbd.<action>(name, timeout=timeout or default)


def _exec(item, topo, node, res, timeout=None, overwrite_data=False):
    """Run one planned step through the execution module."""
    name, action = item["resource"], item["action"]
    if action in _BY_NAME:
        __salt__[f"hapair_drbd.{action}"](name)
    elif action in _WAITS:
        __salt__[f"hapair_drbd.{action}"](name, timeout=timeout or _WAITS[action])
    elif action in ("write", "chmod"):
        __salt__["hapair_drbd.write_config"](topo["name"])
    elif action == "attach":
        __salt__["hapair_drbd.attach"](name, force=item["args"].get("force", False))
    elif action == "create_md":
        __salt__["hapair_drbd.create_md"](name, disk=res["nodes"][node].get("disk"), overwrite_data=overwrite_data)
    elif action == "primary_force":
        __salt__["hapair_drbd.primary"](name, force=True)
    elif action == "new_current_uuid":
        __salt__["hapair_drbd.new_current_uuid"](name, clear_bitmap=True)
    elif action == "record_initial_sync":
        __salt__["hapair_drbd.mark_initial_sync"](name, res.get("initial_sync"))
    else:  # pragma: no cover - planners only emit the actions above
        raise CommandExecutionError(f"unknown planned action {action}")


def configured(name, topology):
    """Write this node's DRBD config files for the topology (0600 where secrets live).

    Running resources whose config changed are adjusted (``drbdadm adjust``).
    Changes name each file (``created``/``updated``/mode), never its content.

    Each change to a running resource is classified first (``hapair.changes``; docs/day2.md):
    ``online`` ones (resync-rate, timeouts...) are applied by adjust as always; a ``reconnect``
    (addresses, ports, protocol, shared-secret...), ``down`` (disk, minor...) or a change of what
    only mkfs writes is refused, naming the device and ``salt-run hapair.reconfigure <topology>``,
    while the resource has a mounted filesystem here or is Primary on both nodes: applied one node
    at a time it would disconnect a live pair. ``changes`` then carry ``<resource>:change``
    (``{"class", "changes", "steps"}``), and the ``test=True`` comment lists the class and steps.

    .. code-block:: yaml

        hapair-drbd-r0-configured:
          drbd.configured:
            - name: r0
            - topology: web
    """

    written = []

    def planner(topo, node, res):
        state = __salt__["hapair_drbd.config_state"](topo["name"])  # says whether each file matches, no content
        if state.get("clashes"):  # another topology deployed here holds a minor, port, disk, mountpoint...
            raise HapairError(f"{name}: topology {topo['name']} clashes with what this node runs, nothing "
                              "written:\n" + "\n".join(f"  - {c}" for c in state["clashes"]))
        up = [r for r in topo["drbd"]["resources"] if r in state["up"]]
        desired = {path: {"content": "rendered", "mode": spec["mode"]} for path, spec in state["desired"].items()}
        current = {path: None if cur is None else {"content": "rendered" if cur["matches"] else "differs",
                                                   "mode": cur["mode"]}
                   for path, cur in state["current"].items()}
        steps = plan.plan_config(desired, current, up)
        for item in steps:  # show what changes in a file (secrets already masked by the module)
            if item["action"] == "write" and item["key"] in state.get("diff", {}):
                item["new"] = {"updated": True, "diff": state["diff"][item["key"]]}
        adjusted = [item["resource"] for item in steps if item["action"] == "adjust"]
        if adjusted:
            steps += _classify(topo, node, adjusted)
        return steps

    def runner(item, topo, node, res, **_kwargs):
        if item["action"] == "classified":
            return
        if item["action"] in ("write", "chmod"):
            if not written:  # one write_config call writes every file
                written.append(__salt__["hapair_drbd.write_config"](topo["name"]))
        else:
            _exec(item, topo, node, res)

    def would(steps):
        notes = [item for item in steps if item["action"] == "classified"]
        text = f"{name}: would run {converge.actions([s for s in steps if s['action'] != 'classified'])}"
        for item in notes:
            text += f"\n{item['resource']}: {item['new']['class']} change\n" + item["args"]["text"]
        return text

    return _run(name, topology, planner, runner, f"{name}: DRBD config files are up to date", would=would)


def _classify(topo, node, adjusted):
    """The ``classified`` pseudo-steps of the resources an adjust would touch; RefusedError (device,
    ``salt-run hapair.reconfigure``) for a disruptive change on a resource in use here."""
    facts = __salt__["hapair_drbd.change_facts"](topo["name"])["resources"]
    out = []
    for res in adjusted:
        info = facts.get(res)
        if not info or not info["changes"]:
            continue
        device = ((topo["drbd"]["resources"].get(res) or {}).get("nodes", {}).get(node) or {}).get("device") or res
        changes.guard(info["changes"], info["in_use"], device, topo["name"])
        new = {"class": info["class"], "changes": [f"{c['what']} {c['key']}: {c['class']}" for c in info["changes"]],
               "steps": [s["what"] for s in info["steps"]]}
        out.append(plan.step("classified", res, f"{res}:change", None, new, text=changes.describe(info["changes"])))
    return out


def metadata_created(name, topology, overwrite_data=False):
    """Create DRBD metadata on this node's backing disk, once.

    Refused when a device create-md writes to (the configured disk, an external meta disk)
    carries a filesystem or other data signature, unless ``overwrite_data: True``; existing DRBD
    metadata is never recreated. ``overwrite_data`` is parsed strictly ("no"/"false" mean no).

    .. code-block:: yaml

        hapair-drbd-r0-metadata-created:
          drbd.metadata_created:
            - name: r0
            - topology: web
            - overwrite_data: False
    """
    try:
        overwrite_data = fields.flag(overwrite_data, "overwrite_data")
    except HapairError as err:
        return dict(adapter.state_result(name), result=False, comment=str(err), changes={})

    def planner(topo, node, res):
        return plan.plan_metadata(_facts(name, res, node), overwrite_data=overwrite_data)

    return _run(name, topology, planner, _exec, f"{name}: DRBD metadata exists", overwrite_data=overwrite_data)


def up(name, topology):
    """Bring the resource up (``drbdadm up``) when it is not.

    .. code-block:: yaml

        hapair-drbd-r0-up:
          drbd.up:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        return plan.plan_up(_facts(name, res, node))

    return _run(name, topology, planner, _exec, f"{name}: resource is up")


def connected(name, topology, timeout=120):
    """Connect the resource (or wait for the peer) until Connected; refused after a split brain.

    .. code-block:: yaml

        hapair-drbd-r0-connected:
          drbd.connected:
            - name: r0
            - topology: web
            - timeout: 120
    """

    def planner(topo, node, res):
        return plan.plan_connected(_facts(name, res, node))

    return _run(name, topology, planner, _exec, f"{name}: Connected", timeout=timeout)


def initial_sync(name, topology):
    """Start the initial sync once (``full``: primary --force; ``skip``: --clear-bitmap new-current-uuid).

    Acts on the resource's ``initial_primary`` node only and records the fact under
    ``hapair:paths:state_dir``, so a later run never forces again.

    .. code-block:: yaml

        hapair-drbd-r0-initial-sync:
          drbd.initial_sync:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        return plan.plan_initial_sync(_facts(name, res, node, probe_gi=True), res, node)

    return _run(name, topology, planner, _exec, f"{name}: initial sync already done or not this node's job")


def synced(name, topology, timeout=3600):
    """Wait until both disks are UpToDate, firing ``hapair/drbd/<name>/sync`` progress events.

    .. code-block:: yaml

        hapair-drbd-r0-synced:
          drbd.synced:
            - name: r0
            - topology: web
            - timeout: 3600
    """

    def planner(topo, node, res):
        return plan.plan_synced(_facts(name, res, node))

    return _run(name, topology, planner, _exec, f"{name}: UpToDate/UpToDate", timeout=timeout)


def primary(name, topology):
    """Promote this node (never forced; refused while the peer is Primary outside dual-primary).

    .. code-block:: yaml

        hapair-drbd-r0-primary:
          drbd.primary:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        return plan.plan_primary(_facts(name, res, node), res.get("mode") or "single-primary")

    return _run(name, topology, planner, _exec, f"{name}: already Primary")


def secondary(name, topology):
    """Demote this node when it is Primary.

    .. code-block:: yaml

        hapair-drbd-r0-secondary:
          drbd.secondary:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        return plan.plan_secondary(_facts(name, res, node))

    return _run(name, topology, planner, _exec, f"{name}: already Secondary")


def dual_primary(name, topology):
    """After sync, allow two primaries and promote this node; refused without ocfs2/gfs2 on the resource.

    .. code-block:: yaml

        hapair-drbd-r0-dual-primary:
          drbd.dual_primary:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        fss = list((topo.get("filesystems") or {}).values())
        return plan.plan_dual_primary(_facts(name, res, node), res, fss)

    return _run(name, topology, planner, _exec, f"{name}: already Primary (dual-primary)")


def down(name, topology):
    """Take the resource down (``drbdadm down``) when it is up; refused while Primary.

    .. code-block:: yaml

        hapair-drbd-r0-down:
          drbd.down:
            - name: r0
            - topology: web
    """

    def planner(topo, node, res):
        return plan.plan_down(_facts(name, res, node))

    return _run(name, topology, planner, _exec, f"{name}: resource is down")


def attached(name, topology, force=False):
    """Re-attach this node's backing disk to a Diskless resource (``drbdadm attach``), once replaced.

    For a node whose disk failed (``on-io-error detach``) and that serves through its peer. Nothing
    to do when a disk is attached; refused unless the peer is Connected and UpToDate
    (``force: True`` waives only that, when this disk is known to hold the newest data), when the
    configured device is missing, or when it carries no DRBD metadata (a blank replacement:
    ``drbd.create_md`` first). The resync after it is DRBD's own: ``drbd.synced`` waits for it.
    ``force`` is parsed strictly ("no"/"false" mean no).

    .. code-block:: yaml

        hapair-drbd-r0-attached:
          drbd.attached:
            - name: r0
            - topology: web
    """
    try:
        force = fields.flag(force, "force")
    except HapairError as err:
        return dict(adapter.state_result(name), result=False, comment=str(err), changes={})

    def planner(topo, node, res):
        return plan.plan_attached(_facts(name, res, node), force=force)

    return _run(name, topology, planner, _exec, f"{name}: a disk is attached")
