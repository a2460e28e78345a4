"""A group's virtual IP must fit the node's interface: hapair.heartbeat.parse_ip_addr on real
``ip -j -4 addr show`` output (tests/fixtures/ip, iproute2 6.1: an interface with an address, one
without IPv4, a missing device), vip_interfaces / vip_problems, and heartbeat.configured refusing
(nothing written, under test=True too) through the mocked loader."""

from __future__ import annotations

import copy
import glob
import json
import os

import pytest
from conftest import FIXTURES
from hapair import heartbeat
from hapair.errors import ParseError
from test_heartbeat_status import module_env, topology

IP = os.path.join(FIXTURES, "ip")
CAPTURES = sorted(glob.glob(os.path.join(IP, "ip-j-4-addr-show--*.out")))


def read(name: str) -> str:
    with open(os.path.join(IP, name), encoding="utf-8") as handle:
        return handle.read()


# --- the parser ----------------------------------------------------------------------------------

@pytest.mark.parametrize("capture", CAPTURES, ids=[os.path.basename(c) for c in CAPTURES])
def test_parser_reads_every_capture(capture):
    with open(capture, encoding="utf-8") as handle:
        text = handle.read()
    with open(capture[:-4] + ".json", encoding="utf-8") as handle:
        assert heartbeat.parse_ip_addr(text) == json.load(handle)
    assert os.path.exists(capture[:-4] + ".source")


def test_parser_values_by_hand():
    assert heartbeat.parse_ip_addr(read("ip-j-4-addr-show--6.1.0-all.out")) == {
        "lo": ["127.0.0.1/8"], "eth0": ["192.0.2.2/24"]}
    assert heartbeat.parse_ip_addr(read("ip-j-4-addr-show--6.1.0-ifb0.out")) == {}  # exists, no IPv4
    assert heartbeat.parse_ip_addr('[{}, {"ifname": "eth1", "addr_info": []}]') == {}  # older iproute2's {}


@pytest.mark.parametrize("text", [
    "", "   \n", read("ip-j-4-addr-show--6.1.0-missing.err"),     # ip's stderr for a missing device
    read("ip-j-4-addr-show--6.1.0-eth0.out")[:-40],                # truncated
    '{"ifname": "eth0"}', '["eth0"]', '[{"addr_info": []}]', '[{"ifname": "eth0", "addr_info": {}}]',
    '[{"ifname": "eth0", "addr_info": [{"family": "inet", "local": "192.0.2.300", "prefixlen": 24}]}]',
    '[{"ifname": "eth0", "addr_info": [{"family": "inet", "local": "192.0.2.3", "prefixlen": 33}]}]',
    '[{"ifname": "eth0", "addr_info": [{"family": "inet", "local": "192.0.2.3", "prefixlen": Infinity}]}]',
    '[{"ifname": "eth0", "addr_info": [{"family": "inet", "prefixlen": 24}]}]',
    "[" * 100000,
])
def test_parser_refuses_what_ip_does_not_print(text):
    with pytest.raises(ParseError):
        heartbeat.parse_ip_addr(text)


# --- vip_problems ----------------------------------------------------------------------------------

def topo(address="192.0.2.10", cidr=24, interface="eth0"):
    """Seed 002 (normalised) with www's VIP on the capture host's network unless told otherwise."""
    out = topology()
    out["groups"]["www"]["ip"] = {"address": address, "cidr": cidr, "interface": interface}
    return out


ETH0 = read("ip-j-4-addr-show--6.1.0-eth0.out")


def test_interfaces_to_read_are_each_vip_interface_once():
    two = topo()
    two["groups"]["db"] = dict(copy.deepcopy(two["groups"]["www"]), name="db", resource="r1", relocate=[])
    two["groups"]["db"]["ip"]["address"] = "192.0.2.11"
    assert heartbeat.vip_interfaces(two, "node01") == ["eth0"]
    assert heartbeat.vip_interfaces(two, "node03") == []          # no group may run there
    two["groups"]["www"]["ip"] = None
    two["groups"]["db"]["ip"] = None
    assert heartbeat.vip_interfaces(two, None) == []


def test_a_vip_in_the_interface_network_fits():
    assert heartbeat.vip_problems(topo(), "node01", {"eth0": ETH0}) == []
    assert heartbeat.vip_problems(topo("192.0.2.100", 25), "node01", {"eth0": ETH0}) == []  # 192.0.2.0/25


