"""hapair's DRBD parsers on the lab's own real captures (tests/fixtures/lab, from `python -m lab capture`).

Fast (no VM): the fixtures are verbatim tool output recorded by lab/capture.py; INDEX.tsv names each
file's node, stage, exit code and command. Every stage is checked two ways: what the stage script
did (e.g. stage 03 = both Secondary, Inconsistent, Connected) and agreement between tools.
"""

import csv
import os

import pytest

LAB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures", "lab")
INDEX = os.path.join(LAB, "INDEX.tsv")
parse = pytest.importorskip("hapair.drbd_parse")

# What each stage of lab/capture.py leaves on node1: (role, disk, connection state, peer disk)
EXPECTED = {
    "02-metadata-created": None,
    "03-connected-secondary-secondary-inconsistent": ("Secondary", "Inconsistent", "Connected", "Inconsistent"),
    "04-syncing": ("Primary", "UpToDate", "Connected", "Inconsistent"),
    "05-synced-primary-secondary": ("Primary", "UpToDate", "Connected", "UpToDate"),
    "06-primary-primary": ("Primary", "UpToDate", "Connected", "UpToDate"),
    "07-link-cut-wfconnection": ("Primary", "UpToDate", "WFConnection", "DUnknown"),
    "08-split-brain-standalone": ("Primary", "UpToDate", "StandAlone", "DUnknown"),
    "09-split-brain-resolved-primary-secondary": ("Primary", "UpToDate", "Connected", "UpToDate"),
    "10-peer-down": ("Primary", "UpToDate", "WFConnection", "DUnknown"),
}


def _rows():
    if not os.path.exists(INDEX):
        pytest.skip(f"no lab captures yet ({INDEX}): run `python -m lab capture`")
    with open(INDEX) as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _stages():
    if not os.path.exists(INDEX):
        return []
    with open(INDEX) as fh:
        return sorted({(r["stage"], r["node"]) for r in csv.DictReader(fh, delimiter="\t")
                       if r["stage"] != "04b-sync-100-percent"})


def _read(stage, node, tool):
    rows = [r for r in _rows() if r["stage"] == stage and r["node"] == node and r["file"].startswith(tool + "--")]
    assert len(rows) == 1, (stage, node, tool)
    with open(os.path.join(LAB, rows[0]["file"])) as fh:
        return fh.read(), int(rows[0]["rc"])


def test_proc_drbd_at_the_100_percent_moment():
    """DRBD 8.4 prints ``sync'ed:100.0%`` with no space at the very end of a resync (seen in the lab)."""
    rows = [r for r in _rows() if r["stage"] == "04b-sync-100-percent"]
    if not rows:
        pytest.skip("this capture run did not catch the 100.0% moment")
    with open(os.path.join(LAB, rows[0]["file"])) as fh:
        text = fh.read()
    assert "sync'ed:100.0%" in text
    model = parse.parse_proc_drbd(text, {0: "r0"})["resources"][0]
    assert model["peers"][0]["volumes"][0]["percent_done"] == 100.0
    assert model["peers"][0]["volumes"][0]["out_of_sync_kib"] == 3844


def test_index_lists_existing_files():
    rows = _rows()
    assert rows
    for row in rows:
        assert os.path.exists(os.path.join(LAB, row["file"])), row["file"]
        assert "--k" in row["file"] and "-drbd" in row["file"], "versions missing from the name"


@pytest.mark.parametrize("stage,node", _stages())
def test_proc_drbd_agrees_with_the_stage_and_the_other_tools(stage, node):
    text, rc = _read(stage, node, "proc_drbd")
    assert rc == 0
    out = parse.parse_proc_drbd(text, {0: "r0"})
    # drbd-utils 9 on the 8.4 module prints only DRBD_KERNEL_VERSION_CODE=0x08040b
    code = int(_read(stage, node, "drbdadm_version")[0].split("DRBD_KERNEL_VERSION_CODE=")[1].split()[0], 16)
    assert out["version"]["kernel"] == f"{code >> 16}.{(code >> 8) & 0xFF}.{code & 0xFF}"
    if stage == "01-module-loaded" or EXPECTED.get(stage, ()) is None:
        assert out["resources"] == []
        return
    model = out["resources"][0]
    peer = model["peers"][0]
    role, disk, cstate = model["role"], model["volumes"][0]["disk_state"], peer["connection_state"]
    pdisk = peer["volumes"][0]["peer_disk_state"]
    if node == "node1":
        assert (role, disk, cstate, pdisk) == EXPECTED[stage]
    # agreement with drbdadm role / dstate / cstate of the same moment
    assert parse.parse_role(_read(stage, node, "drbdadm_role")[0])["local"] == role
    assert parse.parse_dstate(_read(stage, node, "drbdadm_dstate")[0])["local"] == disk
    assert parse.parse_cstate(_read(stage, node, "drbdadm_cstate")[0])["connection_state"] == cstate
    if stage == "04-syncing":
        assert 0 <= peer["volumes"][0]["percent_done"] < 100
        assert peer["volumes"][0]["replication_state"] in ("SyncSource", "SyncTarget")


@pytest.mark.parametrize("stage,node", _stages())
def test_events2_and_drbdadm_status_agree_with_proc_drbd(stage, node):
    proc = parse.parse_proc_drbd(_read(stage, node, "proc_drbd")[0], {0: "r0"})["resources"]
    events, rc = _read(stage, node, "drbdsetup_events2_now")
    assert rc == 0
    from_events = parse.events2_to_resources(parse.parse_events2(events))
    status = parse.parse_drbdadm_status(_read(stage, node, "drbdadm_status")[0])
    assert [m["name"] for m in from_events] == [m["name"] for m in status] == [m["name"] for m in proc]
    for ev, st, pr in zip(from_events, status, proc, strict=True):
        assert ev["role"] == st["role"] == pr["role"]
        assert ev["volumes"][0]["disk_state"] == st["volumes"][0]["disk_state"] == pr["volumes"][0]["disk_state"]


def test_drbdsetup_status_json_is_not_there_on_84():
    for stage, node in _stages():
        _, rc = _read(stage, node, "drbdsetup_status_json")
        row = [r for r in _rows() if r["stage"] == stage and r["node"] == node
               and r["file"].startswith("drbdsetup_status_json--")][0]
        with open(os.path.join(LAB, row["file"][:-len(".out")] + ".err")) as fh:
            assert rc == 20 and "unrecognized option '--json'" in fh.read()
