"""Rendered o2cb configs read back by the real o2cb parser, offline (../shared/docs/VALIDATORS.md).

``o2cb --config-file=FILE list-cluster NAME`` is the parser the o2cb init script uses. It exits 0
on a missing file or an unknown cluster, so :func:`hapair.o2cb.check_listed` judges the listing.
Negative cases prove each check can fail; the cases o2cb accepts (duplicate numbers, node_count
mismatch) prove why hapair's own checks exist. Topologies: tests/fixtures/o2cb/seed-00N-topology.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import FIXTURES
from hapair import o2cb

pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("o2cb") is None, reason="o2cb not installed (apt-get install ocfs2-tools)"),
]
SEEDS = ("seed-000", "seed-001")


def topology(seed: str) -> dict:
    with open(os.path.join(FIXTURES, "o2cb", f"{seed}-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def o2cb_run(conf: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["o2cb", f"--config-file={conf}", *args], capture_output=True, text=True, timeout=30)


def write(tmp_path, text: str, name: str = "cluster.conf") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return str(path)


@pytest.mark.parametrize("seed", SEEDS)
def test_rendered_cluster_conf_is_read_back_by_o2cb(tmp_path, seed):
    topo = topology(seed)
    conf = write(tmp_path, o2cb.render_cluster_conf(topo))
    result = o2cb_run(conf, "list-cluster", topo["cluster"]["name"])
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert o2cb.check_listed(result.stdout, result.stderr, topo) == []
    assert o2cb_run(conf, "list-clusters").stdout.split() == [topo["cluster"]["name"]]


def test_a_missing_file_exits_0_but_is_caught(tmp_path):
    topo = topology("seed-001")
    result = o2cb_run(str(tmp_path / "absent.conf"), "list-cluster", "ocfs2")
    assert result.returncode == 0  # the trap VALIDATORS.md describes
    problems = o2cb.check_listed(result.stdout, result.stderr, topo)
    assert problems and "Unknown cluster" in problems[0]


@pytest.mark.parametrize(
    "breakage",
    [
        ("crlf", lambda text: text.replace("\n", "\r\n")),
        ("unindented-key", lambda text: text.replace("\tip_port = 7777", "ip_port = 7777", 1)),
        ("bad-ip", lambda text: text.replace("192.168.1.6", "192.168.1.300")),
        ("bad-port", lambda text: text.replace("ip_port = 7777", "ip_port = 77x77", 1)),
        ("missing-key", lambda text: text.replace("\tip_address = 192.168.1.7\n", "")),
        ("duplicate-name", lambda text: text.replace("name = torchio", "name = fiori")),
    ],
    ids=lambda b: b[0],
)
def test_broken_files_are_rejected_by_o2cb(tmp_path, breakage):
    topo = topology("seed-001")
    conf = write(tmp_path, breakage[1](o2cb.render_cluster_conf(topo)))
    result = o2cb_run(conf, "list-cluster", "ocfs2")
    assert result.returncode == 1 and "while loading cluster configuration file" in result.stderr, breakage[0]
    assert o2cb.check_listed(result.stdout, result.stderr, topo)


def test_what_o2cb_accepts_our_checks_refuse(tmp_path):
    topo = topology("seed-001")
    text = o2cb.render_cluster_conf(topo).replace("number = 2", "number = 1").replace("node_count = 2",
                                                                                       "node_count = 3")
    result = o2cb_run(write(tmp_path, text), "list-cluster", "ocfs2")
    assert result.returncode == 0 and "node_count = 3" in result.stdout  # o2cb takes it as it is
    problems = o2cb.check_cluster_conf(o2cb.parse_cluster_conf(result.stdout), "ocfs2")
    assert "node number 1 is used by fiori and torchio" in problems
    assert any(p.startswith("node_count = 3") for p in problems)


def test_our_duplicate_number_check_agrees_with_o2cb_add_node(tmp_path):
    """Re-adding each rendered node with ``o2cb add-node`` (which does check numbers) succeeds."""
    topo = topology("seed-000")
    conf = write(tmp_path, "")
    assert o2cb_run(conf, "add-cluster", topo["cluster"]["name"]).returncode == 0
    for node in o2cb.cluster_nodes(topo):
        result = o2cb_run(conf, "add-node", node["cluster"], node["name"], "--ip", node["ip_address"],
                          "--port", str(node["ip_port"]), "--number", str(node["number"]))
        assert result.returncode == 0, result.stderr
    clash = o2cb_run(conf, "add-node", topo["cluster"]["name"], "intruder", "--ip", "10.0.0.9",
                     "--number", "1")
    assert clash.returncode != 0 and "Choose another node number" in clash.stderr
    assert o2cb.check_listed(o2cb_run(conf, "list-cluster", topo["cluster"]["name"]).stdout, "", topo) == []


@pytest.mark.parametrize("sls, name", [("web.sls", "web"), ("fileserver.sls", "fileserver")])
def test_example_pillars_render_configs_o2cb_reads_back(tmp_path, sls, name):
    from conftest import ROOT

    path = os.path.join(ROOT, "pillar", "hapair", sls)
    import hapair.topology as topology_mod  # noqa: PLC0415
    yaml = pytest.importorskip("yaml")
    with open(path, encoding="utf-8") as handle:
        topo = topology_mod.load(yaml.safe_load(handle.read()), name)
    conf = write(tmp_path, o2cb.render_cluster_conf(topo))
    result = o2cb_run(conf, "list-cluster", topo["cluster"]["name"])
    assert result.returncode == 0 and o2cb.check_listed(result.stdout, result.stderr, topo) == []


INIT = "/etc/init.d/o2cb"


@pytest.mark.skipif(not os.access(INIT, os.X_OK), reason=f"{INIT} not installed (apt-get install ocfs2-tools)")
def test_this_hosts_o2cb_status_parses_whatever_its_state():
    """Read-only: the installed init script's status and cluster-status, in this host's state."""
    status = subprocess.run([INIT, "status"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "SYSTEMCTL_SKIP_REDIRECT": "1"})
    parsed = o2cb.parse_init_status(status.stdout)
    assert parsed["format"] == "1.8" and isinstance(parsed["online"], bool)
    cluster = subprocess.run(["o2cb", "cluster-status"], capture_output=True, text=True, timeout=60)
    assert o2cb.parse_cluster_status(cluster.stdout)["online"] is (cluster.returncode == 0)
