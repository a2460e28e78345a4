"""Every parser of tool output raises only ParseError, whatever the tool printed, in linear time.

The registry below pairs each public parser (every ``parse_*`` function of a ``hapair`` module,
plus the DRBD config readers) with the real captures in ``tests/fixtures`` it reads; a test checks
that no parser is left out. Each capture is then damaged deterministically (truncated every ~1/24
of its length, lines dropped, bytes flipped, junk, NUL, non-UTF-8, huge and negative numbers,
deep nesting) and fuzzed with hypothesis (bounded, ``deadline=None``): a parser either returns
plain data of the shape it returns for the capture, or raises :class:`hapair.errors.ParseError`.

The blank-line tests feed every parser 80k and 160k blank lines under a ``signal.alarm``
failsafe: that is a hang check (a quadratic parser takes minutes there, a linear one
milliseconds), not a timing assertion. ``bench/parse_scaling.py`` prints the measured 2n/n ratios.
"""

import glob
import importlib
import inspect
import json
import os
import re
import signal
from contextlib import contextmanager

import pytest
from conftest import FIXTURES
from hapair import drbd_parse
from hapair.errors import ParseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODULES = ("cman", "corosync", "drbd_parse", "drbd_plan", "gfs2", "heartbeat", "lvm", "nfs", "o2cb", "ocfs2",
           "parsing", "remediate")


def _events2_models(text):
    return drbd_parse.events2_to_resources(drbd_parse.parse_events2(text))


def _tokenised_minors(text):
    return drbd_parse.config_minors([text])


def _tokenised_resources(text):
    return drbd_parse.config_resources([text])


# parser -> fixture globs (relative to tests/fixtures) of the real output it reads
REGISTRY = {
    "heartbeat.parse_hbstatus": ["heartbeat/cl_status-hbstatus--*.out"],
    "heartbeat.parse_listnodes": ["heartbeat/cl_status-listnodes--*.out"],
    "heartbeat.parse_nodestatus": ["heartbeat/cl_status-nodestatus--*.out"],
    "heartbeat.parse_rscstatus": ["heartbeat/cl_status-rscstatus--*.out"],
    "heartbeat.parse_ip_addr": ["ip/ip-j-4-addr-show--*.out"],
    "drbd_parse.parse_proc_drbd": ["drbd/proc_drbd--*.out", "lab/proc_drbd--*.out"],
    "drbd_parse.parse_drbd_overview": ["drbd/drbd_overview--*.out"],
    "drbd_parse.parse_drbdadm_status": ["drbd/drbdadm_status--*.out", "drbd/drbdsetup_status_verbose*.out",
                                        "lab/drbdadm_status--*.out"],
    "drbd_parse.parse_drbdsetup_status_json": ["drbd/drbdsetup_status_json--*.out",
                                               "lab/drbdsetup_status_json--*.out"],
    "drbd_parse.parse_events2": ["drbd/drbdsetup_events2*.out", "lab/drbdsetup_events2*.out"],
    "events2_to_resources": ["drbd/drbdsetup_events2*.out", "lab/drbdsetup_events2*.out"],
    "drbd_parse.parse_role": ["drbd/drbdadm_role--*.out", "lab/drbdadm_role--*.out"],
    "drbd_parse.parse_cstate": ["drbd/drbdadm_cstate--*.out", "lab/drbdadm_cstate--*.out"],
    "drbd_parse.parse_dstate": ["drbd/drbdadm_dstate--*.out", "lab/drbdadm_dstate--*.out"],
    "drbd_parse.parse_gi": ["drbd/drbdadm_get_gi--*.out", "lab/drbdadm_get_gi--*.out", "remediate/*.out"],
    "drbd_parse.parse_version": ["drbd/drbdadm_version--*.out", "lab/drbdadm_version--*.out"],
    "drbd_parse.parse_dump_minors": ["drbd/drbdadm_dump--*.out", "lab/drbdadm_dump--*.out"],
    "config_minors": ["drbd/drbdadm_dump--*.out", "lab/drbdadm_dump--*.out"],
    "config_resources": ["drbd/drbdadm_dump--*.out", "lab/drbdadm_dump--*.out"],
    "drbd_parse.gi_uuids": ["remediate/*.out", "drbd/drbdadm_get_gi--*.out"],
    "cman.parse_status": ["cman/cman_tool-status--*.out"],
    "cman.parse_nodes": ["cman/cman_tool-nodes--*.out"],
    "cman.parse_nodes_fields": ["cman/cman_tool-nodes-F--*.out"],
    "cman.parse_services": ["cman/cman_tool-services--*.out"],
    "cman.parse_clustat": ["cman/clustat--*.out"],
    "cman.parse_clustat_xml": ["cman/clustat-x--*.out"],
    "cman.parse_lsnode": ["cman/ccs_tool-lsnode--*.out"],
    "cman.parse_lsfence": ["cman/ccs_tool-lsfence--*.out"],
    "cman.parse_version": ["cman/cman_tool-version--*.out"],
    "corosync.parse_quorumtool": ["corosync/corosync-quorumtool-*.out"],
    "corosync.parse_cfgtool": ["corosync/corosync-cfgtool-s--*.out"],
    "corosync.parse_dlm_status": ["corosync/dlm_tool-status--*.out"],
    "corosync.parse_dlm_ls": ["corosync/dlm_tool-ls--*.out"],
    "gfs2.parse_tunegfs2": ["gfs2/tunegfs2-l--*.out"],
    "gfs2.parse_journals": ["gfs2/gfs2_edit-journals--*.out"],
    "gfs2.parse_mkfs": ["gfs2/mkfs.gfs2--*.out"],
    "lvm.parse_pvs": ["lvm/pvs-*.json"],
    "lvm.parse_vgs": ["lvm/vgs-*.json"],
    "lvm.parse_lvs": ["lvm/lvs-*.json"],
    "nfs.parse_exportfs": ["nfs/exportfs-*.out"],
    "o2cb.parse_cluster_conf": ["o2cb/o2cb-list-cluster--*.out"],
    "o2cb.parse_list_clusters": ["o2cb/o2cb-list-clusters--*.out"],
    "o2cb.parse_cluster_status": ["o2cb/o2cb-cluster-status--*.out", "lab/o2cb_cluster_status--*.out"],
    "o2cb.parse_init_status": ["o2cb/o2cb-init-status--*.out", "lab/o2cb_init_status--*.out"],
    "ocfs2.parse_mounted_detect": ["ocfs2/mounted-ocfs2-d--*.out"],
    "ocfs2.parse_mounted_full": ["ocfs2/mounted-ocfs2-f--*.out"],
    "ocfs2.parse_debugfs_stats": ["ocfs2/debugfs-ocfs2-stats--*.out"],
    "parsing.parse_blkid": ["gfs2/blkid-export--*.out", "ocfs2/blkid-export--*.out"],
    "parsing.parse_proc_mounts": ["ocfs2/proc-mounts--*.out"],
}
WRAPPERS = {"events2_to_resources": _events2_models, "config_minors": _tokenised_minors,
            "config_resources": _tokenised_resources}


