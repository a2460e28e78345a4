"""hapair.changes: every change to a running pair has a class and the steps that class needs (issue 18).

Tables: (option, old, new) -> class; real configs (the lab's ``drbdadm dump``) changed one way each ->
class, checked against what the real ``drbdadm-84 -d adjust`` would run for the same change
(tests/fixtures/drbd_adjust); whole topologies (lab_web moved to a second link) -> classes and steps;
the guard refuses disruptive classes on a resource in use and lets online ones through.
"""

import copy
import os

import pytest
import yaml
from conftest import FIXTURES, ROOT
from hapair import changes, topology
from hapair.errors import ParseError, RefusedError

ADJUST = os.path.join(FIXTURES, "drbd_adjust")


def fixture(case, ext):
    with open(os.path.join(ADJUST, f"drbdadm_adjust_dry--9.22.0-84-{case}.{ext}"), encoding="utf-8") as handle:
        return handle.read()


def lab_web():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load(raw):
    return topology.load(raw, "lab_web")


# --------------------------------------------------------------------------- the option table
OPTIONS = [
    # (key, old, new, class)
    ("disk:resync-rate", "10M", "40M", "online"),
    ("disk:c-plan-ahead", None, "20", "online"),
    ("disk:al-extents", "1237", "3389", "online"),
    ("disk:on-io-error", "pass_on", "detach", "online"),
    ("disk:fencing", None, "resource-only", "online"),
    ("disk:size", None, "10G", "down"),
    ("disk:max-bio-bvecs", None, "1", "down"),
    ("net:ping-timeout", None, "10", "online"),
    ("net:timeout", "60", "90", "online"),
    ("net:after-sb-0pri", "disconnect", "discard-zero-changes", "online"),
    ("net:allow-two-primaries", None, "yes", "online"),
    ("net:allow-two-primaries", "yes", None, "reconnect"),
    ("net:allow-two-primaries", "yes", "no", "reconnect"),
    ("net:protocol", "C", "A", "reconnect"),
    ("net:shared-secret", None, "x", "reconnect"),
    ("net:cram-hmac-alg", "sha1", "sha256", "reconnect"),
    ("on node1:address", "ipv4 10.99.0.1:7788", "ipv4 10.98.0.1:7788", "reconnect"),
    ("on node2:address", "ipv4 10.99.0.2:7788", "ipv4 10.99.0.2:7789", "reconnect"),
    ("connection-mesh:hosts", "a b", "a c", "reconnect"),
    ("on node1:disk", "/dev/vdb", "/dev/vdc", "down"),
    ("on node1:meta-disk", "internal", "/dev/vdd", "down"),
    ("on node1:device", "/dev/drbd0 minor 0", "/dev/drbd1 minor 1", "down"),
    ("on node1:node-id", "0", "2", "down"),
    ("on node1:volume 0:disk", "/dev/vdb", "/dev/vdc", "down"),
    ("options:cpu-mask", None, "1", "online"),
    ("startup:wfc-timeout", "120", "60", "online"),
    ("startup:become-primary-on", "both", "node1", "online"),
    ("handlers:split-brain", "a", "b", "online"),
    ("syncer:rate", "10M", "20M", "down"),          # unknown section: never guessed online
    ("on node1:weird-thing", "a", "b", "down"),
]


@pytest.mark.parametrize(("key", "old", "new", "cls"), OPTIONS)
def test_every_drbd_option_has_its_class(key, old, new, cls):
    got, why = changes.classify_drbd_key(key, old, new)
    assert got == cls, why
    assert why


def test_every_class_has_steps_and_only_reformat_is_refused():
    assert set(changes.STEPS) == set(changes.CLASSES)
    for cls in changes.CLASSES:
        actions = [s["action"] for s in changes.STEPS[cls]]
        assert actions and all(a in changes.ORDER or a == "refused" for a in actions)
    assert [s["action"] for s in changes.STEPS["reformat"]] == ["refused"]


