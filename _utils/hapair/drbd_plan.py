"""Pure planners for hapair's DRBD states: parsed facts in, steps (or a refusal) out.

Nothing here runs a command or imports Salt. The execution module gathers *facts* about one
resource on one node, a planner compares them with what the topology wants and returns the
*steps* that close the gap, or raises :class:`hapair.errors.RefusedError` when a step could lose
data. States show the plan under ``test=True`` and run it otherwise.

Facts schema (every key optional; unknown values are ``None``, never guessed)::

    {"resource": "r0", "node": "web1", "device": "/dev/drbd0", "disk": "/dev/sdc1",
     "loaded": True,              # the kernel module is loaded (/proc/drbd exists)
     "up": True,                  # the resource is known to the kernel
     "metadata": True,            # DRBD metadata exists on the backing disk
     "signature": None,           # blkid TYPE of a non-DRBD signature on the backing disk
     "role": "Secondary", "disk_state": "Inconsistent", "connection_state": "Connected",
     "replication_state": "Established", "peer_role": "Secondary",
     "peer_disk_state": "Inconsistent", "percent_done": None, "eta_seconds": None,
     "out_of_sync_kib": None, "resync_suspended": None,
     "gi_initial": True,          # current UUID is DRBD's "just created" UUID
     "split_brain": False,        # a split brain was reported (handler marker or kernel log)
     "initial_sync_done": False}  # hapair recorded the initial sync under state_dir

Step schema: ``{"action": "primary", "resource": "r0", "args": {...}, "key": "role",
"old": "Secondary", "new": "Primary"}``. :func:`changes` folds steps into a state's
``changes`` (``{"role": {"old": "Secondary", "new": "Primary"}}``).

>>> plan_secondary({"resource": "r0", "up": True, "role": "Primary"})[0]["action"]
'secondary'
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from hapair import drbd_state
from hapair.errors import HapairError, RefusedError
from hapair.parsing import require_blank

Facts = Mapping[str, Any]
Step = dict[str, Any]

#: Connection states in which DRBD is still trying to reach its peer (8.4 and 9 names).
WAITING_STATES = ("WFConnection", "Connecting", "WFReportParams", "Unconnected", "NetworkFailure",
                  "BrokenPipe", "Timeout", "ProtocolError", "TearDown", "Disconnecting")
CLUSTER_FILESYSTEMS = ("ocfs2", "gfs2")


class PlanError(HapairError):
    """The wanted state cannot be reached from these facts yet: an earlier state (drbd.configured,
    drbd.up, drbd.connected, drbd.synced...) brings it (not a data-safety refusal). The drbd states
    report it as not ready (``not_ready=``). Not a ``NotReadyError`` subclass yet: ``backing_devices``
    raises it for drbdadm outputs that disagree (a failure), which ``_modules/hapair_drbd.py`` catches."""


def step(action: str, resource: str, key: str, old: Any, new: Any, **args: Any) -> Step:
    """Build one step (see the module docstring for the schema).

    >>> step("up", "r0", "up", False, True)["new"]
    True
    """
    return {"action": action, "resource": resource, "args": dict(args), "key": key, "old": old, "new": new}


def changes(steps: Iterable[Step]) -> dict[str, Any]:
    """Fold steps into a state's ``changes``: ``{key: {"old": first old, "new": last new}}``.

    >>> changes([step("primary", "r0", "role", "Secondary", "Primary", force=True)])
    {'role': {'old': 'Secondary', 'new': 'Primary'}}
    """
    out: dict[str, Any] = {}
    for item in steps:
        key = item["key"]
        if key in out:
            out[key]["new"] = item["new"]
        else:
            out[key] = {"old": item["old"], "new": item["new"]}
    return out


def _name(facts: Facts) -> str:
    return str(facts.get("resource") or "?")


def _device(facts: Facts) -> str:
    return str(facts.get("disk") or facts.get("device") or _name(facts))


def is_synced(facts: Facts) -> bool:
    """True when connected, no resync running and both disks UpToDate.

    >>> is_synced({"connection_state": "Connected", "replication_state": "Established",
    ...            "disk_state": "UpToDate", "peer_disk_state": "UpToDate"})
    True
    """
    return drbd_state.synced(facts.get("connection_state"), facts.get("replication_state"),
                             facts.get("disk_state"), facts.get("peer_disk_state"))


# --------------------------------------------------------------------------- guards (module actions)
def backing_devices(ll_dev: str, md_dev: str) -> list[dict[str, Any]]:
    """Per-volume backing devices from ``drbdadm sh-ll-dev`` and ``sh-md-dev`` output (one line a volume).

    ``meta_disk`` is None for internal metadata (``sh-md-dev`` prints the lower device then).
    Raises PlanError when the two outputs do not describe the same volumes.

    >>> backing_devices("/dev/vdb\\n", "/dev/vdc\\n")
    [{'disk': '/dev/vdb', 'meta_disk': '/dev/vdc'}]
    >>> backing_devices("/dev/vdb\\n/dev/vdd\\n", "/dev/vdb\\n/dev/vdd\\n")[1]
    {'disk': '/dev/vdd', 'meta_disk': None}
    """
    lls, mds = ll_dev.split(), md_dev.split()
    if not lls or len(lls) != len(mds):
        raise PlanError(f"drbdadm sh-ll-dev/sh-md-dev name {len(lls)}/{len(mds)} devices: cannot tell which "
                        "devices create-md writes to")
    return [{"disk": ll, "meta_disk": None if md == ll else md} for ll, md in zip(lls, mds, strict=True)]


def write_targets(volumes: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every device ``create-md`` (and the sync after it) writes to: each lower disk and external meta disk.

    >>> write_targets([{"disk": "/dev/vdb", "meta_disk": "/dev/vdc"}, {"disk": "/dev/vdd", "meta_disk": "/dev/vdc"}])
    ['/dev/vdb', '/dev/vdc', '/dev/vdd']
    """
    out: list[str] = []
    for vol in volumes:
        for dev in (vol.get("disk"), vol.get("meta_disk")):
            if dev and dev not in out:
                out.append(dev)
    return out


