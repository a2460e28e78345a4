"""The DRBD beacon adapter with loader dunders injected: events sent, silence when idle, fallback.

The status models mirror the lab captures in /work/shared/captures/lab-drbd-8.4.11-utils-9.22.0
(stage 06 Primary/Primary, stage 13 link cut).
"""

import importlib.util
import os
import select
import stat

import pytest
from conftest import ROOT


def load_beacon():
    spec = importlib.util.spec_from_file_location("hapair_beacon_drbd", os.path.join(ROOT, "_beacons", "drbd.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def model(conn="Connected", peer_role="Primary", repl="Established", pdisk="UpToDate"):
    return {"name": "r0", "role": "Primary", "suspended": False,
            "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
            "peers": [{"name": None, "node_id": 0, "connection_state": conn, "role": peer_role,
                       "volumes": [{"volume": 0, "replication_state": repl, "peer_disk_state": pdisk,
                                    "percent_done": None, "eta_seconds": None, "out_of_sync_kib": 0}]}]}


S06 = model()
S13 = model(conn="Connecting", peer_role="Unknown", repl="Off", pdisk="DUnknown")


class Minion:
    def __init__(self, drbdsetup, run_dir):
        self.state = {"r0": S06}
        self.status_calls = 0
        self.sent = []
        conf = {"hapair:bin:drbdsetup": drbdsetup, "hapair:paths:run_dir": run_dir}
        self.salt = {
            "config.get": lambda key, default=None: conf.get(key, default),
            "hapair_drbd.status": self.status,
            "event.send": lambda tag, data: self.sent.append((tag, data)),
        }

    def status(self, name="all"):
        self.status_calls += 1
        return {"version": "8.4.11", "resources": dict(self.state)}


@pytest.fixture
def beacon_for(tmp_path):
    mods = []

    def make(drbdsetup):
        mod = load_beacon()
        minion = Minion(drbdsetup, str(tmp_path / "run"))
        mod.__salt__ = minion.salt
        mod.__context__ = {}
        mods.append(mod)
        return mod, minion

    yield make
    for mod in mods:
        proc = mod.__context__.get(mod._CTX, {}).get("proc")
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def readable(mod, timeout=10.0):
    """Wait until the beacon's events2 follower has printed something (never a fixed sleep)."""
    proc = mod.__context__[mod._CTX]["proc"]
    assert select.select([proc.stdout.fileno()], [], [], timeout)[0], "the follower printed nothing"


def fake_events2(tmp_path, body):
    path = tmp_path / "drbdsetup"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_validate():
    mod = load_beacon()
    assert mod.validate([{"interval": 5}, {"mode": "poll"}])[0] is True
    assert mod.validate([{"mode": "push"}])[0] is False
    assert mod.validate({"mode": "poll"})[0] is False


def test_poll_mode_sends_one_event_per_change(beacon_for):
    mod, minion = beacon_for("/nonexistent/drbdsetup")
    conf = [{"mode": "poll"}]
    assert mod.beacon(conf) == [] and minion.sent == []          # first snapshot: silent
    minion.state = {"r0": S13}
    mod.beacon(conf)
    tags = [t for t, _ in minion.sent]
    assert "hapair/drbd/r0/connection" in tags
    data = dict(minion.sent)["hapair/drbd/r0/connection"]
    assert data["old"]["connection"] == "Connected" and data["new"]["connection"] == "Connecting"
    before = len(minion.sent)
    mod.beacon(conf)
    assert len(minion.sent) == before                           # unchanged: silent


def test_auto_mode_reads_status_only_when_events2_moves(beacon_for, tmp_path):
    fifo = tmp_path / "feed"
    os.mkfifo(fifo)
    # the fake follower prints whatever the test writes to the fifo, the initial 'exists' burst first
    script = fake_events2(tmp_path, f'exec cat "{fifo}"\n')
    mod, minion = beacon_for(script)
    conf = [{"mode": "auto"}]
    writer = None
    try:
        writer = os.open(fifo, os.O_RDWR)  # keeps the fifo open for the fake's cat
        mod.beacon(conf)                                        # starts the follower, first snapshot
        os.write(writer, b"exists -\n")
        readable(mod)
        mod.beacon(conf)                                        # drains the initial 'exists' burst
        calls = minion.status_calls
        for _ in range(5):
            mod.beacon(conf)
        assert minion.status_calls == calls                     # idle: no status read at all
        minion.state = {"r0": S13}
        os.write(writer, b"change connection name:r0 peer-node-id:0 connection:Connecting\n")
        readable(mod)
        mod.beacon(conf)
        assert minion.status_calls == calls + 1
        assert "hapair/drbd/r0/connection" in [t for t, _ in minion.sent]
    finally:
        if writer is not None:
            os.close(writer)


def test_auto_mode_falls_back_to_polling_without_events2(beacon_for, tmp_path):
    script = fake_events2(tmp_path, "echo 'no events2 here' >&2\nexit 20\n")
    mod, minion = beacon_for(script)
    conf = [{"mode": "auto"}]
    mod.beacon(conf)
    proc = mod.__context__[mod._CTX].get("proc")  # None: it exited before the beacon looked again
    if proc is not None:
        proc.wait(timeout=10)  # events2 is missing: the follower exits
    for _ in range(4):
        mod.beacon(conf)
    calls = minion.status_calls
    minion.state = {"r0": S13}
    mod.beacon(conf)
    assert minion.status_calls == calls + 1
    assert "hapair/drbd/r0/connection" in [t for t, _ in minion.sent]
    assert mod.__context__[mod._CTX]["events2_failed"] >= 1


def test_close_stops_the_follower(beacon_for, tmp_path):
    """Salt calls close() before it rebuilds the beacons (every pillar refresh): without it one
    ``drbdsetup events2`` was left running per rebuild (five on a lab node after a split brain)."""
    script = fake_events2(tmp_path, 'echo "exists -"\nexec sleep 600\n')
    mod, _ = beacon_for(script)
    mod.beacon([{"mode": "auto"}])
    proc = mod.__context__[mod._CTX]["proc"]
    assert proc.poll() is None
    mod.close([{"mode": "auto"}])
    assert proc.wait(timeout=10) is not None and "proc" not in mod.__context__[mod._CTX]
    mod.close([{"mode": "auto"}])  # twice, or before any follower: harmless
