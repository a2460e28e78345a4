"""hapair.gfs2: lock tables, mkfs argv, parsers on real captures, and the planner tables.

Captures: tests/fixtures/gfs2 (made offline by tests/fixtures/gfs2/capture.sh with gfs2-utils 3.5.0).
The planner tables are the safety rules: every way formatting can destroy data has a refusal case.
"""

from __future__ import annotations

import glob
import json
import os

import pytest
from hapair import gfs2, parsing
from hapair.errors import NotReadyError, ParseError, RefusedError, ValidationError

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

GFS2 = os.path.join(FIXTURES, "gfs2")
PARSERS = {
    "tunegfs2-l": gfs2.parse_tunegfs2,
    "gfs2_edit-journals": gfs2.parse_journals,
    "blkid-export": parsing.parse_blkid,
    "mkfs.gfs2": gfs2.parse_mkfs,
}
CAPTURES = sorted(glob.glob(os.path.join(GFS2, "*.out")))


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("capture", CAPTURES, ids=os.path.basename)
def test_capture_parses_to_expected_json(capture):
    assert os.path.exists(capture[:-4] + ".source")
    expected = json.loads(read(capture[:-4] + ".json"))
    assert PARSERS[os.path.basename(capture).split("--")[0]](read(capture)) == expected


def test_every_parser_has_a_capture():
    assert {os.path.basename(p).split("--")[0] for p in CAPTURES} == set(PARSERS)


@pytest.mark.parametrize("parser", [gfs2.parse_tunegfs2, gfs2.parse_journals, gfs2.parse_mkfs])
def test_no_data_is_a_parse_error(parser):
    with pytest.raises(ParseError):
        parser("")


def test_blkid_no_signature_is_empty():
    assert parsing.parse_blkid("") == {}


@pytest.mark.parametrize("parser,text", [
    (gfs2.parse_tunegfs2, "Device does not contain a GFS or GFS2 file system\n"),
    (gfs2.parse_tunegfs2, "Lock protocol: lock_dlm\nLock table: x:y\nBlock size: big\n"),
    (gfs2.parse_journals, "-------------------- Journal List --------------------\njournal0: garbage\n"),
    (parsing.parse_blkid, "TYPE gfs2\n"),
    (gfs2.parse_mkfs, "This will destroy any data on g.img\nmkfs.gfs2: Invalid lock table: cluster name is too long\n"),
])
def test_malformed_input_raises_parse_error(parser, text):
    with pytest.raises(ParseError):
        parser(text)


# --------------------------------------------------------------------------- lock tables


@pytest.mark.parametrize("table,cluster,needle", [
    ("hardcore:gfs2-00", "hardcore", None),
    ("a" * 32 + ":" + "b" * 30, "a" * 32, None),
    ("a" * 33 + ":x", "a" * 33, "max 32"),
    ("c:" + "b" * 31, "c", "max 30"),
    ("core-01:gfs2-00", "hardcore", "is not the cluster name"),  # seed 004's mkfs printed exactly this
    ("hardcore", "hardcore", "exactly one ':'"),
    ("a:b:c", "a", "exactly one ':'"),
    (":x", None, "cluster part"),
    ("x:", None, "fs part"),
    ("hard.core:fs", "hard.core", "may only hold"),
    ("hardcore:fs 1", "hardcore", "may only hold"),
])
def test_lock_table_checks(table, cluster, needle):
    errors = gfs2.check_lock_table(table, cluster)
    if needle is None:
        assert errors == []
    else:
        assert errors and any(needle in str(e) for e in errors), errors


def test_mkfs_argv_matches_the_recipe():
    fs = {"name": "gfs2-00", "slots": 2, "lock_table": "hardcore:gfs2-00", "mkfs_options": []}
    assert gfs2.mkfs_argv(fs, "hardcore", "/dev/drbd0") == [
        "mkfs.gfs2", "-O", "-t", "hardcore:gfs2-00", "-p", "lock_dlm", "-j", "2", "/dev/drbd0"]
    fs = {"name": "www", "slots": 3, "mkfs_options": ["-J", "32"]}
    assert gfs2.mkfs_argv(fs, "web", "/dev/drbd1", "/sbin/mkfs.gfs2") == [
        "/sbin/mkfs.gfs2", "-O", "-t", "web:www", "-p", "lock_dlm", "-j", "3", "-J", "32", "/dev/drbd1"]