def _same_device(facts: Facts, one: str, other: str) -> bool:
    """True when two paths name one device (``realpaths``: the adapter's ``os.path.realpath`` of each)."""
    real = facts.get("realpaths") or {}
    return one == other or real.get(one, one) == real.get(other, other)


def guard_create_md(facts: Facts, overwrite_data: bool = False) -> None:
    """Refuse ``create-md`` over a filesystem/data signature, existing DRBD metadata, or a device not probed.

    The devices are the ones ``create-md`` writes to, resolved from the DRBD config (``volumes``,
    see :func:`backing_devices`), never the caller's ``disk`` (``requested_disk``: it must name the
    configured disk, override or not). ``probes``: ``{device: {"opens": bool, "metadata": bool,
    "signature": blkid TYPE or None}}``; ``signature_checked`` is True only when every device opened
    and was probed. A device that cannot be opened is refused even with ``overwrite_data``.

    >>> guard_create_md({"disk": "/dev/sdc1", "volumes": [{"disk": "/dev/sdc1", "meta_disk": None}],
    ...                  "signature_checked": True, "signature": None, "metadata": False,
    ...                  "probes": {"/dev/sdc1": {"opens": True, "metadata": False, "signature": None}}})
    """
    dev = _device(facts)
    # a Diskless resource (a failed disk detached, a replacement not attached yet) uses no metadata:
    # the probes below decide, as for a resource that is down
    if facts.get("up") and facts.get("disk_state") != "Diskless" and not overwrite_data:
        raise RefusedError(dev, f"resource {_name(facts)} is up (its metadata is in use)", "overwrite_data=True")
    volumes = facts.get("volumes")
    if not volumes:
        raise RefusedError(dev, f"resource {_name(facts)} names no backing disk on this node in the DRBD config "
                                "(drbdadm sh-ll-dev)", "nothing: apply drbd.configured first")
    configured = [v["disk"] for v in volumes]
    asked = facts.get("requested_disk")
    if asked and not any(_same_device(facts, asked, d) for d in configured):
        raise RefusedError(str(asked), f"create-md {_name(facts)} would write to {', '.join(configured)} "
                                       f"(the DRBD config), not {asked}",
                           f"nothing: disk={configured[0]} or no disk=, or fix the topology/DRBD config")
    probes = facts.get("probes") or {}
    for target in write_targets(volumes):
        probe = probes.get(target)
        if probe is not None and probe.get("opens") is False:
            raise RefusedError(target, "it cannot be opened (no such device, or a typo in the config)",
                               "nothing: fix the disk/meta_disk path in the topology")
    if overwrite_data:
        return
    for target in write_targets(volumes):
        probe = probes.get(target) or {}
        if probe.get("metadata"):
            raise RefusedError(target, "it already carries DRBD metadata", "overwrite_data=True")
        require_blank(target, probe.get("signature"), override="overwrite_data=True")
    if facts.get("metadata"):
        raise RefusedError(dev, "it already carries DRBD metadata", "overwrite_data=True")
    require_blank(dev, facts.get("signature"), override="overwrite_data=True")
    unprobed = [t for t in write_targets(volumes) if t not in probes]
    if facts.get("signature_checked") is not True or unprobed:
        raise RefusedError(", ".join(unprobed) or dev, "its signature could not be checked (blkid)",
                           "overwrite_data=True")


