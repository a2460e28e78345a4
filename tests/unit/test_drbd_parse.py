"""Behaviour of hapair.drbd_parse beyond the fixture walk: no-data and malformed cases for every
parser, resource naming, folding of events2 changes, is_synced, the fresh-metadata rule.

Inputs are the real captures in tests/fixtures/drbd (see the .source beside each) or lines quoted
from them; where a test builds its own input the comment says what real output it follows.
"""

import os

import pytest
from conftest import FIXTURES
from hapair import drbd_parse as dp
from hapair.errors import ParseError

DRBD = os.path.join(FIXTURES, "drbd")


def fixture(name):
    with open(os.path.join(DRBD, name + ".out"), encoding="utf-8") as handle:
        return handle.read()


# --------------------------------------------------------------------------- no data
@pytest.mark.parametrize("parser, empty", [
    (dp.parse_proc_drbd, {"version": None, "resources": []}),
    (dp.parse_drbd_overview, []),
    (dp.parse_drbdadm_status, []),
    (dp.parse_drbdsetup_status_json, []),
    (dp.parse_events2, []),
    (dp.parse_dump_minors, {}),
])
def test_status_parsers_return_empty_on_no_data(parser, empty):
    assert parser("") == empty
    assert parser("\n  \n") == empty


@pytest.mark.parametrize("parser", [dp.parse_role, dp.parse_cstate, dp.parse_dstate, dp.parse_gi,
                                    dp.parse_version])
def test_single_value_parsers_refuse_no_data(parser):
    with pytest.raises(ParseError, match="no output|no DRBDADM_VERSION"):
        parser("\n")


def test_drbdsetup_status_without_resources_is_empty():
    # drbdsetup prints this line when nothing is configured (drbdsetup.c, status_cmd)
    assert dp.parse_drbdadm_status("# No currently configured DRBD found.\n") == []


def test_events2_now_with_nothing_up_is_empty():
    events = dp.parse_events2(fixture("drbdsetup_events2_now--8.4.11-02-md-created-not-up-node1"))
    assert events == [{"action": "exists", "object": "-", "fields": {}}]
    assert dp.events2_to_resources(events) == []


def test_events2_to_resources_of_no_events():
    assert dp.events2_to_resources([]) == []


