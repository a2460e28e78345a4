"""The hapair runner's pure helpers, with loader dunders injected (no master needed).

Inputs are the shapes Salt returns (``lvm.lvdisplay``, LocalClient error strings) and rows of
the status table; the pillar is the repo's lab_web example topology.
"""

import os

import pytest
import yaml
from conftest import ROOT, load_runner


@pytest.fixture
def runner(tmp_path):
    return load_runner("hapair_runner_under_test", {"cachedir": str(tmp_path)})  # hapair.status reads pauses there


def lab_pillar():
    path = os.path.join(ROOT, "pillar", "hapair", "lab_web.sls")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_fail_sets_retcode_for_salt_run_and_orchestration(runner):
    out = runner._fail("boom", seen="x")
    assert out == {"result": False, "comment": "boom", "retcode": 1, "seen": "x"}
    assert runner.__context__["retcode"] == 1


@pytest.mark.parametrize(
    "ret, error",
    [("'drbd.status' is not available.", True), ("ERROR: drbdadm failed", True),
     ("Passed invalid arguments: x", True), ("Wrote 1 lines to \"/srv/x\"", False),
     # a compound job's function that raised (seen in the lab: mount.active during a mount)
     ("Traceback (most recent call last):\n  File ...\nOSError: x\n", True),
     ({"resources": {}}, False), (None, False)],
)
def test_error_text(runner, ret, error):
    assert runner._is_error_text(ret) is error


def test_lvm_of_reads_salt_lvdisplay(runner):
    lv = {"/dev/vg0/r0": {"Logical Volume Name": "/dev/vg0/r0", "Volume Group Name": "vg0"}}
    assert runner._lvm_of(lv) == {"vg": "vg0", "lv": "r0"}
    assert runner._lvm_of({}) is None
    assert runner._lvm_of("ERROR: not an LV") is None


