"""hapair.parsing's blkid probe: one argv, one parser (lower-case keys), on real captures.

Captures: tests/fixtures/{gfs2,ocfs2}/blkid-export--*.out (util-linux 2.38.1, with the expected
.json beside them) and the fake blkid's outputs in tests/fixtures/fakebin/local (captured too).
"""

from __future__ import annotations

import glob
import json
import os

import pytest
from hapair import parsing
from hapair.errors import ParseError, RefusedError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
CAPTURES = sorted(glob.glob(os.path.join(FIXTURES, "*", "blkid-export--*.out")))


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("capture", CAPTURES, ids=os.path.basename)
def test_capture_parses_to_expected_json(capture):
    assert parsing.parse_blkid(read(capture)) == json.loads(read(capture[:-4] + ".json"))


def test_every_capture_kind_is_read():
    kinds = {parsing.blkid_kind(parsing.parse_blkid(read(p))) for p in CAPTURES}
    assert {"gfs2", "ocfs2", "ext4"} <= kinds


@pytest.mark.parametrize("name,kind", [("blkid_drbd.stdout", "drbd"), ("blkid_ext4.stdout", "ext4")])
def test_fake_blkid_outputs(name, kind):
    found = parsing.parse_blkid(read(os.path.join(FIXTURES, "fakebin", "local", name)))
    assert parsing.blkid_kind(found) == kind
    assert all(key == key.lower() for key in found)


def test_partition_table_is_the_kind_when_there_is_no_type():
    assert parsing.blkid_kind(parsing.parse_blkid("DEVNAME=/dev/vdb\nPTUUID=1a2b\nPTTYPE=dos\n")) == "dos"


def test_no_data_is_no_signature():
    assert parsing.parse_blkid("") == {}
    assert parsing.parse_blkid("\n\n") == {}
    assert parsing.blkid_kind({}) is None


@pytest.mark.parametrize("text", ["TYPE gfs2\n", "type=gfs2\n", "=x\n", "DEVNAME=a\nnot an export line\n"])
def test_malformed_input_is_a_parse_error(text):
    with pytest.raises(ParseError):
        parsing.parse_blkid(text)


def test_value_keeps_its_equals_signs():
    assert parsing.parse_blkid("LABEL=a=b\n") == {"label": "a=b"}


def test_one_argv():
    assert parsing.blkid_argv("/sbin/blkid", "/dev/drbd0") == ["/sbin/blkid", "-p", "-o", "export", "/dev/drbd0"]


# --- require_blank: the one "any signature refuses" rule, used by every planner that writes a device
EXT4 = parsing.parse_blkid(read(os.path.join(FIXTURES, "gfs2", "blkid-export--2.38.1-ext4.out")))
UPTODATE = {"name": "r0", "role": "Primary", "volumes": [{"volume": 0, "disk_state": "UpToDate"}],
            "peers": [{"name": "b", "connection_state": "Connected", "role": "Secondary",
                       "volumes": [{"volume": 0, "peer_disk_state": "UpToDate", "replication_state": "Established"}]}]}


def _planners():
    from hapair import drbd_plan, gfs2, localfs, ocfs2  # noqa: PLC0415

    dev = "/dev/drbd0"
    fs = {"name": "fs", "device": dev, "resource": "r0", "slots": 2, "label": "fs", "mount_on": ["a", "b"],
          "format_on": "a", "type": "ext4", "mkfs_options": []}
    return {
        "ocfs2": lambda sig, ok: ocfs2.plan_formatted(
            {"node": "a", "format_node": "a", "device": dev, "device_exists": True, "signature": sig,
             "drbd": UPTODATE}, dict(fs, type="ocfs2"), "c", overwrite=ok),
        "gfs2": lambda sig, ok: gfs2.plan_formatted({"node": "a", "cluster_name": "c", "device": dev,
                                                     "signature": sig, "drbd": UPTODATE},
                                                    dict(fs, type="gfs2"), overwrite=ok),
        "localfs": lambda sig, ok: localfs.plan_format(dict(fs, type="xfs"), {"node": "a", "device": dev,
                                                                             "signature": sig, "drbd": UPTODATE},
                                                       overwrite=ok),
        "drbd create-md": lambda sig, ok: drbd_plan.guard_create_md(
            {"resource": "r0", "disk": dev, "volumes": [{"disk": dev, "meta_disk": None}], "signature_checked": True,
             "probes": {dev: {"opens": True, "metadata": False, "signature": parsing.blkid_kind(sig)}}},
            overwrite_data=ok),
    }


@pytest.mark.parametrize("planner", ["ocfs2", "gfs2", "localfs", "drbd create-md"])
def test_every_planner_refuses_a_signature_alike(planner):
    plan = _planners()[planner]
    with pytest.raises(RefusedError) as err:
        plan(EXT4, False)
    assert err.value.device == "/dev/drbd0" and err.value.override.startswith("overwrite")
    assert err.value.reason.startswith("it carries ") and "ext4" in err.value.reason
    plan(EXT4, True)  # the override lets it through (the DRBD rules still hold: synced Primary here)
    plan({}, False)  # blank: nothing to refuse


@pytest.mark.parametrize("signature, text", [
    ("xfs", "a xfs signature (blkid)"),
    ({"type": "ext4", "label": "data"}, "ext4 labelled 'data' (blkid: TYPE=ext4, LABEL=data)"),
    ({"pttype": "gpt", "uuid": "u"}, "a gpt signature (blkid: PTTYPE=gpt, UUID=u)"),
    ({"usage": "other"}, "a unknown signature (blkid)"),
])
def test_describe_signature(signature, text):
    assert parsing.describe_signature(signature) == text


@pytest.mark.parametrize("signature", [None, {}, ""])
def test_require_blank_passes_a_blank_device(signature):
    assert parsing.require_blank("/dev/vdb", signature) is None
