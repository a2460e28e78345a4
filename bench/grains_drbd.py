"""Median cost of hapair's drbd grains on a DRBD 8.4 node (goal: under 10 ms).

Reads a real /proc/drbd capture (stage 17: r0 and r1 up, peer down; from
../shared/captures/lab-drbd-8.4.11-utils-9.22.0, copied to tests/fixtures/fakebin) and a rendered
config naming the minors, exactly as the grain does on a minion: no subprocess on 8.4.

Run: python3 bench/grains_drbd.py [rounds]
"""

import importlib.util
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

PROC = os.path.join(ROOT, "tests", "fixtures", "fakebin", "17-peer-down", "node1", "proc_drbd.stdout")
CONF = 'resource "r0" {\n    on node1 {\n        device /dev/drbd0 minor 0;\n    }\n}\n' \
       'resource "r1" {\n    on node1 {\n        device /dev/drbd1 minor 1;\n    }\n}\n'


def load_grains():
    spec = importlib.util.spec_from_file_location("hapair_grains_drbd", os.path.join(ROOT, "_grains", "drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(rounds=200):
    grains = load_grains()
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "drbd.d"))
        with open(os.path.join(tmp, "drbd.d", "r.res"), "w", encoding="utf-8") as handle:
            handle.write(CONF)
        opts = {"hapair": {"paths": {"proc_drbd": PROC, "drbd_conf": os.path.join(tmp, "drbd.conf"),
                                     "drbd_conf_dir": os.path.join(tmp, "drbd.d")}}}
        result = grains._collect(opts)
        assert result["drbd_roles"] == {"r0": "Primary", "r1": "Secondary"}, result
        costs = []
        for _ in range(rounds):
            start = time.perf_counter()
            grains._collect(opts)
            costs.append((time.perf_counter() - start) * 1000)
    median = statistics.median(costs)
    print(f"drbd grains: median {median:.3f} ms over {rounds} rounds (goal < 10 ms: "
          f"{'met' if median < 10 else 'MISSED'}, ratio {median / 10:.3f})")
    return 0 if median < 10 else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
