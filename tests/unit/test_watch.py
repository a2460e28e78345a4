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
    monkeypatch.setattr(mod, "_progress", printed.append)
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
    monkeypatch.setattr(runner, "_bus", lambda: contextlib.nullcontext(bus))
    runner.__salt__ = {"state.orchestrate": orchestrate}
    out = runner.bootstrap("lab_web")
    assert out["result"] is True and [s["id"] for s in out["steps"]] == ["hapair-bootstrap-validate",
                                                                        "hapair-bootstrap-drbd-up"], out
    assert calls == [("orch.hapair.bootstrap", {"topology": "lab_web"})]
    assert "step drbd-up: started on node1, node2" in runner.printed


def test_a_failed_step_fails_the_runner_naming_it(runner, monkeypatch):
    import contextlib  # noqa: PLC0415

    monkeypatch.setattr(runner, "_bus", lambda: contextlib.nullcontext(None))
    runner.__salt__ = {"state.orchestrate": lambda sls, pillar=None: _orchestrate_ret(
        [("hapair-bootstrap-validate", True, ""), ("hapair-bootstrap-gate-connected", False, "gave up after 300s")])}
    out = runner.bootstrap("lab_web", orchestration={"connect_timeout": 60})
    assert out["result"] is False and out["retcode"] == 1
    assert "at hapair-bootstrap-gate-connected: gave up after 300s" in out["comment"]


def test_bad_input_runs_nothing(runner):
    runner.__salt__ = {"state.orchestrate": lambda *a, **k: pytest.fail("ran")}
    assert runner.bootstrap("web\n- evil")["result"] is False
    assert "unknown key" in runner.bootstrap("web", orchestration={"sync_timout": 5})["comment"]
