"""The corosync/dlm bootstrap gates (hapair.orchestrate ``quorate``, ``dlm_up``) on real captures.

corosync-quorumtool captures: tests/fixtures/corosync (two real corosync 3.1.7 daemons); dlm_tool
captures: tests/fixtures/corosync/dlm_tool-* (dlm_controld 4.2.0 in the lab VMs).
"""

import os

import pytest
from hapair import corosync
from hapair import orchestrate as o

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COROSYNC = os.path.join(ROOT, "tests", "fixtures", "corosync")

TOPO = {
    "name": "lab_gfs2",
    "node_order": ["node1", "node2"],
    "nodes": {"node1": {"minion_id": "node1", "cluster_node_id": 1},
              "node2": {"minion_id": "node2", "cluster_node_id": 2}},
    "drbd": {"resources": {}},
    "filesystems": {},
    "cluster": {"stack": "corosync", "name": "labgfs"},
}


def quorum(name):
    with open(os.path.join(COROSYNC, f"corosync-quorumtool-s--3.1.7-{name}.out"), encoding="utf-8") as fh:
        return corosync.parse_quorumtool(fh.read())


def dlm(name):
    with open(os.path.join(COROSYNC, f"dlm_tool-status--4.2.0-{name}.out"), encoding="utf-8") as fh:
        return dict(corosync.parse_dlm_status(fh.read()), running=True)


def test_quorate_gate_met_on_both():
    result = o.gate("quorate", TOPO, {"corosync": {"node1": quorum("two-node-quorate"),
                                                   "node2": quorum("two-node-quorate-node2")}})
    assert result.met, result.message()
    assert result.seen == "node1: quorate, members 1,2; node2: quorate, members 1,2"
    assert "corosync quorate in cluster labgfs on node1 and node2 with members 1,2" in result.awaited


@pytest.mark.parametrize("node1, node2, seen", [
    ("waiting-for-all", "two-node-quorate-node2", "node1: not quorate (1 of 2 votes, activity blocked), members 1"),
    # two_node keeps the survivor quorate, but the gate wants both ids as members: not met
    ("peer-lost", "two-node-quorate-node2", "node1: quorate, members 1"),
    (None, "two-node-quorate-node2", "node1: no answer"),
])
def test_quorate_gate_not_met(node1, node2, seen):
    observed = {"corosync": {"node1": quorum(node1) if node1 else None, "node2": quorum(node2)}}
    result = o.gate("quorate", TOPO, observed)
    assert not result.met and seen in result.seen, result.seen


def test_dlm_gate_met_on_both():
    result = o.gate("dlm_up", TOPO, {"dlm": {"node1": dlm("up-node1"), "node2": dlm("up-node2")}})
    assert result.met, result.message()
    assert result.seen == "node1: dlm quorate, members 1,2; node2: dlm quorate, members 1,2"


def test_dlm_gate_not_running_or_alone():
    stopped = {"running": False, "error": "dlm_controld is not running"}
    result = o.gate("dlm_up", TOPO, {"dlm": {"node1": dlm("up-node1"), "node2": stopped}})
    assert not result.met
    assert "node2: dlm_controld not running (dlm_controld is not running)" in result.seen
    alone = dlm("up-node1")
    alone["nodes"] = [n for n in alone["nodes"] if n["node_id"] == 1]
    result = o.gate("dlm_up", TOPO, {"dlm": {"node1": alone, "node2": dlm("up-node2")}})
    assert not result.met and "node1: dlm quorate, members 1;" in result.seen


def test_cluster_node_ids_default_in_node_order():
    topo = {"node_order": ["b", "a"], "nodes": {"a": {}, "b": {"cluster_node_id": 7}}}
    assert o.cluster_node_ids(topo) == {"b": 7, "a": 2}
