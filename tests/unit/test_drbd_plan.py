"""Planner tables for hapair.drbd_plan: facts in, plan (actions) or refusal out.

Fact values are DRBD's own state names as the captures in tests/fixtures show them (e.g. stage 03
of ../shared/captures/lab-drbd-8.4.11-utils-9.22.0: Connected Secondary/Secondary
Inconsistent/Inconsistent with the initial GI ``0000000000000004:...``).
"""

import doctest
import os

import pytest
from conftest import FIXTURES
from hapair import drbd_plan as plan
from hapair.errors import RefusedError

FRESH = {  # stage 03: both up, connected, fresh, nothing synced yet
    "resource": "r0", "node": "node1", "device": "/dev/drbd0", "disk": "/dev/vdb", "loaded": True,
    "up": True, "metadata": True, "signature": None, "role": "Secondary", "disk_state": "Inconsistent",
    "connection_state": "Connected", "replication_state": "Established", "peer_role": "Secondary",
    "peer_disk_state": "Inconsistent", "gi_initial": True, "split_brain": False, "initial_sync_done": False,
}
SYNCING = dict(FRESH, role="Primary", disk_state="UpToDate", replication_state="SyncSource",
               percent_done=1.6, eta_seconds=654, out_of_sync_kib=261716, gi_initial=False)
SYNCED = dict(FRESH, role="Primary", disk_state="UpToDate", peer_disk_state="UpToDate", gi_initial=False)
SYNCED_SEC = dict(SYNCED, role="Secondary", peer_role="Primary")
CLEAN = {"opens": True, "metadata": False, "signature": None}
DOWN_NO_MD = {"resource": "r0", "node": "node1", "disk": "/dev/vdb", "loaded": True, "up": False,
              "metadata": False, "signature": None, "volumes": [{"disk": "/dev/vdb", "meta_disk": None}],
              "probes": {"/dev/vdb": CLEAN}, "signature_checked": True}  # drbd.facts on a fresh node
EXTERNAL_MD = dict(DOWN_NO_MD, volumes=[{"disk": "/dev/vdb", "meta_disk": "/dev/vdc"}],
                   probes={"/dev/vdb": CLEAN, "/dev/vdc": CLEAN})
DOWN_MD = dict(DOWN_NO_MD, metadata=True, gi_initial=True)
STANDALONE = dict(SYNCED, connection_state="StandAlone", replication_state=None, peer_role=None,
                  peer_disk_state=None)
SPLIT = dict(STANDALONE, split_brain=True)
WFC = dict(SYNCED, connection_state="WFConnection", replication_state=None, peer_role=None, peer_disk_state=None)

RES_FULL = {"name": "r0", "initial_primary": "node1", "initial_sync": "full", "mode": "dual-primary"}
RES_SKIP = dict(RES_FULL, initial_sync="skip")
OCFS2 = [{"resource": "r0", "type": "ocfs2"}]


def actions(steps):
    return [s["action"] for s in steps]


def test_doctests():
    assert doctest.testmod(plan).failed == 0


@pytest.mark.parametrize(
    "facts, kwargs, expected",
    [
        (DOWN_NO_MD, {}, ["create_md"]),
        (DOWN_MD, {}, []),
        (FRESH, {}, []),
        (dict(DOWN_NO_MD, signature="ext4"), {"overwrite_data": True}, ["create_md"]),
        (DOWN_MD, {"overwrite_data": True}, []),        # a state never recreates metadata
        (dict(DOWN_NO_MD, volumes=None), {}, plan.PlanError),  # config not written yet
        (dict(DOWN_NO_MD, signature="ext4"), {}, RefusedError),
        (dict(DOWN_NO_MD, signature="LVM2_member"), {}, RefusedError),
    ],
)
def test_plan_metadata(facts, kwargs, expected):
    if expected is RefusedError:
        with pytest.raises(RefusedError, match=r"/dev/vdb.*overwrite_data=True"):
            plan.plan_metadata(facts, **kwargs)
    elif expected is plan.PlanError:
        with pytest.raises(plan.PlanError, match="drbd.configured"):
            plan.plan_metadata(facts, **kwargs)
    else:
        assert actions(plan.plan_metadata(facts, **kwargs)) == expected


