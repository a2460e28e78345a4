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
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:corosync_conf": conf})
    mod = fakesalt.load("modules", "corosync", salt, opts={"id": "node1", "test": False}, pillar=pillar())
    salt.update({f"corosync.{fn}": getattr(mod, fn)
                 for fn in ("plan_config", "update_config", "validate", "quorum_status", "render")})
    state = fakesalt.load("states", "corosync", salt, opts={"id": "node1", "test": False}, pillar=pillar())
    return {"cmd": cmd, "mod": mod, "state": state, "conf": conf}


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


def test_state_configured_test_apply_noop(env):
    state = env["state"]
    state.__opts__["test"] = True
    dry = state.configured(env["conf"], "lab_gfs2")
    assert dry["result"] is None and "+    two_node: 1\n" in dry["changes"]["diff"]
    assert not os.path.exists(env["conf"])
    state.__opts__["test"] = False
    done = state.configured(env["conf"], "lab_gfs2")
    assert done["result"] is True and done["changes"] == dry["changes"]
    assert stat.S_IMODE(os.stat(env["conf"]).st_mode) == 0o644
    assert state.configured(env["conf"], "lab_gfs2")["changes"] == {}


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
