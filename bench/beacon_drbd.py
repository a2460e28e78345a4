"""Cost of one drbd beacon call when nothing changes: events2 follower idle vs polling.

Run: ``python bench/beacon_drbd.py [calls]``. The beacon runs with loader dunders injected; in
auto mode its follower is an idle stand-in for ``drbdsetup events2`` (no output, like an idle
cluster); in poll mode ``drbd.status`` reads and parses a real /proc/drbd capture
(tests/fixtures/fakebin/05-synced-primary-secondary/node1/proc_drbd.stdout, DRBD 8.4.11) each call,
which is a lower bound of the real module's cost (it also reads the config files). Prints
microseconds per call, the ratio, and CPU seconds per day at a 5 s beacon interval.
"""

import importlib.util
import os
import stat
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

from hapair import drbd_parse  # noqa: E402

CAPTURE = os.path.join(ROOT, "tests", "fixtures", "fakebin", "05-synced-primary-secondary", "node1",
                       "proc_drbd.stdout")


def load_beacon(drbdsetup):
    spec = importlib.util.spec_from_file_location("bench_beacon_drbd", os.path.join(ROOT, "_beacons", "drbd.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    def status(name="all"):
        with open(CAPTURE, encoding="utf-8") as handle:
            parsed = drbd_parse.parse_proc_drbd(handle.read(), {0: "r0"})
        models = parsed.get("resources", parsed) if isinstance(parsed, dict) else parsed
        if isinstance(models, dict):
            models = list(models.values())
        return {"resources": {m.get("name"): m for m in models}}

    mod.__salt__ = {"config.get": lambda key, default=None: drbdsetup if key.endswith("drbdsetup") else default,
                    "drbd.status": status, "event.send": lambda tag, data: None}
    mod.__context__ = {}
    return mod


def per_call(fn, calls):
    fn()  # warm up (first snapshot, follower start)
    time.sleep(0.2)
    fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls * 1e6


def main():
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        fake = os.path.join(tmp, "drbdsetup")
        with open(fake, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\nexec sleep 3600\n")
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IEXEC)
        auto = load_beacon(fake)
        poll = load_beacon(fake)
        try:
            idle_us = per_call(lambda: auto.beacon([{"mode": "auto"}]), calls)
            poll_us = per_call(lambda: poll.beacon([{"mode": "poll"}]), calls)
        finally:
            proc = auto.__context__.get(auto._CTX, {}).get("proc")
            if proc is not None:
                proc.kill()
                proc.wait()
    per_day = 86400 / 5
    print(f"auto (events2 idle): {idle_us:8.1f} us/call  {idle_us * per_day / 1e6:6.3f} CPU s/day at 5 s")
    print(f"poll (parse status): {poll_us:8.1f} us/call  {poll_us * per_day / 1e6:6.3f} CPU s/day at 5 s")
    print(f"ratio auto/poll: {idle_us / poll_us:.3f}")


if __name__ == "__main__":
    main()
