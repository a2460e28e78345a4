"""The hapair_fs execution module and states on a loader-free harness (tests/fakebin/cman/fakesalt.py).

Commands are replayed: blkid answers with a real capture (or exit 2: nothing found), mkfs, mount,
umount and rsync act on a temporary tree (a "mount" is a /proc/mounts line, rsync copies), and
drbd.status answers with models parsed from real /proc/drbd captures. The topology is the
hand-built normalised one of test_localfs (load_topology patched until topology.py has groups).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from conftest import ROOT
from test_localfs import EXT4, PRIMARY, SECONDARY, read, topology

sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin", "cman"))
import fakesalt  # noqa: E402
from salt.exceptions import CommandExecutionError, SaltInvocationError  # noqa: E402

EXT4_TEXT = read("gfs2", "blkid-export--2.38.1-ext4.out")
OCFS2_TEXT = read("ocfs2", "blkid-export--2.38.1-ocfs2.out")


class Pair:
    """node1's side of a DRBD pair, its tools and its files, in ``tmp``."""

    def __init__(self, tmp, role="Secondary", signature=None, heartbeat=False):
        self.tmp = str(tmp)
        self.device = os.path.join(self.tmp, "drbd0")
        self.mountpoint = os.path.join(self.tmp, "drbd")
        self.sources = [os.path.join(self.tmp, "src", "etc", "apache2"), os.path.join(self.tmp, "src", "var", "www")]
        self.proc_mounts = os.path.join(self.tmp, "mounts")
        self.state_dir = os.path.join(self.tmp, "state")
        open(self.device, "w").close()
        open(self.proc_mounts, "w").close()
        os.makedirs(self.mountpoint)
        for source in self.sources:
            os.makedirs(source)
            with open(os.path.join(source, "index.html"), "w") as handle:
                handle.write(f"from {source}\n")
        self.role = role
        self.signature = signature  # blkid text or None (nothing found)
        self.heartbeat = heartbeat
        self.topo = topology(relocate=self.sources, mountpoint=self.mountpoint, device=self.device)
        self.fail_rsync = False
        self.cmd = fakesalt.FakeCmd({("blkid",): self.blkid, ("mkfs.ext4",): self.mkfs, ("mount",): self.mount,
                                     ("umount",): self.umount, ("rsync",): self.rsync})
        self.drbd_calls = []
        config = {"hapair:paths:proc_mounts": self.proc_mounts, "hapair:paths:state_dir": self.state_dir}
        self.salt = fakesalt.salt_dict(self.cmd, config, **{
            "hapair_drbd.status": lambda name: {"version": "8.4.11", "resources": {name: self.model()}},
            "hapair_drbd.primary": lambda name: self.set_role(name, "Primary"),
            "hapair_drbd.secondary": lambda name: self.set_role(name, "Secondary"),
            "service.status": lambda name: name == "heartbeat" and self.heartbeat})

    def model(self):
        return PRIMARY if self.role == "Primary" else SECONDARY

    def set_role(self, name, role):
        self.drbd_calls.append((name, role))
        self.role = role
        return True

    def blkid(self, argv, _kwargs):
        assert argv == ["blkid", "-p", "-o", "export", self.device]
        return {"retcode": 0, "stdout": self.signature} if self.signature else {"retcode": 2, "stdout": ""}

    def mkfs(self, argv, _kwargs):
        assert self.role == "Primary"
        self.signature = EXT4_TEXT
        return {}

    def mount(self, argv, _kwargs):
        assert argv == ["mount", "-t", "ext4", self.device, self.mountpoint] and self.signature == EXT4_TEXT
        with open(self.proc_mounts, "a") as handle:
            handle.write(f"{self.device} {self.mountpoint} ext4 rw,relatime 0 0\n")
        return {}

    def umount(self, argv, _kwargs):
        assert argv == ["umount", self.mountpoint]
        open(self.proc_mounts, "w").close()
        return {}

    def rsync(self, argv, _kwargs):
        if self.fail_rsync:
            return {"retcode": 23, "stderr": "rsync error: some files could not be transferred (code 23)"}
        _, flag, source, target = argv
        assert flag == "-a" and source.endswith("/") and target.endswith("/")
        assert not os.path.exists(target), "rsync over an existing target"
        shutil.copytree(source, target)
        return {}

    def target(self, source):
        return self.mountpoint + source

    def record(self):
        with open(os.path.join(self.state_dir, "localfs", "apache.www.json")) as handle:
            return json.load(handle)

    def argvs(self):
        return [argv[0] for argv in self.cmd.argvs()]


