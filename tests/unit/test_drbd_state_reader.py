"""hapair.drbd_parse's DRBD config reader (config_walk, config_minors, config_resources) and the one
state reader (read_state) the module and the grains share, on real captures."""

from __future__ import annotations

import glob
import os
import re

import pytest
from hapair import drbd_parse
from hapair.errors import ParseError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
DUMPS = sorted(glob.glob(os.path.join(FIXTURES, "drbd", "drbdadm_dump--*.out"))
               + glob.glob(os.path.join(FIXTURES, "lab", "drbdadm_dump--*.out")))


def read(*parts: str) -> str:
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("dump", DUMPS, ids=os.path.basename)
def test_config_minors_agree_with_the_dump_parser(dump):
    text = read(dump)
    by_host = drbd_parse.parse_dump_minors(text)
    minors = drbd_parse.config_minors([text])
    # every volume's minor (the dump parser keeps the lowest volume's per host)
    assert {minor: res for res, hosts in by_host.items() for minor in hosts.values()}.items() <= minors.items()
    assert set(minors) == {int(n) for n in re.findall(r"\bminor\s+(\d+);", text)}
    assert drbd_parse.config_resources([text]) == list(by_host)


def test_config_minors_every_device_form():
    text = """# resource rX { device /dev/drbd9; }
    resource "r0" { on a { device /dev/drbd0; } on b { device /dev/drbd0; } }
    resource r1 {
        volume 0 { device minor 1; }
        volume 1 { device /dev/drbd_r1v1 minor 2; }
    }
    resource r2 { device "/dev/drbd3"; }
    """
    assert drbd_parse.config_minors([text]) == {0: "r0", 1: "r1", 2: "r1", 3: "r2"}
    assert drbd_parse.config_resources([text, "resource r0 {}"]) == ["r0", "r1", "r2"]


def test_config_minors_first_resource_keeps_a_minor_and_global_sections_are_skipped():
    texts = ["global { usage-count no; } common { net { protocol C; } }", "resource a { device minor 4; }",
             "resource b { device minor 4; }"]
    assert drbd_parse.config_minors(texts) == {4: "a"}


def test_config_no_data():
    assert drbd_parse.config_minors([]) == {}
    assert drbd_parse.config_minors([""]) == {}
    assert drbd_parse.config_resources(["# nothing\n"]) == []
    assert drbd_parse.config_minors(["device minor 1;"]) == {}  # outside a resource: no name


@pytest.mark.parametrize("text", ["resource r0 { device minor 1; ", "resource r0 { device minor x; }",
                                  "resource r0 { device minor 12345678901; }", "}", "{ }",
                                  "resource r0 { device minor 1 }"])
def test_config_malformed_is_a_parse_error(text):
    with pytest.raises(ParseError):
        drbd_parse.config_minors([text])


def test_config_walk_unquotes_and_keeps_line_numbers():
    events = list(drbd_parse.config_walk("t", 'resource "r 0" {\n  net { shared-secret "a\\"b"; }\n}'))
    assert [(kind, no, words) for kind, no, _line, _stack, words in events] == [
        ("section", 1, ["resource", "r 0"]), ("section", 2, ["net"]), ("statement", 2, ["shared-secret", 'a"b'])]


# --------------------------------------------------------------------------- read_state
class Runner:
    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, argv):
        self.calls.append(argv)
        return self.answers[tuple(argv[1:])]


def test_not_loaded_runs_nothing_and_reads_no_config():
    def no_config():
        raise AssertionError("config read without DRBD loaded")
    run = Runner({})
    assert drbd_parse.read_state(None, no_config, run) == {"version": None, "resources": {}}
    assert drbd_parse.read_state("", no_config, run)["resources"] == {}
    assert run.calls == []


def test_84_reads_proc_drbd_with_minors_named_from_the_config_and_runs_nothing():
    proc = read("lab", "proc_drbd--k6.1.0-50-amd64-drbd8.4.11-utils9.22.0--05-synced-primary-secondary--node1.out")
    run = Runner({})
    state = drbd_parse.read_state(proc, lambda: ["resource r0 { device minor 0; }"], run)
    assert state["version"] == "8.4.11" and run.calls == []
    assert state["resources"]["r0"]["name"] == "r0"


def test_9_reads_drbdsetup_json():
    run = Runner({("status", "--json"): (0, read("drbd", "drbdsetup_status_json--9.0.16-connected-uptodate.out"), "")})
    state = drbd_parse.read_state(read("fakebin", "public", "proc_drbd--9.0.32-1-no-resources.out"), list, run,
                                  drbdsetup="/sbin/drbdsetup")
    assert state["version"] == "9.0.32-1" and run.calls == [["/sbin/drbdsetup", "status", "--json"]]
    assert state["resources"]["beijing"]["peers"][0]["connection_state"] == "Connected"


def test_9_failure_is_reported_then_falls_back_to_drbdadm_only_when_asked():
    proc = "version: 9.2.12 (api:2/proto:86-122)\n"
    errors = []
    run = Runner({("status", "--json"): (20, "", "no kernel module\n"), ("status", "all"): (0, "r0 role:Secondary\n  disk:UpToDate\n", "")})
    assert drbd_parse.read_state(proc, list, run, on_error=errors.append)["resources"] == {}
    assert errors == ["drbdsetup status --json exited 20: no kernel module"] and len(run.calls) == 1
    state = drbd_parse.read_state(proc, list, run, drbdadm="drbdadm")
    assert state["resources"]["r0"]["role"] == "Secondary"


def test_malformed_status_is_a_parse_error():
    run = Runner({("status", "--json"): (0, "[{", "")})
    with pytest.raises(ParseError):
        drbd_parse.read_state("version: 9.2.12\n", list, run)


# --------------------------------------------------------------------------- GI
GIS = sorted(glob.glob(os.path.join(FIXTURES, "drbd", "drbdadm_get_gi--*.out")))


@pytest.mark.parametrize("capture", GIS, ids=os.path.basename)
def test_gi_uuids_read_text_and_the_parsed_dict_alike(capture):
    text = read(capture)
    parsed = drbd_parse.parse_gi(text)
    uuids = drbd_parse.gi_uuids(text)
    assert uuids == drbd_parse.gi_uuids(parsed)
    assert uuids["current"] == int(parsed["current_uuid"], 16) & ~1 and len(uuids["history"]) == 2


def test_gi_uuids_unknown():
    assert drbd_parse.gi_uuids(None) is None
    assert drbd_parse.gi_uuids("") is None
    assert drbd_parse.gi_uuids("not:a:gi") is None
    assert drbd_parse.gi_uuids({"current_uuid": "zz"}) is None
