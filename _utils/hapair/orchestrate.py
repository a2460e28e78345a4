"""Pure gate checks for the bootstrap orchestration: is a step's condition met on *both* nodes?

Every gate takes what both minions reported (already parsed) and returns a :class:`GateResult`
saying whether the condition holds, what was awaited and what was seen, so a timeout message is
never just "timed out". Nothing here talks to Salt or sleeps; the runner polls and calls these.

Inputs (per node name of the topology; ``None`` means the minion did not answer):

- ``drbd``:   ``{"web1": [resource model, ...] | None, "web2": ...}`` (``drbd.status`` output,
  the normalised DRBD resource model of docs/DESIGN.md)
- ``mounts``: ``{"web1": {"/var/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}} | None}``
  (Salt's ``mount.active`` output)
- ``o2cb``:   ``{"web1": {"online": True, ...} | None}`` (``o2cb.status`` output)
- ``corosync``: ``{"node1": {"quorate": True, "members": [...], ...} | None}`` (``corosync.quorum_status``)
- ``dlm``:    ``{"node1": {"running": True, "quorate": True, "nodes": [...]} | None}`` (``corosync.dlm_status``)

Example::

    >>> m1 = {"name": "r0", "role": "Secondary", "volumes": [{"disk_state": "UpToDate"}],
    ...       "peers": [{"connection_state": "WFConnection"}]}    # web1 waits; web2 has no r0 yet
    >>> r = gate("connected", seed000, {"drbd": {"web1": [m1], "web2": []}}, resources=["r0"])
    >>> r.met, r.awaited
    (False, 'r0 Connected on web1 and web2')
    >>> r.seen
    'web1: r0 Secondary/UpToDate WFConnection; web2: r0 absent'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from hapair import drbd_state
from hapair.fields import require
from hapair.heartbeat import HELD
from hapair.topology import placed

Model = Mapping[str, Any]
Observed = Mapping[str, Any]

# The gate registry: each condition, and what the runner observes on both nodes to check it
# (``observed`` key, the minion function that answers). ``gate`` checks; the runner's
# ``wait_for`` observes through ``OBSERVES`` and nothing else.
OBSERVES: dict[str, tuple[str, str]] = {
    "up": ("drbd", "hapair_drbd.status"),
    "connected": ("drbd", "hapair_drbd.status"),
    "synced": ("drbd", "hapair_drbd.status"),
    "demoted": ("drbd", "hapair_drbd.status"),
    "roles": ("drbd", "hapair_drbd.status"),
    "o2cb_online": ("o2cb", "o2cb.status"),
    "quorate": ("corosync", "corosync.quorum_status"),
    "dlm_up": ("dlm", "corosync.dlm_status"),
    "mounted": ("mounts", "mount.active"),
    "groups_running": ("heartbeat", "heartbeat.status"),
    "groups_started": ("mounts", "mount.active"),
}

CONDITIONS = tuple(OBSERVES)
#: the gates whose expected roles follow where stack-none groups run (``placement``): observed
#: with ``drbd.report`` (DRBD state and mounts in one job) instead of ``OBSERVES``
PLACED_CONDITIONS = ("demoted", "roles")


def follows_placement(topology: Mapping[str, Any], condition: str) -> bool:
    """Whether gate ``condition`` of ``topology`` judges roles where its groups run now."""
    return (condition in PLACED_CONDITIONS and topology.get("cluster", {}).get("stack") == "none"
            and bool(topology.get("groups")))


@dataclass
class GateResult:
    """The outcome of one gate check.

    ``progress`` lists sync progress rows ``{"node", "resource", "replication", "percent_done",
    "eta_seconds", "out_of_sync_kib"}`` for resources that are resyncing right now.
    """

    condition: str
    met: bool
    awaited: str
    seen: str
    progress: list[dict[str, Any]] = field(default_factory=list)

    def message(self) -> str:
        """One line: what was awaited and what was seen."""
        state = "met" if self.met else "not met"
        return f"{self.condition} {state}: waited for {self.awaited}; saw {self.seen}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for Salt returns and events."""
        return {
            "condition": self.condition,
            "met": self.met,
            "awaited": self.awaited,
            "seen": self.seen,
            "progress": list(self.progress),
            "message": self.message(),
        }


