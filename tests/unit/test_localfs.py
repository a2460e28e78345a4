"""hapair.localfs: the format and preparation planners as tables (facts in, plan or refusal out).

DRBD states come from real /proc/drbd captures (tests/fixtures/fakebin, DRBD 8.4.11), signatures
from real blkid captures (util-linux 2.38.1). The topology is the normalised shape of seed 002
with a service group (docs: the lead's ``groups``), built by hand until topology.py has it.
"""

from __future__ import annotations

import copy
import os

import pytest
import yaml
from conftest import FIXTURES, ROOT
from hapair import drbd_parse, localfs, parsing
from hapair import topology as hapair_topology
from hapair.errors import NotReadyError, RefusedError, RenderError

DEVICE = "/dev/drbd0"
MOUNTPOINT = "/drbd"
RELOCATE = ["/etc/apache2", "/var/www", "/usr/lib/cgi-bin"]


def read(*parts: str) -> str:
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return handle.read()


def model(stage: str, node: str, minor: int = 0) -> dict:
    """The r0 resource model parsed from a verbatim /proc/drbd capture (minor ``minor`` named r0)."""
    found = drbd_parse.parse_proc_drbd(read("fakebin", stage, node, "proc_drbd.stdout"), {minor: "r0"})
    return next(res for res in found["resources"] if res["name"] == "r0")


PRIMARY = model("05-synced-primary-secondary", "node1")          # Primary/Secondary UpToDate/UpToDate
PEER_PRIMARY = model("05-synced-primary-secondary", "node2")     # Secondary/Primary (after a failover)
SECONDARY = model("16-r1-uptodate-after-clear-bitmap", "node1", minor=1)  # Secondary/Secondary UpToDate
INCONSISTENT = model("03-connected-secondary-secondary-inconsistent", "node1")
CUT = model("13-link-cut-wfconnection", "node1")                 # Primary, WFConnection, peer DUnknown
EXT4 = parsing.parse_blkid(read("gfs2", "blkid-export--2.38.1-ext4.out"))
OCFS2 = parsing.parse_blkid(read("ocfs2", "blkid-export--2.38.1-ocfs2.out"))


def topology(fstype: str = "ext4", relocate: list[str] | None = None,
             mountpoint: str = MOUNTPOINT, device: str = DEVICE) -> dict:
    """Seed 002 normalised, with ``groups`` as common.md describes (hand-built until topology.py has it)."""
    paths = RELOCATE if relocate is None else relocate
    return {
        "name": "apache",
        "nodes": {"node1": {"name": "node1", "minion_id": "node1"}, "node2": {"name": "node2", "minion_id": "node2"}},
        "node_order": ["node1", "node2"],
        "drbd": {"resources": {"r0": {"name": "r0", "mode": "single-primary", "primary": "node1",
                                      "roles": {"node1": "Primary", "node2": "Secondary"}}}},
        "filesystems": {"data": {"name": "data", "resource": "r0", "device": device,
                                 "devices": {"node1": device, "node2": device}, "type": fstype,
                                 "mkfs_options": [], "label": None, "mountpoint": mountpoint,
                                 "mount_options": [], "mount_on": [], "format_on": "node1"}},
        "groups": {"www": {"name": "www", "node": "node1", "nodes": ["node1", "node2"], "resource": "r0",
                           "filesystem": "data", "ip": None,
                           "relocate": [{"path": p, "target": mountpoint + p} for p in paths],
                           "services": ["apache2"]}},
        "cluster": {"stack": "heartbeat", "name": "apache"},
    }


def facts(drbd=PRIMARY, signature=None, node="node1", **extra) -> dict:
    """Facts as hapair_fs.facts builds them; a blank device read on the Primary by default."""
    if signature is None and drbd is not None and drbd["role"] == "Primary":
        signature = {}
    out = {"node": node, "drbd": drbd, "heartbeat_running": False, "device": DEVICE, "signature": signature,
           "mounts": [], "mountpoint_exists": True, "targets": None,
           "sources": {p: "directory" for p in RELOCATE}, "record": None}
    out.update(extra)
    return out


