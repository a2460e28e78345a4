"""Paths, node definitions and small process helpers shared by every lab command.

Layout under ``${XDG_CACHE_HOME:-~/.cache}/hapair/lab/``::

    apt-cache/            debootstrap --cache-dir (the .deb files, reused across builds)
    wheels/salt-<ver>/    wheels built on the host for the guest's offline pip install
    images/<hash>/        base.qcow2, vmlinuz, initrd.img, id_ed25519[.pub], manifest.json
    run/                  the running lab: state.json, overlays, data disks, sockets, logs
    last-run/             logs of the last lab after ``down``
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Callable, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_DIR = os.path.join(REPO, "lab")

# Two nodes; MACs are fixed so one image serves both (systemd-networkd matches on them). Two
# back-to-back replication links: ``repl`` (eth1, 10.99.0.0/24, the one every lab topology uses)
# and ``repl2`` (eth2, 10.98.0.0/24, the link a day-2 re-addressing moves to).
NODES = {
    "node1": {"index": 1, "repl_address": "10.99.0.1", "mgmt_mac": "52:54:00:00:00:01",
              "repl_mac": "52:54:00:99:00:01", "repl2_address": "10.98.0.1", "repl2_mac": "52:54:00:98:00:01"},
    "node2": {"index": 2, "repl_address": "10.99.0.2", "mgmt_mac": "52:54:00:00:00:02",
              "repl_mac": "52:54:00:99:00:02", "repl2_address": "10.98.0.2", "repl2_mac": "52:54:00:98:00:02"},
}
LINKS = ("repl", "repl2")  # QEMU netdev ids of the replication links, in PCI (ethN) order after mgmt
# Data disks per node (sparse raw files): vdb carries the plain-disk resources (seed 000's r0, full
# sync), vdc an LVM VG (seed 001's layout, its -T vmstore filesystem needs >= 2 GiB, and room for the
# snapshots a split-brain remediation takes).
DATA_DISKS = {"vdb": "256M", "vdc": "3G"}
# Each node's power is wired to a BMC (QEMU's ipmi-bmc-extern) served by OpenIPMI's ipmi_sim on
# the *other* node: node2's QEMU connects (through node1's user-net hostfwd) to node1's ipmi_sim
# on BMC_VM_PORT, which answers IPMI-over-LAN on BMC_LAN_PORT of every address of node1. So
# node2's BMC is at node1's address and the other way round, reached from either node by the
# same address, and the survivor of a pair always reaches its peer's BMC (it is local).
BMC_VM_PORT = 9002
BMC_LAN_PORT = 623
BMC_USER = "admin"
BMC_PASSWORD = "lab-bmc-pw"  # a lab secret: the pillar (lab_gfs2's fence devices) carries the same
MASTER_GUEST_IP = "10.0.2.100"  # guestfwd address the minions use for the master
GUEST_PUBLISH_PORT = 4505
GUEST_RET_PORT = 4506


class LabError(Exception):
    """A lab step failed; the message says what was seen."""


def cache_dir() -> str:
    """``${XDG_CACHE_HOME:-~/.cache}/hapair/lab`` (``HAPAIR_LAB_CACHE`` overrides)."""
    if os.environ.get("HAPAIR_LAB_CACHE"):
        return os.environ["HAPAIR_LAB_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hapair", "lab")


def run_dir() -> str:
    return os.path.join(cache_dir(), "run")


def venv_bin(name: str) -> str:
    """A console script next to the running interpreter (the project venv), else on PATH."""
    cand = os.path.join(os.path.dirname(sys.executable), name)
    return cand if os.path.exists(cand) else name


def free_port(kind: int = socket.SOCK_STREAM, taken: Sequence[int] = ()) -> int:
    """A port on 127.0.0.1 free right now for ``kind`` (TCP or UDP), not in ``taken``."""
    while True:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(what: str, check: Callable[[], object], timeout: float, interval: float = 1.0,
             seen: Callable[[], str] | None = None) -> object:
    """Poll ``check`` until truthy; raise LabError naming ``what`` and what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = seen() if seen else repr(value)
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {detail}")
        time.sleep(interval)


def run(argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run with text output captured unless told otherwise."""
    kwargs.setdefault("text", True)
    if "stdout" not in kwargs and "capture_output" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(list(argv), **kwargs)


def say(msg: str) -> None:
    """One progress line, flushed (the demo's long steps print these)."""
    print(f"[lab {time.strftime('%H:%M:%S')}] {msg}", flush=True)
