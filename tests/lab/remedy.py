"""Fault drivers for the remediation scenarios (issue 7), shared by tests/lab/test_remediation_lab.py
and bench/mttr_lab.py.

Everything heals through the real master with the reactor (salt/hapair/reactor/reactor.yaml, loaded by the
lab master) and the drbd beacon (pillar/lab_beacon.sls, given to minions with the grain
``hapair_beacons: drbd``) live; the drivers only inject faults and *observe*, never repair:

- ``setup()``: ``orch.hapair.bootstrap`` for topology ``lab_remedy`` (vg0 with LVs rm0/rm1 on
  /dev/vdc by ``hapair_lvm.present``, then DRBD), ext4 made and mounted on node1 (the
  orchestration's mkfs/mount steps handle OCFS2 only), then the beacon grain set; a ``salt-run
  state.event 'hapair/*'`` recorder runs throughout.
- ``link_cut()``: replication link cut, writes on node1, link restored -> both resources Connected
  and UpToDate again, node2's backing LVs hold the writes made during the cut.
- ``power_cycle()``: node2 loses power, writes on node1, node2 booted again -> the minion's start
  event makes hapair.remediate bring its resources up, they resync.
- ``split_brain()``: link cut, node2 promoted, writes on both sides, node2 demoted, link restored:
  DRBD's split-brain handler records it; rm0 (policy manual) stays StandAlone and is reported,
  nothing discarded; rm1 (policy victim node2, snapshot) is healed after an LVM snapshot of node2's
  LV that holds node2's write.

MTTR = fault cleared (link restored / power back) -> both nodes observed Connected + UpToDate with
the expected roles, read from /proc/drbd by ssh every ~0.5 s (never from hapair's own parsers).
Each driver returns a dict of facts the test asserts and the bench prints.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import time
import uuid

from lab import master
from lab.config import LabError, venv_bin

NODES = ("node1", "node2")
TOPOLOGY = "lab_remedy"
RESOURCES = {"rm0": 0, "rm1": 1}  # resource -> minor
MOUNTS = {"rm0": "/srv/rm0", "rm1": "/srv/rm1"}
MANUAL, VICTIM = "rm0", "rm1"
HEAL_TIMEOUT = 240
SPLIT_BRAIN_TIMEOUT = 600


def _ok(out, node, what):
    value = (out or {}).get(node)
    if value is None or value is False or (isinstance(value, str) and value.startswith(("ERROR", "The minion"))):
        raise LabError(f"{what} on {node}: {value!r}")
    return value


class Remedy:
    """One lab, topology lab_remedy, and the fault scenarios on it."""

    def __init__(self, lab, log=print):
        self.lab = lab
        self.log = log
        self.events_file = os.path.join(lab.dir, "hapair-events.jsonl")
        self.watcher = None

    # ------------------------------------------------------------------ observation
    def proc_drbd(self, node):
        out = self.lab.ssh(node, "cat /proc/drbd", timeout=60)
        return out.stdout if out.returncode == 0 else ""

    def lines(self, node):
        """{minor: '/proc/drbd status line'} for node."""
        out = {}
        for line in self.proc_drbd(node).splitlines():
            match = re.match(r"^\s*(\d+): (cs:.*)$", line)
            if match:
                out[int(match.group(1))] = match.group(2)
        return out

    def healthy(self, resources=tuple(RESOURCES)):
        """True when every resource is Connected, UpToDate on both, node1 Primary, node2 Secondary."""
        want = {"node1": "ro:Primary/Secondary ds:UpToDate/UpToDate",
                "node2": "ro:Secondary/Primary ds:UpToDate/UpToDate"}
        for node in NODES:
            seen = self.lines(node)
            for res in resources:
                line = seen.get(RESOURCES[res], "")
                if not line.startswith("cs:Connected ") or want[node] not in line:
                    return False
        return True

    def wait(self, what, check, timeout=HEAL_TIMEOUT, interval=0.5):
        """Poll ``check()`` until true; seconds waited. LabError saying what was seen on timeout."""
        started = time.monotonic()
        while True:
            if check():
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                seen = {n: self.lines(n) for n in NODES if self.lab.ssh(n, "true", timeout=30).returncode == 0}
                raise LabError(f"gave up after {timeout}s waiting for {what}; /proc/drbd: {seen}; "
                               f"hapair events: {self.events()[-8:]}")
            time.sleep(interval)

    def state_of(self, node, res):
        return self.lines(node).get(RESOURCES[res], "")

    def disconnected(self, node, res):
        line = self.state_of(node, res)
        return bool(line) and not line.startswith(("cs:Connected", "cs:Sync", "cs:PausedSync"))

    def on_disk(self, node, res, token):
        """True when ``token`` is in node's backing LV of ``res`` (read with O_DIRECT)."""
        cmd = f"dd if=/dev/vg0/{res} iflag=direct bs=1M status=none | grep -a -c -F '{token}'"
        out = self.lab.ssh(node, cmd, timeout=120)
        return out.stdout.strip() not in ("", "0")

    def write(self, node, path, token):
        self.lab.ssh(node, f"printf '%s\\n' '{token}' > {path} && sync", check=True, timeout=180)

    # ------------------------------------------------------------------ master side
    def salt(self, target, fun, *args, timeout=300):
        return self.lab.salt(target, fun, *args, timeout=timeout)

    def history(self, res):
        path = os.path.join(master.conf_dir(self.lab.dir), "cache", "hapair", "remediate", f"{TOPOLOGY}.{res}.json")
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {}

    def start_watcher(self):
        """Record every hapair/* event on the master bus (salt-run state.event) into events_file."""
        out = open(self.events_file, "a", encoding="utf-8")  # noqa: SIM115 - owned by the child
        self.watcher = subprocess.Popen(
            [venv_bin("salt-run"), "-c", master.conf_dir(self.lab.dir), "state.event", "hapair/*"],
            stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()

    def stop_watcher(self):
        if self.watcher is not None and self.watcher.poll() is None:
            os.killpg(self.watcher.pid, signal.SIGTERM)
            try:
                self.watcher.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.watcher.pid, signal.SIGKILL)
                self.watcher.wait()
        self.watcher = None

    def events(self, prefix="hapair/"):
        """[(tag, data)] recorded so far (``state.event`` prints ``tag<TAB>json`` lines)."""
        out = []
        try:
            with open(self.events_file, encoding="utf-8") as handle:
                for line in handle:
                    tag, _, body = line.rstrip("\n").partition("\t")
                    if not tag.startswith(prefix):
                        continue
                    try:
                        data = json.loads(body)
                    except ValueError:
                        data = {"raw": body}
                    out.append((tag, data))
        except OSError:
            pass
        return out

    def results(self, res):
        return [d for t, d in self.events(f"hapair/remediate/{res}/result")]

    # ------------------------------------------------------------------ setup / teardown
    def enable_beacon(self, on=True):
        target = ",".join(NODES)
        if on:
            out = self.salt(target, "grains.setval", "hapair_beacons", "drbd")
        else:
            out = self.salt(target, "grains.delkey", "hapair_beacons")
        for node in NODES:
            _ok(out, node, "grains")
        out = self.salt(target, "saltutil.refresh_pillar", "wait=True")
        listed = self.salt(target, "beacons.list", "return_yaml=False", "include_pillar=True")
        for node in NODES:
            has = "drbd" in (listed.get(node) or {})
            if has != on:
                raise LabError(f"drbd beacon on {node} should be {'on' if on else 'off'}: {listed.get(node)!r}")

    def setup(self, sync=False):
        """LVM, DRBD by the orchestration, ext4 on node1, beacon + event recorder; seconds taken.

        ``sync=True`` runs ``saltutil.sync_all`` first, for a lab brought up before the extension
        modules last changed (the bench's ``--rundir``); a test session's lab synced them when it
        came up, and a sync costs 1-2.5 minutes under TCG.
        """
        started = time.monotonic()
        if sync:
            self.lab.sync_all()
        self.start_watcher()
        proc = self.lab.salt_cli("salt-run", ["--out=json", "state.orchestrate", "orch.hapair.bootstrap",
                                              "pillar=" + json.dumps({"topology": TOPOLOGY})], timeout=1800)
        if proc.returncode != 0:
            raise LabError(f"orch.hapair.bootstrap {TOPOLOGY}: exit {proc.returncode}: {(proc.stdout + proc.stderr)[-3000:]}")
        for node in NODES:  # the orchestration made vg0 and its LVs (hapair_lvm.present)
            lvs = self.lab.ssh(node, "lvs --noheadings -o lv_name vg0", check=True).stdout.split()
            if sorted(lvs) != ["rm0", "rm1"]:
                raise LabError(f"{node}: LVs {lvs}, expected rm0 rm1")
        for res, minor in RESOURCES.items():
            out = self.salt("node1", "cmd.run_all", f"mkfs.ext4 -q -L {res} /dev/drbd{minor}")
            if _ok(out, "node1", "mkfs.ext4").get("retcode") != 0:
                raise LabError(f"mkfs.ext4 /dev/drbd{minor}: {out}")
            out = self.salt("node1", "mount.mount", MOUNTS[res], f"/dev/drbd{minor}", "mkmnt=True", "fstype=ext4",
                            "opts=noatime")
            if _ok(out, "node1", "mount.mount") is not True:
                raise LabError(f"mount {MOUNTS[res]} on node1: {out}")
        self.wait("both resources healthy after the bootstrap", self.healthy, timeout=300)
        self.enable_beacon(True)  # after the bootstrap: its transient states are not faults
        return time.monotonic() - started

    def teardown(self):
        try:
            self.enable_beacon(False)
        finally:
            self.stop_watcher()

    # ------------------------------------------------------------------ scenarios
    def link_cut(self):
        """Cut the replication link, write on node1, restore it; MTTR until healthy again."""
        tokens = {res: f"cut-{res}-{uuid.uuid4().hex}" for res in RESOURCES}
        self.lab.cut_link()
        cut_at = time.monotonic()
        for res, token in tokens.items():  # protocol C: blocks until DRBD gives the peer up
            self.write("node1", f"{MOUNTS[res]}/during-cut", token)
        detect = self.wait("node1 to see the peer gone", lambda: all(self.disconnected("node1", r) for r in RESOURCES),
                           timeout=120)
        self.lab.restore_link()
        restored = time.monotonic()
        self.wait("healthy after the link came back", self.healthy)
        mttr = time.monotonic() - restored
        on_peer = {res: self.on_disk("node2", res, token) for res, token in tokens.items()}
        self.log(f"[mttr] link cut: node1 saw it {restored - cut_at:.0f}s after the cut (incl. its writes), "
                 f"healthy {mttr:.1f}s after restore")
        return {"mttr": mttr, "detect": detect, "on_peer": on_peer}

    def power_cycle(self, node="node2"):
        """Power node2 off, write on node1, power it on; MTTR from power-on until healthy."""
        tokens = {res: f"off-{res}-{uuid.uuid4().hex}" for res in RESOURCES}
        self.lab.poweroff(node)
        self.wait("node1 to see node2 gone", lambda: all(self.disconnected("node1", r) for r in RESOURCES), timeout=120)
        for res, token in tokens.items():
            self.write("node1", f"{MOUNTS[res]}/while-off", token)
        started = time.monotonic()
        self.lab.start(node, wait=True)  # ssh + the minion answering
        booted = time.monotonic() - started
        self.wait(f"{node} to rejoin after the reboot", self.healthy, timeout=HEAL_TIMEOUT + 120)
        mttr = time.monotonic() - started
        on_peer = {res: self.on_disk(node, res, token) for res, token in tokens.items()}
        self.log(f"[mttr] power cycle {node}: minion up {booted:.0f}s after power-on, healthy {mttr:.1f}s after "
                 f"power-on ({mttr - booted:.1f}s after the minion answered)")
        return {"mttr": mttr, "boot": booted, "after_boot": mttr - booted, "on_peer": on_peer}

    def split_brain(self):
        """Split brain with writes on both sides; rm0 (manual) reported, rm1 (victim node2) healed."""
        ours = {res: f"sb-node1-{res}-{uuid.uuid4().hex}" for res in RESOURCES}
        theirs = {res: f"sb-node2-{res}-{uuid.uuid4().hex}" for res in RESOURCES}
        snaps_before = self.snapshots("node2")
        started_at = time.time()  # the master's clock, like the runner's records
        self.lab.cut_link()
        self.wait("both nodes to see the link gone",
                  lambda: all(self.disconnected(n, r) for n in NODES for r in RESOURCES), timeout=120)
        for res, minor in RESOURCES.items():
            self.write("node1", f"{MOUNTS[res]}/split-node1", ours[res])
            script = (f"set -e; drbdadm primary {res}; mkdir -p /mnt/{res}; mount /dev/drbd{minor} /mnt/{res}; "
                      f"printf '%s\\n' '{theirs[res]}' > /mnt/{res}/split-node2; sync; umount /mnt/{res}; "
                      # udev probes the device it saw closed after a write and holds it open a moment
                      # (see drbd.secondary): "held open by someone" (-12) once in CI; the operator retries
                      f"udevadm settle; n=0; until drbdadm secondary {res}; do n=$((n+1)); [ $n -lt 10 ]; sleep 1; done")
            self.lab.ssh("node2", script, check=True, timeout=180)
        t0 = time.monotonic()
        self.lab.restore_link()
        restored = time.monotonic()
        # a failsafe, not a timing assertion: the MTTR is printed and reported. 2026-12-02 (second
        # session) the heal came ~4 min after the link, node2's own split-brain events 2 min after
        # node1's (its single-process minion busy), past the old 240 s bound: see the README
        self.wait(f"{VICTIM} healed (victim node2)", lambda: self.healthy((VICTIM,)), timeout=SPLIT_BRAIN_TIMEOUT)
        mttr = time.monotonic() - restored
        self.log(f"[mttr] split brain, policy victim node2 + snapshot: healthy {mttr:.1f}s after the link came back")
        # rm0: policy manual -> reported, StandAlone on both, nothing discarded
        report = self.wait(f"{MANUAL}'s split brain reported by hapair.remediate",
                           lambda: (self.history(MANUAL).get("last") or {}).get("situation") == "split_brain",
                           timeout=120)
        # the runner records the discard once its own verification ends, after DRBD is healthy
        self.wait(f"{VICTIM}'s discard recorded by hapair.remediate",
                  lambda: any(d.get("at", 0) >= started_at for d in self.history(VICTIM).get("discards") or []),
                  timeout=120)
        snaps = sorted(set(self.snapshots("node2")) - set(snaps_before))
        return {
            "mttr": mttr, "since_restore_call": restored - t0, "report_seen_after": report,
            "tokens": {"node1": ours, "node2": theirs}, "snapshots": snaps,
            "manual_state": {n: self.state_of(n, MANUAL) for n in NODES},
            "manual_last": self.history(MANUAL).get("last"),
            "victim_history": self.history(VICTIM),
        }

    def snapshots(self, node):
        out = self.lab.ssh(node, "lvs --noheadings -o lv_name,origin vg0", check=True).stdout
        return [line.split()[0] for line in out.splitlines() if len(line.split()) == 2]

    def snapshot_file(self, node, snapshot, name):
        """Mount node's snapshot LV read-only and read ``name`` from it.

        ``-t ext4``: blkid sees DRBD's internal metadata at the end of the LV too, and mount's
        auto-detection picks "drbd" (seen in the lab).
        """
        script = (f"set -e; mkdir -p /mnt/snap; mount -t ext4 -o ro,noload /dev/vg0/{snapshot} /mnt/snap; "
                  f"cat /mnt/snap/{name}; umount /mnt/snap")
        return self.lab.ssh(node, script, check=True, timeout=120).stdout.strip()


def dump_logs(lab, dest):
    """Copy the master log and the event record somewhere the CI keeps (best effort)."""
    os.makedirs(dest, exist_ok=True)
    for path in glob.glob(os.path.join(master.conf_dir(lab.dir), "master.log")) + glob.glob(
            os.path.join(lab.dir, "hapair-events.jsonl")):
        subprocess.run(["cp", path, dest], check=False)
