"""hapair's drbd module, states, grains and formula through ``salt-call --local``.

The fake binaries (tests/fakebin/fake) replay real DRBD 8.4.11 / drbd-utils 9.22 captures
(tests/fixtures/fakebin, copied from ../shared/captures/lab-drbd-8.4.11-utils-9.22.0) and log
every argv, so these tests assert the exact commands hapair runs.
"""

import copy
import os
import stat

import faketree
import pytest
from drbd_helpers import SALT_CALL, SECRET, lab_web_pillar, new_cluster

READS = {"get-gi", "status", "role", "cstate", "dstate", "--version", "sh-status", "dump", "show-gi",
         "sh-ll-dev", "sh-md-dev"}
APPLY = ["state.apply", "hapair.drbd", 'pillar={"topology": "lab_web", "hapair": {"lookup": '
         '{"drbd": {"connect_timeout": 15, "sync_timeout": 30}}}}']


def changing(argv_log):
    """The argvs that change state (everything but reads and blkid probes)."""
    return [a for a in argv_log if a[0] == "drbdadm" and a[1] not in READS]


def by_id(out):
    return {v["__id__"]: v for v in out.values()}


def assert_no_secret(node, *values):
    for value in values:
        assert SECRET not in repr(value)
    for text in node.outputs:
        assert SECRET not in text
    assert SECRET not in node.log_text()


def test_sys_doc_lists_every_function_with_a_cli_example(cluster):
    doc = cluster["node1"].call("sys.doc", "drbd")
    names = {"status", "overview", "role", "cstate", "dstate", "get_gi", "version", "resources", "is_synced",
             "render", "write_config", "create_md", "up", "down", "adjust", "connect", "disconnect", "primary",
             "secondary", "new_current_uuid", "invalidate", "invalidate_remote", "verify",
             "discard_my_data_connect", "wait_connected", "wait_synced"}
    assert names <= {k.split(".", 1)[1] for k in doc}
    missing = [k for k, v in doc.items() if "CLI Example" not in (v or "")]
    assert missing == []


