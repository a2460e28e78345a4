"""A node whose backing disk failed goes Diskless and serves through its peer: hapair says so and
does not call it down (docs/disk-failure.md).

The fixtures are NOT captures. No real output of a Diskless node exists in
/work/shared/captures/lab-drbd-8.4.11-utils-9.22.0 (no detach stage; its only ``Diskless`` is the
kernel log's ``disk( Diskless -> Attaching )`` while a resource comes up). tests/fixtures/diskless/
holds files built only from the DRBD documentation's output formats (the 8.4 User's Guide's
``drbdadm dstate`` output verbatim, its /proc/drbd line layout, and drbd-utils 9.22's
``drbdadm status`` layout as the lab printed it), each described in tests/fixtures/diskless/README.md.
The expected models below are written by hand. Replace them with lab captures once the lab's
disk-failure stage runs.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys

import pytest
from conftest import FIXTURES, ROOT
from hapair import drbd_parse, drbd_plan, drbd_state, events, remediate, report
from hapair.errors import HapairError, RefusedError

sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin", "cman"))
import fakesalt  # noqa: E402

DISKLESS = os.path.join(FIXTURES, "diskless")


def text(name):
    with open(os.path.join(DISKLESS, name), encoding="utf-8") as handle:
        return handle.read()


def proc_model(name, minor_names={0: "r0"}):  # noqa: B006 - read only
    return drbd_parse.parse_proc_drbd(text(name), names=dict(minor_names))["resources"][0]


# --------------------------------------------------------------------------- parsers

def test_dstate_as_the_users_guide_prints_it():
    assert drbd_parse.parse_dstate(text("drbdadm_dstate--8.4-usersguide-diskless-uptodate.out"))["local"] == "Diskless"
    assert drbd_parse.parse_dstate(text("drbdadm_dstate--8.4-usersguide-diskless-uptodate.out"))["peers"] == ["UpToDate"]


def test_proc_drbd_diskless_node():
    model = proc_model("proc_drbd--8.4-docformat-diskless-served-node1.out")
    assert model == {
        "name": "r0", "role": "Primary", "suspended": False,
        "volumes": [{"volume": None, "minor": 0, "disk_state": "Diskless"}],
        "peers": [{"name": None, "node_id": None, "connection_state": "Connected", "role": "Primary",
                   "volumes": [{"volume": None, "replication_state": "Established", "peer_disk_state": "UpToDate",
                                "percent_done": None, "eta_seconds": None, "out_of_sync_kib": 0}]}]}


def test_proc_drbd_its_peer():
    model = proc_model("proc_drbd--8.4-docformat-peer-diskless-node2.out")
    assert model["volumes"][0]["disk_state"] == "UpToDate"
    assert model["peers"][0]["volumes"][0]["peer_disk_state"] == "Diskless"
    assert model["peers"][0]["volumes"][0]["out_of_sync_kib"] == 1024


def test_drbdadm_status_diskless_node():
    [model] = drbd_parse.parse_drbdadm_status(text("drbdadm_status--9-docformat-diskless-served-node1.out"))
    assert model == {
        "name": "r0", "role": "Primary", "suspended": False,
        "volumes": [{"volume": 0, "minor": None, "disk_state": "Diskless"}],
        "peers": [{"name": "peer", "node_id": None, "connection_state": "Connected", "role": "Primary",
                   "volumes": [{"volume": 0, "replication_state": "Established", "peer_disk_state": "UpToDate",
                                "percent_done": None, "eta_seconds": None, "out_of_sync_kib": None}]}]}


# --------------------------------------------------------------------------- the rule

@pytest.mark.parametrize("disk, conn, peer, served", [
    ("Diskless", "Connected", "UpToDate", True),
    ("Diskless", "StandAlone", "DUnknown", False),        # alone: nothing serves it
    ("Diskless", "WFConnection", "DUnknown", False),
    ("Diskless", "Connected", "Inconsistent", False),     # the peer has no good copy either
    ("Diskless,UpToDate", "Connected", "UpToDate", False),  # one volume still has its disk
    ("UpToDate", "Connected", "Diskless", False),         # the peer's view
    ("Failed", "Connected", "UpToDate", False),
])
def test_served_by_peer(disk, conn, peer, served):
    assert drbd_state.served_by_peer(disk, conn, peer) is served


# --------------------------------------------------------------------------- remediation

TOPO = {
    "name": "lab_gfs2", "node_order": ["node1", "node2"],
    "nodes": {"node1": {"minion_id": "node1"}, "node2": {"minion_id": "node2"}},
    "drbd": {"resources": {"r0": {"name": "r0", "mode": "dual-primary", "primary": None,
                                  "roles": {"node1": "Primary", "node2": "Primary"}, "remediation": {}}}},
    "filesystems": {"gfs2-00": {"resource": "r0", "type": "gfs2", "mountpoint": "/srv/gfs2-00",
                                "mount_on": ["node1", "node2"]}},
}


def facts(m1, m2):
    return {"node1": {"model": m1, "mounted": ["/srv/gfs2-00"]}, "node2": {"model": m2, "mounted": ["/srv/gfs2-00"]}}


SERVED = proc_model("proc_drbd--8.4-docformat-diskless-served-node1.out")
PEER = proc_model("proc_drbd--8.4-docformat-peer-diskless-node2.out")


def test_classified_as_served_by_peer_not_down():
    cls = remediate.classify(TOPO, "r0", facts(SERVED, PEER))
    assert cls["situation"] == "diskless_served" and cls["nodes"] == ["node1"]
    assert "Diskless, served by peer on node1" in cls["detail"] and "drbd.attached" in cls["detail"]


def test_the_drbd9_reading_is_classified_the_same():
    [model] = drbd_parse.parse_drbdadm_status(text("drbdadm_status--9-docformat-diskless-served-node1.out"))
    assert remediate.classify(TOPO, "r0", facts(model, PEER))["situation"] == "diskless_served"


def test_remediation_reports_and_never_brings_it_up_nor_counts_attempts():
    history: dict = {}
    for n in range(5):  # every disk/peer-diskless event of the fault, well past max_attempts 3
        out = remediate.plan(TOPO, "r0", facts(SERVED, PEER), history, now=1000.0 + n, event={"kind": "disk"})
        assert out["decision"] == "report" and out["actions"] == [] and out["situation"] == "diskless_served"
        history = remediate.record(history, out, 1000.0 + n, {"kind": "disk"}, attempt=None)
    assert history["attempts"] == []  # nothing tried: no give_up later, no cooldown
    assert history["last"]["situation"] == "diskless_served"


def test_a_diskless_node_the_peer_does_not_serve_is_still_down():
    """Contrast: StandAlone and Diskless is down (today's behaviour: `up` once, counted)."""
    alone = copy.deepcopy(SERVED)
    alone["peers"][0]["connection_state"] = "StandAlone"
    out = remediate.plan(TOPO, "r0", facts(alone, PEER), {}, now=1.0)
    assert out["situation"] == "down" and out["actions"] == [{"node": "node1", "action": "up"}]


def test_a_peer_that_says_it_is_not_uptodate_is_not_trusted():
    peer = copy.deepcopy(PEER)
    peer["volumes"][0]["disk_state"] = "Outdated"
    assert remediate.classify(TOPO, "r0", facts(SERVED, peer))["situation"] != "diskless_served"


# --------------------------------------------------------------------------- the beacon's event

ATTACHED = copy.deepcopy(SERVED)
ATTACHED["volumes"][0]["disk_state"] = "UpToDate"


def test_the_beacon_says_diskless_served_once():
    evs = remediate.diff({"r0": ATTACHED}, {"r0": SERVED})
    assert [e["kind"] for e in evs] == ["disk", "diskless-served"]
    assert evs[1]["tag"] == "hapair/drbd/r0/diskless-served"
    assert evs[1]["changed"] == {"disk": {"old": "UpToDate", "new": "Diskless"}}
    assert remediate.diff({"r0": SERVED}, {"r0": SERVED}) == []
    assert [e["kind"] for e in remediate.diff({"r0": SERVED}, {"r0": ATTACHED})] == ["disk"]
    # the peer's beacon: peer-diskless (a remediation starts, classifies, reports)
    assert "peer-diskless" in [e["kind"] for e in remediate.diff({"r0": ATTACHED}, {"r0": PEER})]


def test_the_event_never_starts_a_remediation_itself():
    assert "diskless-served" in events.REPORTED_ONLY and "diskless-served" not in events.ACTED_ON
    assert events.parse_tag("hapair/drbd/r0/diskless-served") is None
    assert events.parse_tag("hapair/drbd/r0/disk")["kind"] == "disk"  # the same change's disk event does


# --------------------------------------------------------------------------- status table and grains

def test_status_row_and_table():
    rows = report.rows(TOPO, {"node1": [SERVED], "node2": [PEER]}, {}, {}, {})
    assert [r["served_by_peer"] for r in rows] == [True, False]
    assert rows[0]["alerts"] == ["Diskless-served-by-peer"] and rows[1]["alerts"] == ["peer-Diskless"]
    lines = report.table(rows).splitlines()
    assert "Diskless" in lines[1] and lines[1].rstrip().endswith("Diskless-served-by-peer")


@pytest.fixture
def grains():
    spec = importlib.util.spec_from_file_location("hapair_test_grains_drbd_df", os.path.join(ROOT, "_grains", "drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fixture, served, alerts", [
    ("proc_drbd--8.4-docformat-diskless-served-node1.out", True, ["Diskless-served-by-peer"]),
    ("proc_drbd--8.4-docformat-peer-diskless-node2.out", False, ["peer-Diskless"]),
])
def test_grains(grains, tmp_path, fixture, served, alerts):
    (tmp_path / "drbd.d").mkdir()
    (tmp_path / "drbd.d" / "r0.res").write_text('resource "r0" {\n  on node1 { device /dev/drbd0 minor 0; }\n}\n')
    opts = {"hapair": {"paths": {"proc_drbd": os.path.join(DISKLESS, fixture), "drbd_conf": str(tmp_path / "x"),
                                 "drbd_conf_dir": str(tmp_path / "drbd.d"), "state_dir": str(tmp_path / "st")}}}
    out = grains._collect(opts)
    assert out["drbd"]["resources"]["r0"]["served_by_peer"] is served
    assert out["drbd_alerts"] == {"r0": alerts}


# --------------------------------------------------------------------------- the guarded re-attach

def attach_facts(**over):
    base = {"resource": "r0", "device": "/dev/drbd0", "up": True, "disk_state": "Diskless",
            "connection_state": "Connected", "peer_disk_state": "UpToDate",
            "volumes": [{"disk": "/dev/vdb", "meta_disk": None}],
            "probes": {"/dev/vdb": {"opens": True, "metadata": True, "signature": None}}}
    base.update(over)
    return base


EXT_META = {"volumes": [{"disk": "/dev/vdb", "meta_disk": "/dev/vdc"}],
            "probes": {"/dev/vdb": {"opens": True, "metadata": False, "signature": None},
                       "/dev/vdc": {"opens": True, "metadata": True, "signature": None}}}

# (id, facts, force, refused on device (None: allowed), words of the reason, words of the override)
ATTACH_CASES = [
    ("repaired-disk", attach_facts(), False, None, "", ""),
    ("external-meta-disk", attach_facts(**EXT_META), False, None, "", ""),
    ("attached-already", attach_facts(disk_state="UpToDate"), False, "/dev/drbd0", "not Diskless", "detach"),
    ("peer-outdated", attach_facts(peer_disk_state="Outdated"), False, "/dev/drbd0", "not Connected and UpToDate",
     "force=True"),
    ("peer-gone", attach_facts(connection_state="WFConnection", peer_disk_state="DUnknown"), False, "/dev/drbd0",
     "WFConnection", "force=True"),
    ("peer-gone-forced", attach_facts(connection_state="WFConnection", peer_disk_state="DUnknown"), True, None, "", ""),
    ("device-missing", attach_facts(probes={"/dev/vdb": {"opens": False, "metadata": None, "signature": None}}),
     False, "/dev/vdb", "missing", "replacement disk at /dev/vdb"),
    ("device-missing-forced", attach_facts(probes={"/dev/vdb": {"opens": False}}), True, "/dev/vdb", "missing", ""),
    ("device-not-probed", attach_facts(probes={}), False, "/dev/vdb", "missing", ""),
    ("blank-replacement", attach_facts(probes={"/dev/vdb": {"opens": True, "metadata": False, "signature": None}}),
     False, "/dev/vdb", "no DRBD metadata", "drbd.create_md r0"),
    ("blank-replacement-forced", attach_facts(probes={"/dev/vdb": {"opens": True, "metadata": False}}), True,
     "/dev/vdb", "no DRBD metadata", "drbd.create_md r0"),
    ("other-data", attach_facts(probes={"/dev/vdb": {"opens": True, "metadata": False, "signature": "ext4"}}),
     False, "/dev/vdb", "ext4 signature", "drbd.create_md"),
    ("external-meta-blank", attach_facts(volumes=EXT_META["volumes"],
                                         probes={**EXT_META["probes"], "/dev/vdc": {"opens": True, "metadata": False}}),
     False, "/dev/vdc", "no DRBD metadata", "create_md"),
    ("no-disk-configured", attach_facts(volumes=None), False, "/dev/drbd0", "names no backing disk", "drbd.configured"),
]


@pytest.mark.parametrize("case_id, fct, force, device, reason, override", ATTACH_CASES,
                         ids=[c[0] for c in ATTACH_CASES])
def test_guard_attach(case_id, fct, force, device, reason, override):
    if device is None:
        drbd_plan.guard_attach(fct, force=force)
        assert [s["action"] for s in drbd_plan.plan_attached(fct, force=force)] == ["attach"]
        return
    with pytest.raises(RefusedError) as err:
        drbd_plan.guard_attach(fct, force=force)
    assert err.value.device == device and reason in err.value.reason and override in err.value.override


def test_plan_attached_with_no_disk_state_is_a_failure_not_a_wait():
    with pytest.raises(HapairError, match="its disk state is unknown") as err:
        drbd_plan.plan_attached(attach_facts(disk_state=None))
    assert not isinstance(err.value, drbd_plan.PlanError)


def test_plan_attached_is_empty_once_attached_and_waits_for_up():
    for disk in ("Attaching", "Negotiating", "Inconsistent", "UpToDate"):
        assert drbd_plan.plan_attached(attach_facts(disk_state=disk)) == []
    with pytest.raises(drbd_plan.PlanError, match="drbd.up"):
        drbd_plan.plan_attached(attach_facts(up=False))
    assert drbd_plan.changes(drbd_plan.plan_attached(attach_facts())) == {
        "disk_state": {"old": "Diskless", "new": "attached"}}


def test_create_md_allowed_on_a_blank_replacement_of_a_diskless_resource():
    fct = {"resource": "r0", "up": True, "disk_state": "Diskless", "disk": "/dev/vdb",
           "volumes": [{"disk": "/dev/vdb", "meta_disk": None}], "signature_checked": True,
           "metadata": False, "signature": None,
           "probes": {"/dev/vdb": {"opens": True, "metadata": False, "signature": None}}}
    drbd_plan.guard_create_md(fct)
    with pytest.raises(RefusedError, match="DRBD metadata"):  # the old disk, repaired: attach, never create-md
        drbd_plan.guard_create_md(dict(fct, probes={"/dev/vdb": {"opens": True, "metadata": True}}))
    with pytest.raises(RefusedError, match="is up"):  # attached: its metadata is in use
        drbd_plan.guard_create_md(dict(fct, disk_state="UpToDate"))


# --------------------------------------------------------------------------- drbd.attach and drbd.attached

PROC_SERVED = text("proc_drbd--8.4-docformat-diskless-served-node1.out")
PROC_ATTACHED = PROC_SERVED.replace("ds:Diskless/UpToDate", "ds:Inconsistent/UpToDate")


def loaded(kind, tmp_path, blkid_out, opens=0, after_attach=PROC_ATTACHED, pillar=None, test=False, extra=None):
    proc = tmp_path / "proc_drbd"
    proc.write_text(PROC_SERVED)
    (tmp_path / "drbd.d").mkdir(exist_ok=True)
    (tmp_path / "drbd.d" / "r0.res").write_text('resource "r0" {\n  on node1 { device /dev/drbd0 minor 0; }\n}\n')

    def attach(_argv, _kw):
        proc.write_text(after_attach)
        return {"retcode": 0}

    cmd = fakesalt.FakeCmd({
        ("drbdadm", "sh-ll-dev", "r0"): {"stdout": "/dev/vdb\n"},
        ("drbdadm", "sh-md-dev", "r0"): {"stdout": "/dev/vdb\n"},
        ("blockdev", "--getsize64", "/dev/vdb"): {"retcode": opens, "stdout": "268435456" if not opens else ""},
        ("blkid", "-p", "-o", "export", "/dev/vdb"): {"retcode": 0 if blkid_out else 2, "stdout": blkid_out},
        ("drbdadm", "attach", "r0"): attach,
    })
    config = {"hapair:paths:proc_drbd": str(proc), "hapair:paths:drbd_conf": str(tmp_path / "drbd.conf"),
              "hapair:paths:drbd_conf_dir": str(tmp_path / "drbd.d"), "hapair:paths:state_dir": str(tmp_path / "st")}
    salt = fakesalt.salt_dict(cmd, config, **(extra or {}))
    mod = fakesalt.load(kind, "hapair_drbd", salt, opts={"id": "node1", "test": test}, pillar=pillar or {})
    return mod, cmd


DRBD_MD = "TYPE=drbd\nUSAGE=raid\nVERSION=v08\n"  # blkid -p -o export keys (see parsing.parse_blkid)


def test_module_attach_runs_drbdadm_attach(tmp_path):
    mod, cmd = loaded("modules", tmp_path, DRBD_MD)
    out = mod.attach("r0")
    assert out["argv"] == ["drbdadm", "attach", "r0"]
    assert ["drbdadm", "attach", "r0"] in cmd.argvs()
    assert all(call["python_shell"] is False for call in cmd.calls)


@pytest.mark.parametrize("blkid_out, opens, words", [
    ("", 0, "refusing on /dev/vdb: no DRBD metadata of r0"),          # a blank replacement
    ("", 1, "refusing on /dev/vdb: the backing device is missing"),
])
def test_module_attach_refused_runs_nothing(tmp_path, blkid_out, opens, words):
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415

    mod, cmd = loaded("modules", tmp_path, blkid_out, opens=opens)
    with pytest.raises(CommandExecutionError) as err:
        mod.attach("r0")
    assert words in str(err.value)
    assert ["drbdadm", "attach", "r0"] not in cmd.argvs()


PILLAR = {"hapair": {"topologies": {"lab_gfs2": {
    "nodes": {"node1": {"minion_id": "node1", "address": "10.99.0.1"},
              "node2": {"minion_id": "node2", "address": "10.99.0.2"}},
    "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/vdb", "mode": "dual-primary",
                                  "disk_section": {"on-io-error": "detach"}}}},
    "filesystems": {"gfs2-00": {"resource": "r0", "type": "gfs2", "mountpoint": "/srv/gfs2-00"}},
    "cluster": {"stack": "corosync", "name": "labgfs", "corosync": {"dlm": {"enable_fencing": False}}},
}}}}


