"""GFS2 on corosync 3 + dlm_controld on dual-primary DRBD (issues 6, 17), bootstrapped by hapair.

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_gfs2"}'`` takes both
lab nodes from blank disks (tests/lab/labreset.py) to seed 004's shape: r0 (/dev/vdb, link 1) and
r1 (an LV on /dev/vdc, link 2) Primary/Primary UpToDate, corosync quorate with two_node,
dlm_controld up with fencing on (fence_ipmilan against each VM's ipmi_sim BMC, each answering
its status first), GFS2 labgfs:gfs2-00 and -01 made once on node1 and mounted on both; hapair's
canary crosses nodes, then our own file goes node1 -> node2 and back on each.
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

from lab.config import BMC_PASSWORD, BMC_USER, pid_alive, wait_for  # noqa: E402

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
    assert crossed == {"gfs2-00": ("node1", "node2"), "gfs2-01": ("node1", "node2")}
    changed = minion_changes(steps)
    idle = {f"hapair-bootstrap-{s}" for s in WORKING_STEPS} - set(changed)
    assert not idle, f"first run: {sorted(idle)} changed nothing on the minions (changed: {sorted(changed)})"
    assert initial_sync(changed) == {"node1"}  # the end of drbd-up: forced on the initial primary only
    assert set(changed["hapair-bootstrap-mkfs"]) == {"node1"}  # mkfs.gfs2 exactly once
    assert set(changed["hapair-bootstrap-mount"]) == set(NODES)
    for node in NODES:
        text = proc_drbd(lab, node)
        assert text.count("cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate") == 2, f"{node}: {text}"
        for dev, mnt in (("/dev/drbd0", "/srv/gfs2-00"), ("/dev/drbd1", "/srv/gfs2-01")):
            assert f"{dev} {mnt}" in mounts(lab, node, "gfs2"), f"{node}: {mounts(lab, node, 'gfs2')}"
        # r1 replicates over link 2, r0 (and corosync) over link 1
        shown = lab.ssh(node, "drbdsetup show r0; drbdsetup show r1", check=True).stdout
        assert re.search(r"address\s+ipv4 10\.99\.0\.\d:7788", shown), shown
        assert re.search(r"address\s+ipv4 10\.98\.0\.\d:7789", shown), shown
        # fencing on: dlm.conf 0600 with both devices, and the peer's BMC answers at this node's
        # own address (lab/config.py: ipmi_sim on the other VM)
        dlm_conf = lab.ssh(node, "stat -c %a /etc/dlm/dlm.conf; grep -c '^device ' /etc/dlm/dlm.conf; "
                                 "grep '^enable_fencing' /etc/dlm/dlm.conf", check=True).stdout.split()
        assert dlm_conf == ["600", "2", "enable_fencing=1"], f"{node}: {dlm_conf}"
        quorum = lab.ssh(node, "corosync-quorumtool -s", check=True).stdout
        assert re.search(r"^Quorate:\s+Yes$", quorum, re.M) and re.search(r"^Flags:.*\b2Node\b", quorum, re.M), quorum
        spaces = lab.ssh(node, "dlm_tool ls", check=True).stdout
        for fs in ("gfs2-00", "gfs2-01"):
            assert re.search(rf"^name\s+{fs}$", spaces, re.M), f"{node}: no {fs} lockspace: {spaces}"
        assert len(re.findall(r"^members\s+1 2\s*$", spaces, re.M)) == 2, f"{node}: lockspace members: {spaces}"
        for mnt in ("/srv/gfs2-00", "/srv/gfs2-01"):
            fstab = lab.ssh(node, f"grep ' {mnt} ' /etc/fstab", check=True).stdout
            assert "_netdev" in fstab and "x-systemd.requires=dlm.service" in fstab, fstab
        enabled = lab.ssh(node, "systemctl is-enabled corosync dlm", check=True).stdout.split()
        assert enabled == ["enabled", "enabled"], f"{node}: {enabled}"
    label = lab.ssh("node2", "blkid -p -o export /dev/drbd0", check=True).stdout
    assert "TYPE=gfs2" in label and "LABEL=labgfs:gfs2-00" in label, label
    for node in NODES:  # each VM's BMC, asked from either node by IPMI-over-LAN (lanplus)
        for victim, bmc in (("node1", "10.99.0.2"), ("node2", "10.99.0.1")):
            power = lab.ssh(node, f"ipmitool -I lanplus -H {bmc} -U {BMC_USER} -P {BMC_PASSWORD} power status",
                            check=True).stdout.strip()
            assert power == "Chassis Power is on", f"{victim}'s BMC asked from {node}: {power}"
    label = lab.ssh("node2", "blkid -p -o export /dev/drbd1", check=True).stdout
    assert "TYPE=gfs2" in label and "LABEL=labgfs:gfs2-01" in label, label
    uuid = lab.ssh("node1", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip()
    for mnt in ("/srv/gfs2-00", "/srv/gfs2-01"):
        cross(lab, f"{mnt}/lab-canary-1", "node1", "node2")
        cross(lab, f"{mnt}/lab-canary-2", "node2", "node1")
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
    """node2 loses power: node1 keeps quorum (two_node) and GFS2 (dlm fences node2 first: its BMC,
    node1's ipmi_sim, answers power off at once) and keeps writing. node2 boots and systemd alone brings GFS2
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


def _both_mounted(lab):
    return all(f"{dev} {mnt}" in mounts(lab, node, "gfs2") for node in NODES
               for dev, mnt in (("/dev/drbd0", "/srv/gfs2-00"), ("/dev/drbd1", "/srv/gfs2-01")))


def _minor(lab, node, minor):
    """The ``N: cs:... ro:... ds:...`` line of one minor in /proc/drbd."""
    line = [ln for ln in proc_drbd(lab, node).splitlines() if ln.strip().startswith(f"{minor}: ")]
    return line[0].strip() if line else ""


DIGEST = "md5sum /srv/gfs2-01/disk-canary.bin | cut -d' ' -f1"


@pytest.mark.lab_full
def test_lab_gfs2_disk_failure_is_served_by_the_peer_then_reattached(lab):
    """Seed 004's disk test: node1's backing disk of r1 fails under load (its LV's device-mapper
    table swapped for the ``error`` target). ``on-io-error detach``: node1 goes Diskless and keeps
    its GFS2 mount, reading and writing through node2; hapair's grains say Diskless, served by
    peer, never down. The disk is "replaced" (the linear table back) and ``drbd.attach``
    re-attaches it after its guard; the resync brings node1 UpToDate with nothing lost."""
    if not _both_mounted(lab):
        pytest.skip("needs lab_gfs2 bootstrapped by the test before (run the whole file)")
    times = {}
    lab.ssh("node1", "dd if=/dev/urandom of=/srv/gfs2-01/disk-canary.bin bs=64k count=32 conv=fsync 2>/dev/null",
            check=True)
    before = lab.ssh("node1", DIGEST, check=True).stdout.strip()
    table = lab.ssh("node1", "dmsetup table vg0-r1", check=True).stdout.strip()
    sectors = table.split()[1]
    started = time.monotonic()
    lab.ssh("node1", f"dmsetup suspend vg0-r1 && dmsetup load vg0-r1 --table '0 {sectors} error' && "
                     "dmsetup resume vg0-r1", check=True)
    # under load: writes while the disk fails; each completes (the peer has it)
    lab.ssh("node1", "for i in 1 2 3 4; do dd if=/dev/urandom of=/srv/gfs2-01/under-failure-$i.bin bs=64k "
                     "count=16 conv=fsync 2>/dev/null || exit 1; done", check=True, timeout=300)
    wait_for("node1's r1 Diskless", lambda: "ds:Diskless/UpToDate" in _minor(lab, "node1", 1), 120)
    times["fail_to_diskless"] = round(time.monotonic() - started, 1)
    assert "cs:Connected ro:Primary/Primary" in _minor(lab, "node1", 1), _minor(lab, "node1", 1)
    assert "ds:UpToDate/UpToDate" in _minor(lab, "node1", 0), _minor(lab, "node1", 0)  # r0 untouched
    # served by the peer: node1 reads (caches dropped) and writes through node2's disk
    lab.ssh("node1", "sync; echo 3 > /proc/sys/vm/drop_caches", check=True)
    assert lab.ssh("node1", DIGEST, check=True).stdout.strip() == before
    cross(lab, "/srv/gfs2-01/lab-canary-diskless-1", "node1", "node2")
    cross(lab, "/srv/gfs2-01/lab-canary-diskless-2", "node2", "node1")
    digests = {node: lab.ssh(node, "cd /srv/gfs2-01 && md5sum under-failure-*.bin", check=True).stdout
               for node in NODES}
    assert digests["node1"] == digests["node2"] and digests["node1"].count("\n") == 4, digests
    lab.salt("node1", "saltutil.refresh_grains")
    grains = lab.salt("node1", "grains.item", "drbd", "drbd_alerts").get("node1", {})
    r1 = ((grains.get("drbd") or {}).get("resources") or {}).get("r1", {})
    assert r1.get("disk_state") == "Diskless" and r1.get("served_by_peer") is True, grains
    assert "Diskless-served-by-peer" in (grains.get("drbd_alerts") or {}).get("r1", []), grains
    # the disk replaced: its table back; the guarded re-attach, then DRBD's resync
    lab.ssh("node1", f"dmsetup suspend vg0-r1 && dmsetup load vg0-r1 --table '{table}' && dmsetup resume vg0-r1",
            check=True)
    started = time.monotonic()
    out = lab.salt("node1", "hapair_drbd.attach", "r1")
    assert isinstance(out.get("node1"), dict), out
    wait_for("node1's r1 UpToDate again", lambda: "ds:UpToDate/UpToDate" in _minor(lab, "node1", 1), 300)
    times["attach_to_uptodate"] = round(time.monotonic() - started, 1)
    lab.ssh("node1", "sync; echo 3 > /proc/sys/vm/drop_caches", check=True)
    assert lab.ssh("node1", DIGEST, check=True).stdout.strip() == before
    assert lab.ssh("node1", "cd /srv/gfs2-01 && md5sum under-failure-*.bin", check=True).stdout == digests["node2"]
    assert _both_mounted(lab)
    print(f"\n[lab] lab_gfs2 disk failure on node1's r1 (s): {json.dumps(times)}")


@pytest.mark.lab_full
def test_lab_gfs2_fence_powers_node2_off_and_node1_keeps_serving(lab):
    """node2's corosync is killed (a node that hangs, not one that dies): node1 sees it leave
    uncleanly and dlm_controld fences it with node2_ipmi (fence_ipmilan, action off) against
    node2's BMC, whose ipmi_sim powers node2's QEMU off. Nothing else touches node2. node1 stays
    quorate and both GFS2 keep serving on node1; then node2 boots and remounts by itself."""
    if not _both_mounted(lab):
        pytest.skip("needs lab_gfs2 bootstrapped by the test before (run the whole file)")
    times = {}
    pid = lab.state["nodes"]["node2"]["pid"]
    lab.ssh("node1", "echo before-the-fence > /srv/gfs2-00/fence-canary.txt && sync", check=True)
    started = time.monotonic()
    lab.ssh("node2", "kill -9 $(pidof corosync)", check=True)
    wait_for("node2 powered off by its BMC", lambda: not pid_alive(pid), 180)
    times["kill_to_powered_off"] = round(time.monotonic() - started, 1)
    lab.close_ssh("node2")
    for mnt in ("/srv/gfs2-00", "/srv/gfs2-01"):
        lab.ssh("node1", f"echo written-after-the-fence > {mnt}/after-fence.txt && sync", check=True, timeout=300)
    times["kill_to_node1_writes"] = round(time.monotonic() - started, 1)
    status = lab.ssh("node1", "dlm_tool status", check=True).stdout
    log = lab.ssh("node1", "journalctl -b -u dlm --no-pager -o cat | grep -i fence | tail -n 8").stdout
    print(f"\n[lab] node1 dlm_tool status:\n{status}\n[lab] node1 dlm journal (fence):\n{log}")
    assert re.search(r"^node 2 X .*\bfence\b", status, re.M) or "fence result 2" in log, (status, log)
    quorum = lab.ssh("node1", "corosync-quorumtool -s", check=True).stdout
    assert re.search(r"^Quorate:\s+Yes$", quorum, re.M), quorum
    assert lab.ssh("node1", "cat /srv/gfs2-00/fence-canary.txt", check=True).stdout.strip() == "before-the-fence"
    power = lab.ssh("node1", f"ipmitool -I lanplus -H 10.99.0.1 -U {BMC_USER} -P {BMC_PASSWORD} power status",
                    check=True).stdout.strip()
    assert power == "Chassis Power is off", power
    lab.start("node2")
    wait_for("node2's GFS2 mounted again at boot", lambda: _both_mounted(lab), 300, 5)
    times["node2_back_mounted"] = round(time.monotonic() - started, 1)
    for mnt in ("/srv/gfs2-00", "/srv/gfs2-01"):
        assert lab.ssh("node2", f"cat {mnt}/after-fence.txt", check=True).stdout.strip() == "written-after-the-fence"
    print(f"\n[lab] lab_gfs2 fence of node2 (s): {json.dumps(times)}")