def summarise(model: Model | None) -> dict[str, Any]:
    """Flatten one normalised resource model into the facts gates and the beacon compare.

    >>> summarise({"name": "r0", "role": "Primary", "volumes": [{"disk_state": "UpToDate"}],
    ...            "peers": [{"connection_state": "Connected", "role": "Secondary",
    ...                       "volumes": [{"replication_state": "Established", "peer_disk_state": "UpToDate"}]}]})["connection"]
    'Connected'
    """
    if not model:
        return {
            "present": False, "role": None, "disk": None, "connection": None, "peer_role": None,
            "replication": None, "peer_disk": None, "percent_done": None, "eta_seconds": None,
            "out_of_sync_kib": None, "suspended": None,
        }
    disks = [v.get("disk_state") for v in model.get("volumes") or []]
    peers = list(model.get("peers") or [])
    peer = peers[0] if peers else {}
    pvols = list(peer.get("volumes") or [])
    oos = [v.get("out_of_sync_kib") for v in pvols]
    pct = [v.get("percent_done") for v in pvols if v.get("percent_done") is not None]
    eta = [v.get("eta_seconds") for v in pvols if v.get("eta_seconds") is not None]
    return {
        "present": True,
        "role": model.get("role"),
        "disk": _join(disks),
        "connection": peer.get("connection_state"),
        "peer_role": peer.get("role"),
        "replication": _join([v.get("replication_state") for v in pvols]),
        "peer_disk": _join([v.get("peer_disk_state") for v in pvols]),
        "percent_done": min(pct) if pct else None,
        "eta_seconds": max(eta) if eta else None,
        "out_of_sync_kib": sum(o for o in oos if o is not None) if any(o is not None for o in oos) else None,
        "suspended": model.get("suspended"),
    }


def _join(values: list[Any]) -> Any:
    """One value when all volumes agree, else ``"a,b"``; ``None`` for no volumes."""
    uniq = []
    for value in values:
        if value not in uniq:
            uniq.append(value)
    if not uniq:
        return None
    if len(uniq) == 1:
        return uniq[0]
    return ",".join(str(v) for v in uniq)


def find(models: list[Model] | None, resource: str) -> Model | None:
    """Return the model named ``resource`` from one node's status list (``None`` if absent)."""
    for model in models or []:
        if model.get("name") == resource:
            return model
    return None


def describe(resource: str, model: Model | None) -> str:
    """Short human text for one resource on one node: ``r0 Primary/UpToDate Connected SyncSource 12.5%``."""
    s = summarise(model)
    if not s["present"]:
        return f"{resource} absent"
    parts = [f"{resource} {s['role']}/{s['disk']}"]
    parts.append(str(s["connection"]) if s["connection"] else "no peer")
    if s["peer_role"] or s["peer_disk"]:
        parts.append(f"peer {s['peer_role']}/{s['peer_disk']}")
    if s["replication"] and s["replication"] != "Established":
        parts.append(str(s["replication"]))
    if s["percent_done"] is not None:
        parts.append(f"{s['percent_done']:g}%")
    return " ".join(parts)


def _nodes(topology: Mapping[str, Any]) -> list[str]:
    return list(topology.get("node_order") or sorted(topology["nodes"]))


