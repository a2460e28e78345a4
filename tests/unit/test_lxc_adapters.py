"""The hapair_lxc execution module and states on the loader-free harness (tests/fakebin/cman/fakesalt.py).

The LXC tools are replayed from the verbatim LXC 5.0.2 captures (tests/fixtures/lxc): lxc-info
prints the running/stopped/"doesn't exist" capture of the fake's state, lxc-create writes the
config the busybox template wrote, lxc-snapshot -L prints the capture of the snapshots there
are. The lxcpath is a temporary tree; "mounted" is a /proc/mounts line of /dev/drbd0 on it;
drbd.status answers with models parsed from real /proc/drbd captures (test_localfs).
"""

from __future__ import annotations

import os
import sys

import pytest
from conftest import ROOT
from test_localfs import PRIMARY, SECONDARY
from test_lxc import TEMPLATE_CONFIG, capture

sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin", "cman"))
import fakesalt  # noqa: E402
from hapair import lxc  # noqa: E402
from salt.exceptions import CommandExecutionError, SaltInvocationError  # noqa: E402

SNAP_CAPTURES = {(): "snap-list-empty.txt", ("snap0",): "snap-list.txt", ("snap0", "snap1"): "snap-list2.txt",
                 ("snap1",): "snap-list3.txt"}


class Node:
    """node1 with r0 (Primary or Secondary), its filesystem at ``tmp/store1`` (mounted or not) and
    a fake LXC that knows the captured container ``c1``."""

    def __init__(self, tmp, role="Primary", mounted=True):
        self.tmp = str(tmp)
        self.mountpoint = os.path.join(self.tmp, "store1")
        self.lxcpath = os.path.join(self.mountpoint, "containers")
        self.proc_mounts = os.path.join(self.tmp, "mounts")
        os.makedirs(self.mountpoint)
        self.role = role
        self.mount(mounted)
        self.containers = {}  # name -> "RUNNING" | "STOPPED"
        self.snaps = []
        self.fail_wait = False
        self.cmd = fakesalt.FakeCmd({(tool,): getattr(self, tool.replace("-", "_"))
                                     for tool in ("lxc-info", "lxc-ls", "lxc-create", "lxc-start", "lxc-stop",
                                                  "lxc-wait", "lxc-snapshot")})
        self.salt = fakesalt.salt_dict(self.cmd, {"hapair:paths:proc_mounts": self.proc_mounts}, **{
            "hapair_drbd.status": lambda name: {"version": "8.4.11",
                                         "resources": {name: PRIMARY if self.role == "Primary" else SECONDARY}}})

    def mount(self, mounted):
        with open(self.proc_mounts, "w") as handle:
            handle.write("/dev/vda1 / ext4 rw,relatime 0 0\n")
            if mounted:
                # the device of the model's minor: PRIMARY's is 0, SECONDARY's 1
                device = "/dev/drbd0" if self.role == "Primary" else "/dev/drbd1"
                handle.write(f"{device} {self.mountpoint} btrfs rw,relatime 0 0\n")

    def _name(self, argv):
        assert argv[1:3] == ["-P", self.lxcpath] and argv[3] == "-n"
        return argv[4]

    def lxc_info(self, argv, _kwargs):
        name = self._name(argv)
        assert argv[5:] == ["-s", "-p", "-H"]
        if name not in self.containers:
            return {"retcode": 1, "stderr": capture("info-nosuch.txt").replace("nosuch", name).rstrip("\n")}
        return {"stdout": capture(f"info-sph-{self.containers[name].lower()}.txt")}

    def lxc_ls(self, argv, _kwargs):
        assert argv == ["lxc-ls", "-P", self.lxcpath, "-f", "-F", "NAME,STATE,PID"]
        return {"stdout": capture(f"ls-{self.containers['c1'].lower()}.txt") if "c1" in self.containers else ""}

    def lxc_create(self, argv, kwargs):
        name = self._name(argv)
        assert argv[5:] == ["-t", "busybox", "-B", "btrfs"] and kwargs["timeout"] >= 120
        assert os.path.isdir(self.lxcpath) and name not in self.containers
        os.makedirs(os.path.join(self.lxcpath, name))
        with open(os.path.join(self.lxcpath, name, "config"), "w") as handle:
            handle.write(TEMPLATE_CONFIG)
        os.chmod(os.path.join(self.lxcpath, name, "config"), 0o640)
        self.containers[name] = "STOPPED"
        return {}

    def config(self, name="c1"):
        with open(os.path.join(self.lxcpath, name, "config")) as handle:
            return handle.read()

    def lxc_start(self, argv, _kwargs):
        name = self._name(argv)
        assert argv[5:] == ["-d"] and self.containers[name] == "STOPPED"
        assert "lxc.apparmor.profile = unconfined" in lxc.managed_lines(self.config(name))
        self.containers[name] = "RUNNING"
        return {}

    def lxc_wait(self, argv, kwargs):
        assert argv[5:7] == ["-s", "RUNNING"] and kwargs["timeout"] > int(argv[8])
        return {"retcode": 1} if self.fail_wait else {}

    def lxc_stop(self, argv, kwargs):
        name = self._name(argv)
        assert argv[5] == "-t" and kwargs["timeout"] > int(argv[6])
        self.containers[name] = "STOPPED"
        return {}

    def lxc_snapshot(self, argv, _kwargs):
        self._name(argv)
        if argv[5:] == ["-L"]:
            return {"stdout": capture(SNAP_CAPTURES[tuple(self.snaps)])}
        if argv[5:6] == ["-d"]:
            self.snaps.remove(argv[6])
            return {}
        assert argv[5:] == []
        self.snaps.append(f"snap{len(self.snaps)}")
        return {}

    def tools(self):
        return [argv[0] for argv in self.cmd.argvs()]