def mounted_by_us(targets: dict[str, bool], **extra) -> dict:
    rec = localfs.record(topology(), "www", localfs.MOUNTED)
    return facts(signature=EXT4, record=rec, targets=targets,
                 mounts=[{"device": DEVICE, "mountpoint": MOUNTPOINT, "fstype": "ext4", "is_device": True}], **extra)


def actions(plan) -> list[str]:
    return [step["action"] for step in plan]


# --------------------------------------------------------------------------- plan_format
FS = topology()["filesystems"]["data"]


@pytest.mark.parametrize("fstype, argv", [
    ("ext4", ["mkfs.ext4", "-q", DEVICE]),
    ("ext3", ["mkfs.ext3", "-q", DEVICE]),
    ("xfs", ["mkfs.xfs", "-q", DEVICE]),
    ("btrfs", ["mkfs.btrfs", "-q", DEVICE]),
])
def test_format_blank_synced_primary(fstype, argv):
    (step,) = localfs.plan_format(dict(FS, type=fstype), facts())
    assert step == {"action": "mkfs", "device": DEVICE, "type": fstype, "label": None, "argv": argv,
                    "key": "filesystem", "old": None, "new": fstype}


def test_format_label_and_options_in_order():
    fs = dict(FS, label="data", mkfs_options=["-m", "1", "-E", "lazy_itable_init=0"])
    (step,) = localfs.plan_format(fs, facts(), binary="/sbin/mkfs.ext4")
    assert step["argv"] == ["/sbin/mkfs.ext4", "-q", "-L", "data", "-m", "1", "-E", "lazy_itable_init=0", DEVICE]


def test_format_same_type_is_nothing_to_do():
    assert localfs.plan_format(FS, facts(signature=EXT4)) == []


def test_format_other_type_refused_naming_the_override():
    with pytest.raises(RefusedError) as err:
        localfs.plan_format(FS, facts(signature=OCFS2))
    assert (err.value.device, err.value.override) == (DEVICE, "overwrite=True")
    assert "ocfs2" in err.value.reason


@pytest.mark.parametrize("fstype, flag", [("ext4", "-F"), ("ext3", "-F"), ("xfs", "-f"), ("btrfs", "-f")])
def test_format_overwrite_forces_the_tool(fstype, flag):
    (step,) = localfs.plan_format(dict(FS, type=fstype), facts(signature=OCFS2), overwrite=True)
    assert step["argv"] == [f"mkfs.{fstype}", "-q", flag, DEVICE] and step["old"] == "ocfs2"


@pytest.mark.parametrize("drbd, seen", [
    (SECONDARY, "Secondary here"),
    (INCONSISTENT, "disk Inconsistent"),
    (CUT, "peer disk DUnknown (WFConnection)"),
    (None, "not up"),
])
def test_format_not_ready_unless_synced_primary(drbd, seen):
    with pytest.raises(NotReadyError) as err:  # no override: DRBD brings it (None under test)
        localfs.plan_format(FS, facts(drbd=drbd, signature={}))
    assert seen in err.value.waits_for and err.value.what == DEVICE


def test_format_overwrite_never_lifts_the_drbd_rule():
    with pytest.raises(NotReadyError, match="Secondary here"):
        localfs.plan_format(FS, facts(drbd=SECONDARY, signature=OCFS2), overwrite=True)


def test_format_unread_signature_refused_on_a_plain_device():
    plain = dict(FS, resource=None)
    with pytest.raises(RefusedError, match="signature was not read"):
        localfs.plan_format(plain, facts(drbd=None, signature=None))
    assert localfs.plan_format(plain, facts(drbd=None, signature={}))[0]["action"] == "mkfs"


def test_format_only_on_format_on():
    assert localfs.plan_format(FS, facts(node="node2")) == []


@pytest.mark.parametrize("change, message", [
    ({"label": "x" * 13, "type": "xfs"}, "longer than xfs allows"),
    ({"label": "da ta"}, "label"),
    ({"mkfs_options": ["-O\n^has_journal"]}, "mkfs_options"),
    ({"type": "ocfs2"}, "not a single-primary filesystem"),
])
def test_format_argv_values_pass_whitelists(change, message):
    with pytest.raises(RenderError, match=message):
        localfs.plan_format(dict(FS, **change), facts())


