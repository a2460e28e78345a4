"""Reactor -> hapair.remediate on a real master and two minions over fake DRBD nodes.

A beacon-style event (``hapair/drbd/r0/split-brain``, sent from node2 with ``event.send`` as the
beacon and DRBD's handler do) reaches the master's reactor (salt/hapair/reactor/drbd.sls), which runs the
runner; the runner's result event says what it decided. The fakes replay the real split-brain
captures (stage 11: both StandAlone, diverged generation identifiers, oos:64 on both) and model
``connect --discard-my-data`` (-> stage 12).
"""

import copy
import os
import time

import orch_fixtures as fx
import pytest
from orch_fixtures import actions, reset, run, write_pillar

stack, cluster, master, minions, short_root = fx.stack, fx.cluster, fx.master, fx.minions, fx.short_root

pytestmark = pytest.mark.integration


def pillar_with(**policy):
    pil = fx.topologies()
    pil["hapair"]["topologies"].pop("broken")
    pil = copy.deepcopy(pil)
    pil["hapair"]["topologies"]["orchweb"]["drbd"]["resources"]["r0"]["remediation"].update(policy)
    return pil


def send_and_wait(master, minion, event_listener, tag="hapair/drbd/r0/split-brain",
                  data='data={"resource": "r0", "kind": "split-brain"}'):
    start = time.time()
    ret = minion.salt_call_cli(timeout=60).run("event.send", tag, data)
    assert ret.returncode == 0, ret.stdout + ret.stderr
    matched = event_listener.wait_for_events([(master.id, "hapair/remediate/r0/result")], after_time=start,
                                             timeout=90)
    assert matched.found_all_events, f"no result event; missed {matched.missed}"
    return next(iter(matched.matches)).data


def test_split_brain_manual_reports_and_discards_nothing(master, minions, cluster, short_root, event_listener):
    write_pillar(short_root, pillar_with(split_brain="manual"))
    reset(cluster, stage="11")
    result = send_and_wait(master, minions["node2"], event_listener)
    assert result["situation"] == "split_brain" and result["decision"] == "report"
    assert "nothing discarded" in result["reason"]
    assert actions(cluster, "node1") == [] and actions(cluster, "node2") == []


def test_victim_policy_without_lvm_is_refused(master, minions, cluster, short_root, event_listener):
    write_pillar(short_root, pillar_with(split_brain="victim", victim="node2", snapshot_before_discard=True))
    reset(cluster, stage="11")
    result = send_and_wait(master, minions["node2"], event_listener)
    assert result["decision"] == "refuse", result
    assert "not an LVM logical volume" in result["reason"]
    assert actions(cluster, "node1") == [] and actions(cluster, "node2") == []


def test_victim_policy_heals_discarding_only_the_victim(master, minions, cluster, short_root, event_listener):
    write_pillar(short_root, pillar_with(split_brain="victim", victim="node2", snapshot_before_discard=False))
    reset(cluster, stage="11")
    result = send_and_wait(master, minions["node2"], event_listener)
    assert result["decision"] == "healed", result
    assert result["victim"] == "node2" and result["record"]["changes_kib"] == {"node1": 64, "node2": 64}
    assert ["drbdadm", "connect", "--discard-my-data", "r0"] in actions(cluster, "node2")
    assert not any("--discard-my-data" in a for a in actions(cluster, "node1"))
    assert fx.faketree.read_state(cluster)["stage"] == "12"


def test_same_event_twice_is_handled_once(master, minions, cluster, short_root):
    write_pillar(short_root, pillar_with())
    reset(cluster, stage="12")
    args = ["hapair.remediate", "resource=r0", "topology=orchweb", "minion=node2", "tag=hapair/drbd/r0/connection",
            'event={"_stamp": "2026-11-22T04:00:00.000000"}', "--out=json"]
    code, first, out = run(master, *args)
    assert code == 0, out
    assert first["results"][0]["decision"] == "none"
    code, second, out = run(master, *args)
    assert second["results"][0]["decision"] == "duplicate", out


