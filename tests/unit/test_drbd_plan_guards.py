"""Issue 12 "Guards": each guard judges the device the command acts on, and nothing weaker.

Tables over hapair.drbd_plan: facts as ``drbd.facts`` gathers them (devices from ``drbdadm
sh-ll-dev``/``sh-md-dev``, each opened and probed), expected refusal or pass.
"""

import pytest
from hapair import drbd_plan as plan
from hapair.errors import RefusedError

CLEAN = {"opens": True, "metadata": False, "signature": None}
FRESH_DOWN = {"resource": "r0", "node": "node1", "disk": "/dev/vdb", "loaded": True, "up": False,
              "metadata": False, "signature": None, "signature_checked": True,
              "volumes": [{"disk": "/dev/vdb", "meta_disk": None}], "probes": {"/dev/vdb": CLEAN}}
XFS_META = dict(FRESH_DOWN, volumes=[{"disk": "/dev/vdb", "meta_disk": "/dev/vdc"}],
                probes={"/dev/vdb": CLEAN, "/dev/vdc": {"opens": True, "metadata": False, "signature": "xfs"}})
TYPO = dict(FRESH_DOWN, requested_disk="/dev/typo", realpaths={"/dev/typo": "/dev/typo", "/dev/vdb": "/dev/vdb"})
ALIAS = dict(FRESH_DOWN, requested_disk="/dev/disk/by-path/virtio-pci-0000:00:05.0",
             realpaths={"/dev/disk/by-path/virtio-pci-0000:00:05.0": "/dev/vdb", "/dev/vdb": "/dev/vdb"})
UNOPENED = dict(FRESH_DOWN, signature_checked=False, probes={"/dev/vdb": {"opens": False, "metadata": None,
                                                                          "signature": None}})
NEVER_PROBED = {k: v for k, v in FRESH_DOWN.items() if k not in ("probes", "signature_checked")}


@pytest.mark.parametrize(
    "facts, overwrite, refused",
    [
        (FRESH_DOWN, False, None),
        (ALIAS, False, None),                                   # another name of the configured disk
        (XFS_META, False, r"/dev/vdc: it carries a xfs signature.*overwrite_data=True"),
        (XFS_META, True, None),
        (TYPO, False, r"/dev/typo: create-md r0 would write to /dev/vdb"),
        (TYPO, True, r"/dev/typo: create-md r0 would write to /dev/vdb"),  # no override makes it the disk
        (UNOPENED, False, r"/dev/vdb: it cannot be opened"),
        (UNOPENED, True, r"/dev/vdb: it cannot be opened"),
        (NEVER_PROBED, False, r"could not be checked.*overwrite_data=True"),
        (dict(FRESH_DOWN, volumes=None), False, r"names no backing disk"),
    ],
)
def test_guard_create_md_judges_the_configured_devices(facts, overwrite, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused):
            plan.guard_create_md(facts, overwrite_data=overwrite)
    else:
        plan.guard_create_md(facts, overwrite_data=overwrite)


def test_plan_metadata_honours_overwrite_data_once():
    assert [s["action"] for s in plan.plan_metadata(XFS_META, overwrite_data=True)] == ["create_md"]
    with pytest.raises(RefusedError, match="/dev/vdc"):
        plan.plan_metadata(XFS_META)
    assert plan.plan_metadata(dict(XFS_META, metadata=True), overwrite_data=True) == []  # never again


FORCE = {"resource": "r0", "device": "/dev/drbd0", "disk_state": "Inconsistent"}


@pytest.mark.parametrize(
    "peer, override, refused",
    [
        ("Inconsistent", False, None),
        ("UpToDate", False, "peer's disk is UpToDate"),
        ("Outdated", False, "peer's disk is Outdated"),
        ("Consistent", False, "peer's disk is Consistent"),
        ("Outdated", True, "peer's disk is Outdated"),         # the override is for a peer with no disk only
        ("DUnknown", False, r"DUnknown.*peer_has_no_data=True"),
        ("Diskless", False, r"Diskless.*peer_has_no_data=True"),
        (None, False, r"no peer connected.*peer_has_no_data=True"),
        ("DUnknown", True, None),
        ("Diskless", True, None),
        (None, True, None),
    ],
)
def test_guard_primary_force_needs_a_peer_without_better_data(peer, override, refused):
    facts = dict(FORCE, peer_disk_state=peer)
    if refused:
        with pytest.raises(RefusedError, match=refused) as err:
            plan.guard_primary_force(facts, peer_has_no_data=override)
        assert "/dev/drbd0" in str(err.value)
    else:
        plan.guard_primary_force(facts, peer_has_no_data=override)


SPLIT = {"resource": "r0", "device": "/dev/drbd0", "node": "node1", "node_names": ["node1", "node1.lab"],
         "connection_state": "StandAlone", "split_brain": True}


@pytest.mark.parametrize(
    "facts, victim, refused",
    [
        (SPLIT, "node1", None),
        (SPLIT, "node1.lab", None),                            # the node's hostname is one of its names
        (dict(SPLIT, caller_node="node2"), "node2", r"node='node2' is not this node"),
        (dict(SPLIT, caller_node="node1"), "node1", None),
        (SPLIT, "node2", "not this node"),
    ],
)
def test_guard_discard_my_data_trusts_only_the_nodes_own_names(facts, victim, refused):
    if refused:
        with pytest.raises(RefusedError, match=refused):
            plan.guard_discard_my_data(facts, victim)
    else:
        plan.guard_discard_my_data(facts, victim)


@pytest.mark.parametrize(
    "source, numbers, expected",
    [
        ("/dev/drbd0", {"major": "147", "minor": "0"}, ["/srv/www"]),
        ("/dev/drbd/by-res/r0/0", {"major": "147", "minor": "0"}, ["/srv/www"]),
        ("/dev/disk/by-label/www", {"major": "147", "minor": "0"}, ["/srv/www"]),
        ("/dev/drbd/by-res/r0/0", {}, ["/srv/www"]),            # no mountinfo numbers: the source's st_rdev
        ("/dev/drbd1", {"major": "147", "minor": "1"}, []),
    ],
)
def test_mounted_at_compares_device_numbers_not_strings(source, numbers, expected):
    mounts = {"/srv/www": dict({"device": source, "fstype": "ocfs2"}, **numbers),
              "/": {"device": "/dev/vda1", "major": "254", "minor": "1"}}
    sources = {"/dev/drbd/by-res/r0/0": (147, 0), "/dev/vda1": (254, 1)}
    assert plan.mounted_at(mounts, (plan.DRBD_MAJOR, 0), sources) == expected


def test_backing_devices_and_write_targets():
    vols = plan.backing_devices("/dev/vdb\n/dev/vdd\n", "/dev/vdc\n/dev/vdd\n")
    assert vols == [{"disk": "/dev/vdb", "meta_disk": "/dev/vdc"}, {"disk": "/dev/vdd", "meta_disk": None}]
    assert plan.write_targets(vols) == ["/dev/vdb", "/dev/vdc", "/dev/vdd"]
    with pytest.raises(plan.PlanError):
        plan.backing_devices("/dev/vdb\n", "")