# --------------------------------------------------------------------------- real configs vs real dry runs
@pytest.mark.parametrize(("case", "mine", "adjust_runs"), [
    ("online", {"online"}, ["disk-options", "net-options"]),
    ("readdr", {"reconnect"}, ["disconnect", "connect"]),
    ("disk", {"down", "online"}, ["detach", "apply-al", "attach"]),
    # adjust would send the secret by net-options without a disconnect: hapair is stricter, the two
    # nodes must change together (a node changed alone cannot reconnect after a link drop)
    ("secret", {"reconnect", "online"}, ["net-options"]),
])
def test_classes_of_real_config_changes_agree_with_what_adjust_would_run(case, mine, adjust_runs):
    found = changes.classify_drbd([fixture("same", "conf")], [fixture(case, "conf")], secrets=["S3cret-x"])
    assert {c["class"] for c in found} == mine
    commands = changes.parse_adjust_dry_run(fixture(case, "out"), secrets=["S3cret-x"])
    assert [c["command"] for c in commands] == adjust_runs
    if case in ("readdr", "disk"):
        assert changes.worst(found) == changes.worst(commands)
    assert "S3cret-x" not in repr(found) + repr(commands)


def test_readdressing_names_both_endpoints_and_a_reconnect():
    found = changes.classify_drbd([fixture("same", "conf")], [fixture("readdr", "conf")])
    assert [(c["what"], c["key"], c["old"], c["new"]) for c in found] == [
        ("r0", "on node1:address", "ipv4 10.99.0.1:7789", "ipv4 10.98.0.1:7789"),
        ("r0", "on node2:address", "ipv4 10.99.0.2:7789", "ipv4 10.98.0.2:7789")]


def test_the_shared_secret_is_masked_even_when_not_listed_as_a_secret():
    found = changes.classify_drbd([fixture("same", "conf")], [fixture("secret", "conf")])
    secret = [c for c in found if c["key"] == "net:shared-secret"]
    assert secret == [dict(secret[0], old=None, new="********")]
    assert "S3cret-x" not in repr(found)


def test_resources_added_removed_and_common_changes():
    old = ["resource r0 { on a { address ipv4 10.0.0.1:7788; } }", "common { net { protocol C; } }"]
    new = ["resource r1 { on a { address ipv4 10.0.0.1:7789; } }", "common { net { protocol A; } }",
           "global { usage-count yes; }"]
    found = changes.classify_drbd(old, new)
    table = {(c["what"], c["key"]): c["class"] for c in found}
    assert table == {("r0", "resource"): "down", ("r1", "resource"): "online",
                     ("common", "net:protocol"): "reconnect", ("global", "usage-count"): "online"}
    assert [c["what"] for c in changes.for_resource(found, "r0")] == ["r0", "common"]


def test_unchanged_and_malformed_configs():
    assert changes.classify_drbd([fixture("same", "conf")], [fixture("same", "conf")]) == []
    with pytest.raises(ParseError):
        changes.classify_drbd(["resource r0 { net { protocol C; }"], ["resource r0 {}"])


# --------------------------------------------------------------------------- drbdadm -d adjust parser
def test_parse_adjust_dry_run_reads_every_real_capture():
    same = changes.parse_adjust_dry_run(fixture("same", "out"))
    assert same == [{"tool": "drbdsetup", "command": "net-options", "args": ["ipv4:10.99.0.1:7789", "ipv4:10.99.0.2:7789"],
                     "options": {"set-defaults": True, "protocol": "C", "after-sb-0pri": "discard-zero-changes",
                                 "after-sb-1pri": "discard-secondary", "after-sb-2pri": "disconnect"},
                     "class": "online"}]
    # the lab's installed .res had no allow-two-primaries: adjust would clear it on a live dual-primary
    assert "allow-two-primaries" not in same[0]["options"]
    disk = changes.parse_adjust_dry_run(fixture("disk", "out"))
    assert [(c["tool"], c["command"], c["args"]) for c in disk] == [
        ("drbdsetup", "detach", ["0"]), ("drbdmeta", "apply-al", ["0", "v08", "/dev/vdc", "internal"]),
        ("drbdsetup", "attach", ["0", "/dev/vdc", "/dev/vdc", "internal"])]
    secret = changes.parse_adjust_dry_run(fixture("secret", "out"))
    assert secret[0]["options"]["shared-secret"] == "********" and "S3cret-x" not in repr(secret)


