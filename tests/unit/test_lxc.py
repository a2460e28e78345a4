"""hapair.lxc: the parsers on verbatim LXC 5.0.2 captures (tests/fixtures/lxc), the argv builders
and their whitelists, the config overrides on the busybox template's own config, and the planners
as tables (facts in, steps, reason or refusal out)."""

from __future__ import annotations

import os

import pytest
from conftest import FIXTURES
from hapair import lxc
from hapair.errors import NotReadyError, ParseError, RefusedError, RenderError

LXCPATH = "/srv/store1/containers"
C1 = {"name": "c1", "template": "busybox", "backing": "btrfs", "link": None, "lxcpath": LXCPATH}
BRIDGED = dict(C1, link="br0")


def capture(name: str) -> str:
    with open(os.path.join(FIXTURES, "lxc", name), encoding="utf-8") as handle:
        return handle.read()


# --------------------------------------------------------------------------- parsers
@pytest.mark.parametrize("name, expected", [
    ("info-running.txt", {"name": "c1", "state": "RUNNING", "pid": 978}),
    ("info-stopped.txt", {"name": "c1", "state": "STOPPED", "pid": None}),
    ("info-sph-running.txt", {"name": None, "state": "RUNNING", "pid": 978}),
    ("info-sph-stopped.txt", {"name": None, "state": "STOPPED", "pid": None}),
])
def test_parse_info_captures(name, expected):
    assert lxc.parse_info(capture(name)) == expected


def test_parse_info_reads_past_the_statistics_a_running_container_adds():
    # lxc-info's own layout (lxc_info.c) for the lines the lab's capture has none of: kept out
    text = capture("info-running.txt") + "CPU use:        0.12 seconds\nLink:           vethA1\n TX bytes:      1.2 KiB\n"
    assert lxc.parse_info(text) == {"name": "c1", "state": "RUNNING", "pid": 978}


@pytest.mark.parametrize("text", [
    "",                                        # no data
    capture("info-nosuch.txt"),                # the missing container's message is not a state
    "Name:           c1\n",                    # no State line
    "State:          SLEEPING\n",              # not one of LXC's states
    "State:          RUNNING\nPID:            97x\n",
    "State:          RUNNING\n\x00garbage\n",
])
def test_parse_info_refuses_what_is_not_lxc_info(text):
    with pytest.raises(ParseError):
        lxc.parse_info(text)


def test_is_missing_on_the_capture_and_not_on_another_name():
    text = capture("info-nosuch.txt")
    assert lxc.is_missing(text, "nosuch") and not lxc.is_missing(text, "c1")
    assert not lxc.is_missing(capture("info-stopped.txt"), "c1")


def test_parse_ls_captures():
    assert lxc.parse_ls(capture("ls-running.txt")) == {"c1": {"state": "RUNNING", "pid": 978}}
    assert lxc.parse_ls(capture("ls-stopped.txt")) == {"c1": {"state": "STOPPED", "pid": None}}
    assert lxc.parse_ls("") == {}  # no container in the lxcpath: lxc-ls prints nothing


@pytest.mark.parametrize("text", [
    "NAME STATE\nc1 RUNNING\n",                # another header
    "NAME STATE   PID \nc1   RUNNING\n",       # a short row
    "NAME STATE   PID \nc1   ASLEEP  -   \n",   # unknown state
    "NAME STATE   PID \nc1   RUNNING x12 \n",   # a PID that is no number
    capture("info-running.txt"),
])
def test_parse_ls_refuses_garbage(text):
    with pytest.raises(ParseError):
        lxc.parse_ls(text)


SNAP = "/srv/store1/containers/c1/snaps"


@pytest.mark.parametrize("name, expected", [
    ("snap-list-empty.txt", []),
    ("snap-list.txt", [{"name": "snap0", "path": SNAP, "time": "2026-12-03T10:29:46"}]),
    ("snap-list2.txt", [{"name": "snap0", "path": SNAP, "time": "2026-12-03T10:29:46"},
                        {"name": "snap1", "path": SNAP, "time": "2026-12-03T10:29:46"}]),
    ("snap-list3.txt", [{"name": "snap1", "path": SNAP, "time": "2026-12-03T10:29:46"}]),
])
def test_parse_snapshots_captures(name, expected):
    assert lxc.parse_snapshots(capture(name)) == expected


@pytest.mark.parametrize("text", ["", "snap0 /srv/x 2026:12:03 10:29:46\n", "snap0 (/srv/x) yesterday\n",
                                  "No snapshots\nsnap0 (/srv/x) 2026:12:03 10:29:46\n"])
