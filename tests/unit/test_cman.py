"""hapair.cman: cluster.conf renderer and checks, and the cman/rgmanager parsers on real captures.

Fixtures: tests/fixtures/cman/<tool>--<version>-<state>.out with the expected .json beside it and a
.source line naming where the capture comes from (seed 004, public pages).
"""

from __future__ import annotations

import glob
import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml
from cman_strategies import cman_topologies
from hapair import cman, topology
from hapair.errors import ParseError, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

CMAN = os.path.join(FIXTURES, "cman")
PARSERS = {
    "cman_tool-status": cman.parse_status,
    "cman_tool-nodes": cman.parse_nodes,
    "cman_tool-nodes-F": cman.parse_nodes_fields,
    "cman_tool-services": cman.parse_services,
    "cman_tool-version": cman.parse_version,
    "clustat": cman.parse_clustat,
    "clustat-x": cman.parse_clustat_xml,
    "ccs_tool-lsnode": cman.parse_lsnode,
    "ccs_tool-lsfence": cman.parse_lsfence,
}
CAPTURES = sorted(p for p in glob.glob(os.path.join(CMAN, "*.out")) if os.path.basename(p).split("--")[0] in PARSERS)


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def hardcore() -> dict:
    """Seed 004's topology as hapair.topology normalises the repo's pillar."""
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        return topology.load(yaml.safe_load(handle), "hardcore")


# --------------------------------------------------------------------------- parsers on captures


def test_every_parser_has_real_captures():
    assert {os.path.basename(p).split("--")[0] for p in CAPTURES} == set(PARSERS)


@pytest.mark.parametrize("capture", CAPTURES, ids=os.path.basename)
def test_capture_parses_to_expected_json(capture):
    assert os.path.exists(capture[:-4] + ".source"), "every capture names its source"
    expected = json.loads(read(capture[:-4] + ".json"))
    assert PARSERS[os.path.basename(capture).split("--")[0]](read(capture)) == expected


@pytest.mark.parametrize("tool", sorted(PARSERS))
def test_malformed_input_raises_parse_error(tool):
    with pytest.raises(ParseError):
        PARSERS[tool]("this is not\n the output : of <that tool\n")


@pytest.mark.parametrize("tool,empty", [("cman_tool-nodes", []), ("cman_tool-services", []),
                                        ("ccs_tool-lsfence", []), ("cman_tool-nodes-F", [])])
def test_no_data_gives_empty_list(tool, empty):
    assert PARSERS[tool]("") == empty


@pytest.mark.parametrize("tool", ["cman_tool-status", "cman_tool-version", "clustat", "clustat-x",
                                  "ccs_tool-lsnode"])
def test_no_data_is_a_parse_error_where_output_is_never_empty(tool):
    with pytest.raises(ParseError):
        PARSERS[tool]("")


def test_status_activity_blocked_means_inquorate():
    text = read(os.path.join(CMAN, "cman_tool-status--6.0.1-one-node-2node.out"))
    blocked = text.replace("Quorum: 1\n", "Quorum: 1 Activity blocked\n")
    assert cman.parse_status(text)["quorate"] is True
    assert cman.parse_status(blocked)["quorate"] is False


def test_status_bad_integer_names_the_line():
    text = read(os.path.join(CMAN, "cman_tool-status--6.0.1-two-nodes.out")).replace("Nodes: 2", "Nodes: two")
    with pytest.raises(ParseError) as err:
        cman.parse_status(text)
    assert err.value.line == "Nodes: two" and err.value.line_no == 8


def test_nodes_fields_rejects_unknown_types_and_short_rows():
    with pytest.raises(ParseError):
        cman.parse_nodes_fields("1 Q 1 core-01\n")
    with pytest.raises(ParseError):
        cman.parse_nodes_fields("1 M core-01\n")
    rows = cman.parse_nodes_fields("1 core-01\n", fields=("id", "name"))
    assert rows == [{"id": 1, "name": "core-01"}]


def test_clustat_last_owner_in_parentheses():
    text = read(os.path.join(CMAN, "clustat--6.2.0-all-started.out")).replace(
        "vm:winxp_03 core-02 started", "vm:winxp_03 (core-02) stopped")
    svc = cman.parse_clustat(text)["services"][-1]
    assert svc == {"name": "vm:winxp_03", "owner": None, "last_owner": "core-02", "state": "stopped"}


# --------------------------------------------------------------------------- rendering


def seed_dump_topology() -> dict:
    """The pillar topology with the seed's documentation placeholders for the hidden fence values."""
    topo = hardcore()
    for device in topo["cluster"]["cman"]["fence_devices"].values():
        device.update(ipaddr="xxx.xxx.xxx.xxx", passwd="xxxxxx")
    return topo


