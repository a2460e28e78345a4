"""Hostile pillar strings: refused with a pillar path, or rendered into files the real tools accept.

Issue 12's property (../shared/docs/VALIDATORS.md for the tools): start from each example pillar
(pillar/hapair/*.sls), replace one string (a value or a mapping key) with hostile text (newline,
CR, NUL, tab, ``;``, ``#``, quotes, braces, spaces, commas, long strings, unicode), then

- refused: every error path starts with ``hapair:topologies:<name>``, no internal error, no traceback;
- accepted: every file hapair renders (DRBD both dialects, o2cb, cman, corosync + dlm.conf,
  heartbeat, exports, fstab lines) has no control character on any line (o2cb's tab indent aside),
  and drbdadm (8.4 and 9 parsers), o2cb, xmllint + cluster.rng, ``corosync -t`` and the heartbeat
  daemon accept it.

Bounded: one hypothesis run per example topology, ``MAX_EXAMPLES`` each, no deadline.
"""

from __future__ import annotations

import copy
import glob
import os
import pathlib
import shutil
import sys
import tempfile

import pytest
import yaml
from hapair import cman, corosync, drbd_render, fields, gfs2, heartbeat, nfs, o2cb, ocfs2, topology
from hapair.errors import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cman_schema import SCHEMAS, xmllint  # noqa: E402
from test_corosync_t import _unshare_works, corosync_t  # noqa: E402
from test_drbd_configs import V9, drbdadm, errors_of, parsers_for, render_into  # noqa: E402
from test_heartbeat_daemon import HEARTBEAT  # noqa: E402
from test_heartbeat_daemon import check as heartbeat_check  # noqa: E402
from test_o2cb_tools import o2cb_run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
MAX_EXAMPLES = 100
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("drbdadm") is None, reason="drbdadm not installed (apt-get install drbd-utils)"),
]

PILLARS: dict[str, dict] = {}
for _path in sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls"))):
    with open(_path, encoding="utf-8") as _handle:
        PILLARS.update((yaml.safe_load(_handle) or {})["hapair"]["topologies"])
for _raw in PILLARS.values():  # what the master's ext_pillar hapair_secrets hands the nodes (lab_apache)
    if heartbeat.needs_generated_key(_raw):
        _raw["cluster"]["heartbeat"]["authkeys"]["key"] = "0123456789abcdef" * 4

HOSTILE = ["\n", "\r", "\x00", "\t", ";", "#", '"', "'", "{", "}", " ", ",", "::", "\u2028", "\x85", "é",
           "\n  tgt: '*'", " *(rw,no_root_squash)", '"/><x y="', "\nrespawn root /bin/sh"]