def minions(topology: Mapping[str, Any]) -> list[str]:
    """The minion ids a bootstrap step targets (a list target), in node order, each checked.

    A target is data, never text: an id holding a comma would widen a list target, a newline
    add keys to a step, a glob match other minions; such an id raises ``RenderError``.

    >>> minions({"nodes": {"a": {"minion_id": "node1"}, "b": {"minion_id": "node2"}}, "node_order": ["a", "b"]})
    ['node1', 'node2']
    >>> minions({"nodes": {"a": {"minion_id": "node2,node3"}}, "node_order": ["a"]})
    Traceback (most recent call last):
    ...
    hapair.errors.RenderError: nodes:a:minion_id: 'node2,node3' is not a valid minion id (letters, digits, '.', '_' and '-' (no comma, glob or space))
    """
    return [require("minion_id", topology["nodes"][node].get("minion_id", node), f"nodes:{node}:minion_id")
            for node in _nodes(topology)]


def _resources(topology: Mapping[str, Any], resources: list[str] | None) -> list[str]:
    return list(resources) if resources else sorted(topology["drbd"]["resources"])


def _per_resource(
    condition: str,
    topology: Mapping[str, Any],
    observed: Observed,
    resources: list[str] | None,
    awaited: str,
    check: Callable[[str, str, dict[str, Any]], bool],
) -> GateResult:
    """Run ``check(node, resource, summary)`` on every node x resource; collect what was seen."""
    drbd = observed.get("drbd") or {}
    nodes = _nodes(topology)
    res_list = _resources(topology, resources)
    met = True
    seen: list[str] = []
    progress: list[dict[str, Any]] = []
    for node in nodes:
        models = drbd.get(node)
        if models is None:
            met = False
            seen.append(f"{node}: no answer")
            continue
        texts = []
        for res in res_list:
            model = find(models, res)
            summary = summarise(model)
            if not check(node, res, summary):
                met = False
            texts.append(describe(res, model))
            if summary["replication"] and str(summary["replication"]).startswith("Sync"):
                progress.append({
                    "node": node, "resource": res, "replication": summary["replication"],
                    "percent_done": summary["percent_done"], "eta_seconds": summary["eta_seconds"],
                    "out_of_sync_kib": summary["out_of_sync_kib"],
                })
        seen.append(f"{node}: {', '.join(texts)}")
    what = f"{', '.join(res_list)} {awaited} on {' and '.join(nodes)}"
    return GateResult(condition, met, what, "; ".join(seen), progress)


def expected_roles(topology: Mapping[str, Any], resource: str) -> dict[str, str]:
    """The steady-state role of each node for ``resource`` from its mode.

    dual-primary: both Primary; single-primary and crossed: ``primary`` (else ``initial_primary``)
    Primary, the other Secondary.

    >>> expected_roles(seed000, "r0")
    {'web1': 'Primary', 'web2': 'Primary'}
    """
    return dict(topology["drbd"]["resources"][resource]["roles"])


def o2cb_online(status: Any) -> bool:
    """Whether one node's o2cb status says the cluster stack is online.

    Accepts the ``o2cb.status`` dict (``online``/``cluster_online`` true, or ``state``/``cluster``
    ``"online"``) or a plain bool.
    """
    if isinstance(status, bool):
        return status
    if not isinstance(status, Mapping):
        return False
    for key in ("online", "cluster_online", "heartbeat_active"):
        if status.get(key) is True:
            return True
    for key in ("state", "cluster", "status"):
        value = status.get(key)
        if isinstance(value, str) and value.lower() == "online":
            return True
    return False


