"""Rendered corosync.conf checked by the real corosync 3 parser, offline (../shared/docs/VALIDATORS.md).

``unshare -rn sh -c 'ip link set lo up; ip addr add <ring0>/32 dev lo; corosync -c FILE -t'``: a
throw-away user+network namespace in which this node's ring0 address exists, so corosync's
"local node in nodelist" check runs too. Every example pillar with the corosync stack is checked as
each of its nodes; broken configs prove the check fails; what corosync accepts but hapair refuses
(duplicate ring0 addresses) is caught by hapair.corosync.check_conf.
"""

from __future__ import annotations

import copy
import glob
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from hapair import corosync, topology
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = 'ip link set lo up && ip addr add "$1" dev lo && exec corosync -c "$2" -t'


def _unshare_works() -> bool:
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("corosync") is None, reason="corosync not installed (apt-get install corosync)"),
    pytest.mark.skipif(not _unshare_works(), reason="unshare -rn (user+net namespaces) or ip not available here"),
]


def corosync_t(text: str, ring0: str, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "corosync.conf"
    path.write_text(text, encoding="utf-8")
    prefix = "128" if ":" in ring0 else "32"
    return subprocess.run(["unshare", "-rn", "sh", "-c", SCRIPT, "sh", f"{ring0}/{prefix}", str(path)],
                          capture_output=True, text=True, timeout=60)


def corosync_pillars() -> dict[str, dict]:
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls"))):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        for name in topology.names(data):
            if (topology.topologies(data)[name].get("cluster") or {}).get("stack") == "corosync":
                out[name] = topology.load(data, name)
    return out


TOPOLOGIES = corosync_pillars()
CASES = [(name, member["node"]) for name, topo in sorted(TOPOLOGIES.items()) for member in corosync.nodes(topo)]


def test_the_example_pillars_include_a_corosync_topology():
    assert TOPOLOGIES, "expected pillar/hapair/lab_gfs2.sls (stack corosync)"


@pytest.mark.parametrize("name,node", CASES)
def test_rendered_example_passes_corosync_t(name, node, tmp_path):
    topo = TOPOLOGIES[name]
    ring0 = next(m["ring0_addr"] for m in corosync.nodes(topo) if m["node"] == node)
    result = corosync_t(corosync.render_conf(topo), ring0, tmp_path)
    assert result.returncode == 0, result.stderr
    assert corosync.check_conf(topo) == []


def first() -> dict:
    return copy.deepcopy(TOPOLOGIES[sorted(TOPOLOGIES)[0]])


@pytest.mark.parametrize("case,edit,address,needle", [
    ("two_node: yes", lambda t: t.replace("two_node: 1", "two_node: yes"), None, "two_node"),
    ("bad transport", lambda t: t.replace("transport: knet", "transport: carrier-pigeon"), None, "transport"),
    ("unbalanced braces", lambda t: t.rstrip().rstrip("}"), None, ""),
    ("node not in the nodelist", lambda t: t, "192.0.2.77", "No valid name found for local host"),
    ("duplicate nodeid", lambda t: t.replace("nodeid: 2", "nodeid: 1"), None, "appears twice"),
])
def test_corosync_rejects_broken_configs(case, edit, address, needle, tmp_path):
    topo = first()
    ring0 = address or corosync.nodes(topo)[0]["ring0_addr"]
    result = corosync_t(edit(corosync.render_conf(topo)), ring0, tmp_path)
    assert result.returncode != 0, case
    assert needle in result.stderr + result.stdout, (case, result.stderr)


def test_corosync_accepts_what_hapair_catches(tmp_path):
    topo = first()
    order = topo["node_order"]
    topo["nodes"][order[1]]["cluster_address"] = topo["nodes"][order[0]]["cluster_address"]
    result = corosync_t(corosync.render_conf(topo), topo["nodes"][order[0]]["cluster_address"], tmp_path)
    assert result.returncode == 0, "corosync -t now rejects a duplicate ring0_addr"
    assert any("duplicate ring0_addr" in str(e) for e in corosync.check_conf(topo))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.integers(1000, 20000), ipv6=st.booleans(), wait_for_all=st.sampled_from([None, 0, 1]),
       ids=st.lists(st.integers(1, 1000), min_size=2, max_size=2, unique=True))
def test_generated_variants_pass_corosync_t(token, ipv6, wait_for_all, ids, tmp_path):
    topo = first()
    for index, key in enumerate(topo["node_order"]):
        node = topo["nodes"][key]
        node["cluster_node_id"] = ids[index]
        node["cluster_address"] = f"fd00:66::{index + 1}" if ipv6 else f"10.77.0.{index + 1}"
    topo["cluster"]["corosync"]["totem"] = {"token": token}
    if ipv6:
        topo["cluster"]["corosync"]["totem"]["ip_version"] = "ipv6"
    topo["cluster"]["corosync"]["quorum"] = {} if wait_for_all is None else {"wait_for_all": wait_for_all}
    member = corosync.nodes(topo)[1]
    result = corosync_t(corosync.render_conf(topo), member["ring0_addr"], tmp_path)
    assert result.returncode == 0, result.stderr


def test_module_validate_with_the_real_corosync(tmp_path):
    name = sorted(TOPOLOGIES)[0]
    pillar = {}
    for path in glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls")):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        if name in topology.names(data):
            pillar = data
    minion = TOPOLOGIES[name]["nodes"][TOPOLOGIES[name]["node_order"][1]]["minion_id"]
    salt = fakesalt.salt_dict(fakesalt.real_run_all, {})
    mod = fakesalt.load("modules", "corosync", salt, opts={"id": minion, "test": False}, pillar=pillar)
    assert mod.validate(topology=name) == {"valid": True, "retcode": 0, "errors": []}
    bad = tmp_path / "corosync.conf"
    bad.write_text(mod.render(name).replace("two_node: 1", "two_node: yes"))
    ring0 = corosync.nodes(TOPOLOGIES[name])[1]["ring0_addr"]
    verdict = mod.validate(path=str(bad), ring0_addr=ring0)
    assert verdict["valid"] is False and any('"quorum.two_node"' in e for e in verdict["errors"])
