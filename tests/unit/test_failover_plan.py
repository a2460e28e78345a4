"""hapair.failover.plan as a table (tests/unit/test_failover.py has the basic moves, the runner and
one case per refusal): the exact plan a dry run shows, what ``force`` lifts and what it never
lifts, a group nobody holds, a node mid-move, and a target cut off from a holder that answers."""

from __future__ import annotations

import copy

import pytest
from hapair import failover
from hapair.errors import RefusedError

TOPO = {"name": "lab_apache", "node_order": ["node1", "node2"], "nodes": {"node1": {}, "node2": {}},
        "groups": {"www": {"node": "node1", "resource": "r0"}, "db": {"node": "node2", "resource": "r1"}}}


def drbd(role="Secondary", disk="UpToDate", connection="Connected", split_brain=False):
    return {"role": role, "disk": disk, "connection": connection, "split_brain": split_brain}


def observed(hb1="local", hb2="local", d1=None, d2=None):
    """node1 holds www (its own line), node2 holds db (its own), both Connected and UpToDate;
    ``"silent"`` for a node's drbd that did not answer."""
    return {"heartbeat": {"node1": None if hb1 is None else {"running": hb1 != "stopped", "resources": hb1},
                          "node2": None if hb2 is None else {"running": hb2 != "stopped", "resources": hb2}},
            "drbd": {"node1": drbd("Primary") if d1 is None else None if d1 == "silent" else d1,
                     "node2": drbd() if d2 is None else None if d2 == "silent" else d2}}


def test_the_dry_run_plan_is_this_exact_mapping():
    assert failover.plan(TOPO, "www", "node2", observed()) == {
        "action": "takeover", "group": "www", "resource": "r0", "from": "node1", "to": "node2", "which": "foreign",
        "comment": "hb_takeover foreign on node2: heartbeat moves group www from node1 to node2"}
    assert failover.plan(TOPO, "r1", None, observed()) == {  # by resource, to the other node by default
        "action": "takeover", "group": "db", "resource": "r1", "from": "node2", "to": "node1", "which": "foreign",
        "comment": "hb_takeover foreign on node1: heartbeat moves group db from node2 to node1"}
    assert failover.plan(TOPO, "www", "node1", observed()) == {
        "action": "none", "group": "www", "resource": "r0", "from": "node1", "to": "node1", "which": "local",
        "comment": "group www already runs on node1"}


def test_a_group_nobody_holds_goes_where_named_from_no_node():
    seen = observed(hb1="none", hb2="none")
    step = failover.plan(TOPO, "www", "node1", seen)
    assert (step["action"], step["from"], step["which"]) == ("takeover", None, "local")
    assert step["comment"].endswith("from no node to node1")
    with pytest.raises(ValueError, match="runs on no node: name the node"):
        failover.plan(TOPO, "www", None, seen)


D_STALE = drbd(disk="Outdated")
D_SB = drbd(split_brain=True)

REFUSALS = [
    # (case, observed kwargs, target, reason in the message, the override it names)
    ("target silent", {"hb2": None}, "node2", "node2 does not answer", "bring the node back first"),
    ("target's drbd silent", {"d2": "silent"}, "node2", "node2 does not answer", "bring the node back first"),
    ("heartbeat stopped on the target", {"hb2": "stopped"}, "node2", "heartbeat does not run on node2",
     "start heartbeat there first"),
    ("target Outdated", {"d2": D_STALE}, "node2", "node2's disk is Outdated, not UpToDate", "wait for the resync"),
    ("target Inconsistent", {"d2": drbd(disk="Inconsistent")}, "node2", "not UpToDate", "wait for the resync"),
    ("split brain recorded on the target", {"d2": D_SB}, "node2", "split brain is pending", "resolve the split brain"),
    ("split brain recorded on the holder", {"d1": drbd("Primary", split_brain=True)}, "node2",
     "split brain is pending", "hapair.remediate"),
    ("the holder mid-move", {"hb1": "transition"}, "node2", "heartbeat on node1 is moving resources",
     "wait until it settles"),
    ("the target mid-move", {"hb2": "transition"}, "node2", "heartbeat on node2 is moving resources",
     "wait until it settles"),
    ("target cut off from a holder that answers", {"d2": drbd(connection="Connecting")}, "node2",
     "node2 is Connecting from node1, which runs the group", "reconnect the resource first"),
    ("target StandAlone", {"d2": drbd(connection="StandAlone")}, "node2", "node2 is StandAlone from node1",
     "reconnect the resource first"),
    ("both claim", {"hb2": "all"}, "node2", "both nodes claim group www", "look at heartbeat's logs"),
]


@pytest.mark.parametrize("case, kwargs, to, reason, override", REFUSALS, ids=[r[0] for r in REFUSALS])
@pytest.mark.parametrize("force", [False, True])
def test_refusals_that_force_never_lifts(case, kwargs, to, reason, override, force):
    with pytest.raises(RefusedError) as err:
        failover.plan(TOPO, "www", to, observed(**kwargs), force=force)
    text = str(err.value)
    assert "refusing on r0" in text and reason in text and override in text, text


def test_force_lifts_only_a_silent_holder():
    seen = observed(d1="silent")                        # node1 holds www (heartbeat said so) but answers no drbd
    seen["drbd"]["node2"]["connection"] = "Connecting"  # what the survivor of a dead holder shows
    with pytest.raises(RefusedError) as err:
        failover.plan(TOPO, "www", "node2", seen)
    assert "node1 runs the group but does not answer" in str(err.value) and "pass force=True" in str(err.value)
    step = failover.plan(TOPO, "www", "node2", seen, force=True)
    assert (step["action"], step["from"], step["to"], step["which"]) == ("takeover", "node1", "node2", "foreign")
    for damage in ({"disk": "Outdated"}, {"split_brain": True}):
        bad = copy.deepcopy(seen)
        bad["drbd"]["node2"].update(damage)
        with pytest.raises(RefusedError):
            failover.plan(TOPO, "www", "node2", bad, force=True)


def test_a_silent_node_that_holds_nothing_needs_no_force():
    # node1 holds nothing and answers nothing at all: moving db there is refused (target silent),
    # moving www (held by nobody) to node2 needs no force
    seen = observed(hb1=None, hb2="local", d1="silent")
    with pytest.raises(RefusedError, match="node1 does not answer"):
        failover.plan(TOPO, "db", "node1", seen, force=True)
    seen["drbd"]["node2"]["connection"] = "Connecting"
    step = failover.plan(TOPO, "www", "node2", seen)
    assert (step["action"], step["from"], step["which"]) == ("takeover", None, "foreign")


def test_the_plan_does_not_change_what_it_was_given():
    seen = observed()
    before = copy.deepcopy(seen)
    failover.plan(TOPO, "www", "node2", seen)
    assert seen == before