def test_parse_snapshots_refuses_garbage(text):
    with pytest.raises(ParseError):
        lxc.parse_snapshots(text)


# --------------------------------------------------------------------------- argv
def test_argv_builders_name_the_lxcpath_and_the_container():
    assert lxc.create_argv(C1) == ["lxc-create", "-P", LXCPATH, "-n", "c1", "-t", "busybox", "-B", "btrfs"]
    assert lxc.start_argv(C1) == ["lxc-start", "-P", LXCPATH, "-n", "c1", "-d"]
    assert lxc.stop_argv(C1) == ["lxc-stop", "-P", LXCPATH, "-n", "c1", "-t", "30"]
    assert lxc.wait_argv(C1, timeout=45) == ["lxc-wait", "-P", LXCPATH, "-n", "c1", "-s", "RUNNING", "-t", "45"]
    assert lxc.info_argv(C1, "/usr/bin/lxc-info") == ["/usr/bin/lxc-info", "-P", LXCPATH, "-n", "c1", "-s", "-p",
                                                      "-H"]
    assert lxc.ls_argv(LXCPATH) == ["lxc-ls", "-P", LXCPATH, "-f", "-F", "NAME,STATE,PID"]
    assert lxc.snapshot_argv(C1) == ["lxc-snapshot", "-P", LXCPATH, "-n", "c1"]
    assert lxc.snapshot_list_argv(C1) == ["lxc-snapshot", "-P", LXCPATH, "-n", "c1", "-L"]
    assert lxc.snapshot_delete_argv(C1, "snap0") == ["lxc-snapshot", "-P", LXCPATH, "-n", "c1", "-d", "snap0"]


@pytest.mark.parametrize("call", [
    lambda: lxc.create_argv(dict(C1, name="c1;reboot")),
    lambda: lxc.create_argv(dict(C1, name="-h")),
    lambda: lxc.start_argv(dict(C1, lxcpath="srv/store1/containers")),
    lambda: lxc.start_argv(dict(C1, lxcpath="/srv/store1/containers\n")),
    lambda: lxc.create_argv(dict(C1, template="busybox --foo")),
    lambda: lxc.create_argv(dict(C1, backing="dir")),
    lambda: lxc.stop_argv(C1, timeout=0),
    lambda: lxc.stop_argv(C1, timeout="30"),
    lambda: lxc.wait_argv(C1, state="running"),
    lambda: lxc.snapshot_delete_argv(C1, "../snap0"),
    lambda: lxc.render_config_overrides(dict(C1, link="br0\nlxc.apparmor.profile = generated")),
    lambda: lxc.ls_argv("relative"),
])
def test_every_value_passes_its_whitelist(call):
    with pytest.raises(RenderError):
        call()


# --------------------------------------------------------------------------- config
TEMPLATE_CONFIG = capture("config-busybox-created.txt")


def test_overrides_keep_the_template_lines_and_own_the_managed_keys():
    new = lxc.apply_overrides(TEMPLATE_CONFIG, C1)
    kept = [line for line in TEMPLATE_CONFIG.splitlines() if lxc._key(line) not in lxc.MANAGED_KEYS]
    assert new.splitlines()[:len(kept)] == kept  # comments and the template's rootfs, mounts, caps as written
    assert "#lxc.apparmor.profile = unconfined" in new.splitlines()
    assert lxc.managed_lines(new) == ["lxc.apparmor.profile = unconfined", "lxc.net.0.type = empty",
                                      "lxc.start.auto = 0"]
    assert new.endswith("\n" + lxc.MARKER + "\nlxc.apparmor.profile = unconfined\nlxc.net.0.type = empty\n"
                                            "lxc.start.auto = 0\n")
    assert lxc.apply_overrides(new, C1) == new


def test_overrides_switch_the_network_both_ways_and_drop_an_autostart():
    autostart = TEMPLATE_CONFIG + "lxc.start.auto = 1\nlxc.net.0.link = lxcbr0\n"
    bridged = lxc.apply_overrides(autostart, BRIDGED)
    assert lxc.managed_lines(bridged) == ["lxc.apparmor.profile = unconfined", "lxc.net.0.type = veth",
                                          "lxc.net.0.link = br0", "lxc.net.0.flags = up", "lxc.start.auto = 0"]
    assert lxc.apply_overrides(bridged, BRIDGED) == bridged
    back = lxc.apply_overrides(bridged, C1)
    assert back == lxc.apply_overrides(TEMPLATE_CONFIG, C1)


# --------------------------------------------------------------------------- mounts
MOUNTS = [{"device": "/dev/vda1", "mountpoint": "/"}, {"device": "/dev/drbd0", "mountpoint": "/srv/store1"},
          {"device": "/dev/vdz", "mountpoint": "/srv/store10"}]


