"""Stack none (seed 003): where a group runs, the switch plan, the failover node steps, and the
runner that is the engine there (on the operator's command only)."""

import os

import pytest
import yaml
from conftest import ROOT
from hapair import bootstrap, failover, orchestrate, topology
from hapair.errors import RefusedError


def _pillar():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_crossed.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


TOPO = topology.load(_pillar(), "lab_crossed")


def model(name, role, peer_role="Secondary", conn="Connected", disk="UpToDate"):
    return {"name": name, "role": role, "volumes": [{"disk_state": disk}],
            "peers": [{"connection_state": conn, "role": peer_role,
                       "volumes": [{"replication_state": "Established", "peer_disk_state": "UpToDate"}]}]}


MOUNTED1 = {"/srv/store1": {"device": "/dev/drbd0", "fstype": "btrfs"}}
MOUNTED2 = {"/srv/store2": {"device": "/dev/drbd2", "fstype": "btrfs"}}


def steady():
    """r0 runs on node1, r1 on node2, as bootstrapped."""
    return {"drbd": {"node1": [model("r0", "Primary"), model("r1", "Secondary", "Primary")],
                     "node2": [model("r0", "Secondary", "Primary"), model("r1", "Primary")]},
            "mounts": {"node1": dict(MOUNTED1), "node2": dict(MOUNTED2)}}


# --- where a group runs ------------------------------------------------------------------------

def test_a_group_runs_where_its_resource_is_primary_and_its_filesystem_mounted():
    assert orchestrate.placement(TOPO, steady()) == {"store1": "node1", "store2": "node2"}


def test_primary_without_its_mount_is_not_running_there_right_after_the_initial_sync():
    seen = {"drbd": {"node1": [model("r0", "Primary"), model("r1", "Primary")],
                     "node2": [model("r0", "Secondary"), model("r1", "Secondary")]},
            "mounts": {"node1": {}, "node2": {}}}
    assert orchestrate.placement(TOPO, seen) == {}


def test_a_mount_of_another_type_or_an_unknown_node_primary_nowhere_places_nothing():
    seen = steady()
    seen["mounts"]["node1"] = {"/srv/store1": {"fstype": "ext4"}}
    seen["drbd"]["node2"] = None
    assert orchestrate.placement(TOPO, seen) == {}


def test_other_stacks_have_no_placement():
    assert orchestrate.placement({**TOPO, "cluster": {"stack": "heartbeat"}}, steady()) == {}


def test_a_node_alone_sees_its_peer_primary_as_where_the_group_runs():
    # after r0 moved to node2: node1 sees r0 Secondary here, Primary on the peer (mounts unknown there)
    view = orchestrate.local_view(TOPO, "node1", [model("r0", "Secondary", "Primary"), model("r1", "Secondary", "Primary")],
                                  {})
    assert orchestrate.placement(TOPO, view) == {"store1": "node2", "store2": "node2"}
    view = orchestrate.local_view(TOPO, "node2", [model("r0", "Primary"), model("r1", "Primary")],
                                  {**MOUNTED1, **MOUNTED2})
    assert orchestrate.placement(TOPO, view) == {"store1": "node2", "store2": "node2"}


def test_placed_moves_the_group_its_format_node_and_its_roles_and_keeps_the_preferred():
    moved = topology.placed(TOPO, {"store1": "node2"})
    assert moved["groups"]["store1"]["node"] == "node2" and moved["groups"]["store1"]["preferred"] == "node1"
    assert moved["drbd"]["resources"]["r0"]["roles"] == {"node1": "Secondary", "node2": "Primary"}
    assert moved["filesystems"]["store1"]["format_on"] == "node2"
    assert TOPO["groups"]["store1"]["node"] == "node1"  # the input is not changed
    with pytest.raises(ValueError, match="not a service group"):
        topology.placed(TOPO, {"www": "node2"})
    with pytest.raises(ValueError, match="not a node"):
        topology.placed(TOPO, {"store1": "node3"})


# --- a bootstrap re-run follows where groups run -------------------------------------------------

def ids(states):
    return [s["id"] for s in states]


