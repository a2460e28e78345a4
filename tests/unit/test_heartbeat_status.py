"""hapair.heartbeat's cl_status parsers and planners, and _modules/_states heartbeat through a
mocked loader: status, standby/takeover, group_services_disabled, running, configured.

Parsers read tests/fixtures/heartbeat/cl_status-<sub-command>--3.0.6-<state>.out with the
expected ``.json`` beside it (each ``.source`` says where the text came from: real captures of a
stopped heartbeat, the others heartbeat 3.0.6's own printf strings). The stopped node's four
answers (exit codes and stderr too) are replayed from cl_status--3.0.6-stopped.txt.
"""

from __future__ import annotations

import glob
import json
import os
import re
import stat
import sys

import pytest
from conftest import FIXTURES
from hapair import heartbeat
from hapair.errors import ParseError, RenderError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

HB = os.path.join(FIXTURES, "heartbeat")
CAPTURES = sorted(glob.glob(os.path.join(HB, "cl_status-*.out")))
PARSERS = {"hbstatus": heartbeat.parse_hbstatus, "listnodes": heartbeat.parse_listnodes,
           "nodestatus": heartbeat.parse_nodestatus, "rscstatus": heartbeat.parse_rscstatus}


def read(name: str) -> str:
    with open(os.path.join(HB, name), encoding="utf-8") as handle:
        return handle.read()


def topology() -> dict:
    return json.loads(read("seed-002-topology.json"))


# --- parsers -----------------------------------------------------------------------------------

def test_every_capture_has_its_expected_json_and_source():
    assert len(CAPTURES) >= 12
    for capture in CAPTURES:
        assert os.path.exists(capture[:-4] + ".json") and os.path.exists(capture[:-4] + ".source"), capture


@pytest.mark.parametrize("capture", CAPTURES, ids=[os.path.basename(c) for c in CAPTURES])
def test_parsers_read_every_capture(capture):
    sub = re.match(r"cl_status-([a-z]+)--", os.path.basename(capture)).group(1)
    with open(capture, encoding="utf-8") as handle:
        text = handle.read()
    with open(capture[:-4] + ".json", encoding="utf-8") as handle:
        assert PARSERS[sub](text) == json.load(handle)


@pytest.mark.parametrize("parser, text", [
    ("hbstatus", ""), ("hbstatus", "Heartbeat is sleeping on this machine.\n"),
    ("hbstatus", "version:\t3.0.6 (10e3f2130ea1)\n"),           # -v output is not what we run
    ("listnodes", "node01\nnode 02\n"), ("listnodes", "-m\n"),
    ("nodestatus", ""), ("nodestatus", "alive\n"), ("nodestatus", "active\ndead\n"),
    ("nodestatus", "The cluster node node01 is active\n"),      # -m output
    ("rscstatus", ""), ("rscstatus", "This node is holding local resources.\n"), ("rscstatus", "some\n"),
])
def test_parsers_refuse_what_cl_status_does_not_print(parser, text):
    with pytest.raises(ParseError):
        PARSERS[parser](text)


def test_listnodes_keeps_ping_nodes_named_by_address():
    assert heartbeat.parse_listnodes("node01\n10.0.0.254\n") == ["node01", "10.0.0.254"]


def test_the_stopped_capture_is_the_stopped_fixture():
    stopped = stopped_answers()
    assert stopped["hbstatus"]["stdout"] == read("cl_status-hbstatus--3.0.6-stopped.out")
    assert {sub: a["retcode"] for sub, a in stopped.items()} == {
        "hbstatus": 1, "listnodes": 1, "nodestatus": 1, "rscstatus": 1}


# --- planners ----------------------------------------------------------------------------------

RUNNING_CASES = [
    ({"enabled": True, "running": True}, True, []),
    ({"enabled": False, "running": True}, True, [("enabled", False, True)]),
    ({"enabled": True, "running": False}, True, [("running", False, True)]),
    ({"enabled": False, "running": False}, True, [("enabled", False, True), ("running", False, True)]),
    ({"enabled": False, "running": False}, False, [("running", False, True)]),
    ({"enabled": True, "running": True}, False, []),             # never disables
]


@pytest.mark.parametrize("facts, enable, steps", RUNNING_CASES)
def test_plan_running_table(facts, enable, steps):
    assert [(s["key"], s["old"], s["new"]) for s in heartbeat.plan_running(facts, enable=enable)] == steps


@pytest.mark.parametrize("enabled, disable", [
    ({}, []), ({"apache2": False}, []), ({"apache2": True}, ["apache2"]),
    ({"apache2": True, "exim4": False, "mariadb": True}, ["apache2", "mariadb"]),
])
def test_plan_services_disabled_table(enabled, disable):
    steps = heartbeat.plan_services_disabled(enabled)
    assert [s["service"] for s in steps] == disable
    assert all(s["old"] == "enabled" and s["new"] == "disabled" for s in steps)


