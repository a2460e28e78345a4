"""The hapair runner against a real master and two minions on fake DRBD nodes (tests/fakebin).

Fake nodes replay the real DRBD 8.4.11 captures (tests/fixtures/fakebin, from
/work/shared/captures/lab-drbd-8.4.11-utils-9.22.0).
"""

import json

import orch_fixtures as fx
import pytest
from orch_fixtures import SECRET, reset, run

# the shared module-scoped fixtures (a master and two minions on fake DRBD nodes)
stack, cluster, master, minions, short_root = fx.stack, fx.cluster, fx.master, fx.minions, fx.short_root

pytestmark = pytest.mark.integration


def test_validate_lists_every_error(master, minions):
    code, data, out = run(master, "hapair.validate", "broken")
    assert code != 0, out
    assert "99999" in out or "port" in out
    assert "address" in out
    code, data, _ = run(master, "hapair.validate", "orchweb")
    assert code == 0 and data["nodes"] == {"node1": "node1", "node2": "node2"}


def test_gate_timeout_reports_what_it_waited_for_and_saw(master, minions, cluster):
    reset(cluster, nodes={"node1": {"md": True, "up": True}, "node2": {"md": True, "up": False}})
    code, data, out = run(master, "hapair.wait_for", "orchweb", "connected", "timeout=3", "interval=1")
    assert code != 0
    comment = data["comment"] if isinstance(data, dict) else out
    assert "gave up after 3s" in comment
    assert "waited for r0 Connected on node1 and node2" in comment
    assert "node1: r0 " in comment and "node2: r0 " in comment
    assert SECRET not in out


def test_gate_met_when_both_connected(master, minions, cluster):
    reset(cluster, nodes={"node1": {"md": True, "up": True}, "node2": {"md": True, "up": True}})
    code, data, out = run(master, "hapair.wait_for", "orchweb", "connected", "timeout=20")
    assert code == 0, out
    assert data["met"] is True and "node2: r0 Secondary/Inconsistent Connected" in data["seen"]


def test_status_table_and_json(master, minions, cluster):
    reset(cluster, stage="05")
    code, data, out = run(master, "hapair.status", "orchweb", "--out=json")
    assert code == 0, out
    rows = {(r["resource"], r["node"]): r for r in data["rows"]}
    assert rows[("r0", "node1")]["role"] == "Primary" and rows[("r0", "node2")]["role"] == "Secondary"
    assert rows[("r0", "node1")]["connection"] == "Connected"
    cli = master.salt_run_cli(timeout=120)
    ret = cli.run("hapair.status", "orchweb", "--out=txt")
    assert "RESOURCE" in ret.stdout and "Primary" in ret.stdout


def test_status_names_standalone(master, minions, cluster):
    reset(cluster, stage="11")
    code, data, out = run(master, "hapair.status", "orchweb", "--out=json")
    assert code == 0, out
    assert all("StandAlone" in r["alerts"] for r in data["rows"]), json.dumps(data["rows"])


def test_remediate_rejoins_a_node_that_came_back_down(master, minions, cluster, short_root):
    """node2 rebooted with r0 down (fake stage 02), node1 waits (13): the runner brings r0 up on node2."""
    pil = fx.topologies()
    pil["hapair"]["topologies"].pop("broken")  # it also names node2: it would be reported as an error
    fx.write_pillar(short_root, pil)
    reset(cluster, nodes={"node1": {"md": True, "up": True}, "node2": {"md": True, "up": False}})
    code, data, out = run(master, "hapair.remediate", "minion=node2", "tag=salt/minion/node2/start",
                          'event={"_stamp": "rejoin-1"}', "--out=json")
    assert code == 0, out
    (result,) = data["results"]
    assert result["situation"] == "down" and result["decision"] == "healed", result
    assert result["executed"] == [{"node": "node2", "action": "up"}]
    assert fx.actions(cluster, "node2") == [["drbdadm", "up", "r0"]]
    assert fx.actions(cluster, "node1") == []
    code, data, out = run(master, "hapair.remediate", "resource=r0", "topology=orchweb", "dry_run=True", "--out=json")
    assert data["results"][0]["situation"] != "down", out
    fx.write_pillar(short_root, fx.topologies())
