"""Seed 003 in the lab: crossed active/passive DRBD with Btrfs and LXC, no cluster manager (issue 15).

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_crossed"}'`` takes both
nodes from blank disks (tests/lab/labreset.py) to: r0 and r1 synced from node1, r1 then moved to
node2 (demoted, observed, promoted), Btrfs made once per resource on its own primary and mounted
there (/srv/store1 on node1 from /dev/drbd0, /srv/store2 on node2 from /dev/drbd2: the seed's
per-node minors), and one busybox container per group created on the resource's filesystem and
running. Everything is checked on the nodes' own view by ssh (/proc/drbd, /proc/mounts, lxc-info,
a file written inside each container and read back), not hapair's parsers; a re-run changes
nothing.

Then the failover, hapair's own engine under stack none: ``hapair.failover lab_crossed r0
to=node2`` stops c1 on node1, unmounts, demotes, promotes on node2, mounts and starts c1 there:
the canary written inside c1 on node1 is read inside c1 on node2; a bootstrap re-run leaves both
groups on node2 with zero changes; and back. ``make lab-full`` adds node1's power loss: the
failover is refused without ``force=True``, forced it runs c1 on node2 with the canary, the force
is recorded; node1 boots, a bootstrap re-run brings its resources up and it stays Secondary while
r0 resyncs from node2. Wall times are printed (``-s``), never asserted.
"""

import json
import os
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import failed, minion_changes, mounts, orchestrate, proc_drbd  # noqa: E402

pytestmark = pytest.mark.lab

TOPOLOGY = "lab_crossed"
# group -> (node, DRBD minor there, mountpoint, container)
GROUPS = {"store1": ("node1", 0, "/srv/store1", "c1"), "store2": ("node2", 2, "/srv/store2", "c2")}


def _role(lab, node, minor):
    """``Primary/Secondary`` etc. of ``minor`` in /proc/drbd on ``node``."""
    for line in proc_drbd(lab, node).splitlines():
        if line.strip().startswith(f"{minor}: "):
            return line.split("ro:", 1)[1].split()[0]
    return None


def _in_container(lab, node, lxcpath, name, command):
    return lab.ssh(node, f"lxc-attach -P {lxcpath}/containers -n {name} -- sh -c '{command}'", timeout=60)


def _failover(lab, *args):
    out = lab.salt_cli("salt-run", ["--out=json", "hapair.failover", TOPOLOGY, *args], timeout=600)
    return json.loads(out.stdout[out.stdout.index("{"):]) if "{" in out.stdout else {"raw": out.stdout + out.stderr}


def _running(lab, node, mountpoint, name):
    return "RUNNING" in lab.ssh(node, f"lxc-info -P {mountpoint}/containers -n {name} -s").stdout


def _canary(lab, node, group):
    """A fresh token written inside the group's container on ``node``, synced to disk."""
    _, _, mountpoint, name = GROUPS[group]
    token = f"lab canary {uuid.uuid4()}"
    _in_container(lab, node, mountpoint, name, f"echo {token} > /canary && sync")
    return token


def _read_canary(lab, node, group):
    _, _, mountpoint, name = GROUPS[group]
    return _in_container(lab, node, mountpoint, name, "cat /canary").stdout.strip()


def _assert_runs(lab, group, node):
    """The group runs on ``node`` only, as the nodes see it: its minor Primary there, its Btrfs
    mounted there and nowhere else, its container running there."""
    _, _, mountpoint, name = GROUPS[group]
    other = "node2" if node == "node1" else "node1"
    minor = {"store1": {"node1": 0, "node2": 0}, "store2": {"node1": 1, "node2": 2}}[group]
    assert _role(lab, node, minor[node]).startswith("Primary/"), (group, node, proc_drbd(lab, node))
    role = _role(lab, other, minor[other])
    assert role is None or not role.startswith("Primary"), (group, other, role)
    assert f"/dev/drbd{minor[node]} {mountpoint}" in mounts(lab, node, "btrfs"), (group, node)
    assert mountpoint not in " ".join(mounts(lab, other, "btrfs")), f"{group} mounted on {other} too"
    assert _running(lab, node, mountpoint, name), f"{name} not running on {node}"