def test_roles_and_group_start_follow_the_placement_so_a_rerun_leaves_a_moved_group_there():
    where = {"store1": "node2", "store2": "node2"}
    assert ids(bootstrap.node_states(TOPO, "roles", "node1", placement=where)) == [
        "hapair-drbd-r0-secondary", "hapair-drbd-r1-secondary", "hapair-orch-roles-node-done"]
    assert ids(bootstrap.node_states(TOPO, "roles", "node2", placement=where)) == [
        "hapair-drbd-r0-primary", "hapair-drbd-r1-primary", "hapair-orch-roles-node-done"]
    assert ids(bootstrap.node_states(TOPO, "group-start", "node1", placement=where)) == [
        "hapair-orch-group-start-node-done"]  # targeted by the plan: nothing to do here now
    assert "hapair-orch-group-store1-lxc-c1-running" in ids(
        bootstrap.node_states(TOPO, "group-start", "node2", placement=where))
    assert ids(bootstrap.node_states(TOPO, "roles", "node1")) == [  # no placement: the pillar's roles
        "hapair-drbd-r0-primary", "hapair-drbd-r1-secondary", "hapair-orch-roles-node-done"]


def test_the_roles_gate_accepts_where_the_groups_run_and_still_fails_a_stray_primary():
    moved = steady()
    moved["drbd"]["node1"][0] = model("r0", "Secondary", "Primary")
    moved["drbd"]["node2"][0] = model("r0", "Primary")
    moved["mounts"] = {"node1": {}, "node2": {**MOUNTED1, **MOUNTED2}}
    assert orchestrate.gate("roles", TOPO, moved).met
    moved["mounts"]["node2"] = dict(MOUNTED2)  # r0 Primary on node2 but store1 mounted nowhere
    result = orchestrate.gate("roles", TOPO, moved)
    assert not result.met and "r0 node1=Primary/node2=Secondary" in result.awaited


# --- the failover node steps --------------------------------------------------------------------

def test_group_stop_stops_containers_then_unmounts_then_demotes_on_this_node():
    states = bootstrap.node_states(TOPO, "group-stop", "node1", groups=["store1"])
    assert ids(states) == ["hapair-orch-group-store1-lxc-c1-stopped", "hapair-orch-group-store1-unmounted",
                           "hapair-drbd-r0-secondary", "hapair-orch-group-stop-node-done"]
    unmount = states[1]
    assert unmount["function"] == "mount.unmounted" and {"device": "/dev/drbd0"} in unmount["args"]
    assert {"require": [{"hapair_lxc": "hapair-orch-group-store1-lxc-c1-stopped"}]} in unmount["args"]
    assert {"require": [{"mount": "hapair-orch-group-store1-unmounted"}]} in states[2]["args"]


def test_group_takeover_promotes_then_mounts_with_this_nodes_device_then_starts_containers():
    states = bootstrap.node_states(TOPO, "group-takeover", "node2", groups=["store2"])
    assert ids(states) == ["hapair-drbd-r1-primary", "hapair-orch-group-store2-mounted",
                           "hapair-orch-group-store2-lxc-c2-present", "hapair-orch-group-store2-lxc-c2-running",
                           "hapair-orch-group-takeover-node-done"]
    mount = states[1]
    assert {"device": "/dev/drbd2"} in mount["args"] and {"persist": False} in mount["args"]
    assert {"require": [{"drbd": "hapair-drbd-r1-primary"}]} in mount["args"]
    assert {"device": "/dev/drbd1"} in bootstrap.node_states(TOPO, "group-takeover", "node1", groups=["store2"])[1]["args"]


@pytest.mark.parametrize("groups,words", [(None, "needs the groups"), ([], "needs the groups"),
                                          (["nope"], "not a service group with a filesystem")])
def test_failover_steps_need_known_groups(groups, words):
    with pytest.raises(ValueError, match=words):
        bootstrap.node_states(TOPO, "group-stop", "node1", groups=groups)


def test_failover_steps_refuse_a_stack_with_a_manager():
    with pytest.raises(ValueError, match="its cluster manager moves its groups"):
        bootstrap.node_states({**TOPO, "cluster": {"stack": "heartbeat"}}, "group-takeover", "node1", groups=["store1"])


def test_the_bootstrap_never_runs_the_failover_steps():
    assert not set(bootstrap.FAILOVER_STEPS) & {s["id"] for s in bootstrap.steps(TOPO)}


# --- the switch plan ----------------------------------------------------------------------------

