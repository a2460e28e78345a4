"""``salt-run hapair.reconfigure``: a disruptive pillar change applied to both nodes in a safe order.

The plan (``hapair.changes.reconfigure_plan``) is a table; the runner is driven with its minion
jobs answered here: it reads, refuses or runs check_peer -> pause -> hapair.clean on both ->
the bootstrap -> resume, and a run that failed after its quiesce resumes from the bootstrap.
"""

import copy
import json
import os

import pytest
import yaml
from conftest import ROOT, load_runner
from hapair import changes
from test_runner_remediate import CONNECTED

ADDR = changes.change("drbd", "r0", "on node1:address", "ipv4 10.99.0.1:7788", "ipv4 10.98.0.1:7788",
                      "reconnect", "adjust disconnects")
RATE = changes.change("drbd", "r0", "disk:resync-rate", "40M", "60M", "online", "disk-options")
UP = {"up": True, "disk": "UpToDate", "connection": "Connected", "split_brain": False}


def seen(**over):
    return {"r0": {n: dict(UP, **over.get(n, {})) for n in ("node1", "node2")}}


@pytest.mark.parametrize("found, observed, action, words", [
    ({"node1": [], "node2": []}, seen(), "none", None),
    ({"node1": [RATE], "node2": [RATE]}, seen(), "bootstrap", None),
    ({"node1": [ADDR], "node2": []}, seen(), "reconfigure", None),
    ({"node1": [ADDR], "node2": None}, seen(), "refused", "node2 did not answer"),
    ({"node1": [ADDR], "node2": []}, seen(node2={"split_brain": True}), "refused", "split-brain record on node2"),
    ({"node1": [ADDR], "node2": []}, seen(node2={"disk": "Inconsistent", "connection": "SyncTarget"}), "refused",
     "let the resync finish"),
    ({"node1": [ADDR], "node2": []}, seen(node1={"connection": "WFConnection"}), "refused", "connect the pair first"),
    ({"node1": [changes.change("drbd", "r0", "on node1:disk", "/dev/vdb", "/dev/vdc", "down", "")], "node2": []},
     seen(), "refused", "a new backing disk"),
    ({"node1": [changes.change("filesystem", "www", "type", "ocfs2", "gfs2", "reformat", "")], "node2": []},
     seen(), "refused", "never re-formats"),
    ({"node1": [], "node2": []}, seen(node1={"up": False}, node2={"up": False}), "none", None),
])
def test_plan(found, observed, action, words):
    plan = changes.reconfigure_plan("lab_web", found, observed)
    assert plan["action"] == action, plan
    if words:
        assert any(words in why for why in plan["refused"]), plan["refused"]
    if action == "reconfigure":
        assert [p["phase"] for p in plan["phases"]] == ["check_peer", "pause", "stop_groups", "quiesce", "bootstrap",
                                                        "resume"]
        assert [c["node"] for c in plan["changes"]] == ["node1"]


def test_plan_resuming_an_earlier_run_skips_the_quiesce_even_with_nothing_left_to_change():
    plan = changes.reconfigure_plan("lab_web", {"node1": [], "node2": []}, seen(node1={"up": False}),
                                    resuming="quiesced")
    assert plan["action"] == "reconfigure"
    assert [p["phase"] for p in plan["phases"]] == ["check_peer", "pause", "bootstrap", "resume"]


def test_plan_after_a_quiesce_that_stopped_halfway_runs_every_phase_again():
    # node2 is down already, node1 still up and waiting for it: no refusal, this runner did that
    half = seen(node1={"connection": "WFConnection"}, node2={"up": False})
    plan = changes.reconfigure_plan("lab_web", {"node1": [RATE], "node2": []}, half, resuming="quiescing")
    assert plan["action"] == "reconfigure" and "quiesce" in [p["phase"] for p in plan["phases"]], plan
    assert changes.reconfigure_plan("lab_web", {"node1": [ADDR], "node2": []}, half)["action"] == "refused"


