"""hapair.partition (parsers on real util-linux 2.38.1 / parted 3.5 captures, the guarded planner),
the ``partitions`` pillar section (validation, normalisation) and the Salt adapters
(_modules/hapair_disk.py, _states/hapair_disk.py) over a fake ``cmd.run_all`` replaying the captures."""

from __future__ import annotations

import copy
import glob
import json
import os
import sys

import pytest
import yaml
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402
from hapair import partition, topology  # noqa: E402
from hapair.errors import ParseError, RefusedError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DISK = os.path.join(ROOT, "tests", "fixtures", "disk")
V = "2.38.1"
PARSERS = {"lsblk": partition.parse_lsblk, "sfdisk": partition.parse_sfdisk, "wipefs": partition.parse_wipefs}


def read(name: str) -> str:
    with open(os.path.join(DISK, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("path", sorted(p for tool in PARSERS for p in glob.glob(os.path.join(DISK, f"{tool}--*.out"))),
                         ids=os.path.basename)
def test_every_capture_parses_to_its_json(path):
    tool = os.path.basename(path).split("--")[0]
    with open(path[:-4] + ".json", encoding="utf-8") as handle:
        expected = json.load(handle)
    with open(path, encoding="utf-8") as handle:
        assert PARSERS[tool](handle.read()) == expected


def test_parsers_read_what_matters():
    tree = partition.parse_lsblk(read(f"lsblk--{V}-msdos-one.out"))
    assert (tree["path"], tree["size"], [c["path"] for c in tree["children"]]) == ("/dev/loop1", 2**26, ["/dev/loop1p1"])
    assert partition.parse_lsblk(read(f"lsblk--{V}-msdos-one-mounted.out"))["children"][0]["mountpoint"] == "/tmp/hd-mnt"
    assert partition.parse_sfdisk(read(f"sfdisk--{V}-blank.out")) is None
    assert partition.parse_sfdisk(read(f"sfdisk--{V}-gpt-one.out"))["partitions"] == [
        {"node": "/dev/loop2p1", "start": 2048, "size": 128991}]
    assert [s["type"] for s in partition.parse_wipefs(read(f"wipefs--{V}-gpt-one.out"))] == ["gpt", "gpt", "PMBR"]
    assert partition.parse_wipefs(read(f"wipefs--{V}-blank.out")) == []
    assert partition.parse_wipefs("") == []


@pytest.mark.parametrize("parser, text", [
    (partition.parse_lsblk, '{"blockdevices": []}'),
    (partition.parse_lsblk, '{"blockdevices": [{"name": "a", "path": "/dev/a", "type": "disk", "size": "1G"}]}'),
    (partition.parse_lsblk, "not json"),
    (partition.parse_sfdisk, '{"partitiontable": {"label": "dos", "partitions": [{"node": "/dev/a1", "start": -1, "size": 1}]}}'),
    (partition.parse_sfdisk, '{"nothing": 1}'),
    (partition.parse_wipefs, '{"signatures": [{"type": "ext4", "offset": "zz"}]}'),
    (partition.parse_wipefs, '{"signatures": {}}'),
])
def test_malformed_output_is_a_parse_error(parser, text):
    with pytest.raises(ParseError):
        parser(text)


# -- planner ---------------------------------------------------------------------------------------
MSDOS = {"disk": "/dev/loop1", "table": "msdos", "partition": "/dev/loop1p1"}
GPT = {"disk": "/dev/loop2", "table": "gpt", "partition": "/dev/loop2p1"}


def facts(disk: str, state: str, table: str | None = None, lsblk: str | None = None) -> dict:
    """Facts of a captured disk: its lsblk tree, sfdisk table and wipefs signatures, renamed to ``disk``."""
    def load(tool, kind):
        text = read(f"{tool}--{V}-{kind}.out")
        for loop in ("loop0", "loop1", "loop2", "loop3", "loop4"):
            text = text.replace(loop, disk.rsplit("/", 1)[1])
        return PARSERS[tool](text)
    return {"lsblk": load("lsblk", lsblk or ("blank" if state in ("blank", "ext4", "lvm2") else state)),
            "table": load("sfdisk", table or (state if state in ("msdos-one", "gpt-one") else "blank")),
            "signatures": load("wipefs", state), "holders": {}}


def test_a_blank_disk_gets_one_aligned_partition_then_its_signatures_cleared():
    steps = partition.plan_partitioned(MSDOS, facts("/dev/loop1", "blank"))
    assert [s["argv"] for s in steps] == [
        ["parted", "-s", "-a", "optimal", "/dev/loop1", "mklabel", "msdos", "mkpart", "primary", "1MiB", "100%"],
        ["wipefs", "-a", "/dev/loop1p1"]]
    assert steps[0]["old"] == "blank" and steps[0]["new"] == "msdos: /dev/loop1p1"


@pytest.mark.parametrize("spec, disk, state", [(MSDOS, "/dev/loop1", "msdos-one"), (GPT, "/dev/loop2", "gpt-one")])
def test_the_wanted_layout_is_left_alone(spec, disk, state):
    assert partition.plan_partitioned(spec, facts(disk, state)) == []


@pytest.mark.parametrize("spec, disk, state, what", [
    (MSDOS, "/dev/loop1", "gpt-one", "gpt partition table with 1 partition"),  # the other table kind
    (GPT, "/dev/loop2", "msdos-one", "dos partition table with 1 partition"),
    (MSDOS, "/dev/loop1", "ext4", "ext4 signature"),
    (MSDOS, "/dev/loop1", "lvm2", "LVM2_member signature"),
])
def test_a_table_or_a_signature_is_refused_unless_overwrite(spec, disk, state, what):
    with pytest.raises(RefusedError, match=f"refusing on {disk}: .*{what}.*overwrite=True"):
        partition.plan_partitioned(spec, facts(disk, state))
    steps = partition.plan_partitioned(spec, facts(disk, state), overwrite=True)
    assert [s["action"] for s in steps] == ["wipe", "partition", "wipe-partition"]
    assert steps[0]["argv"] == ["wipefs", "-a", disk]


def test_a_misaligned_partition_is_not_the_wanted_layout():
    misaligned = facts("/dev/loop1", "msdos-one", table="msdos-misaligned")
    with pytest.raises(RefusedError, match="dos partition table"):
        partition.plan_partitioned(MSDOS, misaligned)


def test_mounted_or_held_is_refused_even_with_overwrite():
    mounted = facts("/dev/loop1", "msdos-one", lsblk="msdos-one-mounted", table="msdos-misaligned")
    with pytest.raises(RefusedError, match="/dev/loop1p1 on /tmp/hd-mnt is mounted.*pass nothing"):
        partition.plan_partitioned(MSDOS, mounted, overwrite=True)
    whole = facts("/dev/loop3", "ext4", lsblk="ext4-mounted")
    with pytest.raises(RefusedError, match="refusing on /dev/loop3: .*mounted"):
        partition.plan_partitioned({"disk": "/dev/loop3", "table": "gpt", "partition": "/dev/loop3p1"}, whole,
                                   overwrite=True)
    held = dict(facts("/dev/loop1", "blank"), holders={"/dev/loop1": ["dm-0"]})
    with pytest.raises(RefusedError, match="/dev/loop1 by dm-0.*vgchange"):
        partition.plan_partitioned(MSDOS, held, overwrite=True)
    tree = copy.deepcopy(facts("/dev/loop1", "blank"))
    tree["lsblk"]["children"] = [{"name": "md0", "path": "/dev/md0", "type": "raid1", "size": 1, "mountpoint": None,
                                  "children": []}]
    with pytest.raises(RefusedError, match="by md0"):
        partition.plan_partitioned(MSDOS, tree, overwrite=True)


def test_no_disk_and_msdos_over_2tib_are_refused():
    with pytest.raises(RefusedError, match="no such block device"):
        partition.plan_partitioned(MSDOS, {"lsblk": None})
    big = facts("/dev/loop1", "blank")
    big["lsblk"]["size"] = partition.MSDOS_MAX_BYTES + 512
    with pytest.raises(RefusedError, match="table: gpt"):
        partition.plan_partitioned(MSDOS, big)
    assert partition.plan_partitioned(dict(MSDOS, table="gpt"), big)[0]["argv"][6] == "gpt"


# -- pillar ----------------------------------------------------------------------------------------
def pillar(name: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def raw_web() -> dict:
    return copy.deepcopy(pillar("web")["hapair"]["topologies"]["web"])


def test_web_partitions_its_disk_and_drbd_uses_the_partition():
    topo = topology.load(pillar("web"), "web")
    assert topo["partitions"] == {"/dev/sdc": {"disk": "/dev/sdc", "table": "msdos", "partition": "/dev/sdc1",
                                               "nodes": ["web1", "web2"]}}
    assert {n: i["disk"] for n, i in topo["drbd"]["resources"]["r0"]["nodes"].items()} == {
        "web1": "/dev/sdc1", "web2": "/dev/sdc1"}


def test_crossed_partitions_both_raid_arrays_with_parted():
    topo = topology.load(pillar("crossed"), "crossed")
    assert sorted(topo["partitions"]) == ["/dev/sdb", "/dev/sdc"]
    assert {r: res["nodes"]["node1"]["disk"] for r, res in topo["drbd"]["resources"].items()} == {
        "r0": "/dev/sdb1", "r1": "/dev/sdc1"}


def test_a_partition_limited_to_one_node_changes_only_that_node():
    raw = raw_web()
    raw["drbd"]["resources"]["r0"]["disk"] = "/dev/sdc"  # the whole disk: hapair picks the partition
    raw["partitions"] = {"/dev/sdc": {"nodes": ["web2"], "table": "gpt"}}
    topo = topology.normalise(raw, "web")
    assert {n: i["disk"] for n, i in topo["drbd"]["resources"]["r0"]["nodes"].items()} == {
        "web1": "/dev/sdc", "web2": "/dev/sdc1"}


def test_partitions_errors_are_all_reported_with_their_paths():
    raw = raw_web()
    raw["partitions"] = {
        "/dev/sdc": {"table": "dos", "nodes": ["web3"], "colour": 1},
        "/dev/sdd": {"partition": "/dev/sdd"},
        "/dev/sde": {"partition": "/dev/sdc1"},
        "sdf": {},
        "/dev/drbd0": {},
        "/dev/sdg": {"partition": "/dev/sdg1\n"},
    }
    found = {str(e) for e in topology.validate(raw, "web")}
    base = "hapair:topologies:web:partitions"
    for expected in (f"{base}:/dev/sdc:table: 'dos' is not allowed", f"{base}:/dev/sdc:nodes:0:",
                     f"{base}:/dev/sdc:colour: unknown key", f"{base}:/dev/sdd:partition: is the disk itself",
                     f"{base}:/dev/sde:partition: /dev/sdc1 is already named", f"{base}:sdf: 'sdf' is not an absolute path",
                     f"{base}:/dev/drbd0: is a DRBD device", f"{base}:/dev/sdg:partition: '/dev/sdg1\\n' is not a valid path"):
        assert any(e.startswith(expected) for e in found), (expected, found)


# -- adapters --------------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path, monkeypatch):
    state = {"disk": "blank"}

    def by_state(tool):
        def answer(argv, _kwargs):
            kind = state["disk"]
            if tool == "lsblk":
                text = read(f"lsblk--{V}-{'msdos-one' if kind == 'msdos-one' else 'blank'}.out")
            elif tool == "sfdisk":
                if kind != "msdos-one":
                    return {"retcode": 1, "stderr": read(f"sfdisk--{V}-blank.stderr")}
                text = read(f"sfdisk--{V}-msdos-one.out")
            else:
                text = read(f"wipefs--{V}-{kind}.out")
            return {"stdout": text.replace("loop1p1", "sdc1").replace("loop1", "sdc").replace("loop0", "sdc").replace("loop3", "sdc")}
        return answer

    def parted(argv, _kwargs):
        state["disk"] = "msdos-one"
        return {}

    cmd = fakesalt.FakeCmd({("lsblk",): by_state("lsblk"), ("sfdisk",): by_state("sfdisk"),
                            ("wipefs", "-J"): by_state("wipefs"), ("wipefs", "-a"): {}, ("parted",): parted})
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:sys_block": str(tmp_path / "sys")})
    mod = fakesalt.load("modules", "hapair_disk", salt, pillar=pillar("web"), opts={"id": "web1"})
    real_exists = os.path.exists
    monkeypatch.setattr(mod.os.path, "exists", lambda p: p in ("/dev/sdc", "/dev/sdc1") or real_exists(p))
    salt.update({f"hapair_disk.{fn}": getattr(mod, fn) for fn in ("facts", "plan", "apply")})
    st = fakesalt.load("states", "hapair_disk", salt, pillar=pillar("web"), opts={"id": "web1"})
    return {"cmd": cmd, "mod": mod, "state": st, "disk": state}


def test_state_test_mode_runs_nothing_then_partitions_and_rereads(env):
    env["state"].__opts__["test"] = True
    dry = env["state"].partitioned("web")
    assert dry["result"] is None and dry["changes"] == {"partitioned": {"/dev/sdc": {"old": "blank",
                                                                                      "new": "msdos: /dev/sdc1"}}}
    assert "parted -s -a optimal /dev/sdc mklabel msdos" in dry["comment"]
    assert not [a for a in env["cmd"].argvs() if a[0] == "parted" or a[:2] == ["wipefs", "-a"]]
    env["state"].__opts__["test"] = False
    done = env["state"].partitioned("web")
    assert done["result"] is True and done["changes"] == dry["changes"], done
    ran = [a for a in env["cmd"].argvs() if a[0] == "parted" or a[:2] == ["wipefs", "-a"]]
    assert ran == [["parted", "-s", "-a", "optimal", "/dev/sdc", "mklabel", "msdos", "mkpart", "primary", "1MiB",
                    "100%"], ["wipefs", "-a", "/dev/sdc1"]]
    assert env["cmd"].argvs()[-1][0] in ("lsblk", "sfdisk", "wipefs")  # the facts read again after apply
    again = env["state"].partitioned("web")
    assert again["result"] is True and again["changes"] == {}


def test_state_refuses_a_disk_with_a_filesystem_and_names_the_override(env):
    env["disk"]["disk"] = "ext4"
    ret = env["state"].partitioned("web")
    assert ret["result"] is False and "refusing on /dev/sdc" in ret["comment"] and "overwrite=True" in ret["comment"]
    assert not [a for a in env["cmd"].argvs() if a[0] == "parted"]
    with pytest.raises(CommandExecutionError, match="overwrite=True"):
        env["mod"].apply("web")
    ret = env["state"].partitioned("web", overwrite="no")
    assert ret["result"] is False
    ret = env["state"].partitioned("web", overwrite=True)
    assert ret["result"] is True and ["wipefs", "-a", "/dev/sdc"] in env["cmd"].argvs()
