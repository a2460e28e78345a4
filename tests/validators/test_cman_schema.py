"""Rendered cluster.conf checked with the real RHEL 6 schema, offline (../shared/docs/VALIDATORS.md).

``xmllint --noout --relaxng cluster.rng FILE`` is what ``ccs_config_validate`` ran. Both schemas in
../shared/schemas are used: the static cluster.rng and cluster-generated.rng (with the rgmanager
``vm`` resource and the fence agents' options). The schema is not copied into the repo: its source
note names no licence, so these tests skip when ../shared is absent.

Every example pillar with the cman stack, seed 004's own dump, and hypothesis-generated valid
topologies must validate; broken ones must be rejected (proving the check); and the problems the
schema accepts (duplicate node ids, unknown failover domains, two_node with expected_votes 2) must be
caught by hapair.cman.check_cluster_conf.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml
from hapair import cman, topology
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402
from cman_strategies import cman_topologies  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

SCHEMAS = [os.path.join(SHARED, "schemas", name) for name in ("cluster.rng", "cluster-generated.rng")]
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint not installed (apt-get install libxml2-utils)"),
    pytest.mark.skipif(not os.path.exists(SCHEMAS[0]),
                       reason=f"RHEL 6 cluster.rng not found at {SCHEMAS[0]} (../shared is absent; not vendored)"),
]
SCHEMA_IDS = [os.path.basename(s) for s in SCHEMAS]


def xmllint(schema: str, text: str, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / "cluster.conf"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(["xmllint", "--noout", "--relaxng", schema, str(path)], capture_output=True, text=True,
                          timeout=60)


def cman_pillars() -> dict[str, dict]:
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls"))):
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        for name in topology.names(data):
            if (topology.topologies(data)[name].get("cluster") or {}).get("stack") == "cman":
                out[name] = topology.load(data, name)
    return out


TOPOLOGIES = cman_pillars()


def test_the_example_pillars_include_a_cman_topology():
    assert "hardcore" in TOPOLOGIES


@pytest.mark.parametrize("schema", SCHEMAS, ids=SCHEMA_IDS)
@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_rendered_example_validates(schema, name, tmp_path):
    text = cman.render_cluster_conf(TOPOLOGIES[name])
    result = xmllint(schema, text, tmp_path)
    assert result.returncode == 0, result.stderr
    assert cman.check_cluster_conf(text) == []


@pytest.mark.parametrize("schema", SCHEMAS, ids=SCHEMA_IDS)
def test_seed_004_dump_validates(schema, tmp_path):
    with open(os.path.join(FIXTURES, "cman", "ccs_config_dump--6.2.0-seed004-v3.out"), encoding="utf-8") as handle:
        assert xmllint(schema, handle.read(), tmp_path).returncode == 0


def broken(fn) -> str:
    root = ET.fromstring(cman.render_cluster_conf(TOPOLOGIES["hardcore"]))
    fn(root)
    return ET.tostring(root, encoding="unicode")


@pytest.mark.parametrize("schema", SCHEMAS, ids=SCHEMA_IDS)
@pytest.mark.parametrize("case,change", [
    ("no nodeid", lambda r: r.find(".//clusternode").attrib.pop("nodeid")),
    ("no config_version", lambda r: r.attrib.pop("config_version")),
    ("unknown element", lambda r: r.append(ET.Element("bogus"))),
    ("unknown cman attribute", lambda r: r.find("cman").set("tow_node", "1")),
])
def test_schema_rejects_broken_configs(schema, case, change, tmp_path):
    result = xmllint(schema, broken(change), tmp_path)
    assert result.returncode != 0, case
    assert "fails to validate" in result.stderr


@pytest.mark.parametrize("case,change,needle", [
    ("duplicate nodeid", lambda r: r.findall(".//clusternode")[1].set("nodeid", "1"), "duplicate nodeid"),
    ("two_node with expected_votes 2", lambda r: r.find("cman").set("expected_votes", "2"), "expected_votes"),
    ("vm in unknown domain", lambda r: r.find("./rm/vm").set("domain", "nowhere"), "unknown failover domain"),
])
def test_schema_accepts_what_hapair_catches(case, change, needle, tmp_path):
    text = broken(change)
    assert xmllint(SCHEMAS[0], text, tmp_path).returncode == 0, f"{case}: the schema now catches it"
    assert any(needle in str(err) for err in cman.check_cluster_conf(text)), case


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topo=cman_topologies(TOPOLOGIES["hardcore"]))
def test_generated_topologies_validate(topo, tmp_path):
    text = cman.render_cluster_conf(topo)
    for schema in SCHEMAS:
        result = xmllint(schema, text, tmp_path)
        assert result.returncode == 0, (schema, result.stderr, cman.mask_xml(text))
    assert cman.check_cluster_conf(text) == []


def test_module_validate_with_the_real_xmllint(tmp_path):
    """cman.validate through the adapter, running the real xmllint; passwords stay masked."""
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    secret = "Xq-fence-Pw-7731"
    pillar["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["fence_devices"]["core-01_ipmi"]["passwd"] = secret
    conf = tmp_path / "cluster.conf"
    salt = fakesalt.salt_dict(fakesalt.real_run_all, {"hapair:paths:cman_conf": str(conf),
                                                      "hapair:paths:cman_schema": SCHEMAS[0]})
    mod = fakesalt.load("modules", "cman", salt, pillar=pillar)
    assert mod.validate(topology="hardcore") == {"valid": True, "tool": "xmllint", "errors": []}
    conf.write_text(broken(lambda r: r.find(".//clusternode").attrib.pop("nodeid")).replace(
        "ipmi-secret-core-01", secret))
    verdict = mod.validate()
    assert verdict["valid"] is False and verdict["tool"] == "xmllint"
    assert any("fails to validate" in e for e in verdict["errors"]) and secret not in repr(verdict)


def test_update_config_with_the_real_xmllint_never_shows_passwords(tmp_path, caplog):
    """The whole write path (render, validate with xmllint, write 0640, diff) with the real tools."""
    import logging  # noqa: PLC0415

    caplog.set_level(logging.DEBUG)
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    secrets = ("Fence-Pw-one-9921", "Fence-Pw-two-8812")
    devices = pillar["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["fence_devices"]
    devices["core-01_ipmi"]["passwd"], devices["core-02_ipmi"]["passwd"] = secrets
    conf = tmp_path / "cluster" / "cluster.conf"
    salt = fakesalt.salt_dict(fakesalt.real_run_all, {"hapair:paths:cman_conf": str(conf),
                                                      "hapair:paths:cman_schema": SCHEMAS[0],
                                                      "hapair:bin:cman_tool": "hapair-no-such-cman_tool"})
    mod = fakesalt.load("modules", "cman", salt, pillar=pillar)
    results = [mod.update_config("hardcore"), mod.plan_config("hardcore"), mod.render("hardcore"),
               mod.validate(), mod.config_version()]
    devices["core-01_ipmi"]["login"] = "root"
    pillar["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["config_version"] = 4  # a change raises it
    results.append(mod.update_config("hardcore"))
    assert results[0]["changed"] and results[-1]["new_version"] == 4 and not results[-1]["propagated"]
    assert (os.stat(conf).st_mode & 0o777) == 0o640 and results[3]["valid"]
    assert '-    <fencedevice action="reboot" agent="fence_ipmilan" ipaddr="192.0.2.1" login="admin" ' \
           'name="core-01_ipmi" passwd="********" />' in results[-1]["diff"]
    text = repr(results) + caplog.text
    assert not any(s in text for s in secrets)
