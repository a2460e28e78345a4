"""hapair's DRBD handler: which handlers the renderer hooks, how the operator's command is chained,
and the script itself run for real (sh) against a temp state dir and a recording salt-call.

The real drbdadm parsers' view of the rendered handlers is in tests/validators/test_drbd_handler_lines.py.
"""

import copy
import json
import os
import stat
import subprocess
import time

import pytest
import yaml
from conftest import ROOT
from hapair import drbd_render as r
from hapair import topology
from hapair.errors import HapairError, ValidationError


def lab_remedy():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_remedy.sls"), encoding="utf-8") as handle:
        return topology.load(yaml.safe_load(handle), "lab_remedy")


def handlers_of(files, res):
    text = files[f"/etc/drbd.d/{res}.res"]["content"]
    block = text.split("handlers {", 1)[1].split("}", 1)[0]
    out = {}
    for line in block.strip().splitlines():
        key, value = line.strip().rstrip(";").split(" ", 1)
        out[key] = json.loads(value)  # DRBD strings: double quotes, backslash escapes
    return out


def test_no_handler_path_renders_no_hooks():
    files = r.render(lab_remedy(), "node1", "8.4")
    assert "drbd-handler" not in files["/etc/drbd.d/rm1.res"]["content"]


@pytest.mark.parametrize("dialect", ["8.4", "9"])
def test_hooked_kinds_and_topology_in_argv(dialect):
    files = r.render(lab_remedy(), "node2", dialect, handler_path="/usr/lib/hapair/drbd-handler")
    assert handlers_of(files, "rm1") == {
        kind: f"/usr/lib/hapair/drbd-handler {kind} lab_remedy"
        for kind in ("split-brain", "before-resync-target", "after-resync-target", "out-of-sync")}
    assert "/usr/lib/hapair/drbd-handler" not in files  # the renderer's file set is unchanged


def test_fence_peer_only_with_fencing_and_operator_commands_chained():
    topo = lab_remedy()
    res = topo["drbd"]["resources"]["rm1"]
    res["sections"]["disk"]["fencing"] = "resource-only"
    res["sections"]["handlers"] = {"fence-peer": "/usr/lib/drbd/crm-fence-peer.9.sh",
                                   "pri-lost": "/usr/lib/drbd/notify-pri-lost.sh root"}
    topo["drbd"]["common"]["handlers"] = {"split-brain": "/usr/lib/drbd/notify-split-brain.sh root"}
    got = handlers_of(r.render(topo, "node1", "8.4", handler_path="/h"), "rm1")
    assert got["fence-peer"] == "/h fence-peer lab_remedy -- /usr/lib/drbd/crm-fence-peer.9.sh"
    assert got["split-brain"] == "/h split-brain lab_remedy -- /usr/lib/drbd/notify-split-brain.sh root"
    assert got["pri-lost"] == "/usr/lib/drbd/notify-pri-lost.sh root"  # not hooked: left as given
    res["sections"]["disk"]["fencing"] = "dont-care"
    assert "fence-peer" not in {k for k in handlers_of(r.render(topo, "node1", "8.4", handler_path="/h"), "rm1")
                                if handlers_of(r.render(topo, "node1", "8.4", handler_path="/h"), "rm1")[k].startswith("/h ")}


def test_bad_handler_path_or_topology_name_is_an_error():
    with pytest.raises(ValidationError, match="handler path"):
        r.render(lab_remedy(), "node1", "8.4", handler_path="/usr/lib/my handler")
    topo = copy.deepcopy(lab_remedy())
    topo["name"] = "bad name"
    with pytest.raises(ValidationError, match="topology name"):
        r.render(topo, "node1", "8.4", handler_path="/h")
    with pytest.raises(HapairError):
        r.handler_script(state_dir="/var/lib/ha pair")