def test_mkfs_argv_refuses_a_foreign_lock_table():
    with pytest.raises(ValidationError) as err:
        gfs2.mkfs_argv({"name": "gfs2-00", "lock_table": "core-01:gfs2-00"}, "hardcore", "/dev/drbd0")
    assert "core-01" in str(err.value)


# --------------------------------------------------------------------------- planner tables

FS = {"name": "gfs2-00", "type": "gfs2", "device": "/dev/drbd0", "resource": "r0", "slots": 2,
      "lock_table": "hardcore:gfs2-00", "mkfs_options": [], "mountpoint": "/gfs2-00",
      "mount_options": ["noatime"], "mount_on": ["core-01", "core-02"]}


def drbd(role="Primary", disk="UpToDate", peer_disk="UpToDate", conn="Connected", peers=True):
    return {"name": "r0", "role": role, "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": disk}],
            "peers": [{"name": "core-02", "node_id": None, "connection_state": conn, "role": "Primary",
                       "volumes": [{"volume": 0, "replication_state": "Established", "peer_disk_state": peer_disk,
                                    "percent_done": None, "eta_seconds": None, "out_of_sync_kib": None}]}]
            if peers else []}


def facts(node="core-01", signature=None, model="default"):
    return {"node": node, "cluster_name": "hardcore", "device": "/dev/drbd0", "signature": signature or {},
            "drbd": drbd() if model == "default" else model}


GFS2_SIG = {"type": "gfs2", "label": "hardcore:gfs2-00", "uuid": "u"}
MKFS = [{"action": "mkfs", "device": "/dev/drbd0", "lock_table": "hardcore:gfs2-00", "journals": 2,
         "argv": ["mkfs.gfs2", "-O", "-t", "hardcore:gfs2-00", "-p", "lock_dlm", "-j", "2", "/dev/drbd0"]}]


@pytest.mark.parametrize("case,fact,overwrite,expected", [
    ("blank, Primary, peer UpToDate", facts(), False, MKFS),
    ("formatted already", facts(signature=GFS2_SIG), False, []),
    ("formatted already, other node", facts(node="core-02", signature=GFS2_SIG), False, []),
    ("not the format node: never formats", facts(node="core-02"), False, []),
    ("not the format node, not even over ext4", facts(node="core-02", signature={"type": "ext4"}), True, []),
    ("ext4 there, overwrite asked", facts(signature={"type": "ext4"}), True, MKFS),
])
def test_plan_formatted(case, fact, overwrite, expected):
    assert gfs2.plan_formatted(fact, FS, overwrite=overwrite) == expected, case


def test_plain_device_needs_no_drbd():
    assert gfs2.plan_formatted(facts(model=None), dict(FS, resource=None)) == MKFS


@pytest.mark.parametrize("case,fact,overwrite,reason,override", [
    ("ext4 there", facts(signature={"type": "ext4", "uuid": "x"}), False, "TYPE=ext4", "overwrite=True"),
    ("partition table", facts(signature={"pttype": "dos"}), False, "PTTYPE=dos", "overwrite=True"),
    ("other gfs2 lock table", facts(signature={"type": "gfs2", "label": "core-01:gfs2-00"}), False,
     "LABEL=core-01:gfs2-00", "overwrite=True"),
])
def test_plan_formatted_refusals(case, fact, overwrite, reason, override):
    with pytest.raises(RefusedError) as err:
        gfs2.plan_formatted(fact, FS, overwrite=overwrite)
    assert err.value.device == "/dev/drbd0", case
    assert reason in err.value.reason and override in err.value.override, (case, str(err.value))


@pytest.mark.parametrize("case,fact,overwrite,reason", [
    ("secondary", facts(model=drbd(role="Secondary")), False, "not Primary"),
    ("local disk inconsistent", facts(model=drbd(disk="Inconsistent")), False, "not UpToDate"),
    ("peer still syncing", facts(model=drbd(peer_disk="Inconsistent")), False, "Inconsistent"),
    ("peer disconnected", facts(model=drbd(conn="WFConnection", peer_disk="DUnknown")), False, "WFConnection"),
    ("no peer", facts(model=drbd(peers=False)), False, "no peer"),
    ("no drbd status", facts(model=None), False, "no DRBD status"),
    ("overwrite never skips the DRBD rule", facts(signature={"type": "ext4"}, model=drbd(role="Secondary")), True,
     "not Primary"),
])
def test_plan_formatted_waits_for_drbd(case, fact, overwrite, reason):
    """DRBD not ready is hapair's one NotReadyError (no override; ``result: None`` under test), not a refusal."""
    with pytest.raises(NotReadyError) as err:
        gfs2.plan_formatted(fact, FS, overwrite=overwrite)
    assert not isinstance(err.value, RefusedError), case
    assert err.value.what == "/dev/drbd0", case
    assert reason in err.value.waits_for and "Primary" in err.value.waits_for, (case, str(err.value))


