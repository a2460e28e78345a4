"""A planned switchover of a service group, through its cluster manager (Salt-free).

hapair never moves roles itself where a manager owns them: it checks that the move is safe, then
asks the engine (heartbeat: ``hb_takeover`` on the node that should run the group, ``local`` when
the group prefers that node, else ``foreign``). ``plan`` is pure: the runner
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
from hapair.orchestrate import group_holders

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
    target = drbd.get(to)
    override = "force=True" if source and drbd.get(source) is None else "nothing: fix it first"
    if target is None or target_hb is None:
        raise RefusedError(res, f"{to} does not answer", "nothing: bring the node back first")
    if not target_hb.get("running"):
        raise RefusedError(res, f"heartbeat does not run on {to}", "nothing: start heartbeat there first")
    if any((d or {}).get("split_brain") for d in drbd.values()):
        raise RefusedError(res, "a split brain is pending on the pair (its record is there)",
                           "nothing: resolve the split brain first (hapair.remediate)")
    if target.get("disk") != "UpToDate":
        raise RefusedError(res, f"{to}'s disk is {target.get('disk')}, not UpToDate: it would serve stale data",
                           "nothing: wait for the resync to finish")
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
