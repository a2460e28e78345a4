"""The bootstrap orchestration (issue 5) on two real DRBD 8.4 nodes, through the lab's real master.

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_web"}'`` takes both
nodes from blank disks (tests/lab/labreset.py wipes what earlier lab tests left) to r0 dual-primary
with OCFS2 mounted on both and the canary crossing nodes, through a run broken by a power loss of
node2 after metadata creation and resumed once node2 is back; a re-run then changes nothing on the
minions. Then seed 001's lab_fileserver (LVM on /dev/vdc, two resources, sync skipped) from blank
disks in one run, its NFS export read by a real client, a re-run, and the mkfs guard. Wall times
of each scenario are printed (``-s``).

Order matters (one lab per session, the scenarios share the disks).
"""

import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import (  # noqa: E402
    assert_complete,
    cross,
    failed,
    initial_sync,
    minion_changes,
    mounts,
    orchestrate,
    proc_drbd,
)

pytestmark = pytest.mark.lab

NODES = ("node1", "node2")
TIMES: dict = {}


@pytest.fixture(scope="module")
def orch_lab(lab):
    yield lab
    print(f"\n[lab] orchestration wall times (s): {json.dumps(TIMES)}")


# ---------------------------------------------------------------- seed 000: lab_web


def test_lab_web_from_blank_disks_broken_after_metadata_then_resumed(orch_lab):
    """Blank disks, metadata created on both, then node2 loses power: the run fails saying node2
    and leaves every later step unrun; node2 boots, the re-run does all the rest (the full initial
    sync, forced once on node1 in one of the two runs; roles, o2cb, mkfs once, mount on both) and
    the canary crosses. (seed 001, seed 004's
    variant and lab_remedy bootstrap from blank disks in one uninterrupted run; so does
    ``make demo`` for this topology.)"""
    lab = orch_lab
    TIMES["reset_web"] = round(reset(lab), 1)
    pillar = "pillar=" + json.dumps({"topology": "lab_web", "step": "drbd-up"})
    # the orchestration's own node step up to `drbd.up` (packages, config, metadata, up): its
    # connected wait and initial sync are left out, so the break comes before any sync
    exclude = "exclude=" + json.dumps([{"id": "hapair-drbd-r0-connected"}, {"id": "hapair-drbd-r0-initial-sync"}])
    out = lab.salt("node1,node2", "state.apply", "orch.hapair.node.step", pillar, exclude, timeout=600)
    for node in NODES:
        bad = {k: v.get("comment") for k, v in (out.get(node) or {}).items() if v.get("result") is not True}
        assert isinstance(out.get(node), dict) and not bad, f"{node}: {out.get(node)!r}"
        assert lab.ssh(node, "drbdadm dump-md r0 >/dev/null 2>&1 || drbdadm cstate r0").returncode == 0
    lab.poweroff("node2")
    code, steps, seconds, raw = orchestrate(lab, "lab_web")
    TIMES["broken_run_fails"] = round(seconds, 1)
    broken = failed(steps)
    print(f"\n[lab] broken run (node2 off): {seconds:.0f}s, exit {code}, failed steps {broken}")
    assert code != 0 and broken, f"the run with node2 powered off did not fail: {raw[-2000:]}"
    first = [v for k, v in sorted(steps.items(), key=lambda kv: kv[1].get("__run_num__", 0))
             if v.get("result") is not True][0]
    assert "node2" in first["comment"], f"the failing step does not say what it saw: {first['comment']!r}"
    assert "hapair-bootstrap-canary" in broken and "requisite" in broken["hapair-bootstrap-canary"].lower()
    assert "cs:Connected" not in proc_drbd(lab, "node1")
    # node1 waits for Connected in its own run (issue 19): right after node2's power loss its DRBD
    # may still say Connected (until ping-timeout), and then it already forced the initial sync
    # toward the peer that is gone; harmless on a fresh pair (node2 resyncs in full when back, the
    # planner still wants Inconsistent/Inconsistent). Either way it is forced once, on node1 only.
    forced = initial_sync(minion_changes(steps))
    started = time.monotonic()
    lab.start("node2")
    TIMES["node2_start"] = round(time.monotonic() - started, 1)
    code, steps, seconds, raw = orchestrate(lab, "lab_web")
    TIMES["broken_run_resumed"] = round(seconds, 1)
    print(f"\n[lab] resumed run after node2 started: {seconds:.0f}s, exit {code}")
    crossed = assert_complete(code, steps, raw, "lab_web")
    assert crossed == {"www": ("node1", "node2")}
    # the resumed run did the rest of the work on the minions (node2's `drbdadm up` after its boot
    # may be the reactor's: the minion-start remediation rejoins a resource its peer runs)
    changed = minion_changes(steps)
    for step in ("hapair-bootstrap-drbd-up", "hapair-bootstrap-roles", "hapair-bootstrap-o2cb",
                 "hapair-bootstrap-mkfs", "hapair-bootstrap-mount"):
        assert step in changed, f"resumed run: {step} changed nothing on the minions: {sorted(changed)}"
    # the initial sync is the end of drbd-up now: forced once, on the initial primary only
    again = initial_sync(changed)
    assert forced | again == {"node1"} and not (forced & again), (forced, changed["hapair-bootstrap-drbd-up"])
    assert set(changed["hapair-bootstrap-mkfs"]) == {"node1"}  # formatted exactly once
    assert set(changed["hapair-bootstrap-mount"]) == set(NODES)
    # the kernel's own view, not hapair's parsers
    for node in NODES:
        text = proc_drbd(lab, node)
        assert "cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate" in text, f"{node}: {text}"
        assert "/dev/drbd0 /srv/www" in mounts(lab, node), f"{node}: {mounts(lab, node)}"
        # the o2cb cluster as the kernel (configfs) has it: both nodes registered in labcl
        o2cb = lab.ssh(node, "ls /sys/kernel/config/cluster/labcl/node/", check=True).stdout.split()
        assert sorted(o2cb) == ["node1", "node2"], f"{node}: o2cb nodes {o2cb}"
    label = lab.ssh("node2", "blkid -p -o export /dev/drbd0", check=True).stdout
    assert "TYPE=ocfs2" in label, label
    cross(lab, "/srv/www/lab-canary-1", "node1", "node2")
    cross(lab, "/srv/www/lab-canary-2", "node2", "node1")