def test_format_device_passes_whitelist():
    with pytest.raises(RenderError, match="device"):
        localfs.plan_format(FS, facts(device="/dev/drbd0 /dev/sda"))


# --------------------------------------------------------------------------- plan_prepare
def test_blank_pair_primary():
    plan = localfs.plan_prepare(topology(), "www", facts())
    assert actions(plan) == ["mkfs", "mount", "copy", "copy", "copy", "umount", "secondary"]
    assert plan[1]["argv"] == ["mount", "-t", "ext4", DEVICE, MOUNTPOINT] and plan[1]["mkdir"] is False
    assert [s["argv"] for s in plan if s["action"] == "copy"] == [
        ["rsync", "-a", f"{p}/", f"{MOUNTPOINT}{p}/"] for p in RELOCATE]
    assert plan[-2] == {"action": "umount", "mountpoint": MOUNTPOINT, "argv": ["umount", MOUNTPOINT]}
    assert plan[-1] == {"action": "secondary", "resource": "r0", "key": "role", "old": "Primary", "new": "Secondary"}
    assert plan.pending == "" and plan.reason == ""


def test_missing_mountpoint_is_made():
    plan = localfs.plan_prepare(topology(), "www", facts(mountpoint_exists=False))
    assert plan[1]["action"] == "mount" and plan[1]["mkdir"] is True


def test_seed_002_as_normalised():
    with open(os.path.join(ROOT, "pillar", "hapair", "apache.sls"), encoding="utf-8") as handle:
        topo = hapair_topology.load(yaml.safe_load(handle), "apache")
    plan = localfs.plan_prepare(topo, "www", facts(node="node01"))
    assert [s["argv"] for s in plan if "argv" in s] == [
        ["mkfs.ext3", "-q", DEVICE], ["mount", "-t", "ext3", DEVICE, MOUNTPOINT],
        *[["rsync", "-a", f"{p}/", f"{MOUNTPOINT}{p}/"] for p in RELOCATE], ["umount", MOUNTPOINT]]
    assert actions(plan)[-1] == "secondary"
    assert localfs.plan_prepare(topo, "www", facts(node="node02", drbd=SECONDARY)).reason == (
        "group www is prepared on its preferred node node01 only")


def test_blank_pair_both_secondary_promotes_then_plans_again():
    plan = localfs.plan_prepare(topology(), "www", facts(drbd=SECONDARY))
    assert plan == [{"action": "primary", "resource": "r0", "key": "role", "old": "Secondary", "new": "Primary"}]
    assert "formatted if blank" in plan.pending


def test_binaries_come_from_config():
    tools = {"mkfs.ext4": "/sbin/mkfs.ext4", "mount": "/bin/mount", "umount": "/bin/umount", "rsync": "/usr/bin/rsync"}
    plan = localfs.plan_prepare(topology(), "www", facts(), binaries=tools)
    assert {s["argv"][0] for s in plan if "argv" in s} == set(tools.values())


def test_already_formatted_mounts_then_reads_the_targets():
    plan = localfs.plan_prepare(topology(), "www", facts(signature=EXT4))
    assert actions(plan) == ["mount"] and "relocate targets" in plan.pending


def test_formatted_with_another_type_refused_naming_the_override():
    with pytest.raises(RefusedError) as err:
        localfs.plan_prepare(topology(), "www", facts(signature=OCFS2))
    assert err.value.override == "overwrite=True" and err.value.device == DEVICE
    plan = localfs.plan_prepare(topology(), "www", facts(signature=OCFS2), overwrite=True)
    assert plan[0]["argv"] == ["mkfs.ext4", "-q", "-F", DEVICE]


def test_mounted_by_this_preparation_copies_only_missing_targets():
    targets = {MOUNTPOINT + "/etc/apache2": True, MOUNTPOINT + "/var/www": False,
               MOUNTPOINT + "/usr/lib/cgi-bin": False}
    plan = localfs.plan_prepare(topology(), "www", mounted_by_us(targets))
    assert actions(plan) == ["copy", "copy", "umount", "secondary"]
    assert [s["path"] for s in plan if s["action"] == "copy"] == ["/var/www", "/usr/lib/cgi-bin"]
    assert plan[0]["parent"] == MOUNTPOINT + "/var"


