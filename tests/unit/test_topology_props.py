"""Property-based tests (hypothesis) for hapair.validate / hapair.topology.

Random *valid* topologies are always accepted and normalise totally; each one, given exactly one
invalidating change from the catalogue below, is always rejected with an error at the mutated key;
random garbage anywhere never makes the validator raise.
"""

from __future__ import annotations

import copy
import json

import pytest
from hapair import topology
from hapair.validate import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FS_FOR_STACK = {"o2cb": "ocfs2", "cman": "gfs2", "corosync": "gfs2"}
NODE_NAME = st.from_regex(r"[a-z]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)  # also the default hostname
CLUSTER_NAME = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=6, max_size=20)


@st.composite
def valid_topologies(draw) -> dict:
    """A random topology that satisfies every documented rule."""
    names = draw(st.lists(NODE_NAME, min_size=2, max_size=2, unique=True))
    version = draw(st.sampled_from([4, 6]))
    addrs = draw(st.lists(st.ip_addresses(v=version).map(str), min_size=2, max_size=2, unique=True))
    nodes: dict = {}
    node_ids = draw(st.lists(st.integers(0, 31), min_size=2, max_size=2, unique=True))
    cids = draw(st.lists(st.integers(1, 255), min_size=2, max_size=2, unique=True))
    explicit = draw(st.booleans())
    for index, name in enumerate(names):
        spec: dict = {"address": addrs[index]}
        if draw(st.booleans()):
            spec["hostname"] = f"{name}.example.org"
        if draw(st.booleans()):
            spec["minion_id"] = f"minion-{name}"
        if explicit:
            spec["node_id"], spec["cluster_node_id"] = node_ids[index], cids[index]
        nodes[name] = spec
    stack = draw(st.sampled_from(["o2cb", "cman", "corosync", "heartbeat", "none"]))
    cluster_fs = FS_FOR_STACK.get(stack)
    cluster_name = draw(CLUSTER_NAME)

    count = draw(st.integers(1, 3))
    minors = draw(st.lists(st.integers(0, 99), min_size=count, max_size=count, unique=True))
    ports = draw(st.lists(st.integers(1024, 60000), min_size=count, max_size=count, unique=True))
    modes = [draw(st.sampled_from(["single-primary", "crossed"] + (["dual-primary"] if cluster_fs else [])))
             for _ in range(count)]
    crossed = [i for i, m in enumerate(modes) if m == "crossed"]
    if len(crossed) == 1:
        modes[crossed[0]] = "single-primary"
        crossed = []
    resources: dict = {}
    filesystems: dict = {}
    secrets: list[str] = []
    for i in range(count):
        rname = f"r{i}"
        res: dict = {"minor": minors[i], "port": ports[i], "disk": f"/dev/sd{'bcd'[i]}1", "mode": modes[i]}
        if draw(st.booleans()):
            res["device"] = f"/dev/drbd{minors[i]}"
        if draw(st.booleans()):
            res["protocol"] = draw(st.sampled_from("ABC"))
        if draw(st.booleans()):
            res["after_sb_0pri"] = draw(st.sampled_from(["disconnect", "discard-zero-changes", f"discard-node-{names[1]}"]))
            res["after_sb_1pri"] = draw(st.sampled_from(["disconnect", "consensus", "discard-secondary"]))
            res["after_sb_2pri"] = draw(st.sampled_from(["disconnect", "call-pri-lost-after-sb"]))
        if draw(st.booleans()):
            secret = draw(SECRET)
            res.update(cram_hmac_alg=draw(st.sampled_from(["sha1", "sha256", "md5"])), shared_secret=secret)
            secrets.append(secret)
        if draw(st.booleans()):
            res["initial_sync"] = draw(st.sampled_from(["full", "skip"]))
        if draw(st.booleans()):
            policy = draw(st.sampled_from(["manual", "discard_zero_changes", "victim"]))
            res["remediation"] = {"split_brain": policy, "max_attempts": draw(st.integers(0, 5))}
            if policy == "victim":
                res["remediation"]["victim"] = draw(st.sampled_from(names))
        if draw(st.booleans()):
            res["net"] = {"ping-int": draw(st.integers(1, 120))}
            res["startup"] = {"wfc-timeout": draw(st.integers(0, 300))}
        if draw(st.booleans()):
            res["nodes"] = {names[1]: {"minor": 100 + i, "disk": f"/dev/vd{'bcd'[i]}"}}
        if modes[i] == "crossed":
            res["primary"] = names[crossed.index(i) % 2] if crossed.index(i) < 2 else draw(st.sampled_from(names))
        elif modes[i] == "single-primary" and draw(st.booleans()):
            res["primary"] = draw(st.sampled_from(names))
        if modes[i] != "crossed" and draw(st.booleans()):
            res["initial_primary"] = res.get("primary") or draw(st.sampled_from(names))
        resources[rname] = res
        fs: dict = {"resource": rname, "mountpoint": f"/srv/fs{i}"}
        if modes[i] == "dual-primary":
            fs["type"] = cluster_fs
            if draw(st.booleans()):
                fs["mount_on"] = list(names)
            filesystems[f"fs{i}"] = fs
        elif draw(st.booleans()):
            fs["type"] = draw(st.sampled_from(["ext4", "ext3", "xfs", "btrfs"]))
            filesystems[f"fs{i}"] = fs
        if cluster_fs == "ocfs2" and fs.get("type") == "ocfs2" and draw(st.booleans()):
            fs.update(mkfs_type=draw(st.sampled_from(["mail", "datafiles", "vmstore"])), feature_level="max-features")
    cluster: dict = {"stack": stack, "name": cluster_name}
    if stack == "o2cb" and draw(st.booleans()):
        cluster["o2cb"] = {"heartbeat_threshold": draw(st.integers(1, 100)), "port": draw(st.integers(1, 65535))}
    if stack == "cman":
        password = draw(SECRET)
        secrets.append(password)
        cluster["cman"] = {
            "config_version": draw(st.integers(1, 10)),
            "fence_devices": {f"{n}_ipmi": {"agent": "fence_ipmilan", "ipaddr": "192.0.2.1", "passwd": password}
                              for n in names},
            "nodes": {n: {"fence": [{"method": "single", "devices": [{"name": f"{n}_ipmi"}]}]} for n in names},
            "failover_domains": {f"{n}_domain": {"nodes": [n]} for n in names},
            "vms": {f"vm{k}": {"domain": f"{names[k % 2]}_domain"} for k in range(draw(st.integers(0, 3)))},
        }
    if stack == "corosync":  # no fence device here: dlm_controld's default fencing would block the first mount
        cluster["corosync"] = {"dlm": {"enable_fencing": False}}
        if draw(st.booleans()):
            cluster["corosync"].update(transport=draw(st.sampled_from(["knet", "udpu"])), token=draw(st.integers(1000, 9000)))
    if stack == "heartbeat":
        method = draw(st.sampled_from(["crc", "md5", "sha1"]))
        key = draw(SECRET)
        auth: dict = {"method": method} if method == "crc" else {"method": method, "key": key}
        if method != "crc":
            secrets.append(key)
        cluster["heartbeat"] = {"media": [{"type": "bcast", "interface": "eth1"}], "authkeys": auth}
    topo = {"nodes": nodes, "drbd": {"resources": resources}, "filesystems": filesystems, "cluster": cluster}
    if stack == "heartbeat" and resources["r0"].get("mode", "single-primary") == "single-primary" \
            and resources["r0"].get("primary") in (None, names[0]):
        topo["groups"] = {"www": {"node": names[0], "resource": "r0", "services": ["apache2"]}}
    # an export names something the topology makes: fs0's mountpoint (validate: "nothing creates")
    if any(f.get("mountpoint") == "/srv/fs0" for f in filesystems.values()) and draw(st.booleans()):
        topo["nfs"] = {"exports": [{"path": "/srv/fs0", "clients": "*", "options": ["rw", "sync"]}]}
    if draw(st.booleans()):
        topo["lvm"] = {"vg0": {"pvs": ["/dev/vdc"], "lvs": {"lv0": "100M"}}}
    topo["_secrets"] = secrets  # popped by the tests
    return topo


