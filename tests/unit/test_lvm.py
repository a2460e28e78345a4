"""hapair.lvm (parsers on real lvm2 2.03.16 JSON reports, the guarded planner) and its Salt adapters
(_modules/hapair_lvm.py, _states/hapair_lvm.py) over a fake ``cmd.run_all`` replaying the captures."""

from __future__ import annotations

import copy
import json
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
    """The lab's fileserver pillar with its DRBD backing LVs only: the unreplicated volumes (an LV with
    ``filesystem``: mkfs, fstab, mount) have their own tests below, on seed 001's fileserver pillar."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_fileserver.sls"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    lvs = raw["hapair"]["topologies"]["lab_fileserver"]["lvm"]["vg0"]["lvs"]
    for lv in [lv for lv, spec in lvs.items() if isinstance(spec, dict) and spec.get("filesystem")]:
        del lvs[lv]
    return raw


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
    assert str(err.value) == "refusing on /dev/vdc: it carries a ext4 signature (blkid); to proceed anyway pass overwrite=True"
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
def vg0(name: str) -> str:
    """A capture of vgcap on /dev/loop0 as it reads for vg0 on /dev/vdc."""
    return read(name).replace("/dev/loop0", "/dev/vdc").replace("vgcap", "vg0")


def only_lvs(names) -> str:
    """lvs-two's report with only the LVs in ``names`` (vg0's): what lvs shows between two lvcreates."""
    doc = json.loads(vg0(f"lvs-two-{V}.json"))
    doc["report"][0]["lv"] = [row for row in doc["report"][0]["lv"] if row["lv_name"] in names]
    return json.dumps(doc)


def lvm_disk(cmd) -> dict:
    """The fake's commands change what the reports show, as lvm2 does: pvcreate makes /dev/vdc an
    orphan PV (blkid: LVM2_member), vgcreate puts it in vg0, each lvcreate adds its LV."""
    made = []

    def pvcreate(argv, _kw):
        cmd.responses[("pvs",)] = {"stdout": read(f"pvs-orphan-{V}.json").replace("/dev/loop2", argv[-1])
                                   .replace('{"pv_name":"/dev/loop0", "vg_name":"vgcap"},', "")}
        cmd.responses[("blkid",)] = {"stdout": read_disk("blkid-export--2.38.1-lvm2.out")}
        return {}

    def vgcreate(argv, _kw):
        cmd.responses[("pvs",)] = {"stdout": vg0(f"pvs-vg0-{V}.json")}
        cmd.responses[("vgs",)] = {"stdout": vg0(f"vgs-{V}.json")}
        return {}

    def lvcreate(argv, _kw):
        made.append(argv[argv.index("-n") + 1])
        cmd.responses[("lvs",)] = {"stdout": only_lvs(made)}
        return {}

    return {("pvcreate",): pvcreate, ("vgcreate",): vgcreate, ("lvcreate",): lvcreate}


def read_disk(name: str) -> str:
    with open(os.path.join(ROOT, "tests", "fixtures", "disk", name), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture
def env():
    cmd = fakesalt.FakeCmd({
        ("blkid",): {"retcode": 2},
        ("pvs",): {"stdout": read(f"lvs-none-{V}.json").replace('"lv"', '"pv"')},
        ("vgs",): {"stdout": read(f"lvs-none-{V}.json").replace('"lv"', '"vg"')},
        ("lvs",): {"stdout": read(f"lvs-none-{V}.json")},
    })
    cmd.responses.update(lvm_disk(cmd))
    salt = fakesalt.salt_dict(cmd, {})
    mod = fakesalt.load("modules", "hapair_lvm", salt, pillar=pillar(), opts={"id": "node1"})
    salt.update({f"hapair_lvm.{fn}": getattr(mod, fn) for fn in ("facts", "plan", "apply")})
    state = fakesalt.load("states", "hapair_lvm", salt, pillar=pillar(), opts={"id": "node1"})
    return {"cmd": cmd, "mod": mod, "state": state, "salt": salt}


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
    env["cmd"].responses[("pvs",)] = {"stdout": vg0(f"pvs-vg0-{V}.json")}
    env["cmd"].responses[("vgs",)] = {"stdout": vg0(f"vgs-{V}.json")}
    env["cmd"].responses[("lvs",)] = {"stdout": vg0(f"lvs-two-{V}.json")}
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is True and ret["changes"] == {}


def test_state_reads_the_reports_again_after_apply(env):
    """An apply that reports success while the reports still lack the LVs fails, naming what is left."""
    env["salt"]["hapair_lvm.apply"] = lambda name, overwrite=False: []
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is False, ret
    assert ret["comment"] == ("the LVM volumes of lab_fileserver were created, yet the reports still show "
                              "pvcreate /dev/vdc; vgcreate vg0; lvcreate /dev/vg0/rep-drbd0; "
                              "lvcreate /dev/vg0/rep-drbd1 to do")


def test_state_after_a_half_done_run_creates_what_is_left(env):
    env["cmd"].responses[("pvs",)] = {"stdout": vg0(f"pvs-vg0-{V}.json")}
    env["cmd"].responses[("vgs",)] = {"stdout": vg0(f"vgs-{V}.json")}
    env["cmd"].responses[("lvs",)] = {"stdout": only_lvs(["rep-drbd0"])}
    env["cmd"].responses[("lvcreate",)] = lambda argv, _kw: env["cmd"].responses.update(
        {("lvs",): {"stdout": vg0(f"lvs-two-{V}.json")}}) or {}
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is True and ret["changes"] == {"created": ["lvcreate /dev/vg0/rep-drbd1"]}, ret


def test_state_refuses_a_disk_with_a_filesystem(env):
    env["cmd"].responses[("blkid",)] = {"stdout": blkid_ext4()}
    ret = env["state"].present("lab_fileserver")
    assert ret["result"] is False and "/dev/vdc" in ret["comment"] and "overwrite=True" in ret["comment"]
    assert not [a for a in env["cmd"].argvs() if a[0].endswith("create")]
    with pytest.raises(CommandExecutionError, match="overwrite=True"):
        env["mod"].apply("lab_fileserver")


# -- unreplicated volumes (seed 001's rep-no, rep-unison) ------------------------------------------
def fileserver() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "fileserver.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


FS_LVM = topology.load(fileserver(), "fileserver")["lvm"]
NONE_YET = {"lvs": {}, "lv_signatures": {}, "fstab": "UUID=1 / ext4 defaults 0 1\n", "mounts": [], "dirs": []}


def test_fileserver_holds_the_seeds_lvm_layout():
    lvs = FS_LVM["vg0"]["lvs"]
    assert FS_LVM["vg0"]["pvs"] == []  # vg0 is the installer's
    assert {lv: spec["size"] for lv, spec in lvs.items()} == {"rep-no": "100G", "rep-drbd0": "200G",
                                                             "rep-drbd1": "200G", "rep-unison": "2T"}
    assert lvs["rep-drbd0"]["filesystem"] is None
    assert [lvm.fstab_line(lvs[lv]["filesystem"]) for lv in ("rep-no", "rep-unison")] == [
        "/dev/mapper/vg0-rep--no /vol/rep-no ext4 noatime,nodiratime 0 2",            # the seed's lines
        "/dev/mapper/vg0-rep--unison /vol/rep-unison ext4 noatime,nodiratime 0 2"]
    steps = lvm.plan_present(FS_LVM, {"pvs": {"/dev/sda5": "vg0"}, "vgs": ["vg0"], "lvs": {}})
    assert [s["argv"][-3:] for s in steps] == [["-L", "200G", "vg0"], ["-L", "200G", "vg0"], ["-L", "100G", "vg0"],
                                               ["-L", "2T", "vg0"]]


def test_a_missing_vg_without_pvs_is_refused():
    with pytest.raises(RefusedError, match="refusing on vg0: the volume group does not exist"):
        lvm.plan_present(FS_LVM, {"pvs": {}, "vgs": [], "lvs": {}})


def test_volumes_are_formatted_once_mounted_and_in_fstab():
    steps = lvm.plan_volumes(FS_LVM, NONE_YET)
    assert [(s["action"], s["target"]) for s in steps] == [
        ("mkfs", "/dev/vg0/rep-no"), ("mkdir", "/vol/rep-no"), ("fstab", "/vol/rep-no"), ("mount", "/vol/rep-no"),
        ("mkfs", "/dev/vg0/rep-unison"), ("mkdir", "/vol/rep-unison"), ("fstab", "/vol/rep-unison"),
        ("mount", "/vol/rep-unison")]
    assert steps[0]["argv"] == ["mkfs.ext4", "-q", "/dev/vg0/rep-no"] and steps[3]["argv"] == ["mount", "/vol/rep-no"]
    done = {"lvs": {"vg0/rep-no": 1, "vg0/rep-unison": 1},
            "lv_signatures": {"/dev/vg0/rep-no": {"type": "ext4"}, "/dev/vg0/rep-unison": {"type": "ext4"}},
            "fstab": NONE_YET["fstab"] + "/dev/mapper/vg0-rep--no /vol/rep-no ext4 noatime,nodiratime 0 2\n"
                     "/dev/mapper/vg0-rep--unison /vol/rep-unison ext4 noatime,nodiratime 0 2\n",
            "mounts": [{"device": "/dev/mapper/vg0-rep--no", "mountpoint": "/vol/rep-no"},
                       {"device": "/dev/dm-3", "mountpoint": "/vol/rep-unison"}],
            "realpaths": {"/dev/dm-3": "/dev/dm-3", "/dev/mapper/vg0-rep--unison": "/dev/dm-3"},
            "dirs": ["/vol/rep-no", "/vol/rep-unison"]}
    assert lvm.plan_volumes(FS_LVM, done) == []
    stale = dict(done, fstab=done["fstab"].replace("noatime,nodiratime 0 2\n/dev/mapper/vg0-rep--unison",
                                                   "defaults 0 0\n/dev/mapper/vg0-rep--unison"))
    assert lvm.plan_volumes(FS_LVM, stale) == [{"action": "fstab", "target": "/vol/rep-no", "old": [
        "/dev/mapper/vg0-rep--no /vol/rep-no ext4 defaults 0 0"],
        "line": "/dev/mapper/vg0-rep--no /vol/rep-no ext4 noatime,nodiratime 0 2"}]


def test_mkfs_never_over_another_signature_and_never_under_another_mount():
    xfs = dict(NONE_YET, lvs={"vg0/rep-no": 1}, lv_signatures={"/dev/vg0/rep-no": {"type": "xfs", "label": "old"}})
    with pytest.raises(RefusedError) as err:
        lvm.plan_volumes(FS_LVM, xfs)
    assert str(err.value) == ("refusing on /dev/vg0/rep-no: it carries xfs labelled 'old' (blkid: TYPE=xfs, "
                              "LABEL=old); mkfs.ext4 destroys it; to proceed anyway pass overwrite=True")
    assert lvm.plan_volumes(FS_LVM, xfs, overwrite=True)[0]["argv"] == ["mkfs.ext4", "-q", "-F", "/dev/vg0/rep-no"]
    other = dict(NONE_YET, mounts=[{"device": "/dev/sdz1", "mountpoint": "/vol/rep-no"}])
    with pytest.raises(RefusedError, match="/dev/sdz1 is mounted there"):
        lvm.plan_volumes(FS_LVM, other, overwrite=True)


@pytest.mark.parametrize("lvs, where, message", [
    ({"a": {"size": "1G", "filesystem": "ext4"}}, "lvm:vg0:lvs:a:mountpoint", "is required"),
    ({"a": {"size": "1G", "mountpoint": "/vol/a"}}, "lvm:vg0:lvs:a:filesystem", "is required"),
    ({"a": {"size": "1G", "filesystem": "zfs", "mountpoint": "/vol/a"}}, "lvm:vg0:lvs:a:filesystem", "not allowed"),
    ({"a": {"size": "1G", "filesystem": "ext4", "mountpoint": "/vol/a",
            "mount_options": ["noatime\n"]}}, "lvm:vg0:lvs:a:mount_options:0", "not a valid"),
    ({"a": {"size": "1G", "filesystem": "ext4", "mountpoint": "/vol/ocfs2-small"}}, "lvm:vg0:lvs:a:mountpoint",
     "already used by filesystems:ocfs2-small"),
    ({"rep-drbd0": {"size": "1G", "filesystem": "ext4", "mountpoint": "/vol/x"}}, "lvm:vg0:lvs:rep-drbd0:filesystem",
     "backing disk of DRBD resource drbd0"),
    ({"a": {"sise": "1G"}}, "lvm:vg0:lvs:a:sise", "unknown key"),
    ({"a": {"filesystem": "ext4", "mountpoint": "/vol/a"}}, "lvm:vg0:lvs:a:size", "not valid"),
])
def test_volume_errors_name_their_pillar_path(lvs, where, message):
    raw = copy.deepcopy(fileserver()["hapair"]["topologies"]["fileserver"])
    raw["lvm"]["vg0"]["lvs"] = lvs
    found = [str(e) for e in topology.validate(raw, "fileserver")]
    assert any(e.startswith(f"hapair:topologies:fileserver:{where}") and message in e for e in found), found


def test_module_apply_formats_makes_fstab_and_mounts(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text("UUID=1 / ext4 defaults 0 1\n")
    mounts = tmp_path / "mounts"
    mounts.write_text("")
    raw = fileserver()
    spec = raw["hapair"]["topologies"]["fileserver"]["lvm"]["vg0"]["lvs"]
    spec["rep-no"]["mountpoint"] = str(tmp_path / "vol" / "rep-no")
    del spec["rep-unison"], spec["rep-drbd1"]  # the capture holds two LVs: rep-drbd0 and (renamed) rep-no
    topo = raw["hapair"]["topologies"]["fileserver"]
    del topo["nfs"], topo["unison"]  # their paths are on the volumes this test moved or dropped
    seen = {"lvs": read(f"lvs-none-{V}.json"), "blkid": {"retcode": 2}}

    def lvcreate(argv, _kw):
        seen["lvs"] = read(f"lvs-two-{V}.json").replace("vgcap", "vg0").replace("rep-drbd1", "rep-no")
        return {}

    def mount(argv, _kw):
        mounts.write_text(f"/dev/mapper/vg0-rep--no {argv[-1]} ext4 rw,noatime 0 0\n")
        return {}

    cmd = fakesalt.FakeCmd({
        ("pvs",): {"stdout": read(f"pvs-vg0-{V}.json").replace("vgcap", "vg0")},
        ("vgs",): {"stdout": read(f"vgs-{V}.json").replace("vgcap", "vg0")},
        ("lvs",): lambda argv, _kw: {"stdout": seen["lvs"]}, ("lvcreate",): lvcreate,
        ("blkid",): lambda argv, _kw: seen["blkid"], ("mount",): mount,
        ("mkfs.ext4",): lambda argv, _kw: seen.update(blkid={"stdout": blkid_ext4()}) or {},
    })
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:fstab": str(fstab), "hapair:paths:proc_mounts": str(mounts)})
    mod = fakesalt.load("modules", "hapair_lvm", salt, pillar=raw, opts={"id": "fiori"})
    done = mod.apply("fileserver")
    assert [s["action"] for s in done] == ["lvcreate", "lvcreate", "mkfs", "mkdir", "fstab", "mount"]
    assert [a for a in cmd.argvs() if a[0] == "mkfs.ext4"] == [["mkfs.ext4", "-q", "/dev/vg0/rep-no"]]
    assert fstab.read_text().splitlines()[-1] == f"/dev/mapper/vg0-rep--no {tmp_path}/vol/rep-no ext4 noatime,nodiratime 0 2"
    assert os.path.isdir(tmp_path / "vol" / "rep-no")
    assert mod.plan("fileserver") == []  # read again: nothing left