def test_render_reproduces_seed_004_cluster_conf():
    dump = ET.fromstring(read(os.path.join(CMAN, "ccs_config_dump--6.2.0-seed004-v3.out")))
    # ccs_config_dump shows the runtime config: cman adds cman/@nodename when it joins
    del dump.find("cman").attrib["nodename"]
    rendered = cman.render_cluster_conf(seed_dump_topology())
    assert cman.content_equal(rendered, ET.tostring(dump, encoding="unicode"))
    assert cman.config_version(rendered) == 3


def test_render_is_deterministic_and_well_formed():
    first = cman.render_cluster_conf(hardcore())
    assert first == cman.render_cluster_conf(hardcore())
    root = ET.fromstring(first)
    assert [n.get("name") for n in root.findall("./clusternodes/clusternode")] == ["core-01", "core-02"]
    assert root.find("cman").attrib == {"cluster_id": "26333", "expected_votes": "1", "two_node": "1"}
    assert [vm.get("name") for vm in root.findall("./rm/vm")] == [
        "blueonyx_01", "rhel5_01", "winxp_01", "rhel5_02", "winxp_02", "winxp_03"]


def test_render_escapes_markup_instead_of_concatenating():
    topo = hardcore()
    topo["cluster"]["cman"]["fence_devices"]["core-01_ipmi"]["passwd"] = 'a"b<c>&d'
    root = ET.fromstring(cman.render_cluster_conf(topo))
    assert root.find("./fencedevices/fencedevice[@name='core-01_ipmi']").get("passwd") == 'a"b<c>&d'


def test_config_version_override_and_bump():
    xml = cman.render_cluster_conf(hardcore(), config_version=7)
    assert cman.config_version(xml) == 7
    bumped = cman.bump(xml, 8)
    assert cman.config_version(bumped) == 8
    assert cman.content_equal(xml, bumped)


def test_content_equal_sees_real_changes():
    topo = hardcore()
    before = cman.render_cluster_conf(topo)
    topo["cluster"]["cman"]["vms"]["your-new-vm"] = {"name": "your-new-vm", "domain": "core-01_domain"}
    assert not cman.content_equal(before, cman.render_cluster_conf(topo))


def test_mask_xml_hides_fence_passwords():
    xml = cman.render_cluster_conf(hardcore())
    assert "ipmi-secret-core-01" in xml  # the file itself needs them
    masked = cman.mask_xml(xml)
    assert "ipmi-secret-core-01" not in masked and "ipmi-secret-core-02" not in masked
    assert masked.count('passwd="********"') == 2
    assert cman.secrets_in(xml) == ["ipmi-secret-core-01", "ipmi-secret-core-02"]
    assert cman.mask_xml("<d password='p4ss' x='1'/>") == "<d password='********' x='1'/>"


def test_parse_errors_never_echo_a_password():
    broken = cman.render_cluster_conf(hardcore()).replace("<clusternodes>", "<clusternodes", 1)
    broken = broken.replace('login="admin" name="core-01_ipmi"', 'login="admin" name="core-01_ipmi" <')
    with pytest.raises(ParseError) as err:
        cman.content_equal(broken, broken)
    assert "ipmi-secret" not in str(err.value)


# --------------------------------------------------------------------------- checks the schema misses


def mutate(fn) -> str:
    root = ET.fromstring(cman.render_cluster_conf(hardcore()))
    fn(root)
    return ET.tostring(root, encoding="unicode")


def test_rendered_seed_passes_hapair_checks():
    assert cman.check_cluster_conf(cman.render_cluster_conf(hardcore())) == []


@pytest.mark.parametrize("name,change,needle", [
    ("two_node without expected_votes=1", lambda r: r.find("cman").set("expected_votes", "2"), "expected_votes"),
    ("duplicate nodeid", lambda r: r.findall(".//clusternode")[1].set("nodeid", "1"), "duplicate nodeid"),
    ("duplicate name", lambda r: r.findall(".//clusternode")[1].set("name", "core-01"), "duplicate name"),
    ("vm in unknown domain", lambda r: r.find("./rm/vm").set("domain", "core-03_domain"), "unknown failover domain"),
    ("undefined fence device", lambda r: r.find(".//device").set("name", "apc"), "is not defined"),
    ("domain with unknown node", lambda r: r.find(".//failoverdomainnode").set("name", "core-09"),
     "unknown cluster node"),
    ("bad config_version", lambda r: r.set("config_version", "0"), "positive integer"),
    ("two_node with three nodes", lambda r: r.find("clusternodes").append(
        ET.Element("clusternode", {"name": "core-03", "nodeid": "3", "votes": "1"})), "with 3 node(s)"),
])
def test_checks_catch_what_the_schema_does_not(name, change, needle):
    errors = cman.check_cluster_conf(mutate(change))
    assert errors and any(needle in str(err) for err in errors), (name, errors)


