"""salt/hapair/heartbeat through Salt's real renderer and loader with seed 002's pillar (node01)."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from conftest import ROOT
from saltcall import local_salt_call

pytestmark = pytest.mark.validators
APACHE = pathlib.Path(ROOT) / "pillar" / "hapair" / "apache.sls"
TOPOLOGY = 'pillar={"topology": "apache"}'


@pytest.fixture
def salt_call(tmp_path):
    return local_salt_call(tmp_path, "node01")


def test_formula_orders_package_config_then_service(salt_call):
    low = salt_call("state.show_sls", "hapair.heartbeat", TOPOLOGY)
    assert isinstance(low, dict), low
    assert set(low) >= {"hapair-heartbeat-package-installed", "hapair-heartbeat-config-managed",
                        "hapair-heartbeat-service-running"}
    service = low["hapair-heartbeat-service-running"]["heartbeat"]
    # required, not watched: a running heartbeat is never restarted (that would hand the groups over)
    assert {"require": [{"heartbeat": "hapair-heartbeat-config-managed"},
                        {"heartbeat": "hapair-heartbeat-group-services-disabled"}]} in service


def test_config_dry_run_plans_the_three_files_and_never_shows_the_key(salt_call):
    ret = salt_call("state.sls_id", "hapair-heartbeat-config-managed", "hapair.heartbeat", TOPOLOGY, "test=True")
    (state,) = [v for k, v in ret.items() if "hapair-heartbeat-config-managed" in k]
    assert state["result"] is None, state
    ha_dir = str(salt_call.paths["ha_dir"])
    assert {f"{ha_dir}/ha.cf", f"{ha_dir}/haresources", f"{ha_dir}/authkeys"} <= set(state["changes"])
    assert not salt_call.paths["ha_dir"].exists()
    key = yaml.safe_load(APACHE.read_text())["hapair"]["topologies"]["apache"]["cluster"]["heartbeat"]["authkeys"]["key"]
    assert len(key) > 8
    assert key not in repr(ret) and key not in salt_call.log_file.read_text()
