"""hapair.corosync: corosync 3 renderer and checks, parsers on real captures.

Captures: tests/fixtures/corosync, from two real corosync 3.1.7 daemons in network namespaces
(tests/fixtures/corosync/capture.sh): waiting for all, both quorate, peer lost with two_node; and
dlm_tool from dlm_controld 4.2.0 in the QEMU lab VMs (dlm_tool-*.source says how).
"""

from __future__ import annotations

import copy
import glob
import json
import os

import pytest
import yaml
from hapair import corosync, topology
from hapair.errors import ParseError, RenderError

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

COROSYNC = os.path.join(FIXTURES, "corosync")
PARSERS = {
    "corosync-quorumtool-s": corosync.parse_quorumtool,
    "corosync-quorumtool-l": corosync.parse_quorumtool,
    "corosync-cfgtool-s": corosync.parse_cfgtool,
    "dlm_tool-status": corosync.parse_dlm_status,
    "dlm_tool-ls": corosync.parse_dlm_ls,
}
CAPTURES = sorted(glob.glob(os.path.join(COROSYNC, "*.out")))


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def lab_gfs2() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        return topology.load(yaml.safe_load(handle), "lab_gfs2")


@pytest.mark.parametrize("capture", CAPTURES, ids=os.path.basename)
def test_capture_parses_to_expected_json(capture):
    assert os.path.exists(capture[:-4] + ".source")
    expected = json.loads(read(capture[:-4] + ".json"))
    assert PARSERS[os.path.basename(capture).split("--")[0]](read(capture)) == expected


def test_every_parser_has_captures():
    assert {os.path.basename(p).split("--")[0] for p in CAPTURES} == set(PARSERS)


def test_quorum_states_read_from_real_daemons():
    waiting = corosync.parse_quorumtool(read(os.path.join(COROSYNC, "corosync-quorumtool-s--3.1.7-waiting-for-all.out")))
    both = corosync.parse_quorumtool(read(os.path.join(COROSYNC, "corosync-quorumtool-s--3.1.7-two-node-quorate.out")))
    lost = corosync.parse_quorumtool(read(os.path.join(COROSYNC, "corosync-quorumtool-s--3.1.7-peer-lost.out")))
    assert (waiting["quorate"], waiting["activity_blocked"], waiting["total_votes"]) == (False, True, 1)
    assert (both["quorate"], [m["name"] for m in both["members"]]) == (True, ["core-01", "core-02"])
    # two_node: the survivor keeps quorum with one vote (the property GFS2 on two nodes needs)
    assert (lost["quorate"], lost["total_votes"], lost["two_node"]) == (True, 1, True)


@pytest.mark.parametrize("parser", [corosync.parse_quorumtool, corosync.parse_cfgtool, corosync.parse_dlm_status])
def test_no_data_is_a_parse_error(parser):
    with pytest.raises(ParseError):
        parser("")


@pytest.mark.parametrize("parser,text", [
    (corosync.parse_quorumtool, "Cannot initialize QUORUM service\n"),
    (corosync.parse_quorumtool, "Quorum information\n------------------\nNodes: many\n"),
    (corosync.parse_quorumtool, "Membership information\n----------------------\n  1  1 core-01\n"),
    (corosync.parse_cfgtool, "Could not initialize corosync configuration API error 2\n"),
    (corosync.parse_cfgtool, "Local node ID 1, transport knet\nLINK ID 0 udp\n\tweird = line\n"),
    (corosync.parse_dlm_status, "cannot connect to dlm_controld\n"),
    (corosync.parse_dlm_status, "cluster nodeid one quorate 1\n"),
    (corosync.parse_dlm_status, "cluster nodeid 1 quorate 1\nnode\n"),
    (corosync.parse_dlm_ls, "cannot connect to dlm_controld\n"),
    (corosync.parse_dlm_ls, "dlm lockspaces\nid 0x1\n"),
    (corosync.parse_dlm_ls, "dlm lockspaces\nname gfs2-00\nmembers 1 two\n"),
])
def test_malformed_input_raises_parse_error(parser, text):
    with pytest.raises(ParseError):
        parser(text)


def test_render_lab_gfs2():
    text = corosync.render_conf(lab_gfs2())
    assert text == corosync.render_conf(lab_gfs2())
    for needle in ("cluster_name: labgfs", "transport: knet", "ring0_addr: 10.99.0.1", "nodeid: 2",
                   "name: node2", "provider: corosync_votequorum", "two_node: 1", "token: 3000"):
        assert needle in text, needle
    assert text.count("{") == text.count("}")


