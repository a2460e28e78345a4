"""A planned switchover of a service group, through its cluster manager (Salt-free).

hapair never moves roles itself where a manager owns them: it checks that the move is safe, then
asks the engine (heartbeat: ``hb_takeover`` on the node that should run the group, ``local`` when
the group prefers that node, else ``foreign``). Under stack none (seed 003) there is no manager:
the operator's ``hapair.failover`` is the engine, and ``plan`` returns a ``switch``: the group
stopped on the node it leaves (``group-stop``: containers, filesystem, Secondary), then started on
the target (``group-takeover``: Primary, filesystem, containers). ``plan`` is pure: the runner
(``salt-run hapair.failover``) gathers both nodes' observed state in one job each
(``drbd.report heartbeat=True``) and hands it here.

>>> topo = {"name": "t", "node_order": ["n1", "n2"], "nodes": {"n1": {}, "n2": {}},
...         "groups": {"www": {"node": "n1", "resource": "r0"}}}
>>> seen = {"heartbeat": {"n1": {"running": True, "resources": "all"}, "n2": {"running": True, "resources": "none"}},
...         "drbd": {"n1": {"role": "Primary", "disk": "UpToDate", "connection": "Connected", "split_brain": False},
...                  "n2": {"role": "Secondary", "disk": "UpToDate", "connection": "Connected", "split_brain": False}}}
>>> plan(topo, "www", "n2", seen)["action"]
'takeover'
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair.errors import RefusedError
from hapair.orchestrate import group_holders, placement

Topology = Mapping[str, Any]


def group_of(topology: Topology, name: str) -> str:
    """The group ``name`` names: a group, or the DRBD resource of one. ValueError otherwise.

    >>> group_of({"groups": {"www": {"resource": "r0"}}}, "r0")
    'www'
    """
    groups = topology.get("groups") or {}
    if name in groups:
        return name
    for gname, group in sorted(groups.items()):
        if group["resource"] == name:
            return gname
    known = ", ".join(sorted(groups)) or "none"
    raise ValueError(f"{name!r} is neither a service group nor a group's resource in topology "
                     f"{topology.get('name')}; groups: {known}")


def plan(topology: Topology, group: str, to: str | None, observed: Mapping[str, Any],
         force: bool = False) -> dict[str, Any]:
    """What moving ``group`` to node ``to`` (default: the other node) takes, or why not.

    ``observed``: ``{"heartbeat": {node: heartbeat.status or None}, "drbd": {node: {"role", "disk",
    "connection", "split_brain"} or None}}`` (None: the node did not answer). Returns
    ``{"action": "none"|"takeover", "group", "from", "to", "which": "local"|"foreign", "comment"}``.
    Raises RefusedError (naming the resource and the override) when the target does not answer,
    does not run heartbeat, its disk is not UpToDate, a split brain is pending, heartbeat on a node
    is mid-move (rscstatus ``transition``), the holder answers but the target is not Connected to
    it (both may say UpToDate while apart), or both nodes claim the group; ValueError for an
    unknown group or node. ``force`` lifts only the "the current holder does not answer" check (a
    dead node): the target's own disk must still be UpToDate, and every other refusal stands.
    """
    if (topology.get("cluster") or {}).get("stack") == "none":
        return _switch(topology, group, to, observed, force)
    gname = group_of(topology, group)
    spec = topology["groups"][gname]
    nodes = list(topology["node_order"])
    holders = group_holders(topology, observed)[gname]
    source = holders[0] if len(holders) == 1 else None
    if to is None:
        if source is None:
            raise ValueError(f"group {gname} runs on {' and '.join(holders) or 'no node'}: name the node, to=<node>")
        to = next(n for n in nodes if n != source)
    if to not in nodes:
        raise ValueError(f"{to!r} is not a node of topology {topology.get('name')}: one of {', '.join(nodes)}")
    res = spec["resource"]
    base = {"group": gname, "resource": res, "from": source, "to": to,
            "which": "local" if spec["node"] == to else "foreign"}
    if holders == [to]:
        return {**base, "action": "none", "comment": f"group {gname} already runs on {to}"}
    drbd = (observed.get("drbd") or {})
    hb = observed.get("heartbeat") or {}
    target_hb = hb.get(to)
    override = "force=True" if source and drbd.get(source) is None else "nothing: fix it first"

    def heartbeat_runs() -> None:
        if not target_hb.get("running"):
            raise RefusedError(res, f"heartbeat does not run on {to}", "nothing: start heartbeat there first")

    target = _check_target(res, to, drbd, answered=target_hb is not None, engine=heartbeat_runs)
    moving = [n for n in nodes if (hb.get(n) or {}).get("running") and (hb.get(n) or {}).get("resources") == "transition"]
    if moving:
        raise RefusedError(res, f"heartbeat on {' and '.join(moving)} is moving resources (rscstatus transition)",
                           "nothing: wait until it settles, then retry")
    if source is not None and drbd.get(source) is None and not force:
        raise RefusedError(res, f"{source} runs the group but does not answer", override)
    if source is not None and drbd.get(source) is not None and target.get("connection") != "Connected":
        # both sides may call themselves UpToDate while apart: what the holder wrote since is not on the target
        raise RefusedError(res, f"{to} is {target.get('connection')} from {source}, which runs the group: "
                           f"{to}'s UpToDate may miss what {source} wrote since",
                           "nothing: reconnect the resource first (hapair.remediate)")
    if len(holders) > 1:
        raise RefusedError(res, f"both nodes claim group {gname}", "nothing: look at heartbeat's logs first")
    return {**base, "action": "takeover",
            "comment": f"hb_takeover {base['which']} on {to}: heartbeat moves group {gname} "
                       f"from {source or 'no node'} to {to}"}


def _check_target(res: str, to: str, drbd: Mapping[str, Any], answered: bool = True,
                  engine: Any = None) -> Mapping[str, Any]:
    """The refusals every move shares, in order: the target answers, its cluster manager runs there
    (``engine`` raises when not), no split brain is pending, its disk is UpToDate. Returns the
    target's DRBD facts."""
    target = drbd.get(to)
    if target is None or not answered:
        raise RefusedError(res, f"{to} does not answer", "nothing: bring the node back first")
    if engine is not None:
        engine()
    if any((d or {}).get("split_brain") for d in drbd.values()):
        raise RefusedError(res, "a split brain is pending on the pair (its record is there)",
                           "nothing: resolve the split brain first (hapair.remediate)")
    if target.get("disk") != "UpToDate":
        raise RefusedError(res, f"{to}'s disk is {target.get('disk')}, not UpToDate: it would serve stale data",
                           "nothing: wait for the resync to finish")
    return target