@pytest.mark.parametrize(
    "facts, override, refused",
    [
        (DOWN_NO_MD, False, None),
        (DOWN_MD, False, "already carries DRBD metadata"),
        (dict(DOWN_NO_MD, signature="xfs"), False, "xfs signature"),
        (FRESH, False, "is up"),
        (dict(DOWN_NO_MD, signature="xfs"), True, None),
    ],
)
def test_guard_create_md(facts, override, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused) as err:
            plan.guard_create_md(facts, overwrite_data=override)
        assert "overwrite_data=True" in str(err.value) and "/dev/vdb" in str(err.value)
    else:
        assert plan.guard_create_md(facts, overwrite_data=override) is None


@pytest.mark.parametrize(
    "facts, refused",
    [
        (FRESH, None),
        (dict(FRESH, disk_state="UpToDate"), "not Inconsistent"),
        (dict(FRESH, peer_disk_state="UpToDate"), "peer's disk is UpToDate"),
        (dict(FRESH, disk_state="Outdated"), "Outdated"),
        (dict(FRESH, disk_state="Diskless"), "Diskless"),
    ],
)
def test_guard_primary_force(facts, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused) as err:
            plan.guard_primary_force(facts)
        assert "/dev/drbd0" in str(err.value)
    else:
        plan.guard_primary_force(facts)


@pytest.mark.parametrize(
    "facts, refused",
    [
        (FRESH, None),
        (dict(FRESH, gi_initial=False), "generation identifier"),
        (dict(FRESH, peer_gi_initial=False), "peer's generation"),
        (dict(FRESH, connection_state="WFConnection", replication_state=None), "not Connected"),
        (dict(FRESH, replication_state="SyncSource"), "not Connected"),
        (dict(FRESH, role="Primary"), "Primary/Secondary"),
        (dict(FRESH, peer_role="Primary"), "Secondary/Primary"),
        (dict(FRESH, peer_disk_state="UpToDate"), "Inconsistent/UpToDate"),
    ],
)
def test_guard_new_current_uuid(facts, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused) as err:
            plan.guard_new_current_uuid(facts)
        assert "clear_bitmap=False" in str(err.value)
    else:
        plan.guard_new_current_uuid(facts)


@pytest.mark.parametrize(
    "facts, victim, refused",
    [
        (SPLIT, "node1", None),
        (SPLIT, None, "no split-brain victim"),
        (SPLIT, "node2", "not this node"),
        (STANDALONE, "node1", "no split brain was detected"),
        (dict(SPLIT, connection_state="WFConnection"), "node1", "not StandAlone"),
        (dict(SPLIT, connection_state="Connected"), "node1", "not StandAlone"),
    ],
)
def test_guard_discard_my_data(facts, victim, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused):
            plan.guard_discard_my_data(facts, victim)
    else:
        plan.guard_discard_my_data(facts, victim)