def test_relocation_target_already_there_is_never_copied_over():
    every = {MOUNTPOINT + p: True for p in RELOCATE}
    plan = localfs.plan_prepare(topology(), "www", mounted_by_us(every))
    assert actions(plan) == ["umount", "secondary"]


def test_source_missing_is_not_ready_before_anything_runs():
    with pytest.raises(NotReadyError, match="/var/www"):
        localfs.plan_prepare(topology(), "www", facts(sources={"/etc/apache2": "directory", "/var/www": None,
                                                              "/usr/lib/cgi-bin": "directory"}))


def test_source_missing_with_its_target_there_is_fine():
    targets = {MOUNTPOINT + p: p == "/var/www" for p in RELOCATE}
    plan = localfs.plan_prepare(topology(), "www", mounted_by_us(
        targets, sources={"/etc/apache2": "directory", "/var/www": None, "/usr/lib/cgi-bin": "directory"}))
    assert [s["path"] for s in plan if s["action"] == "copy"] == ["/etc/apache2", "/usr/lib/cgi-bin"]


def test_source_already_a_link_with_no_target_is_refused():
    with pytest.raises(RefusedError, match="drbdlinks"):
        localfs.plan_prepare(topology(), "www", facts(sources={p: "link" for p in RELOCATE}))


def test_file_source_is_copied_as_a_file():
    topo = topology(relocate=["/etc/default/apache-htcacheclean"])
    plan = localfs.plan_prepare(topo, "www", facts(sources={"/etc/default/apache-htcacheclean": "file"}))
    (copy_step,) = [s for s in plan if s["action"] == "copy"]
    assert copy_step["argv"] == ["rsync", "-a", "/etc/default/apache-htcacheclean",
                                 "/drbd/etc/default/apache-htcacheclean"]


@pytest.mark.parametrize("change, reason", [
    ({"heartbeat_running": True}, "heartbeat owns r0 now (it runs on node1)"),
    ({"drbd": PEER_PRIMARY, "signature": None}, "heartbeat owns r0 now (the peer is Primary)"),
    ({"mounts": [{"device": DEVICE, "mountpoint": MOUNTPOINT, "fstype": "ext4", "is_device": True}],
      "signature": EXT4}, "mounted by someone else"),
    ({"mounts": [{"device": DEVICE, "mountpoint": "/mnt", "fstype": "ext4", "is_device": True}]},
     "/dev/drbd0 (ext4) on /mnt (mounted by someone else)"),
    ({"mounts": [{"device": "/dev/sdb1", "mountpoint": MOUNTPOINT, "fstype": "xfs", "is_device": False}]},
     "/dev/sdb1 (xfs) on /drbd"),
    ({"node": "node2", "drbd": SECONDARY}, "prepared on its preferred node node1 only"),
])
def test_hands_off_plans_are_empty_with_a_reason(change, reason):
    plan = localfs.plan_prepare(topology(), "www", facts(**change))
    assert plan == [] and reason in plan.reason


def test_running_pair_rerun_changes_nothing_also_after_failover():
    running = facts(signature=EXT4, heartbeat_running=True,
                    mounts=[{"device": DEVICE, "mountpoint": MOUNTPOINT, "fstype": "ext4", "is_device": True}])
    failed_over = facts(drbd=PEER_PRIMARY, signature=None, heartbeat_running=True)
    peer_only = facts(drbd=PEER_PRIMARY, signature=None)  # heartbeat stopped here, the peer runs the group
    for state in (running, failed_over, peer_only):
        plan = localfs.plan_prepare(topology(), "www", state, overwrite=True)
        assert plan == [] and plan.reason.startswith("heartbeat owns r0 now")


def test_heartbeat_running_wins_over_our_own_mount():
    plan = localfs.plan_prepare(topology(), "www", mounted_by_us({}, heartbeat_running=True))
    assert plan == [] and "heartbeat owns r0" in plan.reason


def prepared_record(uuid=EXT4["uuid"], **change):
    return dict(localfs.record(topology(), "www", localfs.PREPARED, uuid), **change)