def test_validate_returns_every_error_and_fails(runner):
    pil = lab_pillar()
    pil["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["port"] = 0
    out = runner.validate("lab_web", pillar=pil, deployed=False)
    assert out["result"] is False and out["retcode"] == 1
    assert any("port" in e for e in out["errors"])
    ok = runner.validate("lab_web", pillar=lab_pillar(), deployed=False)
    assert ok["result"] is True and ok["nodes"] == {"node1": "node1", "node2": "node2"}
    assert "secret" not in str(ok)


def test_validate_refuses_a_clash_with_what_the_nodes_run(runner, monkeypatch):
    """The repo's pillar holds lab_web and lab_gfs2 on the same nodes and disk on purpose: each
    bootstraps alone; lab_gfs2 while node1 still runs lab_web's r0 is refused with both paths."""
    path = os.path.join(ROOT, "pillar", "hapair")
    pil = {"hapair": {"topologies": {}}}
    for name in ("lab_web", "lab_gfs2"):
        with open(os.path.join(path, f"{name}.sls"), encoding="utf-8") as handle:
            pil["hapair"]["topologies"].update(yaml.safe_load(handle)["hapair"]["topologies"])
    answers = {"node1": {"ret": {"r0": "lab_web"}, "retcode": 0}}  # node2 does not answer
    jobs = []

    class Client:
        def cmd(self, tgt, fun, **kwargs):
            jobs.append((sorted(tgt), fun, kwargs.get("timeout")))
            return answers

    monkeypatch.setattr(runner, "_client", lambda: Client())
    out = runner.validate("lab_gfs2", pillar=pil)
    assert jobs == [(["node1", "node2"], "hapair_drbd.rendered_topologies", runner.DEPLOYED_TIMEOUT)]
    assert out["result"] is False and any("DRBD resource r0 on node1 is also used by topology lab_web" in e
                                          for e in out["errors"]), out
    answers["node1"]["ret"] = {"r0": "lab_gfs2"}  # a re-run of its own bootstrap
    ok = runner.validate("lab_gfs2", pillar=pil)
    assert ok["result"] is True and "not checked against what runs on node2" in ok["comment"], ok


def test_targets_by_minion(runner):
    from hapair import events  # noqa: PLC0415

    pil = lab_pillar()
    assert runner._node_minions(pil) == {"lab_web": ["node1", "node2"]}
    within = events.member_of("node2", runner._node_minions(pil))
    assert runner._targets(None, None, pil, within=within) == [("lab_web", "r0")]
    assert runner._targets("r9", None, pil, within=within) == []
    assert runner._targets(None, None, pil, within=events.member_of("elsewhere", runner._node_minions(pil))) == []


def test_table(runner):
    rows = [{"resource": "r0", "node": "node1", "role": "Primary", "disk": "UpToDate", "connection": "Connected",
             "replication": "SyncSource", "peer_disk": "Inconsistent", "sync_percent": 42.5, "eta_seconds": 610, "mounts": [],
             "o2cb": "online", "alerts": []},
            {"resource": "r0", "node": "node2", "role": None, "disk": None, "connection": None, "replication": None,
             "peer_disk": None, "sync_percent": None, "mounts": ["/srv/www"], "o2cb": None,
             "alerts": ["StandAlone", "SPLIT BRAIN"]}]
    lines = runner._table(rows).splitlines()
    assert lines[0].split() == ["RESOURCE", "NODE", "ROLE", "DISK", "CONNECTION", "SYNC", "ETA", "MOUNTS", "O2CB",
                                "ALERTS"]
    assert lines[1].split() == ["r0", "node1", "Primary", "UpToDate", "Connected/SyncSource", "42.5%", "10m10s", "-",
                                "online", "-"]
    assert lines[2].split() == ["r0", "node2", "-", "-", "-", "-", "-", "/srv/www", "-", "StandAlone,SPLIT", "BRAIN"]


class _GoneProxy:
    """A reactor-started runner's ``__jid_event__`` once its referent was collected (seen in the lab)."""

    def fire_event(self, *_args, **_kwargs):
        raise ReferenceError("weakly-referenced object no longer exists")


def test_progress_survives_a_dead_jid_event(runner):
    runner.__jid_event__ = _GoneProxy()
    runner._progress("remediate rm1: up on node2")  # must not raise
    del runner.__jid_event__
    runner._progress("outside a runner job")  # NameError path


def test_remediate_goes_on_after_one_resource_crashes(runner, monkeypatch):
    """A minion-start remediation covers every resource: a crash on the first must not leave the
    second down (the lab's rm0/rm1 power cycle: rm1 was never brought up)."""
    pil = lab_pillar()
    topo = pil["hapair"]["topologies"]["lab_web"]
    topo["drbd"]["resources"]["r1"] = dict(topo["drbd"]["resources"]["r0"], minor=1, port=7789, disk="/dev/vdc",
                                               mode="single-primary")
    fired, seen = [], []

    def one(topo, resource, *args, **kwargs):
        seen.append(resource)
        if resource == "r0":
            raise ReferenceError("weakly-referenced object no longer exists")
        return {"topology": topo["name"], "resource": resource, "decision": "healed"}

    monkeypatch.setattr(runner, "_remediate_one", one)
    monkeypatch.setattr(runner, "_fire", lambda tag, data: fired.append((tag, data)))
    monkeypatch.setattr(runner, "_rendered", lambda ids, running=False: ({m: {} for m in ids}, {}))
    out = runner.remediate(resource=None, topology="lab_web", pillar=pil)
    assert seen == ["r0", "r1"]
    assert out["result"] is False and out["retcode"] == 1
    by_res = {r["resource"]: r for r in out["results"]}
    assert by_res["r1"]["decision"] == "healed"
    assert by_res["r0"]["decision"] == "error" and "ReferenceError" in by_res["r0"]["reason"]
    assert fired and fired[0][0] == "hapair/remediate/r0/result"


def test_an_event_read_by_a_later_remediation_is_covered(runner, monkeypatch, tmp_path):
    """Events queued behind a remediation that read both nodes after they arrived return at once;
    an operator's call and a dry run always read the nodes."""
    import json
    import time

    pil = lab_pillar()
    runner.__opts__ = {"cachedir": str(tmp_path)}
    reads, fired = [], []

    def facts(topo, resource, history, want_backing=False):
        reads.append(resource)
        model = {"name": resource, "role": "Primary", "suspended": False,  # stage 06: healthy dual-primary
                 "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
                 "peers": [{"name": None, "node_id": 0, "connection_state": "Connected", "role": "Primary",
                            "volumes": [{"volume": 0, "replication_state": "Established",
                                         "peer_disk_state": "UpToDate", "percent_done": None,
                                         "eta_seconds": None, "out_of_sync_kib": 0}]}]}
        node = {"model": model, "mounted": ["/srv/www"], "backing": {"disk": "/dev/vdb", "lvm": None}, "gi": None,
                "primary_since": None}
        return {"node1": node, "node2": dict(node)}, False, {}

    monkeypatch.setattr(runner, "_facts", facts)
    monkeypatch.setattr(runner, "_fire", lambda tag, data: fired.append(tag))
    monkeypatch.setattr(runner, "_rendered", lambda ids, running=False: ({m: {"r0": "lab_web"} for m in ids}, {}))
    state = tmp_path / "hapair" / "remediate"
    state.mkdir(parents=True)
    (state / "lab_web.r0.json").write_text(json.dumps({"gathered_at": time.time() + 60}))
    kw = {"resource": "r0", "topology": "lab_web", "pillar": pil, "minion": "node2"}

    out = runner.remediate(tag="hapair/drbd/r0/connection", event={"_stamp": "t1"}, **kw)
    assert [r["decision"] for r in out["results"]] == ["covered"] and reads == [], out
    runner.remediate(tag="hapair/drbd/r0/connection", event={"_stamp": "t2"}, dry_run=True, **kw)
    assert reads == ["r0"]  # a dry run reads the nodes
    out = runner.remediate(**kw)  # an operator's call (no event) reads the nodes
    assert reads == ["r0", "r0"] and out["results"][0]["decision"] == "none", out
    recorded = json.loads((state / "lab_web.r0.json").read_text())
    assert recorded["gathered_at"] <= time.time()  # this reading heard both nodes: the new mark
    out = runner.remediate(tag="hapair/drbd/r0/connection", event={"_stamp": "t3"}, **kw)
    assert out["results"][0]["decision"] == "none" and reads == ["r0"] * 3  # called after that reading


def _status(conn, role="Primary", peer_role="Unknown"):
    """``drbd.status`` of r0 as the module returns it (8.4 shapes: one peer, one volume)."""
    connected = conn == "Connected"
    return {"resources": {"r0": {
        "name": "r0", "role": role, "suspended": False,
        "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
        "peers": [{"name": None, "node_id": 0, "connection_state": conn, "role": peer_role,
                   "volumes": [{"volume": 0, "replication_state": "Established" if connected else None,
                                "peer_disk_state": "UpToDate" if connected else "DUnknown",
                                "percent_done": None, "eta_seconds": None, "out_of_sync_kib": 0}]}]}}}


def test_verify_reconnects_a_survivor_that_turned_standalone_late(runner, monkeypatch):
    """The CI split brain: node1 (survivor) was WFConnection when read and its planned connect
    skipped; it turned StandAlone after node2's discard-my-data connect. Verification connects it
    again instead of waiting out its timeout and recording a failed heal."""
    topo = {"name": "lab_web", "nodes": {"node1": {}, "node2": {}},
            "drbd": {"resources": {"r0": {"mode": "dual-primary"}}}}
    acted, polls = [], []

    def call(topo, fun, arg=(), kwarg=None, timeout=30, nodes=None):
        assert fun == "hapair_drbd.status"
        polls.append(1)
        node1 = "Connected" if acted else "StandAlone"
        node2 = "Connected" if acted else "WFConnection"
        return {"node1": _status(node1, peer_role="Secondary"), "node2": _status(node2, role="Secondary")}, {}

    monkeypatch.setattr(runner, "_call", call)
    monkeypatch.setattr(runner, "_act", lambda topo, resource, action: acted.append((action["node"], action["action"])))
    monkeypatch.setattr(runner, "_wait_event", lambda seconds: None)
    out = runner._verify(topo, "r0", timeout=30, reconnect="node1")
    assert out["met"] is True and acted == [("node1", "connect")] and len(polls) == 2, (out, acted)

    acted.clear()
    out = runner._verify(topo, "r0", timeout=0, reconnect=None)  # not a split brain: never connects
    assert out["met"] is False and acted == [], out


def test_running_reads_one_job_and_drops_error_answers(runner, monkeypatch):
    """A minion start asks every node what runs and from which topology; a node whose answer is an
    error (retcode, or Salt's error text) counts as not answering."""
    pil = lab_pillar()
    jobs = []

    class Client:
        def cmd(self, tgt, fun, **kwargs):
            jobs.append((sorted(tgt), fun, kwargs.get("kwarg")))
            return {"node1": {"ret": {"r0": "lab_web", "r9": None}, "retcode": 0},
                    "node2": {"ret": "ERROR: 'drbd.rendered_topologies' is not available.", "retcode": 1}}

    monkeypatch.setattr(runner, "_client", lambda: Client())
    out = runner._running(pil, [("lab_web", "r0")])
    assert jobs == [(["node1", "node2"], "hapair_drbd.rendered_topologies", {"running": True})]
    assert out == {"lab_web": {"answered": ["node1"], "resources": ["r0"]}}, out


def test_status_is_one_job_per_node(runner, monkeypatch):
    """hapair.status asks each node once (drbd.report), not once per resource and per fact."""
    jobs = []
    model = {"name": "r0", "role": "Primary", "volumes": [{"disk_state": "UpToDate"}],
             "peers": [{"connection_state": "StandAlone", "role": "Unknown", "volumes": []}]}

    class Client:
        def cmd(self, tgt, fun, **kwargs):
            jobs.append((sorted(tgt), fun, kwargs.get("kwarg")))
            return {mid: {"ret": {"status": {"resources": {"r0": model}}, "mounts": {"/srv/www": {}},
                                  "split_brain": {"r0": mid == "node2"}, "o2cb": {"online": True}}, "retcode": 0}
                    for mid in tgt}

    monkeypatch.setattr(runner, "_client", lambda: Client())
    out = runner.status("lab_web", table=False, pillar=lab_pillar())
    assert jobs == [(["node1", "node2"], "hapair_drbd.report", {"resources": ["r0"], "o2cb": True, "heartbeat": False})]
    by_node = {row["node"]: row for row in out["rows"]}
    assert by_node["node2"]["split_brain"] is True and by_node["node1"]["split_brain"] is False
    assert "split-brain" in by_node["node2"]["alerts"] and by_node["node1"]["mounts"] == ["/srv/www"]