def load(node, kind="modules", test=False):
    mod = fakesalt.load("modules", "hapair_lxc", node.salt, opts={"id": "node1", "test": False})
    node.salt.update({f"hapair_lxc.{name}": getattr(mod, name)
                      for name in ("facts", "info", "plan_present", "create", "plan_running", "start",
                                   "plan_stopped", "stop", "snapshot", "snapshots", "delete_snapshot")})
    node.salt["hapair_lxc.list"] = mod.list_
    if kind == "modules":
        return mod
    return fakesalt.load("states", "hapair_lxc", node.salt, opts={"id": "node1", "test": test})


# --------------------------------------------------------------------------- module
def test_facts_where_mounted_on_the_primary(tmp_path):
    node = Node(tmp_path)
    got = load(node).facts("c1", node.lxcpath, resource="r0")
    assert got == {"node": "node1", "name": "c1", "lxcpath": node.lxcpath, "resource": "r0", "role": "Primary",
                   "mounted": True, "mount": {"device": "/dev/drbd0", "mountpoint": node.mountpoint,
                                              "fstype": "btrfs", "options": ["rw", "relatime"]},
                   "exists": False, "state": None, "pid": None, "config": None}


def test_facts_where_not_mounted_read_nothing_of_the_container(tmp_path):
    node = Node(tmp_path, role="Secondary", mounted=False)
    got = load(node).facts("c1", node.lxcpath, resource="r0")
    assert (got["mounted"], got["role"], got["exists"]) == (False, "Secondary", False)
    assert node.tools() == []


def test_a_mount_of_another_device_is_not_the_resource_filesystem(tmp_path):
    node = Node(tmp_path, mounted=False)
    with open(node.proc_mounts, "a") as handle:
        handle.write(f"/dev/vdc {node.mountpoint} btrfs rw 0 0\n")
    assert load(node).facts("c1", node.lxcpath, resource="r0")["mounted"] is False


def test_create_once_on_the_primary_keeps_the_config_lines(tmp_path):
    node = Node(tmp_path)
    mod = load(node)
    planned = mod.create("c1", node.lxcpath, resource="r0", test=True)
    assert node.tools() == ["lxc-info"] and not os.path.exists(node.lxcpath)
    done = mod.create("c1", node.lxcpath, resource="r0")
    assert done["changes"] == planned["changes"] and [s["action"] for s in done["steps"]] == ["create", "config"]
    assert node.config() == lxc.apply_overrides(TEMPLATE_CONFIG, {"name": "c1", "link": None})
    assert oct(os.stat(os.path.join(node.lxcpath, "c1", "config")).st_mode & 0o777) == "0o640"
    again = mod.create("c1", node.lxcpath, resource="r0")
    assert again["steps"] == [] and "config kept" in again["reason"]
    assert node.tools().count("lxc-create") == 1