#: Peer disk states under which ``primary --force`` needs the ``peer_has_no_data`` override.
PEER_WITHOUT_DISK = ("Diskless", "DUnknown", None)


def guard_primary_force(facts: Facts, peer_has_no_data: bool = False) -> None:
    """Allow ``primary --force`` (the initial sync) only on an Inconsistent disk whose peer holds no better data.

    The peer must be Inconsistent too; a Diskless, unknown (DUnknown, not connected) or absent
    peer needs ``peer_has_no_data=True``; a peer with data (UpToDate, Consistent, Outdated) is
    always refused.

    >>> guard_primary_force({"resource": "r0", "disk_state": "Inconsistent", "peer_disk_state": "Inconsistent"})
    >>> guard_primary_force({"resource": "r0", "disk_state": "Inconsistent", "peer_disk_state": None},
    ...                     peer_has_no_data=True)
    """
    dev = str(facts.get("device") or _name(facts))
    if facts.get("disk_state") != "Inconsistent":
        raise RefusedError(dev, f"local disk is {facts.get('disk_state')}, not Inconsistent",
                           "force=False (a plain promotion) or drbdadm by hand")
    peer = facts.get("peer_disk_state")
    if peer == "Inconsistent":
        return
    if peer in PEER_WITHOUT_DISK:
        if peer_has_no_data:
            return
        raise RefusedError(dev, f"the peer's disk is {peer or 'unknown (no peer connected)'}: it may hold "
                                "newer data than this Inconsistent disk",
                           "peer_has_no_data=True (only when the peer's disk is known to hold no data)")
    raise RefusedError(dev, f"the peer's disk is {peer}: forcing would overwrite its data with this "
                            "Inconsistent disk", "nothing: a promotion on the peer instead")


def guard_new_current_uuid(facts: Facts) -> None:
    """Allow ``new-current-uuid --clear-bitmap`` only on two fresh, connected, Secondary disks.

    >>> guard_new_current_uuid({"gi_initial": True, "peer_gi_initial": True, "connection_state": "Connected",
    ...     "role": "Secondary", "peer_role": "Secondary", "disk_state": "Inconsistent",
    ...     "peer_disk_state": "Inconsistent"})
    """
    dev = str(facts.get("device") or _name(facts))
    override = "clear_bitmap=False (a normal full sync)"
    if facts.get("gi_initial") is not True:
        raise RefusedError(dev, "the local generation identifier is not the initial one (data exists)", override)
    if facts.get("peer_gi_initial") is False:
        raise RefusedError(dev, "the peer's generation identifier is not the initial one", override)
    if facts.get("connection_state") != "Connected" or facts.get("replication_state") not in ("Established", None):
        raise RefusedError(dev, f"not Connected (connection {facts.get('connection_state')}, "
                                f"replication {facts.get('replication_state')})", override)
    if (facts.get("role"), facts.get("peer_role")) != ("Secondary", "Secondary"):
        raise RefusedError(dev, f"roles are {facts.get('role')}/{facts.get('peer_role')}, "
                                "not Secondary/Secondary", override)
    if (facts.get("disk_state"), facts.get("peer_disk_state")) != ("Inconsistent", "Inconsistent"):
        raise RefusedError(dev, f"disks are {facts.get('disk_state')}/{facts.get('peer_disk_state')}, "
                                "not Inconsistent/Inconsistent", override)


