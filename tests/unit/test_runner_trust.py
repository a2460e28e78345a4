"""The remediation runner trusts no event (issue 12): it validates every argument before any job,
decides only from the topology the resource is deployed from (as the sender's rendered .res says)
and only for a sender that is one of that topology's nodes, and reads only a node's pillar.

LocalClient is replaced by a recording fake (as in test_orchestrate_runner.py); facts are the
planner tests' stage-11 split brain.
"""

import copy
import logging
import os

import pytest
import yaml
from conftest import ROOT, load_runner

SB = {"name": "r0", "role": "Primary", "suspended": False,
      "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
      "peers": [{"name": None, "node_id": 0, "connection_state": "StandAlone", "role": "Unknown",
                 "volumes": [{"volume": 0, "replication_state": "Off", "peer_disk_state": "DUnknown",
                              "percent_done": None, "eta_seconds": None, "out_of_sync_kib": 64}]}]}
DISCARDING = {"split_brain": "victim", "victim": "node2", "snapshot_before_discard": False, "cooldown": 0}


@pytest.fixture
def runner(tmp_path):
    return load_runner("hapair_runner_trust", {"cachedir": str(tmp_path), "id": "master"})


def two_topologies():
    """lab_web (manual split-brain policy) and ``other``: the same nodes and r0, discarding node2."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    topos = pil["hapair"]["topologies"]
    topos["other"] = copy.deepcopy(topos["lab_web"])
    topos["other"]["drbd"]["resources"]["r0"]["remediation"] = dict(DISCARDING)
    return pil


class Client:
    """LocalClient.cmd as the runner calls it (full_return); answers drbd.rendered_topologies."""

    def __init__(self, rendered):
        self.rendered, self.jobs = rendered, []

    def cmd(self, tgt, fun, arg=(), kwarg=None, **kwargs):
        self.jobs.append((list(tgt), fun))
        assert fun == "hapair_drbd.rendered_topologies", fun
        return {m: {"ret": self.rendered[m], "retcode": 0} for m in tgt if m in self.rendered}


@pytest.fixture
def world(runner, monkeypatch):
    """The fake client, and the facts reads (``(topology, resource)``) the runner made."""
    reads = []
    state = {"client": Client({"node1": {"r0": "lab_web"}, "node2": {"r0": "lab_web"}})}

    def facts(topo, resource, history, want_backing=False):
        reads.append((topo["name"], resource))
        node = {"model": SB, "mounted": [], "backing": {"disk": "/dev/vdb", "lvm": None}, "gi": None,
                "primary_since": None}
        return {"node1": node, "node2": dict(node)}, True, {}

    monkeypatch.setattr(runner, "_facts", facts)
    monkeypatch.setattr(runner, "_client", lambda: state["client"])
    monkeypatch.setattr(runner, "_fire", lambda tag, data: None)
    state["reads"] = reads
    return state


def event_call(runner, minion, topology=None, resource="r0", **kw):
    return runner.remediate(resource=resource, topology=topology, minion=minion, tag=f"hapair/drbd/{resource}/split-brain",
                            event={"_stamp": "2026-12-02T05:00:00.000000"}, dry_run=True, pillar=two_topologies(), **kw)


def test_an_event_from_no_node_naming_a_discarding_topology_does_nothing(runner, world, caplog):
    """The finding: a minion that is no node, naming ``other`` (which discards), planned
    ``secondary`` + ``discard_my_data_connect`` on node2."""
    with caplog.at_level(logging.INFO):
        out = event_call(runner, "intruder", topology="other")
    assert out["result"] is True, out
    (res,) = out["results"]
    assert res["decision"] == "none" and res["situation"] == "not_ours", res
    assert "intruder is no node" in res["reason"]
    assert world["reads"] == [] and world["client"].jobs == []  # nothing read, no job at all
    assert any("not ours" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_a_node_naming_another_topology_is_refused_not_obeyed(runner, world):
    """node2 is a node of both topologies, but its r0 was rendered from lab_web: the payload's
    ``other`` (discarding) is never used."""
    out = event_call(runner, "node2", topology="other")
    assert world["client"].jobs == [(["node2"], "hapair_drbd.rendered_topologies")]
    assert world["reads"] == [], world["reads"]
    (res,) = out["results"]
    assert res["decision"] == "refuse" and res["topology"] == "lab_web", res
    assert "rendered from topology lab_web" in res["reason"] and not res.get("actions")


def test_the_sender_decides_which_topology_acts(runner, world):
    """Without a payload topology the old runner looked at every topology that has node2; now only
    the one node2's r0 was rendered from, under that one's policy."""
    world["client"] = Client({"node2": {"r0": "other"}})
    out = event_call(runner, "node2")
    assert world["reads"] == [("other", "r0")], world["reads"]
    (res,) = out["results"]
    assert res["topology"] == "other" and res["decision"] == "act", res
    assert [a["action"] for a in res["actions"]] == ["secondary", "discard_my_data_connect", "connect"]

    world["reads"].clear()
    world["client"] = Client({"node2": {"r0": "lab_web"}})
    (res,) = event_call(runner, "node2")["results"]
    assert world["reads"] == [("other", "r0")], "an answer younger than RENDERED_TTL is reused"
    world["reads"].clear()
    runner.RENDERED_TTL = 0  # the node's answer has aged: asked again
    (res,) = event_call(runner, "node2")["results"]
    assert world["reads"] == [("lab_web", "r0")] and res["decision"] == "report", res


@pytest.mark.parametrize("rendered", [{}, {"r0": None}, {"r0": "gone"}, {"r0": "x\ny"}])
def test_a_resource_hapair_did_not_render_from_a_known_topology_is_not_ours(runner, world, rendered):
    world["client"] = Client({"node2": rendered})
    out = event_call(runner, "node2")
    assert out["result"] is True and world["reads"] == [], out
    assert out["results"][0]["situation"] == "not_ours", out


def test_a_silent_sender_fails_naming_it(runner, world):
    world["client"] = Client({})
    out = event_call(runner, "node2")
    assert out["result"] is False and world["reads"] == [], out
    assert "node2 did not say" in str(out)


def test_an_operator_call_is_refused_under_a_topology_the_nodes_did_not_render(runner, world):
    out = runner.remediate(resource="r0", topology="other", dry_run=True, pillar=two_topologies())
    assert world["reads"] == [], out
    (res,) = out["results"]
    assert res["decision"] == "refuse" and "rendered from topology lab_web, not other" in res["reason"], res
    out = runner.remediate(resource="r0", topology="lab_web", dry_run=True, pillar=two_topologies())
    assert world["reads"] == [("lab_web", "r0")], out


@pytest.mark.parametrize("kwargs", [
    {"resource": "r0\n", "topology": "lab_web"},
    {"resource": "r0", "topology": "lab_web", "minion": "node2,node3"},
    {"resource": "r0", "topology": "lab_web", "minion": "*"},
    {"resource": "r0", "topology": "lab_web", "minion": "node2\n"},
    {"resource": "r0", "topology": "lab web"},
    {"resource": "r0", "minion": "node2", "tag": "hapair/drbd/r1/split-brain"},
    {"resource": "r0", "minion": "node2", "tag": "hapair/drbd/x:\n  local.cmd.run: x\nz/split-brain"},
    {"minion": "node2", "tag": "salt/minion/node1/start"},
    {"resource": "r0", "topology": "lab_web", "event": "split-brain"},
])
def test_every_argument_is_checked_before_any_job(runner, world, kwargs):
    out = runner.remediate(dry_run=True, pillar=two_topologies(), **kwargs)
    assert out["result"] is False and out["retcode"] == 1, out
    assert "is not a valid" in out["comment"] or "tag" in out["comment"] or "event" in out["comment"], out
    assert world["client"].jobs == [] and world["reads"] == []


def test_a_forged_event_id_or_kind_is_not_taken(runner, world, monkeypatch):
    seen = []
    monkeypatch.setattr(runner, "_remediate_one", lambda topo, res, event, *a, **k: seen.append(event) or {
        "topology": topo["name"], "resource": res, "decision": "none"})
    runner.remediate(resource="r0", minion="node2", tag="hapair/drbd/r0/role", pillar=two_topologies(),
                     event={"kind": "split-brain", "id": "forged", "_stamp": "t1", "new": {"role": "x\ny"}, "z": 1})
    assert seen == [{"kind": "role", "_stamp": "t1", "id": "hapair/drbd/r0/role|node2|t1"}], seen


# --------------------------------------------------------------------------- whose pillar


def web(**policy):
    """A compiled pillar holding ``web`` (lab_web's nodes node1/node2, r0 with ``policy``)."""
    topo = two_topologies()["hapair"]["topologies"]["lab_web"]
    topo["drbd"]["resources"]["r0"]["remediation"] = policy
    return {"hapair": {"topologies": {"web": topo}}}


def test_the_pillar_is_a_node_s_never_another_minion_s(runner, monkeypatch):
    """The master's own pillar lacks ``web``; ``evil`` (no node of web) sorts first and its pillar
    has a ``web`` that discards: the runner must read node2's, not evil's."""
    pillars = {"master": {}, "evil": web(**DISCARDING), "node2": web(split_brain="manual")}
    monkeypatch.setattr(runner, "_candidate_ids", lambda: ["master", "evil", "node2"])
    monkeypatch.setattr(runner, "_pillar_for", lambda mid: copy.deepcopy(pillars[mid]))
    topo = runner._load("web")
    assert topo["drbd"]["resources"]["r0"]["remediation"]["split_brain"] == "manual", topo

    monkeypatch.setattr(runner, "_candidate_ids", lambda: ["master", "evil"])
    out = runner.validate("web")
    assert out["result"] is False, out
    assert "master" in out["comment"] and "evil (has web but is not one of its nodes" in out["comment"], out


def test_no_pillar_with_the_topology_fails_naming_what_was_tried(runner, monkeypatch):
    monkeypatch.setattr(runner, "_candidate_ids", lambda: ["master", "node1"])
    monkeypatch.setattr(runner, "_pillar_for", lambda mid: {})
    out = runner.validate("web")
    assert out["result"] is False and "tried" in out["comment"] and "node1" in out["comment"], out


def test_dry_run_is_a_strict_flag_checked_before_any_job(runner, world):
    """``dry_run="perhaps"`` is refused before any job; ``"no"`` is a real run, never "a non-empty
    string, so yes"."""
    out = runner.remediate(resource="r0", topology="lab_web", dry_run="perhaps", pillar=two_topologies())
    assert out["result"] is False and "dry_run" in out["comment"], out
    assert world["client"].jobs == [] and world["reads"] == []
    seen = []
    runner._remediate_one = lambda topo, res, event, minion, dry_run, *a, **k: seen.append(dry_run) or {
        "topology": topo["name"], "resource": res, "decision": "none"}
    runner.remediate(resource="r0", minion="node2", tag="hapair/drbd/r0/role", pillar=two_topologies(),
                     event={"_stamp": "t1"}, dry_run="no")
    assert seen == [False], seen


def test_a_burst_of_events_asks_the_sender_once(runner, world):
    """A split brain fires role, connection, split-brain and standalone events for each resource;
    on a single-process minion one rendered_topologies job per event queued behind its other jobs
    until they timed out (seen in the lab: the victim was never healed)."""
    for kind in ("role", "connection", "split-brain", "standalone"):
        runner.remediate(resource="r0", minion="node2", tag=f"hapair/drbd/r0/{kind}", pillar=two_topologies(),
                         event={"_stamp": f"t-{kind}"}, dry_run=True)
    assert world["client"].jobs == [(["node2"], "hapair_drbd.rendered_topologies")]
