"""The bootstrap as data: every example topology in, its ordered steps out (hapair.bootstrap).

The tables are written by hand from the seeds' recipes: what each step runs, on which nodes,
and what each gate waits for. orch.hapair.bootstrap renders exactly these steps. The peer's
connection and the sync are waited for on the nodes (drbd-up ends Connected with the initial sync
started; the first step that changes roles starts with drbd.synced): no gate for them.
"""

import os

import pytest
import yaml
from conftest import ROOT
from hapair import bootstrap, orchestrate, topology
from hapair.errors import ValidationError

PILLARS = sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, "pillar", "hapair")) if f.endswith(".sls"))


def load(name):
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return topology.load(yaml.safe_load(handle), name)


def table(topo, opts=None):
    """One short row per step: ``id kind what`` (targets, condition [resources|filesystems], function)."""
    rows = []
    for step in bootstrap.steps(topo, opts):
        if step["kind"] in ("state", "function"):
            what = ",".join(step["targets"])
        elif step["kind"] == "gate":
            narrow = step["resources"] or step["filesystems"]
            what = step["condition"] + (f" [{','.join(narrow)}]" if narrow else "")
        else:
            what = step["function"]
        rows.append(f"{step['id']} {step['kind']} {what}")
    return rows


DRBD = ["drbd-up state {n}"]
ROLES = ["roles state {n}", "gate-roles gate roles"]
O2CB = ["o2cb state {n}", "gate-o2cb-online gate o2cb_online"]
HEARTBEAT = ("prepare state {p}|heartbeat state {{n}}|gate-groups-running gate groups_running"
             "|canary runner hapair.canary")


def rows(nodes, *parts):
    return [row.format(n=nodes) for part in parts for row in (part.split("|") if isinstance(part, str) else part)]


GROUPS_NONE = ["group-format state node1,node2", "group-start state node1,node2",
               "gate-groups-started gate groups_started"]
EXPECTED = {
    # seed 000: DRBD dual-primary + o2cb + OCFS2, formatted on web1 only
    "web": rows("web1,web2", DRBD, ROLES, O2CB, [
        "mkfs state web1", "mount state web1,web2", "gate-mounted gate mounted [www]", "canary runner hapair.canary"]),
    "lab_web": rows("node1,node2", DRBD, ROLES, O2CB, [
        "mkfs state node1", "mount state node1,node2", "gate-mounted gate mounted [www]", "canary runner hapair.canary"]),
    # seed 001: two dual-primary resources on LVM, OCFS2 each, NFS exports after the mounts
    "fileserver": rows("fiori,torchio", DRBD, ROLES, O2CB, [
        "mkfs state fiori", "mount state fiori,torchio", "gate-mounted gate mounted [ocfs2-large,ocfs2-small]",
        "nfs state fiori,torchio", "canary runner hapair.canary"]),
    "lab_fileserver": rows("node1,node2", DRBD, ROLES, O2CB, [
        "mkfs state node1", "mount state node1,node2", "gate-mounted gate mounted [ocfs2-large,ocfs2-small]",
        "nfs state node1,node2", "canary runner hapair.canary"]),
    # seed 002: heartbeat owns r0's roles after the initial sync: no roles step; the group's node
    # formats and copies the relocated paths once, then heartbeat starts and is observed holding it
    "apache": rows("node01,node02", DRBD, HEARTBEAT.format(p="node01")),
    "lab_apache": rows("node1,node2", DRBD, HEARTBEAT.format(p="node1")),
    # seed 003: r1 syncs from node1 and moves to node2: demoted on node1, observed, then promoted
    # and, with no cluster manager, each group's Btrfs is formatted on its node, mounted there and
    # its containers started; the gate sees each mounted on one node
    "crossed": rows("node1,node2", DRBD, [
        "roles-demote state node1", "gate-demoted gate demoted [r1]"], ROLES, GROUPS_NONE),
    "lab_crossed": rows("node1,node2", DRBD, [
        "roles-demote state node1", "gate-demoted gate demoted [r1]"], ROLES, GROUPS_NONE),
    # seed 004's lab variant: corosync + dlm before GFS2, two resources, two filesystems
    "lab_gfs2": rows("node1,node2", DRBD, ROLES, [
        "corosync state node1,node2", "gate-quorate gate quorate", "dlm state node1,node2", "gate-dlm-up gate dlm_up",
        "mkfs state node1", "mount state node1,node2", "gate-mounted gate mounted [gfs2-00,gfs2-01]",
        "canary runner hapair.canary"]),
    # the remediation lab: two single-primary resources, no filesystem
    "lab_remedy": rows("node1,node2", DRBD, ROLES),
}