def test_summarise_holds_only_its_own_groups():
    running = {"running": True, "connected": True}
    assert {r: heartbeat.summarise(running, {}, r)["holds"] for r in heartbeat.RESOURCE_STATES} == {
        "all": True, "local": True, "foreign": False, "none": False, "transition": False}
    assert heartbeat.summarise({"running": False}, {}, None) == {"running": False, "nodes": {}, "resources": None,
                                                                 "holds": False}


@pytest.mark.parametrize("value", ["all", "foreign", "local", "failback"])
def test_standby_sets(value):
    assert heartbeat.standby_set(value) == value


@pytest.mark.parametrize("value", ["", "none", "all; reboot", "--help", None])
def test_standby_set_refuses(value):
    with pytest.raises(RenderError):
        heartbeat.standby_set(value)


# --- the execution module ----------------------------------------------------------------------

def stopped_answers() -> dict:
    """The real answers of a stopped heartbeat (cl_status--3.0.6-stopped.txt)."""
    found, sub = {}, None
    part = None
    for line in read("cl_status--3.0.6-stopped.txt").splitlines():
        if line.startswith("## cl_status "):
            sub = line.split()[2]
            found[sub] = {"retcode": None, "stdout": "", "stderr": ""}
        elif sub and line.startswith("exit: "):
            found[sub]["retcode"] = int(line[6:])
        elif sub and line in ("stdout:", "stderr:"):
            part = line[:-1]
        elif sub and part:
            found[sub][part] += line + "\n"
    return found


def capture(sub: str, state: str, retcode: int = 0) -> dict:
    return {"retcode": retcode, "stdout": read(f"cl_status-{sub}--3.0.6-{state}.out"), "stderr": ""}


