"""MTTR of hapair's auto-remediation in the QEMU lab (issue 7): fault cleared -> healthy, per scenario.

Run (root, one lab on the machine at a time; ~12-15 min under TCG)::

    flock /root/.cache/hapair/lab.lock python bench/mttr_lab.py [--repeat 2] [--rundir DIR]

With ``--rundir`` it uses a lab already up there; otherwise it starts its own in
<cache>/run-bench-mttr and tears it down. The scenarios are tests/lab/remedy.py's (the same drivers
the lab test uses): topology lab_remedy (LVM, rm0 policy manual, rm1 victim node2 + snapshot), the
reactor and the drbd beacon live, no operator action in the healing:

- link cut: replication link off, writes on node1, link on -> healthy (goal <= 10 s after restore)
- power cycle: node2 powered off, writes on node1, powered on -> rejoined and resynced (from
  power-on, and from the moment its minion answered)
- split brain: writes on both sides, link on -> rm1 healed by policy (goal <= 15 s), rm0 reported

"Healthy" is observed in /proc/drbd over ssh (Connected, UpToDate/UpToDate, node1 Primary), polled
every ~0.5 s. Prints one line per measurement and a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "lab")]

from labreset import reset  # noqa: E402
from remedy import Remedy  # noqa: E402

from lab.config import cache_dir  # noqa: E402
from lab.vm import Lab  # noqa: E402

GOALS = {"link_cut": 10.0, "split_brain_victim": 15.0}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rundir", help="use the lab already up in this run dir")
    parser.add_argument("--repeat", type=int, default=1, help="link cut and power cycle repetitions")
    args = parser.parse_args(argv)
    own = not args.rundir
    lab = Lab(rundir=args.rundir or os.path.join(cache_dir(), "run-bench-mttr"))
    runs: dict[str, list[float]] = {"link_cut": [], "power_cycle": [], "power_cycle_after_minion_up": [],
                                    "split_brain_victim": []}
    started = time.monotonic()
    drv = None
    try:
        if own:
            lab.up()
        reset(lab)
        drv = Remedy(lab)
        print(f"[bench] setup (LVM, orch.hapair.bootstrap lab_remedy, ext4): {drv.setup(sync=not own):.0f}s", flush=True)
        for i in range(args.repeat):
            out = drv.link_cut()
            runs["link_cut"].append(out["mttr"])
            print(f"[bench] link cut #{i + 1}: {out['mttr']:.1f}s (writes on node2: {out['on_peer']})", flush=True)
            out = drv.power_cycle("node2")
            runs["power_cycle"].append(out["mttr"])
            runs["power_cycle_after_minion_up"].append(out["after_boot"])
            print(f"[bench] power cycle #{i + 1}: {out['mttr']:.1f}s from power-on, {out['after_boot']:.1f}s "
                  f"after the minion answered", flush=True)
        out = drv.split_brain()
        runs["split_brain_victim"].append(out["mttr"])
        print(f"[bench] split brain: rm1 healed in {out['mttr']:.1f}s; snapshots {out['snapshots']}; "
              f"rm0 {out['manual_last']['decision']}: {out['manual_last']['reason'][:100]}", flush=True)
    finally:
        if drv is not None:
            drv.teardown()
        if own:
            lab.down()
    print(f"\n[bench] MTTR (s), fault cleared -> healthy; total {time.monotonic() - started:.0f}s")
    print(f"{'scenario':32} {'runs':>4} {'median':>7} {'max':>7} {'goal':>6}")
    for name, values in runs.items():
        if not values:
            continue
        goal = GOALS.get(name)
        mark = "" if goal is None else ("  met" if max(values) <= goal else "  MISSED")
        print(f"{name:32} {len(values):>4} {statistics.median(values):>7.1f} {max(values):>7.1f} "
              f"{'-' if goal is None else f'{goal:.0f}':>6}{mark}")
    print(json.dumps({k: [round(v, 1) for v in vals] for k, vals in runs.items()}))


if __name__ == "__main__":
    main()
