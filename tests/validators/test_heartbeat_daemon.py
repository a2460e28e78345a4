"""Rendered heartbeat v1 configs checked by the real daemon, offline (../shared/docs/VALIDATORS.md).

Heartbeat has no parse-only mode. In throw-away namespaces (``unshare --mount --net --pid --fork
--uts``) the rendered directory is bind-mounted on /etc/ha.d (and a temp dir on /var/log, so the
host's logs stay untouched) and a private tmpfs on /run (its pidfile), the hostname is set to the node's ``uname -n``, the media interfaces
exist as dummy (or veth) links, and ``/usr/libexec/heartbeat/heartbeat -d`` runs. The pid namespace ends
with its shell, so no daemon survives. Heartbeat prints "Configuration validated" *before* it
reads haresources, so success is: exit 0, that line, and no ERROR line.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest
from conftest import FIXTURES
from hapair import heartbeat
from hapair.errors import RenderError

HEARTBEAT = "/usr/libexec/heartbeat/heartbeat"
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(not os.access(HEARTBEAT, os.X_OK), reason="heartbeat not installed (apt-get install heartbeat)"),
    pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
                       reason="needs root, unshare and ip for throw-away namespaces"),
]
PACKAGED = ("harc", "shellfuncs", "rc.d", "resource.d")
SCRIPT = r"""
set -e
hostname "$1"; ha_dir="$2"; log_dir="$3"; shift 3
ip link set lo up
for spec in "$@"; do
  iface=${spec%%=*}; addr=${spec#*=}
  ip link show "$iface" >/dev/null 2>&1 || ip link add "$iface" type dummy 2>/dev/null \
    || ip link add "$iface" type veth peer name "hp$$${#iface}"
  ip addr add "$addr/24" brd + dev "$iface"
  ip link set "$iface" up
done
mount --bind "$ha_dir" /etc/ha.d
mount --bind "$log_dir" /var/log
mount -t tmpfs hapair-run /run   # heartbeat's pidfile: never the host's /run, never a stale one
set +e
/usr/libexec/heartbeat/heartbeat -d
echo "rc=$?"
"""


def topology() -> dict:
    with open(os.path.join(FIXTURES, "heartbeat", "seed-002-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def check(tmp_path, topo: dict, node: str, files: dict | None = None) -> tuple[bool, str]:
    ha_dir, log_dir = tmp_path / "ha.d", tmp_path / "log"
    ha_dir.mkdir()
    log_dir.mkdir()
    for name in PACKAGED:
        source = os.path.join("/etc/ha.d", name)
        if os.path.isdir(source):
            shutil.copytree(source, ha_dir / name, symlinks=True)
        elif os.path.exists(source):
            shutil.copy(source, ha_dir / name)
    for path, spec in (files or heartbeat.render(topo, str(ha_dir), str(tmp_path / "hapair"))).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(spec["content"])
        os.chmod(path, int(spec["mode"], 8))
    address = topo["nodes"][node]["cluster_address"]
    links = [f"{m['interface']}={address}" for m in topo["cluster"]["heartbeat"]["media"]]
    result = subprocess.run(
        ["unshare", "--mount", "--net", "--pid", "--fork", "--uts", "sh", "-c", SCRIPT, "sh",
         topo["nodes"][node]["hostname"], str(ha_dir), str(log_dir), *links],
        capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    ok = ("rc=0" in output and "Configuration validated" in output and "ERROR" not in output)
    return ok, output


@pytest.mark.parametrize("node", ["node01", "node02"])
def test_seed_002_config_is_validated_by_heartbeat(tmp_path, node):
    ok, output = check(tmp_path, topology(), node)
    assert ok, output


def test_authkeys_mode_matters(tmp_path):
    topo = topology()
    files = heartbeat.render(topo, str(tmp_path / "ha.d"), str(tmp_path / "hapair"))
    files[str(tmp_path / "ha.d" / "authkeys")]["mode"] = "0644"
    ok, output = check(tmp_path, topo, "node01", files)
    assert not ok and "Authentication configuration error" in output
    assert stat.S_IMODE(os.stat(tmp_path / "ha.d" / "authkeys").st_mode) == 0o644


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda t: t["cluster"]["heartbeat"].update(media=[]), "No heartbeat media defined"),
    ],
    ids=["no-media"],
)
def test_broken_configs_are_refused_by_heartbeat(tmp_path, breakage, message):
    topo = topology()
    breakage(topo)
    ok, output = check(tmp_path, topo, "node01")
    assert not ok, output
    assert message in output
    assert heartbeat.check(topo), "hapair refuses it before heartbeat does"


def test_an_unknown_node_in_haresources_is_refused_by_heartbeat_and_never_rendered(tmp_path):
    topo = topology()
    files = heartbeat.render(topo, str(tmp_path / "ha.d"), str(tmp_path / "hapair"))
    line = files[str(tmp_path / "ha.d" / "haresources")]
    assert "\nnode01 " in line["content"]
    line["content"] = line["content"].replace("\nnode01 ", "\nnode03 ")
    ok, output = check(tmp_path, topo, "node01", files)
    assert not ok and "Bad nodename" in output, output
    topo["groups"]["www"]["node"] = "node03"
    with pytest.raises(RenderError, match="node03"):
        heartbeat.render(topo)


def test_heartbeat_accepts_a_duplicate_node_so_hapair_checks_it(tmp_path):
    topo = topology()
    topo["nodes"]["node02"]["hostname"] = "node01"
    ok, output = check(tmp_path, topo, "node01")
    assert ok, output  # heartbeat 3.0.6 takes "node node01" twice
    assert heartbeat.check(topo) == ["node node01 is listed 2 times in ha.cf"]
    assert heartbeat.check(topology()) == []


def test_this_host_must_be_one_of_the_nodes(tmp_path):
    topo = topology()
    topo["nodes"]["node01"]["hostname"] = "elsewhere"
    files = heartbeat.render(topology(), str(tmp_path / "ha.d"), str(tmp_path / "hapair"))  # ha.cf names node01/node02
    ok, output = check(tmp_path, topo, "node01", files)
    assert not ok, output


@pytest.mark.parametrize("node", ["node01", "node02"])
def test_apache_pillar_is_validated_by_heartbeat(tmp_path, node):
    from conftest import ROOT

    path = os.path.join(ROOT, "pillar", "hapair", "apache.sls")
    import hapair.topology as topology_mod  # noqa: PLC0415
    yaml = pytest.importorskip("yaml")
    with open(path, encoding="utf-8") as handle:
        topo = topology_mod.load(yaml.safe_load(handle.read()), "apache")
    ok, output = check(tmp_path, topo, node)
    assert ok, output
