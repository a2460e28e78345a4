"""_modules/cman.py and _states/cman.py with a mocked loader (tests/fakebin/cman/fakesalt.py).

Commands replay real captures (tests/fixtures/cman); the pillar is the repo's seed-004 topology
with distinctive fence passwords so their absence from returns, diffs and logs can be checked.
"""

from __future__ import annotations

import logging
import os
import stat
import sys

import pytest
import yaml
from salt.exceptions import CommandExecutionError, SaltInvocationError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

SECRETS = ("Pw-core01-Zq81!", "Pw-core02-Yx72!")
CMAN = os.path.join(FIXTURES, "cman")


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    devices = data["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["fence_devices"]
    devices["core-01_ipmi"]["passwd"], devices["core-02_ipmi"]["passwd"] = SECRETS
    return data


def no_secret(obj) -> bool:
    return not any(s in repr(obj) for s in SECRETS)


@pytest.fixture
def env(tmp_path):
    cmd = fakesalt.FakeCmd({
        ("cman_tool", "status"): {"stdout": read(os.path.join(CMAN, "cman_tool-status--6.0.1-two-nodes.out"))},
        ("cman_tool", "nodes"): {"stdout": read(os.path.join(CMAN, "cman_tool-nodes--6.0.1-peer-down.out"))},
        ("cman_tool", "services"): {"stdout": read(os.path.join(CMAN, "cman_tool-services--6.0.1-gfs2-mounted.out"))},
        ("cman_tool", "version"): {"stdout": read(os.path.join(CMAN, "cman_tool-version--6.2.0-config4.out"))},
        ("clustat", "-x"): {"stdout": read(os.path.join(CMAN, "clustat-x--4.1.1-two-nodes-started.out"))},
        ("clusvcadm",): {"stdout": "Trying to migrate vm:winxp_01 to core-02...Success"},
        ("fence_ack_manual",): {"stdout": "About to override fencing for core-02."},
        ("xmllint",): {"stdout": ""},
        ("service",): {"stdout": ""},
    })
    conf = str(tmp_path / "cluster" / "cluster.conf")
    schema = tmp_path / "cluster.rng"
    schema.write_text("<grammar/>")
    salt = fakesalt.salt_dict(cmd, {"hapair:paths:cman_conf": conf, "hapair:paths:cman_schema": str(schema)})
    mod = fakesalt.load("modules", "cman", salt, pillar=pillar())
    salt.update({f"cman.{fn}": getattr(mod, fn) for fn in ("plan_config", "update_config", "status", "render")})
    salt["service.start"] = lambda name: cmd(["service", name, "start"])
    state = fakesalt.load("states", "cman", salt, pillar=pillar())
    return {"cmd": cmd, "mod": mod, "state": state, "conf": conf, "salt": salt}


def test_reading_functions_parse_real_captures(env):
    mod = env["mod"]
    assert mod.status()["nodes"] == 2 and mod.quorate() is True
    assert [n["member"] for n in mod.nodes()] == [True, False]
    assert [s["type"] for s in mod.services()] == ["fence", "dlm", "dlm", "gfs", "gfs"]
    assert mod.clustat()["services"][0]["owner"] == "rhel6ha01"
    assert mod.config_version() == {"running": 4, "file": None}
    for call in env["cmd"].calls:
        assert call["python_shell"] is False


def test_quorate_is_false_when_cman_is_not_running(env):
    env["cmd"].responses[("cman_tool", "status")] = {
        "retcode": 1, "stderr": "cman_tool: Cannot open connection to cman, is it running ?"}
    assert env["mod"].quorate() is False
    with pytest.raises(CommandExecutionError, match="Cannot open connection"):
        env["mod"].status()


def test_fence_ack_manual_needs_the_explicit_word(env):
    with pytest.raises(CommandExecutionError, match="confirm=absolutely"):
        env["mod"].fence_ack_manual("core-02")
    with pytest.raises(CommandExecutionError):
        env["mod"].fence_ack_manual("core-02", confirm="yes")
    assert env["cmd"].calls == []
    out = env["mod"].fence_ack_manual("core-02", confirm="absolutely")
    assert out["acknowledged"] and env["cmd"].calls[-1]["argv"] == ["fence_ack_manual", "core-02"]
    assert env["cmd"].calls[-1]["stdin"] == "absolutely\n"


def test_migrate_and_relocate_argv(env):
    env["mod"].migrate("winxp_01", "core-02")
    env["mod"].relocate("service:web", "core-01")
    assert env["cmd"].argvs()[-2:] == [["clusvcadm", "-M", "vm:winxp_01", "-m", "core-02"],
                                       ["clusvcadm", "-r", "service:web", "-m", "core-01"]]
    with pytest.raises(SaltInvocationError):
        env["mod"].migrate("service:web", "core-02")


def test_render_masks_passwords(env):
    xml = env["mod"].render("hardcore")
    assert no_secret(xml) and xml.count('passwd="********"') == 2


def test_update_config_writes_0640_bumps_only_on_change_and_propagates(env, caplog):
    caplog.set_level(logging.DEBUG)
    mod, conf = env["mod"], env["conf"]
    cman_pillar = env["mod"].__pillar__["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]
    # cman runs config 4 (cman_tool version capture): the pillar's 3 would be ignored, so refused
    with pytest.raises(CommandExecutionError, match=r"cluster:cman:config_version: .*not above the 4 cman "
                                                    r"runs \(set it to 4"):
        mod.update_config("hardcore")
    assert not os.path.exists(conf)
    cman_pillar["config_version"] = 5
    first = mod.update_config("hardcore")
    assert (first["changed"], first["old_version"], first["new_version"], first["propagated"]) == (True, None, 5, True)
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o640
    assert all(s in read(conf) for s in SECRETS)  # the file needs them, nothing else shows them
    assert ["cman_tool", "version", "-r", "5", "-S"] in env["cmd"].argvs()
    again = mod.update_config("hardcore")
    assert (again["changed"], again["new_version"]) == (False, 5)
    cman_pillar["vms"]["new_vm"] = {"domain": "core-01_domain"}
    with pytest.raises(CommandExecutionError, match="not above the file's 5"):
        mod.update_config("hardcore")            # a change with the same config_version
    cman_pillar["config_version"] = 6
    bumped = mod.update_config("hardcore")
    assert (bumped["changed"], bumped["old_version"], bumped["new_version"]) == (True, 5, 6)
    assert '+    <vm domain="core-01_domain" name="new_vm" />' in bumped["diff"]
    assert ["cman_tool", "version", "-r", "6", "-S"] in env["cmd"].argvs()
    assert no_secret([first, again, bumped]) and no_secret(caplog.text)
    assert no_secret([call["argv"] for call in env["cmd"].calls])


def test_update_config_refuses_an_invalid_render_and_masks_the_tool_output(env):
    env["mod"].__pillar__["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["config_version"] = 5
    env["cmd"].responses[("xmllint",)] = lambda argv, kw: {
        "retcode": 3, "stderr": f'{argv[-1]}:1: element fencedevice: passwd="{SECRETS[0]}" Relax-NG validity error'}
    with pytest.raises(CommandExecutionError) as err:
        env["mod"].update_config("hardcore")
    assert "Relax-NG validity error" in str(err.value) and no_secret(str(err.value))
    assert not os.path.exists(env["conf"])


def test_validate_file_runs_hapair_checks_too(env):
    os.makedirs(os.path.dirname(env["conf"]))
    with open(env["conf"], "w", encoding="utf-8") as handle:
        handle.write('<cluster name="x" config_version="1"><cman two_node="1" expected_votes="2"/>'
                     '<clusternodes/></cluster>')
    verdict = env["mod"].validate()
    assert verdict["valid"] is False and verdict["tool"] == "xmllint"
    assert any("expected_votes" in e for e in verdict["errors"])
    argv = env["cmd"].argvs()[-1]
    assert argv[:3] == ["xmllint", "--noout", "--relaxng"] and argv[-1] == env["conf"]


def test_state_cluster_configured_test_then_apply_then_noop(env):
    state = env["state"]
    state.__opts__["test"] = True
    refused = state.cluster_configured(env["conf"], "hardcore")   # pillar 3, cman runs 4
    assert refused["result"] is False and "set it to 4" in refused["comment"], refused
    env["mod"].__pillar__["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["config_version"] = 5
    state.__opts__["test"] = True
    dry = state.cluster_configured(env["conf"], "hardcore")
    assert dry["result"] is None and dry["changes"]["config_version"] == {"old": None, "new": 5}
    assert 'passwd="********"' in dry["changes"]["diff"] and no_secret(dry)
    assert not os.path.exists(env["conf"])
    state.__opts__["test"] = False
    applied = state.cluster_configured(env["conf"], "hardcore")
    assert applied["result"] is True and applied["changes"]["config_version"] == dry["changes"]["config_version"]
    assert applied["changes"]["diff"] == dry["changes"]["diff"] and no_secret(applied)
    again = state.cluster_configured(env["conf"], "hardcore")
    assert again["result"] is True and again["changes"] == {}


def test_state_quorate_reports_votes_and_times_out(env):
    state = env["state"]
    ok = state.quorate(timeout=0)
    assert ok["result"] is True and "2 vote(s) of 1 expected" in ok["comment"]
    text = read(os.path.join(CMAN, "cman_tool-status--6.0.1-two-nodes.out")).replace(
        "Quorum: 1", "Quorum: 1 Activity blocked")
    env["cmd"].responses[("cman_tool", "status")] = {"stdout": text}
    bad = state.quorate(timeout=0, interval=0)
    assert bad["result"] is False and "not quorate after 0s" in bad["comment"] and "quorum 1" in bad["comment"]


def test_state_running_starts_the_service(env):
    responses = iter([{"retcode": 1, "stderr": "not running"},
                      {"stdout": read(os.path.join(CMAN, "cman_tool-status--6.0.1-two-nodes.out"))}])
    env["cmd"].responses[("cman_tool", "status")] = lambda argv, kw: next(responses)
    ret = env["state"].running()
    assert ret["result"] is True and ret["changes"] == {"running": {"old": False, "new": True}}
    assert ["service", "cman", "start"] in env["cmd"].argvs()