def split(topo: dict) -> tuple[dict, list[str]]:
    topo = copy.deepcopy(topo)
    return topo, topo.pop("_secrets")


def _scribble(value) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _scribble(item)
        value["scribbled"] = True
    elif isinstance(value, list):
        for item in value:
            _scribble(item)
        value.append("scribbled")


@SETTINGS
@given(valid_topologies())
def test_valid_topologies_are_accepted_and_normalise_totally(generated):
    raw, secrets = split(generated)
    assert [str(e) for e in validate(raw, "t")] == []
    before = copy.deepcopy(raw)
    topo = topology.normalise(raw, "t")
    assert raw == before  # the pillar is not modified
    json.dumps(topo)
    assert topo == topology.load({"hapair": {"topologies": {"t": raw}}}, "t")
    assert set(topo["nodes"]) == set(raw["nodes"]) and len({n["node_id"] for n in topo["nodes"].values()}) == 2
    assert len({n["cluster_node_id"] for n in topo["nodes"].values()}) == 2
    for node in topo["node_order"]:
        minors = [res["nodes"][node]["minor"] for res in topo["drbd"]["resources"].values()]
        assert len(minors) == len(set(minors))
        for res in topo["drbd"]["resources"].values():
            assert res["nodes"][node]["device"].startswith("/dev/")
    assert set(secrets) <= set(topo["secrets"])
    for fs in topo["filesystems"].values():
        assert set(fs["mount_on"]) <= set(topo["nodes"])
    _scribble(topo)  # the result shares no dict or list with the pillar
    assert raw == before


