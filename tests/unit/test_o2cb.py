"""hapair.o2cb: cluster.conf / /etc/default/o2cb rendering, parsers on real captures, our checks.

Fixtures: tests/fixtures/o2cb/<tool>--<version>-<state>.out with the expected .json and a
.source naming where each capture comes from. Topologies: tests/fixtures/o2cb/seed-00N-topology.json,
normalised dicts built by hand from the seeds (their ``_source`` says which lines they follow).
"""

from __future__ import annotations

import copy
import glob
import json
import os

import pytest
from conftest import FIXTURES
from hapair import o2cb
from hapair.errors import ParseError

DIR = os.path.join(FIXTURES, "o2cb")
PARSERS = {
    "o2cb-cluster-status": o2cb.parse_cluster_status,
    "o2cb-init-status": o2cb.parse_init_status,
    "o2cb-list-cluster": o2cb.parse_cluster_conf,
    "o2cb-list-clusters": o2cb.parse_list_clusters,
}
CAPTURES = sorted(glob.glob(os.path.join(DIR, "*.out")))


def topology(seed: str) -> dict:
    with open(os.path.join(DIR, f"{seed}-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_every_capture_parses_to_its_json(path):
    tool = os.path.basename(path).split("--")[0]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    with open(path[:-4] + ".json", encoding="utf-8") as handle:
        expected = json.load(handle)
    assert PARSERS[tool](text) == expected
    assert os.path.isfile(path[:-4] + ".source"), "every capture says where it comes from"


def test_every_parser_has_a_capture():
    assert {os.path.basename(p).split("--")[0] for p in CAPTURES} == set(PARSERS)


# --- the two status formats ------------------------------------------------------------------------

def read(name: str) -> str:
    with open(os.path.join(DIR, name), encoding="utf-8") as handle:
        return handle.read()


def test_both_status_formats_give_the_same_keys_and_the_same_facts():
    new = o2cb.parse_init_status(read("o2cb-init-status--1.8.7-online-hb-active.out"))
    old = o2cb.parse_init_status(read("o2cb-init-status--1.6-online-hb-active.out"))
    assert set(new) == set(old)
    assert (new["format"], old["format"]) == ("1.8", "legacy")
    for key in ("online", "heartbeat_active", "heartbeat_dead_threshold", "idle_timeout_ms",
                "keepalive_delay_ms", "reconnect_delay_ms"):
        assert new[key] == old[key], key


def test_status_tells_an_offline_cluster_from_an_online_one():
    offline = o2cb.parse_init_status(read("o2cb-init-status--1.8.7-offline.out"))
    assert offline["online"] is False and offline["drivers"]["ocfs2_dlmfs"] is False
    assert offline["heartbeat_dead_threshold"] is None  # not printed: unknown, never guessed


def test_status_parsers_refuse_no_data_and_garbage():
    for parser in (o2cb.parse_init_status, o2cb.parse_cluster_status):
        with pytest.raises(ParseError):
            parser("")
        with pytest.raises(ParseError) as err:
            parser("Segmentation fault\n")
        assert "line 1" in str(err.value)
    with pytest.raises(ParseError):
        o2cb.parse_init_status('Driver for "configfs": Maybe\n')


def test_list_parsers_refuse_malformed_input():
    with pytest.raises(ParseError) as err:
        o2cb.parse_cluster_conf("node:\nnumber = 1\n")  # unindented key: o2cb rejects it too
    assert err.value.line_no == 2
    with pytest.raises(ParseError):
        o2cb.parse_list_clusters("o2cb: Unknown cluster 'x'\n")
    assert o2cb.parse_cluster_conf("") == {"clusters": [], "nodes": [], "heartbeats": []}


# --- rendering -------------------------------------------------------------------------------------

def test_seed_001_cluster_conf_is_the_recipes_file():
    conf = o2cb.render_cluster_conf(topology("seed-001"))
    parsed = o2cb.parse_cluster_conf(conf)
    # the recipe's cluster.conf: fiori 192.168.1.6 number 1, torchio 192.168.1.7 number 2
    assert [(n["name"], n["ip_address"], n["number"], n["ip_port"], n["cluster"]) for n in parsed["nodes"]] == [
        ("fiori", "192.168.1.6", 1, 7777, "ocfs2"), ("torchio", "192.168.1.7", 2, 7777, "ocfs2")]
    assert parsed["clusters"] == [{"name": "ocfs2", "node_count": 2, "heartbeat_mode": None}]
    for line in conf.splitlines():
        assert line == "" or line.endswith(":") or line.startswith("\t") and " = " in line, line
    assert "\r" not in conf


def test_seed_001_timeouts_are_expressible():
    text = o2cb.render_defaults(topology("seed-001"))
    values = dict(line.split("=", 1) for line in text.splitlines() if not line.startswith("#"))
    assert values == {"O2CB_ENABLED": "true", "O2CB_BOOTCLUSTER": "ocfs2", "O2CB_HEARTBEAT_THRESHOLD": "61",
                      "O2CB_IDLE_TIMEOUT_MS": "60000", "O2CB_KEEPALIVE_DELAY_MS": "4000",
                      "O2CB_RECONNECT_DELAY_MS": "4000"}


def test_defaults_follow_the_topology_not_constants():
    topo = topology("seed-000")
    topo["cluster"]["o2cb"]["heartbeat_threshold"] = 45
    topo["cluster"]["name"] = "other"
    text = o2cb.render_defaults(topo)
    assert "O2CB_HEARTBEAT_THRESHOLD=45\n" in text and "O2CB_BOOTCLUSTER=other\n" in text


def test_node_names_are_uname_n_and_addresses_the_cluster_address():
    topo = topology("seed-000")
    topo["nodes"]["web2"]["cluster_address"] = "10.9.9.2"
    nodes = o2cb.cluster_nodes(topo)
    assert [(n["name"], n["ip_address"]) for n in nodes] == [("web1.lowend.party", "1.1.1.1"),
                                                             ("web2.lowend.party", "10.9.9.2")]


def test_render_returns_both_files_at_configured_paths():
    files = o2cb.render(topology("seed-000"), "/x/cluster.conf", "/x/o2cb")
    assert set(files) == {"/x/cluster.conf", "/x/o2cb"}
    assert all(not f["secret"] and f["mode"] == "0644" for f in files.values())


# --- our checks (o2cb accepts these; VALIDATORS.md) -------------------------------------------------

def test_rendered_seeds_pass_our_checks():
    for seed in ("seed-000", "seed-001"):
        assert o2cb.check_topology(topology(seed)) == []


def test_duplicate_numbers_and_node_count_mismatch_are_caught():
    topo = topology("seed-001")
    topo["nodes"]["torchio"]["cluster_node_id"] = 1
    problems = o2cb.check_topology(topo)
    assert problems == ["node number 1 is used by fiori and torchio"]
    conf = o2cb.render_cluster_conf(topology("seed-001")).replace("node_count = 2", "node_count = 3")
    assert o2cb.check_cluster_conf(o2cb.parse_cluster_conf(conf), "ocfs2") == [
        "node_count = 3 but 2 node stanza(s) belong to 'ocfs2'"]


def test_foreign_node_long_name_and_missing_cluster_are_caught():
    conf = o2cb.render_cluster_conf(topology("seed-001")).replace("cluster = ocfs2", "cluster = other", 1)
    problems = o2cb.check_cluster_conf(o2cb.parse_cluster_conf(conf), "ocfs2")
    assert any("o2cb would drop it" in p for p in problems)
    assert any(p.startswith("node_count = 2 but 1") for p in problems)
    topo = topology("seed-000")
    topo["cluster"]["name"] = "a-cluster-name-of-17"
    assert any("longer than 16" in p for p in o2cb.check_topology(topo))
    assert o2cb.check_cluster_conf(o2cb.parse_cluster_conf(""), "x")[0] == "no cluster stanza named 'x'"


def test_same_ip_port_twice_is_caught():
    topo = copy.deepcopy(topology("seed-000"))
    topo["nodes"]["web2"]["cluster_address"] = "1.1.1.1"
    assert o2cb.check_topology(topo) == ["1.1.1.1:7777 is used by web1.lowend.party and web2.lowend.party"]


# --- planning --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "status, expected",
    [
        ({"cluster": None, "online": False}, [{"action": "online", "cluster": "labcl"}]),
        (None, [{"action": "online", "cluster": "labcl"}]),
        ({"cluster": "labcl", "online": True}, []),
        ({"cluster": "other", "online": True}, "conflict"),
    ],
)
def test_plan_online(status, expected):
    plan = o2cb.plan_online(status, "labcl")
    if expected == "conflict":
        assert [step["action"] for step in plan] == ["conflict"] and "'other'" in plan[0]["reason"]
    else:
        assert plan == expected


def test_plan_online_from_real_captures():
    online = o2cb.parse_cluster_status(read("o2cb-cluster-status--1.8.7-online.out"))
    offline = o2cb.parse_cluster_status(read("o2cb-cluster-status--1.8.7-offline.out"))
    assert o2cb.plan_online(online, "labcl") == []
    assert o2cb.plan_online(offline, "labcl") == [{"action": "online", "cluster": "labcl"}]


# --- the example pillars (pillar/hapair/*.sls) through hapair.topology.load -------------------------

def pillar_topology(sls: str, name: str) -> dict:
    """Normalised topology of an example pillar; skips while the pillar or the loader is absent."""
    from conftest import ROOT

    path = os.path.join(ROOT, "pillar", "hapair", sls)
    import hapair.topology as topology_mod  # noqa: PLC0415
    yaml = pytest.importorskip("yaml")
    with open(path, encoding="utf-8") as handle:
        return topology_mod.load(yaml.safe_load(handle.read()), name)


def test_fileserver_pillar_renders_the_hand_built_seed_001_files():
    topo = pillar_topology("fileserver.sls", "fileserver")
    assert o2cb.render_cluster_conf(topo) == o2cb.render_cluster_conf(topology("seed-001"))
    assert o2cb.render_defaults(topo) == o2cb.render_defaults(topology("seed-001"))


def test_web_pillar_passes_our_checks():
    topo = pillar_topology("web.sls", "web")
    assert o2cb.check_topology(topo) == []
    assert [n["name"] for n in o2cb.cluster_nodes(topo)] == ["web1.lowend.party", "web2.lowend.party"]
