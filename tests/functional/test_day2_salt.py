"""Day 2 on a live pair (issue 18), node side, through ``salt-call --local`` and the fake DRBD tree.

r0 runs Primary on both nodes (stage 06: the real lab capture). A pillar change that moves the
replication link is refused by ``drbd.configured`` (test and apply alike), naming the device and
``salt-run hapair.reconfigure``; nothing is written and nothing adjusted. A resync-rate change
on the same live pair applies as today. ``drbd.drift`` reports pillar vs the file on disk and the
file vs the kernel (``drbdadm -d adjust``: a real drbdadm-84 dry run, replayed by the fake drbdadm),
no secret in it.
"""

import copy
import os
import subprocess

import faketree
import yaml
from drbd_helpers import SECRET


def set_pillar(cluster, change):
    node = cluster["node1"]
    change(node.pillar["hapair"]["topologies"]["lab_web"])
    with open(os.path.join(cluster["root"], "pillar", "topology.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(node.pillar, handle)


def live(cluster, stage="06", dry_run=None):
    """r0 up on node1 with the config hapair rendered for the pillar as it is now; ``dry_run``: the
    captured ``drbdadm -d adjust r0`` node1's fake drbdadm prints (tests/fakebin/fake)."""
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = stage
    state["nodes"]["node1"]["adjust_dry_run"] = dry_run
    faketree.write_state(root, state)
    node1.write_config()
    node1.clear()
    return node1, os.path.join(root, "node1", "etc", "drbd.d", "r0.res")


def actions(argv):
    return [a for a in argv if a[0] == "drbdadm" and a[1] in ("adjust", "up", "down", "connect", "disconnect")]


def moved(topo):
    topo["nodes"]["node1"]["address"] = "10.98.0.1"
    topo["nodes"]["node2"]["address"] = "10.98.0.2"


def test_moving_the_link_under_two_primaries_is_refused_naming_the_runner(cluster):
    node1, res_file = live(cluster)
    with open(res_file, encoding="utf-8") as handle:
        before = handle.read()
    set_pillar(cluster, moved)
    for test in (True, False):
        out = node1.state("drbd.configured", test=test)
        assert out["result"] is False and out["changes"] == {}, out
        assert out["comment"].startswith("refusing on /dev/drbd0: Primary on both nodes: the change is reconnect")
        assert "r0 on node1:address: reconnect" in out["comment"]
        assert out["comment"].endswith("to proceed anyway pass salt-run hapair.reconfigure lab_web")
    with open(res_file, encoding="utf-8") as handle:
        assert handle.read() == before                      # nothing written
    assert actions(node1.argv()) == []                      # nothing adjusted


def test_a_resync_rate_change_on_two_primaries_applies_as_today(cluster):
    node1, res_file = live(cluster)
    set_pillar(cluster, lambda t: t["drbd"]["resources"]["r0"].update(disk_section={"resync-rate": "40M"}))
    planned = node1.state("drbd.configured", test=True)
    assert planned["result"] is None, planned
    assert planned["changes"]["r0:change"]["new"]["class"] == "online"
    assert planned["changes"]["r0:change"]["new"]["steps"] == [
        "write the new DRBD config files", "drbdadm adjust <resource> (disk-options/net-options in place)"]
    assert "online: r0 disk:resync-rate" in planned["comment"]
    applied = node1.state("drbd.configured")
    assert applied["result"] is True, applied
    assert actions(node1.argv()) == [["drbdadm", "adjust", "r0"]]
    with open(res_file, encoding="utf-8") as handle:
        assert "resync-rate 40M;" in handle.read()


def test_change_facts_classify_without_writing(cluster):
    node1, _res_file = live(cluster)
    set_pillar(cluster, moved)
    facts = node1.call("drbd.change_facts", "lab_web")["resources"]["r0"]
    assert facts["class"] == "reconnect"
    assert [c["key"] for c in facts["changes"]] == ["on node1:address", "on node2:address"]
    assert facts["in_use"] == {"up": True, "role": "Primary", "peer_role": "Primary", "mounted": [],
                               "dual_primary": True}
    assert [s["action"] for s in facts["steps"]][:3] == ["stop_groups", "unmount", "demote"]
    assert actions(node1.argv()) == []


def test_drift_reports_pillar_file_and_kernel_without_secrets(cluster):
    node1, res_file = live(cluster, dry_run="secret")   # the real dry run prints the on-disk secret
    set_pillar(cluster, moved)
    out = node1.call("drbd.drift", "lab_web")
    r0 = out["resources"]["r0"]
    assert out["files"][res_file] == "differs"
    assert r0["pillar_vs_file_class"] == "reconnect"
    assert [c["command"] for c in r0["file_vs_kernel"]] == ["net-options"]
    assert r0["file_vs_kernel"][0]["options"]["shared-secret"] == "********"
    assert r0["file_vs_kernel_class"] == "online"
    assert r0["in_use"]["dual_primary"] is True
    assert SECRET not in repr(out) and all(SECRET not in text for text in node1.outputs)
    assert actions(node1.argv()) == []                      # `drbdadm -d` runs nothing
    printed = subprocess.run([os.path.join(cluster["root"], "node1", "bin", "drbdadm"), "-d", "adjust", "r0"],
                             capture_output=True, text=True, check=True).stdout
    assert f"--shared-secret={SECRET} " in printed          # what drbd.drift had to mask


def test_drift_of_a_resource_that_is_not_up(cluster):
    node1 = cluster["node1"]
    node1.write_config()
    out = node1.call("drbd.drift", "lab_web")
    assert out["resources"]["r0"]["file_vs_kernel"] is None
    assert out["resources"]["r0"]["pillar_vs_file"] == []
    assert out["resources"]["r0"]["in_use"]["up"] is False
    assert set(out["files"].values()) == {"matches"}
    assert copy.deepcopy(out) == node1.call("drbd.drift", "lab_web")  # reads only: the same twice