def test_seed000_initial_primary_test_then_apply_then_idempotent(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["nodes"]["node2"].update(md=True, up=True)  # the peer got as far as `up` already
    faketree.write_state(root, state)

    planned = by_id(node1.call(*APPLY, test=True))
    assert all(v["result"] is None for v in planned.values() if v["changes"]), planned
    # create-md's devices come from the DRBD config, which test=True has not written yet
    md_planned = planned["hapair-drbd-r0-metadata-created"]
    assert md_planned["result"] is None and md_planned["changes"] == {}
    assert "apply drbd.configured first" in md_planned["comment"]
    assert changing(node1.argv()) == []                     # test=True ran nothing that changes state
    assert not os.path.exists(os.path.join(root, "node1", "etc", "drbd.d", "r0.res"))
    node1.clear()

    applied = by_id(node1.call(*APPLY))
    assert all(v["result"] is True for v in applied.values()), applied
    assert changing(node1.argv()) == [
        ["drbdadm", "create-md", "r0"],
        ["drbdadm", "up", "r0"],
        ["drbdadm", "primary", "--force", "r0"],
    ]
    assert applied["hapair-drbd-r0-initial-sync"]["changes"] == {
        "role": {"old": "Secondary", "new": "Primary"}, "initial_sync": {"old": None, "new": "full"}}
    assert applied["hapair-drbd-r0-metadata-created"]["changes"] == {"metadata": {"old": False, "new": "created"}}
    res_file = os.path.join(root, "node1", "etc", "drbd.d", "r0.res")
    assert stat.S_IMODE(os.stat(res_file).st_mode) == 0o600
    with open(res_file, encoding="utf-8") as handle:
        assert SECRET in handle.read()                     # the secret was really in play
    assert os.path.exists(os.path.join(root, "node1", "state", "drbd", "r0.initial-sync"))
    node1.clear()

    again = by_id(node1.call(*APPLY))
    assert {k: v["changes"] for k, v in again.items()} == {k: {} for k in again}
    assert all(v["result"] is True for v in again.values())
    assert changing(node1.argv()) == []
    assert_no_secret(node1, planned, applied, again)


def test_second_node_never_forces_and_goes_dual_primary(cluster):
    node2, root = cluster["node2"], cluster["root"]
    state = faketree.read_state(root)
    state["nodes"]["node1"].update(md=True, up=True)
    state.update(sync="done", primaries=["node1"])         # node1 forced and the sync finished
    faketree.write_state(root, state)
    out = by_id(node2.call(*APPLY))
    assert all(v["result"] is True for v in out.values()), out
    assert changing(node2.argv()) == [
        ["drbdadm", "create-md", "r0"],
        ["drbdadm", "up", "r0"],
        ["drbdadm", "net-options", "--allow-two-primaries=yes", "r0"],
        ["drbdadm", "primary", "r0"],
    ]
    assert out["hapair-drbd-r0-initial-sync"]["changes"] == {}
    assert out["hapair-drbd-r0-dual-primary"]["changes"]["role"] == {"old": "Secondary", "new": "Primary"}
    assert node2.call("grains.item", "drbd_roles")["drbd_roles"] == {"r0": "Primary"}
    assert_no_secret(node2, out)


def _error(node):
    return node.outputs[-1]


def test_create_md_refused_over_a_filesystem(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["nodes"]["node1"]["signature"] = "ext4"
    faketree.write_state(root, state)
    node1.write_config()
    node1.call("drbd.create_md", "r0", "disk=/dev/vdb", check=False)
    assert "/dev/vdb" in _error(node1) and "ext4" in _error(node1) and "overwrite_data=True" in _error(node1)
    assert changing(node1.argv()) == []


@pytest.mark.parametrize(
    "stage, call, words",
    [
        ("05", ["drbd.primary", "r0", "force=True"], ["/dev/drbd0", "not Inconsistent"]),
        ("05", ["drbd.new_current_uuid", "r0"], ["generation identifier", "clear_bitmap=False"]),
        ("11", ["drbd.discard_my_data_connect", "r0"], ["no split-brain victim", "victim='node1'"]),
        ("11", ["drbd.discard_my_data_connect", "r0", "victim=node2"], ["not this node"]),
    ],
)
def test_guards_refuse_and_run_nothing(cluster, stage, call, words):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = stage
    faketree.write_state(root, state)
    node1.write_config()
    node1.call(*call, check=False)
    for word in words:
        assert word in _error(node1)
    assert changing(node1.argv()) == []


def test_split_brain_victim_discards_its_data(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = "11"                                  # StandAlone after a split brain
    faketree.write_state(root, state)
    node1.write_config()
    os.makedirs(os.path.join(root, "node1", "state", "drbd"))
    open(os.path.join(root, "node1", "state", "drbd", "r0.split-brain"), "w").close()  # the handler's marker
    node1.call("drbd.discard_my_data_connect", "r0", "victim=node1")
    assert changing(node1.argv()) == [["drbdadm", "secondary", "r0"], ["drbdadm", "connect", "--discard-my-data", "r0"]]
    assert faketree.read_state(root)["stage"] == "12"


@pytest.mark.parametrize("stage, why", [("10", "StandAlone"), ("13", "WFConnection: the peer is not reachable")])
def test_wait_synced_says_why_it_gives_up(cluster, stage, why):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = stage
    faketree.write_state(root, state)
    node1.write_config()
    node1.call("drbd.wait_synced", "r0", "timeout=1", "interval=0.5", check=False)
    assert "waiting for r0 UpToDate/UpToDate on node1: seen r0" in _error(node1) and why in _error(node1)


def test_status_names_minors_from_config_or_after_the_minor(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = "17"                                  # r0 and r1 up, peer powered off
    faketree.write_state(root, state)
    bare = node1.call("drbd.status")
    assert bare["version"] == "8.4.11"
    assert sorted(bare["resources"]) == ["minor-0", "minor-1"]
    node1.write_config()                                   # r0 is minor 0 in lab_web
    named = node1.call("drbd.status")["resources"]
    assert sorted(named) == ["minor-1", "r0"]
    assert named["r0"]["peers"][0]["connection_state"] == "WFConnection"
    overview = node1.call("drbd.overview")
    assert overview["r0"]["local role"] == "Primary" and overview["minor-1"]["local role"] == "Secondary"


def test_grains_empty_without_drbd(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["loaded"] = False
    faketree.write_state(root, state)
    assert node1.call("grains.item", "drbd", "drbd_roles") == {"drbd": "", "drbd_roles": ""}
    assert node1.call("drbd.status") == {"version": None, "resources": {}}


def test_changed_config_of_a_running_resource_is_adjusted(cluster):
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["stage"] = "05"                                  # r0 up, synced, node1 Primary
    faketree.write_state(root, state)
    node1.write_config()
    res_file = os.path.join(root, "node1", "etc", "drbd.d", "r0.res")
    with open(res_file, encoding="utf-8") as handle:
        text = handle.read()
    with open(res_file, "w", encoding="utf-8") as handle:  # drift on a running resource
        handle.write(text.replace(SECRET, "0ld-s3cret") + "# edited by hand\n")
    planned = node1.state("drbd.configured", test=True)
    assert planned["result"] is None
    diff = planned["changes"][res_file]["new"].pop("diff")
    change = planned["changes"].pop("r0:change")          # classified first (issue 18): node1 Primary,
    assert change["old"] is None                           # the peer Secondary, nothing mounted: applied
    assert change["new"]["class"] == "reconnect" and change["new"]["changes"] == ["r0 net:shared-secret: reconnect"]
    assert "reconnect: r0 net:shared-secret" in planned["comment"]
    assert planned["changes"] == {res_file: {"old": "differs", "new": {"updated": True}},
                                  "r0:adjusted": {"old": False, "new": True}}
    planned["changes"]["r0:change"] = change
    assert "-# edited by hand" in diff                     # the diff says what changes
    assert '"********"' in diff and SECRET not in diff     # ... with the secret masked
    planned["changes"][res_file]["new"]["diff"] = diff
    assert changing(node1.argv()) == []
    applied = node1.state("drbd.configured")
    assert applied["result"] is True and applied["changes"] == planned["changes"]
    assert changing(node1.argv()) == [["drbdadm", "adjust", "r0"]]
    assert stat.S_IMODE(os.stat(res_file).st_mode) == 0o600
    rendered = node1.call("drbd.render", "lab_web")
    assert rendered[res_file]["mode"] == "0600" and rendered[res_file]["secret"] is True
    assert "shared-secret" in rendered[res_file]["content"] and "********" in rendered[res_file]["content"]
    assert_no_secret(node1, planned, applied, rendered)


def test_configured_refuses_a_clash_with_a_topology_the_node_runs(tmp_path):
    """node1's r0.res comes from lab_other (same r0, minor, disk and port): drbd.configured for
    lab_web refuses before writing, each clash with its pillar path (the bootstrap's validation
    leaves this check to the node: no extra job)."""
    if not os.access(SALT_CALL, os.X_OK):
        pytest.skip(f"salt-call not found at {SALT_CALL}")
    pillar = lab_web_pillar()
    pillar["hapair"]["topologies"]["lab_other"] = copy.deepcopy(pillar["hapair"]["topologies"]["lab_web"])
    cluster = new_cluster(str(tmp_path / "c"), pillar)
    node1, root = cluster["node1"], cluster["root"]
    node1.write_config()
    res_file = os.path.join(root, "node1", "etc", "drbd.d", "r0.res")
    with open(res_file, encoding="utf-8") as handle:
        text = handle.read()
    assert "from topology lab_web " in text
    deployed = text.replace("from topology lab_web ", "from topology lab_other ", 1)
    with open(res_file, "w", encoding="utf-8") as handle:
        handle.write(deployed)
    assert node1.call("drbd.rendered_topologies") == {"r0": "lab_other"}
    for test in (True, False):
        out = node1.state("drbd.configured", test=test)
        assert out["result"] is False and out["changes"] == {}, out
        assert "clashes with what this node runs, nothing written" in out["comment"]
        assert "hapair:topologies:lab_web:drbd:resources:r0" in out["comment"]
    with open(res_file, encoding="utf-8") as handle:
        assert handle.read() == deployed
    assert changing(node1.argv()) == []
    clashes = node1.call("drbd.config_state", "lab_web")["clashes"]
    assert any(c.startswith("hapair:topologies:lab_web:drbd:resources:r0:minor: minor 0") for c in clashes)


def test_create_md_probes_the_configured_disk_not_a_typo(cluster):
    """``disk=/dev/typo``: blkid exits 2 on a missing path, which read as clean, and create-md ran on
    the configured /dev/vdb that holds ext4."""
    node1, root = cluster["node1"], cluster["root"]
    state = faketree.read_state(root)
    state["nodes"]["node1"]["signature"] = "ext4"
    faketree.write_state(root, state)
    node1.write_config()
    for override in ("overwrite_data=False", "overwrite_data=True"):  # no override makes the typo the disk
        node1.call("drbd.create_md", "r0", "disk=/dev/typo", override, check=False)
        assert "/dev/typo" in _error(node1) and "would write to /dev/vdb" in _error(node1)
    node1.call("drbd.create_md", "r0", "overwrite_data=no", check=False)
    assert "/dev/vdb" in _error(node1) and "ext4 signature" in _error(node1)
    assert changing(node1.argv()) == []


def test_metadata_created_probes_an_external_meta_disk(cluster):
    """meta_disk /dev/vdc carries ext4: create-md writes its metadata there, so the state refuses."""
    from drbd_helpers import Node  # noqa: PLC0415

    root = cluster["root"]
    pillar = cluster["node1"].pillar
    pillar["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["meta_disk"] = "/dev/vdc"
    node1 = Node(root, "node1", pillar)
    node1.write_config()
    state = faketree.read_state(root)
    state["nodes"]["node1"]["signatures"] = {"/dev/vdc": "ext4"}
    faketree.write_state(root, state)
    refused = node1.state("drbd.metadata_created")
    assert refused["result"] is False and "/dev/vdc" in refused["comment"] and "ext4" in refused["comment"]
    assert ["blkid", "-p", "-o", "export", "/dev/vdc"] in node1.argv()
    assert changing(node1.argv()) == []
    allowed = node1.state("drbd.metadata_created", overwrite_data=True)
    assert allowed["result"] is True and allowed["changes"] == {"metadata": {"old": False, "new": "created"}}
    assert changing(node1.argv()) == [["drbdadm", "create-md", "--force", "r0"]]
