"""Service groups (seed 002's haresources lines as data): validation with pillar paths,
normalisation, the bootstrap's ownership rule and the groups_running gate."""

import copy
import os

import pytest
import yaml
from conftest import ROOT
from hapair import bootstrap, orchestrate, topology, validate


def raw():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_apache.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["hapair"]["topologies"]["lab_apache"]


def errors(topo):
    return {e.path.split("lab_apache:", 1)[1]: e.message for e in validate.validate(topo, "lab_apache")}


def test_the_lab_topology_is_valid_and_normalises():
    assert errors(raw()) == {}
    topo = topology.normalise(raw(), "lab_apache")
    assert topo["groups"] == {"www": {
        "name": "www", "node": "node1", "preferred": "node1", "nodes": ["node1", "node2"], "resource": "r0", "filesystem": "data",
        "ip": {"address": "10.99.0.100", "cidr": 24, "interface": "eth1"},
        "relocate": [{"path": "/etc/apache2", "target": "/drbd/etc/apache2"},
                     {"path": "/var/www", "target": "/drbd/var/www"}],
        "services": ["apache2"], "containers": [],
        "canary": {"file": "/var/www/html/hapair-canary.txt", "url_path": "/hapair-canary.txt", "port": 80}}}
    assert topo["filesystems"]["data"]["format_on"] == "node1" and topo["filesystems"]["data"]["mount_on"] == []
    assert topo["drbd"]["resources"]["r0"]["roles"] == {"node1": "Primary", "node2": "Secondary"}
    assert bootstrap.managed_resources(topo) == ["r0"]
    assert "rsync" in bootstrap.packages(topo) and "heartbeat" in bootstrap.packages(topo)


def test_the_group_node_decides_the_steady_primary_and_format_node():
    topo = raw()
    del topo["drbd"]["resources"]["r0"]["primary"]
    topo["groups"]["www"]["node"] = "node2"
    norm = topology.normalise(topo, "lab_apache")
    assert norm["drbd"]["resources"]["r0"]["roles"] == {"node1": "Secondary", "node2": "Primary"}
    assert norm["filesystems"]["data"]["format_on"] == "node2"
    assert norm["groups"]["www"]["nodes"] == ["node2", "node1"]


BAD = [
    # (change, {path: words in the message})
    (lambda t: t["groups"]["www"].update(resource="r9"), {"groups:www:resource": "not a DRBD resource"}),
    (lambda t: t["groups"]["www"].update(node="node3"), {"groups:www:node": "not a node"}),
    (lambda t: t["groups"]["www"]["ip"].update(address="10.99.0.1"), {"groups:www:ip:address": "node's own address"}),
    (lambda t: t["groups"]["www"]["ip"].update(address="10.99.0.255"),
     {"groups:www:ip:address": "broadcast address"}),
    (lambda t: t["groups"]["www"]["ip"].update(cidr=33), {"groups:www:ip:cidr": "out of range"}),
    (lambda t: t["groups"]["www"]["ip"].update(interface="eth1 up"), {"groups:www:ip:interface": "not a valid"}),
    (lambda t: t["groups"]["www"].update(services=["apache2", "IPaddr::1.2.3.4"]),
     {"groups:www:services:1": "not a valid service"}),
    (lambda t: t["groups"]["www"].update(services=["apache2", "apache2"]), {"groups:www:services:1": "twice"}),
    (lambda t: t["groups"]["www"].update(relocate=["/etc"]), {"groups:www:relocate:0": "whole system tree"}),
    (lambda t: t["groups"]["www"].update(relocate=["/var/www", "/var/www/html"]),
     {"groups:www:relocate:1": "overlaps"}),
    (lambda t: t["groups"]["www"].update(relocate=["var/www"]), {"groups:www:relocate:0": "absolute path"}),
    (lambda t: t["filesystems"]["data"].update(mount_on=["node1"]), {"filesystems:data:mount_on": "cluster manager"}),
    (lambda t: t["groups"].update(www2=copy.deepcopy(t["groups"]["www"])), {"groups:www2:resource": "already"}),
    (lambda t: t["drbd"]["resources"]["r0"].update(primary="node2"), {"groups:www:node": "not r0's primary"}),
    (lambda t: t["groups"]["www"].update(colour="red"), {"groups:www:colour": "unknown key"}),
    (lambda t: t["groups"]["www"]["canary"].update(url_path="/x?y=1"), {"groups:www:canary:url_path": "plain URL"}),
    (lambda t: t["groups"]["www"]["canary"].update(url_path="/../etc/passwd"),
     {"groups:www:canary:url_path": "plain URL"}),
    (lambda t: t["groups"]["www"]["canary"].update(file="/var/www/x y"), {"groups:www:canary:file": "not a valid"}),
    (lambda t: t["groups"]["www"]["canary"].update(port=0), {"groups:www:canary:port": "out of range"}),
    (lambda t: t["groups"]["www"].pop("ip"), {"groups:www:canary": "needs the group's ip"}),
    (lambda t: t["cluster"]["heartbeat"].update(resources=[{"node": "node1"}]),
     {"cluster:heartbeat:resources": "moved to the topology's `groups`"}),
    (lambda t: t["cluster"].update(stack="none", heartbeat=None) or t["cluster"].pop("heartbeat"),
     {"groups:www:ip": "stack none does not start a group's ip",
      "groups:www:services": "stack none does not start a group's services"}),
    # containers: only where hapair's runner is the engine, on the group's btrfs filesystem
    (lambda t: t["groups"]["www"].update(containers={"c1": {"template": "busybox"}}),
     {"groups:www:containers": "stack heartbeat does not start a group's containers",
      "groups:www:containers:c1:backing": "btrfs needs a btrfs filesystem; data is ext4"}),
    (lambda t: t["groups"]["www"].update(containers={"c 1": {"template": "busy box", "link": "br0;x",
                                                               "backing": "dir", "lxcpath": "/x"}}),
     {"groups:www:containers:c 1": "container name", "groups:www:containers:c 1:template": "LXC template",
      "groups:www:containers:c 1:link": "bridge name", "groups:www:containers:c 1:backing": "is not allowed",
      "groups:www:containers:c 1:lxcpath": "unknown key"}),
]


