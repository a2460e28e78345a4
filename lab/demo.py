"""``lab demo``: bootstrap DRBD r0 of a lab topology on two real nodes through the real salt-master.

Builds or reuses the image, brings the lab up, runs
``salt -L node1,node2 state.apply hapair.drbd pillar='{"topology": "lab_web"}'`` while printing the
initial sync's progress (polling ``drbd.status`` through the master), prints both nodes' ``drbd.status``
as a table, tears the lab down unless ``--keep``, and prints the total time.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from lab import image, master
from lab.config import NODES, REPO, LabError, say, venv_bin

TARGET = ",".join(NODES)
COLUMNS = ("node", "resource", "role", "disk", "connection", "replication", "peer role", "peer disk", "sync %")


def require_hapair_drbd() -> None:
    missing = [p for p in ("_modules/drbd.py", "_states/drbd.py", "salt/hapair/drbd/init.sls")
               if not os.path.exists(os.path.join(REPO, p))]
    if missing:
        raise LabError(f"hapair's drbd module/state is not in this tree yet ({', '.join(missing)})")


def status_rows(statuses: dict) -> list[tuple]:
    """Rows for COLUMNS from ``{minion: drbd.status return}`` (the DESIGN.md resource model)."""
    rows = []
    for node in sorted(statuses):
        ret = statuses[node]
        if not isinstance(ret, dict):
            rows.append((node, "-", f"no answer: {str(ret)[:160]}", "", "", "", "", "", ""))
            continue
        for name, model in sorted((ret.get("resources") or {}).items()):
            vol = (model.get("volumes") or [{}])[0]
            peer = (model.get("peers") or [{}])[0]
            pvol = (peer.get("volumes") or [{}])[0]
            pct = pvol.get("percent_done")
            rows.append((node, name, model.get("role"), vol.get("disk_state"), peer.get("connection_state"),
                         pvol.get("replication_state"), peer.get("role"), pvol.get("peer_disk_state"),
                         "" if pct is None else f"{pct:.1f}"))
    return rows


def table(rows: list[tuple]) -> str:
    cells = [COLUMNS] + [tuple("-" if c is None else str(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(cells[0]), line(tuple("-" * w for w in widths))] + [line(r) for r in cells[1:]])


def progress_line(statuses: dict) -> str:
    parts = []
    for node, name, role, disk, conn, repl, _prole, pdisk, pct in status_rows(statuses):
        if name == "-":  # the minion answered with an error (or not at all)
            parts.append(f"{node}: {role}")
            continue
        text = f"{node}/{name} {role} {disk} {conn}"
        if repl and repl != "Established":
            text += f" {repl}"
        if pct:
            text += f" {pct}%"
        parts.append(text + f" (peer {pdisk})")
    return " | ".join(parts) or "no DRBD resource up yet"


def apply_with_progress(lab, topology: str, timeout: float = 1800) -> dict:
    """state.apply hapair.drbd on both nodes; print a line whenever drbd.status changes; return the result."""
    pillar = json.dumps({"topology": topology})
    argv = [venv_bin("salt"), "-c", master.conf_dir(lab.dir), "--out=json", "--static", "-t", str(int(timeout)),
            "-L", TARGET, "state.apply", "hapair.drbd", f"pillar={pillar}"]
    say(f"salt -L {TARGET} state.apply hapair.drbd pillar='{pillar}'")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = ""
    started = time.monotonic()
    while proc.poll() is None:
        time.sleep(4)
        if proc.poll() is not None:
            break
        try:
            statuses = lab.salt(TARGET, "drbd.status", "r0", timeout=20)
        except (LabError, subprocess.TimeoutExpired):
            continue
        line = progress_line(statuses)
        if line != last:
            say(f"  +{time.monotonic() - started:4.0f}s  {line}")
            last = line
        if time.monotonic() - started > timeout:
            proc.kill()
            raise LabError(f"state.apply did not finish in {timeout:.0f}s")
    stdout, stderr = proc.communicate()
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        raise LabError(f"state.apply: exit {proc.returncode}, output not JSON: {stdout[-1500:]} {stderr[-1500:]}")


def summarise(result: dict) -> tuple[bool, list[str]]:
    """(all states succeeded on every node, one summary line per node + one per failed state)."""
    ok = True
    lines = []
    for node in NODES:
        ret = result.get(node)
        if not isinstance(ret, dict):
            ok = False
            lines.append(f"{node}: no state result: {str(ret)[:400]}")
            continue
        failed = [(k, v) for k, v in ret.items() if not v.get("result")]
        changed = sum(1 for v in ret.values() if v.get("changes"))
        secs = sum(float(v.get("duration") or 0) for v in ret.values()) / 1000
        lines.append(f"{node}: {len(ret)} states, {len(ret) - len(failed)} succeeded, {changed} changed, "
                     f"{secs:.1f}s in states")
        for key, val in failed:
            ok = False
            lines.append(f"  FAILED {key.split('_|-')[1]}: {str(val.get('comment'))[:500]}")
    return ok, lines


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
        result = apply_with_progress(lab, args.topology)
        ok, lines = summarise(result)
        say(f"state.apply finished in {time.monotonic() - step:.0f}s")
        for line in lines:
            print("  " + line)
        statuses = lab.salt(TARGET, "drbd.status", timeout=60)
        print("\ndrbd.status (through the salt-master):")
        print(table(status_rows(statuses)) + "\n")
    finally:
        if args.keep and lab.is_up():
            say("--keep: the lab stays up (`python -m lab ssh node1`, `python -m lab salt ...`, "
                "`python -m lab down`)")
        else:
            lab.down()
            say("lab torn down, nothing left running")
        say(f"demo {'succeeded' if ok else 'FAILED'}: total {time.monotonic() - started:.0f}s")
    return 0 if ok else 1
