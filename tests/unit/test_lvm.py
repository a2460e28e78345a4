"""hapair.lvm (parsers on real lvm2 2.03.16 JSON reports, the guarded planner) and its Salt adapters
(_modules/hapair_lvm.py, _states/hapair_lvm.py) over a fake ``cmd.run_all`` replaying the captures."""

from __future__ import annotations

import copy
import os
import sys

import pytest
import yaml
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402
from hapair import lvm, topology  # noqa: E402
from hapair.errors import ParseError, RefusedError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LVM = os.path.join(ROOT, "tests", "fixtures", "lvm")
V = "host-lvm2.03.16"


def read(name: str) -> str:
    with open(os.path.join(LVM, name), encoding="utf-8") as handle:
        return handle.read()


def blkid_ext4() -> str:
    with open(os.path.join(ROOT, "tests", "fixtures", "gfs2", "blkid-export--2.38.1-ext4.out"), encoding="utf-8") as fh:
        return fh.read()


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_fileserver.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SPEC = topology.load(pillar(), "lab_fileserver")["lvm"]  # vg0 on /dev/vdc: rep-drbd0 100M, rep-drbd1 2200M
BLANK = {"pvs": {}, "vgs": [], "lvs": {}, "signatures": {"/dev/vdc": None}}


# -- parsers ---------------------------------------------------------------------------------------
def test_parsers_on_real_reports():
    assert lvm.parse_pvs(read(f"pvs-vg0-{V}.json")) == {"/dev/loop0": "vgcap"}
    assert lvm.parse_pvs(read(f"pvs-orphan-{V}.json")) == {"/dev/loop0": "vgcap", "/dev/loop2": ""}
    assert lvm.parse_vgs(read(f"vgs-{V}.json")) == ["vgcap"]
    assert lvm.parse_lvs(read(f"lvs-two-{V}.json")) == {"vgcap/rep-drbd0": 104857600, "vgcap/rep-drbd1": 159383552}
    assert lvm.parse_lvs(read(f"lvs-none-{V}.json")) == {}


@pytest.mark.parametrize("text", ["", "  No volume groups found\n", '{"report": []}', '{"report": [{"lv": 3}]}'])
def test_parsers_reject_what_is_not_a_report(text):
    with pytest.raises(ParseError):
        lvm.parse_lvs(text)


# -- planner ---------------------------------------------------------------------------------------
def test_plan_on_a_blank_disk_creates_pv_vg_and_lvs():
    steps = lvm.plan_present(SPEC, BLANK)
    assert [s["argv"] for s in steps] == [
        ["pvcreate", "/dev/vdc"], ["vgcreate", "vg0", "/dev/vdc"],
        ["lvcreate", "--yes", "--wipesignatures", "y", "-n", "rep-drbd0", "-L", "100M", "vg0"],
        ["lvcreate", "--yes", "--wipesignatures", "y", "-n", "rep-drbd1", "-L", "2200M", "vg0"]]
    assert steps[-1]["target"] == "/dev/vg0/rep-drbd1"


def test_plan_is_empty_when_everything_exists_and_resumes_a_half_done_run():
    done = {"pvs": {"/dev/vdc": "vg0"}, "vgs": ["vg0"], "lvs": {"vg0/rep-drbd0": 1, "vg0/rep-drbd1": 2},
            "signatures": {"/dev/vdc": "LVM2_member"}}
    assert lvm.plan_present(SPEC, done) == []
    half = dict(done, lvs={"vg0/rep-drbd0": 1})
    assert [s["action"] for s in lvm.plan_present(SPEC, half)] == ["lvcreate"]
    orphan = dict(BLANK, pvs={"/dev/vdc": ""}, signatures={"/dev/vdc": "LVM2_member"})
    assert [s["argv"][:2] for s in lvm.plan_present(SPEC, orphan)] == [["vgcreate", "vg0"]] + [["lvcreate", "--yes"]] * 2