@pytest.mark.parametrize("vip, text, words", [
    (("10.99.0.100", 24, "eth0"), ETH0, ["10.99.0.100/24 is outside every IPv4 network of eth0 on node01",
                                         "(192.0.2.2/24)", "no address of 10.99.0.0/24"]),
    (("192.0.2.10", 30, "eth0"), ETH0, ["outside every IPv4 network of eth0"]),  # 192.0.2.8/30 lacks .2
    (("192.0.2.200", 25, "eth0"), ETH0, ["no address of 192.0.2.128/25"]),  # the VIP's network decides
    (("192.0.2.10", 24, "ifb0"), read("ip-j-4-addr-show--6.1.0-ifb0.out"), ["(no IPv4 address)"]),
    (("192.0.2.10", 24, "eth9"), None, ["interface eth9 does not exist on node01"]),
])
def test_a_vip_that_does_not_fit_is_named(vip, text, words):
    problems = heartbeat.vip_problems(topo(*vip), "node01", {vip[2]: text})
    assert len(problems) == 1 and problems[0].startswith("groups:www:ip: "), problems
    assert all(w in problems[0] for w in words), problems


def test_the_vip_itself_on_the_interface_does_not_count():
    # the node that holds the group has the VIP on eth0 too (IPaddr2 added it): only its own address counts
    only_vip = '[{"ifindex":4,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.99.0.100","prefixlen":24}]}]'
    assert heartbeat.vip_problems(topo("10.99.0.100"), "node01", {"eth0": only_vip})
    holder = ('[{"ifindex":4,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.99.0.1","prefixlen":24},'
              '{"family":"inet","local":"10.99.0.100","prefixlen":24}]}]')
    assert heartbeat.vip_problems(topo("10.99.0.100"), "node01", {"eth0": holder}) == []


def test_an_unread_interface_is_a_bug_not_a_pass():
    with pytest.raises(heartbeat.RenderError, match="were not read"):
        heartbeat.vip_problems(topo(), "node01", {})


# --- heartbeat.configured --------------------------------------------------------------------------

def vip_env(tmp_path, ip_answer, test=False):
    """module_env (test_heartbeat_status) with www's VIP on eth0 and ``ip`` answering ``ip_answer``."""
    env = module_env(tmp_path, {}, test=test)
    env["cmd"].responses[("ip", "-j", "-4", "addr", "show", "dev")] = ip_answer
    env["mod"].__pillar__["hapair"]["topologies"]["apache"]["groups"]["www"]["ip"] = {
        "address": "192.0.2.10", "cidr": 24, "interface": "eth0"}
    env["mod"].__salt__["heartbeat.vip_problems"] = env["mod"].vip_problems
    return env


MISSING = {"retcode": 1, "stdout": "", "stderr": read("ip-j-4-addr-show--6.1.0-missing.err").replace("nosuch", "eth0")}


@pytest.mark.parametrize("test", [True, False])
@pytest.mark.parametrize("answer, words", [
    ({"stdout": read("ip-j-4-addr-show--6.1.0-ifb0.out")}, "outside every IPv4 network of eth0 on node01"),
    (MISSING, "interface eth0 does not exist on node01"),
])
def test_configured_refuses_and_writes_nothing(tmp_path, answer, words, test):
    env = vip_env(tmp_path, answer, test=test)
    ret = env["state"].configured("apache")
    assert ret["result"] is False and words in ret["comment"] and ret["changes"] == {}, ret
    assert not (tmp_path / "ha.d").exists() and not (tmp_path / "conf").exists()
    assert ["ip", "-j", "-4", "addr", "show", "dev", "eth0"] in env["cmd"].argvs()
    assert all(call["python_shell"] is False for call in env["cmd"].calls)


def test_configured_writes_when_the_vip_fits(tmp_path):
    env = vip_env(tmp_path, {"stdout": ETH0})
    ret = env["state"].configured("apache")
    assert ret["result"] is True and (tmp_path / "ha.d" / "haresources").exists(), ret
    assert "IPaddr2::192.0.2.10/24/eth0" in (tmp_path / "ha.d" / "haresources").read_text()


def test_an_ip_failure_other_than_a_missing_device_is_an_error(tmp_path):
    env = vip_env(tmp_path, {"retcode": 1, "stdout": "", "stderr": "Cannot send dump request: Connection refused"})
    ret = env["state"].configured("apache")
    assert ret["result"] is False and "Connection refused" in ret["comment"]
    assert not (tmp_path / "ha.d").exists()
