"""GFS2 on corosync 3 + dlm_controld on dual-primary DRBD (issue 6), bootstrapped by hapair states.

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_gfs2"}'`` takes both
lab nodes from blank disks (tests/lab/labreset.py) to: r0 Primary/Primary UpToDate, corosync
quorate with two_node, dlm_controld up, GFS2 (lock table labgfs:gfs2-00) made once on node1 and
mounted on both; hapair's canary crosses nodes, then our own file goes node1 -> node2 and back.
A re-run changes nothing on the minions. Everything is checked on the kernel's and the daemons'
own view by ssh (/proc/drbd, /proc/mounts, corosync-quorumtool, dlm_tool), not hapair's parsers.
Wall times are printed (``-s``), never asserted.
"""

import json
import os
import re
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import assert_complete, cross, initial_sync, minion_changes, mounts, orchestrate, proc_drbd  # noqa: E402

pytestmark = pytest.mark.lab

NODES = ("node1", "node2")
WORKING_STEPS = ("drbd-up", "roles", "corosync", "dlm", "mkfs", "mount")


def _bootstrap(lab, times, key):
    """One orchestration run of lab_gfs2, every step green; ``(steps, canary crossings)``."""
    code, steps, seconds, raw = orchestrate(lab, "lab_gfs2")
    times[key] = round(seconds, 1)
    print(f"\n[lab] lab_gfs2 {key.replace('_', ' ')}: {seconds:.0f}s, exit {code}")
    return steps, assert_complete(code, steps, raw, "lab_gfs2")


def test_lab_gfs2_bootstrap_from_blank_disks_then_rerun(lab):
    times = {}
    started = time.monotonic()
    times["reset"] = round(reset(lab), 1)
    steps, crossed = _bootstrap(lab, times, "first_run_from_blank_disks")
    assert crossed == {"gfs2-00": ("node1", "node2")}
    changed = minion_changes(steps)
    idle = {f"hapair-bootstrap-{s}" for s in WORKING_STEPS} - set(changed)
    assert not idle, f"first run: {sorted(idle)} changed nothing on the minions (changed: {sorted(changed)})"
    assert initial_sync(changed) == {"node1"}  # the end of drbd-up: forced on the initial primary only
    assert set(changed["hapair-bootstrap-mkfs"]) == {"node1"}  # mkfs.gfs2 exactly once
    assert set(changed["hapair-bootstrap-mount"]) == set(NODES)
    for node in NODES:
        text = proc_drbd(lab, node)
        assert "cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate" in text, f"{node}: {text}"
        assert "/dev/drbd0 /srv/gfs2-00" in mounts(lab, node, "gfs2"), f"{node}: {mounts(lab, node, 'gfs2')}"
        quorum = lab.ssh(node, "corosync-quorumtool -s", check=True).stdout
        assert re.search(r"^Quorate:\s+Yes$", quorum, re.M) and re.search(r"^Flags:.*\b2Node\b", quorum, re.M), quorum
        spaces = lab.ssh(node, "dlm_tool ls", check=True).stdout
        assert re.search(r"^name\s+gfs2-00$", spaces, re.M), f"{node}: no gfs2-00 lockspace: {spaces}"
        assert re.search(r"^members\s+1 2\s*$", spaces, re.M), f"{node}: lockspace members: {spaces}"
        fstab = lab.ssh(node, "grep ' /srv/gfs2-00 ' /etc/fstab", check=True).stdout
        assert "_netdev" in fstab and "x-systemd.requires=dlm.service" in fstab, fstab
        enabled = lab.ssh(node, "systemctl is-enabled corosync dlm", check=True).stdout.split()
        assert enabled == ["enabled", "enabled"], f"{node}: {enabled}"
    label = lab.ssh("node2", "blkid -p -o export /dev/drbd0", check=True).stdout
    assert "TYPE=gfs2" in label and "LABEL=labgfs:gfs2-00" in label, label
    uuid = lab.ssh("node1", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip()
    cross(lab, "/srv/gfs2-00/lab-canary-1", "node1", "node2")
    cross(lab, "/srv/gfs2-00/lab-canary-2", "node2", "node1")
    lab.ssh("node1", "echo kept > /srv/gfs2-00/kept.txt && sync", check=True)

    steps, _ = _bootstrap(lab, times, "rerun")
    assert minion_changes(steps) == {}, f"re-run changed: {minion_changes(steps)}"
    assert lab.ssh("node2", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip() == uuid
    assert lab.ssh("node2", "cat /srv/gfs2-00/kept.txt", check=True).stdout.strip() == "kept"
    times["total"] = round(time.monotonic() - started, 1)
    print(f"\n[lab] lab_gfs2 wall times (s): {json.dumps(times)}")


def _gfs2_mounted(lab, node):
    return "/dev/drbd0 /srv/gfs2-00" in mounts(lab, node, "gfs2")


@pytest.mark.lab_full
def test_lab_gfs2_power_lost_node_remounts_at_boot(lab):
    """node2 loses power: node1 keeps quorum (two_node) and GFS2 (dlm recovers without fencing,
    the lab's enable_fencing: false) and keeps writing. node2 boots and systemd alone brings GFS2
    back (corosync and dlm enabled; the fstab line's _netdev and x-systemd.requires= the DRBD promote
    unit and dlm.service): no hapair run. Then files cross both ways again."""
    if not all(_gfs2_mounted(lab, node) for node in NODES):
        pytest.skip("needs lab_gfs2 bootstrapped by the test before (run the whole file)")
    times = {}
    lab.poweroff("node2")
    started = time.monotonic()
    lab.ssh("node1", "echo written-while-node2-was-off > /srv/gfs2-00/while-away.txt && sync", check=True,
            timeout=300)
    times["node1_write_with_node2_off"] = round(time.monotonic() - started, 1)
    quorum = lab.ssh("node1", "corosync-quorumtool -s", check=True).stdout
    assert re.search(r"^Quorate:\s+Yes$", quorum, re.M) and re.search(r"^Total votes:\s+1$", quorum, re.M), quorum
    started = time.monotonic()
    lab.start("node2")  # waits for ssh and the minion
    times["node2_boot"] = round(time.monotonic() - started, 1)
    deadline = time.monotonic() + 300
    while not _gfs2_mounted(lab, "node2") and time.monotonic() < deadline:
        time.sleep(5)
    times["node2_boot_to_gfs2"] = round(time.monotonic() - started, 1)
    print(f"\n[lab] lab_gfs2 power loss of node2, back at boot (s): {json.dumps(times)}")
    units = lab.ssh("node2", "systemctl is-active corosync dlm 'hapair-drbd-promote@r0' 'srv-gfs2\\x2d00.mount'; "
                             "systemctl --failed --no-legend", timeout=120).stdout
    assert _gfs2_mounted(lab, "node2"), f"node2 did not mount GFS2 at boot in 300s: {units}"
    assert lab.ssh("node2", "cat /srv/gfs2-00/while-away.txt", check=True).stdout.strip() == "written-while-node2-was-off"
    for node in NODES:
        assert "ro:Primary/Primary ds:UpToDate/UpToDate" in proc_drbd(lab, node), proc_drbd(lab, node)
    cross(lab, "/srv/gfs2-00/lab-canary-3", "node2", "node1")
    cross(lab, "/srv/gfs2-00/lab-canary-4", "node1", "node2")
