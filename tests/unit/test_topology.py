"""hapair.topology / hapair.validate: the example pillars, normalisation, and one table row per check."""

from __future__ import annotations

import copy
import glob
import json
import os

import pytest
import yaml
from conftest import ROOT
from hapair import topology
from hapair.errors import ValidationError
from hapair.validate import validate

PILLAR_DIR = os.path.join(ROOT, "pillar")
SEED_FILES = sorted(glob.glob(os.path.join(PILLAR_DIR, "hapair", "*.sls")))
EXPECTED_TOPOLOGIES = {"web", "fileserver", "apache", "crossed", "hardcore", "lab_web", "lab_fileserver", "lab_gfs2", "lab_remedy",
                       "lab_apache", "lab_crossed"}


def read_pillar(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def all_pillars() -> dict:
    merged: dict = {"hapair": {"topologies": {}}}
    for path in SEED_FILES:
        merged["hapair"]["topologies"].update(topology.topologies(read_pillar(path)))
    return merged


PILLAR = all_pillars()


def raw(name: str) -> dict:
    return copy.deepcopy(PILLAR["hapair"]["topologies"][name])


def base() -> dict:
    """A small valid topology the table rows mutate (seed 000 on two nodes)."""
    return {
        "nodes": {"web1": {"hostname": "web1.lowend.party", "address": "1.1.1.1"},
                  "web2": {"hostname": "web2.lowend.party", "address": "2.2.2.2"}},
        "drbd": {"resources": {
            "r0": {"minor": 0, "port": 7788, "disk": "/dev/sdc1", "mode": "dual-primary",
                   "cram_hmac_alg": "sha1", "shared_secret": "secret"},
            "r1": {"minor": 1, "port": 7789, "disk": "/dev/sdd1", "primary": "web1"},
        }},
        "filesystems": {"www": {"resource": "r0", "type": "ocfs2", "mountpoint": "/var/www"},
                        "data": {"resource": "r1", "type": "ext4", "mountpoint": "/data"}},
        "cluster": {"stack": "o2cb", "name": "webcluster"},
    }


# -- example pillars ---------------------------------------------------------------------------------
def test_every_example_pillar_is_listed_in_top_and_holds_its_topology():
    top = read_pillar(os.path.join(PILLAR_DIR, "top.sls"))
    listed = set(top["base"]["*"])
    files = {"hapair." + os.path.basename(p)[: -len(".sls")] for p in SEED_FILES}
    assert listed == files
    assert set(topology.names(PILLAR)) == EXPECTED_TOPOLOGIES
    for path in SEED_FILES:  # one topology per file, named like the file
        assert topology.names(read_pillar(path)) == [os.path.basename(path)[: -len(".sls")]]


@pytest.mark.parametrize("name", sorted(EXPECTED_TOPOLOGIES))
def test_example_pillar_validates_and_normalises(name):
    assert [str(e) for e in validate(raw(name), name)] == []
    topo = topology.load(PILLAR, name)
    json.dumps(topo)  # plain data only
    assert topo["name"] == name and topo["path"] == f"hapair:topologies:{name}"
    assert len(topo["node_order"]) == 2 and set(topo["nodes"]) == set(topo["node_order"])
    for res in topo["drbd"]["resources"].values():
        assert set(res["nodes"]) == set(topo["node_order"])
        assert set(res["sections"]) == {"net", "disk", "startup", "options", "handlers"}
        if res["shared_secret"]:
            assert res["shared_secret"] in topo["secrets"]


def test_pillar_example_validates():
    example = read_pillar(os.path.join(ROOT, "pillar.example"))
    for name in topology.names(example):
        assert [str(e) for e in validate(topology.topologies(example)[name], name)] == []
        topology.load(example, name)


def test_seed_000_web_values():
    topo = topology.load(PILLAR, "web")
    r0 = topo["drbd"]["resources"]["r0"]
    assert topo["nodes"]["web1"]["hostname"] == "web1.lowend.party"
    assert r0["nodes"]["web2"] == {"minor": 0, "device": "/dev/drbd0", "disk": "/dev/sdc1",
                                   "meta_disk": "internal", "address": "2.2.2.2", "port": 7788}
    assert (r0["mode"], r0["primary"], r0["initial_primary"], r0["initial_sync"]) == \
        ("dual-primary", None, "web1", "full")
    assert (r0["after_sb_0pri"], r0["after_sb_1pri"], r0["after_sb_2pri"]) == \
        ("discard-zero-changes", "discard-secondary", "disconnect")
    assert topo["secrets"] == ["secret"]
    assert topo["drbd"]["global"] == {"usage-count": "yes"}


def test_seed_003_crossed_per_node_devices():
    topo = topology.load(PILLAR, "crossed")
    r1 = topo["drbd"]["resources"]["r1"]
    assert r1["nodes"]["node1"]["device"] == "/dev/drbd1"
    assert r1["nodes"]["node2"]["device"] == "/dev/drbd2"
    assert (r1["primary"], r1["initial_primary"]) == ("node2", "node1")
    assert topo["filesystems"]["store2"]["devices"] == {"node1": "/dev/drbd1", "node2": "/dev/drbd2"}
    # each is its group's: formatted on the group's node, mounted where the group runs, never at boot
    assert topo["filesystems"]["store2"]["mount_on"] == [] and topo["filesystems"]["store2"]["format_on"] == "node2"
    assert topo["filesystems"]["store1"]["mount_on"] == [] and topo["filesystems"]["store1"]["format_on"] == "node1"
    assert topo["groups"]["store1"]["containers"] == [{"name": "mysql", "template": "ubuntu", "backing": "btrfs",
                                                        "link": "br0", "lxcpath": "/srv/store1/containers"}]
    assert topo["filesystems"]["store2"]["format_on"] == "node2"  # where it is mounted, not r1's initial_primary


def test_seed_004_per_node_address_override_and_cman_secrets():
    topo = topology.load(PILLAR, "hardcore")
    r1 = topo["drbd"]["resources"]["r1"]
    assert [r1["nodes"][n]["address"] for n in topo["node_order"]] == ["10.0.1.1", "10.0.1.2"]
    assert topo["drbd"]["resources"]["r0"]["nodes"]["core-02"]["address"] == "10.0.0.2"
    assert topo["drbd"]["resources"]["r0"]["sections"]["disk"] == {"on-io-error": "detach", "resync-rate": "100M"}
    cman = topo["cluster"]["cman"]
    assert cman["nodes"]["core-02"]["nodeid"] == 2
    assert len(cman["vms"]) == 6
    assert set(topo["secrets"]) == {"123456", "ipmi-secret-core-01", "ipmi-secret-core-02"}
    assert topo["filesystems"]["gfs2-01"]["lock_table"] == "hardcore:gfs2-01"


def test_seed_002_heartbeat_defaults_and_secret():
    topo = topology.load(PILLAR, "apache")
    hb = topo["cluster"]["heartbeat"]
    assert hb["authkeys"] == {"index": 1, "method": "sha1", "key": "your_super_secure_password"}
    assert hb["udpport"] == 697 and hb["auto_failback"] == "off"
    assert topo["secrets"] == ["your_super_secure_password"]
    assert topo["filesystems"]["data"]["mount_on"] == []


def test_lab_fileserver_lvm():
    topo = topology.load(PILLAR, "lab_fileserver")
    assert topo["lvm"]["vg0"]["lvs"]["rep-drbd1"] == {"name": "rep-drbd1", "size": "2200M",
                                                      "path": "/dev/vg0/rep-drbd1", "filesystem": None}
    assert topo["drbd"]["resources"]["drbd1"]["nodes"]["node1"]["disk"] == "/dev/vg0/rep-drbd1"


@pytest.mark.parametrize("size,ok", [("100M", False), ("2G", False), ("2048", False), ("2049M", True),
                                     ("2200M", True), ("3g", True), ("100%FREE", True)])
def test_vmstore_needs_two_gib_of_lv(size, ok):
    """mkfs.ocfs2 1.8.7 refuses -T vmstore under 2 GiB; the validator says so before any command runs."""
    raw = copy.deepcopy(PILLAR["hapair"]["topologies"]["lab_fileserver"])
    raw["lvm"]["vg0"]["lvs"]["rep-drbd1"] = size
    errors = [str(e) for e in validate(raw, "lab_fileserver")]
    path = "hapair:topologies:lab_fileserver:filesystems:ocfs2-large:mkfs_type"
    if ok:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith(path), errors
        assert "/dev/vg0/rep-drbd1" in errors[0] and "2049M" in errors[0] and "mail" in errors[0], errors
    raw["filesystems"]["ocfs2-large"]["mkfs_type"] = "mail"  # the other types have no such floor
    assert validate(raw, "lab_fileserver") == []


# -- normalise defaults ------------------------------------------------------------------------------
def test_defaults_filled():
    topo = topology.normalise(base(), "t")
    assert [topo["nodes"][n]["node_id"] for n in topo["node_order"]] == [0, 1]
    assert [topo["nodes"][n]["cluster_node_id"] for n in topo["node_order"]] == [1, 2]
    assert topo["nodes"]["web1"]["minion_id"] == "web1"
    assert topo["nodes"]["web1"]["cluster_address"] == "1.1.1.1"
    r1 = topo["drbd"]["resources"]["r1"]
    assert (r1["protocol"], r1["mode"], r1["primary"], r1["initial_primary"], r1["initial_sync"]) == \
        ("C", "single-primary", "web1", "web1", "full")
    assert r1["remediation"]["split_brain"] == "manual" and r1["remediation"]["victim"] is None
    assert topo["filesystems"]["www"]["mount_on"] == ["web1", "web2"]
    assert topo["filesystems"]["www"]["mount_options"] == ["_netdev"]
    assert topo["filesystems"]["www"]["format_on"] == "web1"
    assert topo["filesystems"]["data"]["mount_on"] == ["web1"]
    assert topo["cluster"]["o2cb"]["port"] == 7777
    assert topo["drbd"]["dialect"] == "auto"


def test_explicit_ids_are_kept_and_defaults_avoid_them():
    topo_raw = base()
    topo_raw["nodes"]["web2"]["node_id"] = 0
    topo_raw["nodes"]["web2"]["cluster_node_id"] = 1
    topo = topology.normalise(topo_raw, "t")
    assert topo["nodes"]["web1"]["node_id"] == 1 and topo["nodes"]["web1"]["cluster_node_id"] == 2


def test_yaml_booleans_in_drbd_options_become_yes_no():
    topo_raw = base()
    topo_raw["drbd"]["global"] = {"usage-count": False}
    topo_raw["drbd"]["resources"]["r1"]["disk_section"] = {"disk-barrier": False, "md-flushes": True}
    topo = topology.normalise(topo_raw, "t")
    assert topo["drbd"]["global"] == {"usage-count": "no"}
    assert topo["drbd"]["resources"]["r1"]["sections"]["disk"] == {"disk-barrier": "no", "md-flushes": "yes"}


def test_discard_node_is_rendered_with_the_hostname():
    topo_raw = base()
    topo_raw["drbd"]["resources"]["r1"]["after_sb_0pri"] = "discard-node-web2"
    topo = topology.normalise(topo_raw, "t")
    assert topo["drbd"]["resources"]["r1"]["after_sb_0pri"] == "discard-node-web2.lowend.party"


def test_dialect_yaml_float():
    topo_raw = base()
    topo_raw["drbd"]["dialect"] = 8.4
    assert validate(topo_raw, "t") == []
    assert topology.normalise(topo_raw, "t")["drbd"]["dialect"] == "8.4"


def test_corosync_token_lands_in_totem():
    topo = topology.load(PILLAR, "lab_gfs2")
    assert topo["cluster"]["corosync"]["totem"]["token"] == 3000
    assert topo["cluster"]["corosync"]["two_node"] is True


# -- load / names / for_minion -----------------------------------------------------------------------
def test_load_raises_every_error_at_once():
    pillar = {"hapair": {"topologies": {"t": base()}}}
    pillar["hapair"]["topologies"]["t"]["drbd"]["resources"]["r1"]["port"] = 7788
    pillar["hapair"]["topologies"]["t"]["nodes"]["web2"]["address"] = "2.2.2.300"
    with pytest.raises(ValidationError) as info:
        topology.load(pillar, "t")
    paths = {e.path for e in info.value.errors}
    assert "hapair:topologies:t:drbd:resources:r1:port" in paths
    assert "hapair:topologies:t:nodes:web2:address" in paths


def test_load_unknown_topology_names_the_known_ones():
    with pytest.raises(ValidationError, match="known topologies: apache, crossed"):
        topology.load(PILLAR, "nope")


def test_names_tolerates_garbage():
    assert topology.names(None) == [] and topology.names({"hapair": []}) == []
    assert topology.names({"hapair": {"topologies": {"b": {}, "a": {}}}}) == ["a", "b"]


def test_for_minion():
    assert [(t["name"], n) for t, n in topology.for_minion(PILLAR, "node2")] == \
        [("crossed", "node2"), ("lab_apache", "node2"), ("lab_crossed", "node2"), ("lab_fileserver", "node2"), ("lab_gfs2", "node2"), ("lab_remedy", "node2"),
         ("lab_web", "node2")]
    assert [(t["name"], n) for t, n in topology.for_minion(PILLAR, "torchio")] == [("fileserver", "torchio")]
    assert topology.for_minion(PILLAR, "stranger") == []


def test_for_minion_uses_minion_id_not_the_key():
    topo_raw = base()
    topo_raw["nodes"]["web1"]["minion_id"] = "m-web1"
    pillar = {"hapair": {"topologies": {"t": topo_raw}}}
    assert [n for _, n in topology.for_minion(pillar, "m-web1")] == ["web1"]
    assert topology.for_minion(pillar, "web1") == []


def test_for_minion_raises_on_an_invalid_topology_of_that_minion():
    topo_raw = base()
    topo_raw["drbd"]["resources"]["r1"]["port"] = 7788
    pillar = {"hapair": {"topologies": {"bad": topo_raw, "ok": raw("lab_web")}}}
    with pytest.raises(ValidationError, match="r1:port"):
        topology.for_minion(pillar, "web2")
    assert [t["name"] for t, _ in topology.for_minion(pillar, "node1")] == ["ok"]


def test_filesystem_by_drbd_device_counts_as_on_the_resource():
    topo_raw = base()
    topo_raw["filesystems"]["www"] = {"device": "/dev/drbd0", "type": "ocfs2", "mountpoint": "/var/www"}
    assert validate(topo_raw, "t") == []
    assert topology.normalise(topo_raw, "t")["filesystems"]["www"]["resource"] == "r0"
    topo_raw["filesystems"]["www"]["type"] = "xfs"
    assert any(e.path.endswith("filesystems:www:type") for e in validate(topo_raw, "t"))


def test_null_means_unset():
    topo_raw = base()
    topo_raw["drbd"]["resources"]["r1"]["mode"] = None
    topo_raw["drbd"]["resources"]["r1"]["protocol"] = None
    assert validate(topo_raw, "t") == []
    r1 = topology.normalise(topo_raw, "t")["drbd"]["resources"]["r1"]
    assert (r1["mode"], r1["protocol"]) == ("single-primary", "C")
    topo_raw["drbd"]["resources"]["r1"]["minor"] = None
    assert [e.path for e in validate(topo_raw, "t")] == ["hapair:topologies:t:drbd:resources:r1:minor"]


def test_conflicts_between_topologies_of_one_minion():
    for minion in ("web1", "web2", "fiori", "torchio", "node01", "node02", "core-01", "core-02"):
        assert topology.conflicts(PILLAR, minion) == [], minion
    clashes = topology.conflicts(PILLAR, "node1")  # crossed + the three lab topologies share node1
    texts = [str(e) for e in clashes]
    assert "hapair:topologies:lab_fileserver:drbd:resources:drbd0:minor: minor 0 on node1 is also used by " \
        "topology crossed (apply only one of them, or change one; the other is " \
        "hapair:topologies:crossed:drbd:resources:r0:minor)" in texts
    assert any(e.path == "hapair:topologies:lab_web:drbd:resources:r0:disk" and "lab_apache" in e.message
               for e in clashes)
    assert any(e.path == "hapair:topologies:lab_web:cluster:stack" for e in clashes)


def test_no_conflicts_between_disjoint_topologies_of_one_minion():
    one, two = base(), base()
    two["drbd"]["resources"] = {"r7": {"minor": 7, "port": 7797, "disk": "/dev/sdz1", "primary": "web2"}}
    two["filesystems"] = {}
    two["cluster"] = {"stack": "none"}
    pillar = {"hapair": {"topologies": {"one": one, "two": two}}}
    assert topology.conflicts(pillar, "web1") == []
    two["drbd"]["resources"]["r7"]["port"] = 7788
    assert [e.path for e in topology.conflicts(pillar, "web1")] == [
        "hapair:topologies:two:drbd:resources:r7:port"]


def test_the_issue_example_message():
    topo_raw = base()
    topo_raw["drbd"]["resources"]["r1"]["port"] = 7788
    messages = [f"{e.path}: {e.message}" for e in validate(topo_raw, "web")]
    assert "hapair:topologies:web:drbd:resources:r1:port: 7788 is already used by r0 on web1" in messages


# -- one row per check: (mutation, expected path below hapair:topologies:t, words in the message) ----
def _walk(topo, keys):
    node = topo
    for key in keys:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    return node


def _set(path: str, value):
    def mutate(topo):
        keys = path.split(":")
        node = _walk(topo, keys[:-1])
        node[int(keys[-1]) if isinstance(node, list) else keys[-1]] = value
    return mutate


def _del(path: str):
    def mutate(topo):
        keys = path.split(":")
        del _walk(topo, keys[:-1])[keys[-1]]
    return mutate


def _third_node(topo):
    topo["nodes"]["web3"] = {"address": "3.3.3.3"}


def _one_node(topo):
    del topo["nodes"]["web2"]


def _crossed_pair(topo):
    topo["filesystems"]["www"]["type"] = "ext4"
    topo["drbd"]["resources"]["r0"] = {"minor": 0, "port": 7788, "disk": "/dev/sdc1", "mode": "crossed",
                                       "primary": "web1"}
    topo["drbd"]["resources"]["r1"].update(mode="crossed", primary="web1")
    topo["filesystems"]["www"]["mount_on"] = ["web1"]


ROWS = [
    # nodes
    ("three nodes", _third_node, "nodes", "exactly two nodes"),
    ("one node", _one_node, "nodes", "exactly two nodes"),
    ("nodes not a mapping", _set("nodes", ["web1", "web2"]), "nodes", "must be a mapping"),
    ("duplicate address", _set("nodes:web2:address", "1.1.1.1"), "nodes:web2:address", "already used by node web1"),
    ("duplicate hostname", _set("nodes:web2:hostname", "web1.lowend.party"), "nodes:web2:hostname", "already used"),
    ("duplicate minion id", _set("nodes:web2:minion_id", "web1"), "nodes:web2:minion_id", "already used"),
    ("duplicate node id", lambda t: (_set("nodes:web1:node_id", 1)(t), _set("nodes:web2:node_id", 1)(t)),
     "nodes:web2:node_id", "already used"),
    ("duplicate cluster node id", lambda t: (_set("nodes:web1:cluster_node_id", 2)(t),
                                             _set("nodes:web2:cluster_node_id", 2)(t)),
     "nodes:web2:cluster_node_id", "already used"),
    ("bad ipv4", _set("nodes:web2:address", "2.2.2.300"), "nodes:web2:address", "not a valid IPv4 or IPv6"),
    ("bad ipv6", _set("nodes:web2:address", "fd00::g"), "nodes:web2:address", "not a valid"),
    ("address not a string", _set("nodes:web2:address", 12), "nodes:web2:address", "not a valid"),
    ("missing address", _del("nodes:web2:address"), "nodes:web2:address", "is required"),
    ("mixed families", _set("nodes:web2:address", "fd00::2"), "nodes:web2:address", "mixes IPv4 and IPv6"),
    ("node id out of range", _set("nodes:web1:node_id", 32), "nodes:web1:node_id", "out of range"),
    ("bad cluster address", _set("nodes:web1:cluster_address", "10.0.0"), "nodes:web1:cluster_address", "not a valid"),
    ("unknown node key", _set("nodes:web1:adress", "1.1.1.1"), "nodes:web1:adress", "did you mean `address`"),
    # drbd resources
    ("port zero", _set("drbd:resources:r1:port", 0), "drbd:resources:r1:port", "out of range 1..65535"),
    ("port too big", _set("drbd:resources:r1:port", 65536), "drbd:resources:r1:port", "out of range"),
    ("port as string", _set("drbd:resources:r1:port", "7789"), "drbd:resources:r1:port", "must be an integer"),
    ("port missing", _del("drbd:resources:r1:port"), "drbd:resources:r1:port", "is required"),
    ("duplicate port", _set("drbd:resources:r1:port", 7788), "drbd:resources:r1:port", "7788 is already used by r0 on web1"),
    ("duplicate per-node port", _set("drbd:resources:r1:nodes", {"web2": {"port": 7788}}),
     "drbd:resources:r1:nodes:web2:port", "already used by r0 on web2"),
    ("duplicate minor", _set("drbd:resources:r1:minor", 0), "drbd:resources:r1:minor", "minor 0 is already used by r0"),
    ("duplicate per-node minor", _set("drbd:resources:r1:nodes", {"web2": {"minor": 0}}),
     "drbd:resources:r1:nodes:web2:minor", "already used by r0 on web2"),
    ("duplicate disk", _set("drbd:resources:r1:disk", "/dev/sdc1"), "drbd:resources:r1:disk", "backing disk /dev/sdc1"),
    ("minor missing", _del("drbd:resources:r1:minor"), "drbd:resources:r1:minor", "is required"),
    ("minor negative", _set("drbd:resources:r1:minor", -1), "drbd:resources:r1:minor", "out of range"),
    ("device/minor mismatch", _set("drbd:resources:r1:device", "/dev/drbd5"), "drbd:resources:r1:device",
     "does not match minor 1"),
    ("relative device", _set("drbd:resources:r1:device", "drbd1"), "drbd:resources:r1:device", "not an absolute path"),
    ("relative disk", _set("drbd:resources:r1:disk", "sdd1"), "drbd:resources:r1:disk", "not an absolute path"),
    ("relative per-node disk", _set("drbd:resources:r1:nodes", {"web1": {"disk": "sdd1"}}),
     "drbd:resources:r1:nodes:web1:disk", "not an absolute path"),
    ("no disk", _del("drbd:resources:r1:disk"), "drbd:resources:r1:disk", "no backing disk"),
    ("relative meta disk", _set("drbd:resources:r1:meta_disk", "sde1"), "drbd:resources:r1:meta_disk", "absolute"),
    ("protocol D", _set("drbd:resources:r1:protocol", "D"), "drbd:resources:r1:protocol", "'D' is not allowed"),
    ("mode typo", _set("drbd:resources:r1:mode", "dual-primaries"), "drbd:resources:r1:mode", "did you mean `dual-primary`"),
    ("initial sync bogus", _set("drbd:resources:r1:initial_sync", "fast"), "drbd:resources:r1:initial_sync", "not allowed"),
    ("after-sb-0pri bogus", _set("drbd:resources:r1:after_sb_0pri", "discard-secondary"),
     "drbd:resources:r1:after_sb_0pri", "not allowed"),
    ("after-sb-0pri unknown node", _set("drbd:resources:r1:after_sb_0pri", "discard-node-web9"),
     "drbd:resources:r1:after_sb_0pri", "not allowed"),
    ("after-sb-1pri bogus", _set("drbd:resources:r1:after_sb_1pri", "discard-zero-changes"),
     "drbd:resources:r1:after_sb_1pri", "not allowed"),
    ("after-sb-2pri bogus", _set("drbd:resources:r1:after_sb_2pri", "discard-secondary"),
     "drbd:resources:r1:after_sb_2pri", "not allowed"),
    ("dialect bogus", _set("drbd:dialect", "8.3"), "drbd:dialect", "not allowed"),
    ("primary not a node", _set("drbd:resources:r1:primary", "web3"), "drbd:resources:r1:primary", "not a node"),
    ("initial primary not a node", _set("drbd:resources:r1:initial_primary", "Web1"),
     "drbd:resources:r1:initial_primary", "did you mean `web1`"),
    ("dual-primary with primary", _set("drbd:resources:r0:primary", "web1"), "drbd:resources:r0:primary",
     "does not apply to dual-primary"),
    ("dual-primary with ext4", _set("filesystems:www:type", "ext4"), "filesystems:www:type",
     "ext4 cannot live on dual-primary"),
    ("dual-primary without fs", _del("filesystems:www"), "drbd:resources:r0:mode", "needs a cluster filesystem"),
    ("non-cluster fs on both nodes", _set("filesystems:data:mount_on", ["web1", "web2"]), "filesystems:data:mount_on",
     "never mount it on both nodes"),
    ("non-cluster fs on the secondary", _set("filesystems:data:mount_on", ["web2"]), "filesystems:data:mount_on",
     "not the primary"),
    ("crossed without primary", lambda t: (_crossed_pair(t), _del("drbd:resources:r1:primary")(t)),
     "drbd:resources:r1:primary", "is required for a crossed"),
    ("crossed all on one node", _crossed_pair, "drbd:resources:r0:primary", "a primary on each node"),
    ("secret without alg", _del("drbd:resources:r0:cram_hmac_alg"), "drbd:resources:r0:cram_hmac_alg",
     "required when shared_secret"),
    ("alg without secret", _del("drbd:resources:r0:shared_secret"), "drbd:resources:r0:shared_secret",
     "required when cram_hmac_alg"),
    ("alg bogus", _set("drbd:resources:r0:cram_hmac_alg", "sha2"), "drbd:resources:r0:cram_hmac_alg", "not allowed"),
    ("secret too long", _set("drbd:resources:r0:shared_secret", "x" * 65), "drbd:resources:r0:shared_secret",
     "at most 63"),
    ("secret empty", _set("drbd:resources:r0:shared_secret", ""), "drbd:resources:r0:shared_secret", "non-empty"),
    ("shared-secret hidden in net", _set("drbd:resources:r1:net", {"shared-secret": "x"}),
     "drbd:resources:r1:net:shared-secret", "first-class key"),
    ("allow-two-primaries in net", _set("drbd:resources:r1:net", {"allow-two-primaries": "yes"}),
     "drbd:resources:r1:net:allow-two-primaries", "first-class key"),
    ("nested value in section", _set("drbd:resources:r1:startup", {"wfc-timeout": [1]}),
     "drbd:resources:r1:startup:wfc-timeout", "single value"),
    ("unknown common section", _set("drbd:common:syncer", {"rate": "10M"}), "drbd:common:syncer", "unknown key"),
    ("unknown resource key", _set("drbd:resources:r1:after-sb-0pri", "disconnect"), "drbd:resources:r1:after-sb-0pri",
     "did you mean `after_sb_0pri`"),
    ("override for a stranger", _set("drbd:resources:r1:nodes", {"web9": {"disk": "/dev/sdz"}}),
     "drbd:resources:r1:nodes:web9", "not a node"),
    ("no resources", _set("drbd:resources", {}), "drbd:resources", "no resource"),
    ("remediation victim missing", _set("drbd:resources:r1:remediation", {"split_brain": "victim"}),
     "drbd:resources:r1:remediation:victim", "is required"),
    ("remediation victim not a node", _set("drbd:resources:r1:remediation", {"split_brain": "victim", "victim": "x"}),
     "drbd:resources:r1:remediation:victim", "not a node"),
    ("remediation policy bogus", _set("drbd:resources:r1:remediation", {"split_brain": "auto"}),
     "drbd:resources:r1:remediation:split_brain", "not allowed"),
    ("remediation bool", _set("drbd:resources:r1:remediation", {"reconnect": "yes"}),
     "drbd:resources:r1:remediation:reconnect", "true or false"),
    # filesystems
    ("fs type bogus", _set("filesystems:data:type", "zfs"), "filesystems:data:type", "not allowed"),
    ("fs on unknown resource", _set("filesystems:data:resource", "r9"), "filesystems:data:resource",
     "not a DRBD resource"),
    ("two fs on one resource", _set("filesystems:more", {"resource": "r1", "type": "ext4"}), "filesystems:more:resource",
     "already carries"),
    ("relative mountpoint", _set("filesystems:data:mountpoint", "data"), "filesystems:data:mountpoint", "absolute"),
    ("duplicate mountpoint", _set("filesystems:data:mountpoint", "/var/www"), "filesystems:data:mountpoint",
     "already used by www"),
    ("format_on stranger", _set("filesystems:www:format_on", "web3"), "filesystems:www:format_on", "not a node"),
    ("mount_on stranger", _set("filesystems:www:mount_on", ["web1", "web3"]), "filesystems:www:mount_on:1", "not a node"),
    ("mkfs_type on ext4", _set("filesystems:data:mkfs_type", "mail"), "filesystems:data:mkfs_type", "only for ocfs2"),
    ("mkfs_type bogus", _set("filesystems:www:mkfs_type", "email"), "filesystems:www:mkfs_type", "did you mean `mail`"),
    ("slots too few", _set("filesystems:www:slots", 1), "filesystems:www:slots", "1 slot(s) for 2"),
    ("mount options not a list", _set("filesystems:www:mount_options", "noatime"), "filesystems:www:mount_options",
     "list of strings"),
    ("ocfs2 without o2cb", _set("cluster:stack", "none"), "cluster:stack", "needs stack o2cb"),
    # cluster
    ("stack bogus", _set("cluster:stack", "pacemaker"), "cluster:stack", "not allowed"),
    ("o2cb name too long", _set("cluster:name", "a_very_long_cluster_name"), "cluster:name", "1-16"),
    ("o2cb name bad chars", _set("cluster:name", "web-cluster"), "cluster:name", "1-16 letters, digits or '_'"),
    ("o2cb port bogus", _set("cluster:o2cb", {"port": 70000}), "cluster:o2cb:port", "out of range"),
    ("o2cb unknown key", _set("cluster:o2cb", {"heartbeat_treshold": 31}), "cluster:o2cb:heartbeat_treshold",
     "did you mean `heartbeat_threshold`"),
    ("section for another stack", _set("cluster:cman", {}), "cluster:cman", "stack is o2cb"),
    ("unknown top-level key", _set("cluser", {}), "cluser", "did you mean `cluster`"),
    # nfs / lvm
    ("export path relative", _set("nfs", {"exports": [{"path": "vol"}]}), "nfs:exports:0:path", "absolute"),
    ("export options string", _set("nfs", {"exports": [{"path": "/vol", "options": "rw"}]}), "nfs:exports:0:options",
     "list of strings"),
    ("lvm size bogus", _set("lvm", {"vg0": {"pvs": ["/dev/vdc"], "lvs": {"lv": "lots"}}}), "lvm:vg0:lvs:lv",
     "not valid"),
    ("lvm empty pvs", _set("lvm", {"vg0": {"pvs": [], "lvs": {"lv": "1G"}}}), "lvm:vg0:pvs", "non-empty list"),
]


@pytest.mark.parametrize("label,mutate,path,words", ROWS, ids=[row[0] for row in ROWS])
def test_each_check(label, mutate, path, words):
    topo = base()
    assert validate(topo, "t") == []
    mutate(topo)
    errors = validate(topo, "t")
    full = f"hapair:topologies:t:{path}"
    matching = [e for e in errors if e.path == full]
    assert matching, f"{label}: no error at {full}; got {[str(e) for e in errors]}"
    assert any(words in str(e) for e in matching), [str(e) for e in matching]
    assert all(e.hint for e in errors), [str(e) for e in errors if not e.hint]


# -- stack-specific rows on the seed pillars ---------------------------------------------------------
STACK_ROWS = [
    ("hardcore", _set("cluster:cman:expected_votes", 2), "cluster:cman:expected_votes", "must be 1 with two_node"),
    ("hardcore", _set("cluster:cman:nodes:core-01:fence", [{"method": "single", "devices": [{"name": "core-01_ilo"}]}]),
     "cluster:cman:nodes:core-01:fence:0:devices:0:name", "did you mean `core-01_ipmi`"),
    ("hardcore", _set("cluster:cman:vms:winxp_03:domain", "core-03_domain"), "cluster:cman:vms:winxp_03:domain",
     "not defined"),
    ("hardcore", _set("cluster:cman:failover_domains:core-01_domain:nodes", ["core-01", "core-03"]),
     "cluster:cman:failover_domains:core-01_domain:nodes:1", "not a node"),
    ("hardcore", _set("cluster:cman:nodes:core-03", {"votes": 1}), "cluster:cman:nodes:core-03", "not a node"),
    ("hardcore", _set("cluster:cman:fence_devices:core-01_ipmi:passwd", ""),
     "cluster:cman:fence_devices:core-01_ipmi:passwd", "non-empty"),
    ("hardcore", _del("cluster:cman:fence_devices:core-01_ipmi:agent"), "cluster:cman:fence_devices:core-01_ipmi:agent",
     "is required"),
    ("hardcore", _set("cluster:cman:config_version", 0), "cluster:cman:config_version", "out of range"),
    ("hardcore", _set("cluster:cman:services", {"web": {"domain": "core-01_domain", "resources": {"type": "ip"}}}),
     "cluster:cman:services:web:resources", "must be a list"),
    ("hardcore", _set("filesystems:gfs2-00:lock_table", "softcore:gfs2-00"), "filesystems:gfs2-00:lock_table",
     "differs from the cluster name"),
    ("hardcore", _set("filesystems:gfs2-00:lock_table", "hardcore:" + "x" * 31), "filesystems:gfs2-00:lock_table",
     "1-30"),
    ("hardcore", _set("filesystems:gfs2-00:lock_table", "hardcore-gfs2-00"), "filesystems:gfs2-00:lock_table",
     "cluster:fs"),
    ("hardcore", lambda t: (_set("cluster:name", "c" * 33)(t), _del("filesystems:gfs2-00:lock_table")(t)),
     "cluster:name", "1-32"),
    ("hardcore", _set("cluster:stack", "o2cb"), "cluster:stack", "needs stack cman or corosync"),
    ("hardcore", _set("drbd:resources:r1:nodes:core-02:address", "10.0.1.1"), "drbd:resources:r1:nodes:core-02:address",
     "peer's address too"),
    ("apache", _set("cluster:heartbeat:authkeys:key", ""), "cluster:heartbeat:authkeys:key", "is required"),
    ("apache", _set("cluster:heartbeat:authkeys:method", "sha256"), "cluster:heartbeat:authkeys:method", "not allowed"),
    ("apache", _set("groups:www:node", "node03"), "groups:www:node", "not a node"),
    ("apache", _set("groups:www:resource", "r7"), "groups:www:resource", "not a DRBD resource"),
    ("apache", _set("groups:www:filesystem", "www"), "groups:www:filesystem", "not a filesystem"),
    ("apache", _set("groups:www:ip:address", "10.0.0.300"), "groups:www:ip:address", "not a valid IPv4"),
    ("apache", _set("cluster:heartbeat:resources", [{"node": "node01", "drbd": "r0"}]),
     "cluster:heartbeat:resources", "moved to the topology's `groups`"),
    ("apache", _set("cluster:heartbeat:media", [{"type": "serial", "interface": "eth1"}]),
     "cluster:heartbeat:media:0:type", "not allowed"),
    ("apache", _set("cluster:heartbeat:media", []), "cluster:heartbeat:media", "non-empty list"),
    ("apache", _set("cluster:heartbeat:auto_failback", "sometimes"), "cluster:heartbeat:auto_failback", "not allowed"),
    ("lab_gfs2", _set("cluster:corosync:transport", "tcp"), "cluster:corosync:transport", "not allowed"),
    ("lab_gfs2", _set("cluster:corosync:token", "3s"), "cluster:corosync:token", "integer"),
    ("crossed", _set("drbd:resources:r1:nodes:node2:device", "/dev/drbd3"), "drbd:resources:r1:nodes:node2:device",
     "does not match minor 2"),
    ("fileserver", _set("nfs:exports:0:clients", "a b"), "nfs:exports:0:clients", "not a client spec"),
]


@pytest.mark.parametrize("name,mutate,path,words", STACK_ROWS, ids=[f"{r[0]}-{r[2]}-{r[3]}" for r in STACK_ROWS])
def test_each_stack_check(name, mutate, path, words):
    topo = raw(name)
    mutate(topo)
    errors = validate(topo, name)
    full = f"hapair:topologies:{name}:{path}"
    matching = [e for e in errors if e.path == full and words in str(e)]
    assert matching, f"no error at {full} with {words!r}; got {[str(e) for e in errors]}"


def test_secrets_never_appear_in_error_text():
    topo = base()
    topo["drbd"]["resources"]["r0"]["shared_secret"] = "s3cr3t-" + "x" * 60
    topo["drbd"]["resources"]["r0"]["cram_hmac_alg"] = "sha2"
    text = "\n".join(str(e) for e in validate(topo, "t"))
    assert "shared_secret" in text and "s3cr3t" not in text


@pytest.mark.parametrize("garbage", [None, [], "web", 3, {"nodes": None}, {"nodes": {"a": None, "b": 3}},
                                     {"drbd": {"resources": {"r0": None}}}, {"drbd": {"resources": []}},
                                     {1: 2}, {"nodes": {None: {}}}, {"cluster": {"stack": ["o2cb"]}}])
def test_garbage_gives_errors_not_exceptions(garbage):
    errors = validate(garbage, "t")
    assert errors and not any("internal validation error" in e.message for e in errors)


def test_bad_topology_name():
    assert any("topology name" in e.message for e in validate(base(), "web cluster"))


def test_docstring_examples_hold():
    import doctest

    import hapair.validate

    for module in (topology, hapair.validate):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_deployed_conflicts_compare_only_what_runs_on_the_nodes():
    """The lab's topologies share node1/node2 on purpose: each alone is fine; lab_gfs2 while
    lab_web is deployed on node1 clashes (r0, minor 0, /dev/vdb, one cluster stack per node)."""
    assert topology.deployed_conflicts(PILLAR, "lab_gfs2", {"node1": {}, "node2": None}) == []
    assert topology.deployed_conflicts(PILLAR, "lab_gfs2", {"node1": {"r0": "lab_gfs2"}}) == []
    clashes = topology.deployed_conflicts(PILLAR, "lab_gfs2", {"node1": {"r0": "lab_web"}, "node2": {}})
    text = "\n".join(str(e) for e in clashes)
    assert clashes and "on node1" in text and "on node2" not in text
    assert "DRBD resource r0" in text and "cluster stack" in text
    assert all(e.path.startswith("hapair:topologies:lab_gfs2:") for e in clashes)
    # a deployed topology no longer in the pillar cannot be compared: nothing said of it
    assert topology.deployed_conflicts(PILLAR, "lab_gfs2", {"node1": {"r0": "gone"}}) == []