def test_drift_changes_counts_the_kernel_too():
    drift = {"resources": {"r0": {"pillar_vs_file": [ADDR], "file_vs_kernel": [
        {"tool": "drbdsetup", "command": "net-options", "class": "online"}]}}}
    assert [(c["key"], c["class"]) for c in changes.drift_changes(drift)] == [
        ("on node1:address", "reconnect"), ("kernel:net-options", "online")]


class Client:
    """LocalClient.cmd answering state.apply hapair.clean; records every job."""

    def __init__(self):
        self.jobs, self.clean_ok = [], True

    def cmd(self, tgt, fun, arg=(), kwarg=None, **kwargs):
        self.jobs.append((sorted(tgt), fun, list(arg), kwarg))
        assert fun == "state.apply" and arg == ["hapair.clean"], (fun, arg)
        ok = {"result": self.clean_ok, "comment": "umount: target is busy", "__id__": "hapair-ocfs2-www-unmounted"}
        return {m: {"ret": {"mount_|-x": ok}, "retcode": 0} for m in tgt}


@pytest.fixture
def world(tmp_path, monkeypatch):
    runner = load_runner("hapair_runner_reconfigure", {"cachedir": str(tmp_path), "id": "master"})
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    w = {"runner": runner, "pillar": pil, "client": Client(), "calls": [], "drift": {"node1": [ADDR], "node2": [ADDR]},
         "ping": True, "bootstrap_ok": [True], "model": CONNECTED, "split": False}

    def call(topo, fun, arg=(), kwarg=None, timeout=30, nodes=None):
        w["calls"].append((fun, list(arg), nodes))
        names = nodes or ["node1", "node2"]
        if fun == "hapair_drbd.drift":
            return {n: {"resources": {"r0": {"pillar_vs_file": w["drift"][n], "file_vs_kernel": []}}} for n in names}, {}
        if fun == "o2cb.change_facts":
            return {n: {"changes": [], "class": None, "online": True} for n in names}, {}
        if fun == "hapair_drbd.report":
            return {n: {"status": {"resources": {"r0": w["model"]}}, "split_brain": {"r0": w["split"]}, "mounts": {}}
                    for n in names}, {}
        if fun == "network.ping":
            return {n: w["ping"] for n in names}, {}
        raise AssertionError(fun)

    def bootstrap(topology, orchestration=None, pillar=None):
        w["calls"].append(("bootstrap", [topology], None))
        ok = w["bootstrap_ok"].pop(0) if len(w["bootstrap_ok"]) > 1 else w["bootstrap_ok"][0]
        return {"result": ok, "comment": "bootstrap lab_web: 8 steps done" if ok else "failed at canary"}

    monkeypatch.setattr(runner, "_call", call)
    monkeypatch.setattr(runner, "_client", lambda: w["client"])
    monkeypatch.setattr(runner, "bootstrap", bootstrap)
    monkeypatch.setattr(runner, "_fire", lambda tag, data: None)
    monkeypatch.setattr(runner, "_say", lambda line: None)
    monkeypatch.setattr(runner, "_operator", lambda: "alice")
    return w


def funs(world):
    return [c[0] for c in world["calls"]]


def paused(tmp_path):
    path = tmp_path / "hapair" / "remediate" / "paused.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_dry_run_shows_the_plan_and_runs_nothing(world, tmp_path):
    out = world["runner"].reconfigure("lab_web", dry_run=True, pillar=world["pillar"])
    assert out["result"] is True and out["comment"].startswith("dry run: lab_web: reconnect: r0 on node1:address")
    assert "check_peer, pause, stop_groups, quiesce, bootstrap, resume" in out["comment"]
    assert funs(world) == ["hapair_drbd.drift", "o2cb.change_facts", "hapair_drbd.report"] and world["client"].jobs == []
    assert paused(tmp_path) == {}