# -- the mutation catalogue: each returns the path (below hapair:topologies:t) that must be reported --
def _names(topo):
    return list(topo["nodes"])


def _free_port(topo):
    used = {r["port"] for r in topo["drbd"]["resources"].values()}
    return next(p for p in range(60001, 65535) if p not in used)


def _add_resource(topo, name, **spec):
    base = {"minor": 500, "port": _free_port(topo), "disk": f"/dev/mut-{name}", "mode": "single-primary"}
    base.update(spec)
    topo["drbd"]["resources"][name] = base


def m_duplicate_port(topo, data):
    _add_resource(topo, "rdup", port=topo["drbd"]["resources"]["r0"]["port"])
    return "drbd:resources:rdup:port"


def m_duplicate_minor(topo, data):
    _add_resource(topo, "rdup", minor=topo["drbd"]["resources"]["r0"]["minor"])
    return "drbd:resources:rdup:minor"


def m_duplicate_disk(topo, data):
    _add_resource(topo, "rdup", disk=topo["drbd"]["resources"]["r0"]["disk"])
    return "drbd:resources:rdup:disk"


def m_bad_ip(topo, data):
    node = data.draw(st.sampled_from(_names(topo)))
    topo["nodes"][node]["address"] = data.draw(st.sampled_from(["2.2.2.300", "1.2.3", "fd00::g", "", "localhost", 7]))
    return f"nodes:{node}:address"


def m_same_address(topo, data):
    first, second = _names(topo)
    topo["nodes"][second]["address"] = topo["nodes"][first]["address"]
    return f"nodes:{second}:address"


def m_three_nodes(topo, data):
    topo["nodes"]["extra"] = {"address": "192.0.2.99"}
    return "nodes"


def m_one_node(topo, data):
    del topo["nodes"][_names(topo)[1]]
    return "nodes"


def m_bad_port(topo, data):
    topo["drbd"]["resources"]["r0"]["port"] = data.draw(
        st.integers(65536, 10**6) | st.integers(-100, 0) | st.just("7788") | st.just(True))
    return "drbd:resources:r0:port"


def m_bad_protocol(topo, data):
    topo["drbd"]["resources"]["r0"]["protocol"] = data.draw(st.text(max_size=3).filter(lambda t: t not in "ABC" or not t))
    return "drbd:resources:r0:protocol"


def m_bad_mode(topo, data):
    topo["drbd"]["resources"]["r0"]["mode"] = data.draw(st.sampled_from(["master-slave", "dual", "", 2, ["dual-primary"]]))
    return "drbd:resources:r0:mode"


def m_bad_after_sb(topo, data):
    key = data.draw(st.sampled_from(["after_sb_0pri", "after_sb_1pri", "after_sb_2pri"]))
    topo["drbd"]["resources"]["r0"][key] = data.draw(st.sampled_from(["discard-node-nobody", "violently", "panic"]))
    return f"drbd:resources:r0:{key}"


def m_ext4_on_dual(topo, data):
    _add_resource(topo, "rdp", mode="dual-primary")
    topo["filesystems"]["fsdp"] = {"resource": "rdp", "type": data.draw(st.sampled_from(["ext4", "ext3", "xfs", "btrfs"]))}
    return "filesystems:fsdp:type"


def m_dual_without_fs(topo, data):
    _add_resource(topo, "rdp", mode="dual-primary")
    return "drbd:resources:rdp:mode"


def m_dual_with_primary(topo, data):
    _add_resource(topo, "rdp", mode="dual-primary", primary=_names(topo)[0])
    return "drbd:resources:rdp:primary"


def m_non_cluster_on_both(topo, data):
    _add_resource(topo, "rnc")
    topo["filesystems"]["fsnc"] = {"resource": "rnc", "type": "ext4", "mountpoint": "/mut", "mount_on": _names(topo)}
    return "filesystems:fsnc:mount_on"


