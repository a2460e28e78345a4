"""hapair.fencing: fence devices for corosync + dlm (validation, dlm.conf lines, agents' words).

Status and metadata parsing replay real fence-agents 4.12.1 captures (tests/fixtures/fence:
fence_ipmilan against OpenIPMI's ipmi_sim, and against an address where nothing answers).
"""

from __future__ import annotations

import copy
import glob
import json
import os
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

from hapair import cman, fencing, validate  # noqa: E402
from hapair.errors import ParseError, RenderError  # noqa: E402

FENCE = os.path.join(ROOT, "tests", "fixtures", "fence")
PATH = "hapair:topologies:t"
SECRET = "pw-Zq9!x"


def read(name: str) -> str:
    with open(os.path.join(FENCE, name), encoding="utf-8") as handle:
        return handle.read()


def topo(**fencing_section) -> dict:
    section = {
        "fence_devices": {
            "n1_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.1", "username": "admin", "password": SECRET,
                        "lanplus": True, "action": "off"},
            "n2_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.2", "ipport": 6230, "username": "admin",
                        "password": SECRET},
        },
        "nodes": {"n1": {"fence": [{"method": "ipmi", "devices": [{"name": "n1_ipmi"}]}]},
                  "n2": {"fence": [{"method": "ipmi", "devices": [{"name": "n2_ipmi"}]}]}},
    }
    section.update(fencing_section)
    return {"nodes": {"n1": {"address": "10.0.0.1"}, "n2": {"address": "10.0.0.2"}},
            "cluster": {"stack": "corosync", "name": "c", "corosync": {"fencing": section}}}


def paths(raw) -> list[str]:
    return [f"{e.path}: {e.message}" for e in fencing.errors(raw, PATH)]


def test_a_complete_pair_is_valid_and_renders_dlm_conf_device_and_connect_lines():
    raw = topo()
    assert fencing.errors(raw, PATH) == []
    assert fencing.dlm_lines(raw) == [
        "",
        f"device n1_ipmi fence_ipmilan action=off ip=192.0.2.1 lanplus=1 password={SECRET} username=admin",
        "connect n1_ipmi node=1",
        "",
        f"device n2_ipmi fence_ipmilan ip=192.0.2.2 ipport=6230 password={SECRET} username=admin",
        "connect n2_ipmi node=2",
        "",
    ]
    assert fencing.secrets(raw) == [SECRET]
    assert fencing.configured(raw)


def test_nodeids_follow_cluster_node_id():
    raw = topo()
    raw["nodes"]["n1"]["cluster_node_id"] = 7
    assert "connect n1_ipmi node=7" in fencing.dlm_lines(raw)
    assert "connect n2_ipmi node=1" in fencing.dlm_lines(raw)


