"""Rendered DRBD configs checked by the real drbd-utils parsers, offline (docs: ../shared/docs/VALIDATORS.md).

For every seed topology, every node and both dialects: write the files into a temp dir, then
``drbdadm -c FILE sh-nop`` and ``drbdadm -c FILE -d up all </dev/null`` pretending to be the node
(``__DRBD_NODE__``) under the DRBD 9 parser (``DRBD_DRIVER_VERSION_OVERRIDE=9.2.2``) and, for the
8.4 dialect, under the 8.4 parser too (``8.4.11`` runs /usr/lib/drbd/drbdadm-84). The 8.4 parser
misses misspelt after-sb policies, so the v9 parser always runs as well. The dry run must print the
drbdmeta/drbdsetup calls for the node's own disk and address. Negative cases prove the check fails.

Topologies: the example pillars (pillar/hapair/*.sls through ``hapair.topology.load``) when they are
in the tree, and always the hand-built normalised seeds in tests/fixtures/render/seed_topologies.json.
"""

from __future__ import annotations

import copy
import functools
import glob
import json
import os
import re
import shutil
import stat
import subprocess

import pytest
from conftest import FIXTURES, ROOT
from hapair import drbd_render

pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("drbdadm") is None, reason="drbdadm not installed (apt-get install drbd-utils)"),
]

V84, V9 = "8.4.11", "9.2.2"
DRBDADM_84 = "/usr/lib/drbd/drbdadm-84"


def hand_built() -> dict[str, dict]:
    with open(os.path.join(FIXTURES, "render", "seed_topologies.json"), encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=1)
def _pillar_topologies() -> dict[str, dict]:
    """Normalised topologies of pillar/hapair/*.sls, once hapair.topology and the files exist."""
    files = sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls")))
    if not files:
        return {}
    try:
        import jinja2
        import yaml
        from hapair import topology
    except ImportError:
        return {}
    out = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            pillar = yaml.safe_load(jinja2.Template(handle.read()).render()) or {}
        for name in sorted((pillar.get("hapair") or {}).get("topologies") or {}):
            out[f"pillar/{os.path.basename(path)}:{name}"] = topology.load(pillar, name)
    return out


def all_topologies() -> dict[str, dict]:
    """Fresh copies: a test may change its topology."""
    return {**{f"hand/{k}": v for k, v in hand_built().items()}, **copy.deepcopy(_pillar_topologies())}


def parsers_for(dialect: str) -> list[str]:
    return [V84, V9] if dialect == "8.4" else [V9]


def write(files: dict, tmp: str) -> None:
    for path, spec in files.items():
        assert path.startswith(tmp + os.sep), path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(spec["mode"], 8))
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(spec["content"])
        os.chmod(path, int(spec["mode"], 8))


def render_into(tmp, topo: dict, node: str, dialect: str) -> tuple[str, dict]:
    tmp = str(tmp)
    conf = os.path.join(tmp, "drbd.conf")
    files = drbd_render.render(topo, node, dialect, conf_path=conf, conf_dir=os.path.join(tmp, "drbd.d"))
    write(files, tmp)
    return conf, files


def drbdadm(conf: str, host: str, version: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, __DRBD_NODE__=host, DRBD_DRIVER_VERSION_OVERRIDE=version)
    return subprocess.run(["drbdadm", "-c", conf, *args], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False)


def errors_of(proc: subprocess.CompletedProcess) -> str:
    noise = ("PRETENDING", "found __DRBD_NODE__", "modinfo: ERROR")
    return "\n".join(line for line in proc.stderr.splitlines() if line.strip() and not any(n in line for n in noise))


def shell_escaped(text: str) -> str:
    """drbdadm -d prints arguments shell-escaped (e.g. ``ipv6:\\[fd00::1\\]:7788``)."""
    return re.sub(r"([^A-Za-z0-9_./:=,+@%-])", r"\\\1", text)


def addr(address: str, port: int) -> str:
    return shell_escaped(f"ipv6:[{address}]:{port}" if ":" in address else f"ipv4:{address}:{port}")