def observed(seen=None, answer1=True, conn2="Connected", disk2="UpToDate", sb=False):
    seen = seen or steady()
    drbd = {}
    for node in ("node1", "node2"):
        s = orchestrate.summarise(orchestrate.find(seen["drbd"].get(node), "r0"))
        drbd[node] = {"role": s["role"], "disk": s["disk"], "connection": s["connection"], "split_brain": sb}
    drbd["node2"].update(connection=conn2, disk=disk2)
    models, mounts = dict(seen["drbd"]), dict(seen["mounts"])
    if not answer1:
        drbd["node1"] = models["node1"] = mounts["node1"] = None
    return {"drbd": drbd, "models": models, "mounts": mounts, "heartbeat": {}}


def test_switch_stops_on_the_holder_and_starts_on_the_peer_by_default():
    step = failover.plan(TOPO, "r0", None, observed())
    assert {k: step[k] for k in ("action", "group", "from", "to", "stop_on", "forced")} == {
        "action": "switch", "group": "store1", "from": "node1", "to": "node2", "stop_on": "node1", "forced": False}


def test_switch_to_where_it_runs_is_nothing():
    assert failover.plan(TOPO, "store1", "node1", observed())["action"] == "none"


def test_a_group_running_nowhere_needs_the_target_named_and_still_stops_the_other_node():
    seen = steady()
    seen["mounts"]["node1"] = {}
    with pytest.raises(ValueError, match="name the node"):
        failover.plan(TOPO, "store1", None, observed(seen))
    step = failover.plan(TOPO, "store1", "node2", observed(seen))
    assert (step["from"], step["stop_on"]) == (None, "node1")


@pytest.mark.parametrize("kwargs,force,words", [
    ({"disk2": "Inconsistent"}, False, "node2's disk is Inconsistent, not UpToDate"),
    ({"disk2": "Outdated"}, True, "not UpToDate"),
    ({"sb": True}, True, "split brain is pending"),
    ({"conn2": "WFConnection"}, False, "node2 is WFConnection from node1, which answers"),
    ({"answer1": False}, False, "node1 does not answer: the group may still run there"),
    ({"answer1": False, "conn2": "Connected"}, True, "still Connected to node1: node1 is not down"),
    ({"answer1": False, "disk2": "Consistent", "conn2": "WFConnection"}, True, "not UpToDate"),
])
def test_switch_refusals_name_the_resource_and_the_override(kwargs, force, words):
    with pytest.raises(RefusedError) as err:
        failover.plan(TOPO, "r0", "node2", observed(**kwargs), force=force)
    assert words in str(err.value) and "refusing on r0" in str(err.value)


def test_force_is_the_operators_word_that_the_silent_node_is_down():
    step = failover.plan(TOPO, "r0", "node2", observed(answer1=False, conn2="WFConnection"), force=True)
    assert (step["action"], step["stop_on"], step["forced"]) == ("switch", None, True)
    with pytest.raises(RefusedError, match="force=True, once you know it is down"):
        failover.plan(TOPO, "r0", "node2", observed(answer1=False, conn2="WFConnection"))


# --- the runner ---------------------------------------------------------------------------------

class FakeNodes:
    """Both nodes: drbd.report from their state; state.sls of the failover node steps moves r0."""

    def __init__(self, silent=(), fail_step=None):
        self.holder = {"r0": "node1", "r1": "node2"}
        self.connected = True
        self.silent, self.fail_step, self.jobs = set(silent), fail_step, []

    def cmd(self, tgt, fun, **kwargs):
        kw = kwargs.get("kwarg") or {}
        self.jobs.append((sorted(tgt), fun, kw.get("pillar", {}).get("step")))
        out = {}
        for mid in tgt:
            if mid in self.silent:
                continue
            if fun == "state.sls":
                step, group = kw["pillar"]["step"], kw["pillar"]["groups"][0]
                res = TOPO["groups"][group]["resource"]
                ok = step != self.fail_step
                if ok:
                    self.holder[res] = None if step == "group-stop" else mid
                out[mid] = {"ret": {f"mount_|-x_|-/srv_|-{step}": {"__id__": f"hapair-{step}", "result": ok,
                                                                      "comment": "held open" if not ok else "",
                                                                      "__run_num__": 0}},
                            "retcode": 0 if ok else 2}
                continue
            models, mounts = {}, {}
            for res, fs in (("r0", MOUNTED1), ("r1", MOUNTED2)):
                mine = self.holder[res] == mid
                other = self.holder[res] not in (None, mid)
                conn = "Connected" if self.connected else "WFConnection"
                models[res] = model(res, "Primary" if mine else "Secondary",
                                    "Primary" if other and self.connected else ("Unknown" if not self.connected else "Secondary"),
                                    conn)
                if mine:
                    mounts.update(fs)
            out[mid] = {"ret": {"status": {"resources": models}, "mounts": mounts, "split_brain": {}}, "retcode": 0}
        return out