def strings(node, where=()):
    """Every (location, kind) of a string in ``node``: ("value", keys) or ("key", keys)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield ("key", (*where, key))
            yield from strings(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, (*where, index))
    elif isinstance(node, str):
        yield ("value", where)


def mutate(raw: dict, location: tuple, text: str) -> dict:
    kind, keys = location
    out = copy.deepcopy(raw)
    parent = out
    for key in keys[:-1]:
        parent = parent[key]
    if kind == "key":
        parent[text] = parent.pop(keys[-1])
    else:
        parent[keys[-1]] = text
    return out


@st.composite
def hostile(draw, name: str) -> tuple[dict, tuple, str]:
    raw = PILLARS[name]
    location = draw(st.sampled_from(sorted(strings(raw), key=repr)))
    kind, keys = location
    original = str(keys[-1]) if kind == "key" else _get(raw, keys)
    how = draw(st.sampled_from(["append", "prepend", "insert", "replace", "long"]))
    bad = draw(st.sampled_from(HOSTILE))
    if how == "long":
        text = original + draw(st.sampled_from(["x", "é", "-"])) * draw(st.sampled_from([130, 256, 300]))
    elif how == "replace":
        text = bad
    elif how == "prepend":
        text = bad + original
    elif how == "insert":
        cut = draw(st.integers(0, len(original)))
        text = original[:cut] + bad + original[cut:]
    else:
        text = original + bad
    return mutate(raw, location, text), location, text


def _get(raw, keys):
    for key in keys:
        raw = raw[key]
    return raw


def rendered(topo: dict) -> dict[str, str]:
    """Every file hapair renders for ``topo`` (both nodes, both DRBD dialects), by a descriptive name."""
    files: dict[str, str] = {}
    for node in topo["node_order"]:
        for dialect in drbd_render.DIALECTS:
            for path, spec in drbd_render.render(topo, node, dialect, handler_path=drbd_render.HANDLER_PATH).items():
                files[f"drbd-{dialect}-{node}:{path}"] = spec["content"]
    stack = topo["cluster"]["stack"]
    if stack == "o2cb":
        files["o2cb:cluster.conf"] = o2cb.render_cluster_conf(topo)
        files["o2cb:defaults"] = o2cb.render_defaults(topo)
    elif stack == "cman":
        files["cman:cluster.conf"] = cman.render_cluster_conf(topo)
    elif stack == "corosync":
        files["corosync:corosync.conf"] = corosync.render_conf(topo)
        files["corosync:dlm.conf"] = corosync.render_dlm_conf(topo)
    elif stack == "heartbeat":
        files.update({f"heartbeat:{p}": spec["content"] for p, spec in heartbeat.render(topo).items()})
    files["nfs:exports"] = nfs.render_exports(topo)
    lines = []
    for fs in topo["filesystems"].values():
        if fs.get("mountpoint"):
            line = gfs2.fstab_line(fs) if fs["type"] == "gfs2" else ocfs2.fstab_line(fs)
            lines.append(line)
    files["fstab"] = "\n".join(lines) + "\n"
    return files


def _new_cman_attribute(location: tuple | None) -> bool:
    """A renamed key inside cman's attribute maps: an XML-safe name the RHEL 6 schema may not know.

    Validation checks attribute *names* are XML names, not that cluster.rng lists them (the schema
    is not vendored); ``cman.validate`` runs xmllint with the schema before a write.
    """
    return bool(location) and location[0] == "key" and location[1][:2] == ("cluster", "cman") and len(location[1]) > 3


def assert_tools_accept(topo: dict, tmp: str, location: tuple | None = None) -> None:
    for node in topo["node_order"]:
        host = topo["nodes"][node]["hostname"]
        for dialect in drbd_render.DIALECTS:
            sub = tempfile.mkdtemp(dir=tmp)
            conf, _ = render_into(sub, topo, node, dialect)
            for version in parsers_for(dialect):
                proc = drbdadm(conf, host, version, "sh-nop")
                assert proc.returncode == 0, f"drbdadm {version} ({dialect} dialect, {node}): {errors_of(proc)}"
    stack = topo["cluster"]["stack"]
    if stack == "o2cb" and shutil.which("o2cb"):
        path = os.path.join(tmp, "ocfs2-cluster.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(o2cb.render_cluster_conf(topo))
        proc = o2cb_run(path, "list-cluster", topo["cluster"]["name"])
        assert proc.returncode == 0 and o2cb.check_listed(proc.stdout, proc.stderr, topo) == [], proc.stderr
    if stack == "cman" and shutil.which("xmllint") and os.path.exists(SCHEMAS[0]) and not _new_cman_attribute(location):
        proc = xmllint(SCHEMAS[0], cman.render_cluster_conf(topo), pathlib.Path(tmp))
        assert proc.returncode == 0, proc.stderr
    if stack == "corosync" and shutil.which("corosync") and _unshare_works():
        for member in corosync.nodes(topo):
            proc = corosync_t(corosync.render_conf(topo), member["ring0_addr"], pathlib.Path(tempfile.mkdtemp(dir=tmp)))
            assert proc.returncode == 0, proc.stdout + proc.stderr
    if stack == "heartbeat" and os.access(HEARTBEAT, os.X_OK) and os.geteuid() == 0 and shutil.which("unshare"):
        for node in topo["node_order"]:
            ok, output = heartbeat_check(pathlib.Path(tempfile.mkdtemp(dir=tmp)), topo, node)
            assert ok, output


def check_one(name: str, raw: dict, location: tuple | None = None) -> None:
    errors = topology.validate(raw, name)
    prefix = f"hapair:topologies:{name}"
    if errors:
        assert all(e.path.startswith(prefix) for e in errors), [str(e) for e in errors]
        assert not any("internal validation error" in e.message for e in errors), [str(e) for e in errors]
        with pytest.raises(ValidationError):
            topology.load({"hapair": {"topologies": {name: raw}}}, name)
        return
    topo = topology.load({"hapair": {"topologies": {name: raw}}}, name)
    for label, content in rendered(topo).items():
        for line in content.splitlines():
            body = line.lstrip("\t") if label.startswith("o2cb:") else line
            assert not fields.has_control(body), f"{label}: {line!r}"
    with tempfile.TemporaryDirectory() as tmp:
        assert_tools_accept(topo, tmp, location)


@pytest.mark.parametrize("name", sorted(PILLARS))
def test_hostile_strings_are_refused_or_rendered_safely(name):
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(hostile(name))
    def run(case):
        raw, location, _text = case
        check_one(name, raw, location)

    run()


@pytest.mark.parametrize("name", sorted(PILLARS))
def test_the_unmutated_example_renders_and_passes_the_tools(name):
    check_one(name, copy.deepcopy(PILLARS[name]))


def test_the_drbd_parsers_are_the_oracle():
    """The check can fail: drbdadm refuses a name with a newline, which validation refuses first."""
    raw = mutate(PILLARS["web"], ("value", ("nodes", "web1", "hostname")), "web1\nx")
    assert any(e.path.endswith(":nodes:web1:hostname") for e in topology.validate(raw, "web"))
    assert V9