def test_every_example_topology_has_a_table():
    assert set(EXPECTED) | {"hardcore"} == set(PILLARS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_steps_of_each_example(name):
    assert table(load(name)) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_step_requires_the_one_before(name):
    got = bootstrap.steps(load(name))
    assert [s["require"] for s in got] == [None] + [s["id"] for s in got[:-1]]


def test_cman_is_refused_before_any_minion_job():
    """seed 004 as committed: stack cman has no bootstrap step; GFS2 would be formatted with no
    stack running and fail to mount. Refused, naming the pillar path and what to use."""
    topo = load("hardcore")
    with pytest.raises(ValidationError) as err:
        bootstrap.steps(topo)
    assert [e.path for e in err.value.errors] == ["hapair:topologies:hardcore:cluster:stack"]
    assert "stack: corosync" in str(err.value)


def test_sync_modules_option_adds_a_first_step_and_timeouts_flow_to_the_gates_and_the_waits():
    got = bootstrap.steps(load("lab_web"), {"sync_modules": True, "sync_timeout": 7200, "gate_timeout": 60})
    assert got[0] == {"id": "sync-modules", "kind": "function", "require": None,
                      "function": "saltutil.sync_all", "targets": ["node1", "node2"]}
    timeouts = {s["condition"]: s["timeout"] for s in got if s["kind"] == "gate"}
    assert timeouts == {"roles": 60, "o2cb_online": 60, "mounted": 60}
    waits = {s["id"]: s["timeouts"] for s in got if "timeouts" in s}
    assert waits == {"drbd-up": {"connect_timeout": 300}, "roles": {"sync_timeout": 7200}}


# the first step after drbd-up that changes roles, on every stack's path: it waits for the sync
SYNC_STEP = {"web": "roles", "lab_web": "roles", "fileserver": "roles", "lab_fileserver": "roles",
             "apache": "prepare", "lab_apache": "prepare", "crossed": "roles-demote", "lab_crossed": "roles-demote",
             "lab_gfs2": "roles", "lab_remedy": "roles"}


def test_every_example_topology_names_its_sync_step():
    assert set(SYNC_STEP) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(SYNC_STEP))
def test_the_connection_and_the_sync_are_waited_for_on_the_nodes(name):
    """drbd-up ends, per resource, Connected then the initial sync; the first step after it (the
    one that changes roles) starts with drbd.synced on each node it runs on, and every other state
    of that step requires every wait; no other step waits for DRBD, no gate observes it."""
    topo = load(name)
    got = bootstrap.steps(topo, {"connect_timeout": 77, "sync_timeout": 7777})
    states = [s for s in got if s["kind"] == "state"]
    assert states[0]["id"] == "drbd-up" and states[1]["id"] == SYNC_STEP[name] == bootstrap.sync_step(topo)
    assert states[0]["timeouts"] == {"connect_timeout": 77} and states[1]["timeouts"] == {"sync_timeout": 7777}
    assert not [s for s in states[2:] if "timeouts" in s]
    assert not {"connected", "synced"} & {s.get("condition") for s in got}
    for node in topo["node_order"]:
        mine = sorted(r for r, spec in topo["drbd"]["resources"].items() if node in spec["nodes"])
        up = bootstrap.node_states(topo, "drbd-up", node, connect_timeout=77)
        assert [s["id"] for s in up][-1 - 2 * len(mine):-1] == [
            f"hapair-drbd-{r}-{link}" for r in mine for link in ("connected", "initial-sync")]
        by_id = {s["id"]: s for s in up}
        for res in mine:
            connected = by_id[f"hapair-drbd-{res}-connected"]
            assert connected["function"] == "drbd.connected"
            assert connected["args"] == [{"name": res}, {"topology": name}, {"timeout": 77},
                                         {"require": [{"drbd": f"hapair-drbd-{res}-up"}]}]
            assert by_id[f"hapair-drbd-{res}-initial-sync"]["args"][-1] == {
                "require": [{"drbd": f"hapair-drbd-{res}-connected"}]}
        first = bootstrap.node_states(topo, states[1]["id"], node, sync_timeout=7777)
        if minion(topo, node) not in states[1]["targets"]:
            assert first == []
            continue
        synced = [f"hapair-drbd-{r}-synced" for r in mine]
        assert [s["id"] for s in first[:len(mine)]] == synced
        assert all(s["function"] == "drbd.synced" and {"timeout": 7777} in s["args"] for s in first[:len(mine)])
        for state in first[len(mine):-1]:   # the step's own states, not its done marker
            requires = [r for arg in state["args"] if "require" in arg for r in arg["require"]]
            assert [r for r in requires if r.get("drbd", "").endswith("-synced")] == [{"drbd": s} for s in synced], state
        for later in states[2:]:
            assert not [s for s in bootstrap.node_states(topo, later["id"], node)
                        if s["function"] in ("drbd.connected", "drbd.synced", "drbd.initial_sync")], later["id"]


