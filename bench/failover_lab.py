"""Seed 003's failover in the QEMU lab (lab_crossed, stack none: hapair's runner is the engine): from
``salt-run hapair.failover`` starting to the group's container running on the other node.

Run (root, ~15 min under TCG; never while another lab runs)::

    python bench/failover_lab.py [--runs 3] [--rundir DIR]

Sequence: reset to blank disks -> ``orch.hapair.bootstrap`` of lab_crossed -> ``--runs`` planned
moves of r0 (store1, container c1), alternating node1 -> node2 -> node1: a canary written inside c1
before, the wall time from starting ``salt-run hapair.failover lab_crossed r0 to=<other>`` until
``lxc-info`` on the other node says RUNNING (polled over ssh every ~0.3 s, next to the runner), and
the canary read inside c1 there. Prints each run, the runner's own ``seconds``, and the medians.
Nothing is asserted on times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests"), os.path.join(ROOT, "tests", "lab")]

from labreset import reset  # noqa: E402
from orchrun import failed  # noqa: E402
from orchrun import orchestrate as run_orchestration  # noqa: E402
from saltout import last_json  # noqa: E402

from lab import master  # noqa: E402
from lab.config import cache_dir, venv_bin  # noqa: E402
from lab.vm import Lab  # noqa: E402

TOPOLOGY = "lab_crossed"
LXCPATH = "/srv/store1/containers"


def in_c1(lab, node, command):
    return lab.ssh(node, f"lxc-attach -P {LXCPATH} -n c1 -- sh -c '{command}'", timeout=60)


def running(lab, node):
    return "RUNNING" in lab.ssh(node, f"lxc-info -P {LXCPATH} -n c1 -s", timeout=60).stdout


def one(lab, source, target):
    """One planned move of r0 from ``source`` to ``target``: (wall seconds to c1 RUNNING there, runner seconds)."""
    token = f"bench {uuid.uuid4()}"
    in_c1(lab, source, f"echo {token} > /bench-canary && sync")
    argv = [venv_bin("salt-run"), "-c", master.conf_dir(lab.dir), "--out=json", "hapair.failover", TOPOLOGY, "r0",
            f"to={target}"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = None
    while seen is None and time.monotonic() - started < 600:
        if running(lab, target):
            seen = time.monotonic() - started
        else:
            time.sleep(0.3)
    out, err = proc.communicate(timeout=600)
    ret = last_json(out) or {}
    if ret.get("result") is not True or seen is None:
        raise SystemExit(f"failover {source} -> {target} failed: {out[-2000:]} {err[-1000:]}")
    got = in_c1(lab, target, "cat /bench-canary").stdout.strip()
    if got != token:
        raise SystemExit(f"the canary written in c1 on {source} read {got!r} in c1 on {target}")
    return seen, ret.get("seconds")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rundir", help="use the lab already up in this run dir")
    args = parser.parse_args(argv)
    own = args.rundir is None
    lab = Lab(rundir=args.rundir or os.path.join(cache_dir(), "run-bench-failover"))
    walls, runner = [], []
    try:
        if own:
            lab.up()
        reset(lab)
        code, steps, seconds, raw = run_orchestration(lab, TOPOLOGY, timeout=3600)
        if code != 0 or not steps or failed(steps):  # stack none has no canary step: the groups' checks are the moves'
            raise SystemExit(f"{TOPOLOGY} bootstrap: exit {code}, failed steps {failed(steps)}: {raw[-3000:]}")
        print(f"bootstrap {TOPOLOGY}: {seconds:.1f}s", flush=True)
        where = "node1"
        for i in range(args.runs):
            other = "node2" if where == "node1" else "node1"
            wall, own_seconds = one(lab, where, other)
            walls.append(round(wall, 1))
            runner.append(own_seconds)
            print(f"run {i + 1}: r0 {where} -> {other}: c1 RUNNING after {wall:.1f}s (runner: {own_seconds}s)",
                  flush=True)
            where = other
    finally:
        if own:
            lab.down()
    print(json.dumps({"topology": TOPOLOGY, "runs": walls, "runner_seconds": runner,
                      "median_to_running_s": statistics.median(walls),
                      "median_runner_s": statistics.median(runner)}, indent=1))


if __name__ == "__main__":
    main()
