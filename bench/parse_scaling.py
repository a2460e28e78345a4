"""Time ratio 2n/n of every parser on growing input, both sizes measured in one run (linear: ~2).

For each parser registered in tests/unit/test_parsers_fuzz.py (its real captures included) three
inputs grow: the capture followed by n blank lines, the capture with n blank lines after its first
line (the shape that made the DRBD config reader quadratic: 9.6 s on 80k lines), and the capture
repeated n/100 times. Each size is the best of ``rounds`` runs, the two sizes interleaved, the
garbage collector off (as in timeit). A ratio near 2 is linear, near 4 quadratic; a parser that
refuses the input early (ParseError) is timed all the same. Timings under 50 ms are noise on a busy
machine: re-run before reading much into one ratio. Before the fix of the config reader,
``parse_scaling.py 20000 1`` printed 3.2 to 5.1 for the regex config readers (now drbd_parse.config_minors)
(1.0-1.5 s at n, 4.3-5.5 s at 2n); after it they take milliseconds.

Run: python3 bench/parse_scaling.py [n] [rounds]     (default n=80000, rounds=5)
"""

import gc
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "_utils"), os.path.join(ROOT, "tests"), os.path.join(ROOT, "tests", "unit")]

import test_parsers_fuzz as registry  # noqa: E402 - the one list of parsers and their captures
from hapair.errors import ParseError  # noqa: E402


def _inputs(sample, n):
    head, _, tail = sample.partition("\n")
    return {
        "blank lines after": sample + "\n" * n,
        "blank lines inside": head + "\n" + "\n" * n + tail,
        "capture repeated": sample * max(1, n // 100),
    }


def _once(parser, text):
    gc.collect()
    gc.disable()  # as timeit does: the collector's passes over many small dicts are no parser's cost
    start = time.perf_counter()
    try:
        parser(text)
    except ParseError:
        pass
    finally:
        elapsed = time.perf_counter() - start
        gc.enable()
    return elapsed


def _best_pair(parser, small, large, rounds):
    """Best of ``rounds`` for each size, the sizes interleaved so that a busy machine slows both."""
    t1 = t2 = float("inf")
    for _ in range(rounds):
        t1 = min(t1, _once(parser, small))
        t2 = min(t2, _once(parser, large))
    return t1, t2


def main(n=80_000, rounds=5):
    worst = 0.0
    print(f"{'parser':45} {'input':20} {'n s':>9} {'2n s':>9} {'2n/n':>6}")
    for name in registry.PARSERS:
        parser = registry._parser(name)
        sample = registry.SAMPLES[name][0]
        small, large = _inputs(sample, n), _inputs(sample, 2 * n)
        for kind in small:
            t1, t2 = _best_pair(parser, small[kind], large[kind], rounds)
            ratio = t2 / t1 if t1 > 0 else float("nan")
            worst = max(worst, ratio if t2 > 0.05 else 0.0)  # below 50 ms a shared machine is noise
            print(f"{name:45} {kind:20} {t1:9.4f} {t2:9.4f} {ratio:6.2f}")
    print(f"worst ratio among inputs over 50 ms: {worst:.2f} (linear ~2, quadratic ~4)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
