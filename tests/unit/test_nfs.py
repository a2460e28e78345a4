"""hapair.nfs (exports file, ``exportfs`` parser on real nfs-utils 2.6.2 output, planner) and its Salt
adapters (_modules/hapair_nfs.py, _states/hapair_nfs.py) over a fake ``cmd.run_all``."""

from __future__ import annotations

import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402
from hapair import nfs, topology  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NFS = os.path.join(ROOT, "tests", "fixtures", "nfs")


def read(name: str) -> str:
    with open(os.path.join(NFS, name), encoding="utf-8") as handle:
        return handle.read()


def pillar(links: bool = False) -> dict:
    """lab_fileserver; without ``links`` only its /vol/ocfs2-small export (no link on the host's /vol)."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_fileserver.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    if not links:
        nfs_raw = pil["hapair"]["topologies"]["lab_fileserver"]["nfs"]
        nfs_raw.pop("links", None)
        nfs_raw["exports"] = [e for e in nfs_raw["exports"] if e["path"] == "/vol/ocfs2-small"]
    return pil


TOPO = topology.load(pillar(), "lab_fileserver")  # exports /vol/ocfs2-small (the ocfs2-small mountpoint)
LINE = "/vol/ocfs2-small *(rw,no_root_squash,sync,subtree_check)\n"


def test_render_exports():
    text = nfs.render_exports(TOPO)
    assert text.startswith("# Managed by hapair (topology lab_fileserver)") and text.endswith(LINE)
    assert nfs.exports_path(TOPO) == "/etc/exports.d/hapair-lab_fileserver.exports"


def test_parse_exportfs_both_layouts_on_real_output():
    short = nfs.parse_exportfs(read("exportfs-s--nfs-utils2.6.2-two.out"))
    verbose = nfs.parse_exportfs(read("exportfs-v--nfs-utils2.6.2-two.out"))
    assert set(short) == set(verbose) == {"/tmp/exp/vol/ocfs2-small", "/tmp/exp/vol/a-rather-long-export-path-name"}
    assert short["/tmp/exp/vol/ocfs2-small"] == [{"client": "*", "options": [
        "sync", "wdelay", "hide", "sec=sys", "rw", "no_root_squash", "no_all_squash"]}]
    assert verbose["/tmp/exp/vol/ocfs2-small"][0]["client"] == "<world>"
    assert short["/tmp/exp/vol/a-rather-long-export-path-name"][0]["client"] == "10.99.0.0/24"
    assert "ro" in verbose["/tmp/exp/vol/a-rather-long-export-path-name"][0]["options"]
    assert nfs.parse_exportfs(read("exportfs-s--nfs-utils2.6.2-none.out")) == {}


def test_plan_refuses_an_unmounted_filesystem_and_is_empty_when_done():
    blank = {"current": None, "exported": {}, "mounted": [], "running": False}
    plan = nfs.plan_exported(TOPO, blank)
    assert plan["refused"] and "/vol/ocfs2-small" in plan["refused"][0]
    mounted = dict(blank, mounted=["/vol/ocfs2-small", "/vol/ocfs2-large"])
    plan = nfs.plan_exported(TOPO, mounted)
    assert not plan["refused"] and plan["write"] and plan["start"] and plan["reload"]
    assert plan["missing"] == ["/vol/ocfs2-small"]
    done = dict(mounted, current=plan["content"], running=True,
                exported={"/vol/ocfs2-small": [{"client": "*", "options": ["rw"]}]})
    plan = nfs.plan_exported(TOPO, done)
    assert not (plan["write"] or plan["start"] or plan["reload"] or plan["refused"])


# -- adapters --------------------------------------------------------------------------------------
@pytest.fixture
def env(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\n")
    exportfs = {"stdout": ""}

    def reexport(_argv, _kw):  # as the kernel does: -ra exports what the files say, -s shows it
        exports = tmp_path / "exports.d" / "hapair-lab_fileserver.exports"
        lines = exports.read_text().splitlines() if exports.exists() else []
        exportfs["stdout"] = "".join(f"{line}\n" for line in lines if line and not line.startswith("#"))
        return {}

    cmd = fakesalt.FakeCmd({("exportfs", "-s"): lambda argv, kw: exportfs, ("exportfs", "-ra"): reexport,
                            ("systemctl", "daemon-reload"): {}})
    service = {"running": False, "calls": []}

    def start(name):
        service["calls"].append(("start", name))
        service["running"] = True
        return True

    salt = fakesalt.salt_dict(cmd, {"hapair:paths:proc_mounts": str(mounts),
                                    "hapair:paths:exports_dir": str(tmp_path / "exports.d"),
                                    "hapair:paths:systemd_dir": str(tmp_path / "systemd")},
                              **{"service.status": lambda name: service["running"],
                                 "service.start": start,
                                 "service.enable": lambda name: service["calls"].append(("enable", name)) or True})
    mod = fakesalt.load("modules", "hapair_nfs", salt, pillar=pillar(), opts={"id": "node1"})
    salt.update({f"hapair_nfs.{fn}": getattr(mod, fn) for fn in ("plan", "apply", "exported")})
    state = fakesalt.load("states", "hapair_nfs", salt, pillar=pillar(), opts={"id": "node1"})
    return {"cmd": cmd, "state": state, "mounts": mounts, "service": service, "exportfs": exportfs,
            "file": tmp_path / "exports.d" / "hapair-lab_fileserver.exports"}


def test_state_refuses_while_unmounted_then_exports_then_is_a_noop(env):
    state = env["state"]
    ret = state.exported("lab_fileserver")
    assert ret["result"] is False and "/vol/ocfs2-small" in ret["comment"] and not env["file"].exists()
    env["mounts"].write_text("/dev/vda / ext4 rw 0 0\n/dev/drbd0 /vol/ocfs2-small ocfs2 rw 0 0\n")
    state.__opts__["test"] = True
    dry = state.exported("lab_fileserver")
    assert dry["result"] is None and set(dry["changes"]) == {"boot_order", "exports_file", "service", "exportfs"}
    assert not env["file"].exists() and env["service"]["calls"] == []
    state.__opts__["test"] = False
    done = state.exported("lab_fileserver")
    assert done["result"] is True and done["changes"] == dry["changes"]
    assert env["file"].read_text().endswith(LINE)
    dropin = env["file"].parent.parent / "systemd" / "nfs-server.service.d" / "hapair-lab_fileserver.conf"
    assert "RequiresMountsFor=/vol/ocfs2-small\n" in dropin.read_text()          # at boot, after the mount
    assert ["systemctl", "daemon-reload"] in env["cmd"].argvs()
    assert env["service"]["calls"] == [("enable", "nfs-server"), ("start", "nfs-server")]
    assert ["exportfs", "-ra"] in env["cmd"].argvs()
    env["exportfs"]["stdout"] = "/vol/ocfs2-small  *(sync,wdelay,hide,sec=sys,rw,no_root_squash,no_all_squash)\n"
    again = state.exported("lab_fileserver")
    assert again["result"] is True and again["changes"] == {}, again


def test_state_fails_when_the_exports_still_differ_after_apply(env):
    """facts -> plan -> apply -> facts again: exportfs -ra that exports nothing fails the state."""
    env["mounts"].write_text("/dev/vda / ext4 rw 0 0\n/dev/drbd0 /vol/ocfs2-small ocfs2 rw 0 0\n")
    env["cmd"].responses[("exportfs", "-ra")] = {}  # a kernel that does not export what the file says
    ret = env["state"].exported("lab_fileserver")
    assert ret["result"] is False and "exportfs still differ" in ret["comment"], ret
    assert env["file"].read_text().endswith(LINE) and ["exportfs", "-ra"] in env["cmd"].argvs()


# -- the exports' layout (seed 001's public names) --------------------------------------------------
def test_lab_fileservers_layout_is_one_link_to_a_directory_on_ocfs2():
    topo = topology.load(pillar(links=True), "lab_fileserver")
    assert nfs.layout(topo) == {"directories": ["/vol/ocfs2-small/home"], "links": {"/vol/home": "/vol/ocfs2-small/home"}}
    assert "/vol/ocfs2-small" in nfs.mountpoints(topo) and "/vol/rep-unison" in nfs.mountpoints(topo)


def layout_topology(root):
    raw = pillar()["hapair"]["topologies"]["lab_fileserver"]
    raw["filesystems"]["ocfs2-small"]["mountpoint"] = f"{root}/vol/ocfs2-small"
    raw["filesystems"]["ocfs2-large"]["mountpoint"] = f"{root}/vol/ocfs2-large"
    raw["nfs"] = {"links": {f"{root}/vol/home": f"{root}/vol/ocfs2-small/home"},
                  "exports": [{"path": f"{root}/vol/home", "clients": "*", "options": ["rw"]},
                              {"path": f"{root}/vol/ocfs2-large/vm", "clients": "*", "options": ["rw"]}]}
    assert topology.validate(raw, "lab_fileserver") == []
    return topology.normalise(raw, "lab_fileserver")


def facts(root, **over):
    out = {"current": None, "exported": {}, "running": True, "paths": {},
           "mounted": [f"{root}/vol/ocfs2-small", f"{root}/vol/ocfs2-large"]}
    return {**out, **over}


def test_plan_makes_the_directories_and_the_link_then_nothing(tmp_path):
    root = str(tmp_path)
    topo = layout_topology(root)
    plan = nfs.plan_exported(topo, facts(root))
    assert plan["mkdir"] == [f"{root}/vol/ocfs2-large/vm", f"{root}/vol/ocfs2-small/home"]
    assert plan["link"] == {f"{root}/vol/home": f"{root}/vol/ocfs2-small/home"} and not plan["refused"]
    done = facts(root, current=plan["content"], paths={
        f"{root}/vol/ocfs2-large/vm": {"kind": "dir"}, f"{root}/vol/ocfs2-small/home": {"kind": "dir"},
        f"{root}/vol/home": {"kind": "link", "target": f"{root}/vol/ocfs2-small/home"}},
        exported={f"{root}/vol/ocfs2-small/home": [], f"{root}/vol/ocfs2-large/vm": []},   # the kernel's real path
        resolved={f"{root}/vol/home": f"{root}/vol/ocfs2-small/home", f"{root}/vol/ocfs2-large/vm": f"{root}/vol/ocfs2-large/vm"})
    plan = nfs.plan_exported(topo, done)
    assert not (plan["mkdir"] or plan["link"] or plan["write"] or plan["reload"] or plan["refused"]), plan


@pytest.mark.parametrize("seen, words", [
    ({"kind": "dir"}, "is a directory already; hapair never replaces it"),
    ({"kind": "other"}, "is a file already"),
    ({"kind": "link", "target": "/elsewhere"}, "is a link to /elsewhere already"),
])
def test_plan_never_replaces_what_is_at_a_links_path(tmp_path, seen, words):
    root = str(tmp_path)
    plan = nfs.plan_exported(layout_topology(root), facts(root, paths={f"{root}/vol/home": seen}))
    assert any(words in r for r in plan["refused"]), plan["refused"]
    assert f"{root}/vol/home" not in plan["link"]


def test_plan_refuses_a_directory_or_an_export_under_an_unmounted_filesystem(tmp_path):
    root = str(tmp_path)
    plan = nfs.plan_exported(layout_topology(root), facts(root, mounted=[f"{root}/vol/ocfs2-large"]))
    assert any(r.startswith(f"{root}/vol/home: its filesystem {root}/vol/ocfs2-small is not mounted") for r in plan["refused"])
    assert any(r.startswith(f"{root}/vol/ocfs2-small/home: {root}/vol/ocfs2-small is not mounted") for r in plan["refused"])


def test_validation_names_an_export_nothing_creates_and_a_link_outside_the_mounts():
    raw = pillar(links=True)["hapair"]["topologies"]["lab_fileserver"]
    raw["nfs"]["links"].update({"/vol/ocfs2-small/x": "/vol/ocfs2-small/home", "/vol/y": "/srv/elsewhere",
                                "/vol/z": "/vol/ocfs2-small/../../etc"})
    raw["nfs"]["exports"].append({"path": "/vol/nowhere", "clients": "*", "options": ["rw"]})
    found = [str(e) for e in topology.validate(raw, "lab_fileserver")]
    base = "hapair:topologies:lab_fileserver:nfs"
    for expected in (f"{base}:links:/vol/ocfs2-small/x: /vol/ocfs2-small/x is on a filesystem of the topology",
                     f"{base}:links:/vol/y: /srv/elsewhere is under no mountpoint",
                     f"{base}:links:/vol/z: /vol/ocfs2-small/../../etc is under no mountpoint",
                     f"{base}:exports:2:path: nothing creates /vol/nowhere"):
        assert any(e.startswith(expected) for e in found), (expected, found)


def test_module_apply_makes_them_for_real(tmp_path, monkeypatch):
    root = str(tmp_path)
    (tmp_path / "vol" / "ocfs2-small").mkdir(parents=True)
    (tmp_path / "vol" / "ocfs2-large").mkdir(parents=True)
    raw = layout_topology(root)   # validated above; the module loads the pillar form
    pil = pillar()
    pil["hapair"]["topologies"]["lab_fileserver"]["filesystems"]["ocfs2-small"]["mountpoint"] = f"{root}/vol/ocfs2-small"
    pil["hapair"]["topologies"]["lab_fileserver"]["filesystems"]["ocfs2-large"]["mountpoint"] = f"{root}/vol/ocfs2-large"
    pil["hapair"]["topologies"]["lab_fileserver"]["nfs"] = {
        "links": dict(raw["nfs"]["links"]), "exports": [dict(e) for e in raw["nfs"]["exports"]]}
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/drbd0 {root}/vol/ocfs2-small ocfs2 rw 0 0\n/dev/drbd1 {root}/vol/ocfs2-large ocfs2 rw 0 0\n")
    cmd = fakesalt.FakeCmd({("exportfs", "-s"): {"stdout": ""}, ("exportfs", "-ra"): {},
                            ("systemctl", "daemon-reload"): {}})
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:proc_mounts": str(mounts),
                                    "hapair:paths:exports_dir": str(tmp_path / "exports.d"),
                                    "hapair:paths:systemd_dir": str(tmp_path / "systemd")},
                              **{"service.status": lambda name: True})
    mod = fakesalt.load("modules", "hapair_nfs", salt, pillar=pil, opts={"id": "node1"})
    done = mod.apply("lab_fileserver")
    assert os.readlink(f"{root}/vol/home") == f"{root}/vol/ocfs2-small/home"
    assert os.path.isdir(f"{root}/vol/ocfs2-small/home") and os.path.isdir(f"{root}/vol/ocfs2-large/vm")
    assert done["mkdir"] and done["link"]
    assert (tmp_path / "systemd" / "nfs-server.service.d" / "hapair-lab_fileserver.conf").read_text().endswith(
        f"RequiresMountsFor={root}/vol/ocfs2-large {root}/vol/ocfs2-small\n")
    again = mod.plan("lab_fileserver")
    assert again["mkdir"] == [] and again["link"] == {} and again["refused"] == [] and not again["boot"]["write"]


def test_validation_of_exports_over_misshapen_sections_names_them_not_itself():
    raw = pillar(links=True)["hapair"]["topologies"]["lab_fileserver"]
    raw["filesystems"], raw["lvm"] = ["x"], ["y"]
    found = [str(e) for e in topology.validate(raw, "lab_fileserver")]
    assert not any("internal validation error" in e for e in found), found
    assert any(e.startswith("hapair:topologies:lab_fileserver:filesystems:") for e in found), found