def test_render_is_the_capture_config():
    """capture.sh ran real daemons on exactly what render_conf produces for seed 004's nodes."""
    topo = copy.deepcopy(lab_gfs2())
    topo["cluster"] = {"stack": "corosync", "name": "hardcore",
                       "corosync": {"logging": {"to_syslog": "no", "to_stderr": "yes"}}}
    topo["nodes"] = {"core-01": {"hostname": "core-01", "cluster_address": "10.66.0.1", "cluster_node_id": 1},
                     "core-02": {"hostname": "core-02", "cluster_address": "10.66.0.2", "cluster_node_id": 2}}
    topo["node_order"] = ["core-01", "core-02"]
    assert corosync.render_conf(topo) == read(os.path.join(COROSYNC, "capture-corosync.conf"))


def test_render_refuses_values_that_would_break_the_syntax():
    topo = lab_gfs2()
    topo["cluster"]["corosync"]["totem"]["token"] = "3000 }\nquorum {"
    with pytest.raises(RenderError):
        corosync.render_conf(topo)


def test_checks_catch_what_corosync_accepts():
    topo = lab_gfs2()
    assert corosync.check_conf(topo) == []
    topo["nodes"]["node2"]["cluster_address"] = topo["nodes"]["node1"]["cluster_address"]
    assert any("duplicate ring0_addr" in str(e) for e in corosync.check_conf(topo))
    three = lab_gfs2()
    three["nodes"]["node3"] = dict(three["nodes"]["node2"], cluster_address="10.99.0.3", cluster_node_id=3,
                                   hostname="node3")
    three["node_order"].append("node3")
    three["cluster"]["corosync"]["two_node"] = True
    assert any("two_node with 3" in str(e) for e in corosync.check_conf(three))


def test_docstring_examples_run():
    import doctest  # noqa: PLC0415

    result = doctest.testmod(corosync)
    assert result.attempted > 0 and result.failed == 0


def test_dlm_ls_no_data_is_no_lockspace():
    """dlm 4.2.0 prints nothing at all without a lockspace (capture dlm_tool-ls--4.2.0-no-lockspace)."""
    assert corosync.parse_dlm_ls("") == [] and corosync.parse_dlm_ls("dlm lockspaces\n") == []


def test_dlm_conf_enable_fencing_default_and_lab():
    topo = lab_gfs2()
    assert corosync.render_dlm_conf(topo).splitlines()[1:4] == [
        "enable_fencing=1", "", "device node1_ipmi fence_ipmilan action=off ip=10.99.0.2 lanplus=1 "
        "password=lab-bmc-pw username=admin"]
    assert corosync.check_dlm(topo) == []
    topo["cluster"]["corosync"]["dlm"] = {"enable_fencing": False}
    del topo["cluster"]["corosync"]["fencing"]
    assert corosync.render_dlm_conf(topo) == "# Managed by hapair (Salt): local edits are overwritten.\nenable_fencing=0\n"
    assert corosync.check_dlm(topo) == []
    topo["cluster"]["corosync"]["dlm"] = {}
    assert corosync.dlm_options(topo) == {"enable_fencing": True}
    assert "no fence method" in str(corosync.check_dlm(topo)[0])
    topo["cluster"]["corosync"]["dlm"] = {"post_join_delay": 10}
    topo["cluster"]["corosync"]["fencing"] = {"fence_all": {"agent": "dlm_stonith"}}
    assert corosync.check_dlm(topo) == []
    assert corosync.render_dlm_conf(topo).splitlines()[1:] == ["enable_fencing=1", "post_join_delay=10", "",
                                                               "fence_all dlm_stonith"]
    topo["cluster"]["corosync"]["dlm"] = {"bad key": 1}
    with pytest.raises(RenderError):
        corosync.render_dlm_conf(topo)


def test_authkey_bytes_never_quotes_the_key():
    import base64  # noqa: PLC0415

    topo = lab_gfs2()
    assert corosync.authkey_bytes(topo) is None
    topo["cluster"]["corosync"]["authkey"] = base64.b64encode(bytes(range(256)) * 2).decode()
    assert corosync.authkey_bytes(topo) == bytes(range(256)) * 2
    for bad, needle in (("not base64!", "not valid base64"), (base64.b64encode(b"x" * 64).decode(), "64 bytes")):
        topo["cluster"]["corosync"]["authkey"] = bad
        with pytest.raises(ValueError, match=needle) as err:
            corosync.authkey_bytes(topo)
        assert bad not in str(err.value)


def test_authkey_is_a_masked_secret_of_the_topology():
    import base64  # noqa: PLC0415

    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    key = base64.b64encode(bytes(range(200))).decode()
    raw["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]["authkey"] = key
    assert key in topology.load(raw, "lab_gfs2")["secrets"]
    raw["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]["dlm"] = {"enable_fencing": "sometimes"}
    with pytest.raises(Exception, match="enable_fencing"):
        topology.load(raw, "lab_gfs2")