@pytest.mark.parametrize(
    "facts, res, node, expected",
    [
        (FRESH, RES_FULL, "node1", ["primary_force", "record_initial_sync"]),
        (FRESH, RES_FULL, "node2", []),
        (FRESH, RES_SKIP, "node1", ["new_current_uuid", "record_initial_sync"]),
        (FRESH, RES_SKIP, "node2", []),
        (dict(FRESH, initial_sync_done=True), RES_FULL, "node1", []),
        (dict(SYNCED, initial_sync_done=True), RES_FULL, "node1", []),
        (SYNCING, RES_FULL, "node1", ["record_initial_sync"]),
        (SYNCED, RES_FULL, "node1", ["record_initial_sync"]),
        (dict(FRESH, peer_disk_state="UpToDate"), RES_FULL, "node1", RefusedError),
        (dict(FRESH, gi_initial=False), RES_SKIP, "node1", RefusedError),
        (dict(FRESH, connection_state="WFConnection", replication_state=None), RES_FULL, "node1", plan.PlanError),
    ],
)
def test_plan_initial_sync(facts, res, node, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            plan.plan_initial_sync(facts, res, node)
    else:
        assert actions(plan.plan_initial_sync(facts, res, node)) == expected


def test_initial_sync_changes_say_what_changes():
    steps = plan.plan_initial_sync(FRESH, RES_FULL, "node1")
    assert plan.changes(steps) == {"role": {"old": "Secondary", "new": "Primary"},
                                   "initial_sync": {"old": None, "new": "full"}}
    assert steps[0]["args"] == {"force": True}


@pytest.mark.parametrize(
    "facts, expected",
    [
        (DOWN_MD, ["up"]),
        (FRESH, []),
        (DOWN_NO_MD, plan.PlanError),
    ],
)
def test_plan_up(facts, expected):
    if isinstance(expected, type):
        with pytest.raises(expected, match="metadata"):
            plan.plan_up(facts)
    else:
        assert actions(plan.plan_up(facts)) == expected


@pytest.mark.parametrize(
    "facts, expected",
    [
        (FRESH, []),
        (WFC, ["wait_connected"]),
        (STANDALONE, ["connect", "wait_connected"]),
        (SPLIT, RefusedError),
        (DOWN_MD, plan.PlanError),
    ],
)
def test_plan_connected(facts, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            plan.plan_connected(facts)
    else:
        assert actions(plan.plan_connected(facts)) == expected


def test_split_brain_connect_refusal_names_the_override():
    with pytest.raises(RefusedError, match="discard_my_data_connect with victim"):
        plan.plan_connected(SPLIT)


@pytest.mark.parametrize(
    "facts, expected",
    [(SYNCED, []), (SYNCING, ["wait_synced"]), (FRESH, ["wait_synced"]), (WFC, ["wait_synced"]),
     (DOWN_MD, plan.PlanError)],
)
def test_plan_synced(facts, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            plan.plan_synced(facts)
    else:
        assert actions(plan.plan_synced(facts)) == expected


@pytest.mark.parametrize(
    "facts, mode, expected",
    [
        (SYNCED, "single-primary", []),
        (dict(SYNCED, role="Secondary", peer_role="Secondary"), "single-primary", ["primary"]),
        (SYNCED_SEC, "single-primary", RefusedError),
        (SYNCED_SEC, "dual-primary", ["primary"]),
        (FRESH, "single-primary", plan.PlanError),
        (DOWN_MD, "single-primary", plan.PlanError),
    ],
)
def test_plan_primary(facts, mode, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            plan.plan_primary(facts, mode)
    else:
        assert actions(plan.plan_primary(facts, mode)) == expected


@pytest.mark.parametrize("facts, expected", [(SYNCED, ["secondary"]), (SYNCED_SEC, []), (DOWN_MD, [])])
def test_plan_secondary(facts, expected):
    assert actions(plan.plan_secondary(facts)) == expected


@pytest.mark.parametrize(
    "facts, res, fss, expected",
    [
        (SYNCED_SEC, RES_FULL, OCFS2, ["allow_two_primaries", "primary"]),
        (dict(SYNCED, peer_role="Primary"), RES_FULL, OCFS2, []),
        (SYNCED_SEC, RES_FULL, [{"resource": "r0", "type": "ext4"}], RefusedError),
        (SYNCED_SEC, RES_FULL, [{"resource": "r1", "type": "ocfs2"}], RefusedError),
        (SYNCED_SEC, RES_FULL, [], RefusedError),
        (SYNCED_SEC, dict(RES_FULL, mode="single-primary"), OCFS2, RefusedError),
        (dict(SYNCING, role="Secondary"), RES_FULL, OCFS2, plan.PlanError),
        (dict(WFC, role="Secondary"), RES_FULL, [{"resource": "r0", "type": "gfs2"}], plan.PlanError),
    ],
)
def test_plan_dual_primary(facts, res, fss, expected):
    if isinstance(expected, type):
        with pytest.raises(expected):
            plan.plan_dual_primary(facts, res, fss)
    else:
        assert actions(plan.plan_dual_primary(facts, res, fss)) == expected


def test_dual_primary_without_cluster_fs_names_why():
    with pytest.raises(RefusedError, match="without a cluster filesystem"):
        plan.plan_dual_primary(SYNCED_SEC, RES_FULL, [{"resource": "r0", "type": "xfs"}])


@pytest.mark.parametrize(
    "desired, current, up, expected",
    [
        ({"/c": {"content": "a", "mode": "0644"}}, {"/c": None}, [], ["write"]),
        ({"/c": {"content": "a", "mode": "0644"}}, {"/c": {"content": "a", "mode": "0644"}}, ["r0"], []),
        ({"/c": {"content": "a", "mode": "0600"}}, {"/c": {"content": "a", "mode": "0644"}}, ["r0"], ["chmod"]),
        ({"/c": {"content": "b", "mode": "0600"}}, {"/c": {"content": "a", "mode": "0600"}}, ["r0"],
         ["write", "adjust"]),
        ({"/c": {"content": "b", "mode": "0600"}, "/d": {"content": "x", "mode": "0644"}},
         {"/c": {"content": "a", "mode": "0600"}, "/d": None}, ["r1", "r0"], ["write", "write", "adjust", "adjust"]),
    ],
)
def test_plan_config(desired, current, up, expected):
    assert actions(plan.plan_config(desired, current, up)) == expected


@pytest.mark.parametrize(
    "facts, words",
    [
        (STANDALONE, "StandAlone"),
        (WFC, "WFConnection: the peer is not reachable"),
        (dict(SYNCING, replication_state="PausedSyncS"), "paused"),
        (dict(SYNCED, peer_disk_state="Diskless"), "peer disk is Diskless"),
        (SYNCING, "1.6% done, eta 654s"),
        (DOWN_MD, "not up"),
    ],
)
def test_give_up_reason(facts, words):
    assert words in plan.give_up_reason(facts)


def test_flatten_splits_connection_and_replication():
    model = {"name": "r0", "role": "Primary", "suspended": False,
             "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
             "peers": [{"name": None, "node_id": None, "connection_state": "Connected", "role": "Secondary",
                        "volumes": [{"volume": 0, "replication_state": "SyncSource", "peer_disk_state": "Inconsistent",
                                     "percent_done": 1.6, "eta_seconds": 654, "out_of_sync_kib": 261716}]}]}
    flat = plan.flatten(model)
    assert (flat["connection_state"], flat["replication_state"], flat["percent_done"]) == ("Connected", "SyncSource", 1.6)
    assert plan.flatten(None)["up"] is False


def test_config_minors_reads_real_dump(fixture_text):
    # tests/fixtures/fakebin/17-peer-down/node1/drbdadm_dump.stdout: real `drbdadm dump` (r0 + r1)
    from hapair import drbd_parse  # noqa: PLC0415

    text = fixture_text("fakebin/17-peer-down/node1/drbdadm_dump.stdout")
    assert drbd_parse.config_minors([text]) == {0: "r0", 1: "r1"}
    assert drbd_parse.config_resources([text]) == ["r0", "r1"]


@pytest.fixture
def fixture_text():
    def read(rel):
        with open(os.path.join(FIXTURES, rel), encoding="utf-8") as handle:
            return handle.read()

    return read


@pytest.mark.parametrize("facts, expected", [(SYNCED_SEC, ["down"]), (DOWN_MD, []), (SYNCED, RefusedError)])
def test_plan_down(facts, expected):
    if isinstance(expected, type):
        with pytest.raises(expected, match="drbd.secondary first"):
            plan.plan_down(facts)
    else:
        assert actions(plan.plan_down(facts)) == expected
