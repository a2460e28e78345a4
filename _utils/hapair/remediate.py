"""Pure remediation planner and beacon change detection for DRBD resources.

Two things live here, both Salt-free and table-tested:

1. :func:`diff` - what changed between two snapshots of a node's resources (the beacon's events).
2. :func:`plan` - given both nodes' facts, the resource's ``remediation`` policy and the record of
   earlier attempts, what (if anything) to do. This is where "never lose data the policy does not
   name" is enforced: every discarding path has preconditions, and each failed precondition is a
   refusal with the reason and the override that would allow it.

Facts per node (``None`` when the minion did not answer)::

    {"model": <normalised resource model> | None,     # drbd.status for this resource
     "mounted": ["/var/www"] | [] | None,              # mountpoints of the DRBD device (None: unknown)
     "backing": {"disk": "/dev/vg0/r0", "lvm": {"vg": "vg0", "lv": "r0"} | None} | None,
     "gi": "9F74E844602961A9:0000000000000000:6A6F...:...:1:1:1:1:0:0:0" | dict | None,
     "primary_since": 1700000000.0 | None}             # when it last became Primary (beacon record)

History (kept by the runner in a state file)::

    {"attempts": [{"at": 1700000000.0, "situation": "standalone", "ok": True}, ...],
     "events": ["<event id>", ...], "discards": [<record>, ...]}

Example::

    >>> facts = {n: {"model": {"name": "r0", "role": "Primary", "volumes": [{"disk_state": "UpToDate"}],
    ...                        "peers": [{"connection_state": state}]}}
    ...          for n, state in (("web1", "StandAlone"), ("web2", "WFConnection"))}
    >>> p = plan(seed000, "r0", facts, history={}, now=1700000000.0)
    >>> p["decision"], p["actions"]
    ('act', [{'node': 'web1', 'action': 'connect'}])
    >>> p["reason"]
    'r0 StandAlone on web1: reconnecting'
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from hapair import drbd_state
from hapair.drbd_parse import gi_uuids
from hapair.orchestrate import expected_roles, summarise

Facts = Mapping[str, Any]

DISCARDING = ("discard_zero_changes", "discard_least_changes", "discard_younger_primary", "victim")
DEFAULT_POLICY = drbd_state.REMEDIATION_DEFAULTS
HISTORY_KEEP = 50  # attempts, handled event ids and discard records kept per resource
CLUSTER_FS = ("ocfs2", "gfs2")
WATCHED = ("present", "role", "disk", "connection", "peer_role", "replication", "peer_disk")


# --------------------------------------------------------------------------- beacon change detection


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Events for every meaningful change between two snapshots ``{resource: model}``.

    Returns ``[{"tag": "hapair/drbd/r0/connection", "resource": "r0", "kind": "connection",
    "old": summary, "new": summary, "changed": {"connection": {"old": "Connected",
    "new": "StandAlone"}}}, ...]`` with kinds ``present``, ``role``, ``disk``, ``connection``,
    ``replication``, ``peer-role``, ``peer-disk``, ``standalone``, ``peer-diskless``,
    ``sync-finished``, ``diskless-served`` (this node turned Diskless while its Connected peer is
    UpToDate: ``hapair.drbd_state.served_by_peer``, reported, never remediated). The first snapshot (``old is None``) yields no events. Progress-only changes
    (percent done, ETA, out-of-sync counters) yield nothing.

    >>> m_connected = {"name": "r0", "role": "Primary", "volumes": [{"disk_state": "UpToDate"}],
    ...                "peers": [{"connection_state": "Connected"}]}
    >>> m_standalone = dict(m_connected, peers=[{"connection_state": "StandAlone"}])
    >>> events = diff({"r0": m_connected}, {"r0": m_standalone})
    >>> [e["tag"] for e in events]
    ['hapair/drbd/r0/connection', 'hapair/drbd/r0/standalone']
    >>> events[0]["changed"]
    {'connection': {'old': 'Connected', 'new': 'StandAlone'}}
    """
    if old is None:
        return []
    events: list[dict[str, Any]] = []
    for res in sorted(set(old) | set(new)):
        before, after = summarise(old.get(res)), summarise(new.get(res))
        changed = {k: {"old": before[k], "new": after[k]} for k in WATCHED if before[k] != after[k]}
        if not changed:
            continue
        kinds = []
        for key, kind in (("present", "present"), ("role", "role"), ("disk", "disk"),
                          ("connection", "connection"), ("replication", "replication"),
                          ("peer_role", "peer-role"), ("peer_disk", "peer-disk")):
            if key in changed:
                kinds.append(kind)
        if "connection" in changed and after["connection"] == "StandAlone":
            kinds.append("standalone")
        if "peer_disk" in changed and after["peer_disk"] == "Diskless":
            kinds.append("peer-diskless")
        if drbd_state.in_resync(before["replication"]) and _synced(after):
            kinds.append("sync-finished")
        if _served(after) and not _served(before):
            kinds.append("diskless-served")
        for kind in kinds:
            events.append({
                "tag": f"hapair/drbd/{res}/{kind}", "resource": res, "kind": kind,
                "old": before, "new": after, "changed": changed,
            })
    return events