def minion(topo, node):
    return topo["nodes"][node]["minion_id"]


def test_a_node_steps_waits_default_to_the_orchestrations_the_formulas_to_the_states():
    topo = load("lab_web")
    by_id = {s["id"]: s for s in bootstrap.node_states(topo, "drbd-up", "node1")}
    assert {"timeout": 300} in by_id["hapair-drbd-r0-connected"]["args"]
    by_id = {s["id"]: s for s in bootstrap.node_states(topo, "roles", "node1")}
    assert {"timeout": 86400} in by_id["hapair-drbd-r0-synced"]["args"]
    by_id = {s["id"]: s for s in bootstrap.node_states(topo, "drbd", "node1")}
    assert not [a for a in by_id["hapair-drbd-r0-connected"]["args"] + by_id["hapair-drbd-r0-synced"]["args"]
                if "timeout" in a]


def test_the_initial_sync_is_no_step_of_its_own_any_more():
    with pytest.raises(ValueError, match="unknown bootstrap step"):
        bootstrap.node_states(load("lab_web"), "initial-sync", "node1")


def test_options_refuse_bad_values_with_their_paths():
    with pytest.raises(ValidationError) as err:
        bootstrap.options({"sync_timeout": "1h", "packages": 1, "sync_modules": None})
    assert sorted(e.path for e in err.value.errors) == [
        "hapair:orchestration:packages", "hapair:orchestration:sync_modules", "hapair:orchestration:sync_timeout"]


def ids(topo, step, node, **kw):
    return [s["id"] for s in bootstrap.node_states(topo, step, node, **kw)]


def test_crossed_roles_move_through_demote_observe_promote():
    topo = load("crossed")
    assert ids(topo, "roles-demote", "node1") == ["hapair-drbd-r0-synced", "hapair-drbd-r1-synced",
                                                 "hapair-drbd-r1-secondary", "hapair-orch-roles-demote-node-done"]
    assert ids(topo, "roles-demote", "node2") == []
    assert ids(topo, "roles", "node2") == ["hapair-drbd-r0-secondary", "hapair-drbd-r1-primary",
                                          "hapair-orch-roles-node-done"]

    def model(name, role):
        return {"name": name, "role": role, "volumes": [{"disk_state": "UpToDate"}],
                "peers": [{"connection_state": "Connected",
                           "volumes": [{"replication_state": "Established", "peer_disk_state": "UpToDate"}]}]}

    after_sync = {"drbd": {"node1": [model("r0", "Primary"), model("r1", "Primary")],
                           "node2": [model("r0", "Secondary"), model("r1", "Secondary")]}}
    assert not orchestrate.gate("demoted", topo, after_sync, ["r1"]).met
    after_sync["drbd"]["node1"][1]["role"] = "Secondary"
    result = orchestrate.gate("demoted", topo, after_sync, ["r1"])
    assert result.met and result.awaited == "r1 Secondary on node1"


