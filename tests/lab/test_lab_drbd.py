"""hapair's drbd states and module on two real DRBD 8.4 nodes, through a real salt-master.

Order matters (one lab per session): from blank disks (labreset), bootstrap, idempotence, link
cut/heal, create_md refusal. The first three are ``lab_full`` (2026-12-07, to keep CI's lab tier
within its budget): the orchestrated bootstraps run the same states from blank disks with their
re-runs, and test_remediation_lab cuts and heals the link; create_md's refusal is proven only here. A power-cycled node is proven elsewhere: it rejoins through the
reactor (test_remediation_lab), resumes a broken orchestration (test_orch_bootstrap_lab) and
remounts GFS2 at boot (test_gfs2_lab).
"""

import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402

pytestmark = pytest.mark.lab

NODES = ["node1", "node2"]
TARGET = "node1,node2"
PILLAR = "pillar=" + json.dumps({"topology": "lab_web"})


@pytest.fixture(scope="module")
def drbd_lab(lab):
    reset(lab)  # earlier lab modules leave clusters running (a mounted GFS2 keeps r0 Primary)
    return lab


def _apply(lab):
    out = lab.salt(TARGET, "state.apply", "hapair.drbd", PILLAR, timeout=1200)
    for node in NODES:
        assert isinstance(out.get(node), dict), f"{node}: no state result: {out.get(node)!r}"
    return out


def _proc(lab, node):
    return lab.ssh(node, "cat /proc/drbd", check=True).stdout


def _r0(lab):
    out = lab.salt(TARGET, "drbd.status", "r0", timeout=60)
    return {n: out[n]["resources"]["r0"] for n in NODES}


