"""Seed 002 in the lab: heartbeat v1 + DRBD + Apache, bootstrapped by hapair, failing over (issue 14).

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_apache"}'`` takes both
nodes from blank disks (tests/lab/labreset.py) to: r0 synced, ext4 made once on node1 with
/etc/apache2 and /var/www copied onto it, heartbeat running on both with the seed's haresources
line, and the group (VIP 10.99.0.100, drbddisk, Filesystem, drbdlinks, apache2) on node1. A canary
page written before each fault is read through the VIP after it. Everything is checked on the
nodes' own view by ssh (/proc/drbd, /proc/mounts, ip addr, systemctl, curl), not hapair's parsers.
Faults, in one scenario: heartbeat stopped on node1 (node2 takes over; a failover back is refused
while heartbeat is down there, and while node1's disk is not UpToDate), a planned failover back,
a re-run with zero changes; then (``make lab-full``) node1 powered off: node2 takes over, and
auto_failback off keeps the group there once node1 is back.
Wall times are printed (``-s``), never asserted.
"""

import json
import os
import sys
import time
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import assert_complete, minion_changes, mounts, orchestrate, proc_drbd  # noqa: E402

pytestmark = pytest.mark.lab

TOPOLOGY = "lab_apache"
VIP = "10.99.0.100"
NODES = ("node1", "node2")
PAGE = "/var/www/html/lab-canary.txt"  # not hapair.canary's own file: it removes that one


def _serves(lab, node, token):
    """``curl`` on ``node`` reads ``token`` through the VIP."""
    out = lab.ssh(node, f"curl -s --max-time 3 http://{VIP}/lab-canary.txt", timeout=30)
    return out.returncode == 0 and out.stdout.strip() == token


def _wait(what, check, timeout=180, interval=1.0):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s: {what}")


def _holder(lab):
    """The node that has the VIP, r0 Primary and /drbd mounted, or None; asserts at most one has any."""
    held = []
    for node in NODES:
        vip = VIP in lab.ssh(node, "ip -4 -o addr show dev eth1", check=True).stdout
        primary = "ro:Primary/" in proc_drbd(lab, node)
        mounted = "/dev/drbd0 /drbd" in mounts(lab, node, "ext4")
        if vip or primary or mounted:
            assert vip and primary and mounted, f"{node}: VIP {vip}, Primary {primary}, mounted {mounted}"
            held.append(node)
    assert len(held) <= 1, f"both nodes hold the group: {held}"
    return held[0] if held else None


def _canary(lab, node):
    token = f"hapair canary {uuid.uuid4()}"
    lab.ssh(node, f"echo '{token}' > {PAGE} && sync", check=True)
    return token


def _failover(lab, *args):
    out = lab.salt_cli("salt-run", ["--out=json", "hapair.failover", TOPOLOGY, *args], timeout=420)
    return json.loads(out.stdout[out.stdout.index("{"):]) if "{" in out.stdout else {"raw": out.stdout + out.stderr}