def guard_discard_my_data(facts: Facts, victim: str | None) -> None:
    """Allow ``connect --discard-my-data`` only on a StandAlone split-brain victim named by the caller.

    The node's identity is the node's own (``node`` and its aliases ``node_names``: minion id,
    hostname, topology node name), never the caller's; a caller's ``caller_node`` that is not one
    of them is refused.

    >>> guard_discard_my_data({"node": "web2", "connection_state": "StandAlone", "split_brain": True}, "web2")
    """
    dev = str(facts.get("device") or _name(facts))
    node = facts.get("node")
    names = set(facts.get("node_names") or ()) | ({node} if node else set())
    claimed = facts.get("caller_node")
    if claimed and claimed not in names:
        raise RefusedError(dev, f"node={claimed!r} is not this node ({node!r})",
                           "nothing: this node's identity is its own (minion id, hostname); drop node=")
    if not victim:
        raise RefusedError(dev, "no split-brain victim named", f"victim={node!r} (this node)")
    if victim not in names:
        raise RefusedError(dev, f"the victim named is {victim!r}, not this node ({node!r})",
                           f"victim={node!r} on the node whose changes are to be discarded")
    if facts.get("connection_state") != "StandAlone":
        raise RefusedError(dev, f"connection is {facts.get('connection_state')}, not StandAlone",
                           "drbdadm disconnect first, after checking the split brain")
    if not facts.get("split_brain"):
        raise RefusedError(dev, "no split brain was detected (handler marker or kernel log)",
                           "split_brain=True once you have checked it yourself")


# --------------------------------------------------------------------------- planners (states)
def plan_config(desired: Mapping[str, Mapping[str, Any]], current: Mapping[str, Mapping[str, Any] | None],
                resources_up: Iterable[str] = ()) -> list[Step]:
    """Plan the config files: write what differs (content or mode), then adjust running resources.

    ``desired``: the renderer's ``{path: {"content", "mode", "secret"}}``; ``current``:
    ``{path: {"content", "mode"} or None}``. A resource is adjusted when it is up and a file changed.

    >>> [s["action"] for s in plan_config({"/e/r0.res": {"content": "x", "mode": "0600"}},
    ...                                   {"/e/r0.res": None}, ["r0"])]
    ['write', 'adjust']
    """
    steps: list[Step] = []
    for path in sorted(desired):
        want = desired[path]
        have = current.get(path)
        if have is None:
            steps.append(step("write", path, path, None, "created", path=path, mode=want["mode"]))
        elif have.get("content") != want["content"]:
            steps.append(step("write", path, path, "differs", "updated", path=path, mode=want["mode"]))
        elif str(have.get("mode")) != str(want["mode"]):
            steps.append(step("chmod", path, path, have.get("mode"), want["mode"], path=path, mode=want["mode"]))
    if any(s["action"] == "write" for s in steps):
        for res in sorted(set(resources_up)):
            steps.append(step("adjust", res, f"{res}:adjusted", False, True))
    return steps


def plan_metadata(facts: Facts, overwrite_data: bool = False) -> list[Step]:
    """Plan ``create-md`` once, unless metadata exists; refuse over a data signature.

    ``overwrite_data`` lets create-md write over another signature; existing DRBD metadata is
    never recreated by a state (that is ``drbd.create_md ... overwrite_data=True`` by hand).

    >>> plan_metadata({"resource": "r0", "disk": "/dev/sdc1", "metadata": True})
    []
    """
    if facts.get("metadata") or facts.get("up"):
        return []
    if not facts.get("volumes"):
        raise PlanError(f"resource {_name(facts)}: the DRBD config names no backing disk on this node yet; "
                        "apply drbd.configured first")
    guard_create_md(facts, overwrite_data)
    return [step("create_md", _name(facts), "metadata", False, "created", overwrite_data=overwrite_data)]


def plan_up(facts: Facts) -> list[Step]:
    """Plan ``drbdadm up`` when the resource is not up.

    >>> plan_up({"resource": "r0", "up": False, "metadata": True, "loaded": True})[0]["action"]
    'up'
    """
    if facts.get("up"):
        return []
    if not facts.get("metadata"):
        raise PlanError(f"resource {_name(facts)}: no DRBD metadata on {_device(facts)}; "
                        "apply drbd.metadata_created first")
    return [step("up", _name(facts), "up", False, True)]