def gate(
    condition: str,
    topology: Mapping[str, Any],
    observed: Observed,
    resources: list[str] | None = None,
    filesystems: list[str] | None = None,
) -> GateResult:
    """Evaluate ``condition`` (one of :data:`CONDITIONS`) against both nodes' observed state.

    - ``up``: the resource exists on both nodes (attached, any connection state)
    - ``connected``: both nodes see the peer ``Connected`` (any replication state)
    - ``synced``: Connected, replication Established, disk and peer disk UpToDate on both
    - ``demoted``: every node whose steady role is Secondary is Secondary (before a promotion
      elsewhere: a role that moves is demoted, observed, then promoted)
    - ``roles``: each node has the role of :func:`expected_roles` (stack none: where each group
      runs, :func:`placement`, when ``observed`` has ``mounts``; a re-run after a failover passes)
    - ``o2cb_online``: o2cb reports the cluster online on both nodes
    - ``quorate``: corosync votequorum is Quorate on both nodes with both node ids as members
    - ``dlm_up``: dlm_controld answers on both nodes, quorate, with both node ids members
    - ``mounted``: each filesystem is mounted at its mountpoint on every node of ``mount_on``
    - ``groups_running``: heartbeat runs, settled, on both nodes and each service group is held
      by exactly one of them (after a failover that may be the other node: a re-run accepts it)
    - ``groups_started`` (stack none): each group's filesystem mounted at its mountpoint on exactly
      one node (after ``hapair.failover`` that may be the other node)

    Raises ``ValueError`` for an unknown condition or resource.
    """
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; expected one of {', '.join(CONDITIONS)}")
    for res in resources or []:
        if res not in topology["drbd"]["resources"]:
            raise ValueError(f"unknown resource {res!r} in topology {topology.get('name')!r}")
    if follows_placement(topology, condition) and observed.get("mounts"):
        topology = placed(dict(topology), placement(topology, observed))
    if condition == "up":
        return _per_resource(condition, topology, observed, resources, "up", lambda n, r, s: s["present"]
                             and s["disk"] not in (None, "Diskless", "Unconfigured"))
    if condition == "connected":
        return _per_resource(condition, topology, observed, resources, "Connected",
                             lambda n, r, s: s["connection"] == "Connected")
    if condition == "synced":
        return _per_resource(
            condition, topology, observed, resources, "Connected, Established, UpToDate/UpToDate",
            lambda n, r, s: drbd_state.synced(s["connection"], s["replication"], s["disk"], s["peer_disk"]))
    if condition == "demoted":
        want = {res: expected_roles(topology, res) for res in _resources(topology, resources)}
        text = "; ".join(f"{r} Secondary on {'/'.join(n for n, v in w.items() if v == 'Secondary')}"
                         for r, w in want.items())
        result = _per_resource(condition, topology, observed, resources, "demoted",
                               lambda n, r, s: want[r][n] == "Primary" or s["role"] == "Secondary")
        result.awaited = text
        return result
    if condition == "roles":
        want = {res: expected_roles(topology, res) for res in _resources(topology, resources)}
        text = "; ".join(f"{r} {'/'.join(f'{n}={v}' for n, v in w.items())}" for r, w in want.items())
        result = _per_resource(condition, topology, observed, resources, "roles",
                               lambda n, r, s: s["role"] == want[r][n])
        result.awaited = f"roles {text}"
        return result
    if condition == "o2cb_online":
        return _o2cb_gate(topology, observed)
    if condition in ("quorate", "dlm_up"):
        return _stack_gate(condition, topology, observed)
    if condition == "groups_running":
        return _groups_gate(topology, observed)
    if condition == "groups_started":
        return _started_gate(topology, observed)
    return _mounted_gate(topology, observed, filesystems)


def held_groups(topology: Mapping[str, Any], node: str, status: Any) -> list[str] | None:
    """The service groups ``node`` holds, from its ``heartbeat.status``; None while heartbeat is
    not running there or is in transition (``cl_status rscstatus``: all, local, foreign, none).

    >>> held_groups({"groups": {"www": {"node": "n1"}}}, "n2", {"running": True, "resources": "foreign"})
    ['www']
    """
    if not isinstance(status, Mapping) or not status.get("running") or status.get("resources") not in HELD:
        return None
    kinds = HELD[status["resources"]]
    return sorted(name for name, group in (topology.get("groups") or {}).items()
                  if ("own" if group["node"] == node else "peer") in kinds)