def state_with_module(tmp_path, test, blkid_out=DRBD_MD):
    mod, cmd = loaded("modules", tmp_path, blkid_out, pillar=PILLAR)
    extra = {"hapair_drbd.facts": mod.facts, "hapair_drbd.attach": mod.attach}
    state, _ = loaded("states", tmp_path, blkid_out, pillar=PILLAR, test=test, extra=extra)
    state.__salt__["cmd.run_all"] = cmd
    return state, cmd


def test_state_attached_test_then_apply(tmp_path):
    state, cmd = state_with_module(tmp_path, test=True)
    ret = state.attached("r0", "lab_gfs2")
    assert ret["result"] is None and ret["changes"] == {"disk_state": {"old": "Diskless", "new": "attached"}}
    assert ["drbdadm", "attach", "r0"] not in cmd.argvs()

    state, cmd = state_with_module(tmp_path, test=False)
    ret = state.attached("r0", "lab_gfs2")
    assert ret["result"] is True, ret["comment"]
    assert ret["changes"] == {"disk_state": {"old": "Diskless", "new": "attached"}}
    assert cmd.argvs().count(["drbdadm", "attach", "r0"]) == 1
    again = state.attached("r0", "lab_gfs2")  # re-read: Inconsistent (resyncing) is attached
    assert again["result"] is True and again["changes"] == {}


def test_state_attached_refuses_a_blank_disk_naming_it(tmp_path):
    state, cmd = state_with_module(tmp_path, test=False, blkid_out="")
    ret = state.attached("r0", "lab_gfs2")
    assert ret["result"] is False and "/dev/vdb" in ret["comment"] and "drbd.create_md r0" in ret["comment"]
    assert ["drbdadm", "attach", "r0"] not in cmd.argvs()