def test_format_on_overrides_the_first_mount_node():
    assert gfs2.plan_formatted(facts(node="core-02"), dict(FS, format_on="core-02")) == MKFS


LINE = ("/dev/drbd0 /gfs2-00 gfs2 _netdev,noatime,x-systemd.requires=hapair-drbd-promote@r0.service,"
        "x-systemd.requires=dlm.service 0 0")
UNIT = "/etc/systemd/system/hapair-drbd-promote@.service"
UNITS = {UNIT: {"content": "[Unit]\n", "mode": "0644", "secret": False}}
ROOT_MOUNT = {"device": "/dev/sda1", "mountpoint": "/", "fstype": "ext4"}
GFS2_MOUNT = {"device": "/dev/drbd0", "mountpoint": "/gfs2-00", "fstype": "gfs2"}
MOUNT = {"action": "mount", "device": "/dev/drbd0", "mountpoint": "/gfs2-00", "options": ["_netdev", "noatime"]}


def mfacts(**over):
    base = {"node": "core-01", "cluster_name": "hardcore", "device": "/dev/drbd0", "signature": GFS2_SIG,
            "mounts": [ROOT_MOUNT], "fstab": ["/dev/sda1 / ext4 defaults 0 1"], "mountpoint_exists": True,
            "units": {UNIT: "[Unit]\n"}}
    return {**base, **over}


@pytest.mark.parametrize("case,fact,expected", [
    ("blank node: units, mkdir, fstab, mount", mfacts(mountpoint_exists=False, units={}),
     [{"action": "unit", "path": UNIT, "content": "[Unit]\n", "mode": "0644", "old": None},
      {"action": "mkdir", "path": "/gfs2-00"}, {"action": "fstab", "line": LINE, "old": []}, MOUNT]),
    ("all in place", mfacts(mounts=[ROOT_MOUNT, GFS2_MOUNT], fstab=[LINE]), []),
    ("mounted by hand, no fstab line yet", mfacts(mounts=[GFS2_MOUNT]),
     [{"action": "fstab", "line": LINE, "old": []}]),
    ("an old line of ours is replaced", mfacts(fstab=["/dev/drbd0 /gfs2-00 gfs2 defaults 0 0"]),
     [{"action": "fstab", "line": LINE, "old": ["/dev/drbd0 /gfs2-00 gfs2 defaults 0 0"]}, MOUNT]),
    ("not in mount_on: nothing", mfacts(node="core-03", mountpoint_exists=False), []),
])
def test_plan_mounted(case, fact, expected):
    assert gfs2.plan_mounted(fact, FS, UNITS) == expected


@pytest.mark.parametrize("case,fact,needle", [
    ("another device on the mountpoint", mfacts(mounts=[{"device": "/dev/sdb1", "mountpoint": "/gfs2-00",
                                                         "fstype": "xfs"}]), "/dev/sdb1 (xfs) is mounted there"),
    ("ext4 there", mfacts(signature={"type": "ext4"}), "found ext4"),
    ("a foreign lock table", mfacts(signature={"type": "gfs2", "label": "other:gfs2-00"}), "other:gfs2-00"),
])
def test_plan_mounted_refusals(case, fact, needle):
    with pytest.raises(RefusedError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        gfs2.plan_mounted(fact, FS, UNITS)


def test_plan_mounted_waits_for_the_format_node():
    with pytest.raises(NotReadyError, match="gfs2.formatted") as err:  # None under test: not a refusal
        gfs2.plan_mounted(mfacts(signature={}), FS, UNITS)
    assert err.value.what == "/dev/drbd0"


def test_mount_options_require_promote_and_dlm_once():
    options = gfs2.mount_options(dict(FS, mount_options=["_netdev", "x-systemd.requires=dlm.service"]))
    assert options == ["_netdev", "x-systemd.requires=hapair-drbd-promote@r0.service",
                       "x-systemd.requires=dlm.service"]


def test_docstring_examples_run():
    import doctest  # noqa: PLC0415

    result = doctest.testmod(gfs2)
    assert result.attempted > 0 and result.failed == 0
