"""hapair.watch and salt-run hapair.bootstrap: the bootstrap's progress as it happens, from the bus."""

import pytest
from hapair import watch


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def step_new(jid="1", topology="lab_web", step="drbd-up", sls="orch.hapair.node.step", minions=("node1", "node2")):
    return (f"salt/job/{jid}/new", {"fun": "state.sls", "minions": list(minions),
                                   "arg": [sls, {"__kwarg__": True, "queue": True,
                                                 "pillar": {"topology": topology, "step": step}}]})


def test_a_step_is_printed_when_it_starts_and_as_each_node_returns():
    clock = Clock()
    w = watch.Watch("lab_web", clock=clock)
    assert w.feed(*step_new()) == ["step drbd-up: started on node1, node2"]
    clock.now += 12
    ok = {"a": {"result": True, "changes": {"x": 1}}, "b": {"result": True, "changes": {}}}
    bad = {"a": {"result": True, "changes": {}}, "b": {"__id__": "hapair-drbd-r0-up", "result": False,
                                                         "comment": "drbdadm up r0\nfailed:\tno such disk"}}
    assert w.feed("salt/job/1/ret/node1", {"return": ok}) == ["step drbd-up: node1 done (2 states, 1 changed)"]
    assert w.feed("salt/job/1/ret/node2", {"return": bad}) == [
        "step drbd-up: node2 FAILED after 12s (1 of 2 states): hapair-drbd-r0-up drbdadm up r0 failed: no such disk"]
    assert w.feed("salt/job/1/ret/node3", {"return": "'state.sls' is not available."})[0].startswith(
        "step drbd-up: node3 FAILED")


@pytest.mark.parametrize("event", [
    step_new(topology="other"),                        # another topology's bootstrap
    step_new(sls="somebody.else"),                     # another SLS
    ("salt/job/9/ret/node1", {"return": {}}),          # a job this watch did not see start
    ("salt/job/1/new", {"fun": "test.ping", "minions": ["node1"], "arg": []}),
    ("hapair/orch/other/progress", {"lines": ["x"]}),
    ("salt/run/5/new", {"fun": "runner.hapair.wait_for", "fun_args": ["other", "synced"]}),
    ("salt/run/5/new", {"fun": "runner.hapair.status", "fun_args": ["lab_web"]}),
    (None, {}), ("salt/job", {}), ("salt/job/1/new", "not a mapping"),
])
def test_what_is_not_this_bootstraps_prints_nothing(event):
    assert watch.Watch("lab_web").feed(*event) == []


def test_gates_print_their_wait_their_progress_and_their_end():
    clock = Clock()
    w = watch.Watch("lab_web", clock=clock)
    assert w.feed("salt/run/7/new", {"fun": "runner.hapair.wait_for",
                                     "fun_args": [{"topology": "lab_web", "condition": "synced", "timeout": 86400}]}) == [
        "gate synced: waiting on both nodes"]
    assert w.feed("hapair/orch/lab_web/progress", {"lines": ["node2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB"]}) == [
        "  node2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB"]
    assert w.feed("salt/run/7/progress", {"message": "node2 r0 SyncTarget 42.1%"}) == []   # the same, once
    clock.now += 61
    assert w.feed("salt/run/7/ret", {"return": {"result": True}}) == ["gate synced: met after 61s"]
    w.feed("salt/run/8/new", {"fun": "runner.hapair.wait_for", "fun_args": ["lab_web", "connected"]})
    assert w.feed("salt/run/8/ret", {"return": {"result": False, "comment": "gave up after 300s: r0 Connected"}}) == [
        "gate connected: NOT met after 0s: gave up after 300s: r0 Connected"]


def sync_event(minion="node2", resource="r0", **payload):
    """A ``drbd.wait_synced`` event as the master bus carries it (``event.send`` from the minion)."""
    body = {"resource": resource, "percent_done": 42.1, "eta_seconds": 35, "out_of_sync_kib": 151552,
            "replication_state": "SyncTarget", "synced": False, **payload}
    return (f"hapair/drbd/{resource}/sync", {"id": minion, "cmd": "_minion_event", "tag": f"hapair/drbd/{resource}/sync",
                                             "data": body, "_stamp": "2026-12-04T10:00:00.000000"})


def test_the_nodes_sync_events_are_printed_with_percent_and_eta_once_each():
    """The sync is waited for on the nodes now (drbd.synced in a node step): their events are the progress."""
    w = watch.Watch("lab_web", minions=["node1", "node2"])
    assert w.feed(*sync_event()) == ["  node2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB"]
    assert w.feed(*sync_event()) == []                                   # the same reading: printed once
    assert w.feed(*sync_event(minion="node1", replication_state="SyncSource", percent_done=42.15,
                              eta_seconds=None, out_of_sync_kib=None)) == ["  node1 r0 SyncSource 42.1%"]
    assert w.feed(*sync_event(percent_done=97.5, eta_seconds=2)) == [
        "  node2 r0 SyncTarget 97.5% eta 2s oos 151552 KiB"]
    assert w.feed(*sync_event(synced=True, percent_done=100.0, eta_seconds=0, out_of_sync_kib=0)) == [
        "  node2 r0 synced: UpToDate/UpToDate"]
    assert w.feed(*sync_event(resource="r1", replication_state=None, percent_done=None)) == [
        "  node2 r1 waiting eta 35s oos 151552 KiB"]