def test_beacon_event_reaches_the_reactor(master, minions, cluster, short_root, event_listener):
    """The real beacon on node1 (polling the fake's /proc/drbd) sees the pair split (stage 05 -> 11,
    StandAlone: a link cut's WFConnection alone is not acted on, see test_reactor_sls.py)."""
    write_pillar(short_root, pillar_with())
    reset(cluster, stage="05")
    node1 = minions["node1"].salt_call_cli(timeout=60)
    # no interval: the factories' minion has loop_interval 0.05, so `interval: 1` would mean 20 s;
    # without one the beacon runs on every beacon tick (1 s)
    saved = os.path.join(cluster, "node1", "run", "beacon-drbd.json")  # its first reading (silent) lands here
    if os.path.exists(saved):
        os.remove(saved)
    ret = node1.run("beacons.add", "drbd", "[{'mode': 'poll'}]")
    assert ret.returncode == 0, ret.stdout + ret.stderr
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(saved):  # synchronised on the beacon's own record, not a guess
            assert time.monotonic() < deadline, f"the beacon never read DRBD ({saved} missing)"
            time.sleep(0.1)
        start = time.time()
        reset(cluster, stage="11")
        matched = event_listener.wait_for_events(
            [(master.id, "hapair/drbd/r0/connection"), (master.id, "hapair/remediate/r0/result")],
            after_time=start, timeout=90)
        assert matched.found_all_events, f"missed {matched.missed}"
        by_tag = {m.tag: m.data for m in matched.matches}
        beacon = by_tag["hapair/drbd/r0/connection"]
        payload = beacon.get("data", beacon)
        assert payload["old"]["connection"] == "Connected" and payload["new"]["connection"] != "Connected"
        assert by_tag["hapair/remediate/r0/result"]["decision"] in ("none", "report", "duplicate")
    finally:
        node1.run("beacons.delete", "drbd")


def test_an_event_naming_another_topology_is_refused(master, minions, cluster, short_root, event_listener):
    """Issue 12: node2's r0 was rendered from orchweb (manual); an event naming ``other`` (same
    nodes and r0, discarding node2) planned ``secondary`` + ``discard_my_data_connect``. Now the
    runner asks node2 and refuses the payload's topology: nothing is discarded."""
    pil = pillar_with(split_brain="manual")
    other = copy.deepcopy(pil["hapair"]["topologies"]["orchweb"])
    other["drbd"]["resources"]["r0"]["remediation"].update(split_brain="victim", victim="node2",
                                                           snapshot_before_discard=False)
    pil["hapair"]["topologies"]["other"] = other
    write_pillar(short_root, pil)
    reset(cluster, stage="11")
    result = send_and_wait(master, minions["node2"], event_listener,
                           data='data={"resource": "r0", "kind": "split-brain", "topology": "other"}')
    assert result["decision"] == "refuse" and result["topology"] == "orchweb", result
    assert "rendered from topology orchweb" in result["reason"]
    assert actions(cluster, "node1") == [] and actions(cluster, "node2") == []


def test_a_hostile_tag_on_the_bus_runs_nothing(master, minions, cluster, short_root, event_listener):
    """Issue 12: a tag whose resource part holds YAML rendered a ``local.cmd.run`` reaction. The
    hostile event goes onto the real master's bus; a good event after it is answered; no
    ``cmd.run`` job was ever published and the marker file it would write does not exist."""
    import salt.utils.event  # noqa: PLC0415

    write_pillar(short_root, pillar_with(split_brain="manual"))
    reset(cluster, stage="11")
    marker = os.path.join(short_root, "injected")
    tag = (f"hapair/drbd/x:\n  local.cmd.run:\n    - tgt: node1\n    - arg: ['touch {marker}']\n"
           "z/split-brain")
    start = time.time()
    with salt.utils.event.get_master_event(master.config, master.config["sock_dir"], listen=False) as bus:
        bus.fire_event({"id": "node2", "data": {"resource": "x", "kind": "split-brain"}}, tag)
    send_and_wait(master, minions["node2"], event_listener)  # the reactor went on to the next event
    jobs = event_listener.get_events([(master.id, "salt/job/*/new")], after_time=start)
    assert not [j for j in jobs if j.data.get("fun") == "cmd.run"], [j.data for j in jobs]
    assert not os.path.exists(marker)
