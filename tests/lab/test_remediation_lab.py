"""Auto-remediation (issue 7) proven by faults on two real DRBD 8.4 nodes, through the lab's real
master with the reactor (salt/hapair/reactor/reactor.yaml) and the drbd beacon live. No step of the
healing is an operator action: the test injects faults (QEMU link off/on, power off/on, a promote
on the disconnected node) and only observes.

Topology lab_remedy (pillar/hapair/lab_remedy.sls): vg0 on /dev/vdc, rm0 (split_brain manual) and
rm1 (victim node2, snapshot_before_discard) single-primary on node1 with ext4 mounted there.
MTTR per scenario is printed (``-s``); timings are never asserted. Drivers: tests/lab/remedy.py
(also used by bench/mttr_lab.py). The scenarios share one setup, in this order.
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from remedy import MANUAL, MOUNTS, NODES, RESOURCES, TOPOLOGY, VICTIM, Remedy  # noqa: E402
from saltout import last_json  # noqa: E402

pytestmark = pytest.mark.lab

MTTR: dict = {}


@pytest.fixture(scope="module")
def remedy(lab):
    reset(lab)
    drv = Remedy(lab)
    try:
        MTTR["setup"] = round(drv.setup(), 1)
        yield drv
    finally:
        drv.teardown()
        print(f"\n[lab] remediation MTTR (s): {json.dumps(MTTR)}")
        reset(lab)


def test_handlers_installed_and_rendered(remedy):
    for node in NODES:
        mode = remedy.lab.ssh(node, "stat -c %a /usr/lib/hapair/drbd-handler", check=True).stdout.strip()
        assert mode == "755", f"{node}: handler mode {mode}"
        res = remedy.lab.ssh(node, "drbdadm dump rm1", check=True).stdout
        assert "/usr/lib/hapair/drbd-handler split-brain lab_remedy" in res, res
        beacons = remedy.salt(node, "beacons.list", "return_yaml=False", "include_pillar=True").get(node)
        assert "drbd" in beacons, beacons


def test_link_cut_heals_without_operator(remedy):
    out = remedy.link_cut()
    MTTR["link_cut"] = round(out["mttr"], 1)
    print(f"\n[lab] link cut: healthy {out['mttr']:.1f}s after the link was restored")
    assert out["on_peer"] == {res: True for res in RESOURCES}, "writes made during the cut did not reach node2"


@pytest.mark.lab_full
def test_power_off_node2_rejoins_and_resyncs(remedy):
    out = remedy.power_cycle("node2")
    MTTR["power_cycle"] = round(out["mttr"], 1)
    MTTR["power_cycle_after_minion_up"] = round(out["after_boot"], 1)
    print(f"\n[lab] power cycle node2: healthy {out['mttr']:.1f}s after power-on "
          f"({out['after_boot']:.1f}s after its minion answered)")
    assert out["on_peer"] == {res: True for res in RESOURCES}, "writes made while node2 was off did not reach it"
    started = [d for t, d in remedy.events("hapair/remediate/") if any(
        a.get("action") == "up" and a.get("node") == "node2" for a in d.get("executed") or [])]
    assert started, f"no remediation brought node2's resources up: {remedy.events()[-10:]}"


def test_split_brain_manual_reported_victim_healed_from_snapshot(remedy):
    lab = remedy.lab
    out = remedy.split_brain()
    MTTR["split_brain_victim"] = round(out["mttr"], 1)
    print(f"\n[lab] split brain: {VICTIM} (victim node2) healthy {out['mttr']:.1f}s after the link came back")
    ours, theirs = out["tokens"]["node1"], out["tokens"]["node2"]

    # DRBD's own split-brain handler recorded it and the master heard it
    for node in NODES:
        log = lab.ssh(node, "cat /var/lib/hapair/drbd/events.log", check=True).stdout
        assert '"kind": "split-brain"' in log and '"resource": "rm0"' in log, f"{node}: {log}"
    tags = {t for t, _ in remedy.events("hapair/drbd/")}
    assert {"hapair/drbd/rm0/split-brain", "hapair/drbd/rm1/split-brain"} <= tags, sorted(tags)

    # rm0, policy manual: reported, StandAlone on both, nothing discarded on either side
    last = out["manual_last"]
    assert last["situation"] == "split_brain" and last["decision"] == "report", last
    assert "nothing discarded" in last["reason"], last
    for node in NODES:
        assert "cs:StandAlone" in out["manual_state"][node], out["manual_state"]
    assert lab.ssh("node1", f"cat {MOUNTS[MANUAL]}/split-node1", check=True).stdout.strip() == ours[MANUAL]
    assert remedy.on_disk("node2", MANUAL, theirs[MANUAL]), "node2's split-brain write on rm0 is gone"
    status = lab.salt_cli("salt-run", ["--out=json", "hapair.status", TOPOLOGY], timeout=300)
    rows = [r for r in (last_json(status.stdout) or {}).get("rows", []) if r["resource"] == MANUAL]
    assert rows and all("split-brain" in r["alerts"] and "StandAlone" in r["alerts"] for r in rows), status.stdout
    def alerted():
        grains = remedy.salt("node1,node2", "grains.item", "drbd_alerts")
        return all(set(((grains.get(n) or {}).get("drbd_alerts") or {}).get(MANUAL) or []) >= {"split-brain", "StandAlone"}
                   for n in NODES)
    remedy.wait("drbd_alerts grains naming rm0's split brain on both nodes", alerted, timeout=60, interval=3)

    # rm1, victim node2 with snapshot: healed, node1's data intact, node2's write kept in a snapshot
    assert len(out["snapshots"]) == 1, out["snapshots"]
    snap = out["snapshots"][0]
    assert snap.startswith("rm1-hapair-sb-"), snap
    assert remedy.snapshot_file("node2", snap, "split-node2") == theirs[VICTIM]
    assert lab.ssh("node1", f"cat {MOUNTS[VICTIM]}/split-node1", check=True).stdout.strip() == ours[VICTIM]
    assert remedy.on_disk("node2", VICTIM, ours[VICTIM]), "node1's data did not reach node2 after the heal"
    discard = (out["victim_history"].get("discards") or [None])[-1]
    assert discard and discard["victim"] == "node2" and discard["survivor"] == "node1", discard
    assert discard["snapshot"] == snap and discard["ok"] is True and discard["why"] and discard["at"], discard
    healed = [d for d in remedy.results(VICTIM) if d.get("decision") == "healed"]
    assert healed and healed[-1]["situation"] == "split_brain", remedy.results(VICTIM)[-3:]
