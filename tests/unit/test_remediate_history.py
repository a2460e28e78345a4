"""Remediation's bookkeeping (issue 13): what goes into a resource's record, as table tests.

``hapair.remediate.note_role``, ``record`` and ``stale_markers`` are pure: the runner only reads
the record before and writes what they return after.
"""

import pytest
from hapair import drbd_state
from hapair import remediate as r

CONNECT = [{"node": "node1", "action": "connect"}]
HEALED = {"situation": "standalone", "decision": "healed", "reason": "r0 StandAlone on node1: reconnecting",
          "actions": CONNECT, "executed": CONNECT, "victim": None, "record": None}
DISCARD = {"situation": "split_brain", "decision": "healed", "reason": "split brain on r0: discarding node2",
           "actions": [{"node": "node2", "action": "discard_my_data_connect"}],
           "executed": [{"node": "node2", "action": "discard_my_data_connect"}], "victim": "node2",
           "record": {"at": 10.0, "resource": "r0", "victim": "node2", "survivor": "node1", "why": "policy"}}
HEALTHY = {"situation": "healthy", "decision": "none", "reason": "r0 connected and UpToDate on both", "actions": []}


@pytest.mark.parametrize("history,node,event,expected", [
    ({}, "node2", {"kind": "role", "new": {"role": "Primary"}}, {"primary_since": {"node2": 10.0}}),
    ({"primary_since": {"node1": 1.0}}, "node2", {"kind": "role", "new": {"role": "Primary"}},
     {"primary_since": {"node1": 1.0, "node2": 10.0}}),
    ({"primary_since": {"node2": 1.0}}, "node2", {"kind": "role", "new": {"role": "Primary"}},
     {"primary_since": {"node2": 10.0}}),
    ({}, "node2", {"kind": "role", "new": {"role": "Secondary"}}, {}),
    ({}, "node2", {"kind": "connection", "new": {"role": "Primary"}}, {}),
    ({}, None, {"kind": "role", "new": {"role": "Primary"}}, {}),  # a sender that is no node of it
], ids=["first", "second-node", "again", "demoted", "other-kind", "no-node"])
def test_note_role(history, node, event, expected):
    before = {k: dict(v) if isinstance(v, dict) else v for k, v in history.items()}
    assert r.note_role(history, node, event, 10.0) == expected
    assert history == before  # pure: the caller's record is not changed


@pytest.mark.parametrize("history,outcome,event,attempt,dry_run,expected", [
    # an acted, verified heal: one attempt, the event id, the last decision
    ({}, HEALED, {"id": "e1", "kind": "connection"}, {"ok": True}, False,
     {"events": ["e1"], "attempts": [{"at": 10.0, "situation": "standalone", "actions": CONNECT, "ok": True}],
      "last": {"at": 10.0, "situation": "standalone", "decision": "healed",
               "reason": HEALED["reason"], "victim": None, "event": "connection"}}),
    # a step that failed: the attempt keeps the error, counted against max_attempts
    ({}, dict(HEALED, decision="failed"), {}, {"ok": False, "error": "connect on node1 failed"}, False,
     {"attempts": [{"at": 10.0, "situation": "standalone", "actions": CONNECT, "ok": False,
                    "error": "connect on node1 failed"}],
      "last": {"at": 10.0, "situation": "standalone", "decision": "failed", "reason": HEALED["reason"],
               "victim": None, "event": None}}),
    # healthy after attempts: one healthy entry ends the run of attempts
    ({"attempts": [{"at": 1.0, "situation": "standalone", "ok": False}]}, HEALTHY, {}, None, False,
     {"attempts": [{"at": 1.0, "situation": "standalone", "ok": False}, {"at": 10.0, "situation": "healthy", "ok": True}],
      "last": {"at": 10.0, "situation": "healthy", "decision": "none", "reason": HEALTHY["reason"],
               "victim": None, "event": None}}),
    # healthy again: no second healthy entry
    ({"attempts": [{"at": 1.0, "situation": "healthy", "ok": True}]}, HEALTHY, {}, None, True,
     {"attempts": [{"at": 1.0, "situation": "healthy", "ok": True}]}),
    # a dry run: the event id is remembered, no attempt, no last
    ({}, dict(HEALED, decision="act", executed=[]), {"id": "e2", "kind": "split-brain"}, {"ok": True}, True,
     {"events": ["e2"], "attempts": []}),
], ids=["healed", "failed-step", "healthy-ends-run", "healthy-once", "dry-run"])
def test_record(history, outcome, event, attempt, dry_run, expected):
    assert r.record(history, outcome, 10.0, event, attempt, dry_run=dry_run) == expected