@pytest.mark.parametrize("event", [
    sync_event(minion="node3"),                                         # another topology's minion
    sync_event(minion=["node1"]),                                       # not an id
    sync_event(resource="r0\nstep roles: done"),                       # a resource name that is no name
    ("hapair/drbd/r0/sync", {"id": "node1", "data": "42%"}),            # no payload mapping
    ("hapair/drbd/r0/sync/x", {"id": "node1", "data": {}}),
    ("hapair/drbd/r0/role", {"id": "node1", "data": {"new": {"role": "Primary"}}}),   # the beacon's, not progress
])
def test_sync_events_that_are_not_this_topologys_print_nothing(event):
    assert watch.Watch("lab_web", minions=["node1", "node2"]).feed(*event) == []


def test_a_watch_without_minions_prints_no_sync_event():
    assert watch.Watch("lab_web").feed(*sync_event()) == []
    assert watch.Watch("lab_web", minions=["node2,node3", "*"]).feed(*sync_event(minion="*")) == []


def test_a_forged_sync_payload_prints_only_what_it_checks():
    w = watch.Watch("lab_web", minions=["node2"])
    line = w.feed(*sync_event(replication_state="SyncTarget\nstep roles: FAILED", percent_done=True,
                              eta_seconds="soon", out_of_sync_kib=-5))[0]
    assert line == "  node2 r0 waiting"


def test_a_line_from_a_node_is_one_line_and_bounded():
    w = watch.Watch("lab_web")
    w.feed(*step_new())
    line = w.feed("salt/job/1/ret/node1", {"return": {"a": {"result": False, "comment": "x\n" * 500}}})[0]
    assert "\n" not in line and len(line) < 400


# --- the runner ---------------------------------------------------------------------------------

class Bus:
    def __init__(self, events):
        self.events, self.destroyed = list(events), False

    def get_event(self, wait=1, full=True):
        return self.events.pop(0) if self.events else None

    def destroy(self):
        self.destroyed = True


@pytest.fixture
def runner(monkeypatch):
    from conftest import load_runner  # noqa: PLC0415

    mod = load_runner("hapair_bootstrap_under_test", opts={"sock_dir": "/nonexistent"})
    printed = []
    monkeypatch.setattr(mod, "_say", printed.append)
    mod.printed = printed
    return mod


def _orchestrate_ret(results):
    return {"data": {"master_master": {f"salt_|-{sid}_|-x_|-state": {"__id__": sid, "result": ok, "comment": c,
                                                                     "__run_num__": n}
                                       for n, (sid, ok, c) in enumerate(results)}}}


def test_the_runner_runs_the_orchestration_and_prints_the_bus_as_it_comes(runner, monkeypatch):
    import contextlib  # noqa: PLC0415
    import threading  # noqa: PLC0415

    release = threading.Event()
    calls = []

    def orchestrate(sls, pillar=None):
        calls.append((sls, pillar))
        release.wait(5)
        return _orchestrate_ret([("hapair-bootstrap-validate", True, "valid"), ("hapair-bootstrap-drbd-up", True, "")])

    class ReleasingBus(Bus):
        def get_event(self, wait=1, full=True):
            if not self.events:
                release.set()
                return None
            return self.events.pop(0)

    tag, data = step_new()
    bus = ReleasingBus([{"tag": tag, "data": data}])
    monkeypatch.setattr(runner, "_bus", lambda opts: contextlib.nullcontext(bus))
    runner.__salt__ = {"state.orchestrate": orchestrate}
    out = runner.bootstrap("lab_web")
    assert out["result"] is True and [s["id"] for s in out["steps"]] == ["hapair-bootstrap-validate",
                                                                        "hapair-bootstrap-drbd-up"], out
    assert calls == [("orch.hapair.bootstrap", {"topology": "lab_web"})]
    assert "step drbd-up: started on node1, node2" in runner.printed


def test_a_failed_step_fails_the_runner_naming_it(runner, monkeypatch):
    import contextlib  # noqa: PLC0415

    monkeypatch.setattr(runner, "_bus", lambda opts: contextlib.nullcontext(None))
    runner.__salt__ = {"state.orchestrate": lambda sls, pillar=None: _orchestrate_ret(
        [("hapair-bootstrap-validate", True, ""), ("hapair-bootstrap-drbd-up", False, "Run failed on minions: node1")])}
    out = runner.bootstrap("lab_web", orchestration={"connect_timeout": 60})
    assert out["result"] is False and out["retcode"] == 1
    assert "at hapair-bootstrap-drbd-up: Run failed on minions: node1" in out["comment"]


def test_bad_input_runs_nothing(runner):
    runner.__salt__ = {"state.orchestrate": lambda *a, **k: pytest.fail("ran")}
    assert runner.bootstrap("web\n- evil")["result"] is False
    assert "unknown key" in runner.bootstrap("web", orchestration={"sync_timout": 5})["comment"]