# --------------------------------------------------------------------------- planning


def test_plan_new_file_uses_pillar_version():
    plan = cman.plan_cluster_conf(None, hardcore())
    assert (plan["changed"], plan["old_version"], plan["new_version"]) == (True, None, 3)


def test_plan_unchanged_content_keeps_the_files_version():
    current = cman.render_cluster_conf(hardcore(), config_version=12)
    plan = cman.plan_cluster_conf(current, hardcore())
    assert (plan["changed"], plan["new_version"], plan["content"]) == (False, 12, current)


def _with_new_vm(version):
    topo = hardcore()
    topo["cluster"]["cman"]["vms"]["new"] = {"name": "new", "domain": "core-02_domain"}
    topo["cluster"]["cman"]["config_version"] = version
    return topo


def test_plan_changed_content_takes_the_pillar_version_and_is_then_unchanged():
    current = cman.render_cluster_conf(hardcore(), config_version=3)
    plan = cman.plan_cluster_conf(current, _with_new_vm(4), running_version=3)
    assert (plan["changed"], plan["old_version"], plan["new_version"]) == (True, 3, 4)
    again = cman.plan_cluster_conf(plan["content"], _with_new_vm(4), running_version=4)
    assert (again["changed"], again["new_version"]) == (False, 4)


@pytest.mark.parametrize("file_version, running, wanted, seen, needed", [
    (3, 3, 3, "the file's 3", 4),         # content changed, pillar version not raised
    (5, 3, 4, "the file's 5", 6),         # pillar below a file someone bumped by hand
    (None, 9, 4, "the 9 cman runs", 9),   # cman runs a later config than the pillar's
])
def test_plan_refuses_a_change_without_a_higher_pillar_version(file_version, running, wanted, seen, needed):
    current = cman.render_cluster_conf(hardcore(), config_version=file_version) if file_version else None
    with pytest.raises(ValidationError) as err:
        cman.plan_cluster_conf(current, _with_new_vm(wanted), running_version=running)
    (only,) = err.value.errors
    assert only.path == "hapair:topologies:hardcore:cluster:cman:config_version"
    assert seen in only.message and f"set it to {needed}" in only.hint, only


def test_two_nodes_applied_one_after_the_other_end_on_one_version():
    """node1 writes 4 and propagates it (cman then runs 4 on both); node2's file, still 3, catches up to 4."""
    files = {n: cman.render_cluster_conf(hardcore(), config_version=3) for n in ("core-01", "core-02")}
    running = 3
    for node in ("core-01", "core-02"):
        plan = cman.plan_cluster_conf(files[node], _with_new_vm(4), running_version=running)
        assert plan["changed"] and plan["new_version"] == 4, (node, plan)
        files[node], running = plan["content"], plan["new_version"]   # update_config: write, version -r 4
    assert {cman.config_version(text) for text in files.values()} == {4}
    assert files["core-01"] == files["core-02"]
    assert all(not cman.plan_cluster_conf(files[n], _with_new_vm(4), running_version=4)["changed"] for n in files)


def test_plan_replaces_a_file_that_is_not_xml():
    plan = cman.plan_cluster_conf("<cluster name='x' config_version='5'", hardcore(), running_version=3)
    assert (plan["changed"], plan["old_version"], plan["new_version"]) == (True, None, 3)


# --------------------------------------------------------------------------- generated topologies

_CACHE: dict = {}


def hardcore_cache() -> dict:
    if "t" not in _CACHE:
        _CACHE["t"] = hardcore()
    return _CACHE["t"]


@settings(max_examples=60, deadline=None)
@given(st.deferred(lambda: cman_topologies(hardcore_cache(), vms_without_domain=True)))
def test_generated_topologies_render_clean_and_round_trip(topo):
    xml = cman.render_cluster_conf(topo)
    assert cman.check_cluster_conf(xml) == []
    assert xml == cman.render_cluster_conf(topo)
    root = ET.fromstring(xml)
    assert [n.get("name") for n in root.findall("./clusternodes/clusternode")] == topo["node_order"]
    for name, device in topo["cluster"]["cman"]["fence_devices"].items():
        assert root.find(f"./fencedevices/fencedevice[@name='{name}']").get("passwd") == device["passwd"]
    masked = ET.fromstring(cman.mask_xml(xml))
    assert {d.get("passwd") for d in masked.findall("./fencedevices/fencedevice")} == {"********"}
    assert cman.content_equal(xml, cman.bump(xml, topo["cluster"]["cman"]["config_version"] + 1))


def test_docstring_examples_run():
    import doctest  # noqa: PLC0415

    result = doctest.testmod(cman)
    assert result.attempted > 0 and result.failed == 0
