"""The bootstrap orchestration against a real master and two minions on fake DRBD nodes.

The fakes (tests/fakebin) replay the real DRBD 8.4.11 captures and model create-md, up,
primary --force and the resync, so the DRBD part of orch.hapair.bootstrap runs for real: blank
disks -> Connected -> initial sync (both waited for on the nodes, in drbd-up) -> UpToDate/UpToDate
(waited for on the nodes at the start of the roles step) -> roles; o2cb/OCFS2 steps are proven in
the lab (the fakes do not model them), so the test topology has no filesystem and stack none.
"""

import json
import time

import orch_fixtures as fx
import pytest
from hapair import watch
from orch_fixtures import SECRET, actions, reset

stack, cluster, master, minions, short_root = fx.stack, fx.cluster, fx.master, fx.minions, fx.short_root

pytestmark = pytest.mark.integration


def orchestrate(master, topology, timeout=300):
    cli = master.salt_run_cli(timeout=timeout)
    ret = cli.run("state.orchestrate", "orch.hapair.bootstrap", f'pillar={{"topology": "{topology}"}}', "--out=json")
    text = ret.stdout + ret.stderr
    steps = {}
    data = ret.data if isinstance(ret.data, dict) else {}
    for value in (data.get("data") or {}).values():
        if isinstance(value, dict):
            for step in value.values():
                if isinstance(step, dict) and "__id__" in step:
                    steps[step["__id__"]] = step
    return ret.returncode, steps, text


def minion_changes(step):
    """The per-minion state changes inside a salt.state step's return (empty when none)."""
    out = {}
    ret = (step.get("changes") or {}).get("ret") or {}
    for minion, states in ret.items():
        if isinstance(states, dict):
            changed = {sid: s["changes"] for sid, s in states.items() if isinstance(s, dict) and s.get("changes")}
            if changed:
                out[minion] = changed
    return out


def changed_ids(step):
    """{minion: [state id, ...]} of the states that changed something in a salt.state step."""
    return {minion: sorted(sid.split("_|-")[1] for sid in states) for minion, states in minion_changes(step).items()}


def minion_states(step, minion):
    """{state id: state return} of one minion in a salt.state step's return."""
    states = ((step.get("changes") or {}).get("ret") or {}).get(minion) or {}
    return {sid.split("_|-")[1]: s for sid, s in states.items() if isinstance(s, dict)}


def test_invalid_topology_fails_before_any_minion_job(master, minions, cluster):
    reset(cluster)
    code, steps, text = orchestrate(master, "broken", timeout=120)
    assert code != 0, text
    assert steps["hapair-bootstrap-validate"]["result"] is False
    assert "99999 is out of range" in text
    ran = [sid for sid, s in steps.items() if sid != "hapair-bootstrap-validate" and s.get("result") is not False]
    assert ran == [], ran
    for node in fx.NODES:  # not one call of the fake DRBD tools on either node: no minion job ran
        assert fx.faketree.argv_log(cluster, node) == [], node
    assert SECRET not in text