@pytest.mark.parametrize("state", [
    facts(signature=EXT4, record=prepared_record()),                 # left Primary (steady role)
    facts(drbd=SECONDARY, record=prepared_record()),                 # demoted: the device cannot be read
])
def test_prepared_already_is_empty(state):
    plan = localfs.plan_prepare(topology(), "www", state)
    assert plan == [] and "prepared already" in plan.reason


@pytest.mark.parametrize("state, first", [
    (facts(record=prepared_record()), "mkfs"),                                        # disk made blank since
    (facts(signature=EXT4, record=prepared_record(uuid="0b1e4ad8-other")), "mount"),  # made again since
    (facts(signature=EXT4, record=prepared_record(targets=["/drbd/etc/apache2"])), "mount"),  # new path
    (facts(signature=EXT4, record=prepared_record(type="xfs")), "mount"),
    (facts(signature=EXT4, record=localfs.record(topology(), "www", localfs.MOUNTED)), "mount"),  # interrupted
])
def test_stale_record_plans_again(state, first):
    assert actions(localfs.plan_prepare(topology(), "www", state))[0] == first


@pytest.mark.parametrize("drbd, waits", [
    (INCONSISTENT, "disk Inconsistent"),
    (CUT, "WFConnection"),
    (None, "the resource up on node1"),
])
def test_not_synced_is_not_ready(drbd, waits):
    with pytest.raises(NotReadyError, match=waits):
        localfs.plan_prepare(topology(), "www", facts(drbd=drbd, signature={}))


def test_group_without_filesystem_has_nothing_to_prepare():
    topo = topology()
    topo["groups"]["www"]["filesystem"] = None
    plan = localfs.plan_prepare(topo, "www", facts())
    assert plan == [] and "no filesystem" in plan.reason


@pytest.mark.parametrize("where, value", [("relocate", "/var/my www"), ("mountpoint", "/drbd\n")])
def test_prepare_values_pass_whitelists(where, value):
    topo = topology(mountpoint=value) if where == "mountpoint" else topology(relocate=[value])
    state = facts(sources={value: "directory"})
    with pytest.raises(RenderError):
        localfs.plan_prepare(topo, "www", state)


def test_cluster_filesystem_is_not_prepared_here():
    with pytest.raises(RenderError, match="ocfs2"):
        localfs.plan_prepare(topology(fstype="ocfs2"), "www", facts())


def test_planner_does_not_touch_its_inputs():
    topo, state = topology(), mounted_by_us({})
    before = copy.deepcopy((topo, state))
    localfs.plan_prepare(topo, "www", state)
    assert (topo, state) == before


# --------------------------------------------------------------------------- changes and record
def test_changes_of_a_full_preparation():
    plan = localfs.plan_prepare(topology(), "www", facts())
    got = localfs.changes([{"action": "primary", "key": "role", "old": "Secondary", "new": "Primary"}, *plan])
    assert got == {"role": {"old": "Secondary", "new": "Secondary", "temporarily": "Primary"},
                   "formatted": {"device": DEVICE, "type": "ext4", "label": None,
                                 "argv": ["mkfs.ext4", "-q", DEVICE]},
                   "mounted": {"mountpoint": MOUNTPOINT, "old": False, "new": False, "temporarily": True},
                   "copied": {p: MOUNTPOINT + p for p in RELOCATE}}


def test_changes_of_a_first_phase_name_what_follows():
    plan = localfs.plan_prepare(topology(), "www", facts(drbd=SECONDARY))
    assert localfs.changes(plan, plan.pending) == {"role": {"old": "Secondary", "new": "Primary"},
                                                   "then": plan.pending}


def test_record_lists_the_targets():
    rec = localfs.record(topology(), "www", localfs.PREPARED, "u-1")
    assert rec == {"topology": "apache", "group": "www", "filesystem": "data", "type": "ext4", "state": "prepared",
                   "uuid": "u-1", "targets": [MOUNTPOINT + p for p in RELOCATE]}


def test_record_path_refuses_unsafe_names():
    with pytest.raises(RenderError):
        localfs.record_path("/var/lib/hapair", "apache", "../www")