def expected_calls(topo: dict, node: str, version: str, implicit_ids: bool) -> list[str]:
    """Regexes for the lines `drbdadm -d up all` must print on ``node`` (its own disk and address)."""
    peer = next(n for n in topo["node_order"] if n != node)
    out = []
    for name in drbd_render.resource_names(topo):
        res = topo["drbd"]["resources"][name]
        own, other = res["nodes"][node], res["nodes"][peer]
        minor, disk = own["minor"], shell_escaped(own["disk"])
        if own["meta_disk"] == "internal":
            meta, meta_idx, attach_meta = "internal", "internal", f"{disk} internal"
        else:  # external, no index: DRBD's flexible external meta data
            meta = shell_escaped(own["meta_disk"])
            meta_idx, attach_meta = f"{meta} flex-external", f"{meta} flexible"
        path = f"{addr(own['address'], own['port'])} {addr(other['address'], other['port'])}"
        if version == V84:
            out += [
                rf"^drbdsetup-84 new-minor {name} {minor} 0$",
                rf"^drbdmeta {minor} v08 {re.escape(disk if meta == 'internal' else meta_idx)}"
                + (" internal" if meta == "internal" else "") + " apply-al$",
                rf"^drbdsetup-84 attach {minor} {re.escape(disk)} {re.escape(attach_meta)}( |$)",
                rf"^drbdsetup-84 connect {name} {re.escape(path)}( |$)",
            ]
        else:
            own_id = r"\d+" if implicit_ids else str(topo["nodes"][node]["node_id"])
            peer_id = r"\d+" if implicit_ids else str(topo["nodes"][peer]["node_id"])
            out += [
                rf"^drbdsetup new-resource {name} {own_id}( |$)",
                rf"^drbdsetup new-minor {name} {minor} 0$",
                rf"^drbdsetup new-peer {name} {peer_id} --_name={re.escape(shell_escaped(topo['nodes'][peer]['hostname']))}( |$)",
                rf"^drbdsetup new-path {name} {peer_id} {re.escape(path)}$",
                rf"^drbdmeta {minor} v09 {re.escape(disk if meta == 'internal' else meta_idx)}"
                + (" internal" if meta == "internal" else "") + " apply-al$",
                rf"^drbdsetup attach {minor} {re.escape(disk)} {re.escape(attach_meta)}( |$)",
                rf"^drbdsetup connect {name} {peer_id}$",
            ]
    return out


CASES = [
    (key, node, dialect)
    for key, topo in all_topologies().items()
    for node in topo["node_order"]
    for dialect in drbd_render.DIALECTS
]


@pytest.mark.parametrize("key, node, dialect", CASES, ids=[f"{k}-{n}-{d}" for k, n, d in CASES])
def test_real_drbdadm_accepts_and_dry_runs(tmp_path, key, node, dialect):
    topo = all_topologies()[key]
    conf, files = render_into(tmp_path, topo, node, dialect)
    host = topo["nodes"][node]["hostname"]
    for version in parsers_for(dialect):
        if version == V84 and not os.access(DRBDADM_84, os.X_OK):
            pytest.skip(f"{DRBDADM_84} missing (drbd-utils built without 8.4 support)")
        nop = drbdadm(conf, host, version, "sh-nop")
        assert nop.returncode == 0, f"sh-nop under {version}:\n{errors_of(nop)}"
        up = drbdadm(conf, host, version, "-d", "up", "all")
        assert up.returncode == 0, f"-d up under {version}:\n{errors_of(up)}"
        lines = up.stdout.splitlines()
        for pattern in expected_calls(topo, node, version, implicit_ids=dialect == "8.4"):
            assert any(re.search(pattern, line) for line in lines), f"{version}: no line matches {pattern}\n{up.stdout}"
        # Every option hapair put into a resource reached the kernel calls (nothing silently dropped).
        for name in drbd_render.resource_names(topo):
            res = topo["drbd"]["resources"][name]
            for option, value in (("protocol", res["protocol"]), ("cram-hmac-alg", res["cram_hmac_alg"]),
                                  ("after-sb-0pri", res["after_sb_0pri"]), ("after-sb-1pri", res["after_sb_1pri"]),
                                  ("after-sb-2pri", res["after_sb_2pri"])):
                if value:
                    assert f"--{option}={value}" in up.stdout
            if res["mode"] == "dual-primary":
                assert "--allow-two-primaries=yes" in up.stdout


@pytest.mark.parametrize("key", sorted(all_topologies()))
def test_secret_files_are_written_0600(tmp_path, key):
    topo = all_topologies()[key]
    node = topo["node_order"][0]
    _, files = render_into(tmp_path, topo, node, "9")
    for path, spec in files.items():
        mode = stat.S_IMODE(os.stat(path).st_mode)
        holds_secret = any(s in spec["content"] for s in topo["secrets"] if s) or "shared-secret" in spec["content"]
        assert spec["secret"] is holds_secret, path
        assert mode == (0o600 if holds_secret else 0o644), f"{path}: {oct(mode)}"
    for name, res in topo["drbd"]["resources"].items():
        spec = files[os.path.join(str(tmp_path), "drbd.d", f"{name}.res")]
        assert spec["secret"] is bool(res.get("shared_secret")), name


# --- negative cases: the real parsers reject what they must --------------------------------------------


def seed(key: str) -> dict:
    return copy.deepcopy(hand_built()[key])