# --------------------------------------------------------------------------- malformed input
MALFORMED = [
    (dp.parse_proc_drbd, "srcversion: F73C670A7EC572DB9CF3E5B\n", 1, "expected 'version:'"),
    (dp.parse_proc_drbd, "version: 8.4.11 (api:1/proto:86-101)\n"
                         " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
                         "    ns:0 nr:0 garbage dw:0\n", 3, "unexpected token 'garbage'"),
    (dp.parse_proc_drbd, "version: 8.4.11 (api:1/proto:86-101)\n"
                         " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n"
                         "\t[>....................] sync'ed: lots (261716/262100)K\n", 3, "percentage"),
    (dp.parse_proc_drbd, "version: 8.4.11 (api:1/proto:86-101)\n"
                         " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n"
                         "\tfinish: soon speed: 384 (384) K/sec\n", 3, "h:mm:ss"),
    (dp.parse_proc_drbd, "version: 8.4.11 (api:1/proto:86-101)\n"
                         " 0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n"
                         "    ns:0 oos:many\n", 3, "oos is not a number"),
    (dp.parse_drbd_overview, "  0:r0  Connected Primary/Secondary UpToDate/UpToDate C r-----\n"
                             "  1:r1  Connected Primary UpToDate/UpToDate C r-----\n", 2, "role/peer"),
    (dp.parse_drbd_overview, "  0:r0/x  Connected Primary/Secondary UpToDate/UpToDate C r-----\n", 1,
     "volume is not a number"),
    (dp.parse_drbd_overview, "  0:r0  SyncSource Primary/Secondary UpToDate/Inconsistent C r-----\n"
                             "\t[>....................] sync'ed: (1/2)K\n", 2, "percentage"),
    (dp.parse_drbdadm_status, "  disk:UpToDate\n", 1, "before any resource"),
    (dp.parse_drbdadm_status, "role:Primary\n", 1, "resource name first"),
    (dp.parse_drbdadm_status, "r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n    replication\n",
     4, "expected key:value"),
    (dp.parse_drbdadm_status, "r0 role:Primary\n  disk:UpToDate\n  peer role:Secondary\n"
                              "    replication:SyncSource peer-disk:Inconsistent done:x\n", 4, "done is not a number"),
    (dp.parse_drbdadm_status, "r0 role:Primary\n  volume:zero disk:UpToDate\n", 2, "volume is not a number"),
    (dp.parse_drbdsetup_status_json, '[\n{\n  "name": "r0",\n  "role": Primary\n}\n]\n', 4, "Expecting value"),
    (dp.parse_drbdsetup_status_json, '{"name": "r0"}\n', 1, "JSON list"),
    (dp.parse_drbdsetup_status_json, '[{"role": "Primary"}]\n', 1, "without a name"),
    (dp.parse_events2, "exists resource name:r0 role:Secondary\nexists rsource name:r0\n", 2, "unknown object"),
    (dp.parse_events2, "exists -\nnonsense\n", 2, "expected '<action>"),
    (dp.parse_events2, "change resource name:r0 role\n", 1, "expected key:value"),
    (dp.parse_role, "Primary/Secondary\nPrimary Secondary\n", 2, "State/PeerState"),
    (dp.parse_dstate, "r0: No such resource\n", 1, "State/PeerState"),
    (dp.parse_cstate, "Connected/Connected\n", 1, "one connection state"),
    (dp.parse_gi, "0000000000000004:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n", 1, "4 UUIDs"),
    (dp.parse_gi, "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:1:0:1\n",
     1, "got 6"),
    (dp.parse_gi, "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:2\n",
     1, "0/1 flags"),
    (dp.parse_gi, "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:0:0:0\n"
                  "flags: Secondary, StandAlone, Inconsistent\n", 2, "4 UUIDs"),
    (dp.parse_version, "DRBDADM_API_VERSION=2\nDRBDADM_VERSION 9.22.0\n", 2, "KEY=VALUE"),
    (dp.parse_version, "DRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION: 9.2.12\nDRBDADM_VERSION=9.22.0\n", 2, "KEY=VALUE"),
    (dp.parse_version, "DRBDADM_API_VERSION=two\nDRBDADM_VERSION=9.22.0\n", 1, "not a number"),
    (dp.parse_dump_minors, "resource r0 {\n    on node1 {\n        device /dev/drbd0 minor 0;\n    }\n", 4,
     "unclosed section"),
    (dp.parse_dump_minors, "resource r0 {\n}\n}\n", 3, "unbalanced"),
    (dp.parse_dump_minors, "resource r0 {\n    on node1 {\n        device /dev/drbd0 minor x;\n", 3,
     "number after 'minor'"),
    (dp.parse_dump_minors, "resource r0 {\n    net {\n        protocol C\n    }\n}\n", 4, "missing ';'"),
]


@pytest.mark.parametrize("parser, text, line_no, message", MALFORMED,
                         ids=[f"{p.__name__}-{i}" for i, (p, *_) in enumerate(MALFORMED)])
def test_malformed_input_raises_parse_error_naming_the_line(parser, text, line_no, message):
    with pytest.raises(ParseError) as err:
        parser(text)
    assert err.value.line_no == line_no
    assert err.value.line == text.splitlines()[line_no - 1]
    assert message in str(err.value)
    assert f"line {line_no}" in str(err.value)


def test_events2_fold_refuses_events_without_keys():
    with pytest.raises(ParseError, match="without a resource name"):
        dp.events2_to_resources([{"action": "exists", "object": "device", "fields": {"volume": "0"}}])
    with pytest.raises(ParseError, match="missing or bad key field"):
        dp.events2_to_resources([{"action": "exists", "object": "device", "fields": {"name": "r0"}}])


# --------------------------------------------------------------------------- /proc/drbd specifics
def test_proc_drbd_names_map_minors_to_resources():
    out = dp.parse_proc_drbd(fixture("proc_drbd--8.4.11-15-two-resources-r1-inconsistent-node1"),
                             {0: "r0", 1: "r1"})
    assert [r["name"] for r in out["resources"]] == ["r0", "r1"]
    assert out["resources"][1]["volumes"] == [{"volume": None, "minor": 1, "disk_state": "Inconsistent"}]


def test_proc_drbd_unnamed_minor_is_named_after_its_number():
    out = dp.parse_proc_drbd(fixture("proc_drbd--8.4.11-15-two-resources-r1-inconsistent-node1"), {0: "r0"})
    assert [r["name"] for r in out["resources"]] == ["r0", "minor-1"]


def test_proc_drbd_minors_of_one_resource_become_its_volumes():
    out = dp.parse_proc_drbd(fixture("proc_drbd--8.2.4-seed004-wfconnection-two-minors"), {0: "d0", 1: "d0"})
    (res,) = out["resources"]
    assert [v["minor"] for v in res["volumes"]] == [0, 1]
    assert len(res["peers"]) == 1 and len(res["peers"][0]["volumes"]) == 2


