"""hapair.ocfs2: parsers on real captures, mkfs argv, the format and mount planners (as tables),
fstab lines and the promote-before-mount boot units.

Fixtures: tests/fixtures/ocfs2/*.out + .json + .source; topologies: tests/fixtures/o2cb/seed-*.json.
"""

from __future__ import annotations

import glob
import json
import os

import pytest
from conftest import FIXTURES
from hapair import ocfs2, parsing
from hapair.errors import NotReadyError, ParseError, RefusedError

DIR = os.path.join(FIXTURES, "ocfs2")
PARSERS = {
    "mounted-ocfs2-d": ocfs2.parse_mounted_detect,
    "mounted-ocfs2-f": ocfs2.parse_mounted_full,
    "debugfs-ocfs2-stats": ocfs2.parse_debugfs_stats,
    "blkid-export": parsing.parse_blkid,
    "proc-mounts": ocfs2.parse_proc_mounts,
}
CAPTURES = sorted(glob.glob(os.path.join(DIR, "*.out")))


def topology(seed: str) -> dict:
    with open(os.path.join(FIXTURES, "o2cb", f"{seed}-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def read(name: str) -> str:
    with open(os.path.join(DIR, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_every_capture_parses_to_its_json(path):
    tool = os.path.basename(path).split("--")[0]
    with open(path[:-4] + ".json", encoding="utf-8") as handle:
        expected = json.load(handle)
    assert PARSERS[tool](read(os.path.basename(path))) == expected
    assert os.path.isfile(path[:-4] + ".source")


def test_every_parser_has_a_capture():
    assert {os.path.basename(p).split("--")[0] for p in CAPTURES} == set(PARSERS)


def test_mounted_filters_the_drbd_device_not_the_backing_disk():
    rows = ocfs2.parse_mounted_detect(read("mounted-ocfs2-d--1.8.7-drbd-formatted.out"))
    assert len({row["uuid"] for row in rows}) == 1 and len(rows) == 2  # same UUID twice
    assert ocfs2.for_device(rows, "/dev/drbd0")["device"] == "/dev/drbd0"
    assert ocfs2.for_device(rows, "/dev/drbd1") is None
    full = ocfs2.parse_mounted_full(read("mounted-ocfs2-f--1.8.7-mounted-both.out"))
    assert ocfs2.for_device(full, "/dev/drbd0")["nodes"] == ["node1", "node2"]


def test_debugfs_stats_match_what_mkfs_was_told():
    stats = ocfs2.parse_debugfs_stats(read("debugfs-ocfs2-stats--1.8.7-mail-max-features.out"))
    blkid = parsing.parse_blkid(read("blkid-export--2.38.1-ocfs2.out"))
    # the .source says: -N 2 -L www --cluster-name=webcluster, on the same image
    assert (stats["label"], stats["max_node_slots"], stats["cluster_name"]) == ("www", 2, "webcluster")
    assert stats["uuid"] == blkid["uuid"].replace("-", "").upper()


def test_parsers_refuse_no_data_and_malformed_input():
    with pytest.raises(ParseError):
        ocfs2.parse_debugfs_stats("")  # debugfs.ocfs2 exits 0 on a non-OCFS2 device
    with pytest.raises(ParseError):
        ocfs2.parse_mounted_detect("")
    with pytest.raises(ParseError) as err:
        ocfs2.parse_mounted_full("Device   Stack  Cluster  F  Nodes\ngarbage here\n")
    assert err.value.line_no == 2
    with pytest.raises(ParseError):
        parsing.parse_blkid("not an export line\n")
    with pytest.raises(ParseError):
        ocfs2.parse_proc_mounts("/dev/x /mnt\n")
    assert parsing.parse_blkid("") == {}


# --- mkfs -----------------------------------------------------------------------------------------

def test_mkfs_argv_for_seed_001():
    fs = topology("seed-001")["filesystems"]
    assert ocfs2.mkfs_argv(fs["large"], "ocfs2") == [
        "mkfs.ocfs2", "-T", "vmstore", "--fs-feature-level=max-features", "-N", "2",
        "--cluster-stack=o2cb", "--cluster-name=ocfs2", "/dev/drbd1"]


def test_mkfs_argv_carries_label_slots_options_and_rejects_unknown_types():
    fs = dict(topology("seed-000")["filesystems"]["www"], slots=4, mkfs_options=["--journal-options=size=32M"])
    argv = ocfs2.mkfs_argv(fs, "webcluster", binary="/sbin/mkfs.ocfs2", force=True)
    assert argv[0] == "/sbin/mkfs.ocfs2" and argv[-1] == "/dev/drbd0"
    assert argv[argv.index("-N") + 1] == "4" and argv[argv.index("-L") + 1] == "www"
    assert "-F" in argv and "--journal-options=size=32M" in argv
    with pytest.raises(ValueError):
        ocfs2.mkfs_argv(dict(fs, mkfs_type="huge"), "webcluster")


# --- the format planner (a table: facts in, plan or refusal out) -----------------------------------

def drbd(role="Primary", disk="UpToDate", peer="UpToDate"):
    peers = [] if peer is None else [{"name": "web2", "connection_state": "Connected", "role": "Primary",
                                      "volumes": [{"volume": 0, "peer_disk_state": peer}]}]
    return {"name": "r0", "role": role, "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": disk}], "peers": peers}


OCFS2_WWW = {"type": "ocfs2", "label": "www", "uuid": "8ed42561-a9c9-4a10-899c-8166ff81129e"}
CASES = [
    # id, node, signature, drbd, overwrite, expected ("mkfs" | [] | "refused:<text>" | "not ready:<text>")
    ("blank-primary-uptodate", "web1", {}, drbd(), False, "mkfs"),
    ("other-node-never-formats", "web2", {}, drbd(), False, []),
    ("already-ocfs2-same-label", "web1", OCFS2_WWW, drbd(), False, []),
    ("ext4-refused", "web1", {"type": "ext4", "label": "data"}, drbd(), False, "refused:ext4 labelled 'data'"),
    ("ocfs2-other-label-refused", "web1", dict(OCFS2_WWW, label="old"), drbd(), False, "refused:ocfs2"),
    ("partition-table-refused", "web1", {"pttype": "dos"}, drbd(), False, "refused:dos"),
    ("ext4-overwrite-allowed", "web1", {"type": "ext4"}, drbd(), True, "mkfs"),
    ("secondary-not-ready", "web1", {}, drbd(role="Secondary"), False, "not ready:Secondary here"),
    ("peer-inconsistent-not-ready", "web1", {}, drbd(peer="Inconsistent"), False,
     "not ready:peer disk is Inconsistent"),
    ("peer-unknown-not-ready", "web1", {}, drbd(peer=None), False, "not ready:peer disk is unknown"),
    ("local-inconsistent-not-ready", "web1", {}, drbd(disk="Inconsistent"), False, "not ready:local disk"),
    ("overwrite-still-needs-drbd", "web1", {"type": "ext4"}, drbd(peer="DUnknown"), True, "not ready:DUnknown"),
    ("missing-device-not-ready", "web1", None, drbd(), False, "not ready:does not exist"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_plan_formatted(case):
    _, node, signature, state, overwrite, expected = case
    topo = topology("seed-000")
    fs = topo["filesystems"]["www"]
    facts = {"node": node, "format_node": fs["format_on"], "device": "/dev/drbd0",
             "device_exists": signature is not None, "signature": signature or {}, "drbd": state}
    if isinstance(expected, str) and expected.startswith("refused:"):
        with pytest.raises(RefusedError) as err:
            ocfs2.plan_formatted(facts, fs, "webcluster", overwrite=overwrite)
        assert err.value.device == "/dev/drbd0" and "/dev/drbd0" in str(err.value)
        assert expected.split(":", 1)[1] in str(err.value)
        if signature and not overwrite:
            assert err.value.override == "overwrite=True"
    elif isinstance(expected, str) and expected.startswith("not ready:"):
        with pytest.raises(NotReadyError) as err:  # waits for DRBD: no override, None under test
            ocfs2.plan_formatted(facts, fs, "webcluster", overwrite=overwrite)
        assert err.value.what == "/dev/drbd0" and "not ready yet" in str(err.value)
        assert expected.split(":", 1)[1] in str(err.value)
    elif expected == "mkfs":
        plan = ocfs2.plan_formatted(facts, fs, "webcluster", overwrite=overwrite)
        assert [step["action"] for step in plan] == ["mkfs"]
        assert plan[0]["argv"] == ocfs2.mkfs_argv(fs, "webcluster", force=bool(signature))
    else:
        assert ocfs2.plan_formatted(facts, fs, "webcluster", overwrite=overwrite) == expected


def test_cluster_name_can_come_from_the_facts():
    fs = topology("seed-000")["filesystems"]["www"]
    facts = {"node": "web1", "format_node": "web1", "cluster_name": "webcluster", "device": "/dev/drbd0",
             "signature": {}, "drbd": drbd()}
    assert ocfs2.plan_formatted(facts, fs)[0]["argv"][-2] == "--cluster-name=webcluster"
    with pytest.raises(ValueError):
        ocfs2.plan_formatted(dict(facts, cluster_name=None), fs)


def test_the_format_node_is_the_topology_s_format_on():
    """One owner: the normalised topology's ``format_on`` (the initial primary by default)."""
    topo = topology("seed-001")
    assert topo["filesystems"]["small"]["format_on"] == "fiori"


# --- mounts and boot order ------------------------------------------------------------------------

def test_fstab_line_for_seed_001_keeps_the_recipes_options():
    fs = topology("seed-001")["filesystems"]["small"]
    device, mountpoint, fstype, options, dump, passno = ocfs2.fstab_line(fs).split()
    assert (device, mountpoint, fstype, dump, passno) == ("/dev/drbd0", "/vol/ocfs2-small", "ocfs2", "0", "0")
    assert options.split(",") == ["_netdev", "noatime", "data=writeback", "commit=60", "nodiratime",
                                  "x-systemd.requires=hapair-drbd-promote@drbd0.service"]


def test_netdev_is_added_once():
    opts = ocfs2.mount_options({"resource": "r0", "mount_options": ["noatime"]})
    assert opts[0] == "_netdev" and opts.count("_netdev") == 1
    assert ocfs2.mount_options({"mount_options": ["_netdev", "noatime"]}) == ["_netdev", "noatime"]


@pytest.mark.parametrize("path, unit", [("/vol/ocfs2-small", "vol-ocfs2\\x2dsmall.mount"),
                                         ("/var/www", "var-www.mount"), ("/", "-.mount"),
                                         ("/srv//a b/", "srv-a\\x20b.mount")])
def test_mount_unit_name(path, unit):
    assert ocfs2.mount_unit_name(path) == unit


def test_boot_units_order_promote_before_each_mount_of_the_node():
    files = ocfs2.render_boot_units(topology("seed-001"), "fiori", systemd_dir="/etc/systemd/system")
    template = files["/etc/systemd/system/hapair-drbd-promote@.service"]["content"]
    assert "ExecStart=/usr/sbin/drbdadm primary %i" in template
    assert "After=network-online.target drbd.service o2cb.service" in template
    dropin = files["/etc/systemd/system/hapair-drbd-promote@drbd1.service.d/hapair-before-mount.conf"]
    assert "Before=vol-ocfs2\\x2dlarge.mount" in dropin["content"]
    assert len(files) == 3
    topo = topology("seed-001")
    topo["filesystems"]["large"]["mount_on"] = ["torchio"]
    assert len(ocfs2.render_boot_units(topo, "fiori")) == 2


MOUNTED = ocfs2.parse_proc_mounts("/dev/drbd0 /var/www ocfs2 rw,relatime,_netdev 0 0\n")
WWW_LINE = "/dev/drbd0 /var/www ocfs2 _netdev,noatime,x-systemd.requires=hapair-drbd-promote@r0.service 0 0"
MOUNT_CASES = [
    ("fresh", {"mountpoint_exists": False, "fstab": [], "mounts": []}, ["mkdir", "fstab", "mount"]),
    ("fstab-only-missing", {"mountpoint_exists": True, "fstab": [], "mounts": MOUNTED}, ["fstab"]),
    ("old-fstab-line", {"mountpoint_exists": True, "fstab": ["/dev/drbd0 /var/www ocfs2 defaults 0 0"],
                        "mounts": MOUNTED}, ["fstab"]),
    ("converged", {"mountpoint_exists": True, "fstab": [WWW_LINE], "mounts": MOUNTED}, []),
]


@pytest.mark.parametrize("case", MOUNT_CASES, ids=[c[0] for c in MOUNT_CASES])
def test_plan_mounted(case):
    _, facts, actions = case
    fs = topology("seed-000")["filesystems"]["www"]
    plan = ocfs2.plan_mounted(facts, fs, "web1")
    assert [step["action"] for step in plan] == actions
    for step in plan:
        if step["action"] == "mount":
            assert step["options"] == ["_netdev", "noatime"]  # x-systemd.* only in fstab
        if step["action"] == "fstab":
            assert step["line"] == WWW_LINE


def test_plan_mounted_refuses_a_foreign_mount_and_skips_other_nodes():
    fs = dict(topology("seed-000")["filesystems"]["www"], mount_on=["web1"])
    facts = {"mountpoint_exists": True, "fstab": [WWW_LINE],
             "mounts": ocfs2.parse_proc_mounts("/dev/sdb1 /var/www ext4 rw 0 0\n")}
    with pytest.raises(RefusedError) as err:
        ocfs2.plan_mounted(facts, fs, "web1")
    assert "/dev/sdb1" in str(err.value)
    assert ocfs2.plan_mounted(facts, fs, "web2") == []
