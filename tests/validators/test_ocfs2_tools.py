"""OCFS2 argv and boot units proven with the real tools, offline (../shared/docs/VALIDATORS.md).

- mkfs.ocfs2 runs the argv hapair plans on a truncated temp file; ``debugfs.ocfs2 -R stats`` and
  ``blkid -p -o export`` read back label, slots and cluster name; then the format planner, fed the
  real blkid output, plans nothing (exactly once) and refuses an ext4 image.
- the promote unit, its drop-ins and the fstab lines go through systemd's own fstab generator
  and ``systemd-analyze verify`` (which finds ordering cycles); a deliberate cycle proves it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from conftest import FIXTURES
from hapair import ocfs2, parsing
from hapair.errors import ParseError, RefusedError

pytestmark = pytest.mark.validators
needs_mkfs = pytest.mark.skipif(
    not (shutil.which("mkfs.ocfs2") and shutil.which("debugfs.ocfs2") and shutil.which("modprobe")),
    reason="mkfs.ocfs2/debugfs.ocfs2 or modprobe missing (apt-get install ocfs2-tools kmod)")
FSTAB_GENERATOR = "/lib/systemd/system-generators/systemd-fstab-generator"
needs_systemd = pytest.mark.skipif(
    not (shutil.which("systemd-analyze") and os.access(FSTAB_GENERATOR, os.X_OK)),
    reason="systemd-analyze or systemd-fstab-generator not installed")


def topology(seed: str) -> dict:
    with open(os.path.join(FIXTURES, "o2cb", f"{seed}-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, **kwargs)


def image(tmp_path, name: str = "f.img", size: str = "200M") -> str:
    path = str(tmp_path / name)
    run(["truncate", "-s", size, path]).check_returncode()
    return path


@needs_mkfs
@pytest.mark.parametrize("seed, fsname", [("seed-000", "www"), ("seed-001", "small"), ("seed-001", "large")])
def test_planned_mkfs_makes_the_filesystem_the_topology_asks_for(tmp_path, seed, fsname):
    topo = topology(seed)
    fs = topo["filesystems"][fsname]
    cluster = topo["cluster"]["name"]
    img = image(tmp_path, size="3G" if fs["mkfs_type"] == "vmstore" else "200M")  # vmstore wants >= 2G
    facts = {"node": fs["format_on"], "format_node": fs["format_on"], "device": img,
             "signature": parsing.parse_blkid(run(["blkid", "-p", "-o", "export", img]).stdout),
             "drbd": None}
    plan = ocfs2.plan_formatted(facts, fs, cluster)
    assert [step["action"] for step in plan] == ["mkfs"]
    result = run(plan[0]["argv"])
    assert result.returncode == 0, result.stderr
    stats = ocfs2.parse_debugfs_stats(run(["debugfs.ocfs2", "-R", "stats", img]).stdout)
    assert stats["label"] == fs["label"]
    assert stats["max_node_slots"] == fs["slots"]
    assert (stats["cluster_stack"], stats["cluster_name"]) == ("o2cb", cluster)
    # exactly once: the real signature now makes the planner plan nothing
    facts["signature"] = parsing.parse_blkid(run(["blkid", "-p", "-o", "export", img]).stdout)
    assert facts["signature"]["type"] == "ocfs2"
    assert ocfs2.plan_formatted(facts, fs, cluster) == []


@needs_mkfs
def test_mkfs_type_changes_the_real_filesystem(tmp_path):
    fs = topology("seed-001")["filesystems"]
    sizes = {}
    for name in ("small", "large"):  # -T mail vs -T vmstore
        img = image(tmp_path, f"{name}.img", "3G")  # sparse; -T vmstore refuses less than 2G
        assert run(ocfs2.mkfs_argv(fs[name], "ocfs2", device=img)).returncode == 0
        sizes[name] = ocfs2.parse_debugfs_stats(run(["debugfs.ocfs2", "-R", "stats", img]).stdout)["cluster_size"]
    assert sizes["small"] < sizes["large"]


@needs_mkfs
def test_debugfs_exits_0_on_a_foreign_image_and_the_parser_refuses_it(tmp_path):
    img = image(tmp_path, "ext.img", "64M")
    assert run(["mkfs.ext4", "-q", "-F", "-L", "data", img]).returncode == 0
    result = run(["debugfs.ocfs2", "-R", "stats", img])
    assert result.returncode == 0
    with pytest.raises(ParseError):
        ocfs2.parse_debugfs_stats(result.stdout)
    topo = topology("seed-000")
    fs = topo["filesystems"]["www"]
    facts = {"node": "web1", "format_node": "web1", "device": img, "drbd": None,
             "signature": parsing.parse_blkid(run(["blkid", "-p", "-o", "export", img]).stdout)}
    with pytest.raises(RefusedError) as err:
        ocfs2.plan_formatted(facts, fs, "webcluster")
    assert "ext4 labelled 'data'" in str(err.value) and img in str(err.value)


@needs_systemd
def test_mount_unit_names_match_systemd_escape():
    for path in ("/vol/ocfs2-small", "/var/www", "/srv/a b", "/x.y/-z"):
        result = run(["systemd-escape", "-p", "--suffix=mount", path])
        assert ocfs2.mount_unit_name(path) == result.stdout.strip()


def install_units(tmp_path, topo: dict, node: str, extra: dict | None = None) -> str:
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    for path, spec in {**ocfs2.render_boot_units(topo, node, systemd_dir=str(unit_dir)), **(extra or {})}.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(spec["content"])
    fstab = tmp_path / "fstab"
    fstab.write_text("".join(ocfs2.fstab_line(fs) + "\n" for fs in topo["filesystems"].values()
                             if node in fs["mount_on"]))
    gen = tmp_path / "gen"
    gen.mkdir()
    result = run([FSTAB_GENERATOR, str(gen), str(gen), str(gen)], env={**os.environ, "SYSTEMD_FSTAB": str(fstab)})
    assert result.returncode == 0, result.stderr
    for name in os.listdir(gen):
        if name.endswith(".mount"):
            shutil.copy(gen / name, unit_dir / name)
    return str(unit_dir)


def verify(unit_dir: str, units: list[str]) -> subprocess.CompletedProcess:
    return run(["systemd-analyze", "verify", *units], cwd=unit_dir,
               env={**os.environ, "SYSTEMD_UNIT_PATH": f"{unit_dir}:"})


@needs_systemd
@pytest.mark.parametrize("seed, node", [("seed-000", "web1"), ("seed-001", "torchio")])
def test_boot_units_verify_and_order_promote_before_mount(tmp_path, seed, node):
    topo = topology(seed)
    unit_dir = install_units(tmp_path, topo, node)
    units = []
    for fs in topo["filesystems"].values():
        mount = ocfs2.mount_unit_name(fs["mountpoint"])
        with open(os.path.join(unit_dir, mount), encoding="utf-8") as handle:
            generated = handle.read()
        promote = ocfs2.promote_unit_instance(fs["resource"])
        assert f"Requires={promote}" in generated and f"After={promote}" in generated
        units += [mount, promote]
    result = verify(unit_dir, units)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


@needs_systemd
def test_verify_catches_an_ordering_cycle(tmp_path):
    topo = topology("seed-000")
    dropin = str(tmp_path / "units" / "var-www.mount.d" / "cycle.conf")
    unit_dir = install_units(tmp_path, topo, "web1", {
        dropin: {"content": "[Unit]\nBefore=hapair-drbd-promote@r0.service\n"}})
    result = verify(unit_dir, ["var-www.mount"])
    assert result.returncode != 0 and "ordering cycle" in result.stderr