def group_holders(topology: Mapping[str, Any], observed: Observed) -> dict[str, list[str]]:
    """``{group: [nodes holding it]}`` from both nodes' ``heartbeat.status`` (one owner: the gate,
    ``hapair.status`` and the failover runner read where a group runs from here)."""
    states = observed.get("heartbeat") or {}
    out: dict[str, list[str]] = {name: [] for name in sorted(topology.get("groups") or {})}
    for node in _nodes(topology):
        for name in held_groups(topology, node, states.get(node)) or []:
            out[name].append(node)
    return out


def _groups_gate(topology: Mapping[str, Any], observed: Observed) -> GateResult:
    """``groups_running``: heartbeat runs on both nodes, settled, and each group is held by one."""
    states = observed.get("heartbeat") or {}
    seen, met = [], True
    for node in _nodes(topology):
        status = states.get(node)
        held = held_groups(topology, node, status)
        if held is None:
            met = False
            why = "no answer" if status is None else (
                "heartbeat not running" if not (status or {}).get("running")
                else f"resources {(status or {}).get('resources')}")
            seen.append(f"{node}: {why}")
        else:
            seen.append(f"{node}: holds {', '.join(held) or 'nothing'}")
    holders = group_holders(topology, observed)
    met = met and all(len(nodes) == 1 for nodes in holders.values())
    awaited = "; ".join(f"group {name} running on one node (prefers {topology['groups'][name]['node']})"
                        for name in holders)
    return GateResult("groups_running", met, awaited, "; ".join(seen))


def group_mounts(topology: Mapping[str, Any], observed: Observed) -> dict[str, list[str]]:
    """Stack none: ``{group: [nodes where its filesystem is mounted]}`` from both nodes'
    ``mount.active`` (the mountpoint, with the filesystem's type).

    >>> topo = {"node_order": ["n1", "n2"], "groups": {"g": {"filesystem": "f"}},
    ...         "filesystems": {"f": {"mountpoint": "/srv/a", "type": "btrfs"}}}
    >>> group_mounts(topo, {"mounts": {"n1": {}, "n2": {"/srv/a": {"fstype": "btrfs"}}}})
    {'g': ['n2']}
    """
    mounts = observed.get("mounts") or {}
    out: dict[str, list[str]] = {}
    for name, group in sorted((topology.get("groups") or {}).items()):
        fs = (topology.get("filesystems") or {}).get(group.get("filesystem")) or {}
        out[name] = [node for node in _nodes(topology)
                     if isinstance(mounts.get(node), Mapping) and isinstance(mounts[node].get(fs.get("mountpoint")), Mapping)
                     and mounts[node][fs["mountpoint"]].get("fstype") in (None, fs.get("type"))]
    return out


def placement(topology: Mapping[str, Any], observed: Observed) -> dict[str, str]:
    """Stack none: ``{group: node}`` for each service group observed running on one node: its
    resource Primary there and its filesystem mounted there (a node whose mounts are ``None``,
    unknown, counts when Primary). The one owner of "where does a group run" for the runner's
    gates, ``hapair.failover`` and each node's bootstrap step (``local_view``); applied with
    ``hapair.topology.placed``. A group Primary nowhere (a fresh pair), Primary but not mounted
    (right after the initial sync) or on both is left out: the pillar's node holds.

    >>> topo = {"node_order": ["n1", "n2"], "cluster": {"stack": "none"},
    ...         "groups": {"g": {"filesystem": "f", "resource": "r0"}},
    ...         "filesystems": {"f": {"mountpoint": "/srv/a", "type": "btrfs"}}}
    >>> seen = {"drbd": {"n1": [{"name": "r0", "role": "Secondary"}], "n2": [{"name": "r0", "role": "Primary"}]},
    ...         "mounts": {"n1": {}, "n2": {"/srv/a": {"fstype": "btrfs"}}}}
    >>> placement(topo, seen)
    {'g': 'n2'}
    """
    if topology.get("cluster", {}).get("stack") != "none":
        return {}
    drbd = observed.get("drbd") or {}
    mounts = observed.get("mounts") or {}
    out: dict[str, str] = {}
    for name, group in sorted((topology.get("groups") or {}).items()):
        fs = (topology.get("filesystems") or {}).get(group.get("filesystem")) or {}
        running = []
        for node in _nodes(topology):
            if summarise(find(drbd.get(node), group["resource"]))["role"] != "Primary":
                continue
            seen = mounts.get(node)
            here = (seen.get(fs.get("mountpoint")) if isinstance(seen, Mapping) else None)
            if seen is None or (isinstance(here, Mapping) and here.get("fstype") in (None, fs.get("type"))):
                running.append(node)
        if len(running) == 1:
            out[name] = running[0]
    return out