def _served(summary: Mapping[str, Any]) -> bool:
    """``hapair.drbd_state.served_by_peer`` for an ``orchestrate.summarise`` summary."""
    return drbd_state.served_by_peer(summary["disk"], summary["connection"], summary["peer_disk"])


def _synced(summary: Mapping[str, Any]) -> bool:
    """``hapair.drbd_state.synced`` for an ``orchestrate.summarise`` summary."""
    return drbd_state.synced(summary["connection"], summary["replication"], summary["disk"], summary["peer_disk"])


# --------------------------------------------------------------------------- generation identifiers

def gi_relation(a: Any, b: Any) -> str | None:
    """Compare two nodes' generation identifiers (DRBD's uuid_compare, simplified, for reporting).

    Returns ``"same"``, ``"a_newer"``, ``"b_newer"``, ``"split_brain"`` (both diverged from the
    same bitmap UUID), ``"unrelated"``, or ``None`` when either side is unknown.
    """
    ga, gb = gi_uuids(a), gi_uuids(b)
    if not ga or not gb:
        return None
    if ga["current"] == gb["current"]:
        return "same"
    if ga["bitmap"] and gb["bitmap"] and ga["bitmap"] == gb["bitmap"]:
        return "split_brain"
    if ga["bitmap"] and ga["bitmap"] == gb["current"]:
        return "a_newer"
    if gb["bitmap"] and gb["bitmap"] == ga["current"]:
        return "b_newer"
    if gb["current"] in ga["history"]:
        return "a_newer"
    if ga["current"] in gb["history"]:
        return "b_newer"
    return "unrelated"


# --------------------------------------------------------------------------- rejoin candidates


def rejoin_candidates(topology_minions: Mapping[str, list[str]],
                      running: Mapping[str, Mapping[str, str | None]]) -> dict[str, dict[str, Any]]:
    """Which resources a minion-start remediation should look at, per topology.

    ``topology_minions``: ``{topology: [minion ids]}``; ``running``: ``{minion: {resource: the
    topology its .res was rendered from, or None}}`` for the minions that answered (absent = no
    answer). A resource is a candidate of topology T only when it runs on a node of T that
    answered *and* that node's config for it was rendered from T: the lab's alternative topologies
    (and a site's) reuse resource names, and acting on a running r0 under the wrong topology's
    policy would mount, promote or discard by the wrong plan. A topology none of whose minions
    answered has no candidates (its facts could not be read either, and looking anyway floods
    minions that are still starting; the next beacon or start event looks again).

    >>> rejoin_candidates({"web": ["n1", "n2"], "gfs": ["n1", "n2"]}, {"n1": {"r0": "gfs"}})
    {'web': {'answered': ['n1'], 'resources': []}, 'gfs': {'answered': ['n1'], 'resources': ['r0']}}
    """
    out: dict[str, dict[str, Any]] = {}
    for tname, mids in topology_minions.items():
        answered = [m for m in mids if m in running]
        resources = {res for m in answered for res, rendered in running[m].items() if rendered == tname}
        out[tname] = {"answered": answered, "resources": sorted(resources)}
    return out