def guard_attach(facts: Facts, force: bool = False) -> None:
    """Allow ``drbdadm attach`` only on a Diskless node whose peer serves, onto a present disk with metadata.

    Refused (each naming the device and what would allow it) when the resource is not Diskless
    (attached already), when the peer is not Connected and UpToDate (no good copy to resync this
    disk from: ``force=True`` overrides this one only), when the DRBD config names no backing
    disk, when a device attach opens is missing (``probes[dev]["opens"]`` not True), and when the
    metadata device carries no DRBD metadata (``probes[dev]["metadata"]``, blkid: a blank
    replacement needs ``drbd.create_md`` first). Facts: ``flatten``'s keys plus ``volumes`` and
    ``probes`` as for :func:`guard_create_md`.

    >>> guard_attach({"resource": "r0", "up": True, "disk_state": "Diskless", "connection_state": "Connected",
    ...               "peer_disk_state": "UpToDate", "volumes": [{"disk": "/dev/vdb", "meta_disk": None}],
    ...               "probes": {"/dev/vdb": {"opens": True, "metadata": True, "signature": None}}})
    >>> try:
    ...     guard_attach({"resource": "r0", "up": True, "disk_state": "Diskless", "connection_state": "Connected",
    ...                   "peer_disk_state": "UpToDate", "volumes": [{"disk": "/dev/vdb", "meta_disk": None}],
    ...                   "probes": {"/dev/vdb": {"opens": False}}})
    ... except RefusedError as err:
    ...     print(err.device, "|", err.reason)
    /dev/vdb | the backing device is missing (it cannot be opened)
    """
    name = _name(facts)
    dev = str(facts.get("device") or name)
    if not facts.get("up"):
        raise PlanError(f"resource {name} is not up: drbd.up attaches the disk as it brings the resource up")
    disk = facts.get("disk_state")
    if disk != "Diskless":
        raise RefusedError(dev, f"{name} is {disk}, not Diskless: a disk is attached already",
                           f"nothing: `drbdadm detach {name}` first to change disks")
    conn, peer = facts.get("connection_state"), facts.get("peer_disk_state")
    if not force and (conn != "Connected" or peer != "UpToDate"):
        raise RefusedError(dev, f"the peer is {conn or 'unknown'} with disk {peer or 'unknown'}, not Connected "
                                "and UpToDate: there is no good copy to resync this disk from, and attaching "
                                "now would serve this disk's old data",
                           "force=True (only when this disk is known to hold the newest data)")
    volumes = facts.get("volumes")
    if not volumes:
        raise RefusedError(_device(facts), f"the DRBD config names no backing disk of {name} on this node "
                                           "(drbdadm sh-ll-dev)", "nothing: apply drbd.configured first")
    probes = facts.get("probes") or {}
    for target in write_targets(volumes):
        if (probes.get(target) or {}).get("opens") is not True:
            raise RefusedError(target, "the backing device is missing (it cannot be opened)",
                               f"nothing: put the replacement disk at {target}, or change the resource's disk "
                               "in the topology and apply drbd.configured")
    for vol in volumes:
        meta = vol.get("meta_disk") or vol["disk"]
        probe = probes[meta]
        if not probe.get("metadata"):
            found = f"it carries a {probe['signature']} signature" if probe.get("signature") else "blkid finds nothing"
            raise RefusedError(meta, f"no DRBD metadata of {name} on it ({found}: a replacement disk, or one "
                                     "that still fails reads)",
                               f"drbd.create_md {name} on this node first (the new disk then takes a full "
                               "resync from the peer)")