def _parser(name):
    if name in WRAPPERS:
        return WRAPPERS[name]
    module, func = name.split(".")
    return getattr(importlib.import_module(f"hapair.{module}"), func)


def _read(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        return handle.read()


def _samples(name):
    """The distinct real captures of one parser (at most 6: enough shapes, bounded run time)."""
    paths = sorted({p for pattern in REGISTRY[name] for p in glob.glob(os.path.join(FIXTURES, pattern))})
    texts = list(dict.fromkeys(_read(p) for p in paths))
    step = max(1, len(texts) // 6)
    return texts[::step][:6]


PARSERS = sorted(REGISTRY)
SAMPLES = {name: _samples(name) for name in PARSERS}


def _plain(value):
    """True when ``value`` is plain data (what grains and Salt returns can carry)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _plain(v) for k, v in value.items())
    return False


def _check(name, text, shape):
    """Parse ``text``: a ParseError, or plain data of ``shape`` (the capture's type and fixed keys)."""
    try:
        out = _parser(name)(text)
    except ParseError:
        return
    except Exception as err:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{name} raised {type(err).__name__}: {str(err)[:200]} on {text[:120]!r}...")
    if shape is None:  # drbd_parse.gi_uuids answers None for text that is no get-gi line
        assert out is None or isinstance(out, dict), name
        return
    kind, keys = shape
    assert isinstance(out, kind), (name, type(out))
    if keys is not None and name in _EXTRA_KEYS:
        assert keys <= set(out), (name, sorted(keys - set(out)))
    elif keys is not None:
        assert set(out) == keys, (name, sorted(set(out) ^ keys))
    assert _plain(out), name


# dict results keyed by what the tool printed (devices, resources, every "Key: value" line)
_OPEN_DICTS = {"lvm.parse_pvs", "lvm.parse_lvs", "nfs.parse_exportfs", "parsing.parse_blkid",
               "drbd_parse.parse_dump_minors", "config_minors",
               "cman.parse_status", "gfs2.parse_mkfs", "heartbeat.parse_ip_addr"}
# a fixed schema plus any other "Key: value" line the tool printed
_EXTRA_KEYS = {"corosync.parse_quorumtool"}


def _shape(name):
    """(type, keys) of the parser's result on its first capture; None for drbd_parse.gi_uuids."""
    if name == "drbd_parse.gi_uuids":
        return None
    out = _parser(name)(SAMPLES[name][0])
    keys = set(out) if isinstance(out, dict) and name not in _OPEN_DICTS else None
    if name in _EXTRA_KEYS:
        keys = set.intersection(*(set(_parser(name)(text)) for text in SAMPLES[name]))
    return type(out), keys


# --------------------------------------------------------------------------- registry
def test_every_public_parser_is_registered_with_real_captures():
    found = {f"{mod}.{name}" for mod in MODULES
             for name, func in inspect.getmembers(importlib.import_module(f"hapair.{mod}"), inspect.isfunction)
             if name.startswith("parse_") and func.__module__ == f"hapair.{mod}"}
    assert found - set(REGISTRY) == set(), "register the new parser and its fixtures here"
    assert {name for name in PARSERS if not SAMPLES[name]} == set(), "a registered parser without captures"


@pytest.mark.parametrize("name", PARSERS)
def test_parsers_read_their_captures(name):
    shape = _shape(name)
    for text in SAMPLES[name]:
        _check(name, text, shape)


# --------------------------------------------------------------------------- deterministic damage
HUGE = "9" * 5000  # beyond int()'s 4300-digit limit: ValueError unless caught
JUNK = ["\x00", "\udcff\udcfe", "\ufffd", "\x1b[31m", "::::", "{", "}", "[", "]", '"', "\\", "(", ")", "%", "=",
        "-1", HUGE, "nan", "1e999", "\r", "\t", " " * 50, "é", "\u2028", "\x85"]


def _mutations(text):
    """Deterministic damage of one capture (each a str, as the adapters hand them to parsers)."""
    data = text.encode("utf-8", "surrogateescape")
    step = max(1, len(data) // 24)
    for cut in range(0, len(data), step):
        yield data[:cut].decode("utf-8", "surrogateescape")  # truncated, also inside a UTF-8 sequence
        yield data[cut:].decode("utf-8", "surrogateescape")  # lost head
    lines = text.splitlines(keepends=True)
    for i in range(0, len(lines), max(1, len(lines) // 12)):
        yield "".join(lines[:i] + lines[i + 1:])  # a line dropped
        yield "".join(lines[:i] + [lines[i]] * 3 + lines[i + 1:])  # a line repeated
    for pos in range(0, len(data), step):
        for flip in (0x01, 0x20, 0x80, 0xFF):
            damaged = bytearray(data)
            damaged[pos] ^= flip
            yield bytes(damaged).decode("utf-8", "surrogateescape")
    for pos in range(0, len(text), max(1, len(text) // 8)):
        for junk in JUNK:
            yield text[:pos] + junk + text[pos:]
    yield text.replace(" ", "\x00")
    yield text.replace("\n", "\r")
    yield data.decode("latin-1")
    yield re.sub(r"\d+", HUGE, text)
    yield re.sub(r"\d+", "-1", text)
    yield re.sub(r"\d+(\.\d+)?", "1e999", text)
    yield re.sub(r"[A-Za-z]+", "x", text)
    yield re.sub(r"\S+", "", text)
    yield text + text
    yield "[" * 100_000 + text
    yield text + "{" * 100_000
    yield '{"a":' * 50_000 + "1" + "}" * 50_000
    yield "<a>" * 20_000 + text


@pytest.mark.parametrize("name", PARSERS)
def test_damaged_captures_raise_only_parse_error(name):
    shape = _shape(name)
    for sample in SAMPLES[name]:
        for text in _mutations(sample):
            _check(name, text, shape)


# --------------------------------------------------------------------------- hypothesis
WORDS = st.sampled_from([
    "version:", "0:", "cs:Connected", "ro:Primary/Secondary", "ds:UpToDate/Inconsistent", "oos:12", "sync'ed:",
    "1.6%", "(1/2)K", "finish:", "0:10:54", "r0", "role:Primary", "disk:UpToDate", "peer", "node-id:1",
    "volume:0", "exists", "change", "resource", "device", "peer-device", "name:r0", "peer-node-id:0", "minor",
    "{", "}", ";", "[", "]", '"name":', ",", ":", "=", "0", "1", "-1", HUGE, "nan", "0x1f", "Nodeid", "Votes",
    "Name", "Device", "Stack", "Cluster", "Nodes", "UUID", "Label", "F", "/dev/drbd0", "dlm lockspaces", "id",
    "flags", "change", "members", "cluster", "node", "M", "daemon", "Quorum information", "Votequorum information",
    "Membership information", "Flags:", "Quorate:", "Yes", "LINK ID 0", "addr", "status:", "nodeid:", "TYPE=ocfs2",
    "Max Node Slots:", "journal0:", "Cluster Status for", "<clustat>", "</clustat>", "<nodes>", "node:",
    "cluster:", "\tname = x", '{"report":', '"pv":', '"vg_name":', '"lv_size":', "\n", "\n  ", "\n    ", "\t", " ",
])
TEXTS = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=80).map(" ".join),
                  st.lists(WORDS, max_size=80).map("".join))


@pytest.mark.parametrize("name", PARSERS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, data=st.data())
def test_random_text_and_spliced_captures_raise_only_parse_error(name, text, data):
    sample = data.draw(st.sampled_from(SAMPLES[name]), label="capture")
    start = data.draw(st.integers(0, len(sample)), label="start")
    end = data.draw(st.integers(start, min(len(sample), start + 200)), label="end")
    shape = _shape(name)
    _check(name, text, shape)
    _check(name, sample[:start] + text + sample[end:], shape)


# --------------------------------------------------------------------------- linear time (hang check)
@contextmanager
def _hang_guard(seconds, what):
    """Fail instead of hanging: a failsafe far above a linear parser's milliseconds, not a timing test."""
    def expired(signum, frame):
        raise AssertionError(f"{what} still running after {seconds} s: super-linear on this input")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _blank_inputs(name, lines):
    sample = SAMPLES[name][0]
    head, _, tail = sample.partition("\n")
    blank = "\n" * lines
    return [sample + blank, head + "\n" + blank.replace("\n", " \n") + tail]


@pytest.mark.parametrize("lines", [80_000, 160_000])
@pytest.mark.parametrize("name", PARSERS)
def test_blank_lines_do_not_hang_a_parser(name, lines):
    shape = _shape(name)
    with _hang_guard(20, f"{name} on {lines} blank lines"):
        for text in _blank_inputs(name, lines):
            _check(name, text, shape)


def test_config_reader_on_blank_lines_finds_its_resource():
    # the 8.4 grains and drbd.status read the config on every call; 80k blank lines once took 9.6 s
    blank = "\n" * 160_000
    text = "resource r0 {\n  device minor 3;\n}\n" + blank + "resource r1 {\n device minor 4;\n}\n" + blank
    with _hang_guard(20, "config_minors on 160k blank lines"):
        assert drbd_parse.config_minors([text]) == {3: "r0", 4: "r1"}
        assert drbd_parse.config_resources([text]) == ["r0", "r1"]


def test_deep_json_is_a_parse_error_naming_the_depth():
    with pytest.raises(ParseError, match="nest"):
        drbd_parse.parse_drbdsetup_status_json("[" * 100_000 + "]" * 100_000)
    deep = json.dumps([{"name": "r0", "devices": [], "connections": []}]).replace("[]", "[" * 200 + "]" * 200, 1)
    with pytest.raises(ParseError, match="nest"):
        drbd_parse.parse_drbdsetup_status_json(deep)


# --------------------------------------------------------------------------- the issue's cases
KNOWN = [  # (parser, input, what the old code raised)
    ("corosync.parse_dlm_ls", "dlm lockspaces\nname gfs2-00\nid\n", "IndexError"),
    ("lvm.parse_pvs", '{"report": [{"pv": [{"vg_name": "vg0"}]}]}', "KeyError"),
    ("lvm.parse_vgs", '{"report": [{"vg": [{"vg_nme": "vg0"}]}]}', "KeyError"),
    ("lvm.parse_lvs", '{"report": [{"lv": [{"vg_name": "v", "lv_name": "l", "lv_size": "1M"}]}]}', "ValueError"),
    ("lvm.parse_lvs", "[" * 100_000, "RecursionError"),
    ("ocfs2.parse_mounted_full", "Device!  FS  Nodes\n/dev/sdc  ocfs2  node1\n", "KeyError"),
    ("ocfs2.parse_mounted_detect", "Device\x00Stack\n/dev/sdc o2cb\n", "KeyError"),
    ("ocfs2.parse_debugfs_stats", "Max Node Slots: lots\n", "ValueError"),
    ("drbd_parse.parse_drbdsetup_status_json", "[" * 100_000, "RecursionError"),
    ("drbd_parse.parse_drbdsetup_status_json", "[" + "9" * 5000 + "]", "ValueError"),
    ("drbd_parse.parse_proc_drbd", "version: 8.4.11\n " + "9" * 5000 + ": cs:Connected\n", "ValueError"),
    ("cman.parse_clustat_xml", "<clustat>\udcff</clustat>", "UnicodeEncodeError"),
]


@pytest.mark.parametrize("name, text, old", KNOWN, ids=[f"{k[0]}-{k[2]}" for k in KNOWN])
def test_malformed_output_named_in_the_issue_is_a_parse_error(name, text, old):
    with pytest.raises(ParseError):
        _parser(name)(text)


def test_dlm_status_numbers_are_decimal_unless_0x():
    # int(word, 0) raised ValueError on a leading zero; dlm_tool prints decimal and 0x-hex numbers
    out = _parser("corosync.parse_dlm_status")("cluster nodeid 2 quorate 1 ring seq 063 0x10\n")
    assert out["ring_seq"] == [63, 16]
