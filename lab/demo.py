"""``lab demo``: the seed-000 bootstrap on two real nodes through the real salt-master.

Builds or reuses the image, brings the lab up, runs
``salt-run state.orchestrate orch.hapair.bootstrap pillar='{"topology": "lab_web"}'`` (blank disks to
r0 dual-primary with OCFS2 mounted on both and a canary file crossing nodes) while printing the
initial sync's progress (polling ``drbd.status`` through the master), prints each step's outcome and
the pair's ``salt-run hapair.status`` table, tears the lab down unless ``--keep``, and prints the total
time.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

from lab import image, master
from lab.config import NODES, REPO, LabError, say, venv_bin

TARGET = ",".join(NODES)


def require_hapair_drbd() -> None:
    missing = [p for p in ("_modules/hapair_drbd.py", "_states/hapair_drbd.py", "salt/orch/hapair/bootstrap.sls",
                           "_runners/hapair.py")
               if not os.path.exists(os.path.join(REPO, p))]
    if missing:
        raise LabError(f"hapair's drbd module/state is not in this tree yet ({', '.join(missing)})")


def status_rows(statuses: dict) -> list[tuple]:
    """``(node, resource, role, disk, connection, replication, peer role, peer disk, sync %)`` rows
    from ``{minion: drbd.status return}`` (the DESIGN.md resource model)."""
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


def orchestrate_with_progress(lab, topology: str, timeout: float = 2400) -> dict:
    """The bootstrap orchestration; print a line whenever drbd.status changes; return salt-run's JSON."""
    pillar = json.dumps({"topology": topology})
    argv = [venv_bin("salt-run"), "-c", master.conf_dir(lab.dir), "--out=json",
            "state.orchestrate", "orch.hapair.bootstrap", f"pillar={pillar}"]
    say(f"salt-run state.orchestrate orch.hapair.bootstrap pillar='{pillar}'")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    last = ""
    started = time.monotonic()
    while proc.poll() is None:
        time.sleep(4)
        if proc.poll() is not None:
            break
        try:
            statuses = lab.salt(TARGET, "drbd.status", timeout=20)
        except (LabError, subprocess.TimeoutExpired):
            continue
        line = progress_line(statuses)
        if line != last:
            say(f"  +{time.monotonic() - started:4.0f}s  {line}")
            last = line
        if time.monotonic() - started > timeout:
            proc.kill()
            raise LabError(f"the orchestration did not finish in {timeout:.0f}s")
    stdout, stderr = proc.communicate()
    start = stdout.find("{")
    try:
        return json.loads(stdout[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        raise LabError(f"salt-run: exit {proc.returncode}, output not JSON: {stdout[-1500:]} {stderr[-1500:]}")


def summarise(result: dict) -> tuple[bool, list[str]]:
    """(every orchestration step succeeded, one line per step in run order)."""
    data = result.get("data", result) if isinstance(result, dict) else {}
    steps = {}
    for value in data.values() if isinstance(data, dict) else []:  # {"<master id>_master": {id: step}}
        if isinstance(value, dict):
            steps.update({k: v for k, v in value.items() if isinstance(v, dict) and "result" in v})
    if not steps:
        return False, [f"no orchestration steps in the output: {str(result)[:800]}"]
    lines, ok = [], True
    for key, step in sorted(steps.items(), key=lambda kv: kv[1].get("__run_num__", 0)):
        mark = "ok  " if step.get("result") is True else "FAIL"
        ok = ok and step.get("result") is True
        secs = float(step.get("duration") or 0) / 1000
        comment = str(step.get("comment") or "").splitlines()
        lines.append(f"{mark} {key.split('_|-')[1]:40} {secs:6.1f}s  {(comment or [''])[0][:100]}")
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
        result = orchestrate_with_progress(lab, args.topology)
        ok, lines = summarise(result)
        say(f"orchestration finished in {time.monotonic() - step:.0f}s")
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