def _wait(what, check, timeout, interval=2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok, last = check()
        if ok:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")


def test_minions_are_the_lab_nodes(lab):
    pings = lab.salt(TARGET, "test.ping", timeout=60)
    assert pings == {"node1": True, "node2": True}
    grains = lab.salt(TARGET, "grains.item", "kernelrelease", "nodename", timeout=60)
    for node in NODES:
        assert grains[node]["nodename"] == node
        assert grains[node]["kernelrelease"] == lab.state["kernel"]
    ips = lab.ssh("node2", "ip -4 -o addr show eth1", check=True).stdout
    assert "10.99.0.2/24" in ips
    assert lab.ssh("node1", "ping -c1 -W5 10.99.0.2").returncode == 0


@pytest.mark.lab_full
def test_drbd_states_bootstrap_r0(drbd_lab):
    out = _apply(drbd_lab)
    for node in NODES:
        failed = {k: v.get("comment") for k, v in out[node].items() if v.get("result") is not True}
        assert not failed, f"{node}: failed states: {failed}"
        assert any(v.get("changes") for v in out[node].values()), f"{node}: a first apply changed nothing"
    for node in NODES:  # the kernel's own view, not hapair's parser
        text = _proc(drbd_lab, node)
        assert "cs:Connected" in text and "ro:Primary/Primary" in text and "ds:UpToDate/UpToDate" in text, text
    models = _r0(drbd_lab)
    for node in NODES:
        peer = models[node]["peers"][0]
        assert models[node]["role"] == "Primary"
        assert models[node]["volumes"][0]["disk_state"] == "UpToDate"
        assert peer["connection_state"] == "Connected"
        assert peer["volumes"][0]["peer_disk_state"] == "UpToDate"


@pytest.mark.lab_full
def test_second_apply_reports_zero_changes(drbd_lab):
    out = _apply(drbd_lab)
    for node in NODES:
        changed = {k: v.get("changes") for k, v in out[node].items() if v.get("changes")}
        failed = {k: v.get("comment") for k, v in out[node].items() if v.get("result") is not True}
        assert not failed, f"{node}: {failed}"
        assert changed == {}, f"{node}: second apply changed {changed}"


def _grain_cstate(lab, node):
    lab.salt(node, "saltutil.refresh_grains", timeout=60)
    grains = lab.salt(node, "grains.item", "drbd", timeout=60)[node]
    return grains["drbd"]["resources"]["r0"]["connection_state"]


@pytest.mark.lab_full
def test_cut_link_shows_in_grains_and_status_and_heals(drbd_lab):
    lab = drbd_lab
    # Primary/Secondary for the cut: two Primaries that lose each other both start a new data
    # generation, which is a split brain on reconnect by design (not a heal).
    assert lab.salt("node2", "drbd.secondary", "r0", timeout=60)["node2"]
    try:
        lab.cut_link()
        cut_at = time.monotonic()
        models = _wait("r0 to lose its peer", lambda: (
            (m := _r0(lab)) and all(m[n]["peers"] and m[n]["peers"][0]["connection_state"] != "Connected"
                                    for n in NODES), m), 120)
        detected = time.monotonic() - cut_at
        for node in NODES:
            assert models[node]["peers"][0]["connection_state"] in ("WFConnection", "NetworkFailure",
                                                                     "Unconnected", "Timeout", "BrokenPipe")
        assert _grain_cstate(lab, "node1") != "Connected"
        assert "cs:Connected" not in _proc(lab, "node1")
        lab.ssh("node1", "echo written-while-cut | dd of=/dev/drbd0 bs=4k seek=100 conv=fsync", check=True)
    finally:
        lab.restore_link()
    restored_at = time.monotonic()
    _wait("r0 to reconnect and resync", lambda: (
        (m := _r0(lab)) and all(m[n]["peers"] and m[n]["peers"][0]["connection_state"] == "Connected"
                                and m[n]["peers"][0]["volumes"][0]["peer_disk_state"] == "UpToDate"
                                and m[n]["volumes"][0]["disk_state"] == "UpToDate" for n in NODES), m), 180)
    healed = time.monotonic() - restored_at
    assert _grain_cstate(lab, "node1") == "Connected"
    print(f"\n[lab] link cut detected in {detected:.0f}s, healed {healed:.0f}s after restore")
    data = lab.ssh("node2", "dd if=/dev/vdb bs=4k skip=100 count=1 iflag=direct 2>/dev/null | head -c 15", check=True).stdout
    assert data == "written-while-c"
    assert lab.salt("node2", "drbd.primary", "r0", timeout=60)["node2"]


R9 = """resource r9 {
  on node1 { device /dev/drbd9; disk /dev/vdc; address 10.99.0.1:7799; meta-disk internal; }
  on node2 { device /dev/drbd9; disk /dev/vdc; address 10.99.0.2:7799; meta-disk internal; }
}
"""


# sha256 of /dev/vdc's first and last 64 MiB: the filesystem's superblock and journal live at the
# head, DRBD's internal metadata (what create-md would write) in the tail; hashing all of the 3G
# disk takes minutes under TCG
EDGES_SHA = ("sh -c 'd=/dev/vdc; mib=$(( $(blockdev --getsize64 $d) / 1048576 )); "
             "{ dd if=$d bs=1M count=64 status=none; dd if=$d bs=1M skip=$((mib - 64)) status=none; } "
             "| sha256sum'")


def test_create_md_refuses_on_a_filesystem_and_keeps_the_data(drbd_lab):
    lab = drbd_lab
    lab.ssh("node1", "mkfs.ext4 -q -F -L keepme /dev/vdc && mkdir -p /mnt/k && mount /dev/vdc /mnt/k && "
            "echo precious > /mnt/k/data.txt && umount /mnt/k", check=True)
    before = lab.ssh("node1", EDGES_SHA, check=True).stdout.split()[0]
    lab.ssh("node1", "cat > /etc/drbd.d/r9.res", input=R9, check=True)
    try:
        out = lab.salt("node1", "drbd.create_md", "r9", timeout=120)["node1"]
        assert isinstance(out, str) and "ext4" in out, f"create_md did not refuse: {out!r}"
        after = lab.ssh("node1", EDGES_SHA, check=True).stdout.split()[0]
        assert after == before
        assert lab.ssh("node1", "drbdadm get-gi r9").returncode != 0  # no metadata was written
        text = lab.ssh("node1", "mount -o ro /dev/vdc /mnt/k && cat /mnt/k/data.txt; umount /mnt/k",
                       check=True).stdout
        assert text.strip() == "precious"
    finally:
        lab.ssh("node1", "rm -f /etc/drbd.d/r9.res")