def test_proc_drbd_skips_unconfigured_minors():
    # drbd_proc.c prints "%2d: cs:Unconfigured\n" for a minor that exists but is not set up;
    # the first two lines and minor 0 are the stage-05 capture.
    text = fixture("proc_drbd--8.4.11-05-synced-primary-secondary-node1") + " 1: cs:Unconfigured\n"
    out = dp.parse_proc_drbd(text)
    assert [r["name"] for r in out["resources"]] == ["minor-0"]


def test_proc_drbd_reads_want_in_the_speed_line():
    text = fixture("proc_drbd--8.4.11-04-syncing-primary-force-node2")
    assert "want: 7,320 K/sec" in text
    pvol = dp.parse_proc_drbd(text)["resources"][0]["peers"][0]["volumes"][0]
    assert (pvol["percent_done"], pvol["eta_seconds"]) == (17.2, 51)


def test_proc_drbd_stalled_resync_and_details_lines():
    # drbd_proc.c (8.4) drbd_syncer_progress(): " K/sec (stalled)" when no progress for a while, and
    # with the proc_details module parameter a "-- " short-term speed, a "sector pos:" line and the
    # lc_seq_printf_stats() resync:/act_log: lines. Minor line and counters are stage 04 node2's.
    text = ("version: 8.4.11 (api:1/proto:86-101)\nsrcversion: F73C670A7EC572DB9CF3E5B \n"
            " 0: cs:SyncTarget ro:Secondary/Primary ds:Inconsistent/UpToDate C r-----\n"
            "    ns:0 nr:42168 dw:42168 dr:0 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:219932\n"
            "\t[==>.................] sync'ed: 17.2% (219932/262100)K\n"
            "\tfinish: 0:00:51 speed: 4,216 (4,100 -- 4,216) want: 7,320 K/sec (stalled)\n"
            "\t 16% sector pos: 84336/524200\n"
            "\tresync: used:0/61 hits:2627 misses:11 starving:0 locked:0 changed:11\n"
            "\tact_log: used:0/1237 hits:0 misses:0 starving:0 locked:0 changed:0\n")
    (res,) = dp.parse_proc_drbd(text, {0: "r0"})["resources"]
    pvol = res["peers"][0]["volumes"][0]
    assert (pvol["replication_state"], pvol["percent_done"], pvol["eta_seconds"], pvol["out_of_sync_kib"]) == (
        "SyncTarget", 17.2, 51, 219932)


def test_proc_drbd_megabyte_progress_without_oos_field():
    # The (x/y)M form is the only out-of-sync figure before 8.3 counters had oos:, e.g. seed 000's
    # sync line; here the oos: field is dropped from that real line to use the M figure.
    text = fixture("proc_drbd--8.4.10-seed000-syncing-megabytes").replace(" oos:10482648", "")
    pvol = dp.parse_proc_drbd(text)["resources"][0]["peers"][0]["volumes"][0]
    assert pvol["out_of_sync_kib"] == 10236 * 1024


def test_proc_drbd_suspended_flag():
    text = fixture("proc_drbd--8.4.11-05-synced-primary-secondary-node1")
    assert dp.parse_proc_drbd(text)["resources"][0]["suspended"] is False
    # first flag letter 's' = I/O suspended (drbd_proc.c: state.susp ? 's' : 'r')
    assert dp.parse_proc_drbd(text.replace("C r-----", "C s-----"))["resources"][0]["suspended"] is True


def test_proc_drbd_of_drbd9_has_no_minors():
    # DRBD 9's /proc/drbd only prints the version, build tag and transports (drbd_proc.c,
    # drbd_print_transports_loaded); resources come from drbdsetup there.
    text = ("version: 9.0.32-1 (api:2/proto:86-121)\n"
            "GIT-hash: 7d2933d5a3764fcc5e0bf54b71fd9cfb0363be1a build by @4904565a901d, 2022-09-07 08:53:17\n"
            "Transports (api:17): tcp (9.0.32-1)\n")
    assert dp.parse_proc_drbd(text) == {"version": {"kernel": "9.0.32-1", "api": 2, "proto": "86-121"},
                                        "resources": []}


