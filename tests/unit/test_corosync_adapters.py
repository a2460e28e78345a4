"""_modules/corosync.py and _states/corosync.py with a mocked loader (tests/fakebin/cman/fakesalt.py).

corosync-quorumtool/-cfgtool replay the real captures in tests/fixtures/corosync; the pillar is
the repo's lab_gfs2 topology (seed 004's modern variant).
"""

from __future__ import annotations

import os
import stat
import sys

import pytest
import yaml
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

COROSYNC = os.path.join(FIXTURES, "corosync")


def read(name: str) -> str:
    with open(os.path.join(COROSYNC, name), encoding="utf-8") as handle:
        return handle.read()


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def env(tmp_path):
    cmd = fakesalt.FakeCmd({
        ("corosync-quorumtool", "-s"): {"stdout": read("corosync-quorumtool-s--3.1.7-two-node-quorate.out")},
        ("corosync-quorumtool", "-l"): {"stdout": read("corosync-quorumtool-l--3.1.7-two-node-quorate.out")},
        ("corosync-cfgtool", "-s"): {"stdout": read("corosync-cfgtool-s--3.1.7-connected.out")},
        ("corosync-cfgtool", "-R"): {"stdout": "Reloading corosync.conf...\nDone"},
        ("unshare",): {"retcode": 0, "stderr": "notice  [MAIN  ] Corosync Cluster Engine exiting normally"},
    })
    conf = str(tmp_path / "corosync" / "corosync.conf")
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:corosync_conf": conf,
                                    "hapair:paths:dlm_conf": str(tmp_path / "dlm" / "dlm.conf"),
                                    "hapair:paths:corosync_authkey": str(tmp_path / "corosync" / "authkey")})
    data = pillar()
    mod = fakesalt.load("modules", "corosync", salt, opts={"id": "node1", "test": False}, pillar=data)
    salt.update({f"corosync.{fn}": getattr(mod, fn)
                 for fn in ("plan_config", "update_config", "validate", "quorum_status", "render", "dlm_check",
                            "plan_dlm_config", "update_dlm_config", "plan_authkey", "install_authkey", "change_facts")})
    state = fakesalt.load("states", "corosync", salt, opts={"id": "node1", "test": False}, pillar=data)
    return {"cmd": cmd, "mod": mod, "state": state, "conf": conf, "dlm": str(tmp_path / "dlm" / "dlm.conf"),
            "authkey": str(tmp_path / "corosync" / "authkey"),
            "coro": data["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]}


def test_reading_functions(env):
    mod = env["mod"]
    assert mod.quorum_status()["quorate"] is True
    assert [m["name"] for m in mod.members()] == ["core-01", "core-02"]
    assert mod.links()["links"][0]["peers"][1] == {"node_id": 2, "status": "connected"}


def test_quorum_status_accepts_exit_2_when_not_quorate(env):
    env["cmd"].responses[("corosync-quorumtool", "-s")] = {
        "retcode": 2, "stdout": read("corosync-quorumtool-s--3.1.7-waiting-for-all.out")}
    assert env["mod"].quorum_status()["quorate"] is False
    env["cmd"].responses[("corosync-quorumtool", "-s")] = {"retcode": 1, "stderr": "Cannot initialize QUORUM service"}
    with pytest.raises(CommandExecutionError, match="QUORUM"):
        env["mod"].quorum_status()


def test_validate_runs_corosync_t_in_a_namespace_with_this_nodes_address(env):
    verdict = env["mod"].validate(topology="lab_gfs2")
    assert verdict == {"valid": True, "retcode": 0, "errors": []}
    argv = env["cmd"].argvs()[-1]
    assert argv[:4] == ["unshare", "-rn", "sh", "-c"]
    assert argv[5:8] == ["sh", "10.99.0.1/32", "corosync"] and argv[8].endswith("corosync.conf")


def test_validate_reports_the_parser_error(env):
    env["cmd"].responses[("unshare",)] = lambda argv, kw: {
        "retcode": 8, "stderr": f'parser error: {argv[-1]}:23: Value of key "quorum.two_node" is expected to be '
                                'integer in range (0..255), but "yes" was given'}
    verdict = env["mod"].validate(topology="lab_gfs2")
    assert verdict["valid"] is False and verdict["retcode"] == 8
    assert verdict["errors"] == ['parser error: corosync.conf:23: Value of key "quorum.two_node" is expected to be '
                                 'integer in range (0..255), but "yes" was given']


def run_file_state(env, function, path, needle, mode=0o644):
    """test=True shows a diff with ``needle`` and writes nothing; the real run reports the same
    changes and writes ``mode``; a second run changes nothing. Returns the file's text."""
    state = env["state"]
    state.__opts__["test"] = True
    dry = getattr(state, function)(path, "lab_gfs2")
    assert dry["result"] is None and needle in dry["changes"]["diff"] and not os.path.exists(path)
    state.__opts__["test"] = False
    done = getattr(state, function)(path, "lab_gfs2")
    assert done["result"] is True and done["changes"] == dry["changes"]
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert getattr(state, function)(path, "lab_gfs2")["changes"] == {}
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_state_configured_test_apply_noop(env):
    assert "two_node: 1" in run_file_state(env, "configured", env["conf"], "+    two_node: 1\n")


def test_state_configured_refuses_an_invalid_render(env):
    env["cmd"].responses[("unshare",)] = {"retcode": 8, "stderr": "parse error in config: No valid name found"}
    ret = env["state"].configured(env["conf"], "lab_gfs2")
    assert ret["result"] is False and "No valid name found" in ret["comment"] and not os.path.exists(env["conf"])


def test_state_quorate_waits_and_reports_votes(env):
    answers = iter([{"retcode": 2, "stdout": read("corosync-quorumtool-s--3.1.7-waiting-for-all.out")},
                    {"stdout": read("corosync-quorumtool-s--3.1.7-two-node-quorate.out")}])
    env["cmd"].responses[("corosync-quorumtool", "-s")] = lambda argv, kw: next(answers)
    ret = env["state"].quorate(timeout=30, interval=0)
    assert ret["result"] is True and "2 vote(s) of 2 expected" in ret["comment"]
    env["cmd"].responses[("corosync-quorumtool", "-s")] = {
        "retcode": 2, "stdout": read("corosync-quorumtool-s--3.1.7-waiting-for-all.out")}
    bad = env["state"].quorate(timeout=0)
    assert bad["result"] is False and "1 vote(s) of 2 expected" in bad["comment"]


# --------------------------------------------------------------------------- dlm_controld


def test_state_dlm_configured_writes_enable_fencing_from_the_topology(env):
    """The lab's dlm.conf: fencing on, its two fence_ipmilan devices; 0600 and the fence password
    never in a diff (neither the new file's nor, after a rotation, the old one's)."""
    text = run_file_state(env, "dlm_configured", env["dlm"], "+enable_fencing=1\n", mode=0o600)
    assert text.startswith("# Managed by hapair (Salt): local edits are overwritten.\nenable_fencing=1\n\n"
                           "device node1_ipmi fence_ipmilan action=off ip=10.99.0.2 lanplus=1 password=lab-bmc-pw ")
    assert "connect node2_ipmi node=2\n" in text
    for dev in env["coro"]["fencing"]["fence_devices"].values():
        dev["password"] = "rotated-pw"
    env["state"].__pillar__["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"] = env["coro"]
    ret = env["state"].dlm_configured(env["dlm"], "lab_gfs2")
    diff = ret["changes"]["diff"]
    assert ret["result"] is True and "-device node1_ipmi" in diff and "+device node1_ipmi" in diff, ret
    assert "lab-bmc-pw" not in repr(ret) and "rotated-pw" not in repr(ret), diff


def test_state_dlm_configured_refuses_fencing_without_a_fence_method(env):
    del env["coro"]["dlm"]  # dlm_controld's default: fencing on
    del env["coro"]["fencing"]
    ret = env["state"].dlm_configured(env["dlm"], "lab_gfs2")
    assert ret["result"] is False and "no fence method" in ret["comment"] and not os.path.exists(env["dlm"])
    env["coro"]["fencing"] = {"fence_all": {"agent": "dlm_stonith"}}
    ok = env["state"].dlm_configured(env["dlm"], "lab_gfs2")
    assert ok["result"] is True and "+enable_fencing=1\n+\n+fence_all dlm_stonith\n" in ok["changes"]["diff"], ok


def test_dlm_status_parses_and_reports_a_stopped_daemon(env):
    env["cmd"].responses[("dlm_tool", "status")] = {"stdout": read("dlm_tool-status--4.2.0-up-node1.out")}
    status = env["mod"].dlm_status()
    assert status["running"] is True and status["quorate"] is True
    assert [n["node_id"] for n in status["nodes"] if n["member"]] == [1, 2]
    # what dlm 4.2.0 answered in the lab with dlm.service stopped: exit 0, this on stdout
    env["cmd"].responses[("dlm_tool", "status")] = {"retcode": 0, "stdout": "cannot connect to dlm_controld"}
    assert env["mod"].dlm_status() == {"running": False, "error": "cannot connect to dlm_controld"}
    env["cmd"].responses[("dlm_tool", "status")] = {"retcode": 1, "stderr": "dlm_tool: not found"}
    assert env["mod"].dlm_status()["running"] is False
    env["cmd"].responses[("dlm_tool", "ls")] = {"stdout": read("dlm_tool-ls--4.2.0-no-lockspace.out")}
    assert env["mod"].dlm_lockspaces() == []
    env["cmd"].responses[("dlm_tool", "ls")] = {"stdout": read("dlm_tool-ls--4.2.0-mounted-node2.out")}
    assert [(ls["name"], ls["members"]) for ls in env["mod"].dlm_lockspaces()] == [("gfs2-00", [1, 2])]


# --------------------------------------------------------------------------- authkey

KEY = bytes(range(256))


def test_state_authkey_managed_installs_0400_and_never_shows_the_key(env):
    import base64  # noqa: PLC0415

    state = env["state"]
    none = state.authkey_managed(env["authkey"], "lab_gfs2")
    assert none["result"] is True and none["changes"] == {} and "no corosync authkey" in none["comment"]
    text = base64.b64encode(KEY).decode()
    env["coro"]["authkey"] = text
    state.__opts__["test"] = True
    dry = state.authkey_managed(env["authkey"], "lab_gfs2")
    assert dry["result"] is None and dry["changes"] == {
        "authkey": {"old": "absent", "new": "installed, 256 bytes, mode 0400"}}
    state.__opts__["test"] = False
    done = state.authkey_managed(env["authkey"], "lab_gfs2")
    assert done["changes"] == dry["changes"] and text not in repr(done)
    with open(env["authkey"], "rb") as fh:
        assert fh.read() == KEY
    assert stat.S_IMODE(os.stat(env["authkey"]).st_mode) == 0o400
    assert state.authkey_managed(env["authkey"], "lab_gfs2")["changes"] == {}
    os.chmod(env["authkey"], 0o644)
    assert state.authkey_managed(env["authkey"], "lab_gfs2")["changes"]["authkey"]["old"] == "mode 0644"
    env["coro"]["authkey"] = base64.b64encode(b"short").decode()
    bad = state.authkey_managed(env["authkey"], "lab_gfs2")
    assert bad["result"] is False and "5 bytes" in bad["comment"] and "c2hvcnQ" not in bad["comment"]


def test_state_configured_refuses_a_cluster_offline_change_with_gfs2_mounted(env):
    """Day 2 (docs/day2.md): a new node address is cluster-offline; with GFS2 mounted here the state
    refuses under test and apply alike, naming the file and the runner, and writes nothing; with
    nothing mounted test=True shows the class and the steps, and the real run writes it."""
    state = env["state"]
    assert state.configured(env["conf"], "lab_gfs2")["result"] is True       # a first install: no change class
    with open(env["conf"], encoding="utf-8") as handle:
        before = handle.read()
    mounts = {"/srv/gfs2": {"device": "/dev/drbd0", "fstype": "gfs2"}, "/": {"device": "/dev/vda1", "fstype": "ext4"}}
    env["state"].__salt__["mount.active"] = lambda: mounts
    state.__pillar__["hapair"]["topologies"]["lab_gfs2"]["nodes"]["node2"]["address"] = "10.98.0.2"
    for test in (True, False):
        state.__opts__["test"] = test
        ret = state.configured(env["conf"], "lab_gfs2")
        assert ret["result"] is False and ret["changes"] == {}, ret
        assert ret["comment"].startswith(f"refusing on {env['conf']}: cluster filesystems mounted at /srv/gfs2: "
                                         "the change is cluster-offline (cluster nodelist:node 2:ring0_addr: "), ret
        assert ret["comment"].endswith("to proceed anyway pass salt-run hapair.reconfigure lab_gfs2")
    with open(env["conf"], encoding="utf-8") as handle:
        assert handle.read() == before
    mounts.pop("/srv/gfs2")
    state.__opts__["test"] = True
    dry = state.configured(env["conf"], "lab_gfs2")
    assert dry["result"] is None and dry["changes"]["change"]["class"] == "cluster-offline", dry
    assert dry["changes"]["change"]["changes"] == ["cluster nodelist:node 2:ring0_addr: cluster-offline"]
    assert dry["changes"]["change"]["steps"][2] == "o2cb offline <cluster> (or stop dlm, corosync) (both)"
    assert dry["comment"].splitlines()[:2] == [f"{env['conf']} would be written", "cluster-offline change: "
                                               "cluster nodelist:node 2:ring0_addr: cluster-offline"]
    assert "  3. o2cb offline <cluster> (or stop dlm, corosync) (both)" in dry["comment"].splitlines()
    state.__opts__["test"] = False
    done = state.configured(env["conf"], "lab_gfs2")
    assert done["result"] is True and done["changes"] == dry["changes"], done
    with open(env["conf"], encoding="utf-8") as handle:
        assert "10.98.0.2" in handle.read()


def test_state_configured_applies_an_online_change_with_gfs2_mounted(env):
    state = env["state"]
    assert state.configured(env["conf"], "lab_gfs2")["result"] is True
    env["state"].__salt__["mount.active"] = lambda: {"/srv/gfs2": {"device": "/dev/drbd0", "fstype": "gfs2"}}
    env["coro"]["token"] = 5000
    state.__opts__["test"] = True
    dry = state.configured(env["conf"], "lab_gfs2")
    assert dry["result"] is None and dry["changes"]["change"] == {
        "class": "online", "changes": ["cluster totem:token: online"],
        "steps": [f"write {env['conf']}", "corosync-cfgtool -R: the running corosync reloads it"]}
    assert dry["comment"].splitlines()[1:] == ["online change: cluster totem:token: online", f"  1. write {env['conf']}",
                                               "  2. corosync-cfgtool -R: the running corosync reloads it"]
    state.__opts__["test"] = False
    done = state.configured(env["conf"], "lab_gfs2")
    assert done["result"] is True and done["comment"] == f"{env['conf']} written and reloaded", done
