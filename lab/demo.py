"""``lab demo``: the seed-000 bootstrap on two real nodes through the real salt-master.

Builds or reuses the image, brings the lab up, runs ``salt-run hapair.bootstrap lab_web`` (the
``orch.hapair.bootstrap`` orchestration: blank disks to r0 dual-primary with OCFS2 mounted on both
and a canary file crossing nodes) while printing what that runner prints as it happens (each step
starting and each node returning, each gate waiting and met, the initial sync's percent and ETA),
prints each step's outcome and the pair's ``salt-run hapair.status`` table, tears the lab down
unless ``--keep``, and prints the total time.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time

from lab import image, master
from lab.config import REPO, LabError, say, venv_bin


def require_hapair_drbd() -> None:
    missing = [p for p in ("_modules/drbd.py", "_states/drbd.py", "salt/orch/hapair/bootstrap.sls",
                           "_runners/hapair.py")
               if not os.path.exists(os.path.join(REPO, p))]
    if missing:
        raise LabError(f"hapair's drbd module/state is not in this tree yet ({', '.join(missing)})")


def bootstrap_with_progress(lab, topology: str, timeout: float = 2400) -> dict:
    """``salt-run hapair.bootstrap <topology>``: print its progress lines as they come; return its result."""
    argv = [venv_bin("salt-run"), "-c", master.conf_dir(lab.dir), "--out=json", "--out-indent=-1",
            "hapair.bootstrap", topology]
    say(f"salt-run hapair.bootstrap {topology}")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    started = time.monotonic()
    result, other = {}, []
    try:
        for line in proc.stdout:  # the runner's own lines are plain text, its return one JSON line
            doc = _json_line(line)
            if isinstance(doc, dict) and "result" in doc:
                result = doc
            elif doc is None and line.strip():
                say(f"  +{time.monotonic() - started:4.0f}s  {line.rstrip()}")
                other.append(line.rstrip())
        proc.wait()
    finally:
        watchdog.cancel()
    if not result:
        raise LabError(f"salt-run hapair.bootstrap: exit {proc.returncode}, no result: {' | '.join(other)[-1500:]}")
    return result


def _json_line(line: str):
    try:
        return json.loads(line)
    except ValueError:
        return None


def summarise(result: dict) -> tuple[bool, list[str]]:
    """(every step succeeded, one line per step in run order) from ``hapair.bootstrap``'s return."""
    steps = result.get("steps") if isinstance(result, dict) else None
    if not steps:
        return False, [f"no bootstrap steps in the output: {str(result)[:800]}"]
    lines = [f"{'ok  ' if st.get('result') is True else 'FAIL'} {st.get('id', '?'):40} {str(st.get('comment') or '')[:100]}"
             for st in steps]
    return result.get("result") is True and all(st.get("result") is True for st in steps), lines


def main(args) -> int:
    from lab.vm import Lab
    started = time.monotonic()
    require_hapair_drbd()
    step = time.monotonic()
    info = image.manifest() or image.build()
    say(f"image {info['hash']} ready ({time.monotonic() - step:.0f}s): kernel {info['kernel']}, DRBD "
        f"{info['drbd_module']}, drbd-utils {info['drbd_utils']}, Salt {info['salt']}")
    lab = Lab()
    ok = False
    try:
        lab.up()
        step = time.monotonic()
        result = bootstrap_with_progress(lab, args.topology)
        ok, lines = summarise(result)
        say(f"bootstrap finished in {time.monotonic() - step:.0f}s: {result.get('comment', '')}")
        for line in lines:
            print("  " + line)
        table = lab.salt_cli("salt-run", ["hapair.status", args.topology], timeout=300)
        print(f"\nsalt-run hapair.status {args.topology}:")
        print(table.stdout.rstrip() + "\n")
    finally:
        if args.keep and lab.is_up():
            say("--keep: the lab stays up (`python -m lab ssh node1`, `python -m lab salt ...`, "
                "`python -m lab down`)")
        else:
            lab.down()
            say("lab torn down, nothing left running")
        say(f"demo {'succeeded' if ok else 'FAILED'}: total {time.monotonic() - started:.0f}s")
    return 0 if ok else 1