def test_lab_fileserver_node_states_bring_lvm_up_before_drbd():
    topo = load("lab_fileserver")
    got = bootstrap.node_states(topo, "drbd-up", "node2")
    assert [s["id"] for s in got] == [
        "hapair-orch-packages-installed", "hapair-orch-kmod-drbd-present", "hapair-sysctl-kernel.panic",
        "hapair-sysctl-vm.min_free_kbytes", "hapair-drbd-lvm-present", "hapair-unison-configured",
        "hapair-drbd-drbd0-configured", "hapair-drbd-drbd1-configured",
        "hapair-drbd-drbd0-metadata-created", "hapair-drbd-drbd0-up",
        "hapair-drbd-drbd1-metadata-created", "hapair-drbd-drbd1-up",
        "hapair-drbd-drbd0-connected", "hapair-drbd-drbd0-initial-sync",
        "hapair-drbd-drbd1-connected", "hapair-drbd-drbd1-initial-sync", "hapair-orch-drbd-up-node-done"]
    by_id = {s["id"]: s for s in got}
    assert by_id["hapair-orch-packages-installed"]["args"] == [
        {"pkgs": ["drbd-utils", "ocfs2-tools", "lvm2", "unison", "nfs-kernel-server"]}]
    assert by_id["hapair-drbd-drbd1-metadata-created"]["args"][-1] == {
        "require": [{"drbd": "hapair-drbd-drbd0-configured"}, {"drbd": "hapair-drbd-drbd1-configured"}]}
    assert by_id["hapair-drbd-lvm-present"]["args"][-1] == {"require": [{"kmod": "hapair-orch-kmod-drbd-present"}]}
    assert by_id["hapair-sysctl-vm.min_free_kbytes"]["function"] == "sysctl.present"   # Salt's own state
    assert by_id["hapair-sysctl-vm.min_free_kbytes"]["args"] == [
        {"name": "vm.min_free_kbytes"}, {"value": "65536"}, {"config": "/etc/sysctl.d/60-hapair-lab_fileserver.conf"},
        {"require": [{"kmod": "hapair-orch-kmod-drbd-present"}]}]
    assert ids(topo, "drbd-up", "node2", with_packages=False)[:3] == [
        "hapair-sysctl-kernel.panic", "hapair-sysctl-vm.min_free_kbytes", "hapair-drbd-lvm-present"]


def test_lab_gfs2_node_states_use_the_nodes_paths():
    topo = load("lab_gfs2")
    paths = {"corosync_conf": "/tmp/c.conf", "corosync_authkey": "/tmp/k", "dlm_conf": "/tmp/dlm.conf"}
    corosync = bootstrap.node_states(topo, "corosync", "node1", paths=paths)
    assert corosync[0]["args"] == [{"name": "/tmp/k"}, {"topology": "lab_gfs2"}]
    assert corosync[1]["args"] == [{"name": "/tmp/c.conf"}, {"topology": "lab_gfs2"}]
    assert bootstrap.node_states(topo, "dlm", "node2", paths=paths)[0]["args"][0] == {"name": "/tmp/dlm.conf"}
    assert bootstrap.node_states(topo, "o2cb", "node1") == []
    assert ids(topo, "mkfs", "node2") == []