def test_record_keeps_the_discard_with_what_ran():
    out = r.record({}, DISCARD, 10.0, {"id": "e1", "kind": "split-brain"}, {"ok": True})
    assert out["discards"] == [dict(DISCARD["record"], executed=["discard_my_data_connect"], ok=True)]
    stopped = r.record({}, dict(DISCARD, executed=[]), 10.0, {}, {"ok": False, "error": "refused on node2"})
    assert "discards" not in stopped  # nothing was discarded: no discard record
    assert stopped["attempts"][0]["error"] == "refused on node2"


def test_record_keeps_the_newest():
    history = {"events": [f"e{i}" for i in range(5)], "attempts": [{"at": float(i), "situation": "down", "ok": False}
                                                                  for i in range(5)]}
    out = r.record(history, HEALED, 10.0, {"id": "e5"}, {"ok": True}, keep=3)
    assert out["events"] == ["e3", "e4", "e5"]
    assert [a["at"] for a in out["attempts"]] == [3.0, 4.0, 10.0]
    assert history["events"][-1] == "e4"  # pure


def test_a_recorded_event_is_a_duplicate_next_time():
    """``record`` remembers the id that ``plan`` then recognises: the same event is handled once."""
    topo = {"name": "t", "node_order": ["node1", "node2"], "nodes": {"node1": {}, "node2": {}},
            "drbd": {"resources": {"r0": {"remediation": {}}}}}
    history = r.record({}, HEALED, 10.0, {"id": "e1"}, {"ok": True})
    assert r.plan(topo, "r0", {"node1": None, "node2": None}, history, 11.0, {"id": "e1"})["decision"] == "duplicate"
    assert r.plan(topo, "r0", {"node1": None, "node2": None}, history, 11.0, {"id": "e2"})["decision"] == "report"


CONNECTED = {"peers": [{"connection_state": "Connected"}]}
STANDALONE = {"peers": [{"connection_state": "StandAlone"}]}


@pytest.mark.parametrize("facts,connected,expected", [
    ({"node1": {"split_brain_marker": True, "model": CONNECTED}, "node2": {"model": CONNECTED}}, None, ["node1"]),
    ({"node1": {"split_brain_marker": True, "model": STANDALONE}}, None, []),  # still split: the record stays
    ({"node1": {"split_brain_marker": True, "model": None}}, None, []),  # down: unknown, stays
    ({"node1": {"split_brain_marker": True, "model": STANDALONE},
      "node2": {"split_brain_marker": True, "model": STANDALONE}}, ["node1"], ["node1"]),  # after a verified heal
    ({"node1": {"model": CONNECTED}, "node2": None}, None, []),
], ids=["connected", "standalone", "down", "healed", "no-marker"])
def test_stale_markers(facts, connected, expected):
    assert r.stale_markers(facts, connected) == expected


def test_default_policy_is_the_one_rule():
    assert r.DEFAULT_POLICY is drbd_state.REMEDIATION_DEFAULTS
    assert r.policy_of({"drbd": {"resources": {"r0": {}}}}, "r0") == dict(drbd_state.REMEDIATION_DEFAULTS)