@pytest.mark.parametrize("path, device, expected", [
    ("/srv/store1/containers", None, True),
    ("/srv/store1/containers", "/dev/drbd0", True),
    ("/srv/store1/containers", "/dev/drbd1", False),   # another device is mounted there
    ("/srv/store2/containers", None, False),           # only / holds it: the filesystem is not mounted
    ("/srv/store10/containers", "/dev/drbd0", False),  # /srv/store1 is not a parent of /srv/store10
])
def test_on_filesystem(path, device, expected):
    assert lxc.on_filesystem(path, MOUNTS, device) is expected


# --------------------------------------------------------------------------- planners
HERE = {"node": "node1", "mounted": True, "role": "Primary", "resource": "r0", "exists": False}


def test_plan_create_table():
    assert lxc.plan_create(C1, dict(HERE, exists=True)) == []
    assert lxc.plan_create(C1, HERE) == [{"action": "create", "argv": lxc.create_argv(C1), "key": "container",
                                          "old": "absent", "new": "created"}]
    assert lxc.plan_create(C1, dict(HERE, role=None, resource=None))  # no DRBD resource: mounted is enough
    with pytest.raises(NotReadyError, match="mounted on node1"):
        lxc.plan_create(C1, dict(HERE, mounted=False))
    for role in ("Secondary", None):
        with pytest.raises(RefusedError, match="created on its Primary only"):
            lxc.plan_create(C1, dict(HERE, role=role))


def test_plan_present_table():
    away = lxc.plan_present(C1, dict(HERE, mounted=False, node="node2"))
    assert away == [] and away.reason.startswith("not here: /srv/store1/containers") and "node2" in away.reason
    assert [s["action"] for s in lxc.plan_present(C1, HERE)] == ["create", "config"]
    kept = lxc.plan_present(C1, dict(HERE, exists=True, config=lxc.apply_overrides(TEMPLATE_CONFIG, C1)))
    assert kept == [] and "config kept" in kept.reason
    drift = lxc.plan_present(BRIDGED, dict(HERE, exists=True, config=TEMPLATE_CONFIG))
    assert drift == [{"action": "config", "path": "/srv/store1/containers/c1/config", "key": "config",
                      "old": ["lxc.net.0.type = empty", "lxc.apparmor.profile = unconfined"],
                      "new": lxc.render_config_overrides(BRIDGED)}]
    with pytest.raises(RefusedError):
        lxc.plan_present(C1, dict(HERE, role="Secondary"))


def test_plan_running_table():
    assert lxc.plan_running(C1, dict(HERE, mounted=False)).reason.startswith("not here")
    with pytest.raises(NotReadyError, match="hapair_lxc.present"):
        lxc.plan_running(C1, HERE)
    assert lxc.plan_running(C1, dict(HERE, exists=True, state="RUNNING")) == []
    (start,) = lxc.plan_running(C1, dict(HERE, exists=True, state="STOPPED"), timeout=20)
    assert start["argv"] == lxc.start_argv(C1) and start["wait"] == lxc.wait_argv(C1, "RUNNING", 20)
    assert (start["old"], start["new"]) == ("STOPPED", "RUNNING")
    with pytest.raises(NotReadyError, match="it is FROZEN"):
        lxc.plan_running(C1, dict(HERE, exists=True, state="FROZEN"))


def test_plan_stopped_table():
    assert lxc.plan_stopped(C1, dict(HERE, mounted=False)) == []
    assert lxc.plan_stopped(C1, HERE).reason == "c1 does not exist in /srv/store1/containers"
    assert lxc.plan_stopped(C1, dict(HERE, exists=True, state="STOPPED")).reason == "c1 is stopped"
    (stop,) = lxc.plan_stopped(C1, dict(HERE, exists=True, state="RUNNING"), timeout=10,
                               binaries={"lxc-stop": "/usr/bin/lxc-stop"})
    assert stop["argv"] == ["/usr/bin/lxc-stop", "-P", LXCPATH, "-n", "c1", "-t", "10"]
    assert lxc.changes([stop]) == {"state": {"old": "RUNNING", "new": "STOPPED"}}


def test_changes_of_a_create_are_the_argv_and_the_config_lines():
    assert lxc.changes(lxc.plan_present(C1, HERE)) == {
        "container": {"old": "absent", "new": "created", "argv": lxc.create_argv(C1)},
        "config": {"path": "/srv/store1/containers/c1/config", "old": [], "new": lxc.render_config_overrides(C1)}}