def test_a_readdressing_runs_every_phase_in_order_and_resumes_remediation(world, tmp_path):
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is True, out
    assert funs(world) == ["hapair_drbd.drift", "o2cb.change_facts", "hapair_drbd.report", "network.ping", "network.ping",
                           "bootstrap"]
    pinged = {(c[2][0], c[1][0]) for c in world["calls"] if c[0] == "network.ping"}
    assert pinged == {("node1", "10.99.0.2"), ("node2", "10.99.0.1")}
    (job,) = world["client"].jobs
    assert job[:3] == (["node1", "node2"], "state.apply", ["hapair.clean"])
    assert job[3]["pillar"] == {"topology": "lab_web"}
    assert paused(tmp_path) == {}                                      # paused for the run, resumed after it
    assert not (tmp_path / "hapair" / "reconfigure" / "lab_web.json").exists()


def test_an_unreachable_peer_address_refuses_before_any_change(world, tmp_path):
    world["ping"] = False
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is False and "node1 cannot reach 10.99.0.2" in out["comment"], out
    assert world["client"].jobs == [] and "bootstrap" not in funs(world) and paused(tmp_path) == {}


def test_a_split_brain_refuses_before_any_job_that_changes_something(world):
    world["split"] = True
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is False and "split-brain record" in out["comment"]
    assert world["client"].jobs == [] and "network.ping" not in funs(world)


def test_a_failed_bootstrap_stays_paused_and_the_next_run_goes_on_from_the_bootstrap(world, tmp_path):
    world["bootstrap_ok"] = [False, True]
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is False and "stays paused" in out["comment"] and "hapair.reconfigure lab_web" in out["comment"]
    assert paused(tmp_path)["lab_web"]["*"]["reason"] == "hapair.reconfigure lab_web"
    record = json.loads((tmp_path / "hapair" / "reconfigure" / "lab_web.json").read_text())
    assert record["phase"] == "quiesced" and record["paused_here"] is True
    world["drift"] = {"node1": [], "node2": []}                            # the files were written
    world["client"].jobs.clear()
    again = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert again["result"] is True, again
    assert world["client"].jobs == []                                      # no second quiesce
    assert paused(tmp_path) == {}


def test_a_failed_quiesce_stops_there_and_the_next_run_quiesces_again(world, tmp_path):
    world["client"].clean_ok = False
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is False and "umount: target is busy" in out["comment"], out
    assert "bootstrap" not in funs(world) and "lab_web" in paused(tmp_path)
    world["client"].clean_ok = True
    world["drift"] = {"node1": [], "node2": []}          # half the pair already cleaned: the files say little
    world["client"].jobs.clear()
    again = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert again["result"] is True and len(world["client"].jobs) == 1, again   # quiesced again, then the bootstrap
    assert paused(tmp_path) == {}


def test_an_operators_pause_is_left_in_place(world, tmp_path):
    world["runner"].pause("lab_web", reason="window", pillar=world["pillar"])
    assert world["runner"].reconfigure("lab_web", pillar=world["pillar"])["result"] is True
    assert paused(tmp_path)["lab_web"]["*"]["reason"] == "window"


def test_online_changes_only_are_the_bootstrap(world):
    world["drift"] = {"node1": [RATE], "node2": [RATE]}
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is True and "online changes only" in out["comment"]
    assert funs(world)[-1] == "bootstrap" and "network.ping" not in funs(world) and world["client"].jobs == []


def test_nothing_to_do(world):
    world["drift"] = {"node1": [], "node2": []}
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is True and "nothing to reconfigure" in out["comment"] and "bootstrap" not in funs(world)


def test_a_disconnected_pair_is_refused(world):
    model = copy.deepcopy(CONNECTED)
    model["peers"][0]["connection_state"] = "WFConnection"
    world["model"] = model
    out = world["runner"].reconfigure("lab_web", pillar=world["pillar"])
    assert out["result"] is False and "connect the pair first" in out["comment"]