def plan_attached(facts: Facts, force: bool = False) -> list[Step]:
    """Plan ``drbdadm attach`` for a Diskless node (the disk replaced or repaired); empty once attached.

    Guarded by :func:`guard_attach`. The resync that follows is DRBD's own (``drbd.synced`` waits
    for it); any disk state but Diskless counts as attached (Attaching, Negotiating, Inconsistent
    while the resync runs, UpToDate).

    >>> [s["action"] for s in plan_attached({"resource": "r0", "up": True, "disk_state": "Diskless",
    ...     "connection_state": "Connected", "peer_disk_state": "UpToDate",
    ...     "volumes": [{"disk": "/dev/vdb", "meta_disk": None}],
    ...     "probes": {"/dev/vdb": {"opens": True, "metadata": True, "signature": None}}})]
    ['attach']
    >>> plan_attached({"resource": "r0", "up": True, "disk_state": "Inconsistent"})
    []
    """
    name = _name(facts)
    if not facts.get("up"):
        raise PlanError(f"resource {name} is not up: drbd.up attaches the disk as it brings the resource up")
    disk = facts.get("disk_state")
    if disk is None:  # not a wait (PlanError): the status read names no disk state to wait on
        raise HapairError(f"resource {name}: its disk state is unknown; see drbd.status")
    if disk != "Diskless":
        return []
    guard_attach(facts, force)
    return [step("attach", name, "disk_state", "Diskless", "attached", force=force)]


def plan_connected(facts: Facts) -> list[Step]:
    """Plan a connect (or a wait for the peer) until the resource is Connected.

    StandAlone after a split brain is refused: only ``discard_my_data_connect`` on the named
    victim may reconnect it.

    >>> [s["action"] for s in plan_connected({"resource": "r0", "up": True, "connection_state": "StandAlone"})]
    ['connect', 'wait_connected']
    """
    name = _name(facts)
    if not facts.get("up"):
        raise PlanError(f"resource {name} is not up; apply drbd.up first")
    cstate = facts.get("connection_state")
    if cstate == "Connected":
        return []
    if cstate == "StandAlone":
        if facts.get("split_brain"):
            raise RefusedError(str(facts.get("device") or name), "StandAlone after a split brain",
                               "drbd.discard_my_data_connect with victim=<node> on the victim")
        return [step("connect", name, "connection_state", cstate, "Connecting"),
                step("wait_connected", name, "connection_state", cstate, "Connected")]
    return [step("wait_connected", name, "connection_state", cstate, "Connected")]


def plan_initial_sync(facts: Facts, resource: Mapping[str, Any], node: str) -> list[Step]:
    """Plan the one-time initial sync of a fresh resource (``full`` or ``skip``), then record it.

    Only ``initial_primary`` acts; the other node has nothing to do (it waits in drbd.synced).
    Once recorded (``initial_sync_done``) nothing is ever forced again. A pair already in sync or
    syncing is just recorded.

    >>> res = {"name": "r0", "initial_primary": "a", "initial_sync": "full"}
    >>> [s["action"] for s in plan_initial_sync({"resource": "r0", "connection_state": "Connected",
    ...     "replication_state": "Established", "role": "Secondary", "peer_role": "Secondary",
    ...     "disk_state": "Inconsistent", "peer_disk_state": "Inconsistent"}, res, "a")]
    ['primary_force', 'record_initial_sync']
    """
    name = str(resource.get("name") or _name(facts))
    if facts.get("initial_sync_done") or node != resource.get("initial_primary"):
        return []
    record = step("record_initial_sync", name, "initial_sync", None, resource.get("initial_sync"))
    if is_synced(facts) or drbd_state.in_resync(facts.get("replication_state")):
        return [record]
    if facts.get("connection_state") != "Connected":
        raise PlanError(f"resource {name}: initial sync needs a Connected peer "
                        f"(connection is {facts.get('connection_state')}); apply drbd.connected first")
    if resource.get("initial_sync") == "skip":
        guard_new_current_uuid(facts)
        return [step("new_current_uuid", name, "disk_state", facts.get("disk_state"), "UpToDate",
                     clear_bitmap=True), record]
    guard_primary_force(facts)
    return [step("primary_force", name, "role", facts.get("role"), "Primary", force=True), record]


def plan_synced(facts: Facts) -> list[Step]:
    """Plan a wait for the sync when the pair is not yet UpToDate/UpToDate.

    >>> plan_synced({"resource": "r0", "connection_state": "Connected", "replication_state": "Established",
    ...              "disk_state": "UpToDate", "peer_disk_state": "UpToDate"})
    []
    """
    if is_synced(facts):
        return []
    name = _name(facts)
    if not facts.get("up"):
        raise PlanError(f"resource {name} is not up; apply drbd.up first")
    old = f"{facts.get('disk_state')}/{facts.get('peer_disk_state')}"
    return [step("wait_synced", name, "disk_state", old, "UpToDate/UpToDate")]