@pytest.mark.parametrize("change,expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_groups_are_refused_with_their_pillar_path(change, expected):
    topo = raw()
    change(topo)
    found = errors(topo)
    for path, words in expected.items():
        assert path in found, found
        assert words in found[path], found[path]


def test_every_group_error_at_once():
    topo = raw()
    topo["groups"]["www"].update(resource="r9", node="node3", services=["a b"])
    assert {"groups:www:resource", "groups:www:node", "groups:www:services:0"} <= set(errors(topo))


TOPO = {"name": "t", "node_order": ["node1", "node2"], "nodes": {"node1": {}, "node2": {}},
        "groups": {"www": {"node": "node1"}, "db": {"node": "node2"}}}


@pytest.mark.parametrize("status,held", [
    ({"running": True, "resources": "all"}, ["db", "www"]),
    ({"running": True, "resources": "local"}, ["www"]),
    ({"running": True, "resources": "foreign"}, ["db"]),
    ({"running": True, "resources": "none"}, []),
    ({"running": True, "resources": "transition"}, None),
    ({"running": False, "resources": None}, None),
    (None, None),
])
def test_held_groups_from_rscstatus(status, held):
    assert orchestrate.held_groups(TOPO, "node1", status) == held


@pytest.mark.parametrize("node1,node2,met,holders", [
    ("all", "none", True, {"db": ["node1"], "www": ["node1"]}),
    ("local", "local", True, {"db": ["node2"], "www": ["node1"]}),
    ("none", "all", True, {"db": ["node2"], "www": ["node2"]}),          # after a failover: a re-run accepts it
    ("all", "all", False, {"db": ["node1", "node2"], "www": ["node1", "node2"]}),  # both claim: never "met"
    ("none", "none", False, {"db": [], "www": []}),
    ("transition", "none", False, {"db": [], "www": []}),
])
def test_groups_running_gate(node1, node2, met, holders):
    observed = {"heartbeat": {"node1": {"running": True, "resources": node1},
                              "node2": {"running": True, "resources": node2}}}
    result = orchestrate.gate("groups_running", TOPO, observed)
    assert result.met is met, result.message()
    assert orchestrate.group_holders(TOPO, observed) == holders
    assert "group www running on one node (prefers node1)" in result.awaited


def test_groups_running_gate_names_a_silent_node():
    result = orchestrate.gate("groups_running", TOPO, {"heartbeat": {"node1": {"running": True, "resources": "all"}}})
    assert not result.met and "node2: no answer" in result.seen


def test_bootstrap_never_sets_roles_the_manager_owns():
    topo = topology.normalise(raw(), "lab_apache")
    assert bootstrap.node_states(topo, "roles", "node1") == []
    # the first step after the sync starts with the node's own wait for it (no synced gate)
    assert [s["function"] for s in bootstrap.node_states(topo, "prepare", "node1")] == [
        "drbd.synced", "hapair_fs.prepared", "test.nop"]
    assert bootstrap.node_states(topo, "prepare", "node2") == []
    states = bootstrap.node_states(topo, "heartbeat", "node2")
    assert [s["function"] for s in states] == [
        "service.enabled", "heartbeat.configured", "heartbeat.group_services_disabled", "heartbeat.running", "test.nop"]
    assert states[0]["args"] == [{"name": "drbd"}]  # DRBD up at boot, before heartbeat: drbddisk only promotes
    assert {"service": "hapair-orch-drbd-up-at-boot"} in states[3]["args"][-1]["require"]


def test_the_drbd_formula_leaves_a_group_resource_role_to_heartbeat():
    topo = topology.normalise(raw(), "lab_apache")
    ids = [s["id"] for s in bootstrap.node_states(topo, "drbd", "node1")]
    assert ids[-1] == "hapair-drbd-r0-synced" and not any(i.endswith(("-primary", "-secondary")) for i in ids)


def test_groups_running_gate_on_the_lab_captures():
    """Seen in the lab: with www on node1 *both* nodes answer rscstatus ``local`` (node2 holds its own
    lines, of which there are none), and after node2 left node1 answers ``all``."""
    from hapair import heartbeat  # noqa: PLC0415

    def rsc(name):
        with open(os.path.join(ROOT, "tests", "fixtures", "heartbeat", f"cl_status-rscstatus--3.0.6-{name}.out"),
                  encoding="utf-8") as handle:
            return {"running": True, "resources": heartbeat.parse_rscstatus(handle.read())["resources"]}

    topo = topology.normalise(raw(), "lab_apache")
    running = {"heartbeat": {"node1": rsc("lab-local-holder"), "node2": rsc("lab-local-peer")}}
    assert orchestrate.gate("groups_running", topo, running).met
    assert orchestrate.group_holders(topo, running) == {"www": ["node1"]}
    alone = {"heartbeat": {"node1": rsc("lab-all"), "node2": {"running": False, "resources": None}}}
    assert orchestrate.group_holders(topo, alone) == {"www": ["node1"]}
    assert not orchestrate.gate("groups_running", topo, alone).met  # heartbeat must run on both


def _crossed():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_crossed.sls"), encoding="utf-8") as handle:
        return topology.normalise(yaml.safe_load(handle)["hapair"]["topologies"]["lab_crossed"], "lab_crossed")


@pytest.mark.parametrize("node1,node2,met", [
    ({"/srv/store1": {"fstype": "btrfs"}}, {"/srv/store2": {"fstype": "btrfs"}}, True),
    ({"/srv/store1": {"fstype": "btrfs"}, "/srv/store2": {"fstype": "btrfs"}}, {}, True),   # after a failover
    ({"/srv/store1": {"fstype": "btrfs"}}, {}, False),                                      # store2 nowhere
    ({"/srv/store1": {"fstype": "btrfs"}}, {"/srv/store1": {"fstype": "btrfs"}, "/srv/store2": {}}, False),  # twice
    ({"/srv/store1": {"fstype": "ext4"}}, {"/srv/store2": {"fstype": "btrfs"}}, False),    # another filesystem
    ({"/srv/store1": {"fstype": "btrfs"}}, None, False),                                    # node2 did not answer
])
def test_groups_started_gate_sees_each_group_mounted_on_one_node(node1, node2, met):
    observed = {"mounts": {"node1": node1, **({"node2": node2} if node2 is not None else {})}}
    result = orchestrate.gate("groups_started", _crossed(), observed)
    assert result.met is met, result.seen


def test_stack_none_groups_are_formatted_and_started_by_hapair_which_owns_their_roles():
    topo = _crossed()
    assert bootstrap.managed_resources(topo) == []          # no manager: the roles step sets them
    start = bootstrap.node_states(topo, "group-start", "node2")
    assert [s["function"] for s in start] == ["mount.mounted", "hapair_lxc.present", "hapair_lxc.running", "test.nop"]
    assert {"device": "/dev/drbd2"} in start[0]["args"] and {"persist": False} in start[0]["args"]
    assert {"lxcpath": "/srv/store2/containers"} in start[1]["args"]
    assert {"resource": "r1"} in start[1]["args"] and {"resource": "r1"} in start[2]["args"]  # on r1's device
    assert bootstrap.node_states(topo, "group-format", "node1")[0]["args"] == [{"name": "store1"},
                                                                             {"topology": "lab_crossed"}]
    assert "busybox-static" in bootstrap.packages(topo) and "lxc" in bootstrap.packages(topo)


def test_status_shows_where_each_stack_none_group_is_mounted():
    from hapair import report
    topo = _crossed()
    mounts = {"node1": {"/srv/store1": {"fstype": "btrfs"}, "/srv/store2": {"fstype": "btrfs"}}, "node2": {}}
    got = {(r["resource"], r["node"]): r["group"] for r in report.rows(topo, {"node1": [], "node2": []}, mounts, {}, {})}
    assert got == {("r0", "node1"): "store1", ("r0", "node2"): None, ("r1", "node1"): "store2", ("r1", "node2"): None}
