"""Property tests: whatever text a tool prints, a parser returns a value or raises ParseError."""

import os

from conftest import FIXTURES
from hapair import drbd_parse as dp
from hapair.errors import ParseError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PARSERS = [dp.parse_proc_drbd, dp.parse_drbd_overview, dp.parse_drbdadm_status, dp.parse_drbdsetup_status_json, dp.parse_events2,
           lambda t: dp.events2_to_resources(dp.parse_events2(t)), dp.parse_role, dp.parse_cstate,
           dp.parse_dstate, dp.parse_gi, dp.parse_version, dp.parse_dump_minors]
DRBD = os.path.join(FIXTURES, "drbd")
SAMPLES = sorted(open(os.path.join(DRBD, f), encoding="utf-8").read()
                 for f in os.listdir(DRBD) if f.endswith(".out"))
# Words the tools print, so random text reaches deep into the parsers.
WORDS = st.sampled_from([
    "version:", "8.4.11", "(api:1/proto:86-101)", "0:", "1:", "cs:Connected", "cs:SyncSource", "ro:Primary/Secondary",
    "st:Secondary/Unknown", "ds:UpToDate/Inconsistent", "ld:Consistent", "C", "r-----", "oos:12", "oos:x",
    "sync'ed:", "1.6%", "(1/2)K", "(3/4)M", "finish:", "0:10:54", "speed:", "want:", "K/sec", "[==>....]",
    "r0", "role:Primary", "disk:UpToDate", "peer", "node-id:1", "connection:Connecting", "volume:0", "volume:x",
    "replication:SyncSource", "peer-disk:UpToDate", "done:0.24", "done:nan", "eta:x", "out-of-sync:5",
    "exists", "change", "destroy", "resource", "device", "peer-device", "connection", "-", "name:r0",
    "peer-node-id:0", "peer-node-id:z", "minor:0", "[", "]", "{", "}", ";", '"name":', "nan", ",",
    "0000000000000004", ":", "0", "1", "DRBDADM_VERSION=9.22.0", "DRBD_KERNEL_VERSION=0", "on", "device", "minor",
    "Primary/Secondary", "Connected", "\n", "\n  ", "\n    ", " ",
])
TEXTS = st.one_of(st.text(max_size=200), st.lists(WORDS, max_size=60).map(" ".join),
                  st.lists(WORDS, max_size=60).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_parsers_only_ever_raise_parse_error(text):
    for parser in PARSERS:
        try:
            parser(text)
        except ParseError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(min_value=0, max_value=4000), st.integers(min_value=0, max_value=40),
       st.text(max_size=8))
def test_damaged_real_captures_only_raise_parse_error(sample, start, length, junk):
    text = sample[:start] + junk + sample[start + length:]
    for parser in PARSERS:
        try:
            parser(text)
        except ParseError:
            pass