def plan_primary(facts: Facts, mode: str = "single-primary") -> list[Step]:
    """Plan a (non-forced) promotion; refuse a second primary outside dual-primary.

    >>> plan_primary({"resource": "r0", "up": True, "role": "Primary"})
    []
    """
    name = _name(facts)
    dev = str(facts.get("device") or name)
    if facts.get("role") == "Primary":
        return []
    if not facts.get("up"):
        raise PlanError(f"resource {name} is not up; apply drbd.up first")
    if facts.get("disk_state") != "UpToDate":
        raise PlanError(f"resource {name}: local disk is {facts.get('disk_state')}, not UpToDate; "
                        "apply drbd.initial_sync (a fresh pair) or drbd.synced first")
    if facts.get("peer_role") == "Primary" and mode != "dual-primary":
        raise RefusedError(dev, "the peer is Primary and the resource is not dual-primary",
                           "drbd.secondary on the peer first")
    return [step("primary", name, "role", facts.get("role"), "Primary")]


def plan_secondary(facts: Facts) -> list[Step]:
    """Plan a demotion when Primary.

    >>> plan_secondary({"resource": "r0", "up": True, "role": "Secondary"})
    []
    """
    if facts.get("role") != "Primary":
        return []
    return [step("secondary", _name(facts), "role", "Primary", "Secondary")]


def plan_down(facts: Facts) -> list[Step]:
    """Plan ``drbdadm down`` for a running resource; refuse while it is Primary (demote first).

    >>> [s["action"] for s in plan_down({"resource": "r0", "up": True, "role": "Secondary"})]
    ['down']
    """
    if not facts.get("up"):
        return []
    if facts.get("role") == "Primary":
        raise RefusedError(str(facts.get("device") or _name(facts)), "it is Primary (in use by a filesystem?)",
                           "drbd.secondary first")
    return [step("down", _name(facts), "up", True, False)]


def plan_dual_primary(facts: Facts, resource: Mapping[str, Any], filesystems: Iterable[Mapping[str, Any]]) -> list[Step]:
    """Plan allow-two-primaries + promotion, after sync, only under a cluster filesystem.

    ``filesystems``: the topology's filesystems; one of type ocfs2/gfs2 must live on the resource.

    >>> plan_dual_primary({"resource": "r0", "up": True, "role": "Primary", "peer_role": "Primary"},
    ...                   {"name": "r0", "mode": "dual-primary"}, [{"resource": "r0", "type": "ocfs2"}])
    []
    """
    name = str(resource.get("name") or _name(facts))
    dev = str(facts.get("device") or name)
    cluster_fs = [fs for fs in filesystems if fs.get("resource") == name and fs.get("type") in CLUSTER_FILESYSTEMS]
    if resource.get("mode") != "dual-primary":
        raise RefusedError(dev, f"resource mode is {resource.get('mode')}, not dual-primary",
                           "mode: dual-primary in the topology")
    if not cluster_fs:
        raise RefusedError(dev, "two primaries without a cluster filesystem (ocfs2/gfs2) corrupt data",
                           "a filesystem of type ocfs2 or gfs2 on this resource in the topology")
    if facts.get("role") == "Primary":
        return []
    if not is_synced(facts):
        raise PlanError(f"resource {name}: not in sync (connection {facts.get('connection_state')}, disks "
                        f"{facts.get('disk_state')}/{facts.get('peer_disk_state')}); apply drbd.synced first")
    return [step("allow_two_primaries", name, "allow_two_primaries", None, True),
            step("primary", name, "role", facts.get("role"), "Primary")]