# --------------------------------------------------------------------------- the planner


def covered(history: Mapping[str, Any], called_at: float) -> str | None:
    """Why an event's remediation, called at ``called_at``, has nothing to add; None when it has.

    A remediation of the same resource that read both nodes *after* this call began has seen all
    this call's event could tell (the state it reports, a split-brain record written before the
    event was sent) and decided on it. One fault fires several events (connection changes seen on
    both nodes, a minion start); each waits for the resource's lock in turn, and without this each
    one re-reads both nodes (seen in the lab: a queue of them kept a rejoin waiting over a minute).
    ``history["gathered_at"]`` is when the last remediation that heard from both nodes began
    reading them (master clock, like ``called_at``).

    >>> covered({"gathered_at": 105.0}, 100.0)
    'covered by a remediation that read both nodes 5.0s after this one was called'
    >>> covered({"gathered_at": 95.0}, 100.0) is None
    True
    >>> covered({}, 100.0) is None
    True
    """
    gathered = history.get("gathered_at")
    if not isinstance(gathered, (int, float)) or gathered < called_at:
        return None
    return f"covered by a remediation that read both nodes {gathered - called_at:.1f}s after this one was called"


def policy_of(topology: Mapping[str, Any], resource: str) -> dict[str, Any]:
    """The resource's remediation policy with every default filled in.

    ``split_brain: {victim: node2}`` and ``split_brain: victim`` + ``victim: node2`` both mean
    "discard node2's changes".
    """
    raw = dict(topology["drbd"]["resources"][resource].get("remediation") or {})
    pol = {**DEFAULT_POLICY, **{k: v for k, v in raw.items() if v is not None}}
    sb = pol.get("split_brain")
    if isinstance(sb, Mapping):
        pol["victim"] = sb.get("victim")
        pol["split_brain"] = "victim"
    elif pol.get("victim") and sb in (None, "victim"):
        pol["split_brain"] = "victim"
    return pol


def _result(resource: str, situation: str, decision: str, reason: str, **extra: Any) -> dict[str, Any]:
    out = {"resource": resource, "situation": situation, "decision": decision, "reason": reason,
           "actions": [], "victim": None, "survivor": None, "record": None}
    out.update(extra)
    return out