def test_lab_crossed_bootstrap_each_node_runs_its_resources_containers(lab):
    times = {"reset": round(reset(lab), 1)}
    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["bootstrap"] = round(seconds, 1)
    assert code == 0 and steps and not failed(steps), (
        f"{TOPOLOGY} bootstrap: exit {code}, failed steps {failed(steps)}; output tail: {raw[-3000:]}")
    changed = minion_changes(steps)
    assert set(changed["hapair-bootstrap-group-format"]) == {"node1", "node2"}   # each its own Btrfs, once
    assert _role(lab, "node1", 0) == "Primary/Secondary" and _role(lab, "node2", 0) == "Secondary/Primary"
    assert _role(lab, "node1", 1) == "Secondary/Primary" and _role(lab, "node2", 2) == "Primary/Secondary"
    for group, (node, minor, mountpoint, name) in GROUPS.items():
        other = "node2" if node == "node1" else "node1"
        assert f"/dev/drbd{minor} {mountpoint}" in mounts(lab, node, "btrfs"), group
        assert mountpoint not in " ".join(mounts(lab, other, "btrfs")), f"{group} mounted on {other} too"
        assert mountpoint not in lab.ssh(node, "cat /etc/fstab", check=True).stdout   # never at boot
        info = lab.ssh(node, f"lxc-info -P {mountpoint}/containers -n {name} -s", check=True).stdout
        assert "RUNNING" in info, f"{name} on {node}: {info}"
        rootfs = lab.ssh(node, f"btrfs subvolume list {mountpoint}", check=True).stdout
        assert f"containers/{name}/rootfs" in rootfs, rootfs                    # -B btrfs
        token = f"lab canary {uuid.uuid4()}"
        _in_container(lab, node, mountpoint, name, f"echo {token} > /canary && sync")
        got = _in_container(lab, node, mountpoint, name, "cat /canary").stdout.strip()
        assert got == token, f"{name} on {node}: wrote {token!r}, read {got!r}"

    # the failover: r0 with c1 to node2 (both groups on one node), a re-run keeps it there, and back.
    # The zero-change re-run comes after the failover only (2026-12-07, CI's budget): the placement
    # moved and nothing is undone is the stronger claim (on the preferred placement: 76.4 s, zero
    # changes, 2026-12-03)
    token = _canary(lab, "node1", "store1")
    dry = _failover(lab, "r0", "to=node2", "dry_run=True")
    assert dry.get("result") is True and dry["comment"].startswith("dry run:"), dry
    _assert_runs(lab, "store1", "node1")
    moved = _failover(lab, "r0", "to=node2")
    assert moved.get("result") is True and moved.get("runs_on") == "node2" and moved.get("forced") is False, moved
    times["failover_r0_to_node2"] = moved["seconds"]
    _assert_runs(lab, "store1", "node2")
    _assert_runs(lab, "store2", "node2")
    assert _read_canary(lab, "node2", "store1") == token
    assert not _running(lab, "node1", "/srv/store1", "c1")

    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["rerun_after_failover"] = round(seconds, 1)
    assert code == 0 and not failed(steps), raw[-3000:]
    assert minion_changes(steps) == {}, f"re-run after the failover changed: {minion_changes(steps)}"
    _assert_runs(lab, "store1", "node2")

    token = _canary(lab, "node2", "store1")
    back = _failover(lab, "store1")   # default: the other node
    assert back.get("result") is True and back.get("runs_on") == "node1", back
    times["failover_back"] = back["seconds"]
    _assert_runs(lab, "store1", "node1")
    assert _read_canary(lab, "node1", "store1") == token
    print(f"\n[lab] lab_crossed wall times (s): {json.dumps(times)}")


@pytest.mark.lab_full
def test_lab_crossed_power_lost_node_forced_failover_and_its_return(lab):
    """node1, which runs store1, loses power: the failover is refused without force, forced it runs
    c1 on node2 with the canary and records the force; node1 boots, a bootstrap re-run brings its
    resources up, it resyncs and stays Secondary; then store1 moves back."""
    if not _running(lab, "node1", "/srv/store1", "c1"):
        pytest.skip("needs lab_crossed bootstrapped with store1 on node1 by the test before (run the whole file)")
    times = {}
    token = _canary(lab, "node1", "store1")
    lab.poweroff("node1")
    refused = _failover(lab, "r0", "to=node2")
    assert refused.get("result") is False and "force=True" in refused.get("comment", ""), refused
    forced = _failover(lab, "r0", "to=node2", "force=True")
    assert forced.get("result") is True and forced.get("forced") is True and forced.get("runs_on") == "node2", forced
    times["forced_failover"] = forced["seconds"]
    assert _read_canary(lab, "node2", "store1") == token
    history = lab.salt_cli("salt-run", ["--out=json", "hapair.failover_history", TOPOLOGY], timeout=120).stdout
    assert '"to": "node2"' in history and '"group": "store1"' in history, history

    lab.start("node1")
    role = _role(lab, "node1", 0)
    assert role is None or not role.startswith("Primary"), f"node1 came back {role}"
    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["rerun_after_node1_back"] = round(seconds, 1)
    assert code == 0 and not failed(steps), raw[-3000:]
    assert _role(lab, "node1", 0) == "Secondary/Primary", proc_drbd(lab, "node1")
    assert "ds:UpToDate/UpToDate" in proc_drbd(lab, "node1")
    assert "/srv/store1" not in " ".join(mounts(lab, "node1", "btrfs"))
    _assert_runs(lab, "store1", "node2")
    _assert_runs(lab, "store2", "node2")

    back = _failover(lab, "store1", "to=node1")
    assert back.get("result") is True and back.get("runs_on") == "node1", back
    assert _read_canary(lab, "node1", "store1") == token
    print(f"\n[lab] lab_crossed power-loss wall times (s): {json.dumps(times)}")