def test_create_refused_on_the_secondary_and_nothing_where_not_mounted(tmp_path):
    node = Node(tmp_path, role="Secondary")  # a mount on a Secondary is not DRBD's: refused, not guessed
    with pytest.raises(CommandExecutionError, match="created on its Primary only"):
        load(node).create("c1", node.lxcpath, resource="r0")
    node.mount(False)
    got = load(node).create("c1", node.lxcpath, resource="r0")
    assert got["steps"] == [] and got["reason"].startswith("not here:")
    assert "lxc-create" not in node.tools()


@pytest.mark.parametrize("kwargs", [{"name": "c1 c2"}, {"lxcpath": "containers"}, {"template": "busybox;id"},
                                    {"link": "br0 up"}, {"backing": "zfs"}])
def test_create_refuses_untrusted_values_before_any_command(tmp_path, kwargs):
    node = Node(tmp_path)
    args = {"name": "c1", "lxcpath": node.lxcpath, "resource": "r0", **kwargs}
    with pytest.raises(SaltInvocationError):
        load(node).create(**args)
    assert node.cmd.calls == []


def test_start_stop_and_info(tmp_path):
    node = Node(tmp_path)
    mod = load(node)
    mod.create("c1", node.lxcpath, resource="r0")
    assert mod.info("c1", node.lxcpath) == {"name": "c1", "lxcpath": node.lxcpath, "exists": True,
                                            "state": "STOPPED", "pid": None}
    assert mod.start("c1", node.lxcpath, timeout=20) == {"name": "c1", "lxcpath": node.lxcpath, "started": True,
                                                         "exists": True, "state": "RUNNING", "pid": 978}
    assert mod.start("c1", node.lxcpath)["started"] is False
    assert mod.list_(node.lxcpath) == {"c1": {"state": "RUNNING", "pid": 978}}
    assert mod.stop("c1", node.lxcpath, timeout="15")["stopped"] is True
    assert mod.stop("c1", node.lxcpath)["stopped"] is False
    assert node.tools().count("lxc-start") == 1 and node.tools().count("lxc-stop") == 1
    with pytest.raises(SaltInvocationError):
        mod.stop("c1", node.lxcpath, timeout="soon")


def test_start_where_not_mounted_is_an_error_naming_it(tmp_path):
    node = Node(tmp_path, mounted=False)
    with pytest.raises(CommandExecutionError, match="not here"):
        load(node).start("c1", node.lxcpath)
    assert load(node).stop("c1", node.lxcpath)["stopped"] is False


def test_a_container_that_does_not_reach_running_fails_the_start(tmp_path):
    node = Node(tmp_path)
    mod = load(node)
    mod.create("c1", node.lxcpath, resource="r0")
    node.fail_wait = True
    with pytest.raises(CommandExecutionError, match="lxc-wait"):
        mod.start("c1", node.lxcpath)


def test_snapshots_create_list_delete(tmp_path):
    node = Node(tmp_path)
    mod = load(node)
    mod.create("c1", node.lxcpath, resource="r0")
    assert mod.snapshots("c1", node.lxcpath) == []
    assert mod.snapshot("c1", node.lxcpath)["created"] == "snap0"
    two = mod.snapshot("c1", node.lxcpath)
    assert two["created"] == "snap1" and [s["name"] for s in two["snapshots"]] == ["snap0", "snap1"]
    gone = mod.delete_snapshot("c1", node.lxcpath, "snap0")
    assert gone["deleted"] is True and [s["name"] for s in gone["snapshots"]] == ["snap1"]
    assert mod.delete_snapshot("c1", node.lxcpath, "snap0")["deleted"] is False
    with pytest.raises(CommandExecutionError):
        mod.delete_snapshot("c1", node.lxcpath, "snap 1")


def test_snapshots_need_the_container_here(tmp_path):
    node = Node(tmp_path)
    with pytest.raises(CommandExecutionError, match="does not exist"):
        load(node).snapshot("c1", node.lxcpath)
    node.mount(False)
    with pytest.raises(CommandExecutionError, match="not here"):
        load(node).snapshots("c1", node.lxcpath)


def test_an_unexpected_lxc_info_failure_is_an_error(tmp_path):
    node = Node(tmp_path)
    node.cmd.responses[("lxc-info",)] = {"retcode": 1, "stderr": "Failed to load config for c1"}
    with pytest.raises(CommandExecutionError, match="Failed to load config"):
        load(node).info("c1", node.lxcpath)