def classify(topology: Mapping[str, Any], resource: str, facts: Facts, split_brain: bool = False) -> dict[str, Any]:
    """Name the resource's situation from both nodes' facts.

    Returns ``{"situation": ..., "nodes": [...affected nodes], "detail": str}`` where situation is
    one of ``unreachable``, ``diskless_served`` (a node Diskless, Connected, its peer UpToDate and
    saying so itself: its backing disk failed or was detached and it serves through the peer; not
    down, see docs/disk-failure.md), ``down``, ``split_brain``, ``standalone``, ``waiting`` (connecting),
    ``syncing``, ``demoted`` (dual-primary node still Secondary), ``unmounted`` (a cluster
    filesystem of the resource missing on a Primary node of its ``mount_on``), ``healthy``.
    """
    nodes = list(topology.get("node_order") or sorted(topology["nodes"]))
    missing = [n for n in nodes if facts.get(n) is None]
    if missing:
        return {"situation": "unreachable", "nodes": missing, "detail": f"no answer from {', '.join(missing)}"}
    s = {n: summarise(facts[n].get("model")) for n in nodes}
    served = [n for n in nodes if _served(s[n])
              and all(s[p]["disk"] == "UpToDate" for p in nodes if p != n)]
    if served:
        peers = [p for p in nodes if p not in served]
        return {"situation": "diskless_served", "nodes": served,
                "detail": f"{resource} {drbd_state.SERVED_BY_PEER} on {', '.join(served)} (peer {', '.join(peers)} UpToDate): "
                          "its backing disk is detached (on-io-error detach?); replace or repair it, then "
                          f"drbd.attached (or drbd.create_md {resource} first on a blank disk); see docs/disk-failure.md"}
    down = [n for n in nodes if not s[n]["present"] or s[n]["disk"] in (None, "Diskless", "Unconfigured")]
    if down:
        return {"situation": "down", "nodes": down, "detail": f"{resource} not up on {', '.join(down)}"}
    connected = [n for n in nodes if s[n]["connection"] == "Connected"]
    gi = gi_relation(facts[nodes[0]].get("gi"), facts[nodes[1]].get("gi"))
    if len(connected) < 2 and (split_brain or gi == "split_brain"):
        why = "split-brain event" if split_brain else "generation identifiers diverged from one bitmap UUID"
        return {"situation": "split_brain", "nodes": nodes, "detail": f"split brain on {resource} ({why})"}
    standalone = [n for n in nodes if s[n]["connection"] in ("StandAlone", None)]
    if standalone:
        return {"situation": "standalone", "nodes": standalone, "detail": f"{resource} StandAlone on {', '.join(standalone)}"}
    if len(connected) < 2:
        waiting = [n for n in nodes if n not in connected]
        seen = ", ".join(f"{n} {s[n]['connection']}" for n in waiting)
        return {"situation": "waiting", "nodes": waiting, "detail": f"{resource} connecting: {seen}"}
    if not all(_synced(s[n]) for n in nodes):
        return {"situation": "syncing", "nodes": nodes, "detail": f"{resource} resyncing"}
    want = expected_roles(topology, resource)
    demoted = [n for n in nodes if want[n] == "Primary" and s[n]["role"] != "Primary"
               and topology["drbd"]["resources"][resource].get("mode") == "dual-primary"]
    if demoted:
        return {"situation": "demoted", "nodes": demoted, "detail": f"{resource} Secondary on {', '.join(demoted)} in dual-primary"}
    unmounted = _unmounted(topology, resource, facts)
    if unmounted:
        where = ", ".join(f"{fs} on {node}" for node, fs in unmounted)
        return {"situation": "unmounted", "nodes": sorted({n for n, _ in unmounted}), "mounts": unmounted,
                "detail": f"{resource} healthy but not mounted: {where}"}
    return {"situation": "healthy", "nodes": [], "detail": f"{resource} connected and UpToDate on both"}


def _unmounted(topology: Mapping[str, Any], resource: str, facts: Facts) -> list[tuple[str, str]]:
    """(node, filesystem) pairs of cluster filesystems on ``resource`` missing from a mount_on node.

    Only where the node's mounts are known (``mounted`` not None) and it is Primary.
    """
    out = []
    for name, fs in sorted((topology.get("filesystems") or {}).items()):
        if fs.get("resource") != resource or fs.get("type") not in CLUSTER_FS or not fs.get("mountpoint"):
            continue
        for node in fs.get("mount_on") or []:
            mounted = (facts.get(node) or {}).get("mounted")
            role = summarise((facts.get(node) or {}).get("model"))["role"]
            if mounted is not None and role == "Primary" and fs["mountpoint"] not in mounted:
                out.append((node, name))
    return out


