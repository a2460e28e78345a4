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
from hapair.errors import ParseError

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