@pytest.fixture
def load(monkeypatch):
    def loader(pair, kind="modules", test=False):
        mod = fakesalt.load("modules", "hapair_fs", pair.salt, opts={"id": "node1", "test": False})
        monkeypatch.setattr(mod.adapter, "load_topology", lambda *_a, **_k: (pair.topo, "node1"))
        pair.salt.update({f"hapair_fs.{name}": getattr(mod, name)
                          for name in ("facts", "plan_format", "plan_prepare", "prepare", "format_facts")})
        pair.salt["hapair_fs.format"] = mod.format_
        if kind == "modules":
            return mod
        return fakesalt.load("states", "hapair_fs", pair.salt, opts={"id": "node1", "test": test})
    return loader


# --------------------------------------------------------------------------- module
def test_facts_keys_on_a_secondary(tmp_path, load):
    pair = Pair(tmp_path)
    got = load(pair).facts("apache", "www")
    assert set(got) == {"node", "group", "resource", "drbd", "heartbeat_running", "record", "sources", "device",
                        "signature", "mounts", "mountpoint_exists", "targets"}
    assert got["signature"] is None and got["targets"] is None and got["mounts"] == []  # Secondary: not read
    assert got["sources"] == dict.fromkeys(pair.sources, "directory") and got["heartbeat_running"] is False
    assert pair.cmd.calls == []


def test_facts_read_targets_only_while_mounted(tmp_path, load):
    pair = Pair(tmp_path, role="Primary", signature=EXT4_TEXT)
    with open(pair.proc_mounts, "w") as handle:
        handle.write(f"/dev/vda1 / ext4 rw 0 0\n{pair.device} {pair.mountpoint} ext4 rw 0 0\n")
    os.makedirs(pair.target(pair.sources[0]))
    got = load(pair).facts("apache", "www")
    assert got["signature"] == EXT4 and [m["mountpoint"] for m in got["mounts"]] == [pair.mountpoint]
    assert got["targets"] == {pair.target(pair.sources[0]): True, pair.target(pair.sources[1]): False}


def test_prepare_blank_pair_from_secondary(tmp_path, load):
    pair = Pair(tmp_path)
    got = load(pair).prepare("apache", "www")
    assert [s["action"] for s in got["steps"]] == ["primary", "mkfs", "mount", "copy", "copy", "umount",
                                                   "secondary"]
    # blkid: read once Primary, again when planning after the mount, then for the record
    assert pair.argvs() == ["blkid", "mkfs.ext4", "mount", "blkid", "rsync", "rsync", "umount", "blkid"]
    assert pair.drbd_calls == [("r0", "Primary"), ("r0", "Secondary")] and pair.role == "Secondary"
    for source in pair.sources:  # copied, and the source left in place for drbdlinks
        assert read_text(os.path.join(pair.target(source), "index.html")) == f"from {source}\n"
        assert os.path.isdir(source)
    assert pair.record() == {"topology": "apache", "group": "www", "filesystem": "data", "type": "ext4",
                             "state": "prepared", "uuid": EXT4["uuid"], "targets": [pair.target(s) for s in pair.sources]}
    assert got["changes"]["copied"] == {s: pair.target(s) for s in pair.sources}
    again = load(pair).prepare("apache", "www")
    assert again["steps"] == [] and "prepared already" in again["reason"]


def read_text(path):
    with open(path) as handle:
        return handle.read()


def test_prepare_test_runs_nothing(tmp_path, load):
    pair = Pair(tmp_path, role="Primary")
    got = load(pair).prepare("apache", "www", test=True)
    assert [s["action"] for s in got["steps"]] == ["mkfs", "mount", "copy", "copy", "umount", "secondary"]
    assert got["changes"]["formatted"]["argv"] == ["mkfs.ext4", "-q", pair.device]
    assert pair.argvs() == ["blkid"] and pair.drbd_calls == [] and not os.path.exists(pair.state_dir)


def test_prepare_existing_target_is_kept(tmp_path, load):
    pair = Pair(tmp_path, role="Primary", signature=EXT4_TEXT)
    kept = pair.target(pair.sources[0])
    os.makedirs(kept)
    with open(os.path.join(kept, "index.html"), "w") as handle:
        handle.write("edited on the filesystem\n")
    got = load(pair).prepare("apache", "www")
    assert [s["action"] for s in got["steps"]] == ["mount", "copy", "umount", "secondary"]
    assert got["steps"][1]["path"] == pair.sources[1]
    assert read_text(os.path.join(kept, "index.html")) == "edited on the filesystem\n"
    assert pair.drbd_calls == [("r0", "Secondary")]  # found Primary, left to heartbeat
    again = load(pair).prepare("apache", "www")
    assert again["steps"] == [] and "prepared already" in again["reason"]


