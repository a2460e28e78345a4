"""_modules/gfs2.py and _states/gfs2.py with a mocked loader (tests/fakebin/cman/fakesalt.py).

Commands replay real captures from tests/fixtures/gfs2; DRBD state comes from a fake drbd.status in
hapair's normalised resource model. The pillar is the repo's seed-004 topology.
"""

from __future__ import annotations

import os
import sys

import pytest
import yaml
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

GFS2 = os.path.join(FIXTURES, "gfs2")


def read(name: str) -> str:
    with open(os.path.join(GFS2, name), encoding="utf-8") as handle:
        return handle.read()


def pillar(mountpoint: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["hapair"]["topologies"]["hardcore"]["filesystems"]["gfs2-00"]["mountpoint"] = mountpoint
    return data


def model(role="Primary", peer_disk="UpToDate"):
    return {"name": "r0", "role": role, "suspended": False, "volumes": [{"volume": 0, "minor": 0,
                                                                          "disk_state": "UpToDate"}],
            "peers": [{"name": "core-02", "node_id": None, "connection_state": "Connected", "role": "Primary",
                       "volumes": [{"volume": 0, "replication_state": "Established", "peer_disk_state": peer_disk,
                                    "percent_done": None, "eta_seconds": None, "out_of_sync_kib": None}]}]}


@pytest.fixture
def env(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw,relatime 0 0\n")

    def mkfs(_argv, _kw):  # the device reads back as GFS2 afterwards, as on a real disk
        cmd.responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-gfs2.out")}
        return {"stdout": read("mkfs.gfs2--3.5.0-hardcore-gfs2-00.out")}

    def mount(argv, _kw):  # and a mount shows in /proc/mounts
        mounts.write_text(mounts.read_text() + f"{argv[-2]} {argv[-1]} gfs2 rw,relatime 0 0\n")
        return {"stdout": ""}

    cmd = fakesalt.FakeCmd({
        ("blkid",): {"retcode": 2},
        ("mkfs.gfs2",): mkfs,
        ("tunegfs2", "-l"): {"stdout": read("tunegfs2-l--3.5.0-hardcore-gfs2-00.out")},
        ("gfs2_edit", "-p", "journals"): {"stdout": read("gfs2_edit-journals--3.5.0-two-journals.out")},
        ("mount",): mount,
        ("systemctl", "daemon-reload"): {"stdout": ""},
    })
    drbd = {"model": model()}
    fstab = tmp_path / "fstab"
    fstab.write_text("/dev/sda1 / ext4 defaults 0 1\n")
    config = {"hapair:paths:proc_mounts": str(mounts), "hapair:paths:fstab": str(fstab),
              "hapair:paths:systemd_dir": str(tmp_path / "systemd")}
    salt = fakesalt.salt_dict(cmd, config,
                              **{"hapair_drbd.status": lambda name: {"version": "8.4.11",
                                                              "resources": {name: drbd["model"]}}})
    mountpoint = str(tmp_path / "gfs2-00")
    mod = fakesalt.load("modules", "gfs2", salt, pillar=pillar(mountpoint))
    salt.update({f"gfs2.{fn}": getattr(mod, fn) for fn in ("plan", "mkfs", "facts", "mount", "plan_mount")})
    state = fakesalt.load("states", "gfs2", salt, pillar=pillar(mountpoint))
    return {"cmd": cmd, "mod": mod, "state": state, "drbd": drbd, "mounts": mounts, "mountpoint": mountpoint,
            "fstab": fstab, "systemd": tmp_path / "systemd"}


def test_info_parses_tunegfs2_and_journals(env):
    info = env["mod"].info("/dev/drbd0")
    assert info["superblock"]["lock_table"] == "hardcore:gfs2-00" and len(info["journals"]) == 2
    env["mod"].info("g.img")
    assert env["cmd"].argvs()[-1] == ["gfs2_edit", "-p", "journals", "./g.img"]


def test_mkfs_on_blank_primary_device(env):
    out = env["mod"].mkfs("gfs2-00", "hardcore")
    assert out["formatted"] and out["summary"]["journals"] == 2
    assert env["cmd"].argvs()[-1] == ["mkfs.gfs2", "-O", "-t", "hardcore:gfs2-00", "-p", "lock_dlm", "-j", "2",
                                      "/dev/drbd0"]


def test_mkfs_refuses_a_device_with_a_filesystem(env):
    env["cmd"].responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-ext4.out")}
    with pytest.raises(CommandExecutionError) as err:
        env["mod"].mkfs("gfs2-00", "hardcore")
    assert "/dev/drbd0" in str(err.value) and "overwrite=True" in str(err.value)
    assert not any(argv[0] == "mkfs.gfs2" for argv in env["cmd"].argvs())
    assert env["mod"].mkfs("gfs2-00", "hardcore", overwrite=True)["formatted"]


def test_mkfs_refuses_when_the_peer_is_not_uptodate(env):
    env["drbd"]["model"] = model(peer_disk="Inconsistent")
    with pytest.raises(CommandExecutionError, match="not ready"):
        env["mod"].mkfs("gfs2-00", "hardcore")
    assert not any(argv[0] == "mkfs.gfs2" for argv in env["cmd"].argvs())


def test_mkfs_is_a_noop_on_the_formatted_device(env):
    env["cmd"].responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-gfs2.out").replace("g.img", "/dev/drbd0")}
    assert env["mod"].mkfs("gfs2-00", "hardcore")["formatted"] is False


def test_state_formatted_test_apply_and_idempotence(env):
    state = env["state"]
    state.__opts__["test"] = True
    dry = state.formatted("gfs2-00", "hardcore")
    assert dry["result"] is None
    assert dry["changes"] == {"formatted": {"device": "/dev/drbd0", "lock_table": "hardcore:gfs2-00", "journals": 2}}
    assert not any(argv[0] == "mkfs.gfs2" for argv in env["cmd"].argvs())
    state.__opts__["test"] = False
    done = state.formatted("gfs2-00", "hardcore")
    assert done["result"] is True and done["changes"] == dry["changes"]
    env["cmd"].responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-gfs2.out")}
    again = state.formatted("gfs2-00", "hardcore")
    assert again["result"] is True and again["changes"] == {}


def test_state_formatted_on_the_second_node_changes_nothing(env):
    env["state"].__opts__["id"] = "core-02"
    env["mod"].__opts__["id"] = "core-02"
    ret = env["state"].formatted("gfs2-00", "hardcore")
    assert ret["result"] is True and ret["changes"] == {} and "format_on node only" in ret["comment"]
    assert not any(argv[0] == "mkfs.gfs2" for argv in env["cmd"].argvs())


def test_state_mounted(env):
    env["cmd"].responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-gfs2.out")}
    env["state"].__opts__["test"] = True
    dry = env["state"].mounted("gfs2-00", "hardcore")
    assert dry["result"] is None and not os.path.isdir(env["mountpoint"])
    env["state"].__opts__["test"] = False
    ret = env["state"].mounted("gfs2-00", "hardcore")
    assert ret["result"] is True, ret
    assert ret["changes"] == dry["changes"]
    assert ret["changes"]["mounted"] == {"old": False, "new": True, "mountpoint": env["mountpoint"]}
    # the promote template and its Before= drop-in for this mount, as OCFS2's
    units = sorted(str(p.relative_to(env["systemd"])) for p in env["systemd"].rglob("*") if p.is_file())
    # (hardcore mounts gfs2-01 on r1 here too: its drop-in comes with the first mount)
    assert units == ["hapair-drbd-promote@.service", "hapair-drbd-promote@r0.service.d/hapair-before-mount.conf",
                     "hapair-drbd-promote@r1.service.d/hapair-before-mount.conf"]
    assert ret["changes"]["units"] == [str(env["systemd"] / u) for u in units]
    line = env["fstab"].read_text().splitlines()[-1]
    assert line.split()[:3] == ["/dev/drbd0", env["mountpoint"], "gfs2"] and line.endswith(" 0 0")
    assert "_netdev" in line and "x-systemd.requires=dlm.service" in line
    assert "x-systemd.requires=hapair-drbd-promote@r0.service" in line
    argvs = env["cmd"].argvs()
    assert argvs.count(["systemctl", "daemon-reload"]) == 1
    (mount,) = [argv for argv in argvs if argv[0] == "mount"]  # the facts are read again after it
    assert mount[:4] == ["mount", "-t", "gfs2", "-o"] and mount[5:] == ["/dev/drbd0", env["mountpoint"]]
    assert mount[4].startswith("_netdev") and "x-systemd" not in mount[4]
    assert os.path.isdir(env["mountpoint"])
    again = env["state"].mounted("gfs2-00", "hardcore")
    assert again["result"] is True and again["changes"] == {}, again


def test_topology_filesystems_for_the_formula(env):
    assert env["mod"].topology_filesystems("hardcore")[0] == {
        "name": "gfs2-00", "device": "/dev/drbd0", "mountpoint": env["mountpoint"], "mount": True, "format": True}
    env["mod"].__opts__["id"] = "core-02"
    assert [fs["format"] for fs in env["mod"].topology_filesystems("hardcore")] == [False, False]
    assert [p.rsplit("/", 2)[-2:] for p in env["mod"].boot_unit_paths("hardcore")][:2] == [
        ["systemd", "hapair-drbd-promote@.service"], ["hapair-drbd-promote@r0.service.d", "hapair-before-mount.conf"]]


def test_state_mounted_skips_a_node_outside_mount_on(env):
    topo = env["mod"].__pillar__["hapair"]["topologies"]["hardcore"]
    topo["filesystems"]["gfs2-00"]["mount_on"] = ["core-02"]
    ret = env["state"].mounted("gfs2-00", "hardcore")
    assert ret["result"] is True and ret["changes"] == {} and "not mounted on this node" in ret["comment"]
    assert not any(argv[0] == "mount" for argv in env["cmd"].argvs())


def test_state_formatted_fails_when_the_device_does_not_read_back_as_gfs2(env):
    """facts -> plan -> apply -> facts again: a mkfs that leaves no GFS2 superblock fails the state."""
    env["cmd"].responses[("mkfs.gfs2",)] = {"stdout": read("mkfs.gfs2--3.5.0-hardcore-gfs2-00.out")}
    ret = env["state"].formatted("gfs2-00", "hardcore")
    assert ret["result"] is False and "does not read back as gfs2" in ret["comment"], ret
    assert [argv[0] for argv in env["cmd"].argvs()].count("mkfs.gfs2") == 1


def test_state_mounted_fails_when_the_mount_does_not_show(env):
    """A mount that does not show in /proc/mounts afterwards fails gfs2.mounted instead of passing."""
    env["cmd"].responses[("blkid",)] = {"stdout": read("blkid-export--2.38.1-gfs2.out")}
    env["cmd"].responses[("mount",)] = {"stdout": ""}
    ret = env["state"].mounted("gfs2-00", "hardcore")
    assert ret["result"] is False and "mounted still differ" in ret["comment"], ret
