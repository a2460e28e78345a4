"""Seed 001's host tuning (``tuning: sysctl``): validated name by name, persisted per topology and
applied by Salt's own ``sysctl.present`` in the drbd-up step and the formula."""

import copy
import os

import pytest
import yaml
from conftest import ROOT
from hapair import bootstrap, topology


def pillar(name):
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_committed_fileserver_carries_the_seeds_tuning():
    topo = topology.load(pillar("fileserver"), "fileserver")
    assert topo["tuning"] == {"sysctl": {"kernel.panic": "10", "vm.min_free_kbytes": "65536"}}
    states = {s["id"]: s for s in bootstrap.node_states(topo, "drbd-up", "fiori", with_packages=False)}
    assert states["hapair-sysctl-kernel.panic"]["args"][:3] == [
        {"name": "kernel.panic"}, {"value": "10"}, {"config": "/etc/sysctl.d/60-hapair-fileserver.conf"}]


def test_no_tuning_no_state():
    topo = topology.load(pillar("web"), "web")
    assert topo["tuning"] == {"sysctl": {}}
    assert not [s for s in bootstrap.node_states(topo, "drbd-up", "web1") if s["function"] == "sysctl.present"]


@pytest.mark.parametrize("key, value, words", [
    ("vm.min_free_kbytes", "65536\nkernel.x = 1", "is not a sysctl value"),
    ("vm.min_free_kbytes", "lots", "is not a sysctl value"),
    ("vm.min_free_kbytes", -1, "is not a sysctl value"),
    ("vm.min_free_kbytes", True, "is not a sysctl value"),
    ("vm.min_free_kbytes", "1  2", "is not a sysctl value"),
    ("panic", 10, "is not a sysctl name"),
    ("kernel.panic; reboot", 10, "is not a sysctl name"),
    ("Kernel.Panic", 10, "is not a sysctl name"),
])
def test_bad_entries_are_refused_with_their_pillar_path(key, value, words):
    raw = copy.deepcopy(pillar("fileserver")["hapair"]["topologies"]["fileserver"])
    raw["tuning"] = {"sysctl": {key: value}, "colour": 1}
    found = [str(e) for e in topology.validate(raw, "fileserver")]
    base = "hapair:topologies:fileserver:tuning"
    assert any(e.startswith(f"{base}:sysctl:{key}: ") and words in e for e in found), found
    assert any(e.startswith(f"{base}:colour: unknown key") for e in found), found   # every error at once


def test_a_range_of_integers_is_a_value():
    raw = copy.deepcopy(pillar("fileserver")["hapair"]["topologies"]["fileserver"])
    raw["tuning"] = {"sysctl": {"net.ipv4.ip_local_port_range": "32768 60999"}}
    assert topology.validate(raw, "fileserver") == []
