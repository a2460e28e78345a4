"""hapair.failover.plan: a planned switchover through heartbeat, or the reason it is refused."""

import pytest
from hapair import failover
from hapair.errors import RefusedError

TOPO = {"name": "lab_apache", "node_order": ["node1", "node2"], "nodes": {"node1": {}, "node2": {}},
        "groups": {"www": {"node": "node1", "resource": "r0"}}}


def seen(hb1="all", hb2="none", disk1="UpToDate", disk2="UpToDate", sb=False, run2=True, answer2=True):
    node2_hb = {"running": run2, "resources": hb2 if run2 else None}
    return {"heartbeat": {"node1": {"running": True, "resources": hb1}, "node2": node2_hb if answer2 else None},
            "drbd": {"node1": {"role": "Primary", "disk": disk1, "connection": "Connected", "split_brain": sb},
                     "node2": {"role": "Secondary", "disk": disk2, "connection": "Connected", "split_brain": False}
                     if answer2 else None}}


def test_moves_to_the_peer_by_default_with_foreign_when_the_group_prefers_the_other():
    step = failover.plan(TOPO, "www", None, seen())
    assert (step["action"], step["from"], step["to"], step["which"]) == ("takeover", "node1", "node2", "foreign")


def test_moving_back_to_the_preferred_node_takes_local():
    step = failover.plan(TOPO, "r0", "node1", seen(hb1="none", hb2="all"))
    assert (step["action"], step["from"], step["to"], step["which"]) == ("takeover", "node2", "node1", "local")


def test_already_there_is_nothing_to_do():
    assert failover.plan(TOPO, "www", "node1", seen())["action"] == "none"


@pytest.mark.parametrize("kwargs,words", [
    ({"disk2": "Inconsistent"}, "node2's disk is Inconsistent, not UpToDate"),
    ({"disk2": "Outdated"}, "not UpToDate"),
    ({"sb": True}, "split brain is pending"),
    ({"run2": False}, "heartbeat does not run on node2"),
    ({"answer2": False}, "node2 does not answer"),
    ({"hb2": "all"}, "both nodes claim group www"),
])
def test_refused_with_the_reason_naming_the_resource(kwargs, words):
    with pytest.raises(RefusedError) as err:
        failover.plan(TOPO, "www", "node2", seen(**kwargs))
    assert words in str(err.value) and "refusing on r0" in str(err.value)


def test_a_silent_holder_needs_force_but_a_stale_target_never_passes():
    observed = seen(hb1="all")
    observed["drbd"]["node1"] = None
    with pytest.raises(RefusedError, match="pass force=True"):
        failover.plan(TOPO, "www", "node2", observed)
    assert failover.plan(TOPO, "www", "node2", observed, force=True)["action"] == "takeover"
    observed["drbd"]["node2"]["disk"] = "Outdated"
    with pytest.raises(RefusedError, match="not UpToDate"):
        failover.plan(TOPO, "www", "node2", observed, force=True)


def test_unknown_group_or_node():
    with pytest.raises(ValueError, match="neither a service group"):
        failover.plan(TOPO, "db", None, seen())
    with pytest.raises(ValueError, match="not a node"):
        failover.plan(TOPO, "www", "node3", seen())
    with pytest.raises(ValueError, match="name the node"):
        failover.plan(TOPO, "www", None, seen(hb1="none"))