def test_lab_web_rerun_changes_nothing(orch_lab):
    lab = orch_lab
    before = lab.ssh("node1", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip()
    lab.ssh("node1", "echo kept > /srv/www/kept.txt && sync", check=True)
    code, steps, seconds, raw = orchestrate(lab, "lab_web")
    TIMES["lab_web_rerun"] = round(seconds, 1)
    print(f"\n[lab] lab_web re-run: {seconds:.0f}s, exit {code}")
    assert_complete(code, steps, raw, "lab_web")
    assert minion_changes(steps) == {}, f"re-run changed: {minion_changes(steps)}"
    state_steps = {k.split("_|-")[1]: k for k in steps if k.endswith("_|-state")}
    assert set(state_steps) == {f"hapair-bootstrap-{s}" for s in ("drbd-up", "roles", "o2cb",
                                                                   "mkfs", "mount")}, sorted(state_steps)
    assert all(not steps[k].get("changes") for k in state_steps.values()), {
        k: steps[k].get("changes") for k in state_steps.values()}
    assert lab.ssh("node1", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip() == before
    assert lab.ssh("node2", "cat /srv/www/kept.txt", check=True).stdout.strip() == "kept"


# ---------------------------------------------------------------- seed 001: lab_fileserver


@pytest.mark.lab_full
def test_lab_fileserver_bootstrap_from_blank_disks(orch_lab):
    lab = orch_lab
    TIMES["reset_fileserver"] = round(reset(lab), 1)
    code, steps, seconds, raw = orchestrate(lab, "lab_fileserver")
    TIMES["lab_fileserver_first"] = round(seconds, 1)
    print(f"\n[lab] lab_fileserver bootstrap from blank disks: {seconds:.0f}s, exit {code}")
    crossed = assert_complete(code, steps, raw, "lab_fileserver")
    assert crossed == {"ocfs2-small": ("node1", "node2"), "ocfs2-large": ("node1", "node2")}
    for node in NODES:
        text = proc_drbd(lab, node)
        assert text.count("cs:Connected ro:Primary/Primary ds:UpToDate/UpToDate") == 2, f"{node}: {text}"
        assert "sync'ed" not in text, f"{node}: a skipped sync still resyncs: {text}"
        seen = mounts(lab, node)
        assert "/dev/drbd0 /vol/ocfs2-small" in seen and "/dev/drbd1 /vol/ocfs2-large" in seen, seen
    bits = {}
    for device in ("/dev/drbd0", "/dev/drbd1"):
        stats = lab.ssh("node2", f"debugfs.ocfs2 -R stats {device}", check=True).stdout
        bits[device] = int(stats.split("Cluster Size Bits:")[1].split()[0])
    # mkfs.ocfs2 1.8.7: -T mail on the 100M LV gives 4 KiB clusters (measured on the host with
    # -M local); -T vmstore on the 2200M LV picks larger clusters
    assert bits["/dev/drbd0"] == 12 and bits["/dev/drbd1"] > 12, bits
    cross(lab, "/vol/ocfs2-large/lab-canary", "node2", "node1")
    # seed 001 exports the mounted OCFS2 over NFS from both nodes: the kernel's export table, then a
    # real NFS client (node2 mounting node1's export) reading what node1 wrote
    for node in NODES:
        table = lab.ssh(node, "exportfs -s", check=True).stdout
        assert "/vol/ocfs2-small" in table and "no_root_squash" in table, f"{node}: exportfs -s: {table!r}"
    for node in NODES:  # seed 001's layout: /vol/home -> /vol/ocfs2-small/home, exported; nfs-server after the mounts
        assert lab.ssh(node, "readlink /vol/home", check=True).stdout.strip() == "/vol/ocfs2-small/home"
        table = lab.ssh(node, "exportfs -s", check=True).stdout
        assert "/vol/home" in table or "/vol/ocfs2-small/home" in table, f"{node}: exportfs -s: {table!r}"
        dropin = lab.ssh(node, "cat /etc/systemd/system/nfs-server.service.d/hapair-lab_fileserver.conf",
                         check=True).stdout
        assert "RequiresMountsFor=/vol/ocfs2-small\n" in dropin, dropin
        after = lab.ssh(node, "systemctl show -p RequiresMountsFor nfs-server", check=True).stdout
        assert "/vol/ocfs2-small" in after, after
    lab.ssh("node1", "echo over-nfs > /vol/ocfs2-small/nfs.txt && sync", check=True)
    got = lab.ssh("node2", "mkdir -p /mnt/nfs && mount -t nfs -o vers=3,nolock 10.99.0.1:/vol/ocfs2-small /mnt/nfs "
                  "&& cat /mnt/nfs/nfs.txt; umount /mnt/nfs", timeout=300).stdout.strip()
    assert got == "over-nfs", f"node2 read {got!r} through node1's NFS export"
    _unison_two_ways_and_no_wipe(lab)
    for node in NODES:  # seed 001's tuning: the kernel's values, the file read at boot, o2cb's timeouts
        assert lab.ssh(node, "sysctl -n vm.min_free_kbytes kernel.panic", check=True).stdout.split() == ["65536", "10"]
        persisted = lab.ssh(node, "cat /etc/sysctl.d/60-hapair-lab_fileserver.conf", check=True).stdout
        assert "vm.min_free_kbytes" in persisted and "kernel.panic" in persisted, persisted
        defaults = lab.ssh(node, "cat /etc/default/o2cb", check=True).stdout
        assert "O2CB_HEARTBEAT_THRESHOLD=61" in defaults and "O2CB_IDLE_TIMEOUT_MS=60000" in defaults, defaults
    code, steps, seconds, raw = orchestrate(lab, "lab_fileserver")
    TIMES["lab_fileserver_rerun"] = round(seconds, 1)
    print(f"\n[lab] lab_fileserver re-run: {seconds:.0f}s, exit {code}")
    assert_complete(code, steps, raw, "lab_fileserver")
    assert minion_changes(steps) == {}, f"re-run changed: {minion_changes(steps)}"


def _unison_two_ways_and_no_wipe(lab):
    """Seed 001's unreplicated volumes and its unison: rep-no and rep-unison ext4 on each node, in
    fstab; one run of the client's profile (what its cron line runs) carries a change made on each
    side to the other; with one side's volume not mounted (its replica looks emptied), a run
    propagates nothing (confirmbigdel in batch mode) and both sides keep every file."""
    for node in NODES:
        for mountpoint in ("/vol/rep-no", "/vol/rep-unison"):
            assert mountpoint in " ".join(mounts(lab, node, "ext4")), (node, mountpoint)
            assert mountpoint in lab.ssh(node, "cat /etc/fstab", check=True).stdout, (node, mountpoint)
    cron = lab.ssh("node2", "cat /etc/cron.d/hapair-unison-lab_fileserver", check=True).stdout
    assert "root /usr/bin/unison vol-rep-unison" in cron, cron
    lab.ssh("node1", "echo from-node1 > /vol/rep-unison/a.txt", check=True)
    lab.ssh("node2", "echo from-node2 > /vol/rep-unison/b.txt", check=True)
    run = lab.ssh("node2", "HOME=/root /usr/bin/unison vol-rep-unison", timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    for node in NODES:
        got = lab.ssh(node, "cat /vol/rep-unison/a.txt /vol/rep-unison/b.txt", check=True).stdout.split()
        assert got == ["from-node1", "from-node2"], (node, got)
    # the fault confirmbigdel is for: node1's rep-unison not mounted, its mountpoint an empty
    # directory. (Deleting files by hand is propagated, as it should be: the replica keeps its
    # lost+found, so it is not "entirely deleted"; seen in the lab 2026-12-07.)
    lab.ssh("node1", "umount /vol/rep-unison", check=True)
    try:
        wiped = lab.ssh("node2", "HOME=/root /usr/bin/unison vol-rep-unison", timeout=300)
        assert wiped.returncode != 0, f"an emptied replica was propagated: {wiped.stdout} {wiped.stderr}"
        kept = lab.ssh("node2", "ls /vol/rep-unison", check=True).stdout.split()
        assert {"a.txt", "b.txt"} <= set(kept), kept
    finally:
        lab.ssh("node1", "mount /vol/rep-unison", check=True)
    assert {"a.txt", "b.txt"} <= set(lab.ssh("node1", "ls /vol/rep-unison", check=True).stdout.split())


@pytest.mark.lab_full
def test_ocfs2_guard_refuses_a_second_mkfs_and_keeps_the_data(orch_lab):
    """On the bootstrapped lab_fileserver: mkfs again is a no-op, a different wish is refused; data kept."""
    lab = orch_lab
    lab.ssh("node1", "echo precious > /vol/ocfs2-small/keep.txt && sync", check=True)
    uuid = lab.ssh("node2", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip()
    assert uuid, "drbd0 carries no filesystem: the bootstrap test did not run first"
    out = lab.salt("node1", "ocfs2.mkfs", "ocfs2-small", "lab_fileserver", timeout=300)["node1"]
    assert isinstance(out, dict) and out["formatted"] is False, f"second mkfs did something: {out!r}"
    # the pillar now wants another label: the existing OCFS2 is not it, so the state must refuse,
    # naming the device and the override, in test mode and for real (state.high: state.single would
    # hand the pillar override to the state function as an argument)
    wish = {"hapair": {"topologies": {"lab_fileserver": {"filesystems": {"ocfs2-small": {"label": "other"}}}}}}
    high = {"ocfs2-small": {"ocfs2": ["formatted", {"topology": "lab_fileserver"}]}}
    for mode in ("test=True", "test=False"):
        ret = lab.salt("node1", "state.high", json.dumps(high), mode, "pillar=" + json.dumps(wish),
                       timeout=300)["node1"]
        assert isinstance(ret, dict) and len(ret) == 1, f"{mode}: {ret!r}"
        (state,) = ret.values()
        assert state["result"] is False and not state["changes"], f"{mode}: {state!r}"
        assert "/dev/drbd0" in state["comment"] and "overwrite=True" in state["comment"], state["comment"]
    assert lab.ssh("node2", "blkid -p -s UUID -o value /dev/drbd0", check=True).stdout.strip() == uuid
    for node in NODES:
        assert lab.ssh(node, "cat /vol/ocfs2-small/keep.txt", check=True).stdout.strip() == "precious"