def test_lab_apache_bootstrap_serve_fail_over_and_back(lab):
    times = {"reset": round(reset(lab), 1)}
    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["bootstrap"] = round(seconds, 1)
    assert_complete(code, steps, raw, TOPOLOGY)
    changed = minion_changes(steps)
    assert set(changed["hapair-bootstrap-prepare"]) == {"node1"}        # mkfs + copy once, on node1
    assert set(changed["hapair-bootstrap-heartbeat"]) == set(NODES)
    assert _holder(lab) == "node1"
    for node in NODES:
        enabled = lab.ssh(node, "systemctl is-enabled apache2 heartbeat drbd").stdout.split()
        assert enabled == ["disabled", "enabled", "enabled"], f"{node}: {enabled}"
        assert "/drbd" not in lab.ssh(node, "cat /etc/fstab", check=True).stdout
    assert lab.ssh("node1", "readlink /etc/apache2", check=True).stdout.strip() == "/drbd/etc/apache2"
    assert lab.ssh("node1", "test -d /etc/apache2.drbdlinks").returncode == 0  # moved aside, not deleted
    assert lab.ssh("node2", "systemctl is-active apache2").stdout.strip() != "active"
    token = _canary(lab, "node1")
    assert _serves(lab, "node2", token)

    # 1. heartbeat stopped on node1: node2 takes over, the same page is served
    lab.ssh("node1", "systemctl stop heartbeat", check=True, timeout=300)
    times["takeover_after_heartbeat_stop"] = round(_wait("node2 serving", lambda: _serves(lab, "node1", token)), 1)
    assert _holder(lab) == "node2"
    assert lab.ssh("node1", "test -d /etc/apache2 && test ! -L /etc/apache2").returncode == 0  # put back

    # 2. a failover to node1 while heartbeat is down there is refused with the reason
    refused = _failover(lab, "www", "to=node1")
    assert refused.get("result") is False and "heartbeat does not run on node1" in refused.get("comment", ""), refused
    lab.ssh("node1", "systemctl start heartbeat", check=True, timeout=300)
    _wait("node1 back in heartbeat", lambda: "active" in lab.ssh("node2", "cl_status nodestatus node1").stdout)
    assert _holder(lab) == "node2"

    # 3. refused while node1's disk is not UpToDate (invalidated: a full resync from node2), then
    #    the planned switchover back through heartbeat
    token = _canary(lab, "node2")
    lab.ssh("node1", "drbdadm invalidate r0", check=True)
    stale = _failover(lab, "www", "to=node1")
    assert stale.get("result") is False and "not UpToDate" in stale.get("comment", ""), stale
    _wait("node1 resynced", lambda: "ds:UpToDate/UpToDate" in proc_drbd(lab, "node1"), timeout=600)
    # timeout=300: heartbeat's release on node2 and acquire on node1 took 65.3 s on a quiet TCG
    # lab and more than the runner's default 120 s in a loaded CI run (2026-12-07)
    moved = _failover(lab, "www", "to=node1", "timeout=300")
    assert moved.get("result") is True and moved.get("runs_on") == "node1", moved
    times["failover_to_node1"] = moved.get("seconds")
    _wait("node1 serving", lambda: _serves(lab, "node2", token), timeout=60)
    assert _holder(lab) == "node1"

    # 4. a re-run on the running pair changes nothing
    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["rerun"] = round(seconds, 1)
    assert_complete(code, steps, raw, TOPOLOGY)
    assert minion_changes(steps) == {}, f"re-run changed: {minion_changes(steps)}"
    assert _serves(lab, "node2", token)
    print(f"\n[lab] lab_apache wall times (s): {json.dumps(times)}")


@pytest.mark.lab_full
def test_lab_apache_power_lost_holder(lab):
    """node1, which runs the group, loses power: node2 takes over and serves the page written before;
    node1 boots (DRBD's init script brings r0 up, heartbeat joins) and auto_failback off keeps the
    group on node2."""
    if VIP not in lab.ssh("node1", "ip -4 -o addr show dev eth1").stdout or _holder(lab) != "node1":
        pytest.skip("needs lab_apache bootstrapped and running on node1 by the test before (run the whole file)")
    times = {}
    token = _canary(lab, "node1")
    lab.poweroff("node1")
    times["takeover_after_power_off"] = round(_wait("node2 serving", lambda: _serves(lab, "node2", token)), 1)
    lab.start("node1")
    _wait("node1 back in heartbeat", lambda: "active" in lab.ssh("node2", "cl_status nodestatus node1").stdout,
          timeout=300)
    _wait("r0 resynced", lambda: "ds:UpToDate/UpToDate" in proc_drbd(lab, "node2"), timeout=600)
    assert _holder(lab) == "node2" and _serves(lab, "node1", token)
    print(f"\n[lab] lab_apache wall times (s): {json.dumps(times)}")
