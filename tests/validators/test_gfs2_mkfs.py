"""GFS2 with the real gfs2-utils on plain files, offline (../shared/docs/VALIDATORS.md).

For every gfs2 filesystem in the example pillars: run hapair's mkfs argv on a temp file with the real
mkfs.gfs2, then read it back with tunegfs2 -l, gfs2_edit -p journals and blkid -p, through hapair's
parsers: the lock table and the journal count must be what the topology asked for, and the planner
must then see the device as formatted. hapair's lock-table rules are cross-checked against what
mkfs.gfs2 itself accepts on generated names. The gfs2 module runs too, with the real tools.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from hapair import gfs2, parsing, topology
from hapair.errors import RefusedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOOLS = ("mkfs.gfs2", "tunegfs2", "gfs2_edit", "blkid")
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                       reason="gfs2-utils/blkid not installed (apt-get install gfs2-utils util-linux)"),
]


def run(argv: list[str], ok=(0,)) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode in ok, (argv, result.returncode, result.stderr)
    return result.stdout


def image(tmp_path, name="gfs2.img", size="64M") -> str:
    path = str(tmp_path / name)
    run(["truncate", "-s", size, path])
    return path


def gfs2_filesystems() -> list[tuple[str, dict, dict]]:
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls"))):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        for name in topology.names(data):
            topo = topology.load(data, name)
            for fs in topo["filesystems"].values():
                if fs["type"] == "gfs2":
                    out.append((f"{name}:{fs['name']}", topo, fs))
    return out


FILESYSTEMS = gfs2_filesystems()


def test_the_example_pillars_hold_gfs2_filesystems():
    assert {case for case, _t, _f in FILESYSTEMS} >= {"hardcore:gfs2-00", "hardcore:gfs2-01", "lab_gfs2:gfs2-00"}


@pytest.mark.parametrize("case,topo,fs", FILESYSTEMS, ids=[c for c, _t, _f in FILESYSTEMS])
def test_mkfs_then_read_back(case, topo, fs, tmp_path):
    cluster = topo["cluster"]["name"]
    dev = image(tmp_path)
    node = fs["mount_on"][0]
    facts = {"node": node, "cluster_name": cluster, "device": dev,
             "signature": parsing.parse_blkid(run(["blkid", "-p", "-o", "export", dev], ok=(2,))),
             "drbd": None}
    steps = gfs2.plan_formatted(facts, dict(fs, resource=None, device=dev))
    assert len(steps) == 1 and steps[0]["argv"][:-1] == gfs2.mkfs_argv(fs, cluster, dev)[:-1]
    summary = gfs2.parse_mkfs(run(steps[0]["argv"]))
    sb = gfs2.parse_tunegfs2(run(["tunegfs2", "-l", dev]))
    journals = gfs2.parse_journals(run(["gfs2_edit", "-p", "journals", dev]))
    signature = parsing.parse_blkid(run(["blkid", "-p", "-o", "export", dev]))
    expected = fs["lock_table"] or f"{cluster}:{fs['name']}"
    assert summary["lock_table"] == sb["lock_table"] == signature["label"] == expected
    assert (sb["cluster_name"], sb["lock_protocol"], signature["type"]) == (cluster, "lock_dlm", "gfs2")
    assert len(journals["journals"]) == fs["slots"] == summary["journals"]
    # formatted now: the planner does nothing, on either node
    for other in fs["mount_on"]:
        assert gfs2.plan_formatted(dict(facts, node=other, signature=signature), dict(fs, device=dev)) == []


def test_planner_refuses_a_real_ext4(tmp_path):
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 not installed (e2fsprogs)")
    case, topo, fs = FILESYSTEMS[0]
    dev = image(tmp_path, "ext4.img")
    run(["mkfs.ext4", "-q", "-F", dev])
    signature = parsing.parse_blkid(run(["blkid", "-p", "-o", "export", dev]))
    facts = {"node": fs["mount_on"][0], "cluster_name": topo["cluster"]["name"], "device": dev,
             "signature": signature, "drbd": None}
    with pytest.raises(RefusedError) as err:
        gfs2.plan_formatted(facts, dict(fs, resource=None, device=dev))
    assert err.value.device == dev and "TYPE=ext4" in err.value.reason and err.value.override == "overwrite=True"


PART = st.text(alphabet="abcXYZ019-_.:/ é", min_size=0, max_size=34)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cluster=PART, fsname=PART)
def test_lock_table_rules_agree_with_mkfs_gfs2(cluster, fsname, tmp_path):
    table = f"{cluster}:{fsname}"
    dev = image(tmp_path, "probe.img", "16M")
    result = subprocess.run(["mkfs.gfs2", "-O", "-t", table, "-p", "lock_dlm", "-j", "1", dev],
                            capture_output=True, text=True, errors="replace", timeout=60)
    ours = gfs2.check_lock_table(table)  # no cluster name: only the rules mkfs.gfs2 itself has
    assert (result.returncode == 0) == (ours == []), (table, result.stderr, ours)


def test_module_info_and_guarded_mkfs_with_the_real_tools(tmp_path):
    case, topo, fs = next(f for f in FILESYSTEMS if f[0] == "lab_gfs2:gfs2-00")
    dev = image(tmp_path)
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    # the filesystem lives on the image (a DRBD `device` must be /dev/drbd<N>, which validation now
    # enforces as drbdadm does); DRBD's own checks are the planner's, covered in the unit tables
    fs_pillar = pillar["hapair"]["topologies"]["lab_gfs2"]["filesystems"]["gfs2-00"]
    del fs_pillar["resource"]
    fs_pillar["device"] = dev
    pillar["hapair"]["topologies"]["lab_gfs2"]["drbd"]["resources"]["r0"]["mode"] = "single-primary"
    salt = fakesalt.salt_dict(fakesalt.real_run_all, {})
    mod = fakesalt.load("modules", "gfs2", salt, opts={"id": "node1", "test": False}, pillar=pillar)
    done = mod.mkfs("gfs2-00", "lab_gfs2")
    assert done["formatted"] and done["lock_table"] == "labgfs:gfs2-00" and done["summary"]["journals"] == 2
    info = mod.info(dev)
    assert info["superblock"]["lock_table"] == "labgfs:gfs2-00" and len(info["journals"]) == 2
    assert mod.mkfs("gfs2-00", "lab_gfs2")["formatted"] is False
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 not installed (e2fsprogs)")
    run(["mkfs.ext4", "-q", "-F", dev])
    with pytest.raises(CommandExecutionError, match="overwrite=True"):
        mod.mkfs("gfs2-00", "lab_gfs2")
    assert mod.signature(dev)["type"] == "ext4"
