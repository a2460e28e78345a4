"""Heartbeat takeover in the QEMU lab (seed 002, lab_apache): from a fault on the node that runs the
group to the VIP serving the canary page again, from the other node.

Run (root, ~15 min under TCG)::

    python bench/takeover_lab.py [--runs 3] [--rundir DIR]

Sequence: reset to blank disks -> ``orch.hapair.bootstrap`` of lab_apache -> ``--runs`` times:
write a canary page on the node holding the group, ``systemctl stop heartbeat`` there, time until
``curl http://<VIP>/bench-canary.txt`` from the stopping node returns the canary (served by the
peer), start heartbeat again; then ``--runs`` times: the holder powered off (QEMU ``quit``-like
power loss), time until the peer serves the canary, power it on and wait for it to rejoin.
Prints each run, the medians, and the power-off median minus heartbeat's ``deadtime`` (the goal
of issue 14: at most 5 s beyond deadtime). A graceful stop hands over at once: no deadtime is
involved there. Never start it while another lab runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "lab")]

from labreset import reset  # noqa: E402
from orchrun import assert_complete  # noqa: E402
from orchrun import orchestrate as run_orchestration  # noqa: E402

from lab.config import cache_dir  # noqa: E402
from lab.vm import Lab  # noqa: E402

TOPOLOGY = "lab_apache"
NODES = ("node1", "node2")
PAGE = "/var/www/html/bench-canary.txt"  # not hapair.canary's own file: it removes that one


def settings():
    import yaml

    with open(os.path.join(ROOT, "pillar", "hapair", f"{TOPOLOGY}.sls"), encoding="utf-8") as fh:
        topo = yaml.safe_load(fh)["hapair"]["topologies"][TOPOLOGY]
    return topo["groups"]["www"]["ip"]["address"], topo["cluster"]["heartbeat"]["deadtime"]


def holder(lab, vip):
    for node in NODES:
        if vip in lab.ssh(node, "ip -4 -o addr show dev eth1", timeout=60).stdout:
            return node
    return None


def serves(lab, node, vip, token):
    out = lab.ssh(node, f"curl -s --max-time 2 http://{vip}/bench-canary.txt", timeout=30)
    return out.returncode == 0 and out.stdout.strip() == token


def until(check, timeout):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"not within {timeout}s")


def rejoined(lab, node, peer):
    until(lambda: "active" in lab.ssh(peer, f"cl_status nodestatus {node}", timeout=60).stdout, 600)
    until(lambda: "ds:UpToDate/UpToDate" in lab.ssh(peer, "cat /proc/drbd", timeout=60).stdout, 900)


def one(lab, vip, fault):
    """One fault on the holder; seconds until the peer serves the canary written before it."""
    node = holder(lab, vip)
    peer = next(n for n in NODES if n != node)
    token = f"bench {uuid.uuid4()}"
    lab.ssh(node, f"echo '{token}' > {PAGE} && sync", check=True)
    started = time.monotonic()
    if fault == "stop":
        lab.ssh(node, "systemctl stop heartbeat", check=True, timeout=300)
        seconds = time.monotonic() - started + until(lambda: serves(lab, peer, vip, token), 300)
        lab.ssh(node, "systemctl start heartbeat", check=True, timeout=300)
    else:
        since = lab.ssh(peer, "date +%s.%N", check=True).stdout.strip()
        lab.poweroff(node)
        seconds = time.monotonic() - started + until(lambda: serves(lab, peer, vip, token), 300)
        # where the time went, in the peer's own log: heartbeat's death notice, each resource script
        log = lab.ssh(peer, f"journalctl --since=@{since} -o short-precise --no-pager | grep -E "
                      "'heartbeat|ResourceManager|IPaddr2|Filesystem|drbddisk|drbd|apache|kernel: block drbd' "
                      "| head -60", timeout=60).stdout
        print(f"--- {peer}'s log from {node}'s power-off:\n{log}", flush=True)
        lab.start(node)
    rejoined(lab, node, peer)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rundir", help="use the lab already up in this run dir")
    args = parser.parse_args(argv)
    vip, deadtime = settings()
    own = args.rundir is None
    lab = Lab(rundir=args.rundir or os.path.join(cache_dir(), "run-bench"))
    figures: dict = {"stop": [], "power_off": []}
    try:
        if own:
            lab.up()
        reset(lab)
        code, steps, seconds, raw = run_orchestration(lab, TOPOLOGY, timeout=3600)
        assert_complete(code, steps, raw, TOPOLOGY)
        print(f"bootstrap {TOPOLOGY}: {seconds:.1f}s", flush=True)
        for fault, key in (("stop", "stop"), ("power", "power_off")):
            for _ in range(args.runs):
                figures[key].append(round(one(lab, vip, fault), 1))
                print(f"{key}: {figures[key][-1]}s", flush=True)
        reset(lab)
    finally:
        if own:
            lab.down()
    stop, power = statistics.median(figures["stop"]), statistics.median(figures["power_off"])
    print(json.dumps(figures))
    print(f"takeover after heartbeat stop: median {stop:.1f}s (graceful: no deadtime)")
    print(f"takeover after power-off: median {power:.1f}s = deadtime {deadtime}s + {power - deadtime:.1f}s "
          "(goal <= 5 s beyond deadtime)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
