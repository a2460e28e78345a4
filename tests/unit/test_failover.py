"""hapair.failover.plan: a planned switchover through heartbeat, or the reason it is refused."""

import pytest
from hapair import failover
from hapair.errors import RefusedError

TOPO = {"name": "lab_apache", "node_order": ["node1", "node2"], "nodes": {"node1": {}, "node2": {}},
        "groups": {"www": {"node": "node1", "resource": "r0"}}}


def seen(hb1="all", hb2="none", disk1="UpToDate", disk2="UpToDate", sb=False, run2=True, answer2=True):
    node2_hb = {"running": run2, "resources": hb2 if run2 else None}
    return {"heartbeat": {"node1": {"running": True, "resources": hb1}, "node2": node2_hb if answer2 else None},
            "drbd": {"node1": {"role": "Primary", "disk": disk1, "connection": "Connected", "split_brain": sb},
                     "node2": {"role": "Secondary", "disk": disk2, "connection": "Connected", "split_brain": False}
                     if answer2 else None}}


def test_moves_to_the_peer_by_default_with_foreign_when_the_group_prefers_the_other():
    step = failover.plan(TOPO, "www", None, seen())
    assert (step["action"], step["from"], step["to"], step["which"]) == ("takeover", "node1", "node2", "foreign")


def test_moving_back_to_the_preferred_node_takes_local():
    step = failover.plan(TOPO, "r0", "node1", seen(hb1="none", hb2="all"))
    assert (step["action"], step["from"], step["to"], step["which"]) == ("takeover", "node2", "node1", "local")


def test_already_there_is_nothing_to_do():
    assert failover.plan(TOPO, "www", "node1", seen())["action"] == "none"


@pytest.mark.parametrize("kwargs,words", [
    ({"disk2": "Inconsistent"}, "node2's disk is Inconsistent, not UpToDate"),
    ({"disk2": "Outdated"}, "not UpToDate"),
    ({"sb": True}, "split brain is pending"),
    ({"run2": False}, "heartbeat does not run on node2"),
    ({"answer2": False}, "node2 does not answer"),
    ({"hb2": "all"}, "both nodes claim group www"),
])
def test_refused_with_the_reason_naming_the_resource(kwargs, words):
    with pytest.raises(RefusedError) as err:
        failover.plan(TOPO, "www", "node2", seen(**kwargs))
    assert words in str(err.value) and "refusing on r0" in str(err.value)


def test_a_silent_holder_needs_force_but_a_stale_target_never_passes():
    observed = seen(hb1="all")
    observed["drbd"]["node1"] = None
    with pytest.raises(RefusedError, match="pass force=True"):
        failover.plan(TOPO, "www", "node2", observed)
    assert failover.plan(TOPO, "www", "node2", observed, force=True)["action"] == "takeover"
    observed["drbd"]["node2"]["disk"] = "Outdated"
    with pytest.raises(RefusedError, match="not UpToDate"):
        failover.plan(TOPO, "www", "node2", observed, force=True)


def test_unknown_group_or_node():
    with pytest.raises(ValueError, match="neither a service group"):
        failover.plan(TOPO, "db", None, seen())
    with pytest.raises(ValueError, match="not a node"):
        failover.plan(TOPO, "www", "node3", seen())
    with pytest.raises(ValueError, match="name the node"):
        failover.plan(TOPO, "www", None, seen(hb1="none"))


# --- the runner: one report job per node, then hb_takeover on the target, then observed -----------