def test_prepare_failure_unmounts_and_demotes(tmp_path, load):
    pair = Pair(tmp_path)
    pair.fail_rsync = True
    with pytest.raises(CommandExecutionError, match="code 23"):
        load(pair).prepare("apache", "www")
    assert read_text(pair.proc_mounts) == "" and pair.role == "Secondary"
    assert pair.argvs()[-1] == "umount" and pair.record()["state"] == "mounted"


def test_prepare_refuses_another_filesystem(tmp_path, load):
    pair = Pair(tmp_path, role="Primary", signature=OCFS2_TEXT)
    with pytest.raises(CommandExecutionError, match="overwrite=True"):
        load(pair).prepare("apache", "www")
    assert "mkfs.ext4" not in pair.argvs() and pair.drbd_calls == []


def test_plan_format_and_format(tmp_path, load):
    pair = Pair(tmp_path, role="Primary")
    mod = load(pair)
    (step,) = mod.plan_format("apache", "data")
    assert step["argv"] == ["mkfs.ext4", "-q", pair.device]
    got = mod.format_("apache", "data")
    assert got == {"formatted": True, "device": pair.device, "type": "ext4", "argv": step["argv"], "signature": EXT4}
    assert mod.format_("apache", "data")["formatted"] is False


def test_module_refuses_unknown_names(tmp_path, load):
    mod = load(Pair(tmp_path))
    with pytest.raises(SaltInvocationError, match="no group 'db'"):
        mod.facts("apache", "db")
    with pytest.raises(SaltInvocationError, match="filesystem 'www'"):
        mod.plan_format("apache", "www")


# --------------------------------------------------------------------------- states
def test_prepared_test_shows_the_first_phase(tmp_path, load):
    pair = Pair(tmp_path)
    ret = load(pair, "states", test=True).prepared("www", "apache")
    assert ret["result"] is None and pair.drbd_calls == [] and pair.cmd.calls == []
    assert ret["changes"]["role"] == {"old": "Secondary", "new": "Primary"} and "then" in ret["changes"]


def test_prepared_applies_then_is_converged(tmp_path, load):
    pair = Pair(tmp_path)
    ret = load(pair, "states").prepared("www", "apache")
    assert ret["result"] is True, ret
    assert ret["changes"]["role"] == {"old": "Secondary", "new": "Secondary", "temporarily": "Primary"}
    assert ret["changes"]["formatted"]["argv"] == ["mkfs.ext4", "-q", pair.device]
    assert ret["comment"] == "group www: ran primary, mkfs, mount, copy, copy, umount, secondary"
    again = load(pair, "states").prepared("www", "apache")
    assert again["result"] is True and again["changes"] == {} and "prepared already" in again["comment"]


def test_prepared_hands_off_to_heartbeat(tmp_path, load):
    pair = Pair(tmp_path, role="Primary", signature=EXT4_TEXT, heartbeat=True)
    for test in (True, False):
        ret = load(pair, "states", test=test).prepared("www", "apache")
        assert (ret["result"], ret["changes"], ret["comment"]) == (True, {}, "heartbeat owns r0 now (it runs on node1)")
    assert pair.argvs() == ["blkid", "blkid"] and pair.drbd_calls == []


def test_prepared_refused_names_the_override(tmp_path, load):
    pair = Pair(tmp_path, role="Primary", signature=OCFS2_TEXT)
    ret = load(pair, "states").prepared("www", "apache")
    assert ret["result"] is False and "overwrite=True" in ret["comment"] and ret["changes"] == {}


def test_formatted_test_shows_mkfs_argv(tmp_path, load):
    pair = Pair(tmp_path, role="Primary")
    ret = load(pair, "states", test=True).formatted("data", "apache")
    assert ret["result"] is None
    assert ret["changes"] == {"formatted": {"device": pair.device, "type": "ext4", "label": None,
                                            "argv": ["mkfs.ext4", "-q", pair.device]}}
    assert "mkfs.ext4" not in pair.argvs()


def test_formatted_applies_once(tmp_path, load):
    pair = Pair(tmp_path, role="Primary")
    ret = load(pair, "states").formatted("data", "apache")
    assert ret["result"] is True and ret["changes"]["formatted"]["type"] == "ext4"
    assert pair.argvs().count("mkfs.ext4") == 1
    again = load(pair, "states").formatted("data", "apache")
    assert again["result"] is True and again["changes"] == {}


@pytest.mark.parametrize("role, signature, words", [
    ("Primary", OCFS2_TEXT, "overwrite=True"),
    ("Secondary", None, "Secondary here"),
])
def test_formatted_refusals(tmp_path, load, role, signature, words):
    pair = Pair(tmp_path, role=role, signature=signature)
    ret = load(pair, "states").formatted("data", "apache")
    assert ret["result"] is False and words in ret["comment"] and "mkfs.ext4" not in pair.argvs()