def test_parse_adjust_dry_run_no_data_and_malformed():
    assert changes.parse_adjust_dry_run("") == []
    assert changes.parse_adjust_dry_run("\n# comment\n") == []
    with pytest.raises(ParseError):
        changes.parse_adjust_dry_run("'r0' not defined in your config (for this host).\n")
    with pytest.raises(ParseError) as err:
        changes.parse_adjust_dry_run("drbdsetup-84 net-options r0 --shared-secret='Top-S3cret\n", secrets=["Top-S3cret"])
    assert "Top-S3cret" not in str(err.value)


# --------------------------------------------------------------------------- o2cb, corosync, filesystems
O2CB = "node:\n\tip_port = 7777\n\tip_address = {a}\n\tnumber = 1\n\tname = node1\n\tcluster = labcl\n\n" \
       "cluster:\n\tnode_count = 1\n\tname = labcl\n"
DEFAULTS = "O2CB_ENABLED=true\nO2CB_BOOTCLUSTER=labcl\nO2CB_HEARTBEAT_THRESHOLD={t}\n"


def test_o2cb_changes_need_the_cluster_offline():
    found = changes.classify_o2cb(O2CB.format(a="10.99.0.1"), O2CB.format(a="10.98.0.1"),
                                  DEFAULTS.format(t=31), DEFAULTS.format(t=61).replace("true", "false"))
    assert [(c["key"], c["class"]) for c in found] == [
        ("node node1:ip_address", "cluster-offline"), ("O2CB_ENABLED", "online"),
        ("O2CB_HEARTBEAT_THRESHOLD", "cluster-offline")]
    assert changes.classify_o2cb(None, O2CB.format(a="x")) == []  # first install
    renamed = changes.classify_o2cb(O2CB.format(a="1.1.1.1"), O2CB.format(a="1.1.1.1").replace("labcl", "other"))
    assert {c["class"] for c in renamed} == {"cluster-offline"} and any(c["key"] == "cluster:name" for c in renamed)


COROSYNC = """totem {{
    version: 2
    cluster_name: {name}
    token: {token}
}}
nodelist {{
    node {{
        ring0_addr: {addr}
        name: node1
        nodeid: 1
    }}
}}
logging {{
    to_syslog: yes
}}
"""


def test_corosync_changes():
    base = dict(name="c", token=3000, addr="10.99.0.1")
    assert changes.classify_corosync(COROSYNC.format(**base), COROSYNC.format(**base)) == []
    found = changes.classify_corosync(COROSYNC.format(**base), COROSYNC.format(name="d", token=5000, addr="10.98.0.1"))
    assert [(c["key"], c["class"]) for c in found] == [
        ("nodelist:node 1:ring0_addr", "cluster-offline"), ("totem:cluster_name", "cluster-offline"),
        ("totem:token", "online")]
    with pytest.raises(ParseError):
        changes.corosync_options("totem {\n what\n}\n")


def test_filesystem_changes_are_reformat_or_remount():
    raw = lab_web()
    old = load(raw)
    changed = copy.deepcopy(raw)
    fs = changed["hapair"]["topologies"]["lab_web"]["filesystems"]["www"]
    fs["mountpoint"], fs["label"] = "/srv/web", "www2"
    found = changes.classify_filesystems(old, load(changed))
    assert [(c["key"], c["class"]) for c in found] == [("label", "reformat"), ("mountpoint", "down")]
    assert [s["action"] for s in changes.steps(found)] == ["refused"]


# --------------------------------------------------------------------------- whole topologies
def test_lab_web_moved_to_a_second_link_is_reconnect_and_cluster_offline():
    raw = lab_web()
    moved = copy.deepcopy(raw)
    for node, addr in (("node1", "10.98.0.1"), ("node2", "10.98.0.2")):
        moved["hapair"]["topologies"]["lab_web"]["nodes"][node]["address"] = addr
    found = changes.classify_topology(load(raw), load(moved))
    table = {(c["scope"], c["key"]): c["class"] for c in found}
    assert table == {("drbd", "on node1:address"): "reconnect", ("drbd", "on node2:address"): "reconnect",
                     ("o2cb", "node node1:ip_address"): "cluster-offline",
                     ("o2cb", "node node2:ip_address"): "cluster-offline"}
    assert all(c["nodes"] == ["node1", "node2"] for c in found)
    assert [s["action"] for s in changes.steps(found)] == [
        "stop_groups", "unmount", "demote", "cluster_offline", "write_config", "write_cluster_config",
        "check_peer", "adjust", "wait_connected", "promote", "cluster_online", "mount", "start_groups", "canary"]
    assert "secret" not in repr(found)