@pytest.mark.parametrize("mutate, expected", [
    # fencing on (dlm's default) and a node without a method
    (lambda s: s["nodes"].pop("n2"), ["fencing:nodes:n2: has no fence method, and dlm enable_fencing is on"]),
    # a method naming an unknown device
    (lambda s: s["nodes"]["n2"]["fence"][0]["devices"][0].update(name="n2_ipmj"),
     ["fencing:nodes:n2:fence:0:devices:0:name: fence device 'n2_ipmj' is not defined"]),
    # a device missing what its agent needs (fence_ipmilan cannot run without an address)
    (lambda s: s["fence_devices"]["n2_ipmi"].pop("ip"),
     ["fencing:fence_devices:n2_ipmi:ip: is required by fence_ipmilan to fence n2 (or ipaddr)"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(agent="fence ipmilan"),
     ["fencing:fence_devices:n2_ipmi:agent: 'fence ipmilan' is not a fence agent name"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(agent="/bin/sh"),
     ["fencing:fence_devices:n2_ipmi:agent: '/bin/sh' is not a fence agent name"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(ip="192.0.2.2 login=root"),
     ["fencing:fence_devices:n2_ipmi:ip: '192.0.2.2 login=root' is not a valid ip"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(username="ad min"),
     ["fencing:fence_devices:n2_ipmi:username: 'ad min' is not a valid username"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(ipport="623"),
     ["fencing:fence_devices:n2_ipmi:ipport: '623' is not a valid ipport"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(lanplus="maybe"),
     ["fencing:fence_devices:n2_ipmi:lanplus: 'maybe' is not a valid lanplus"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(action="on"),
     ["fencing:fence_devices:n2_ipmi:action: 'on' is not a valid action"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(node="2"),
     ["fencing:fence_devices:n2_ipmi:node: is set by hapair or dlm_controld"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(password_script="rm -rf /"),
     ["fencing:fence_devices:n2_ipmi:password_script: the value is not a valid password_script"]),
    (lambda s: s["fence_devices"]["n2_ipmi"].update(Bad=1),
     ["fencing:fence_devices:n2_ipmi:Bad: 'Bad' is not a fence argument name"]),
    (lambda s: s["fence_devices"].update({"a:b": {"agent": "fence_ipmilan", "ip": "192.0.2.9"}}),
     ["fencing:fence_devices:a:b: 'a:b' is not a valid fence device name"]),
    (lambda s: s["nodes"].update(n3={"fence": []}), ["fencing:nodes:n3: 'n3' is not a node of this topology"]),
    (lambda s: s["nodes"]["n1"]["fence"][0].update(devices=[]),
     ["fencing:nodes:n1:fence:0:devices: must be a non-empty list"]),
    (lambda s: s.update(fence_all={"agent": "dlm_stonith"}),
     ["fencing:fence_all: cannot be combined with fence_devices or nodes"]),
    (lambda s: s.update(fence_devicez={}), ["fencing:fence_devicez: unknown key"]),
])
def test_each_problem_is_refused_with_its_pillar_path(mutate, expected):
    raw = topo()
    mutate(raw["cluster"]["corosync"]["fencing"])
    found = paths(raw)
    assert found == [f"{PATH}:cluster:corosync:{e}" for e in expected]


def test_a_secret_is_never_echoed_by_validation():
    raw = topo()
    raw["cluster"]["corosync"]["fencing"]["fence_devices"]["n2_ipmi"]["password"] = "two words"
    raw["cluster"]["corosync"]["fencing"]["fence_devices"]["n1_ipmi"]["snmp_auth_passwd"] = "a\nb"
    text = "\n".join(str(e) for e in fencing.errors(raw, PATH))
    assert "password: the value is not a valid password" in text
    assert "snmp_auth_passwd: the value" in text
    assert "two words" not in text and "a\nb" not in text


def test_per_node_arguments_go_on_connect_lines_and_count_for_the_agents_needs():
    raw = topo()
    section = raw["cluster"]["corosync"]["fencing"]
    section["fence_devices"] = {"pdu": {"agent": "fence_apc", "ip": "192.0.2.5", "login": "apc", "passwd": SECRET}}
    section["nodes"] = {n: {"fence": [{"method": "power", "devices": [{"name": "pdu", "port": str(i)}]}]}
                        for i, n in enumerate(("n1", "n2"), start=1)}
    assert fencing.errors(raw, PATH) == []
    assert fencing.dlm_lines(raw)[1:4] == [f"device pdu fence_apc ip=192.0.2.5 login=apc passwd={SECRET}",
                                           "connect pdu node=1 port=1", "connect pdu node=2 port=2"]
    del section["nodes"]["n2"]["fence"][0]["devices"][0]["port"]
    assert paths(raw) == [f"{PATH}:cluster:corosync:fencing:fence_devices:pdu:plug: is required by fence_apc "
                          "to fence n2 (or port)"]


def test_a_method_of_several_devices_is_parallel_in_dlm_conf():
    raw = topo()
    section = raw["cluster"]["corosync"]["fencing"]
    section["fence_devices"]["n2_psu2"] = {"agent": "fence_ipmilan", "ip": "192.0.2.3"}
    section["nodes"]["n2"]["fence"] = [{"method": "dual", "devices": [{"name": "n2_ipmi"}, {"name": "n2_psu2"}]}]
    assert fencing.errors(raw, PATH) == []
    lines = fencing.dlm_lines(raw)
    assert "device dual_n2:n2_ipmi fence_ipmilan ip=192.0.2.2 ipport=6230 password=" + SECRET + " username=admin" in lines
    assert lines[-3:] == ["device dual_n2:n2_psu2 fence_ipmilan ip=192.0.2.3", "connect dual_n2:n2_psu2 node=2", ""]


def test_shared_devices_in_opposite_orders_are_refused():
    raw = topo()
    section = raw["cluster"]["corosync"]["fencing"]
    section["fence_devices"]["pdu"] = {"agent": "fence_apc_snmp", "ip": "192.0.2.5", "port": "1"}
    section["nodes"]["n1"]["fence"].append({"method": "pdu", "devices": [{"name": "pdu"}]})
    section["nodes"]["n2"]["fence"].insert(0, {"method": "pdu", "devices": [{"name": "pdu"}]})
    # n1: n1_ipmi then pdu -> file order n1_ipmi, pdu, n2_ipmi: n2 wants pdu then n2_ipmi: fine
    assert fencing.errors(raw, PATH) == []
    section["fence_devices"]["shared"] = {"agent": "fence_apc_snmp", "ip": "192.0.2.6", "port": "2"}
    section["nodes"]["n1"]["fence"].insert(0, {"method": "shared", "devices": [{"name": "shared"}]})
    section["nodes"]["n2"]["fence"].insert(1, {"method": "shared", "devices": [{"name": "shared"}]})
    found = paths(raw)
    assert len(found) == 1 and "in one order for every node" in found[0]
    with pytest.raises(RenderError):
        fencing.dlm_lines(raw)


def test_more_devices_than_dlm_reads_for_one_node_are_refused():
    raw = topo()
    section = raw["cluster"]["corosync"]["fencing"]
    for i in range(4):
        section["fence_devices"][f"d{i}"] = {"agent": "fence_ipmilan", "ip": f"192.0.2.{20 + i}"}
        section["nodes"]["n1"]["fence"].append({"method": f"m{i}", "devices": [{"name": f"d{i}"}]})
    assert paths(raw) == [f"{PATH}:cluster:corosync:fencing:nodes:n1:fence: lists 5 devices; dlm_controld reads "
                          "at most 4 per node"]


def test_fencing_off_needs_no_method_and_other_stacks_are_not_looked_at():
    raw = topo()
    raw["cluster"]["corosync"]["fencing"] = None
    assert [e.split(": ")[0] for e in paths(raw)] == [f"{PATH}:cluster:corosync:fencing:nodes:n1",
                                                      f"{PATH}:cluster:corosync:fencing:nodes:n2"]
    raw["cluster"]["corosync"]["dlm"] = {"enable_fencing": False}
    assert paths(raw) == []
    raw["cluster"]["corosync"]["dlm"] = {"fence_all": "dlm_stonith"}
    assert paths(raw)[0] == (f"{PATH}:cluster:corosync:dlm:fence_all: dlm.conf's fence_all is a line of its own, "
                             "not key=fence_all")
    raw["cluster"]["corosync"] = {"fencing": {"fence_all": {"agent": "dlm_stonith"}}}
    assert paths(raw) == []
    assert fencing.dlm_lines(raw) == ["", "fence_all dlm_stonith"]
    raw["cluster"]["stack"] = "cman"
    assert paths(raw) == []


def test_validation_never_raises_on_hostile_shapes():
    for section in (["x"], {"fence_devices": ["x"]}, {"nodes": {"n1": ["x"]}}, {"nodes": {"n1": {"fence": [None, 3]}}},
                    {"fence_devices": {"d": None}}, {"fence_devices": {"d": {"agent": None}}},
                    {"nodes": {"n1": {"fence": [{"method": "m", "devices": [None, {"name": None}]}]}}}):
        raw = topo()
        raw["cluster"]["corosync"]["fencing"] = section
        found = fencing.errors(raw, PATH)
        assert found and all(e.path.startswith(f"{PATH}:cluster:corosync:") for e in found)
        assert not any("internal" in e.message for e in found), found


def test_the_renderer_refuses_what_validation_would():
    raw = topo()
    raw["cluster"]["corosync"]["fencing"]["fence_devices"]["n2_ipmi"]["password"] = "a b"
    with pytest.raises(RenderError) as err:
        fencing.dlm_lines(raw)
    assert "a b" not in str(err.value)


def test_secret_keys_cover_validates_list():
    assert set(validate.SECRET_ATTRS) <= set(fencing.SECRET_KEYS)


def test_the_cman_translation_of_hardcore_validates_and_renders():
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)["hapair"]["topologies"]["hardcore"]
    out = cman.corosync_equivalent(raw, "hardcore")
    translated = copy.deepcopy(out["topology"])
    translated["cluster"]["corosync"]["fencing"] = out["fencing"]
    assert translated["cluster"]["corosync"]["dlm"]["enable_fencing"] is True
    assert fencing.errors(translated, "hapair:topologies:hardcore") == []
    lines = fencing.dlm_lines(translated)
    assert "connect core-01_ipmi node=1" in lines and "connect core-02_ipmi node=2" in lines
    assert sorted(fencing.secrets(translated)) == ["ipmi-secret-core-01", "ipmi-secret-core-02"]
    # the same translation without its methods is refused for each node
    translated["cluster"]["corosync"]["fencing"]["nodes"] = {}
    assert [e.path.rsplit(":", 1)[1] for e in fencing.errors(translated, "p")] == ["core-01", "core-02"]


# --------------------------------------------------------------------------- the agents


def test_status_request_puts_everything_on_stdin_and_replaces_the_fence_action():
    req = fencing.status_request(topo(), "n1_ipmi", "n1")
    assert req == {"agent": "fence_ipmilan", "secrets": [SECRET],
                   "stdin": f"action=status\nip=192.0.2.1\nlanplus=1\npassword={SECRET}\nusername=admin\n"}
    with pytest.raises(RenderError, match="no fence method of n2 uses device n1_ipmi"):
        fencing.status_request(topo(), "n1_ipmi", "n2")
    with pytest.raises(RenderError):
        fencing.status_request(topo(), "n1_ipmi", "n1", action="off")
    assert [(p["device"], p["node"]) for p in fencing.pairs(topo())] == [("n1_ipmi", "n1"), ("n2_ipmi", "n2")]


STATUS = sorted(glob.glob(os.path.join(FENCE, "fence_ipmilan-status--*.json")))


@pytest.mark.parametrize("expected", STATUS, ids=os.path.basename)
def test_parse_status_on_real_captures(expected):
    base = expected[: -len(".json")]
    with open(expected, encoding="utf-8") as handle:
        want = json.load(handle)
    got = fencing.parse_status(want["retcode"], read(base + ".out"), read(base + ".err"))
    assert got == want["parsed"]


def test_status_captures_are_all_there_and_distinguish_every_outcome():
    assert len(STATUS) == 6
    seen = {os.path.basename(p): json.load(open(p, encoding="utf-8"))["parsed"] for p in STATUS}
    assert seen["fence_ipmilan-status--4.12.1-on.json"]["power"] == "on"
    assert seen["fence_ipmilan-status--4.12.1-off.json"] == {"ok": True, "power": "off", "retcode": 2,
                                                             "error": None, "warnings": []}
    assert seen["fence_ipmilan-status--4.12.1-unreachable.json"]["error"] == "Connection timed out"


def test_parse_status_edges():
    assert fencing.parse_status(0, "", "")["ok"] is False  # exit 0 and no status line is no answer
    assert fencing.parse_status(2, "Status: ON", "")["ok"] is False  # exit and word disagree
    assert fencing.parse_status(1, "", "")["error"] == "exit 1, no status line"
    with pytest.raises(ParseError):
        fencing.parse_status(None, "", "")  # type: ignore[arg-type]


def test_parse_metadata_of_fence_ipmilan():
    meta = fencing.parse_metadata(read("fence_ipmilan-metadata--4.12.1.xml"))
    assert meta["agent"] == "fence_ipmilan"
    assert meta["required"] == []  # only `action`: why AGENT_REQUIRED holds ip for it
    params = meta["parameters"]
    assert params["ip"]["obsoletes"] == "ipaddr" and params["ipaddr"]["deprecated"] is True
    assert params["lanplus"]["type"] == "boolean" and params["ipport"]["default"] == "623"
    assert params["privlvl"]["options"] == ["callback", "user", "operator", "administrator"]
    assert "status" in meta["actions"] and "fence_idrac" in meta["symlinks"]
    assert fencing.unknown_args(meta, ["ip", "lanplus", "pasword"]) == ["pasword"]
    # every argument hapair whitelists by name for IPMI is one fence_ipmilan knows
    ipmi = [k for k in fencing.FIELDS if k in params]
    assert {"ip", "ipaddr", "username", "login", "password", "passwd", "ipport", "lanplus", "privlvl",
            "method", "auth", "cipher", "hexadecimal_kg"} <= set(ipmi)


def test_parse_metadata_groups_required_aliases_and_feeds_validation():
    xml = read("fence_ipmilan-metadata--4.12.1.xml").replace(
        '<parameter name="ip" unique="0" required="0"', '<parameter name="ip" unique="0" required="1"').replace(
        '<parameter name="username" unique="0" required="0"', '<parameter name="username" unique="0" required="1"')
    meta = fencing.parse_metadata(xml)
    assert meta["required"] == [("ip", "ipaddr"), ("username", "login")]
    raw = topo()
    del raw["cluster"]["corosync"]["fencing"]["fence_devices"]["n2_ipmi"]["username"]
    found = fencing.errors(raw, PATH, metadata={"fence_ipmilan": meta})
    assert [e.path.rsplit(":", 1)[1] for e in found] == ["username"]
    assert fencing.errors(raw, PATH) == []  # without metadata, AGENT_REQUIRED alone


@pytest.mark.parametrize("text", ["", "not xml", "<other/>", "<resource-agent/>"])
def test_parse_metadata_refuses_what_is_not_agent_metadata(text):
    with pytest.raises(ParseError):
        fencing.parse_metadata(text)


def test_lab_gfs2_has_fencing_off_and_stays_valid():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)["hapair"]["topologies"]["lab_gfs2"]
    assert fencing.errors(raw, "hapair:topologies:lab_gfs2") == []


@pytest.mark.parametrize("fence, devices, expected", [
    ("single", None, ("fence", "must be a list of methods")),
    (None, [], ("fence:0:devices", "must be a non-empty list")),
    (None, "core-01_ipmi", ("fence:0:devices", "must be a non-empty list")),
])
def test_one_fence_method_check_for_cman_and_corosync(fence, devices, expected):
    """``fencing.fence_methods``/``method_devices`` own the shape both stacks share: the same paths and
    messages for cluster:cman:nodes and cluster:corosync:fencing:nodes, each stack its own example."""
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)["hapair"]["topologies"]["hardcore"]
    corosync = topo()
    for node_spec in (raw["cluster"]["cman"]["nodes"]["core-01"], corosync["cluster"]["corosync"]["fencing"]["nodes"]["n1"]):
        if fence is not None:
            node_spec["fence"] = fence
        else:
            node_spec["fence"][0]["devices"] = devices
    where, message = expected
    cman_found = [(e.path, e.message, e.hint) for e in validate.validate(raw, "hardcore")]
    assert cman_found == [(f"hapair:topologies:hardcore:cluster:cman:nodes:core-01:{where}", message,
                           "e.g. [{method: single, devices: [{name: dev}]}]" if where == "fence"
                           else "e.g. [{name: node1_ipmi}]")]
    ours = [(e.path, e.message, e.hint) for e in fencing.errors(corosync, PATH) if e.path.endswith(where)]
    assert ours == [(f"{PATH}:cluster:corosync:fencing:nodes:n1:{where}", message,
                     "e.g. [{method: ipmi, devices: [{name: node1_ipmi}]}]" if where == "fence"
                     else "e.g. [{name: node1_ipmi}]")]
