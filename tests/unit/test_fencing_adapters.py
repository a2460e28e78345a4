"""_modules/hapair_fence.py and _states/hapair_fence.py with a mocked loader (tests/fakebin/cman/fakesalt.py).

The agent's answers are the real fence_ipmilan 4.12.1 captures of tests/fixtures/fence.
"""

from __future__ import annotations

import os
import sys

import pytest
import yaml
from salt.exceptions import SaltInvocationError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = os.path.join(ROOT, "tests", "fixtures", "fence")
SECRET = "ipmi-Zq9-secret"

from hapair import corosync, fencing, validate  # noqa: E402


def read(name: str) -> str:
    with open(os.path.join(FENCE, name), encoding="utf-8") as handle:
        return handle.read()


def capture(state: str, retcode: int) -> dict:
    base = f"fence_ipmilan-status--4.12.1-{state}"
    return {"retcode": retcode, "stdout": read(base + ".out").rstrip("\n"), "stderr": read(base + ".err").rstrip("\n")}


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    coro = data["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]
    coro["dlm"] = {"enable_fencing": True}
    coro["fencing"] = {
        "fence_devices": {n: {"agent": "fence_ipmilan", "ip": "10.99.0.254", "ipport": port, "username": "admin",
                              "password": SECRET, "lanplus": True, "action": "off"}
                          for n, port in (("node1_ipmi", 9001), ("node2_ipmi", 9002))},
        "nodes": {n: {"fence": [{"method": "ipmi", "devices": [{"name": f"{n}_ipmi"}]}]} for n in ("node1", "node2")},
    }
    return data


@pytest.fixture
def env(tmp_path, monkeypatch):
    # until validate.py knows cluster:corosync:fencing (the lead wires hapair.fencing.errors there)
    monkeypatch.setitem(validate.COROSYNC_DEFAULTS, "fencing", None)
    # and until corosync.check_dlm counts the fencing section as a fence method (docs/fencing.md)
    original = corosync.check_dlm
    monkeypatch.setattr(corosync, "check_dlm", lambda topo: [] if fencing.configured(topo) else original(topo))
    agents = tmp_path / "sbin"
    agents.mkdir()
    for name in ("fence_ipmilan", "fence_ack_manual", "fence_virsh", "ls"):
        path = agents / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    cmd = fakesalt.FakeCmd({
        (str(agents / "fence_ipmilan"), "-o", "metadata"): {"stdout": read("fence_ipmilan-metadata--4.12.1.xml")},
        (str(agents / "fence_ipmilan"),): capture("on", 0),
    })
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:fence_agents_dir": str(agents)})
    data = pillar()
    mod = fakesalt.load("modules", "hapair_fence", salt, opts={"id": "node1", "test": False}, pillar=data)
    salt.update({f"hapair_fence.{fn}": getattr(mod, fn) for fn in ("check", "status", "metadata", "list_agents")})
    state = fakesalt.load("states", "hapair_fence", salt, opts={"id": "node1", "test": False}, pillar=data)
    return {"cmd": cmd, "mod": mod, "state": state, "agent": str(agents / "fence_ipmilan"), "data": data}


def test_list_agents_and_metadata(env):
    assert env["mod"].list_agents() == ["fence_ipmilan", "fence_virsh"]
    assert env["mod"].metadata("fence_ipmilan")["agent"] == "fence_ipmilan"
    with pytest.raises(SaltInvocationError):
        env["mod"].metadata("/bin/sh")


def test_status_passes_the_arguments_on_stdin_never_in_argv(env):
    got = env["mod"].status("lab_gfs2", "node2_ipmi", "node2")
    assert got == {"device": "node2_ipmi", "node": "node2", "agent": "fence_ipmilan", "ok": True, "power": "on",
                   "retcode": 0, "error": None, "warnings": [], "problems": []}
    call = env["cmd"].calls[-1]
    assert call["argv"] == [env["agent"]] and call["python_shell"] is False
    assert call["stdin"] == ("action=status\nip=10.99.0.254\nipport=9002\nlanplus=1\n"
                             f"password={SECRET}\nusername=admin\n")
    assert "action=off" not in call["stdin"]


@pytest.mark.parametrize("state, retcode, ok, error", [
    ("off", 2, True, None),
    ("unreachable", 1, False, "Connection timed out"),
    ("login-denied", 1, False, "Failed: Unable to obtain correct plug status or plug is not available"),
])
def test_status_reads_each_real_answer(env, state, retcode, ok, error):
    env["cmd"].responses[(env["agent"],)] = capture(state, retcode)
    got = env["mod"].status("lab_gfs2", "node2_ipmi", "node2")
    assert (got["ok"], got["error"], got["retcode"]) == (ok, error, retcode)


def test_status_masks_a_secret_the_agent_echoes(env):
    env["cmd"].responses[(env["agent"],)] = {"retcode": 1, "stdout": "",
                                             "stderr": f"WARNING:root:Parse error: Ignoring unknown option 'x={SECRET}'"
                                                       f"\n2026-12-03 12:00:00,000 ERROR: bad {SECRET}"}
    got = env["mod"].status("lab_gfs2", "node2_ipmi", "node2")
    assert SECRET not in repr(got) and got["error"] == "bad ********"


def test_status_refuses_arguments_the_agents_metadata_does_not_know(env):
    env["data"]["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]["fencing"]["fence_devices"][
        "node2_ipmi"]["power_wait"] = 3
    ok = env["mod"].status("lab_gfs2", "node2_ipmi", "node2")
    assert ok["ok"] is True
    env["data"]["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]["fencing"]["fence_devices"][
        "node2_ipmi"]["colour"] = "blue"
    before = len(env["cmd"].calls)
    got = env["mod"].status("lab_gfs2", "node2_ipmi", "node2")
    assert got["ok"] is False and got["problems"] == ["unknown to fence_ipmilan: colour"]
    assert [c["argv"][1:] for c in env["cmd"].calls[before:]] == [["-o", "metadata"]]  # the agent did not run


def test_status_of_a_device_no_method_uses(env):
    with pytest.raises(SaltInvocationError, match="no fence method of node1 uses device node2_ipmi"):
        env["mod"].status("lab_gfs2", "node2_ipmi", "node1")


def test_checked_passes_when_every_device_answers(env):
    ret = env["state"].checked("lab_gfs2")
    assert ret["result"] is True and ret["changes"] == {}
    assert ret["comment"] == ("every fence device answered: node1_ipmi (fence_ipmilan) for node1: power on; "
                              "node2_ipmi (fence_ipmilan) for node2: power on")


def test_checked_fails_naming_device_and_node_never_the_password(env):
    def answer(argv, kwargs):
        return capture("unreachable", 1) if "ipport=9002" in kwargs["stdin"] else capture("on", 0)

    env["cmd"].responses[(env["agent"],)] = answer
    for test in (False, True):
        env["state"].__opts__["test"] = test
        ret = env["state"].checked("lab_gfs2")
        assert ret["result"] is False, ret
        assert ret["comment"] == ("fence device(s) not usable: node2_ipmi (fence_ipmilan) for node2: "
                                  "FAILED: Connection timed out")
        assert SECRET not in repr(ret)
    env["state"].__opts__["test"] = False
    assert env["state"].checked("lab_gfs2", node="node1")["result"] is True


def test_checked_waits_for_a_missing_agent_under_test(env):
    os.remove(env["agent"])
    env["state"].__opts__["test"] = True
    ret = env["state"].checked("lab_gfs2")
    assert ret["result"] is None and "fence-agents" in ret["comment"]
    env["state"].__opts__["test"] = False
    assert env["state"].checked("lab_gfs2")["result"] is False
