"""Seed 003 in the lab: crossed active/passive DRBD with Btrfs and LXC, no cluster manager (issue 15).

``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_crossed"}'`` takes both
nodes from blank disks (tests/lab/labreset.py) to: r0 and r1 synced from node1, r1 then moved to
node2 (demoted, observed, promoted), Btrfs made once per resource on its own primary and mounted
there (/srv/store1 on node1 from /dev/drbd0, /srv/store2 on node2 from /dev/drbd2: the seed's
per-node minors), and one busybox container per group created on the resource's filesystem and
running. Everything is checked on the nodes' own view by ssh (/proc/drbd, /proc/mounts, lxc-info,
a file written inside each container and read back), not hapair's parsers; a re-run changes
nothing. Wall times are printed (``-s``), never asserted.
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

    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["rerun"] = round(seconds, 1)
    assert code == 0 and not failed(steps), raw[-3000:]
    assert minion_changes(steps) == {}, f"re-run changed: {minion_changes(steps)}"
    print(f"\n[lab] lab_crossed wall times (s): {json.dumps(times)}")
