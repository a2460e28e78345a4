"""The bootstrap orchestration against a real master and two minions on fake DRBD nodes.

The fakes (tests/fakebin) replay the real DRBD 8.4.11 captures and model create-md, up,
primary --force and the resync, so the DRBD part of orch.hapair.bootstrap runs for real: blank
disks -> Connected -> initial sync -> UpToDate/UpToDate -> roles; o2cb/OCFS2 steps are proven in
the lab (the fakes do not model them), so the test topology has no filesystem and stack none.
"""

import json
import time

import orch_fixtures as fx
import pytest
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
    synced = steps["hapair-bootstrap-gate-synced"]["changes"]["return"]
    assert synced["met"] is True
    assert minion_changes(steps["hapair-bootstrap-drbd-up"])              # first run did work
    progress = event_listener.get_events([(master.id, "hapair/orch/orchweb/progress")], after_time=start)
    lines = [line for event in progress for line in event.data["lines"]]
    # the stage-04 captures' /proc/drbd (node1 SyncSource 1.6 %, node2 SyncTarget 17.2 %)
    assert any(line.startswith("node1 r0 SyncSource ") and "%" in line for line in lines), lines
    assert any(line.startswith("node2 r0 SyncTarget ") and "%" in line for line in lines), lines
    assert SECRET not in text

    for node in fx.NODES:
        fx.faketree.clear_log(cluster, node)
    code, steps, text = orchestrate(master, "orchweb")
    assert code == 0, text
    changed = {sid: minion_changes(s) for sid, s in steps.items() if minion_changes(s)}
    assert changed == {}, json.dumps(changed, indent=1)
    assert [a for n in fx.NODES for a in actions(cluster, n)] == []        # nothing re-run on DRBD


def test_rerun_after_a_break_continues(master, minions, cluster):
    """Broken after metadata (node2 never came up): the re-run brings it up and completes."""
    reset(cluster, sync_seconds=1, nodes={"node1": {"md": True, "up": True}, "node2": {"md": True}})
    code, steps, text = orchestrate(master, "orchweb")
    assert code == 0, text
    assert ["drbdadm", "up", "r0"] in actions(cluster, "node2")
    assert ["drbdadm", "up", "r0"] not in actions(cluster, "node1")
    assert ["drbdadm", "create-md", "r0"] not in actions(cluster, "node1") + actions(cluster, "node2")