def _apache_pillar():
    import os  # noqa: PLC0415

    import yaml  # noqa: PLC0415
    from conftest import ROOT  # noqa: PLC0415

    with open(os.path.join(ROOT, "pillar", "hapair", "lab_apache.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class FakePair:
    """Both nodes' drbd.report answers; heartbeat.takeover on a node moves the group there."""

    def __init__(self, holder="node1", disk2="UpToDate"):
        self.holder, self.disk2, self.jobs = holder, disk2, []

    def cmd(self, tgt, fun, **kwargs):
        self.jobs.append((sorted(tgt), fun, kwargs.get("kwarg")))
        if fun == "heartbeat.takeover":
            self.holder = tgt[0]
            return {tgt[0]: {"ret": {"argv": ["hb_takeover", kwargs["kwarg"]["resources"]], "retcode": 0}, "retcode": 0}}
        out = {}
        for mid in tgt:
            mine = mid == self.holder
            disk = self.disk2 if mid == "node2" else "UpToDate"
            model = {"name": "r0", "role": "Primary" if mine else "Secondary", "volumes": [{"disk_state": disk}],
                     "peers": [{"connection_state": "Connected", "role": "Secondary" if mine else "Primary",
                                "volumes": [{"replication_state": "Established", "peer_disk_state": "UpToDate"}]}]}
            out[mid] = {"ret": {"status": {"resources": {"r0": model}}, "mounts": {}, "split_brain": {"r0": False},
                                "heartbeat": {"running": True, "resources": "all" if mine else "none"}}, "retcode": 0}
        return out


@pytest.fixture
def runner(monkeypatch, tmp_path):
    from conftest import load_runner  # noqa: PLC0415

    mod = load_runner("hapair_failover_under_test", {"cachedir": str(tmp_path)})  # hapair.status reads pauses
    monkeypatch.setattr(mod, "_wait_event", lambda seconds: None)
    return mod


def test_failover_asks_heartbeat_on_the_target_and_reports_where_it_runs(runner, monkeypatch):
    pair = FakePair()
    monkeypatch.setattr(runner, "_client", lambda: pair)
    out = runner.failover("lab_apache", "www", to="node2", pillar=_apache_pillar())
    assert out["result"] is True and out["runs_on"] == "node2" and out["from"] == "node1", out
    assert [(t, f) for t, f, _ in pair.jobs] == [(["node1", "node2"], "hapair_drbd.report"), (["node2"], "heartbeat.takeover"),
                                                (["node1", "node2"], "hapair_drbd.report")]
    assert pair.jobs[1][2] == {"resources": "foreign"}  # www prefers node1: node2 takes it as foreign
    status = runner.status("lab_apache", table=False, pillar=_apache_pillar())
    assert {r["node"]: r["group"] for r in status["rows"]} == {"node1": None, "node2": "www"}
    assert "GROUP" in runner.report.table(status["rows"]).splitlines()[0]


def test_failover_dry_run_and_refusal_run_nothing_on_the_nodes(runner, monkeypatch):
    pair = FakePair(disk2="Inconsistent")
    monkeypatch.setattr(runner, "_client", lambda: pair)
    refused = runner.failover("lab_apache", "r0", to="node2", pillar=_apache_pillar())
    assert refused["result"] is False and "node2's disk is Inconsistent" in refused["comment"]
    pair.disk2 = "UpToDate"
    assert runner.failover("lab_apache", "r0", timeout="soon", pillar=_apache_pillar())["result"] is False
    dry = runner.failover("lab_apache", "r0", dry_run=True, pillar=_apache_pillar())
    assert dry["result"] is True and dry["comment"].startswith("dry run: hb_takeover foreign on node2"), dry
    assert [f for _, f, _ in pair.jobs] == ["hapair_drbd.report", "hapair_drbd.report"]  # the bad timeout asked nothing
    assert pair.holder == "node1"


def test_group_canary_is_written_where_the_group_runs_and_read_through_the_vip(runner, monkeypatch):
    calls = []

    class Pair:
        def cmd(self, tgt, fun, **kwargs):
            calls.append((sorted(tgt), fun, kwargs.get("arg"), kwargs.get("kwarg")))
            if fun == "heartbeat.status":
                return {m: {"ret": {"running": True, "resources": "none" if m == "node1" else "all"}, "retcode": 0}
                        for m in tgt}
            if fun == "file.write":
                self.token = kwargs["arg"][1]
                return {tgt[0]: {"ret": "Wrote 1 lines", "retcode": 0}}
            if fun == "http.query":
                return {tgt[0]: {"ret": {"status": 200, "text": self.token}, "retcode": 0}}
            return {tgt[0]: {"ret": True, "retcode": 0}}

    pair = Pair()
    monkeypatch.setattr(runner, "_client", lambda: pair)
    out = runner.canary("lab_apache", pillar=_apache_pillar())
    assert out["result"] is True, out
    assert out["checks"] == [{"group": "www", "path": "/var/www/html/hapair-canary.txt",
                              "url": "http://10.99.0.100:80/hapair-canary.txt",
                              "written_on": "node2", "read_on": "node1"}]  # www runs on node2 after a failover
    assert [(t, f) for t, f, _, _ in calls] == [(["node1", "node2"], "heartbeat.status"), (["node2"], "file.write"),
                                              (["node1"], "http.query"), (["node2"], "file.remove")]
    calls.clear()

    class Stale(Pair):
        def cmd(self, tgt, fun, **kwargs):
            if fun == "http.query":
                return {tgt[0]: {"ret": {"status": 200, "text": "node1's own old page"}, "retcode": 0}}
            return super().cmd(tgt, fun, **kwargs)

    stale = Stale()
    monkeypatch.setattr(runner, "_client", lambda: stale)
    out = runner.canary("lab_apache", pillar=_apache_pillar())
    assert out["result"] is False and "node1 read" in out["comment"] and "http://10.99.0.100:80" in out["comment"]