def module_env(tmp_path, answers, services=None, test=False, minion="node01"):
    """_modules/heartbeat.py and _states/heartbeat.py with cl_status and the hb_ scripts faked."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name in ("cl_status", "hb_standby", "hb_takeover"):
        (bindir / name).write_text("#!/bin/sh\nexit 99\n")    # never run: cmd.run_all is faked
        (bindir / name).chmod(0o755)
    config = {f"hapair:bin:{name}": str(bindir / name) for name in ("cl_status", "hb_standby", "hb_takeover")}
    config.update({"hapair:paths:ha_dir": str(tmp_path / "ha.d"), "hapair:paths:conf_dir": str(tmp_path / "conf"),
                   "hapair:paths:drbd_conf": str(tmp_path / "none"), "hapair:paths:drbd_conf_dir": str(tmp_path / "none.d"),
                   "hapair:paths:cman_conf": str(tmp_path / "none"), "hapair:paths:corosync_authkey": str(tmp_path / "none")})
    cmd = fakesalt.FakeCmd({(str(bindir / "cl_status"), *k) if isinstance(k, tuple) else k: v
                            for k, v in answers.items()})
    # heartbeat.configured reads www's VIP interface (10.0.0.100/24 on eth1): node01's own address there
    cmd.responses[("ip", "-j", "-4", "addr", "show", "dev", "eth1")] = {"stdout": json.dumps(
        [{"ifindex": 3, "ifname": "eth1", "addr_info": [{"family": "inet", "local": "10.0.0.2", "prefixlen": 24}]}])}
    svc = services if services is not None else {}
    salt = fakesalt.salt_dict(cmd, config, **{
        "service.enabled": lambda name: svc.get(name, {}).get("enabled", False),
        "service.status": lambda name: svc.get(name, {}).get("running", False),
        "service.enable": lambda name: svc.setdefault(name, {}).update(enabled=True) or True,
        "service.disable": lambda name: svc.setdefault(name, {}).update(enabled=False) or True,
        "service.start": lambda name: svc.setdefault(name, {}).update(running=True) or True,
        "service.stop": lambda name: svc.setdefault(name, {}).update(running=False) or True,
    })
    opts = {"id": minion, "test": test}
    pillar = {"hapair": {"topologies": {"apache": raw_apache()}}}
    mod = fakesalt.load("modules", "heartbeat", salt, opts=opts, pillar=pillar)
    salt.update({f"heartbeat.{fn}": getattr(mod, fn) for fn in ("status", "standby", "takeover", "group_services",
                                                                 "check", "plan_config", "write_config", "render",
                                                                 "vip_problems")})
    state = fakesalt.load("states", "heartbeat", salt, opts=opts, pillar=pillar)
    return {"mod": mod, "state": state, "cmd": cmd, "bin": bindir, "svc": svc, "opts": opts, "tmp": tmp_path}


def raw_apache() -> dict:
    """Seed 002 as a pillar (the groups shape of issue 14), for ``hapair.topology.load``."""
    return {
        "nodes": {"node01": {"address": "10.0.0.2"}, "node02": {"address": "10.0.0.3"}},
        "drbd": {"resources": {"r0": {"minor": 0, "port": 7789, "disk": "/dev/sda7", "primary": "node01"}}},
        "filesystems": {"data": {"resource": "r0", "type": "ext3", "mountpoint": "/drbd", "mount_on": []}},
        "groups": {"www": {"node": "node01", "resource": "r0", "filesystem": "data",
                           "ip": {"address": "10.0.0.100", "cidr": 24, "interface": "eth1"},
                           "relocate": ["/etc/apache2", "/var/www"], "services": ["apache2"]}},
        "cluster": {"stack": "heartbeat", "heartbeat": {
            "media": [{"type": "bcast", "interface": "eth1"}],
            "authkeys": {"method": "sha1", "key": "Hb-Key-77c1d0e5"}}},
    }


def running_answers(rsc="local", peer="active"):
    return {("hbstatus",): capture("hbstatus", "running"),
            ("listnodes",): capture("listnodes", "two-nodes"),
            ("nodestatus", "node01"): capture("nodestatus", "active"),
            ("nodestatus", "node02"): capture("nodestatus", peer, 0 if peer in ("active", "up") else 1),
            ("rscstatus",): capture("rscstatus", rsc)}


def test_status_of_a_running_node(tmp_path):
    env = module_env(tmp_path, running_answers())
    assert env["mod"].status() == {"running": True, "nodes": {"node01": "active", "node02": "active"},
                                   "resources": "local", "holds": True}
    assert all(call["python_shell"] is False for call in env["cmd"].calls)


def test_status_of_the_passive_node_after_a_failover(tmp_path):
    env = module_env(tmp_path, running_answers(rsc="foreign", peer="dead"))
    assert env["mod"].status() == {"running": True, "nodes": {"node01": "active", "node02": "dead"},
                                   "resources": "foreign", "holds": False}


def test_status_of_a_stopped_heartbeat_never_raises(tmp_path):
    answers = {(sub,): answer for sub, answer in stopped_answers().items()}
    env = module_env(tmp_path, answers)
    assert env["mod"].status() == {"running": False, "nodes": {}, "resources": None, "holds": False}
    assert env["cmd"].argvs() == [[str(env["bin"] / "cl_status"), "hbstatus"]]


def test_status_when_heartbeat_stops_midway(tmp_path):
    answers = running_answers()
    answers[("listnodes",)] = stopped_answers()["listnodes"]
    env = module_env(tmp_path, answers)
    assert env["mod"].status()["running"] is False


def test_status_without_heartbeat_installed_runs_nothing(tmp_path):
    env = module_env(tmp_path, {})
    (env["bin"] / "cl_status").unlink()
    assert env["mod"].status() == {"running": False, "nodes": {}, "resources": None, "holds": False}
    assert env["cmd"].calls == []


def test_status_refused_connection_is_running_without_details(tmp_path):
    env = module_env(tmp_path, {("hbstatus",): capture("hbstatus", "refused")})
    assert env["mod"].status() == {"running": True, "nodes": {}, "resources": None, "holds": False}


@pytest.mark.parametrize("function, binary", [("standby", "hb_standby"), ("takeover", "hb_takeover")])
def test_standby_and_takeover_run_the_scripts(tmp_path, function, binary):
    answers = running_answers()
    env = module_env(tmp_path, answers)
    env["cmd"].responses[(str(env["bin"] / binary), "all")] = {"retcode": 0, "stdout": ""}
    assert getattr(env["mod"], function)() == {"argv": [str(env["bin"] / binary), "all"], "retcode": 0, "stdout": ""}
    env["cmd"].responses[(str(env["bin"] / binary), "foreign")] = {"retcode": 0, "stdout": ""}
    assert getattr(env["mod"], function)(resources="foreign")["argv"][-1] == "foreign"


@pytest.mark.parametrize("function", ["standby", "takeover"])
def test_standby_and_takeover_refuse_a_stopped_heartbeat_and_bad_sets(tmp_path, function):
    from salt.exceptions import CommandExecutionError, SaltInvocationError  # noqa: PLC0415

    env = module_env(tmp_path, {(sub,): a for sub, a in stopped_answers().items()})
    with pytest.raises(CommandExecutionError, match="not running"):
        getattr(env["mod"], function)()
    with pytest.raises(SaltInvocationError):
        getattr(env["mod"], function)(resources="all;reboot")
    assert all("hb_" not in " ".join(argv) for argv in env["cmd"].argvs())


# --- the states --------------------------------------------------------------------------------

def test_group_services_disabled_plans_then_changes_nothing(tmp_path):
    """heartbeat runs here: it may be serving apache2, which is taken off the boot, never stopped."""
    env = module_env(tmp_path, running_answers(), services={"apache2": {"enabled": True, "running": True}})
    env["opts"]["test"] = True
    dry = env["state"].group_services_disabled("apache")
    assert dry["result"] is None and dry["changes"] == {"apache2": {"old": "enabled", "new": "disabled"}}
    assert env["svc"]["apache2"]["enabled"] is True
    env["opts"]["test"] = False
    real = env["state"].group_services_disabled("apache")
    assert real["result"] is True and real["changes"] == dry["changes"]
    assert env["svc"]["apache2"] == {"enabled": False, "running": True}     # disabled, never stopped
    again = env["state"].group_services_disabled("apache")
    assert again["result"] is True and again["changes"] == {}


def test_group_services_are_stopped_before_heartbeat_first_starts(tmp_path):
    """The bootstrap: the package started apache2 on both nodes; before heartbeat runs it must not
    serve beside the group, so it is stopped as well as taken off the boot."""
    env = module_env(tmp_path, {(sub,): a for sub, a in stopped_answers().items()},
                     services={"apache2": {"enabled": True, "running": True}})
    out = env["state"].group_services_disabled("apache")
    assert out["result"] is True and out["changes"] == {"apache2": {"old": "enabled", "new": "disabled"},
                                                        "apache2:running": {"old": True, "new": False}}
    assert env["svc"]["apache2"] == {"enabled": False, "running": False}
    assert env["state"].group_services_disabled("apache")["changes"] == {}


def test_running_plans_then_changes_nothing(tmp_path):
    env = module_env(tmp_path, {}, services={})
    env["opts"]["test"] = True
    dry = env["state"].running("heartbeat")
    assert dry["result"] is None
    assert dry["changes"] == {"enabled": {"old": False, "new": True}, "running": {"old": False, "new": True}}
    assert env["svc"] == {}
    env["opts"]["test"] = False
    real = env["state"].running("heartbeat")
    assert real["result"] is True and real["changes"] == dry["changes"]
    assert env["svc"]["heartbeat"] == {"enabled": True, "running": True}
    assert env["state"].running("heartbeat")["changes"] == {}


def test_running_reports_a_service_that_will_not_start(tmp_path):
    env = module_env(tmp_path, {}, services={"heartbeat": {"enabled": True}})
    env["mod"].__salt__["service.start"] = lambda name: False
    ret = env["state"].running("heartbeat")
    assert ret["result"] is False and "cannot start heartbeat" in ret["comment"] and ret["changes"] == {}


def test_configured_writes_every_file_and_never_shows_the_key(tmp_path):
    env = module_env(tmp_path, {})
    env["opts"]["test"] = True
    dry = env["state"].configured("apache")
    ha_dir, conf = tmp_path / "ha.d", tmp_path / "conf"
    paths = {str(ha_dir / "ha.cf"), str(ha_dir / "haresources"), str(ha_dir / "authkeys"),
             str(ha_dir / "resource.d" / "drbdlinks"), str(conf / "drbdlinks-www.conf")}
    assert dry["result"] is None and set(dry["changes"]) == paths
    assert not ha_dir.exists()
    env["opts"]["test"] = False
    real = env["state"].configured("apache")
    assert real["result"] is True and set(real["changes"]) == paths
    assert "Hb-Key-77c1d0e5" not in repr(dry) + repr(real) + repr(env["mod"].render("apache"))
    assert stat.S_IMODE((ha_dir / "authkeys").stat().st_mode) == 0o600
    assert stat.S_IMODE((ha_dir / "resource.d" / "drbdlinks").stat().st_mode) == 0o755
    assert (ha_dir / "haresources").read_text().splitlines()[1].endswith(
        f"drbdlinks::{conf}/drbdlinks-www.conf apache2")
    assert env["state"].configured("apache")["changes"] == {}


def test_the_drbdlinks_configs_default_beside_ha_dir(tmp_path):
    env = module_env(tmp_path, {})
    config = env["mod"].__salt__["config.get"]
    env["mod"].__salt__["config.get"] = lambda key, default=None: None if key == "hapair:paths:conf_dir" \
        else config(key, default)
    assert str(tmp_path / "hapair" / "drbdlinks-www.conf") in env["mod"].render("apache")