# --------------------------------------------------------------------------- states
def test_present_test_shows_the_argv_then_applies_the_same_changes(tmp_path):
    node = Node(tmp_path)
    under_test = load(node, "states", test=True).present("c1", node.lxcpath, resource="r0")
    assert under_test["result"] is None
    assert f"lxc-create -P {node.lxcpath} -n c1 -t busybox -B btrfs" in under_test["comment"]
    applied = load(node, "states").present("c1", node.lxcpath, resource="r0")
    assert applied["result"] is True and applied["changes"] == under_test["changes"]
    assert applied["changes"]["container"] == {"old": "absent", "new": "created",
                                               "argv": lxc.create_argv({"name": "c1", "lxcpath": node.lxcpath,
                                                                        "template": "busybox"})}
    again = load(node, "states").present("c1", node.lxcpath, resource="r0")
    assert (again["result"], again["changes"]) == (True, {})


def test_present_elsewhere_is_true_not_here(tmp_path):
    node = Node(tmp_path, role="Secondary", mounted=False)
    ret = load(node, "states").present("c1", node.lxcpath, resource="r0")
    assert ret["result"] is True and ret["changes"] == {} and ret["comment"].startswith("not here:")


def test_present_refused_on_a_secondary_mount(tmp_path):
    node = Node(tmp_path, role="Secondary")
    ret = load(node, "states").present("c1", node.lxcpath, resource="r0")
    assert ret["result"] is False and "refusing on c1" in ret["comment"]


def test_present_puts_a_drifted_config_back(tmp_path):
    node = Node(tmp_path)
    load(node, "states").present("c1", node.lxcpath, resource="r0")
    with open(os.path.join(node.lxcpath, "c1", "config"), "a") as handle:
        handle.write("lxc.start.auto = 1\n")
    ret = load(node, "states").present("c1", node.lxcpath, resource="r0")
    assert ret["result"] is True and ret["changes"]["config"]["old"][-1] == "lxc.start.auto = 1"
    assert lxc.managed_lines(node.config())[-1] == "lxc.start.auto = 0"


def test_running_and_stopped_states(tmp_path):
    node = Node(tmp_path)
    missing = load(node, "states", test=True).running("c1", node.lxcpath)
    assert missing["result"] is None and "hapair_lxc.present" in missing["comment"]
    assert load(node, "states").running("c1", node.lxcpath)["result"] is False
    load(node).create("c1", node.lxcpath, resource="r0")
    under_test = load(node, "states", test=True).running("c1", node.lxcpath)
    assert under_test["result"] is None and under_test["changes"] == {"state": {"old": "STOPPED", "new": "RUNNING"}}
    ret = load(node, "states").running("c1", node.lxcpath)
    assert (ret["result"], ret["changes"]) == (True, under_test["changes"])
    assert load(node, "states").running("c1", node.lxcpath)["changes"] == {}
    ret = load(node, "states").stopped("c1", node.lxcpath, timeout=10)
    assert ret["result"] is True and ret["changes"] == {"state": {"old": "RUNNING", "new": "STOPPED"}}
    assert load(node, "states").stopped("c1", node.lxcpath)["comment"] == "c1 is stopped"


def test_running_elsewhere_is_true_not_here(tmp_path):
    node = Node(tmp_path, mounted=False)
    ret = load(node, "states").running("c1", node.lxcpath)
    assert ret["result"] is True and ret["comment"].startswith("not here:") and node.cmd.calls == []


def test_with_its_resource_a_parent_mount_is_not_the_container_filesystem(tmp_path):
    node = Node(tmp_path, mounted=False)
    with open(node.proc_mounts, "a") as handle:  # /srv as its own disk: a parent of lxcpath, not r0's device
        handle.write(f"/dev/vdc {node.tmp} ext4 rw 0 0\n")
    ret = load(node, "states").running("c1", node.lxcpath, resource="r0")
    assert ret["result"] is True and ret["comment"].startswith("not here:") and node.cmd.calls == []
    assert load(node).stop("c1", node.lxcpath, resource="r0")["stopped"] is False
    assert load(node).facts("c1", node.lxcpath)["mounted"] is True  # without the resource, any mount but /