def _attempts_since_healthy(history: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    attempts = list(history.get("attempts") or [])
    for idx in range(len(attempts) - 1, -1, -1):
        if attempts[idx].get("situation") == "healthy":
            return attempts[idx + 1:]
    return attempts


def plan(
    topology: Mapping[str, Any],
    resource: str,
    facts: Facts,
    history: Mapping[str, Any] | None = None,
    now: float = 0.0,
    event: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Decide what to do for ``resource`` (pure; the runner executes ``actions`` in order).

    Returns ``{"resource", "situation", "decision", "reason", "actions", "victim", "survivor",
    "record"}``; ``decision`` is one of ``none`` (nothing to do), ``act``, ``report`` (policy says
    report only), ``refuse`` (policy allows acting but a safety precondition failed; ``reason``
    says which and how to override), ``cooldown``, ``give_up`` (max_attempts reached),
    ``duplicate`` (this event id was handled already). ``diskless_served`` is always ``report``:
    never ``up`` (the disk failed: an operator replaces it and runs ``drbd.attached``), and no
    attempt is counted.
    Actions: ``{"node", "action": "up"|"connect"|"primary"|"secondary"|"mount"|"lvm_snapshot"|
    "discard_my_data_connect", ...}``.
    """
    history = history or {}
    event = event or {}
    pol = policy_of(topology, resource)
    event_id = event.get("id")
    if event_id and event_id in (history.get("events") or []):
        return _result(resource, "unknown", "duplicate", f"event {event_id} for {resource} was handled already")
    split_flag = bool(event.get("split_brain")) or str(event.get("kind", "")) == "split-brain"
    cls = classify(topology, resource, facts, split_brain=split_flag)
    situation, affected = cls["situation"], cls["nodes"]
    if situation in ("healthy", "syncing", "waiting"):
        return _result(resource, situation, "none", cls["detail"])
    if situation == "unreachable":
        return _result(resource, situation, "report", f"{cls['detail']}: not acting on half the facts")
    if situation == "diskless_served":
        return _result(resource, situation, "report", f"{cls['detail']}; not acting (nothing is down)")

    if situation == "split_brain":
        out = _plan_split_brain(topology, resource, facts, pol, now, cls)
    elif situation == "down":
        if not pol["rejoin_after_reboot"]:
            return _result(resource, situation, "report", f"{cls['detail']}; policy rejoin_after_reboot is off")
        if len(affected) == len(topology.get("node_order") or topology["nodes"]):
            # nothing runs to rejoin: never deployed, or stopped on purpose (the formula brings it up)
            return _result(resource, situation, "report",
                           f"{cls['detail']}: down on both nodes, no running peer to rejoin; not acting "
                           "(bring it up with the formula or orch.hapair.bootstrap)")
        out = _result(resource, situation, "act", f"{cls['detail']}: bringing it up",
                      actions=[{"node": n, "action": "up"} for n in affected])
    elif situation == "standalone":
        if not pol["reconnect"]:
            return _result(resource, situation, "report", f"{cls['detail']}; policy reconnect is off")
        out = _result(resource, situation, "act", f"{cls['detail']}: reconnecting",
                      actions=[{"node": n, "action": "connect"} for n in affected])
    elif situation == "demoted":
        if not pol["rejoin_after_reboot"]:
            return _result(resource, situation, "report", f"{cls['detail']}; policy rejoin_after_reboot is off")
        out = _result(resource, situation, "act", f"{cls['detail']}: promoting (dual-primary)",
                      actions=[{"node": n, "action": "primary"} for n in affected])
    else:  # unmounted
        if not pol["rejoin_after_reboot"]:
            return _result(resource, situation, "report", f"{cls['detail']}; policy rejoin_after_reboot is off")
        fss = topology.get("filesystems") or {}
        out = _result(resource, situation, "act", f"{cls['detail']}: mounting",
                      actions=[{"node": n, "action": "mount", "filesystem": fs, "type": fss[fs]["type"]}
                               for n, fs in cls["mounts"]])

    if out["decision"] != "act":
        return out
    tried = _attempts_since_healthy(history)
    if len(tried) >= int(pol["max_attempts"]):
        return _result(resource, situation, "give_up",
                       f"{cls['detail']}; {len(tried)} attempt(s) since it was last healthy reached "
                       f"max_attempts {pol['max_attempts']}: an operator must look")
    if tried and now - float(tried[-1].get("at", 0)) < float(pol["cooldown"]):
        wait = float(pol["cooldown"]) - (now - float(tried[-1].get("at", 0)))
        return _result(resource, situation, "cooldown",
                       f"{cls['detail']}; last attempt {now - float(tried[-1]['at']):.0f}s ago, "
                       f"cooldown {pol['cooldown']}s (next in {wait:.0f}s)")
    return out


def _changes(facts: Facts, node: str) -> int | None:
    """KiB this node changed while disconnected (the out-of-sync counter towards its peer)."""
    return summarise(facts[node].get("model"))["out_of_sync_kib"]


def _choose_victim(topology: Mapping[str, Any], resource: str, facts: Facts, pol: Mapping[str, Any],
                   nodes: list[str]) -> tuple[str | None, str]:
    """(victim, why) per policy, or (None, refusal reason)."""
    mode = pol["split_brain"]
    if mode == "victim":
        victim = pol.get("victim")
        if victim not in nodes:
            return None, f"policy victim {victim!r} is not a node of this topology ({', '.join(nodes)})"
        return victim, f"policy names {victim} as the victim"
    changes = {n: _changes(facts, n) for n in nodes}
    if mode in ("discard_zero_changes", "discard_least_changes"):
        unknown = [n for n in nodes if changes[n] is None]
        if unknown:
            return None, f"cannot tell how much {', '.join(unknown)} changed (out-of-sync unknown)"
        seen = ", ".join(f"{n} {changes[n]} KiB" for n in nodes)
        if mode == "discard_zero_changes":
            zero = [n for n in nodes if changes[n] == 0]
            if not zero:
                return None, f"both nodes changed data ({seen}); discard_zero_changes only discards an unchanged side"
            if len(zero) == 2:
                roles = {n: summarise(facts[n].get("model"))["role"] for n in nodes}
                secondary = [n for n in nodes if roles[n] != "Primary"]
                victim = secondary[-1] if secondary else nodes[-1]
                return victim, f"neither node changed data ({seen}); {victim} reconnects as sync target"
            return zero[0], f"{zero[0]} changed nothing ({seen})"
        if changes[nodes[0]] == changes[nodes[1]]:
            return None, f"both nodes changed the same amount ({seen}); name a victim"
        victim = min(nodes, key=lambda n: changes[n])
        return victim, f"{victim} changed least ({seen})"
    if mode == "discard_younger_primary":
        since = {n: facts[n].get("primary_since") for n in nodes}
        unknown = [n for n in nodes if since[n] is None]
        if unknown:
            return None, f"no record of when {', '.join(unknown)} became Primary"
        if since[nodes[0]] == since[nodes[1]]:
            return None, "both nodes became Primary at the same recorded time"
        victim = max(nodes, key=lambda n: since[n])
        return victim, f"{victim} became Primary last (at {since[victim]})"
    return None, f"unknown split_brain policy {mode!r}"


def _plan_split_brain(topology: Mapping[str, Any], resource: str, facts: Facts, pol: Mapping[str, Any],
                      now: float, cls: Mapping[str, Any]) -> dict[str, Any]:
    nodes = list(cls["nodes"])
    detail = cls["detail"]
    changes = {n: _changes(facts, n) for n in nodes}
    if pol["split_brain"] == "manual" or pol["split_brain"] not in DISCARDING:
        return _result(resource, "split_brain", "report",
                       f"{detail}; policy split_brain is {pol['split_brain']}: nothing discarded. Changes while "
                       f"apart: {', '.join(f'{n} {changes[n]} KiB' for n in nodes)}. To resolve by hand: "
                       f"on the victim `drbdadm secondary {resource}; drbdadm connect --discard-my-data {resource}`, "
                       f"on the survivor `drbdadm connect {resource}`")
    victim, why = _choose_victim(topology, resource, facts, pol, nodes)
    if victim is None:
        return _result(resource, "split_brain", "refuse", f"{detail}; refusing to discard: {why}",)
    survivor = next(n for n in nodes if n != victim)
    sv, ss = summarise(facts[victim].get("model")), summarise(facts[survivor].get("model"))
    mounted = facts[victim].get("mounted")
    if sv["connection"] not in ("StandAlone", None):
        # the victim already reconnects (an earlier remediation ran its discard-my-data connect):
        # never snapshot or discard twice; at most finish the survivor's side
        if ss["connection"] in ("StandAlone", None):
            return _result(resource, "split_brain", "act",
                           f"{detail}; {victim} is already {sv['connection']} after its discard: connecting {survivor}",
                           actions=[{"node": survivor, "action": "connect"}], victim=victim, survivor=survivor)
        return _result(resource, "split_brain", "none",
                       f"{detail}; {victim} is {sv['connection']} and {survivor} {ss['connection']}: resolution under way",
                       victim=victim, survivor=survivor)

    def refuse(reason: str, override: str) -> dict[str, Any]:
        return _result(resource, "split_brain", "refuse",
                       f"{detail}; victim {victim} ({why}) but refusing: {reason}; to proceed {override}",
                       victim=victim, survivor=survivor)

    if mounted is None:
        return refuse(f"cannot tell whether {resource} is mounted on {victim}", "make mount.active answer on the victim")
    if mounted:
        return refuse(f"{resource} is mounted on {victim} at {', '.join(mounted)}",
                      f"unmount it on {victim} first")
    if ss["disk"] != "UpToDate":
        return refuse(f"survivor {survivor} is {ss['disk']}, not UpToDate: no good copy would remain",
                      "repair the survivor's disk first")
    actions: list[dict[str, Any]] = []
    snapshot = None
    if pol["snapshot_before_discard"]:
        backing = facts[victim].get("backing") or {}
        lvm = backing.get("lvm")
        if not lvm:
            return refuse(f"backing device {backing.get('disk') or 'unknown'} of {resource} on {victim} is not an "
                          "LVM logical volume, so its data cannot be kept in a snapshot",
                          "set remediation snapshot_before_discard: false (accepting the loss) or use LVM")
        snapshot = f"{lvm['lv']}-hapair-sb-{int(now)}"
        actions.append({"node": victim, "action": "lvm_snapshot", "vg": lvm["vg"], "lv": lvm["lv"],
                        "snapshot": snapshot})
    if sv["role"] == "Primary":
        # DRBD itself refuses to demote while the device is held open (open writers): that
        # failure stops the plan before anything is discarded.
        actions.append({"node": victim, "action": "secondary"})
    actions.append({"node": victim, "action": "discard_my_data_connect"})
    # always: a survivor seen WFConnection may still turn StandAlone (both sides detect the split
    # brain, one a moment later); `connect` checks StandAlone on the node when it runs
    actions.append({"node": survivor, "action": "connect"})
    record = {"at": now, "resource": resource, "victim": victim, "survivor": survivor,
              "policy": pol["split_brain"], "why": why, "changes_kib": changes, "snapshot": snapshot}
    return _result(resource, "split_brain", "act", f"{detail}; discarding {victim}'s changes: {why}",
                   actions=actions, victim=victim, survivor=survivor, record=record)


# --------------------------------------------------------------------------- the record (history)
#
# The runner keeps one record per resource (``<topology>.<resource>.json`` under the master's
# cachedir). Reading and writing it is the runner's; what goes into it is decided here, so each
# rule has a table test: who became Primary when, which event ids were handled, the attempts since
# the resource was last healthy, the discards with who, when and why, and the last decision.


def note_role(history: Mapping[str, Any], node: str | None, event: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The record after a ``role`` event from ``node``: when it became Primary (``primary_since``).

    >>> note_role({}, "web2", {"kind": "role", "new": {"role": "Primary"}}, 5.0)
    {'primary_since': {'web2': 5.0}}
    >>> note_role({}, "web2", {"kind": "role", "new": {"role": "Secondary"}}, 5.0)
    {}
    """
    out = dict(history)
    if node and event.get("kind") == "role" and (event.get("new") or {}).get("role") == "Primary":
        out["primary_since"] = {**(history.get("primary_since") or {}), node: now}
    return out


def record(history: Mapping[str, Any], outcome: Mapping[str, Any], now: float,
           event: Mapping[str, Any] | None = None, attempt: Mapping[str, Any] | None = None,
           dry_run: bool = False, keep: int = HISTORY_KEEP) -> dict[str, Any]:
    """The record after one remediation (pure; the runner writes what this returns).

    ``outcome``: the remediation's result (``situation``, ``decision``, ``reason``, ``victim``,
    ``record`` (a discard's, from ``plan``), ``executed`` actions); ``attempt``: ``{"ok": bool,
    "error": str?}`` when actions ran (None otherwise: nothing was tried); ``event``: the event
    that started it (its ``id`` is remembered, so the same event is handled once; ``kind`` goes
    into ``last``). A healthy resource ends the run of attempts (one ``healthy`` entry, not one
    per look); a dry run records no attempt and no ``last``. Lists keep the newest ``keep``.

    >>> h = record({}, {"situation": "standalone", "decision": "healed", "reason": "r0 StandAlone",
    ...                 "actions": [{"node": "web1", "action": "connect"}]}, 10.0,
    ...            event={"id": "e1", "kind": "connection"}, attempt={"ok": True})
    >>> h["events"], h["attempts"], h["last"]["decision"]
    (['e1'], [{'at': 10.0, 'situation': 'standalone', 'actions': [{'node': 'web1', 'action': 'connect'}], 'ok': True}], 'healed')
    """
    event = event or {}
    out = dict(history)
    if event.get("id"):
        out["events"] = (list(history.get("events") or []) + [event["id"]])[-keep:]
    attempts = list(history.get("attempts") or [])
    if outcome.get("situation") == "healthy" and (not attempts or attempts[-1].get("situation") != "healthy"):
        attempts.append({"at": now, "situation": "healthy", "ok": True})
    if attempt is not None and not dry_run:
        entry = {"at": now, "situation": outcome.get("situation"), "actions": list(outcome.get("actions") or []),
                 "ok": bool(attempt.get("ok"))}
        if attempt.get("error"):
            entry["error"] = attempt["error"]
        attempts.append(entry)
        if outcome.get("record") and not attempt.get("error"):
            discard = dict(outcome["record"], executed=[a["action"] for a in outcome.get("executed") or []],
                           ok=bool(attempt.get("ok")))
            out["discards"] = (list(history.get("discards") or []) + [discard])[-keep:]
    out["attempts"] = attempts[-keep:]
    if not dry_run:
        out["last"] = {"at": now, "situation": outcome.get("situation"), "decision": outcome.get("decision"),
                       "reason": outcome.get("reason"), "victim": outcome.get("victim"), "event": event.get("kind")}
    return out


def stale_markers(facts: Facts, connected: Iterable[str] | None = None) -> list[str]:
    """Nodes whose split-brain record (``split_brain_marker`` in their facts) is stale: Connected again.

    ``connected``: the nodes known Connected now (after a verified heal); default: the nodes whose
    ``model`` shows a Connected peer (``hapair.drbd_state.connected_again``). DRBD connects only
    once the split brain is resolved, so such a record is history: the runner sets it aside
    (``<record>.resolved``) and the grains stop saying ``split-brain``.

    >>> f = {"web1": {"split_brain_marker": True, "model": {"peers": [{"connection_state": "Connected"}]}},
    ...      "web2": {"split_brain_marker": True, "model": {"peers": [{"connection_state": "StandAlone"}]}}}
    >>> stale_markers(f), stale_markers(f, connected=["web1", "web2"]), stale_markers({"web1": None})
    (['web1'], ['web1', 'web2'], [])
    """
    wanted = None if connected is None else set(connected)
    return sorted(n for n, f in facts.items() if isinstance(f, Mapping) and f.get("split_brain_marker")
                  and (drbd_state.connected_again(f.get("model")) if wanted is None else n in wanted))
