"""salt/hapair/o2cb and salt/hapair/ocfs2 through the real tools: salt-lint, and Salt's own
renderer and loader (``salt-call --local state.show_sls`` / ``state.apply test=True``) with the
repo's example pillars, minion id web1, and every hapair path pointing into tmp_path.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT
from saltcall import local_salt_call

pytestmark = pytest.mark.validators
BIN = os.path.dirname(sys.executable)
SALT_LINT = os.path.join(BIN, "salt-lint")
SLS = [os.path.join(ROOT, "salt", "hapair", part, name) for part in ("o2cb", "ocfs2") for name in ("init.sls", "clean.sls")]


@pytest.mark.skipif(not os.access(SALT_LINT, os.X_OK), reason=f"salt-lint not found at {SALT_LINT}")
@pytest.mark.parametrize("path", SLS, ids=lambda p: os.path.relpath(p, ROOT))
def test_formula_is_salt_lint_clean(path):
    result = subprocess.run([SALT_LINT, path], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def salt_call(tmp_path):
    return local_salt_call(tmp_path, "web1")


def test_formula_renders_the_web_topology_for_web1(salt_call):
    low = salt_call("state.show_sls", "hapair.o2cb,hapair.ocfs2", 'pillar={"topology": "web"}')
    assert isinstance(low, dict), low
    assert {"hapair-o2cb-config-managed", "hapair-o2cb-online", "hapair-ocfs2-boot-ordered",
            "hapair-ocfs2-www-formatted", "hapair-ocfs2-www-mounted"} <= set(low)
    assert {"ocfs2": "hapair-ocfs2-www-formatted"} in low["hapair-ocfs2-www-mounted"]["ocfs2"][2]["require"]


def test_formula_without_a_topology_fails_loudly(tmp_path):
    """No pillar['topology'] and no topology naming the minion (web9): hapair.o2cb fails, saying so.
    web1 needs none: ``web`` is the one topology naming it (test_formula_topology.py)."""
    ret = local_salt_call(tmp_path, "web9")("state.apply", "hapair.o2cb", "test=True")
    (only,) = ret.values()
    assert only["result"] is False and "pass the topology" in only["name"] and "minion web9" in only["name"]


def test_o2cb_config_state_dry_run_through_the_real_loader(salt_call):
    ret = salt_call("state.sls_id", "hapair-o2cb-config-managed", "hapair.o2cb", 'pillar={"topology": "web"}',
                    "test=True")
    (state,) = [v for k, v in ret.items() if k.startswith("o2cb_|-hapair-o2cb-config-managed_|-")]
    assert state["result"] is None
    assert set(state["changes"]) == {str(salt_call.paths["o2cb_conf"]), str(salt_call.paths["o2cb_defaults"])}
    assert not salt_call.paths["o2cb_conf"].exists()


def test_clean_mirrors_init_without_touching_data(salt_call):
    low = salt_call("state.show_sls", "hapair.ocfs2.clean,hapair.o2cb.clean", 'pillar={"topology": "web"}')
    assert isinstance(low, dict), low
    assert low["hapair-ocfs2-www-unmounted"]["mount"][0] == {"name": "/var/www"}
    units = low["hapair-ocfs2-boot-units-absent"]["file"][0]["names"]
    assert str(salt_call.paths["systemd_dir"] / "hapair-drbd-promote@.service") in units
    assert set(low["hapair-o2cb-config-absent"]["file"][0]["names"]) == {
        str(salt_call.paths["o2cb_conf"]), str(salt_call.paths["o2cb_defaults"])}
    assert not any("mkfs" in repr(v) or "wipefs" in repr(v) for v in low.values())
