"""Beacon change detection (hapair.remediate.diff): which transitions fire which events.

Models mirror the lab captures in /work/shared/captures/lab-drbd-8.4.11-utils-9.22.0 (stage named
beside each one), in the normalised model of docs/DESIGN.md.
"""

import pytest
from hapair import remediate as r


def model(role="Secondary", disk="UpToDate", conn="Connected", peer_role="Secondary",
          repl="Established", pdisk="UpToDate", pct=None, oos=0):
    return {"name": "r0", "role": role, "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": disk}],
            "peers": [{"name": None, "node_id": 0, "connection_state": conn, "role": peer_role,
                       "volumes": [{"volume": 0, "replication_state": repl, "peer_disk_state": pdisk,
                                    "percent_done": pct, "eta_seconds": None, "out_of_sync_kib": oos}]}]}


S04 = model(role="Primary", repl="SyncSource", pdisk="Inconsistent", pct=0.24, oos=255532)   # syncing
S04_LATER = model(role="Primary", repl="SyncSource", pdisk="Inconsistent", pct=51.0, oos=12000)
S05 = model(role="Primary")                                                                  # synced
S06 = model(role="Primary", peer_role="Primary")                                             # dual primary
S11 = model(role="Primary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=64)
S13 = model(role="Primary", conn="Connecting", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=32)
PEER_DISKLESS = model(role="Primary", pdisk="Diskless")


def kinds(old, new):
    return [e["kind"] for e in r.diff(old, new)]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ({"r0": S05}, {"r0": S05}, []),
        ({"r0": S04}, {"r0": S04_LATER}, []),                      # progress only: silent
        (None, {"r0": S05}, []),                                   # first snapshot: silent
        ({"r0": S04}, {"r0": S05}, ["replication", "peer-disk", "sync-finished"]),
        ({"r0": S05}, {"r0": S06}, ["peer-role"]),
        ({"r0": S06}, {"r0": S11}, ["connection", "replication", "peer-role", "peer-disk", "standalone"]),
        ({"r0": S06}, {"r0": S13}, ["connection", "replication", "peer-role", "peer-disk"]),
        ({"r0": S05}, {"r0": PEER_DISKLESS}, ["peer-disk", "peer-diskless"]),
        ({"r0": S05}, {}, ["present", "role", "disk", "connection", "replication", "peer-role", "peer-disk"]),
        ({"r0": S05}, {"r0": model()}, ["role"]),
    ],
)
def test_diff_table(old, new, expected):
    assert kinds(old, new) == expected


def test_event_carries_old_and_new_state_and_tag():
    (event, *_) = r.diff({"r0": S06}, {"r0": S11})
    assert event["tag"] == "hapair/drbd/r0/connection"
    assert event["old"]["connection"] == "Connected" and event["new"]["connection"] == "StandAlone"
    assert event["changed"]["connection"] == {"old": "Connected", "new": "StandAlone"}