def test_the_formula_shares_the_bringup_ids_and_adds_waits_and_the_role():
    topo = load("lab_web")
    formula = ids(topo, "drbd", "node2", overwrite_data=False, connect_timeout=120, sync_timeout=3600)
    shared = [i for i in ids(topo, "drbd-up", "node2") if i.startswith("hapair-drbd-")]
    assert formula[:len(shared)] == shared   # the bring-up, connected and initial-sync: one shape
    assert shared[-2:] == ["hapair-drbd-r0-connected", "hapair-drbd-r0-initial-sync"]
    assert formula[len(shared):] == ["hapair-drbd-r0-synced", "hapair-drbd-r0-dual-primary"]
    by_id = {s["id"]: s for s in bootstrap.node_states(topo, "drbd", "node2", overwrite_data=False,
                                                        connect_timeout=120, sync_timeout=3600)}
    assert {"overwrite_data": False} in by_id["hapair-drbd-r0-metadata-created"]["args"]
    assert by_id["hapair-drbd-r0-connected"]["args"] == [{"name": "r0"}, {"topology": "lab_web"}, {"timeout": 120},
                                                          {"require": [{"drbd": "hapair-drbd-r0-up"}]}]
    assert by_id["hapair-drbd-r0-synced"]["args"] == [{"name": "r0"}, {"topology": "lab_web"}, {"timeout": 3600},
                                                       {"require": [{"drbd": "hapair-drbd-r0-initial-sync"}]}]
    assert by_id["hapair-drbd-r0-dual-primary"]["args"][-1] == {"require": [{"drbd": "hapair-drbd-r0-synced"}]}
    # the orchestration's sync step waits with the same state (id, function) as the formula
    orch = {s["id"]: s for s in bootstrap.node_states(topo, "roles", "node2", sync_timeout=3600)}
    assert orch["hapair-drbd-r0-synced"]["function"] == by_id["hapair-drbd-r0-synced"]["function"]
    assert orch["hapair-drbd-r0-synced"]["args"][:3] == by_id["hapair-drbd-r0-synced"]["args"][:3]


def test_heartbeat_leaves_managed_roles_alone_and_prepares_after_the_sync():
    topo = load("lab_apache")
    assert ids(topo, "drbd", "node1")[-1] == "hapair-drbd-r0-synced"   # the formula: no role for heartbeat's r0
    prepare = bootstrap.node_states(topo, "prepare", "node1")
    assert [s["id"] for s in prepare][0] == "hapair-drbd-r0-synced"
    assert {"drbd": "hapair-drbd-r0-synced"} in prepare[1]["args"][-1]["require"]
    assert bootstrap.node_states(topo, "prepare", "node2") == []


def test_unknown_step_is_refused():
    with pytest.raises(ValueError, match="unknown bootstrap step"):
        bootstrap.node_states(load("web"), "mkfs; rm -rf /", "web1")


def test_fence_devices_are_checked_before_dlm_and_their_agents_installed():
    """Issue 17: each fence agent answers its own status before dlm_controld may rely on it."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    coro = pil["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]
    coro["dlm"]["enable_fencing"] = True
    coro["fencing"] = {
        "fence_devices": {"node1_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.1", "username": "admin",
                                         "password": "Fence-Pw-1"},
                          "node2_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.2", "username": "admin",
                                         "password": "Fence-Pw-1"}},
        "nodes": {"node1": {"fence": [{"method": "ipmi", "devices": [{"name": "node1_ipmi"}]}]},
                  "node2": {"fence": [{"method": "ipmi", "devices": [{"name": "node2_ipmi"}]}]}}}
    topo = topology.load(pil, "lab_gfs2")
    assert bootstrap.packages(topo)[-2:] == ["fence-agents", "ipmitool"]
    got = {s["id"]: s for s in bootstrap.node_states(topo, "dlm", "node1")}
    assert list(got) == ["hapair-orch-dlm-configured", "hapair-orch-fence-checked", "hapair-orch-dlm-running",
                         "hapair-orch-dlm-node-done"]
    assert got["hapair-orch-fence-checked"]["function"] == "hapair_fence.checked"
    assert {"hapair_fence": "hapair-orch-fence-checked"} in got["hapair-orch-dlm-running"]["args"][-1]["require"]
    assert "Fence-Pw-1" not in repr(got)                                 # the state reads it on the node
    coro["dlm"]["enable_fencing"] = False                               # no devices: no check, no agents
    del coro["fencing"]
    plain = topology.load(pil, "lab_gfs2")
    assert "hapair-orch-fence-checked" not in ids(plain, "dlm", "node1")
    assert "fence-agents" not in bootstrap.packages(plain)
    lab = load("lab_gfs2")                                               # the lab's: on, ipmi_sim's BMCs
    assert "hapair-orch-fence-checked" in ids(lab, "dlm", "node1")
    assert bootstrap.packages(lab)[-2:] == ["fence-agents", "ipmitool"]
