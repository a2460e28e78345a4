"""The corosync module and states against two REAL corosync 3 daemons, offline.

Two network namespaces joined by a veth pair, one corosync per namespace (each in its own mount
namespace: tmpfs on /run, /var/lib/corosync, /dev/shm, /var/log), running the corosync.conf that
hapair renders for the repo's lab_gfs2 topology (addresses moved to a private /24). The module's
commands run through ``nsenter`` into a daemon. Proves, with the real votequorum: wait_for_all
blocks a lone node, both nodes are quorate, and with two_node the survivor stays quorate.
Needs root, iproute2 and util-linux; skips otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOOLS = ("corosync", "corosync-quorumtool", "ip", "nsenter", "unshare")
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
]
DAEMON = ('for d in /run /var/lib/corosync /dev/shm /var/log; do mount -t tmpfs hapair "$d"; done; '
          'mkdir -p /run/corosync; exec corosync -f -c "$0"')
ADDRESSES = ("10.67.0.1", "10.67.0.2")


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_gfs2.sls"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    topo = data["hapair"]["topologies"]["lab_gfs2"]
    for key, address in zip(topo["nodes"], ADDRESSES, strict=True):
        topo["nodes"][key]["cluster_address"] = address
    topo["cluster"]["corosync"]["logging"] = {"to_syslog": "no", "to_stderr": "yes"}
    return data


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Pair:
    """Two namespaces and their corosync daemons (torn down by ``close``)."""

    def __init__(self, tmp_path):
        self.tag = f"h6{os.getpid() % 100000}"
        self.ns = [f"{self.tag}a", f"{self.tag}b"]
        self.procs: dict[int, subprocess.Popen] = {}
        self.tmp = tmp_path
        for ns in self.ns:
            ip("netns", "add", ns)
        ip("link", "add", f"{self.tag}va", "type", "veth", "peer", "name", f"{self.tag}vb")
        for index, ns in enumerate(self.ns):
            dev = f"{self.tag}v{'ab'[index]}"
            ip("link", "set", dev, "netns", ns)
            ip("-n", ns, "addr", "add", f"{ADDRESSES[index]}/24", "dev", dev)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")
        self.conf = str(tmp_path / "corosync.conf")
        self.salt = fakesalt.salt_dict(self.run_all, {})
        self.mod = fakesalt.load("modules", "corosync", self.salt, opts={"id": "node1", "test": False},
                                 pillar=pillar())
        with open(self.conf, "w", encoding="utf-8") as handle:
            handle.write(self.mod.render("lab_gfs2"))
        self.salt.update({"corosync.quorum_status": self.mod.quorum_status})
        self.state = fakesalt.load("states", "corosync", self.salt, opts={"id": "node1", "test": False},
                                   pillar=pillar())
        self.target = 0

    def start(self, index: int) -> None:
        log = open(self.tmp / f"corosync-{index}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.procs[index] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[index], "unshare", "-m", "--propagation", "private",
             "sh", "-c", DAEMON, self.conf], stdout=log, stderr=subprocess.STDOUT)

    def stop(self, index: int) -> None:
        proc = self.procs.pop(index)
        proc.kill()
        proc.wait(timeout=30)

    def run_all(self, argv, **kwargs):
        """cmd.run_all inside the target daemon's namespaces (the exec chain makes Popen's pid corosync's)."""
        pid = str(self.procs[self.target].pid)
        return fakesalt.real_run_all(["nsenter", "-t", pid, "-m", "-n", *argv], **kwargs)

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.mod.quorum_status()
                if predicate(status):
                    return status
            except Exception:  # noqa: BLE001 - the daemon may not answer yet
                status = None
            if time.monotonic() > deadline:
                return status
            time.sleep(0.5)

    def close(self) -> None:
        for index in list(self.procs):
            self.stop(index)
        for ns in self.ns:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


@pytest.fixture
def pair(tmp_path):
    try:
        pair = Pair(tmp_path)
    except (subprocess.CalledProcessError, OSError) as err:
        pytest.skip(f"cannot create network namespaces here: {err}")
    try:
        yield pair
    finally:
        pair.close()


def test_two_node_quorum_with_real_daemons(pair):
    pair.start(0)
    lone = pair.wait_for(lambda s: s["members"], timeout=20)
    assert lone is not None, (pair.tmp / "corosync-0.log").read_text()
    assert (lone["quorate"], lone["wait_for_all"], lone["total_votes"]) == (False, True, 1)
    waiting = pair.state.quorate(timeout=2, interval=0.5)
    assert waiting["result"] is False and "1 vote(s) of 2 expected" in waiting["comment"]

    pair.start(1)
    both = pair.wait_for(lambda s: s["quorate"] and len(s["members"]) == 2)
    assert both and both["two_node"] and [m["name"] for m in both["members"]] == ["node1", "node2"]
    ok = pair.state.quorate(timeout=10)
    assert ok["result"] is True and "2 vote(s) of 2 expected" in ok["comment"]

    pair.stop(1)
    alone = pair.wait_for(lambda s: len(s["members"]) == 1, timeout=30)
    assert alone and (alone["quorate"], alone["total_votes"]) == (True, 1), "two_node keeps the survivor quorate"
    links = pair.mod.links()
    assert links["node_id"] == 1 and {p["node_id"]: p["status"] for p in links["links"][0]["peers"]} == {
        1: "localhost", 2: "disconnected"}