def local_view(topology: Mapping[str, Any], node: str, models: list[Model] | None, mounts: Any) -> Observed:
    """What ``node`` alone sees of both nodes, in the gates' ``observed`` shape: its own DRBD models
    and mounts, and for the peer only the role DRBD reports for it (its mounts unknown).

    >>> v = local_view({"node_order": ["n1", "n2"]}, "n1", [{"name": "r0", "role": "Secondary",
    ...                 "peers": [{"role": "Primary"}]}], {})
    >>> v["drbd"]["n2"], v["mounts"]
    ([{'name': 'r0', 'role': 'Primary'}], {'n1': {}, 'n2': None})
    """
    peer = [n for n in _nodes(topology) if n != node]
    peer_models = [{"name": m.get("name"), "role": summarise(m)["peer_role"]} for m in models or []]
    return {"drbd": {node: list(models or []), **{p: peer_models for p in peer}},
            "mounts": {node: mounts if isinstance(mounts, Mapping) else None, **{p: None for p in peer}}}


def _started_gate(topology: Mapping[str, Any], observed: Observed) -> GateResult:
    """``groups_started``: each group's filesystem mounted on exactly one node."""
    mounts = observed.get("mounts") or {}
    holders = group_mounts(topology, observed)
    met = all(node in mounts for node in _nodes(topology)) and all(len(n) == 1 for n in holders.values())
    seen = [f"{node}: no answer" for node in _nodes(topology) if node not in mounts]
    seen += [f"group {name}: mounted on {', '.join(nodes) or 'no node'}" for name, nodes in holders.items()]
    awaited = "; ".join(f"group {name}'s filesystem mounted on one node (prefers {topology['groups'][name]['node']})"
                        for name in holders)
    return GateResult("groups_started", met, awaited, "; ".join(seen))


def _o2cb_gate(topology: Mapping[str, Any], observed: Observed) -> GateResult:
    states = observed.get("o2cb") or {}
    nodes = _nodes(topology)
    seen, met = [], True
    for node in nodes:
        status = states.get(node)
        if status is None:
            met = False
            seen.append(f"{node}: no answer")
            continue
        online = o2cb_online(status)
        met = met and online
        seen.append(f"{node}: {'online' if online else 'offline'}")
    name = (topology.get("cluster") or {}).get("name")
    return GateResult("o2cb_online", met, f"o2cb cluster {name} online on {' and '.join(nodes)}", "; ".join(seen))


def cluster_node_ids(topology: Mapping[str, Any]) -> dict[str, int]:
    """``{node: corosync/dlm node id}``: ``cluster_node_id``, default 1 and 2 in node order."""
    return {node: int(topology["nodes"][node].get("cluster_node_id") or index)
            for index, node in enumerate(_nodes(topology), start=1)}


def quorum_seen(status: Any) -> tuple[bool, list[int], str]:
    """One node's ``corosync.quorum_status``: (quorate, member node ids, short text)."""
    if not isinstance(status, Mapping):
        return False, [], "no status"
    ids = sorted(m.get("node_id") for m in status.get("members") or [] if m.get("node_id") is not None)
    if status.get("quorate"):
        text = "quorate"
    else:
        text = (f"not quorate ({status.get('total_votes')} of {status.get('expected_votes')} votes"
                f"{', activity blocked' if status.get('activity_blocked') else ''})")
    return bool(status.get("quorate")), ids, f"{text}, members {','.join(map(str, ids)) or 'none'}"