def test_handler_files_mode_and_paths():
    files = r.handler_files("/opt/h/drbd-handler", "/srv/state", "/opt/salt/bin/salt-call")
    spec = files["/opt/h/drbd-handler"]
    assert spec["mode"] == "0755" and spec["secret"] is False
    assert spec["content"].startswith("#!/bin/sh\n")
    assert 'dir="/srv/state/drbd"' in spec["content"] and 'salt_call="/opt/salt/bin/salt-call"' in spec["content"]
    assert "@" not in spec["content"].replace("$@", "")


# --------------------------------------------------------------------------- the script, run for real


@pytest.fixture
def handler(tmp_path):
    calls = tmp_path / "salt-call.log"
    fake = tmp_path / "salt-call"
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {calls}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    script = tmp_path / "drbd-handler"
    script.write_text(r.handler_script(str(tmp_path / "state"), str(fake), str(script), defer=1))
    script.chmod(0o755)

    def run(*argv, env=None):
        environ = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DRBD_RESOURCE": "rm1", "DRBD_PEER_ADDRESS": "10.99.0.2"}
        environ.update(env or {})
        return subprocess.run(["/bin/sh", "-c", " ".join([str(script), *argv])], env=environ, capture_output=True,
                              text=True, timeout=30, check=False)

    def sent(wait=10):
        deadline = time.monotonic() + wait  # the salt-call runs in the background, after `defer`
        while time.monotonic() < deadline:
            if calls.exists() and calls.read_text().strip():
                return calls.read_text().splitlines()
            time.sleep(0.05)
        return []

    return run, sent, tmp_path / "state" / "drbd"


def test_split_brain_recorded_and_sent(handler):
    run, sent, state = handler
    proc = run("split-brain", "lab_remedy")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((state / "rm1.split-brain").read_text())
    assert record["resource"] == "rm1" and record["kind"] == "split-brain" and record["topology"] == "lab_remedy"
    assert record["peer"] == "10.99.0.2" and record["time"] > 1_600_000_000 and record["pid"] > 1
    assert json.loads((state / "events.log").read_text().splitlines()[-1]) == record
    assert sent() == ["event.send hapair/drbd/rm1/split-brain resource=rm1 kind=split-brain topology=lab_remedy "
                      f"at={record['time']} source=handler"]


def test_operator_command_runs_and_its_exit_code_is_kept(handler, tmp_path):
    run, _, state = handler
    marker = tmp_path / "operator-ran"
    proc = run("fence-peer", "lab_remedy", "--", f"touch {marker}; exit 7")
    assert proc.returncode == 7 and marker.exists()
    assert (state / "rm1.fence-peer").exists()
    assert run("before-resync-target", "lab_remedy", "--", "exit 3").returncode == 3


def test_fence_peer_without_command_fails_other_kinds_succeed(handler):
    run, _, _ = handler
    assert run("fence-peer", "lab_remedy").returncode == 1  # hapair fences nothing itself
    assert run("after-resync-target", "lab_remedy").returncode == 0


def test_unwritable_state_dir_or_missing_salt_call_never_fail_the_handler(tmp_path):
    script = tmp_path / "drbd-handler"
    script.write_text(r.handler_script("/proc/hapair-cannot-write", "/nonexistent/salt-call", str(script)))
    script.chmod(0o755)
    proc = subprocess.run([str(script), "split-brain", "t"], env={"DRBD_RESOURCE": "r0", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr


def test_resync_records_are_not_sent_with_salt_call(handler):
    run, sent, state = handler
    assert run("before-resync-target", "lab_remedy").returncode == 0
    assert (state / "rm1.before-resync-target").exists()
    assert sent(wait=3) == []  # the beacon forwards these; a salt-call per resync is too costly


def test_record_forwarded_by_the_beacon_is_not_sent_again(handler):
    run, sent, state = handler
    started = time.monotonic()
    assert run("split-brain", "lab_remedy").returncode == 0
    assert time.monotonic() - started < 1  # never waits for the deferred send
    record = state / "rm1.split-brain"
    (state / "rm1.split-brain.forwarded").write_text(record.read_text())  # what the beacon does
    assert sent(wait=3) == []