def rejected(tmp_path, topo: dict, node: str, dialect: str, version: str, action=("sh-nop",)) -> str:
    conf, _ = render_into(tmp_path, topo, node, dialect)
    proc = drbdadm(conf, topo["nodes"][node]["hostname"], version, *action)
    assert proc.returncode != 0, f"drbdadm {version} accepted a broken config:\n{proc.stdout}"
    return errors_of(proc)


def test_misspelt_after_sb_policy_is_caught_by_the_v9_parser(tmp_path):
    topo = seed("seed-000")
    topo["drbd"]["resources"]["r0"]["after_sb_0pri"] = "discard-zero-change"
    for dialect in drbd_render.DIALECTS:
        err = rejected(tmp_path / dialect, topo, "web1", dialect, V9)
        assert "discard-zero-change" in err


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_duplicate_minor_is_rejected(tmp_path, dialect):
    topo = seed("seed-001")
    topo["drbd"]["resources"]["drbd1"]["nodes"]["fiori"].update(minor=0, device="/dev/drbd0")
    for version in parsers_for(dialect):
        err = rejected(tmp_path / version, topo, "fiori", dialect, version)
        assert "minor" in err.lower()


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_address_port_clash_is_rejected(tmp_path, dialect):
    topo = seed("seed-003")
    for per in topo["drbd"]["resources"]["r1"]["nodes"].values():
        per["port"] = 7788
    for version in parsers_for(dialect):
        err = rejected(tmp_path / version, topo, "node1", dialect, version)
        assert "7788" in err


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_unknown_free_form_option_is_rejected(tmp_path, dialect):
    topo = seed("seed-004")
    topo["drbd"]["resources"]["r0"]["sections"]["net"]["ping-intt"] = 10
    for version in parsers_for(dialect):
        err = rejected(tmp_path / version, topo, "core-02", dialect, version)
        assert "ping-intt" in err


def test_bad_protocol_is_rejected(tmp_path):
    topo = seed("seed-000")
    topo["drbd"]["resources"]["r0"]["protocol"] = "D"
    for dialect in drbd_render.DIALECTS:
        rejected(tmp_path / dialect, topo, "web2", dialect, V9)


def test_node_id_clash_is_rejected_in_dialect_9(tmp_path):
    topo = seed("seed-000")
    topo["nodes"]["web2"]["node_id"] = 0
    err = rejected(tmp_path, topo, "web1", "9", V9)
    assert "node-id" in err or "node_id" in err


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_hostname_that_is_not_uname_fails_the_dry_run(tmp_path, dialect):
    topo = seed("seed-000")
    # The recipe: `on` names must match `uname -n`. (drbdadm also accepts the short name and any
    # letter case, so "web1" or "WEB1.lowend.party" would pass; another domain must not.)
    topo["nodes"]["web1"]["hostname"] = "web1.example.org"
    conf, _ = render_into(tmp_path, topo, "web1", dialect)
    for version in parsers_for(dialect):
        proc = drbdadm(conf, "web1.lowend.party", version, "-d", "up", "all")
        assert proc.returncode != 0, proc.stdout


def test_v9_parser_rejects_the_83_syncer_section_we_translate(tmp_path):
    """Why sections.syncer is mapped: seed 003's global_common.conf verbatim is refused by the v9 parser."""
    files = drbd_render.render(seed("seed-003"), "node1", "9", conf_path=str(tmp_path / "drbd.conf"),
                               conf_dir=str(tmp_path / "drbd.d"))
    gc = str(tmp_path / "drbd.d" / "global_common.conf")
    files[gc]["content"] = "global {\n\tusage-count no;\n}\ncommon {\n        syncer {\n                rate 200M;\n        }\n}\n"
    write(files, str(tmp_path))
    proc = drbdadm(str(tmp_path / "drbd.conf"), "node1", V9, "sh-nop")
    assert proc.returncode != 0 and "syncer" in errors_of(proc)