def dlm_seen(status: Any) -> tuple[bool, list[int], str]:
    """One node's ``corosync.dlm_status``: (quorate and running, member node ids, short text)."""
    if not isinstance(status, Mapping) or not status.get("running"):
        error = status.get("error") if isinstance(status, Mapping) else None
        return False, [], f"dlm_controld not running{f' ({error})' if error else ''}"
    ids = sorted(n["node_id"] for n in status.get("nodes") or [] if n.get("member"))
    text = "quorate" if status.get("quorate") else "not quorate"
    if status.get("fence_pid"):
        text += f", fencing (pid {status['fence_pid']})"
    return bool(status.get("quorate")), ids, f"dlm {text}, members {','.join(map(str, ids)) or 'none'}"


def _stack_gate(condition: str, topology: Mapping[str, Any], observed: Observed) -> GateResult:
    key, seen_of, what = {"quorate": ("corosync", quorum_seen, "corosync quorate"),
                          "dlm_up": ("dlm", dlm_seen, "dlm_controld up")}[condition]
    states = observed.get(key) or {}
    ids = cluster_node_ids(topology)
    want = sorted(ids.values())
    seen, met = [], True
    for node in _nodes(topology):
        status = states.get(node)
        if status is None:
            met = False
            seen.append(f"{node}: no answer")
            continue
        ok, members, text = seen_of(status)
        met = met and ok and set(want) <= set(members)
        seen.append(f"{node}: {text}")
    name = (topology.get("cluster") or {}).get("name")
    awaited = f"{what} in cluster {name} on {' and '.join(_nodes(topology))} with members {','.join(map(str, want))}"
    return GateResult(condition, met, awaited, "; ".join(seen))


def _mounted_gate(topology: Mapping[str, Any], observed: Observed, filesystems: list[str] | None) -> GateResult:
    mounts = observed.get("mounts") or {}
    fss = topology.get("filesystems") or {}
    names = list(filesystems) if filesystems else sorted(fss)
    for name in names:
        if name not in fss:
            raise ValueError(f"unknown filesystem {name!r} in topology {topology.get('name')!r}")
    met = True
    awaited, seen = [], []
    for name in names:
        fs = fss[name]
        on = fs.get("mount_on") or _nodes(topology)
        awaited.append(f"{name} ({fs.get('type')}) at {fs.get('mountpoint')} on {' and '.join(on)}")
        for node in on:
            active = mounts.get(node)
            if active is None:
                met = False
                seen.append(f"{node}: no answer")
                continue
            entry = active.get(fs.get("mountpoint"))
            if not entry:
                met = False
                seen.append(f"{node}: {fs.get('mountpoint')} not mounted")
            elif fs.get("type") and entry.get("fstype") not in (None, fs.get("type")):
                met = False
                seen.append(f"{node}: {fs.get('mountpoint')} is {entry.get('fstype')} from {entry.get('device')}")
            else:
                seen.append(f"{node}: {fs.get('mountpoint')} {entry.get('fstype')} from {entry.get('device')}")
    return GateResult("mounted", met, "; ".join(awaited), "; ".join(seen))


def progress_lines(result: GateResult) -> list[str]:
    """Human progress lines for a resync: ``web2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB``."""
    lines = []
    for row in result.progress:
        text = f"{row['node']} {row['resource']} {row['replication']}"
        if row.get("percent_done") is not None:
            text += f" {row['percent_done']:g}%"
        if row.get("eta_seconds") is not None:
            text += f" eta {row['eta_seconds']}s"
        if row.get("out_of_sync_kib") is not None:
            text += f" oos {row['out_of_sync_kib']} KiB"
        lines.append(text)
    return lines