def give_up_reason(facts: Facts) -> str:
    """Say why a resource is not (yet) connected/synced, in the words an operator needs.

    >>> give_up_reason({"resource": "r0", "connection_state": "StandAlone"})
    'r0 is StandAlone: it will not reconnect by itself (split brain or disconnect); see drbd.status'
    """
    name = _name(facts)
    cstate = facts.get("connection_state")
    if facts.get("up") is False:
        return f"{name} is not up"
    if cstate == "StandAlone":
        return f"{name} is StandAlone: it will not reconnect by itself (split brain or disconnect); see drbd.status"
    if cstate in WAITING_STATES:
        return f"{name} is {cstate}: the peer is not reachable (peer down, firewall, or wrong address/port)"
    if facts.get("replication_state") in ("PausedSyncS", "PausedSyncT") or facts.get("resync_suspended"):
        return f"{name}: the resync is paused (resync-after dependency or drbdadm pause-sync)"
    if facts.get("peer_disk_state") == "Diskless" or facts.get("disk_state") == "Diskless":
        side = "peer" if facts.get("peer_disk_state") == "Diskless" else "local"
        return f"{name}: the {side} disk is Diskless (detached after an I/O error?)"
    if drbd_state.in_resync(facts.get("replication_state")):
        pct = facts.get("percent_done")
        eta = facts.get("eta_seconds")
        return f"{name}: still syncing ({facts.get('replication_state')}, {pct}% done, eta {eta}s)"
    return (f"{name}: connection {cstate}, disks {facts.get('disk_state')}/{facts.get('peer_disk_state')}, "
            f"roles {facts.get('role')}/{facts.get('peer_role')}")


# --------------------------------------------------------------------------- model helpers
def flatten(model: Mapping[str, Any] | None) -> dict[str, Any]:
    """Flatten a normalised resource model (DESIGN.md) to the facts keys (first volume, first peer).

    >>> flatten({"name": "r0", "role": "Primary", "volumes": [{"volume": 0, "disk_state": "UpToDate"}],
    ...          "peers": []})["connection_state"]
    'StandAlone'
    """
    if not model:
        return {"up": False, "role": None, "disk_state": None, "connection_state": None,
                "replication_state": None, "peer_role": None, "peer_disk_state": None,
                "percent_done": None, "eta_seconds": None, "out_of_sync_kib": None}
    vols = model.get("volumes") or [{}]
    peers = model.get("peers") or []
    peer = peers[0] if peers else {}
    pvols = peer.get("volumes") or [{}]
    pvol = pvols[0] if pvols else {}
    return {
        "up": True,
        "role": model.get("role"),
        "disk_state": vols[0].get("disk_state"),
        "minor": vols[0].get("minor"),
        "connection_state": peer.get("connection_state") if peer else "StandAlone",
        "replication_state": pvol.get("replication_state"),
        "peer_role": peer.get("role"),
        "peer_disk_state": pvol.get("peer_disk_state"),
        "percent_done": pvol.get("percent_done"),
        "eta_seconds": pvol.get("eta_seconds"),
        "out_of_sync_kib": pvol.get("out_of_sync_kib"),
        "resync_suspended": pvol.get("resync_suspended"),
    }


#: The block major of every DRBD device (``DRBD_MAJOR`` in the kernel module).
DRBD_MAJOR = 147


def mounted_at(mounts: Mapping[str, Mapping[str, Any]], device: tuple[int, int],
               sources: Mapping[str, tuple[int, int] | None] | None = None) -> list[str]:
    """Mountpoints whose filesystem sits on block device ``device`` ((major, minor)), by number.

    ``mounts``: Salt's ``mount.active`` (``major``/``minor`` from /proc/self/mountinfo);
    ``sources``: ``{mount source: (major, minor) of its realpath's st_rdev, or None}`` for the
    entries without numbers. A path string never decides: ``/dev/drbd/by-res/r0/0``,
    ``/dev/disk/by-label/www`` and ``/dev/drbd0`` are the same device.

    >>> mounted_at({"/srv/www": {"device": "/dev/disk/by-label/www", "major": "147", "minor": "0"},
    ...             "/": {"device": "/dev/vda1", "major": "254", "minor": "1"},
    ...             "/srv/b": {"device": "/dev/drbd/by-res/r0/0"}}, (147, 0), {"/dev/drbd/by-res/r0/0": (147, 0)})
    ['/srv/b', '/srv/www']
    """
    out = []
    for mountpoint, entry in mounts.items():
        try:
            numbers: tuple[int, int] | None = (int(entry["major"]), int(entry["minor"]))
        except (KeyError, TypeError, ValueError):
            numbers = (sources or {}).get(str(entry.get("device")))
        if numbers == tuple(device):
            out.append(mountpoint)
    return sorted(out)