def test_ipv6_topology_is_accepted(tmp_path):
    topo = seed("seed-000")
    for name, address in (("web1", "fd00::1"), ("web2", "fd00::2")):
        topo["nodes"][name]["address"] = address
        topo["drbd"]["resources"]["r0"]["nodes"][name]["address"] = address
    for dialect in drbd_render.DIALECTS:
        conf, _ = render_into(tmp_path / dialect, topo, "web2", dialect)
        for version in parsers_for(dialect):
            up = drbdadm(conf, "web2.lowend.party", version, "-d", "up", "all")
            assert up.returncode == 0, errors_of(up)
            for pattern in expected_calls(topo, "web2", version, implicit_ids=dialect == "8.4"):
                assert any(re.search(pattern, line) for line in up.stdout.splitlines()), (pattern, up.stdout)


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_discard_node_policy_reaches_both_parsers_node_relative(tmp_path, dialect):
    """drbdadm-84 turns discard-node-<host> into discard-local/-remote itself; the v9 parser rejects
    discard-node-*, so hapair writes the relative form, and both parsers must agree with it."""
    topo = seed("seed-000")
    topo["drbd"]["resources"]["r0"]["after_sb_0pri"] = "discard-node-web1.lowend.party"
    for node, expect in (("web1", "discard-local"), ("web2", "discard-remote")):
        conf, _ = render_into(tmp_path / node, topo, node, dialect)
        for version in parsers_for(dialect):
            up = drbdadm(conf, topo["nodes"][node]["hostname"], version, "-d", "up", "all")
            assert up.returncode == 0, errors_of(up)
            assert f"--after-sb-0pri={expect} " in up.stdout


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_external_meta_disk_and_free_form_options_reach_the_calls(tmp_path, dialect):
    topo = seed("seed-004")
    r0 = topo["drbd"]["resources"]["r0"]
    for per in r0["nodes"].values():
        per["meta_disk"] = "/dev/cciss/c0d3p1"
    r0["sections"]["options"] = {"cpu-mask": "ff"}
    r0["sections"]["net"]["max-buffers"] = "8k"
    r0["sections"]["disk"]["disk-flushes"] = False
    r0["sections"]["syncer"]["verify-alg"] = "sha1"
    conf, _ = render_into(tmp_path, topo, "core-02", dialect)
    for version in parsers_for(dialect):
        up = drbdadm(conf, "core-02", version, "-d", "up", "all")
        assert up.returncode == 0, errors_of(up)
        for pattern in expected_calls(topo, "core-02", version, implicit_ids=dialect == "8.4"):
            assert any(re.search(pattern, line) for line in up.stdout.splitlines()), (pattern, up.stdout)
        r0_lines = [line for line in up.stdout.splitlines() if " r0 " in line or " 0 " in line]
        for flag in ("--cpu-mask=ff", "--max-buffers=8k", "--disk-flushes=no", "--verify-alg=sha1",
                     "--resync-rate=100M", "--on-io-error=detach", "--rr-conflict=violently"):
            assert any(flag in line for line in r0_lines), (flag, up.stdout)



def in_netns_with(ips: list[str], conf: str, host: str, version: str, *args: str) -> subprocess.CompletedProcess:
    """drbdadm in a throw-away network namespace whose lo holds ``ips`` (VALIDATORS.md: `dump all`
    checks that the node's own addresses exist on the host)."""
    cidrs = [f"{ip}/{128 if ':' in ip else 32}" for ip in ips]
    script = ('ip link set lo up || exit 99; n=$1; shift; while [ "$n" -gt 0 ]; do '
              'ip addr add "$1" dev lo || exit 99; shift; n=$((n-1)); done; exec drbdadm "$@"')
    env = dict(os.environ, __DRBD_NODE__=host, DRBD_DRIVER_VERSION_OVERRIDE=version)
    return subprocess.run(["unshare", "-n", "sh", "-c", script, "sh", str(len(cidrs)), *cidrs, "-c", conf, *args],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)


def netns_usable() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not netns_usable(), reason="needs unshare -n and ip (root) for the own-address check")
@pytest.mark.parametrize("key", sorted(all_topologies()))
@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_dump_all_finds_the_nodes_own_addresses(tmp_path, key, dialect):
    topo = all_topologies()[key]
    for node in topo["node_order"]:
        conf, _ = render_into(tmp_path / node, topo, node, dialect)
        host = topo["nodes"][node]["hostname"]
        own = sorted({res["nodes"][node]["address"] for res in topo["drbd"]["resources"].values()})
        for version in parsers_for(dialect):
            present = in_netns_with(own, conf, host, version, "dump", "all")
            assert present.returncode == 0, errors_of(present)
            absent = in_netns_with([], conf, host, version, "dump", "all")
            assert absent.returncode == 10, errors_of(absent)
            assert "not found on this host" in errors_of(absent)


@pytest.mark.parametrize("dialect", drbd_render.DIALECTS)
def test_a_by_path_disk_is_validated_quoted_and_accepted(tmp_path, dialect):
    """udev's by-path names hold ':', which ends a bare word for drbdadm: written quoted, accepted."""
    import yaml
    from hapair import topology
    with open(os.path.join(ROOT, "pillar", "hapair", "web.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    disk = "/dev/disk/by-path/pci-0000:00:05.0-part1"
    pillar["hapair"]["topologies"]["web"]["drbd"]["resources"]["r0"]["disk"] = disk
    topo = topology.load(pillar, "web")
    node = sorted(topo["nodes"])[0]
    conf, files = render_into(tmp_path, topo, node, dialect)
    assert f'disk "{disk}";' in "".join(spec["content"] for spec in files.values())
    for version in parsers_for(dialect):
        proc = drbdadm(conf, topo["nodes"][node]["hostname"], version, "sh-nop")
        assert proc.returncode == 0, errors_of(proc)