def test_drbd_overview_sync_line_and_headers():
    # /etc/init.d/drbd status of 8.3 prints version lines and an "m:res cs ro ds p" header before
    # the drbd-overview table (seed 004, line 295); the sync line is seed 004's 0.7.23 one.
    text = ("version: 8.3.5 (api:88/proto:86-91)\nm:res  cs  ro  ds  p  mounted  fstype\n"
            "0:r0  SyncSource  Primary/Secondary  UpToDate/Inconsistent  C\n"
            "\t[==>.................] sync'ed: 12.5% (458848/520196)K\n"
            "1:r1  Connected  Primary/Primary  Diskless/UpToDate  C  /gfs2-01  gfs2\n")
    r0, r1 = dp.parse_drbd_overview(text)
    assert r0["peers"][0]["volumes"][0] == {"volume": None, "replication_state": "SyncSource",
                                            "peer_disk_state": "Inconsistent", "percent_done": 12.5,
                                            "eta_seconds": None, "out_of_sync_kib": 458848}
    assert (r1["name"], r1["volumes"][0]["disk_state"], r1["suspended"]) == ("r1", "Diskless", None)


def test_split_cstate_84():
    assert dp.split_cstate_84("PausedSyncT") == ("Connected", "PausedSyncT")
    assert dp.split_cstate_84("Connected") == ("Connected", "Established")
    assert dp.split_cstate_84("StandAlone") == ("StandAlone", None)
    assert dp.split_cstate_84(None) == (None, None)


# --------------------------------------------------------------------------- drbdadm status specifics
def test_status_peer_without_connection_name_uses_node_id():
    # drbdsetup prints "node-id:N" first when a connection has no name (connection_status()).
    text = "r0 role:Secondary\n  disk:UpToDate\n  node-id:1 connection:StandAlone\n"
    (res,) = dp.parse_drbdadm_status(text)
    assert res["peers"] == [{"name": None, "node_id": 1, "connection_state": "StandAlone", "role": None,
                             "volumes": []}]


def test_status_suspended_is_shown_only_when_true():
    # resource_status() prints suspended: only when suspended (or --verbose)
    (res,) = dp.parse_drbdadm_status("r0 role:Primary suspended:user\n  disk:UpToDate\n")
    assert res["suspended"] is True


def test_status_statistics_without_out_of_sync_means_zero():
    text = fixture("drbdsetup_status_verbose_statistics--8.4.11-15-two-resources-r1-inconsistent-node1")
    r0, r1 = dp.parse_drbdadm_status(text)
    assert r0["peers"][0]["volumes"][0]["out_of_sync_kib"] == 0
    assert r1["peers"][0]["volumes"][0]["out_of_sync_kib"] == 262100


# --------------------------------------------------------------------------- events2 specifics
def test_events2_tokenises_fields_with_colons_and_timestamps():
    line = ("2024-01-09T10:11:12.123456+00:00 create path name:some-resource peer-node-id:1 conn-name:some-peer "
            "local:ipv4:1.2.3.4:7789 peer:ipv4:5.6.7.8:7790 established:no")
    (event,) = dp.parse_events2(line)
    assert event["timestamp"] == "2024-01-09T10:11:12.123456+00:00"
    assert (event["action"], event["object"]) == ("create", "path")
    assert event["fields"]["local"] == "ipv4:1.2.3.4:7789"


def test_events2_helper_lines():
    events = dp.parse_events2(fixture("drbdsetup_events2--9-utils-test-helper"))
    assert [(e["action"], e["object"]) for e in events[-2:]] == [("call", "helper"), ("response", "helper")]
    assert events[-1]["fields"]["status"] == "1"


def test_events2_change_lines_update_the_snapshot():
    events = dp.parse_events2(fixture("drbdsetup_events2_now--8.4.11-10-standalone-both-primary-node1"))
    assert dp.events2_to_resources(events)[0]["peers"][0]["connection_state"] == "StandAlone"
    events += dp.parse_events2(
        "change connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary\n"
        "change peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established "
        "peer-disk:UpToDate\n")
    (res,) = dp.events2_to_resources(events)
    assert res["peers"][0]["connection_state"] == "Connected"
    assert res["peers"][0]["name"] == "peer"
    assert res["peers"][0]["volumes"][0]["replication_state"] == "Established"
    assert dp.is_synced(res)


def test_events2_resync_end_clears_done_and_eta():
    events = dp.parse_events2(fixture("drbdsetup_events2_statistics--9-utils-test-sync"))
    assert dp.events2_to_resources(events)[0]["peers"][0]["volumes"][0]["percent_done"] == 37.5
    events += dp.parse_events2("change peer-device name:some-resource peer-node-id:1 conn-name:some-peer "
                               "volume:0 replication:Established peer-disk:UpToDate peer-client:no\n")
    pvol = dp.events2_to_resources(events)[0]["peers"][0]["volumes"][0]
    assert (pvol["percent_done"], pvol["eta_seconds"]) == (None, None)
    assert pvol["replication_state"] == "Established"