def m_crossed_without_primary(topo, data):
    _add_resource(topo, "rc", mode="crossed")
    return "drbd:resources:rc:primary"


def m_missing_cram(topo, data):
    res = topo["drbd"]["resources"]["r0"]
    res.pop("cram_hmac_alg", None)
    res["shared_secret"] = "s3cret"
    return "drbd:resources:r0:cram_hmac_alg"


def m_primary_not_node(topo, data):
    key = data.draw(st.sampled_from(["primary", "initial_primary"]))
    topo["drbd"]["resources"]["r0"][key] = "nobody"
    return f"drbd:resources:r0:{key}"


def m_relative_path(topo, data):
    key = data.draw(st.sampled_from(["disk", "device", "meta_disk"]))
    topo["drbd"]["resources"]["r0"][key] = "sdb1"
    return f"drbd:resources:r0:{key}"


def m_unknown_key(topo, data):
    where = data.draw(st.sampled_from([(), ("nodes", _names(topo)[0]), ("drbd",), ("drbd", "resources", "r0"),
                                       ("cluster",)]))
    node = topo
    for key in where:
        node = node[key]
    node["bogus_key"] = 1
    return ":".join([*where, "bogus_key"])


def m_wrong_type(topo, data):
    where = data.draw(st.sampled_from([("nodes",), ("drbd",), ("drbd", "resources"), ("filesystems",), ("cluster",),
                                       ("drbd", "resources", "r0")]))
    node = topo
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(st.sampled_from([["x"], "text", 3, 1.5]))
    return ":".join(where)


def m_victim_missing(topo, data):
    topo["drbd"]["resources"]["r0"]["remediation"] = {"split_brain": "victim"}
    return "drbd:resources:r0:remediation:victim"


def m_bad_stack(topo, data):
    topo["cluster"]["stack"] = data.draw(st.sampled_from(["pacemaker", "O2CB", ""]))
    return "cluster:stack"


def m_device_minor_mismatch(topo, data):
    res = topo["drbd"]["resources"]["r0"]
    res["device"] = f"/dev/drbd{res['minor'] + 1000}"
    return "drbd:resources:r0:device"


def m_duplicate_node_id(topo, data):
    key = data.draw(st.sampled_from(["node_id", "cluster_node_id"]))
    first, second = _names(topo)
    topo["nodes"][first][key] = topo["nodes"][second][key] = 3
    return f"nodes:{second}:{key}"


CATALOGUE = [
    m_duplicate_port, m_duplicate_minor, m_duplicate_disk, m_bad_ip, m_same_address, m_three_nodes, m_one_node,
    m_bad_port, m_bad_protocol, m_bad_mode, m_bad_after_sb, m_ext4_on_dual, m_dual_without_fs, m_dual_with_primary,
    m_non_cluster_on_both, m_crossed_without_primary, m_missing_cram, m_primary_not_node, m_relative_path,
    m_unknown_key, m_wrong_type, m_victim_missing, m_bad_stack, m_device_minor_mismatch, m_duplicate_node_id,
]


@pytest.mark.parametrize("mutation", CATALOGUE, ids=[m.__name__[2:] for m in CATALOGUE])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated=valid_topologies(), data=st.data())
def test_one_invalidating_change_is_always_rejected_at_its_path(mutation, generated, data):
    raw, _ = split(generated)
    expected = "hapair:topologies:t:" + mutation(raw, data)
    errors = validate(raw, "t")
    assert errors, f"{mutation.__name__} was accepted"
    assert any(e.path == expected for e in errors), (mutation.__name__, expected, [str(e) for e in errors])
    assert not any("internal validation error" in e.message for e in errors)


GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=3),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@SETTINGS
@given(valid_topologies(), GARBAGE, st.data())
def test_garbage_anywhere_never_raises(generated, garbage, data):
    raw, _ = split(generated)
    path = data.draw(st.sampled_from([p for p in _paths(raw) if p]))
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = garbage
    errors = validate(raw, "t")
    assert not any("internal validation error" in e.message for e in errors), [str(e) for e in errors]
    if not errors:  # whatever validate accepts, normalise must handle
        json.dumps(topology.normalise(raw, "t"))


@SETTINGS
@given(GARBAGE)
def test_garbage_topology_never_raises(garbage):
    errors = validate(garbage, "t")
    assert errors and not any("internal validation error" in e.message for e in errors)
