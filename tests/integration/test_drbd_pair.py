"""Seed 000's r0 (lab_web) on a real salt-master with two real minions, in DRBD order.

Both minions apply ``hapair.drbd`` at the same time (one ``salt 'node*'`` job): only node1,
the initial primary, forces; node2 waits for the connection and the sync, then both end
Primary (dual-primary under OCFS2). The fake binaries replay real DRBD 8.4 captures.
"""

import time

import faketree
import pytest
from drbd_helpers import SECRET

pytestmark = pytest.mark.integration

PILLAR = {"topology": "lab_web", "hapair": {"lookup": {"drbd": {"connect_timeout": 60, "sync_timeout": 60}}}}
READS = {"get-gi", "status", "role", "cstate", "dstate", "--version", "sh-status", "dump", "show-gi",
         "sh-ll-dev", "sh-md-dev"}


def changing(argv_log):
    return [a for a in argv_log if a[0] == "drbdadm" and a[1] not in READS]


def test_seed000_pair_bootstraps_in_order(salt_master, minions, fake_cluster, event_listener):
    cli = salt_master.salt_cli(timeout=180)
    funcs = cli.run("sys.list_functions", "drbd", minion_tgt="node1")
    assert "drbd.wait_synced" in funcs.data

    start = time.time()
    ret = cli.run("state.apply", "hapair.drbd", f"pillar={PILLAR!r}".replace("'", '"'), minion_tgt="node*")
    assert ret.returncode == 0, ret
    for node in ("node1", "node2"):
        results = ret.data[node]
        assert all(r["result"] is True for r in results.values()), results
        assert SECRET not in repr(results)
    assert changing(faketree.argv_log(fake_cluster, "node1")) == [
        ["drbdadm", "create-md", "r0"], ["drbdadm", "up", "r0"], ["drbdadm", "primary", "--force", "r0"]]
    assert changing(faketree.argv_log(fake_cluster, "node2")) == [
        ["drbdadm", "create-md", "r0"], ["drbdadm", "up", "r0"],
        ["drbdadm", "net-options", "--allow-two-primaries=yes", "r0"], ["drbdadm", "primary", "r0"]]
    assert faketree.read_state(fake_cluster)["primaries"] == ["node1", "node2"]

    # event.send is asynchronous: the last progress event may reach the master after the job's
    # return (CI, 2026-12-02), so wait for it (bounded) rather than read the bus once
    deadline = time.monotonic() + 60
    while True:
        events = event_listener.get_events([(salt_master.id, "hapair/drbd/r0/sync")], after_time=start)
        datas = [e.data.get("data", e.data) for e in events]
        if any(d.get("synced") is True and d.get("percent_done") == 100.0 for d in datas):
            break
        assert time.monotonic() < deadline, f"no synced event in 60 s after the sync: {datas}"
        time.sleep(0.5)

    cli.run("saltutil.refresh_grains", minion_tgt="node*")   # grains are cached from minion start
    grains = cli.run("grains.item", "drbd_roles", minion_tgt="node*")
    assert grains.data["node1"]["drbd_roles"] == {"r0": "Primary"}
    assert grains.data["node2"]["drbd_roles"] == {"r0": "Primary"}

    for node in ("node1", "node2"):
        faketree.clear_log(fake_cluster, node)
    again = cli.run("state.apply", "hapair.drbd", f"pillar={PILLAR!r}".replace("'", '"'), minion_tgt="node*")
    for node in ("node1", "node2"):
        assert {k: v["changes"] for k, v in again.data[node].items()} == {k: {} for k in again.data[node]}
        assert changing(faketree.argv_log(fake_cluster, node)) == []
