"""A quiet reactor (issue 20): a minion that belongs to no topology restarts, the reactor's
``hapair.remediate`` reports that there is nothing to do (``result: True``, no retcode, no job), and a
node of a topology still gets its rejoin.

The runner's arguments are the ones salt/hapair/reactor/minion_start.sls renders for the start event, rendered
with Salt's own jinja renderer as in test_reactor_sls.py; LocalClient is a recording fake.
"""

import logging
import os

import pytest
import yaml
from conftest import ROOT, load_runner

templates = pytest.importorskip("salt.utils.templates", reason="Salt is not installed (make venv)")


def lab_web():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def reactor_args(minion, tmp_path):
    """The kwargs minion_start.sls gives ``runner.hapair.remediate`` for ``salt/minion/<minion>/start``."""
    import salt.config  # noqa: PLC0415 - after the importorskip above

    opts = dict(salt.config.DEFAULT_MASTER_OPTS, cachedir=str(tmp_path), file_client="local",
                file_roots={"base": [os.path.join(ROOT, "salt")]})
    with open(os.path.join(ROOT, "salt", "hapair", "reactor", "minion_start.sls"), encoding="utf-8") as handle:
        text = handle.read()
    tag = f"salt/minion/{minion}/start"
    data = {"id": minion, "cmd": "_minion_event", "data": f"Minion {minion} started", "_stamp": "2026-12-03T10:00:00.000000"}
    out = yaml.safe_load(templates.render_jinja_tmpl(text, {"tag": tag, "data": data, "opts": opts, "saltenv": "base",
                                                            "sls": "minion_start.sls"}))
    (args,) = [step["runner.hapair.remediate"] for step in out.values()]
    kwargs = {}
    for item in args[0]["args"]:
        kwargs.update(item)
    return kwargs


class Client:
    """LocalClient.cmd (full_return): what each minion runs, as ``drbd.rendered_topologies running=True``."""

    def __init__(self, running):
        self.running, self.jobs = running, []

    def cmd(self, tgt, fun, arg=(), kwarg=None, **kwargs):
        self.jobs.append((list(tgt), fun, kwarg))
        assert fun == "hapair_drbd.rendered_topologies", fun
        return {m: {"ret": self.running[m], "retcode": 0} for m in tgt if m in self.running}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    mod = load_runner("hapair_runner_quiet", {"cachedir": str(tmp_path), "id": "master"})
    mod.client = Client({"node1": {"r0": "lab_web"}, "node2": {"r0": "lab_web"}})
    mod.rejoined = []
    monkeypatch.setattr(mod, "_client", lambda: mod.client)
    monkeypatch.setattr(mod, "_fire", lambda tag, data: None)

    def one(topo, resource, event, minion, *args, **kwargs):
        mod.rejoined.append((topo["name"], resource, minion, event.get("kind")))
        return {"topology": topo["name"], "resource": resource, "decision": "act", "actions": [{"action": "up"}]}

    monkeypatch.setattr(mod, "_remediate_one", one)
    return mod


@pytest.mark.parametrize("minion", ["web9", "db1.example.org"])
def test_a_minion_of_no_topology_restarts_and_nothing_fails(runner, tmp_path, minion, caplog):
    with caplog.at_level(logging.DEBUG):
        out = runner.remediate(pillar=lab_web(), **reactor_args(minion, tmp_path))
    assert out["result"] is True, out
    assert out["comment"].endswith(f"{minion} is not a node of any topology: nothing to do"), out
    assert "retcode" not in out and "retcode" not in runner.__context__
    assert runner.client.jobs == [] and runner.rejoined == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records


def test_nothing_to_do_when_the_pillars_are_read_from_the_master(runner, tmp_path, monkeypatch):
    """The reactor's call names no pillar: the master's own is read, then the sender's (which here
    does not even compile); neither has web9 as a node, so it is still nothing to do."""
    read = []

    def pillar_for(mid):
        read.append(mid)
        if mid == "web9":
            raise RuntimeError("Rendering SLS 'base:web9' failed")
        return lab_web()

    monkeypatch.setattr(runner, "_pillar_for", pillar_for)
    out = runner.remediate(**reactor_args("web9", tmp_path))
    assert read == ["master", "web9"]
    assert out["result"] is True and "nothing to do" in out["comment"], out
    assert "retcode" not in runner.__context__ and runner.client.jobs == []


def test_a_master_without_any_topology_is_quiet_too(runner, tmp_path):
    out = runner.remediate(pillar={}, **reactor_args("web9", tmp_path))
    assert out["result"] is True and out["comment"] == "not ours: web9 is not a node of any topology: nothing to do"


def test_a_node_of_a_topology_still_rejoins(runner, tmp_path):
    out = runner.remediate(pillar=lab_web(), **reactor_args("node2", tmp_path))
    assert out == {"result": True, "results": [{"topology": "lab_web", "resource": "r0", "decision": "act",
                                                "actions": [{"action": "up"}]}]}
    assert runner.rejoined == [("lab_web", "r0", "node2", "minion-start")]
    assert runner.client.jobs == [(["node1", "node2"], "hapair_drbd.rendered_topologies", {"running": True})]


def test_a_node_whose_resource_runs_nowhere_is_told_so(runner, tmp_path):
    runner.client = Client({"node1": {}, "node2": {}})
    (res,) = runner.remediate(pillar=lab_web(), **reactor_args("node2", tmp_path))["results"]
    assert res["decision"] == "none" and res["situation"] == "down" and runner.rejoined == [], res


def test_a_resource_event_from_no_node_keeps_its_own_wording(runner):
    """Only a minion start is "nothing to do"; a beacon event from a stranger is "no node" as before."""
    out = runner.remediate(resource="r0", minion="web9", tag="hapair/drbd/r0/split-brain", event={}, pillar=lab_web())
    assert out["result"] is True and out["comment"] == "not ours: web9 is no node of any topology in the pillar"
    assert runner.client.jobs == []