@pytest.fixture
def runner(monkeypatch, tmp_path):
    from conftest import load_runner  # noqa: PLC0415

    mod = load_runner("hapair_switch_under_test", opts={"cachedir": str(tmp_path), "sock_dir": str(tmp_path)})
    monkeypatch.setattr(mod, "_wait_event", lambda seconds: None)
    fired = []
    monkeypatch.setattr(mod, "_fire", lambda tag, data: fired.append((tag, data)))
    mod.fired = fired
    return mod


def test_the_runner_stops_then_takes_over_then_observes_where_it_runs(runner, monkeypatch):
    nodes = FakeNodes()
    monkeypatch.setattr(runner, "_client", lambda: nodes)
    out = runner.failover("lab_crossed", "r0", to="node2", pillar=_pillar())
    assert out["result"] is True and out["runs_on"] == "node2" and out["forced"] is False, out
    assert nodes.jobs == [(["node1", "node2"], "hapair_drbd.report", None), (["node1"], "state.sls", "group-stop"),
                          (["node2"], "state.sls", "group-takeover"), (["node1", "node2"], "hapair_drbd.report", None)]
    back = runner.failover("lab_crossed", "store1", pillar=_pillar())  # default: the other node
    assert back["result"] is True and back["runs_on"] == "node1" and back["from"] == "node2", back
    assert runner.failover_history("lab_crossed")["forced"] == [] and runner.fired == []


def test_a_failed_stop_starts_nothing_on_the_target(runner, monkeypatch):
    nodes = FakeNodes(fail_step="group-stop")
    monkeypatch.setattr(runner, "_client", lambda: nodes)
    out = runner.failover("lab_crossed", "r0", to="node2", pillar=_pillar())
    assert out["result"] is False and "not stopped on node1 (nothing started on node2)" in out["comment"]
    assert "held open" in out["comment"] and [j[2] for j in nodes.jobs if j[1] == "state.sls"] == ["group-stop"]


def test_forcing_past_a_dead_node_is_recorded_with_who_and_when(runner, monkeypatch):
    nodes = FakeNodes(silent={"node1"})
    nodes.connected = False
    monkeypatch.setattr(runner, "_client", lambda: nodes)
    refused = runner.failover("lab_crossed", "r0", to="node2", pillar=_pillar())
    assert refused["result"] is False and "force=True" in refused["comment"]
    assert [j[1] for j in nodes.jobs] == ["hapair_drbd.report"]
    monkeypatch.setenv("SUDO_USER", "alice")
    out = runner.failover("lab_crossed", "r0", to="node2", force=True, pillar=_pillar())
    assert out["result"] is True and out["forced"] is True and out["runs_on"] == "node2", out
    assert [j[2] for j in nodes.jobs if j[1] == "state.sls"] == ["group-takeover"]  # nothing asked of node1
    (record,) = runner.failover_history("lab_crossed")["forced"]
    assert {k: record[k] for k in ("group", "to", "by")} == {"group": "store1", "to": "node2", "by": "alice"}
    assert record["at"].endswith("Z") and runner.fired[0][0] == "hapair/failover/lab_crossed/store1"


def test_a_dry_run_asks_nothing_but_the_report(runner, monkeypatch):
    nodes = FakeNodes()
    monkeypatch.setattr(runner, "_client", lambda: nodes)
    dry = runner.failover("lab_crossed", "r0", to="node2", dry_run=True, pillar=_pillar())
    assert dry["result"] is True and dry["comment"].startswith("dry run: group store1: stopped on node1"), dry
    assert [j[1] for j in nodes.jobs] == ["hapair_drbd.report"]
