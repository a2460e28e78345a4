"""Drive the bootstrap orchestration through the lab's real master and read what it returned.

Shared by every lab test that runs ``orch.hapair.bootstrap`` (seed 000/001 on o2cb, seed 004's
modern GFS2 variant, the fault scenarios' setup)::

    from orchrun import orchestrate, assert_complete, minion_changes, cross, initial_sync
    code, steps, seconds, raw = orchestrate(lab, "lab_web")
    crossed = assert_complete(code, steps, raw, "lab_web")   # {filesystem: (written_on, read_on)}
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from saltout import last_json  # noqa: E402

ORCH_TIMEOUT = 2400


def orchestrate(lab, topology, timeout=ORCH_TIMEOUT, salt_run=None):
    """Run the bootstrap through ``salt-run``; ``(exit code, {state id: step}, seconds, raw output)``.

    ``salt_run``: a ``callable(args, timeout)`` returning a CompletedProcess instead of the lab's own
    ``salt-run`` (test_wheel_lab runs the one of a venv holding only the wheel)."""
    started = time.monotonic()
    args = ["--out=json", "state.orchestrate", "orch.hapair.bootstrap", "pillar=" + json.dumps({"topology": topology})]
    proc = (salt_run or (lambda a, t: lab.salt_cli("salt-run", a, timeout=t)))(args, timeout)
    seconds = time.monotonic() - started
    raw = proc.stdout + proc.stderr
    doc = last_json(proc.stdout) or {}
    data = doc.get("data", doc) if isinstance(doc, dict) else {}
    steps = {}
    for value in data.values() if isinstance(data, dict) else []:  # {"<master id>_master": {id: step}}
        if isinstance(value, dict):
            steps.update({k: v for k, v in value.items() if isinstance(v, dict) and "result" in v})
    return proc.returncode, steps, seconds, raw


def step(steps, name):
    """The step whose state id is ``name`` (keys look like ``salt_|-<id>_|-<name>_|-state``)."""
    found = [v for k, v in steps.items() if k.split("_|-")[1] == name]
    assert found, f"no step {name} in the orchestration's return: {sorted(steps)}"
    return found[0]


def failed(steps):
    """{state id: comment} of every step whose result is not True."""
    return {k.split("_|-")[1]: v.get("comment") for k, v in steps.items() if v.get("result") is not True}


def minion_changes(steps):
    """{step id: {minion: {state id: changes}}} for every salt.state step that changed something."""
    out = {}
    for key, value in steps.items():
        if not key.startswith("salt_|-") or not key.endswith("_|-state"):
            continue
        ret = (value.get("changes") or {}).get("ret") or {}
        for minion, states in ret.items():
            changed = {sid.split("_|-")[1]: s.get("changes") for sid, s in (states or {}).items()
                       if isinstance(s, dict) and s.get("changes")}
            if changed:
                out.setdefault(key.split("_|-")[1], {})[minion] = changed
    return out


def initial_sync(changed, step="hapair-bootstrap-drbd-up"):
    """The minions whose ``drbd.initial_sync`` changed something in ``step`` (``minion_changes`` output):
    the end of drbd-up since the initial sync is no step of its own (issue 19)."""
    return {minion for minion, states in (changed.get(step) or {}).items()
            if any(sid.startswith("hapair-drbd-") and sid.endswith("-initial-sync") for sid in states)}


def proc_drbd(lab, node):
    """/proc/drbd on ``node``, read by ssh (the kernel's view, not hapair's parsers)."""
    return lab.ssh(node, "cat /proc/drbd", check=True).stdout


def mounts(lab, node, fstype="ocfs2"):
    """``["<device> <mountpoint>", ...]`` of ``fstype`` mounts on ``node`` from /proc/mounts."""
    cmd = f"awk '$3 == \"{fstype}\" {{print $1, $2}}' /proc/mounts"
    return lab.ssh(node, cmd, check=True).stdout.split("\n")


def cross(lab, path, writer="node1", reader="node2"):
    """Our own canary, by ssh (independent of hapair's): write on ``writer``, read on ``reader``."""
    token = f"lab canary {time.time():.6f}"
    lab.ssh(writer, f"echo '{token}' > {path} && sync", check=True)
    got = lab.ssh(reader, f"cat {path}", check=True).stdout.strip()
    lab.ssh(reader, f"rm -f {path}", check=True)
    assert got == token, f"wrote {token!r} on {writer} at {path}, read {got!r} on {reader}"


def assert_complete(code, steps, raw, topology):
    """Assert the run succeeded with every step green; return the canary's {filesystem: (writer, reader)}."""
    bad = failed(steps)
    assert code == 0 and steps and not bad, (
        f"{topology} bootstrap: exit {code}, failed steps {bad}; output tail: {raw[-3000:]}")
    checks = step(steps, "hapair-bootstrap-canary")["changes"]["return"]["checks"]
    return {c.get("filesystem") or c["group"]: (c["written_on"], c["read_on"]) for c in checks}
