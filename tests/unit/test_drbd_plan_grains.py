"""The drbd grains (_grains/drbd.py) on real /proc/drbd captures, without Salt's loader.

Captures: tests/fixtures/fakebin/<stage>/node1/proc_drbd.stdout, verbatim from
../shared/captures/lab-drbd-8.4.11-utils-9.22.0 (DRBD 8.4.11, drbd-utils 9.22.0).
"""

import importlib.util
import os

import pytest
from conftest import FIXTURES, ROOT


@pytest.fixture
def grains():
    spec = importlib.util.spec_from_file_location("hapair_test_grains_drbd", os.path.join(ROOT, "_grains", "drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def opts(tmp_path, stage, conf='resource "r0" {\n  on node1 { device /dev/drbd0 minor 0; }\n}\n'):
    conf_dir = tmp_path / "drbd.d"
    conf_dir.mkdir(exist_ok=True)
    if conf:
        (conf_dir / "r0.res").write_text(conf)
    proc = os.path.join(FIXTURES, "fakebin", stage, "node1", "proc_drbd.stdout") if stage else str(tmp_path / "none")
    return {"hapair": {"paths": {"proc_drbd": proc, "drbd_conf": str(tmp_path / "drbd.conf"),
                                 "drbd_conf_dir": str(conf_dir)}}}


def test_syncing_primary(grains, tmp_path):
    out = grains._collect(opts(tmp_path, "04-syncing-primary-force"))
    assert out["drbd"]["version"] == "8.4.11"
    assert out["drbd"]["resources"]["r0"] == {
        "role": "Primary", "disk_state": "UpToDate", "connection_state": "Connected", "peer_role": "Secondary",
        "peer_disk_state": "Inconsistent", "replication_state": "SyncSource", "served_by_peer": False}
    assert out["drbd_roles"] == {"r0": "Primary"}


def test_unnamed_minor_without_config(grains, tmp_path):
    out = grains._collect(opts(tmp_path, "11-split-brain-standalone", conf=None))
    assert out["drbd_roles"] == {"minor-0": "Primary"}
    assert out["drbd"]["resources"]["minor-0"]["connection_state"] == "StandAlone"


def test_loaded_without_resources(grains, tmp_path):
    assert grains._collect(opts(tmp_path, "01-module-loaded-no-resources")) == {
        "drbd": {"version": "8.4.11", "resources": {}}, "drbd_roles": {}}


def test_absent_or_broken_drbd_gives_empty_and_never_raises(grains, tmp_path):
    grains.__opts__ = opts(tmp_path, None)
    assert grains.drbd() == {}
    broken = tmp_path / "proc"
    broken.write_text("version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Secondary\n garbage ::\n")
    grains.__opts__ = {"hapair": {"paths": {"proc_drbd": str(broken)}}}
    assert grains.drbd() == {}


def test_alerts_name_split_brain_and_standalone(grains, tmp_path):
    conf = opts(tmp_path, "11-split-brain-standalone")
    conf["hapair"]["paths"]["state_dir"] = str(tmp_path / "none")
    assert grains._collect(conf)["drbd_alerts"] == {"r0": ["StandAlone"]}  # status alone: StandAlone
    state = tmp_path / "state"
    (state / "drbd").mkdir(parents=True)
    (state / "drbd" / "r0.split-brain").write_text('{"kind": "split-brain"}\n')  # hapair's DRBD handler record
    conf["hapair"]["paths"]["state_dir"] = str(state)
    assert grains._collect(conf)["drbd_alerts"] == {"r0": ["split-brain", "StandAlone"]}
    assert "drbd_alerts" not in grains._collect(opts(tmp_path, "04-syncing-primary-force"))
