"""cman, corosync and gfs2 through Salt's REAL loader (``salt-call --local``) with the real tools.

Proves what the mocked-loader unit tests cannot: the modules and states load (bootstrap import of
``hapair``, ``__virtual__``), read config and pillar the Salt way, run the real xmllint /
``corosync -t`` / blkid, and keep fence passwords out of Salt's output and its debug log.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
SCHEMA = os.path.join(SHARED, "schemas", "cluster.rng")
SALT_CALL = os.path.join(os.path.dirname(sys.executable), "salt-call")
SECRETS = ("Loader-Fence-Pw-1!", "Loader-Fence-Pw-2!")
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(not os.path.exists(SALT_CALL), reason=f"salt-call not found beside {sys.executable}"),
    pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint not installed (apt-get install libxml2-utils)"),
    pytest.mark.skipif(not os.path.exists(SCHEMA), reason=f"RHEL 6 cluster.rng not found at {SCHEMA} (../shared absent)"),
]


def load(name: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def minion(tmp_path_factory):
    base = tmp_path_factory.mktemp("saltcall")
    pillar = load("hardcore")
    devices = pillar["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["fence_devices"]
    devices["core-01_ipmi"]["passwd"], devices["core-02_ipmi"]["passwd"] = SECRETS
    pillar["hapair"]["topologies"].update(load("lab_gfs2")["hapair"]["topologies"])
    (base / "pillar").mkdir()
    (base / "pillar" / "top.sls").write_text(yaml.safe_dump({"base": {"*": ["topology"]}}))
    (base / "pillar" / "topology.sls").write_text(yaml.safe_dump(pillar))
    conf = base / "conf"
    conf.mkdir()
    config = {
        "id": "core-01", "root_dir": str(base / "root"), "file_client": "local",
        "pillar_roots": {"base": [str(base / "pillar")]}, "module_dirs": [ROOT],
        "log_file": str(base / "minion.log"), "log_level_logfile": "debug", "user": "root",
        "hapair": {"paths": {"cman_conf": str(base / "cluster" / "cluster.conf"), "cman_schema": SCHEMA,
                             "corosync_conf": str(base / "corosync" / "corosync.conf")}},
    }
    (conf / "minion").write_text(yaml.safe_dump(config))
    return {"base": base, "conf": str(conf), "cluster_conf": str(base / "cluster" / "cluster.conf")}


def call(minion, *args, minion_id=None):
    argv = [SALT_CALL, "--local", "-c", minion["conf"], "--out=json", "--log-level=quiet", *args]
    if minion_id:
        argv.append(f"--id={minion_id}")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    assert not any(s in proc.stdout + proc.stderr for s in SECRETS)
    return json.loads(proc.stdout)["local"]


def state(minion, fun, *args, test=False):
    out = call(minion, "state.single", fun, *args, *(["test=True"] if test else []))
    return next(iter(out.values()))


def test_cman_render_and_validate(minion):
    xml = call(minion, "cman.render", "hardcore")
    assert xml.count('passwd="********"') == 2
    assert call(minion, "cman.validate", "topology=hardcore") == {"valid": True, "tool": "xmllint", "errors": []}


def test_cluster_configured_test_apply_and_noop(minion):
    path = minion["cluster_conf"]
    dry = state(minion, "cman.cluster_configured", f"name={path}", "topology=hardcore", test=True)
    assert dry["result"] is None and dry["changes"]["config_version"] == {"old": None, "new": 3}
    assert not os.path.exists(path)
    done = state(minion, "cman.cluster_configured", f"name={path}", "topology=hardcore")
    assert done["result"] is True and done["changes"] == dry["changes"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    again = state(minion, "cman.cluster_configured", f"name={path}", "topology=hardcore")
    assert again["result"] is True and again["changes"] == {}
    assert call(minion, "cman.config_version") == {"running": None, "file": 3}
    # Salt prepends root_dir to log_file
    log = (minion["base"] / "root" / str(minion["base"] / "minion.log").lstrip("/")).read_text()
    assert "cman" in log and not any(s in log for s in SECRETS)


def test_gfs2_refuses_without_drbd(minion):
    if shutil.which("mkfs.gfs2") is None:
        pytest.skip("gfs2-utils not installed")
    ret = state(minion, "gfs2.formatted", "name=gfs2-00", "topology=hardcore")
    assert ret["result"] is False and "/dev/drbd0" in ret["comment"] and "not ready" in ret["comment"]


def test_corosync_validate_through_the_loader(minion):
    if shutil.which("corosync") is None or subprocess.run(["unshare", "-rn", "true"]).returncode != 0:
        pytest.skip("corosync or unshare -rn not available")
    verdict = call(minion, "corosync.validate", "topology=lab_gfs2", minion_id="node1")
    assert verdict == {"valid": True, "retcode": 0, "errors": []}