def test_events2_destroy_removes_the_resource():
    events = dp.parse_events2(fixture("drbdsetup_events2--9-utils-test-create-destroy"))
    assert dp.events2_to_resources(events[:-1])[0]["peers"] == []
    assert dp.events2_to_resources(events) == []


# --------------------------------------------------------------------------- is_synced
@pytest.mark.parametrize("name, synced", [
    ("drbdadm_status--8.4.11-06-primary-primary-node1", True),
    ("drbdadm_status--8.4.11-04-syncing-primary-force-node1", False),
    ("drbdadm_status--8.4.11-03-connected-inconsistent-node1", False),
    ("drbdadm_status--8.4.11-11-split-brain-standalone-node1", False),  # no peer shown
    ("drbdadm_status--8.4.11-13-link-cut-wfconnection-node2", False),
    ("drbdadm_status--9.0.16-two-volumes-two-peers", True),
    ("drbdadm_status--9.0.16-syncsource-one-peer", False),
])
def test_is_synced_on_real_status(name, synced):
    assert all(dp.is_synced(m) is synced for m in dp.parse_drbdadm_status(fixture(name)))


def test_is_synced_on_proc_drbd():
    synced = dp.parse_proc_drbd(fixture("proc_drbd--8.4.11-05-synced-primary-secondary-node1"))["resources"][0]
    standalone = dp.parse_proc_drbd(fixture("proc_drbd--8.4.11-10-standalone-both-primary-node1"))["resources"][0]
    assert dp.is_synced(synced) is True
    assert dp.is_synced(standalone) is False


def test_is_synced_needs_volumes():
    assert dp.is_synced({"name": "r0", "volumes": [], "peers": []}) is False


# --------------------------------------------------------------------------- gi, version, role
def test_gi_initial_only_on_fresh_metadata():
    fresh = dp.parse_gi(fixture("drbdadm_get_gi--8.4.11-02-md-created-not-up-node1"))
    forced = dp.parse_gi(fixture("drbdadm_get_gi--8.4.11-04-syncing-primary-force-node1"))
    target = dp.parse_gi(fixture("drbdadm_get_gi--8.4.11-04-syncing-primary-force-node2"))
    assert (fresh["initial"], forced["initial"], target["initial"]) == (True, False, False)
    # the just-created UUID survives in the history once data exists
    assert forced["history_uuids"][0] == "0000000000000004"


def test_gi_one_line_per_volume():
    # drbdadm get-gi on a two-volume 8.4 resource prints one line per minor; the lines below are
    # the stage-02 (fresh) and stage-04 node2 (synced once) captures of r0.
    fresh = fixture("drbdadm_get_gi--8.4.11-02-md-created-not-up-node1")
    used = fixture("drbdadm_get_gi--8.4.11-04-syncing-primary-force-node2")
    both = dp.parse_gi(fresh + used)
    assert [line["initial"] for line in both["lines"]] == [True, False]
    assert both["initial"] is False and both["current_uuid"] == "0000000000000004"
    assert dp.parse_gi(fresh + fresh)["initial"] is True


def test_gi_initial_ignores_the_primary_bit():
    # bit 0 of a UUID only says "was primary" (compare 9F74E844602961A9 / ...A8 of stage 05)
    assert dp.parse_gi("0000000000000005:" + ":".join(["0000000000000000"] * 3) + ":1:1:1:0:0:0:0")["initial"]


def test_version_kernel_is_none_when_module_missing():
    assert dp.parse_version(fixture("drbdadm_version--9.22.0-no-module"))["kernel"] is None


def test_role_lines_keep_every_resource():
    out = dp.parse_role(fixture("drbdadm_role--8.4.11-15-role-all-two-resources-node1"))
    assert [line["local"] for line in out["lines"]] == ["Primary", "Secondary"]


def test_dstate_drbd9_several_peers():
    # DRBD 9 dstate_cmd() prints the local disk then "/<peer disk>" for every peer of the volume
    out = dp.parse_dstate("UpToDate/UpToDate/Inconsistent\n")
    assert out["peers"] == ["UpToDate", "Inconsistent"]


def test_docstring_examples_hold():
    import doctest

    result = doctest.testmod(dp)
    assert result.attempted >= 12 and result.failed == 0