def _switch(topology: Topology, group: str, to: str | None, observed: Mapping[str, Any],
            force: bool) -> dict[str, Any]:
    """Stack none: the runner is the engine. ``observed`` adds ``models`` and ``mounts``
    (``{node: drbd.status models / mount.active, or None}``) to ``drbd``.

    Returns ``{"action": "none"|"switch", "group", "resource", "from", "to", "stop_on": node|None,
    "forced": bool, "comment"}``. Refused: the target does not answer, a split brain is pending,
    the target's disk is not UpToDate; the other node answers but the target is not Connected to
    it; the other node does not answer and ``force`` is not given (``force=True`` is the operator's
    statement that it is down: still refused while the target's DRBD is Connected to it, i.e. it
    is not down).
    """
    gname = group_of(topology, group)
    res = topology["groups"][gname]["resource"]
    nodes = list(topology["node_order"])
    seen = {"drbd": observed.get("models") or {}, "mounts": observed.get("mounts") or {}}
    source = placement(topology, seen).get(gname)
    if to is None:
        if source is None:
            raise ValueError(f"group {gname} runs on no node (its resource Primary and filesystem mounted "
                             "nowhere): name the node, to=<node>")
        to = next(n for n in nodes if n != source)
    if to not in nodes:
        raise ValueError(f"{to!r} is not a node of topology {topology.get('name')}: one of {', '.join(nodes)}")
    other = next(n for n in nodes if n != to)
    base = {"group": gname, "resource": res, "from": source, "to": to, "forced": False}
    if source == to:
        return {**base, "action": "none", "stop_on": None, "comment": f"group {gname} already runs on {to}"}
    drbd = observed.get("drbd") or {}
    target = _check_target(res, to, drbd)
    if drbd.get(other) is not None:
        if target.get("connection") != "Connected":
            raise RefusedError(res, f"{to} is {target.get('connection')} from {other}, which answers: {to}'s "
                               f"UpToDate may miss what {other} wrote since",
                               "nothing: reconnect the resource first (hapair.remediate)")
        return {**base, "action": "switch", "stop_on": other,
                "comment": f"group {gname}: stopped on {other} (containers, filesystem, Secondary), then "
                           f"Primary, mounted and started on {to}"}
    if not force:
        raise RefusedError(res, f"{other} does not answer: the group may still run there",
                           "force=True, once you know it is down (powered off or cut off)")
    if target.get("connection") == "Connected":
        raise RefusedError(res, f"{to}'s DRBD is still Connected to {other}: {other} is not down",
                           "nothing: stop the group on it, or take it down first")
    return {**base, "action": "switch", "stop_on": None, "forced": True,
            "comment": f"forced: {other} does not answer and {to} is {target.get('connection')} from it; "
                       f"group {gname} Primary, mounted and started on {to}"}