def test_bootstrap_from_blank_then_rerun_changes_nothing(master, minions, cluster, event_listener):
    reset(cluster, sync_seconds=5)  # long enough for the sync gate to see the resync running
    start = time.time()
    code, steps, text = orchestrate(master, "orchweb")
    assert code == 0, text
    assert all(s["result"] is True for s in steps.values()), json.dumps(
        {k: s.get("comment") for k, s in steps.items()}, indent=1)
    state = fx.faketree.read_state(cluster)
    assert state["sync"] == "done" and state["primaries"] == ["node1"]
    forced = [a for n in fx.NODES for a in actions(cluster, n) if a[1:3] == ["primary", "--force"]]
    assert forced == [["drbdadm", "primary", "--force", "r0"]]           # once, on node1 only
    assert ["drbdadm", "primary", "--force", "r0"] in actions(cluster, "node1")
    # no gate for the connection or the sync: the nodes wait for them inside their own runs
    assert sorted(steps) == ["hapair-bootstrap-drbd-up", "hapair-bootstrap-gate-roles", "hapair-bootstrap-roles",
                             "hapair-bootstrap-validate"], sorted(steps)
    up = changed_ids(steps["hapair-bootstrap-drbd-up"])                   # first run did work
    # the node that came up first waited for its peer inside its run; the later one found it Connected
    assert [n for n in fx.NODES if "hapair-drbd-r0-connected" in up[n]], up
    assert all(minion_states(steps["hapair-bootstrap-drbd-up"], n)["hapair-drbd-r0-connected"]["result"] is True
               for n in fx.NODES)
    assert "hapair-drbd-r0-initial-sync" in up["node1"], up               # forced on the initial primary...
    assert "hapair-drbd-r0-initial-sync" not in up["node2"], up           # ...only
    node2 = minion_states(steps["hapair-bootstrap-drbd-up"], "node2")
    assert node2["hapair-drbd-r0-initial-sync"]["result"] is True
    connected = minion_states(steps["hapair-bootstrap-drbd-up"], "node1")["hapair-drbd-r0-connected"]
    assert connected["__run_num__"] < minion_states(steps["hapair-bootstrap-drbd-up"], "node1")[
        "hapair-drbd-r0-initial-sync"]["__run_num__"]
    roles = changed_ids(steps["hapair-bootstrap-roles"])                  # the sync waited for on both nodes
    assert roles == {"node1": ["hapair-drbd-r0-synced"], "node2": ["hapair-drbd-r0-synced"]}, roles
    for node, role in (("node1", "primary"), ("node2", "secondary")):    # already so since the initial sync
        ran = minion_states(steps["hapair-bootstrap-roles"], node)
        assert ran[f"hapair-drbd-r0-{role}"]["result"] is True
        assert ran["hapair-drbd-r0-synced"]["__run_num__"] < ran[f"hapair-drbd-r0-{role}"]["__run_num__"]
    # the progress the operator sees: the nodes' own sync events, as hapair.watch prints them for
    # this topology's minions (event.send is asynchronous: wait for them, bounded)
    deadline = time.monotonic() + 60
    while True:
        events = event_listener.get_events([(master.id, "hapair/drbd/r0/sync")], after_time=start)
        seen = watch.Watch("orchweb", minions=["node1", "node2"])
        lines = [line for event in events for line in seen.feed(event.tag, event.data)]
        # the stage-04 captures' /proc/drbd (node1 SyncSource 1.6 %, node2 SyncTarget 17.2 %)
        wanted = [any(line.startswith(f"  {node} r0 {repl} ") and "%" in line and " eta " in line for line in lines)
                  for node, repl in (("node1", "SyncSource"), ("node2", "SyncTarget"))]
        wanted += [any(line == f"  {node} r0 synced: UpToDate/UpToDate" for line in lines) for node in fx.NODES]
        if all(wanted):
            break
        assert time.monotonic() < deadline, lines
        time.sleep(0.5)
    other = watch.Watch("orchweb", minions=["node3"])                     # another topology's minions
    assert [line for event in events for line in other.feed(event.tag, event.data)] == []
    assert SECRET not in text

    for node in fx.NODES:
        fx.faketree.clear_log(cluster, node)
    code, steps, text = orchestrate(master, "orchweb")
    assert code == 0, text
    changed = {sid: minion_changes(s) for sid, s in steps.items() if minion_changes(s)}
    assert changed == {}, json.dumps(changed, indent=1)
    assert [a for n in fx.NODES for a in actions(cluster, n)] == []        # nothing re-run on DRBD


def test_a_peer_that_never_connects_fails_drbd_up_saying_what_node1_saw(master, minions, cluster):
    """node2 refuses its metadata (a filesystem on its disk): node1 waits connect_timeout (30 s in the
    test pillar) inside its drbd-up run, then fails there like a gate would, saying what it saw;
    nothing after it runs, nothing is forced."""
    reset(cluster, sync_seconds=1, nodes={"node2": {"signature": "ext4"}})
    started = time.monotonic()
    code, steps, text = orchestrate(master, "orchweb")
    seconds = time.monotonic() - started
    assert code != 0, text
    up = steps["hapair-bootstrap-drbd-up"]
    assert up["result"] is False, up
    assert up["comment"].startswith("Run failed on minions: ") and {"node1", "node2"} <= set(
        up["comment"].split(": ", 1)[1].replace(",", " ").split()), up["comment"]
    node1 = minion_states(up, "node1")                 # a failed minion's states are in changes.ret too
    waited = node1["hapair-drbd-r0-connected"]
    assert waited["result"] is False and waited["comment"].startswith(
        "gave up waiting 30s for r0 Connected on node1: seen r0 is WFConnection"), waited   # what node1 saw
    sync = node1["hapair-drbd-r0-initial-sync"]
    assert sync["result"] is False and "requisite failed" in sync["comment"], sync   # never ran
    assert "ext4" in minion_states(up, "node2")["hapair-drbd-r0-metadata-created"]["comment"]
    assert seconds >= 30, seconds
    assert steps["hapair-bootstrap-roles"]["result"] is False and "requisite" in steps["hapair-bootstrap-roles"][
        "comment"].lower(), steps["hapair-bootstrap-roles"]
    assert not [a for n in fx.NODES for a in actions(cluster, n) if a[1:2] == ["primary"]]
    assert SECRET not in text


def test_rerun_after_a_break_continues(master, minions, cluster):
    """Broken after metadata (node2 never came up): the re-run brings it up and completes."""
    reset(cluster, sync_seconds=1, nodes={"node1": {"md": True, "up": True}, "node2": {"md": True}})
    code, steps, text = orchestrate(master, "orchweb")
    assert code == 0, text
    assert ["drbdadm", "up", "r0"] in actions(cluster, "node2")
    assert ["drbdadm", "up", "r0"] not in actions(cluster, "node1")
    assert ["drbdadm", "create-md", "r0"] not in actions(cluster, "node1") + actions(cluster, "node2")
