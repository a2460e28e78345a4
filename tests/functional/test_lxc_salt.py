"""hapair_lxc through ``salt-call --local``: the real loader finds the module (``list`` by its
alias) and the states, a container is created once where its lxcpath is mounted (its config
kept) and started, and a node where it is not mounted answers "not here".

The LXC tools are one small fake (written below into the test's tree) that replays the
verbatim LXC 5.0.2 captures of tests/fixtures/lxc; the planners and the module's steps are
proved in tests/unit/test_lxc*.py.
"""

import json
import os
import sys

import pytest
import yaml
from conftest import FIXTURES

TOOLS = ("lxc-info", "lxc-ls", "lxc-create", "lxc-start", "lxc-stop", "lxc-wait", "lxc-snapshot")
FAKE = '''\
import json, os, sys
FIX, STATE = {fix!r}, {state!r}
tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(STATE + ".log", "a") as log:
    log.write(json.dumps([tool, *args]) + "\\n")
state = json.load(open(STATE)) if os.path.exists(STATE) else {{}}
name = args[args.index("-n") + 1] if "-n" in args else None
lxcpath = args[args.index("-P") + 1]
def show(capture):
    sys.stdout.write(open(os.path.join(FIX, capture)).read())
if tool == "lxc-info":
    if name not in state:
        sys.stderr.write(open(os.path.join(FIX, "info-nosuch.txt")).read().replace("nosuch", name))
        sys.exit(1)
    show("info-sph-" + state[name].lower() + ".txt")
elif tool == "lxc-create":
    os.makedirs(os.path.join(lxcpath, name))
    with open(os.path.join(lxcpath, name, "config"), "w") as handle:
        handle.write(open(os.path.join(FIX, "config-busybox-created.txt")).read())
    state[name] = "STOPPED"
elif tool == "lxc-start":
    state[name] = "RUNNING"
elif tool == "lxc-stop":
    state[name] = "STOPPED"
elif tool == "lxc-ls":
    if "c1" in state:
        show("ls-" + state["c1"].lower() + ".txt")
elif tool == "lxc-snapshot" and args[-1] == "-L":
    show("snap-list-empty.txt")
json.dump(state, open(STATE, "w"))
'''


@pytest.fixture
def lxc_node(cluster, tmp_path):
    """node1 of the fake cluster with the fake LXC tools and ``tmp/store1`` mounted (a /proc/mounts line)."""
    node = cluster["node1"]
    bindir = tmp_path / "lxcbin"
    bindir.mkdir()
    fake = bindir / "fake-lxc"
    fake.write_text(f"#!{sys.executable}\n" + FAKE.format(fix=os.path.join(FIXTURES, "lxc"),
                                                          state=str(tmp_path / "lxc.json")))
    fake.chmod(0o755)
    for tool in TOOLS:
        (bindir / tool).symlink_to(fake)
    mountpoint = tmp_path / "store1"
    mountpoint.mkdir()
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda1 / ext4 rw 0 0\n/dev/vdz {mountpoint} btrfs rw,relatime 0 0\n")
    conf = os.path.join(node.conf_dir, "minion")
    with open(conf, encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    config["hapair"]["bin"].update({tool: str(bindir / tool) for tool in TOOLS})
    config["hapair"]["paths"]["proc_mounts"] = str(mounts)
    with open(conf, "w", encoding="utf-8") as handle:
        yaml.safe_dump(config, handle)
    node.lxcpath = str(mountpoint / "containers")
    node.lxc_log = str(tmp_path / "lxc.json.log")
    return node


def _single(node, fun, *args, test=False):
    out = node.call("state.single", fun, *args, test=test)
    assert isinstance(out, dict), out
    (result,) = out.values()
    return result


def _tools(node):
    if not os.path.exists(node.lxc_log):
        return []
    with open(node.lxc_log, encoding="utf-8") as handle:
        return [json.loads(line)[0] for line in handle]


def test_sys_doc_lists_every_function_with_a_cli_example(lxc_node):
    doc = lxc_node.call("sys.doc", "hapair_lxc")
    names = {"facts", "info", "list", "plan_present", "create", "plan_running", "start", "plan_stopped", "stop",
             "snapshot", "snapshots", "delete_snapshot"}
    assert names == {k.split(".", 1)[1] for k in doc}
    assert [k for k, v in doc.items() if "CLI Example" not in (v or "")] == []


def test_states_load(lxc_node):
    found = lxc_node.call("sys.list_state_functions", "hapair_lxc")
    assert set(found) == {"hapair_lxc.present", "hapair_lxc.running", "hapair_lxc.stopped"}


def test_present_then_running_where_mounted(lxc_node):
    path = lxc_node.lxcpath
    planned = _single(lxc_node, "hapair_lxc.present", "name=c1", f"lxcpath={path}", test=True)
    assert planned["result"] is None and f"lxc-create -P {path} -n c1 -t busybox -B btrfs" in planned["comment"]
    assert "lxc-create" not in _tools(lxc_node)
    made = _single(lxc_node, "hapair_lxc.present", "name=c1", f"lxcpath={path}")
    assert made["result"] is True and made["changes"] == planned["changes"]
    with open(os.path.join(path, "c1", "config"), encoding="utf-8") as handle:
        assert handle.read().endswith("lxc.apparmor.profile = unconfined\nlxc.net.0.type = empty\n"
                                      "lxc.start.auto = 0\n")
    running = _single(lxc_node, "hapair_lxc.running", "name=c1", f"lxcpath={path}")
    assert running["result"] is True and running["changes"] == {"state": {"old": "STOPPED", "new": "RUNNING"}}
    assert lxc_node.call("hapair_lxc.list", path) == {"c1": {"state": "RUNNING", "pid": 978}}
    again = _single(lxc_node, "hapair_lxc.present", "name=c1", f"lxcpath={path}")
    assert (again["result"], again["changes"]) == (True, {})
    assert _tools(lxc_node).count("lxc-create") == 1 and _tools(lxc_node).count("lxc-start") == 1
    assert lxc_node.call("hapair_lxc.snapshots", "c1", path) == []


def test_not_here_where_the_resource_is_not_up(lxc_node):
    # the fake cluster's r0 is not up on node1: its filesystem cannot be mounted here
    ret = _single(lxc_node, "hapair_lxc.present", "name=c1", f"lxcpath={lxc_node.lxcpath}", "resource=r0")
    assert ret["result"] is True and ret["comment"].startswith("not here:") and ret["changes"] == {}
    assert _tools(lxc_node) == []
