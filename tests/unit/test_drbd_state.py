"""The DRBD rules defined once (issue 13): ``hapair.drbd_state``, as table tests.

"Is synced" had five definitions with disagreeing resync-state sets; handler kinds, the
split-brain record's path, the alert words and the remediation defaults were each written twice
or more. Each rule is proved here, and the callers that use it are checked to agree.
"""

import pytest
from hapair import drbd_state as ds
from hapair import remediate


def model(repl="Established", pdisk="UpToDate", disk="UpToDate", conn="Connected"):
    return {"name": "r0", "role": "Primary", "volumes": [{"disk_state": disk}],
            "peers": [{"connection_state": conn, "role": "Secondary",
                       "volumes": [{"replication_state": repl, "peer_disk_state": pdisk}]}]}


@pytest.mark.parametrize("conn,repl,disk,pdisk,expected", [
    ("Connected", "Established", "UpToDate", "UpToDate", True),
    ("Connected", None, "UpToDate", "UpToDate", True),              # 8.4 cs:Connected
    ("Connected", "VerifyS", "UpToDate", "UpToDate", True),         # an online verify of identical disks
    ("Connected", "SyncSource", "UpToDate", "Inconsistent", False),
    ("Connected", "PausedSyncT", "Inconsistent", "UpToDate", False),
    ("Connected", "WFBitMapS", "UpToDate", "UpToDate", False),
    ("Connected", "StartingSyncT", "UpToDate", "UpToDate", False),
    ("Connected", "Ahead", "UpToDate", "UpToDate", False),          # congestion: a resync follows
    ("Connected", "Established,SyncSource", "UpToDate", "UpToDate", False),  # two volumes disagree
    ("Connected", "Established", "UpToDate,Inconsistent", "UpToDate", False),
    ("StandAlone", None, "UpToDate", "UpToDate", False),
    ("Connecting", "Off", "UpToDate", "DUnknown", False),
    ("Connected", "Established", "UpToDate", "Outdated", False),
])
def test_synced(conn, repl, disk, pdisk, expected):
    assert ds.synced(conn, repl, disk, pdisk) is expected
    if "," not in f"{repl}{disk}":  # one volume: the model says the same
        assert ds.is_synced(model(repl, pdisk, disk, conn)) is expected


@pytest.mark.parametrize("value", [None, {}, {"volumes": [{"disk_state": "UpToDate"}], "peers": []},
                                   {"volumes": [], "peers": [{"volumes": []}]},
                                   {"volumes": [{"disk_state": "UpToDate"}], "peers": [{"volumes": []}]}])
def test_nothing_proves_the_peer_has_the_data(value):
    assert ds.is_synced(value) is False


def test_resync_states_cover_every_running_resync_name():
    for state in ("SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "WFBitMapS", "WFBitMapT",
                  "WFSyncUUID", "StartingSyncS", "StartingSyncT"):  # drbd_plan.SYNC_STATES, all of it
        assert ds.in_resync(state), state
    assert not any(ds.in_resync(s) for s in ("Established", "Off", "VerifyS", "VerifyT", None, 7))


@pytest.mark.parametrize("kind,path", [
    ("split-brain", "/var/lib/hapair/drbd/r0.split-brain"),
    ("initial-sync", "/var/lib/hapair/drbd/r0.initial-sync"),
    ("fence-peer", "/var/lib/hapair/drbd/r0.fence-peer"),
])
def test_marker_path(kind, path):
    assert ds.marker_path("/var/lib/hapair", "r0", kind) == path


def test_marker_path_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown DRBD marker kind"):
        ds.marker_path("/var/lib/hapair", "r0", "../../etc/passwd")


@pytest.mark.parametrize("name,expected", [
    ("r0.split-brain", ("r0", "split-brain")),
    ("web.data.out-of-sync", ("web.data", "out-of-sync")),
    ("r0.fence-peer", ("r0", "fence-peer")),
    ("r0.after-resync-target", ("r0", "after-resync-target")),
    ("r0.split-brain.resolved", None),
    ("r0.split-brain.forwarded", None),
    (".r0.split-brain.tmp", None),
    (".split-brain", None),
    ("split-brain", None),
    ("r0.initial-sync", None),   # hapair's own marker, not the handler's record
    ("events.log", None),
])
def test_record_kind(name, expected):
    assert ds.record_kind(name) == expected


S = {"present": True, "connection": "Connected", "peer_disk": "UpToDate"}


@pytest.mark.parametrize("summary,split,answered,expected", [
    (S, False, True, []),
    (S, True, True, ["split-brain"]),
    (dict(S, connection="StandAlone"), True, True, ["split-brain", "StandAlone"]),
    (dict(S, connection=None), False, True, ["StandAlone"]),   # up, no peer shown
    (dict(S, peer_disk="Diskless"), False, True, ["peer-Diskless"]),
    ({"present": False, "connection": None, "peer_disk": None}, False, True, ["down"]),
    (None, False, False, ["no answer"]),
    (dict(S, disk="Diskless"), False, True, ["Diskless-served-by-peer"]),  # its peer serves: not down
    (dict(S, disk="Diskless", peer_disk="Diskless"), False, True, ["peer-Diskless"]),
])
def test_alerts(summary, split, answered, expected):
    assert ds.alerts(summary, split, answered) == expected
    assert set(expected) <= set(ds.ALERTS)


def test_handler_kinds():
    assert ds.RECORDED_KINDS == (*ds.HANDLER_KINDS, "fence-peer")
    assert "initial-sync" in ds.MARKER_KINDS and "initial-sync" not in ds.RECORDED_KINDS


def test_the_planner_and_the_beacon_use_the_rule():
    """A verify counts as synced, a paused resync as a resync: classify and diff agree with ``synced``."""
    topo = {"name": "t", "node_order": ["n1", "n2"], "nodes": {"n1": {}, "n2": {}}, "filesystems": {},
            "drbd": {"resources": {"r0": {"mode": "single-primary", "roles": {"n1": "Primary", "n2": "Secondary"},
                                          "remediation": {}}}}}
    verify = {"model": model("VerifyS"), "mounted": None}
    paused = {"model": model("PausedSyncS", "Inconsistent"), "mounted": None}
    assert remediate.classify(topo, "r0", {"n1": verify, "n2": verify})["situation"] != "syncing"
    assert remediate.classify(topo, "r0", {"n1": paused, "n2": paused})["situation"] == "syncing"
    kinds = [e["kind"] for e in remediate.diff({"r0": model("PausedSyncT", "UpToDate", "Inconsistent")},
                                               {"r0": model()})]
    assert "sync-finished" in kinds