def test_a_resync_rate_change_is_online_only():
    raw = lab_web()
    tuned = copy.deepcopy(raw)
    tuned["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["disk_section"] = {"resync-rate": "40M"}
    found = changes.classify_topology(load(raw), load(tuned))
    assert [(c["key"], c["class"]) for c in found] == [("disk:resync-rate", "online")]
    assert [s["action"] for s in changes.steps(found)] == ["write_config", "adjust"]


def test_a_new_disk_is_down_and_its_steps_bring_the_resource_down_and_up():
    raw = lab_web()
    moved = copy.deepcopy(raw)
    moved["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["disk"] = "/dev/vdc"
    found = changes.classify_topology(load(raw), load(moved))
    assert {c["class"] for c in found} == {"down"}
    actions = [s["action"] for s in changes.steps(found)]
    assert actions.index("down") < actions.index("write_config") < actions.index("up")
    assert "adjust" not in actions


def test_a_rotated_secret_is_reconnect_and_masked():
    raw = lab_web()
    rotated = copy.deepcopy(raw)
    rotated["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["shared_secret"] = "N3w-Secret"
    found = changes.classify_topology(load(raw), load(rotated))
    assert [(c["key"], c["old"], c["new"], c["class"]) for c in found] == [
        ("net:shared-secret", "********", "********", "reconnect")]
    assert "N3w-Secret" not in repr(found)


def test_another_cluster_name_reformats_the_cluster_filesystem():
    raw = lab_web()
    renamed = copy.deepcopy(raw)
    renamed["hapair"]["topologies"]["lab_web"]["cluster"]["name"] = "labc2"
    found = changes.classify_topology(load(raw), load(renamed))
    assert ("filesystem", "cluster_name", "reformat") in [(c["scope"], c["key"], c["class"]) for c in found]
    assert changes.worst(found) == "reformat"


# --------------------------------------------------------------------------- the guard
RECONNECT = [changes.change("drbd", "r0", "on node1:address", "a", "b", "reconnect", "x")]
ONLINE = [changes.change("drbd", "r0", "disk:resync-rate", "1", "2", "online", "x")]


@pytest.mark.parametrize(("facts", "refused"), [
    ({"mounted": ["/srv/www"], "dual_primary": False}, True),
    ({"mounted": [], "dual_primary": True}, True),
    ({"mounted": [], "dual_primary": False}, False),
    ({"cluster_mounted": ["/srv/www"]}, True),
])
def test_the_guard_refuses_a_disruptive_change_on_a_resource_in_use(facts, refused):
    if not refused:
        changes.guard(RECONNECT, facts, "/dev/drbd0", "lab_web")
        return
    with pytest.raises(RefusedError) as err:
        changes.guard(RECONNECT, facts, "/dev/drbd0", "lab_web")
    assert err.value.device == "/dev/drbd0"
    assert err.value.override == "salt-run hapair.reconfigure lab_web"
    assert "reconnect" in err.value.reason


def test_the_guard_lets_online_changes_through_and_never_reformats():
    changes.guard(ONLINE, {"mounted": ["/srv/www"], "dual_primary": True}, "/dev/drbd0", "lab_web")
    with pytest.raises(RefusedError):
        changes.guard([changes.change("filesystem", "www", "type", "ocfs2", "gfs2", "reformat", "x")], {},
                      "/dev/drbd0", "lab_web")


def test_in_use_reads_roles_from_the_status_model():
    assert changes.in_use(None, None) == {"up": False, "role": None, "peer_role": None, "mounted": [],
                                          "dual_primary": False}
    model = {"role": "Primary", "peers": [{"role": "Secondary"}]}
    assert changes.in_use(model, ["/srv"])["dual_primary"] is False


def test_describe_names_classes_and_steps():
    text = changes.describe(RECONNECT + ONLINE)
    assert text.splitlines()[:2] == ["online: r0 disk:resync-rate", "reconnect: r0 on node1:address"]
    assert "unmount the resource's filesystems on both nodes" in text