def test_plan_refuses_a_disk_with_a_filesystem_unless_overwrite():
    ext4 = dict(BLANK, signatures={"/dev/vdc": "ext4"})
    with pytest.raises(RefusedError) as err:
        lvm.plan_present(SPEC, ext4)
    assert "/dev/vdc" in str(err.value) and "ext4" in str(err.value) and "overwrite=True" in str(err.value)
    assert lvm.plan_present(SPEC, ext4, overwrite=True)[0]["argv"] == ["pvcreate", "-ff", "--yes", "/dev/vdc"]


def test_plan_always_refuses_a_pv_of_another_vg():
    other = dict(BLANK, pvs={"/dev/vdc": "vgdata"}, vgs=["vgdata"])
    for overwrite in (False, True):
        with pytest.raises(RefusedError, match="volume group vgdata"):
            lvm.plan_present(SPEC, other, overwrite=overwrite)


def test_percent_sizes_use_extents():
    spec = copy.deepcopy(SPEC)
    spec["vg0"]["lvs"]["rep-drbd1"]["size"] = "50%FREE"
    assert lvm.plan_present(spec, BLANK)[-1]["argv"][-3:] == ["-l", "50%FREE", "vg0"]


# -- adapters --------------------------------------------------------------------------------------
@pytest.fixture
def env():
    cmd = fakesalt.FakeCmd({
        ("blkid",): {"retcode": 2},
        ("pvs",): {"stdout": read(f"lvs-none-{V}.json").replace('"lv"', '"pv"')},
        ("vgs",): {"stdout": read(f"lvs-none-{V}.json").replace('"lv"', '"vg"')},
        ("lvs",): {"stdout": read(f"lvs-none-{V}.json")},
        ("pvcreate",): {}, ("vgcreate",): {}, ("lvcreate",): {},
    })
    salt = fakesalt.salt_dict(cmd, {})
    mod = fakesalt.load("modules", "hapair_lvm", salt, pillar=pillar(), opts={"id": "node1"})
    salt.update({f"hapair_lvm.{fn}": getattr(mod, fn) for fn in ("facts", "plan", "apply")})
    state = fakesalt.load("states", "hapair_lvm", salt, pillar=pillar(), opts={"id": "node1"})
    return {"cmd": cmd, "mod": mod, "state": state}


def test_state_test_mode_runs_nothing_then_applies(env):
    state = env["state"]
    state.__opts__["test"] = True
    dry = state.present("lab_fileserver")
    assert dry["result"] is None and dry["changes"]["created"] == [
        "pvcreate /dev/vdc", "vgcreate vg0", "lvcreate /dev/vg0/rep-drbd0", "lvcreate /dev/vg0/rep-drbd1"]
    assert not [a for a in env["cmd"].argvs() if a[0] in ("pvcreate", "vgcreate", "lvcreate")]
    state.__opts__["test"] = False
    done = state.present("lab_fileserver")
    assert done["result"] is True and done["changes"] == dry["changes"]
    assert [a[0] for a in env["cmd"].argvs() if a[0].endswith("create")] == ["pvcreate", "vgcreate", "lvcreate",
                                                                              "lvcreate"]


def test_state_is_a_noop_when_present(env):
    env["cmd"].responses[("pvs",)] = {"stdout": read(f"pvs-vg0-{V}.json").replace("/dev/loop0", "/dev/vdc")
                                      .replace("vgcap", "vg0")}
    env["cmd"].responses[("vgs",)] = {"stdout": read(f"vgs-{V}.json").replace("vgcap", "vg0")}
    env["cmd"].responses[("lvs",)] = {"stdout": read(f"lvs-two-{V}.json").replace("vgcap", "vg0")}
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is True and ret["changes"] == {}


def test_state_refuses_a_disk_with_a_filesystem(env):
    env["cmd"].responses[("blkid",)] = {"stdout": blkid_ext4()}
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is False and "/dev/vdc" in ret["comment"] and "overwrite=True" in ret["comment"]
    assert not [a for a in env["cmd"].argvs() if a[0].endswith("create")]
    with pytest.raises(CommandExecutionError, match="overwrite=True"):
        env["mod"].apply("lab_fileserver")
