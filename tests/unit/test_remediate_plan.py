"""Table tests for the remediation planner (hapair.remediate.plan).

Every discarding path has a refusal case: the planner must never discard data the policy does not
name. Models mirror the lab captures in /work/shared/captures/lab-drbd-8.4.11-utils-9.22.0 (stage
named beside each); the generation identifiers are verbatim copies in tests/fixtures/remediate/.
"""

import copy
import os

import pytest
from conftest import FIXTURES
from hapair import remediate as r


def model(role="Secondary", disk="UpToDate", conn="Connected", peer_role="Secondary",
          repl="Established", pdisk="UpToDate", oos=0, peer=True, name="r0"):
    peers = []
    if peer:
        peers = [{"name": None, "node_id": 0, "connection_state": conn, "role": peer_role,
                  "volumes": [{"volume": 0, "replication_state": repl, "peer_disk_state": pdisk,
                               "percent_done": None, "eta_seconds": None, "out_of_sync_kib": oos}]}]
    return {"name": name, "role": role, "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": disk}], "peers": peers}


def gi(stage, node):
    path = os.path.join(FIXTURES, "remediate", f"drbdadm-get-gi--8.4.11-utils-9.22.0-{stage}-{node}.out")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


# stage 11: split brain, both StandAlone Primary, oos:64 on both (events2 --statistics)
SB = model(role="Primary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=64)
SB_ZERO = model(role="Secondary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=0)
SB_SEC = model(role="Secondary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=64)
SB_UNKNOWN = model(role="Secondary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=None)
# stage 06: healthy dual-primary
HEALTHY = model(role="Primary", peer_role="Primary")
# stage 05/12: connected, node2 still Secondary
SECONDARY = model(role="Secondary", peer_role="Primary")
# stage 13: link cut (Connecting / WFConnection)
WAITING = model(role="Primary", conn="Connecting", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=32)
# stage 10 without split brain evidence: StandAlone
STANDALONE = model(role="Primary", conn="StandAlone", peer_role="Unknown", repl="Off", pdisk="DUnknown", oos=0)

LVM1 = {"disk": "/dev/vg0/r0", "lvm": {"vg": "vg0", "lv": "r0"}}
LVM2 = {"disk": "/dev/vg0/r0", "lvm": {"vg": "vg0", "lv": "r0"}}
PLAIN = {"disk": "/dev/sdb1", "lvm": None}

TOPO = {
    "name": "web",
    "node_order": ["node1", "node2"],
    "nodes": {"node1": {"minion_id": "node1"}, "node2": {"minion_id": "node2"}},
    "drbd": {"resources": {"r0": {"name": "r0", "mode": "dual-primary", "primary": None,
                                  "initial_primary": "node1", "roles": {"node1": "Primary", "node2": "Primary"},
                                  "remediation": {"reconnect": True, "rejoin_after_reboot": True,
                                                  "split_brain": "manual", "victim": None,
                                                  "snapshot_before_discard": True, "max_attempts": 3,
                                                  "cooldown": 60}}}},
}


def topo(**policy):
    t = copy.deepcopy(TOPO)
    t["drbd"]["resources"]["r0"]["remediation"].update(policy)
    return t


def facts(m1, m2, mounted1=(), mounted2=(), backing1=LVM1, backing2=LVM2, gi1=None, gi2=None, since=(None, None)):
    return {
        "node1": {"model": m1, "mounted": None if mounted1 is None else list(mounted1), "backing": backing1,
                  "gi": gi1, "primary_since": since[0]},
        "node2": {"model": m2, "mounted": None if mounted2 is None else list(mounted2), "backing": backing2,
                  "gi": gi2, "primary_since": since[1]},
    }


SPLIT = {"kind": "split-brain", "id": "e1"}

CASES = [
    # (id, policy, facts, event, decision, actions (node, action), victim)
    ("healthy", {}, facts([HEALTHY][0], HEALTHY), None, "none", [], None),
    ("link-cut-waits", {}, facts(WAITING, WAITING), None, "none", [], None),
    ("standalone-reconnects", {}, facts(STANDALONE, HEALTHY), None, "act", [("node1", "connect")], None),
    ("standalone-policy-off", {"reconnect": False}, facts(STANDALONE, HEALTHY), None, "report", [], None),
    ("rebooted-node-up", {}, facts(WAITING, model(peer=False, disk="Diskless")), None, "act",
     [("node2", "up")], None),
    ("rebooted-absent-up", {}, facts(WAITING, None), None, "act", [("node2", "up")], None),
    ("rejoin-off", {"rejoin_after_reboot": False}, facts(WAITING, None), None, "report", [], None),
    # down on both: nothing runs to rejoin (never deployed, or stopped on purpose): never `up`
    ("down-on-both-not-acted", {}, facts(None, model(peer=False, disk="Diskless")), None, "report", [], None),
    ("dual-primary-promote", {}, facts(HEALTHY, SECONDARY), None, "act", [("node2", "primary")], None),
    # split brain, manual: reported, nothing discarded
    ("sb-manual", {}, facts(SB, SB), SPLIT, "report", [], None),
    # victim: node2 with LVM snapshot; node2 Primary -> demote first
    ("sb-victim", {"split_brain": {"victim": "node2"}}, facts(SB, SB), SPLIT, "act",
     [("node2", "lvm_snapshot"), ("node2", "secondary"), ("node2", "discard_my_data_connect"),
      ("node1", "connect")], "node2"),
    ("sb-victim-key", {"split_brain": "victim", "victim": "node1"}, facts(SB, SB), SPLIT, "act",
     [("node1", "lvm_snapshot"), ("node1", "secondary"), ("node1", "discard_my_data_connect"),
      ("node2", "connect")], "node1"),
    ("sb-victim-unknown-node", {"split_brain": {"victim": "node9"}}, facts(SB, SB), SPLIT, "refuse", [], None),
    ("sb-victim-mounted", {"split_brain": {"victim": "node2"}}, facts(SB, SB, mounted2=["/var/www"]), SPLIT,
     "refuse", [], "node2"),
    ("sb-victim-mount-unknown", {"split_brain": {"victim": "node2"}}, facts(SB, SB, mounted2=None), SPLIT,
     "refuse", [], "node2"),
    ("sb-victim-not-lvm", {"split_brain": {"victim": "node2"}}, facts(SB, SB, backing2=PLAIN), SPLIT,
     "refuse", [], "node2"),
    ("sb-victim-no-snapshot-asked", {"split_brain": {"victim": "node2"}, "snapshot_before_discard": False},
     facts(SB, SB_SEC, backing2=PLAIN), SPLIT, "act",
     [("node2", "discard_my_data_connect"), ("node1", "connect")], "node2"),
    ("sb-survivor-not-uptodate", {"split_brain": {"victim": "node2"}},
     facts(model(role="Primary", disk="Outdated", conn="StandAlone", repl="Off", pdisk="DUnknown", oos=64), SB),
     SPLIT, "refuse", [], "node2"),
    # the victim already reconnects after its discard: never snapshot/discard twice
    ("sb-victim-discard-under-way", {"split_brain": {"victim": "node2"}},
     facts(SB, model(role="Secondary", conn="WFConnection", peer_role="Unknown", repl=None, pdisk="DUnknown")),
     SPLIT, "act", [("node1", "connect")], "node2"),
    # the survivor still WFConnection when read (it turns StandAlone a moment later, or not):
    # its connect is planned anyway and checks StandAlone on the node when it runs
    ("sb-victim-survivor-waiting", {"split_brain": {"victim": "node2"}},
     facts(model(role="Primary", conn="WFConnection", peer_role="Unknown", repl=None, pdisk="DUnknown"), SB),
     SPLIT, "act", [("node2", "lvm_snapshot"), ("node2", "secondary"), ("node2", "discard_my_data_connect"),
                    ("node1", "connect")], "node2"),
    ("sb-victim-both-connecting", {"split_brain": {"victim": "node2"}},
     facts(model(role="Primary", conn="WFConnection", peer_role="Unknown", repl=None, pdisk="DUnknown"),
           model(role="Secondary", conn="WFConnection", peer_role="Unknown", repl=None, pdisk="DUnknown")),
     SPLIT, "none", [], "node2"),
    # discard_zero_changes
    ("sb-zero", {"split_brain": "discard_zero_changes"}, facts(SB, SB_ZERO), SPLIT, "act",
     [("node2", "lvm_snapshot"), ("node2", "discard_my_data_connect"), ("node1", "connect")], "node2"),
    ("sb-zero-both-changed", {"split_brain": "discard_zero_changes"}, facts(SB, SB), SPLIT, "refuse", [], None),
    ("sb-zero-unknown", {"split_brain": "discard_zero_changes"}, facts(SB, SB_UNKNOWN), SPLIT, "refuse", [], None),
    # discard_least_changes
    ("sb-least", {"split_brain": "discard_least_changes"},
     facts(SB, model(role="Secondary", conn="StandAlone", repl="Off", pdisk="DUnknown", oos=8)), SPLIT, "act",
     [("node2", "lvm_snapshot"), ("node2", "discard_my_data_connect"), ("node1", "connect")], "node2"),
    ("sb-least-tie", {"split_brain": "discard_least_changes"}, facts(SB, SB), SPLIT, "refuse", [], None),
    ("sb-least-unknown", {"split_brain": "discard_least_changes"}, facts(SB_UNKNOWN, SB), SPLIT, "refuse", [], None),
    # discard_younger_primary
    ("sb-younger", {"split_brain": "discard_younger_primary"}, facts(SB, SB, since=(100.0, 200.0)), SPLIT,
     "act", [("node2", "lvm_snapshot"), ("node2", "secondary"), ("node2", "discard_my_data_connect"),
             ("node1", "connect")], "node2"),
    ("sb-younger-unknown", {"split_brain": "discard_younger_primary"}, facts(SB, SB, since=(100.0, None)), SPLIT,
     "refuse", [], None),
    ("sb-younger-tie", {"split_brain": "discard_younger_primary"}, facts(SB, SB, since=(5.0, 5.0)), SPLIT,
     "refuse", [], None),
    # split brain seen in the generation identifiers alone (no event): real stage-11 get-gi
    ("sb-from-gi", {}, facts(SB, SB, gi1=gi("11-split-brain-standalone", "node1"),
                             gi2=gi("11-split-brain-standalone", "node2")), None, "report", [], None),
    # half the facts: never act
    ("unreachable", {"split_brain": {"victim": "node2"}}, {"node1": {"model": SB}, "node2": None}, SPLIT,
     "report", [], None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_plan_table(case):
    _, policy, fx, event, decision, actions, victim = case
    result = r.plan(topo(**policy), "r0", fx, history={}, now=1000.0, event=event)
    assert result["decision"] == decision, result["reason"]
    assert [(a["node"], a["action"]) for a in result["actions"]] == actions
    assert result["victim"] == victim
    discards = [a for a in result["actions"] if a["action"] == "discard_my_data_connect"]
    if decision != "act":
        assert not result["actions"]
    for action in discards:  # the one node named by the policy, never the other
        assert action["node"] == result["victim"]


def test_every_discard_policy_has_a_refusal_case():
    refused = {c[1].get("split_brain") if not isinstance(c[1].get("split_brain"), dict) else "victim"
               for c in CASES if c[4] == "refuse"}
    assert set(r.DISCARDING) <= refused


def test_refusals_say_why_and_how_to_override():
    res = r.plan(topo(split_brain={"victim": "node2"}), "r0", facts(SB, SB, backing2=PLAIN), now=1.0, event=SPLIT)
    assert "/dev/sdb1" in res["reason"] and "not an LVM logical volume" in res["reason"]
    assert "snapshot_before_discard: false" in res["reason"]
    res = r.plan(topo(split_brain={"victim": "node2"}), "r0", facts(SB, SB, mounted2=["/var/www"]), now=1.0,
                 event=SPLIT)
    assert "mounted on node2 at /var/www" in res["reason"]


def test_manual_report_names_the_changes_and_the_commands():
    res = r.plan(topo(), "r0", facts(SB, SB), now=1.0, event=SPLIT)
    assert "node1 64 KiB" in res["reason"] and "connect --discard-my-data r0" in res["reason"]


def test_discard_record_says_who_when_why():
    res = r.plan(topo(split_brain={"victim": "node2"}), "r0", facts(SB, SB), now=1234.0, event=SPLIT)
    rec = res["record"]
    assert rec["victim"] == "node2" and rec["survivor"] == "node1" and rec["at"] == 1234.0
    assert rec["snapshot"] == "r0-hapair-sb-1234" and rec["changes_kib"] == {"node1": 64, "node2": 64}
    assert "policy names node2" in rec["why"]


def test_rate_limits_cooldown_max_attempts_duplicate():
    t = topo()
    fx = facts(STANDALONE, HEALTHY)
    hist = {"attempts": [{"at": 990.0, "situation": "standalone", "ok": False}]}
    assert r.plan(t, "r0", fx, history=hist, now=1000.0)["decision"] == "cooldown"
    assert r.plan(t, "r0", fx, history=hist, now=1100.0)["decision"] == "act"
    hist = {"attempts": [{"at": 1.0 * i, "situation": "standalone"} for i in range(3)]}
    assert r.plan(t, "r0", fx, history=hist, now=1000.0)["decision"] == "give_up"
    hist["attempts"].append({"at": 5.0, "situation": "healthy"})  # healthy resets the count
    assert r.plan(t, "r0", fx, history=hist, now=1000.0)["decision"] == "act"
    assert r.plan(t, "r0", fx, history={"events": ["e7"]}, now=1000.0, event={"id": "e7"})["decision"] == "duplicate"


@pytest.mark.parametrize(
    "stage, relation",
    [("05-synced-primary-secondary", "same"),
     ("11-split-brain-standalone", "split_brain"),
     ("12-split-brain-resolved-primary-secondary", "same"),
     ("17-peer-down", "a_newer")],
)
def test_gi_relation_on_real_captures(stage, relation):
    assert r.gi_relation(gi(stage, "node1"), gi(stage, "node2")) == relation


def test_gi_relation_edge_cases():
    assert r.gi_relation(None, gi("05-synced-primary-secondary", "node1")) is None
    parsed = {"current_uuid": "008604F9843C87BF", "bitmap_uuid": "9F74E844602961A9",
              "history_uuids": ["6A6F8714B4C1BC5E", "0000000000000004"]}  # drbd.get_gi shape, stage 11 node1
    assert r.gi_relation(parsed, gi("11-split-brain-standalone", "node2")) == "split_brain"


def with_fs(t):
    t["filesystems"] = {"www": {"name": "www", "resource": "r0", "type": "ocfs2", "mountpoint": "/srv/www",
                                "mount_on": ["node1", "node2"]}}
    return t


def test_rejoined_primary_is_remounted():
    res = r.plan(with_fs(topo()), "r0", facts(HEALTHY, HEALTHY, mounted1=["/srv/www"], mounted2=[]), now=1.0)
    assert res["situation"] == "unmounted" and res["decision"] == "act"
    assert res["actions"] == [{"node": "node2", "action": "mount", "filesystem": "www", "type": "ocfs2"}]
    off = r.plan(with_fs(topo(rejoin_after_reboot=False)), "r0", facts(HEALTHY, HEALTHY, mounted1=["/srv/www"],
                                                                      mounted2=[]), now=1.0)
    assert off["decision"] == "report" and not off["actions"]


def test_no_mount_on_a_secondary_or_when_mounts_are_unknown():
    # still Secondary (promotion comes first), or mount.active did not answer: nothing to mount yet
    res = r.plan(with_fs(topo()), "r0", facts(HEALTHY, SECONDARY, mounted1=["/srv/www"], mounted2=[]), now=1.0)
    assert [a["action"] for a in res["actions"]] == ["primary"]
    res = r.plan(with_fs(topo()), "r0", facts(HEALTHY, HEALTHY, mounted1=["/srv/www"], mounted2=None), now=1.0)
    assert res["situation"] == "healthy" and res["decision"] == "none"


REJOIN = [
    # (what, answers {minion: {running resource: topology its .res names}}, {topology: (answered, resources)})
    ("r0 up on one node, rendered from web", {"node1": {"r0": "web"}, "node2": {}},
     {"web": (["node1", "node2"], ["r0"]), "fs": (["node1", "node2"], [])}),
    ("only the peer answered: its resources", {"node1": {"r0": "fs", "r1": "fs"}},
     {"web": (["node1"], []), "fs": (["node1"], ["r0", "r1"])}),
    # the same resource name in two topologies: only the one deployed acts (seen in the lab: a
    # rebooted node's start made lab_web's policy mount lab_gfs2's r0 as OCFS2)
    ("r0 of another topology", {"node1": {"r0": "fs"}, "node2": {"r0": "fs"}},
     {"web": (["node1", "node2"], []), "fs": (["node1", "node2"], ["r0"])}),
    ("a resource hapair did not render", {"node1": {"r0": None}, "node2": {}},
     {"web": (["node1", "node2"], []), "fs": (["node1", "node2"], [])}),
    ("nothing runs anywhere", {"node1": {}, "node2": {}},
     {"web": (["node1", "node2"], []), "fs": (["node1", "node2"], [])}),
    # a minion still starting under load: looking anyway would flood it with fact calls
    ("nobody answered", {}, {"web": ([], []), "fs": ([], [])}),
]


@pytest.mark.parametrize("what,running,want", REJOIN, ids=[c[0] for c in REJOIN])
def test_rejoin_candidates(what, running, want):
    got = r.rejoin_candidates({"web": ["node1", "node2"], "fs": ["node1", "node2"]}, running)
    assert {t: (v["answered"], v["resources"]) for t, v in got.items()} == want


COVERED = [
    # (what, history, called_at, covered?)
    ("a later reading of both nodes covers the event", {"gathered_at": 105.0}, 100.0, True),
    ("the same instant counts as after", {"gathered_at": 100.0}, 100.0, True),
    ("a reading that began before the call does not", {"gathered_at": 99.9}, 100.0, False),
    ("no reading recorded yet", {}, 100.0, False),
    ("a corrupt record never covers", {"gathered_at": "soon"}, 100.0, False),
]


@pytest.mark.parametrize("what,history,called_at,want", COVERED, ids=[c[0] for c in COVERED])
def test_covered(what, history, called_at, want):
    why = r.covered(history, called_at)
    assert (why is not None) is want
    if want:
        assert "after this one was called" in why
