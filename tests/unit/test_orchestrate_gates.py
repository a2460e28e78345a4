"""Table tests for the bootstrap gates (hapair.orchestrate): met / not met, and what was seen.

The resource models below mirror the lab captures in
/work/shared/captures/lab-drbd-8.4.11-utils-9.22.0 (stage named beside each one), written in the
normalised model of docs/DESIGN.md.
"""

import copy

import pytest
from hapair import orchestrate as o


def model(name="r0", role="Secondary", disk="UpToDate", conn="Connected", peer_role="Secondary",
          repl="Established", pdisk="UpToDate", pct=None, eta=None, oos=None, peer=True):
    peers = []
    if peer:
        peers = [{"name": None, "node_id": 0, "connection_state": conn, "role": peer_role,
                  "volumes": [{"volume": 0, "replication_state": repl, "peer_disk_state": pdisk,
                               "percent_done": pct, "eta_seconds": eta, "out_of_sync_kib": oos}]}]
    return {"name": name, "role": role, "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": disk}], "peers": peers}


# stage 03: connected Secondary/Secondary Inconsistent
S03 = model(disk="Inconsistent", pdisk="Inconsistent")
# stage 04: syncing after primary --force (node1 SyncSource 0.24 %)
S04_N1 = model(role="Primary", repl="SyncSource", pdisk="Inconsistent", pct=0.24, oos=255532)
S04_N2 = model(disk="Inconsistent", peer_role="Primary", repl="SyncTarget", pct=0.24, oos=255532)
# stage 05: synced Primary/Secondary
S05_N1 = model(role="Primary")
S05_N2 = model(peer_role="Primary")
# stage 06: Primary/Primary
S06 = model(role="Primary", peer_role="Primary")
# stage 13: link cut, WFConnection (events2 says Connecting)
S13 = model(role="Primary", conn="Connecting", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=32)

TOPO = {
    "name": "web",
    "node_order": ["node1", "node2"],
    "nodes": {"node1": {"minion_id": "node1"}, "node2": {"minion_id": "node2"}},
    "drbd": {"resources": {"r0": {"name": "r0", "mode": "dual-primary", "primary": None,
                                  "initial_primary": "node1", "initial_sync": "full",
                                  "roles": {"node1": "Primary", "node2": "Primary"}}}},
    "filesystems": {"www": {"name": "www", "resource": "r0", "device": "/dev/drbd0", "type": "ocfs2",
                            "mountpoint": "/var/www", "mount_on": ["node1", "node2"]}},
    "cluster": {"stack": "o2cb", "name": "labcl"},
}


def single_primary():
    topo = copy.deepcopy(TOPO)
    topo["drbd"]["resources"]["r0"].update(mode="single-primary", primary="node1",
                                           roles={"node1": "Primary", "node2": "Secondary"})
    return topo


def drbd(n1, n2):
    return {"drbd": {"node1": n1, "node2": n2}}


@pytest.mark.parametrize(
    "condition, observed, met",
    [
        ("up", drbd([S03], [S03]), True),
        ("up", drbd([S03], []), False),                      # stage 17: node2 has no resource
        ("up", drbd([S03], None), False),                    # node2 did not answer
        ("connected", drbd([S03], [S03]), True),
        ("connected", drbd([S13], [S13]), False),
        ("connected", drbd([S04_N1], [S04_N2]), True),       # syncing is connected
        ("synced", drbd([S04_N1], [S04_N2]), False),
        ("synced", drbd([S03], [S03]), False),               # connected but Inconsistent
        ("synced", drbd([S05_N1], [S05_N2]), True),
        ("roles", drbd([S06], [S06]), True),                 # dual-primary wants both Primary
        ("roles", drbd([S05_N1], [S05_N2]), False),
    ],
)
def test_gate_table(condition, observed, met):
    result = o.gate(condition, TOPO, observed)
    assert result.met is met
    assert result.condition == condition
    assert "node1" in result.seen and "node2" in result.seen


def test_roles_single_primary():
    topo = single_primary()
    assert o.gate("roles", topo, drbd([S05_N1], [S05_N2])).met is True
    assert o.gate("roles", topo, drbd([S06], [S06])).met is False
    assert o.expected_roles(topo, "r0") == {"node1": "Primary", "node2": "Secondary"}


def test_timeout_message_says_what_was_awaited_and_seen():
    result = o.gate("connected", TOPO, drbd([S13], []))
    msg = result.message()
    assert msg.startswith("connected not met: waited for r0 Connected on node1 and node2")
    assert "node1: r0 Primary/UpToDate Connecting" in msg
    assert "node2: r0 absent" in msg


def test_sync_progress_rows_and_lines():
    result = o.gate("synced", TOPO, drbd([S04_N1], [S04_N2]))
    assert not result.met
    assert [(p["node"], p["replication"], p["percent_done"]) for p in result.progress] == [
        ("node1", "SyncSource", 0.24), ("node2", "SyncTarget", 0.24)]
    assert o.progress_lines(result)[0] == "node1 r0 SyncSource 0.24% oos 255532 KiB"


def test_unknown_condition_and_resource_are_errors():
    with pytest.raises(ValueError, match="unknown condition"):
        o.gate("bogus", TOPO, drbd([], []))
    with pytest.raises(ValueError, match="unknown resource 'r9'"):
        o.gate("up", TOPO, drbd([], []), resources=["r9"])


@pytest.mark.parametrize(
    "mounts, met, seen",
    [
        ({"node1": {"/var/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}},
          "node2": {"/var/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}}}, True, "node2: /var/www ocfs2"),
        ({"node1": {"/var/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}}, "node2": {}}, False,
         "node2: /var/www not mounted"),
        ({"node1": {"/var/www": {"device": "/dev/sdb1", "fstype": "ext4"}}, "node2": None}, False,
         "node1: /var/www is ext4 from /dev/sdb1"),
    ],
)
def test_mounted_gate(mounts, met, seen):
    result = o.gate("mounted", TOPO, {"mounts": mounts})
    assert result.met is met
    assert seen in result.seen


@pytest.mark.parametrize(
    "status, online",
    [({"online": True}, True), ({"online": False}, False), ({"state": "Online"}, True),
     (True, True), (None, False), ("garbage", False)],
)
def test_o2cb_online(status, online):
    assert o.o2cb_online(status) is online


def test_o2cb_gate():
    assert o.gate("o2cb_online", TOPO, {"o2cb": {"node1": {"online": True}, "node2": {"online": True}}}).met
    result = o.gate("o2cb_online", TOPO, {"o2cb": {"node1": {"online": True}, "node2": {"online": False}}})
    assert not result.met and "node2: offline" in result.seen


def test_summarise_absent_and_multivolume():
    assert o.summarise(None)["present"] is False
    two = model()
    two["volumes"].append({"volume": 1, "minor": 1, "disk_state": "Inconsistent"})
    assert o.summarise(two)["disk"] == "UpToDate,Inconsistent"
