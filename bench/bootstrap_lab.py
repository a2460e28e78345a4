"""Bootstrap wall time in the QEMU lab: the orchestration against a plain ssh script (P1), a
re-run against the first run (P3), and a fresh-disk (sync skipped) bootstrap at two disk sizes
(P2), each set on one lab in one run.

Run (root, ~15-25 min under TCG each)::

    python bench/bootstrap_lab.py [--topology lab_web] [--rundir DIR]      # P1, P3
    python bench/bootstrap_lab.py --p2 [--scale 4]                          # P2

With ``--rundir`` it uses a lab already up there (``python -m lab up`` uses <cache>/run);
otherwise it starts its own in <cache>/run-bench and tears it down. Never start it while another
lab runs (2 cores: ``pgrep -af "pytest tests/lab|python -m lab|qemu-system"``).

Sequence: reset to blank disks (tests/lab/labreset.py) -> ``salt-run state.orchestrate
orch.hapair.bootstrap`` (T1) -> the same again (T2) -> keep the config files hapair wrote -> reset
-> the plain script (T0): the same commands by ssh, both nodes in parallel where the orchestration
runs them on both, polling ``drbdadm cstate/dstate`` where it gates: write the DRBD config,
``create-md``, ``up``, wait Connected, ``primary --force`` on node1, wait UpToDate/UpToDate,
``primary`` on both, cluster.conf + ``o2cb online``, ``mkfs.ocfs2`` on node1, mount on both,
canary written on node1 and read on node2. Prints T0, T1, T2 and P1 = T1/T0, P3 = T2/T1
(issue 5 goals: P1 <= 1.3, P3 <= 0.3). Only the seed 000 topology (one resource) is scripted.

P2 (``--p2``): seed 001's lab_fileserver (LVM, two resources, ``initial_sync: skip``) from blank
disks as committed (Ts), then with every LV ``--scale`` times larger (Tl: a copy of the pillar file
in the lab master's pillar overlay shadows the repo's; the lab's vdc is sized to fit). Prints
P2 = Tl/Ts (goal <= 1.1: skipping the sync makes the bootstrap independent of the disk size).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests", "lab")]

from labreset import reset  # noqa: E402
from orchrun import assert_complete  # noqa: E402
from orchrun import orchestrate as run_orchestration  # noqa: E402

from lab.config import cache_dir  # noqa: E402
from lab.master import pillar_overlay  # noqa: E402
from lab.vm import Lab, _size  # noqa: E402

NODES = ("node1", "node2")
CONFIG_FILES = ("/etc/drbd.conf", "/etc/drbd.d/global_common.conf", "/etc/drbd.d/r0.res",
                "/etc/ocfs2/cluster.conf", "/etc/default/o2cb")


def orchestrate(lab, topology):
    """One complete bootstrap run; its wall time (exits naming the failed steps otherwise)."""
    code, steps, seconds, raw = run_orchestration(lab, topology, timeout=3600)
    try:
        assert_complete(code, steps, raw, topology)
    except AssertionError as err:
        raise SystemExit(f"orchestration failed: {err}") from None
    return seconds


def both(fn):
    """Run ``fn(node)`` on both nodes in parallel; re-raise the first error."""
    errors = []

    def call(node):
        try:
            fn(node)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{node}: {exc}")
    threads = [threading.Thread(target=call, args=(n,)) for n in NODES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("; ".join(errors))


def poll(lab, node, cmd, want, timeout=900):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = lab.ssh(node, cmd).stdout.strip()
        if out == want:
            return
        time.sleep(1)
    raise SystemExit(f"{node}: {cmd} never gave {want!r} (last {out!r})")


def plain_script(lab, files, topology):
    """The same bootstrap by ssh; returns its wall time. ``files``: {node: {path: content}}."""
    fs = topology["filesystems"]["www"]
    cluster = topology["cluster"]["name"]
    started = time.monotonic()

    def config(node):
        for path, content in files[node].items():
            lab.ssh(node, f"mkdir -p {shlex.quote(os.path.dirname(path))} && cat > {shlex.quote(path)}",
                    input=content, check=True)
        lab.ssh(node, "modprobe drbd && drbdadm create-md --force r0 && drbdadm up r0", check=True)
    both(config)
    both(lambda n: poll(lab, n, "drbdadm cstate r0", "Connected"))
    lab.ssh("node1", "drbdadm primary --force r0", check=True)
    both(lambda n: poll(lab, n, "drbdadm dstate r0", "UpToDate/UpToDate"))
    both(lambda n: lab.ssh(n, "drbdadm primary r0 && SYSTEMCTL_SKIP_REDIRECT=1 /etc/init.d/o2cb online "
                           + shlex.quote(cluster), check=True))
    lab.ssh("node1", f"mkfs.ocfs2 -q -N {fs.get('slots', 2)} --cluster-stack=o2cb --cluster-name={cluster} "
            "/dev/drbd0", check=True)
    opts = ",".join(fs.get("mount_options") or ["_netdev"])
    both(lambda n: lab.ssh(n, f"mkdir -p {fs['mountpoint']} && mount -t ocfs2 -o {opts} /dev/drbd0 "
                           f"{fs['mountpoint']}", check=True))
    token = f"bench {time.time()}"
    lab.ssh("node1", f"echo '{token}' > {fs['mountpoint']}/.bench-canary && sync", check=True)
    got = lab.ssh("node2", f"cat {fs['mountpoint']}/.bench-canary", check=True).stdout.strip()
    lab.ssh("node1", f"rm -f {fs['mountpoint']}/.bench-canary", check=True)
    if got != token:
        raise SystemExit(f"plain script canary: wrote {token!r}, read {got!r}")
    return time.monotonic() - started


def scaled_pillar(name, scale):
    """The text of pillar/hapair/<name>.sls with every LV ``scale`` times larger, and the VG's total."""
    import yaml

    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    total = 0
    for spec in doc["hapair"]["topologies"][name]["lvm"].values():
        for lv, size in spec["lvs"].items():
            mib = _size(size) * scale // 2**20
            spec["lvs"][lv] = f"{mib}M"
            total += mib
    return yaml.safe_dump(doc, default_flow_style=False), total


def p2(args):
    """Fresh-disk bootstrap of ``args.topology`` (sync skipped) as committed and ``args.scale`` x larger."""
    text, total_mib = scaled_pillar(args.topology, args.scale)
    vdc = f"{total_mib + 1024}M"  # the larger LVs plus room for LVM metadata
    own = args.rundir is None
    lab = Lab(rundir=args.rundir or os.path.join(cache_dir(), "run-bench"))
    figures = {}
    overlay = os.path.join(pillar_overlay(lab.dir), "hapair", f"{args.topology}.sls")
    try:
        if own:
            lab.up(disk_size=f"256M,{vdc}")
        reset(lab)
        figures["Ts_as_committed"] = orchestrate(lab, args.topology)
        print(f"Ts fresh-disk bootstrap, LVs as committed: {figures['Ts_as_committed']:.1f}s", flush=True)
        reset(lab)
        os.makedirs(os.path.dirname(overlay), exist_ok=True)
        with open(overlay, "w", encoding="utf-8") as fh:
            fh.write(text)
        figures["Tl_scaled"] = orchestrate(lab, args.topology)
        print(f"Tl fresh-disk bootstrap, LVs x{args.scale}: {figures['Tl_scaled']:.1f}s", flush=True)
        reset(lab)
    finally:
        if os.path.exists(overlay):
            os.remove(overlay)
        if own:
            lab.down()
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}))
    print(f"P2 {args.scale}x larger disks / as committed = {figures['Tl_scaled'] / figures['Ts_as_committed']:.2f} "
          "(goal <= 1.1)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topology", default=None, help="default lab_web (P1/P3), lab_fileserver (--p2)")
    parser.add_argument("--rundir", help="use the lab already up in this run dir")
    parser.add_argument("--p2", action="store_true", help="fresh-disk bootstrap at two disk sizes")
    parser.add_argument("--scale", type=int, default=4, help="P2: how many times larger the second run's LVs are")
    args = parser.parse_args(argv)
    if args.p2:
        args.topology = args.topology or "lab_fileserver"
        return p2(args)
    args.topology = args.topology or "lab_web"
    import yaml

    with open(os.path.join(ROOT, "pillar", "hapair", f"{args.topology}.sls"), encoding="utf-8") as fh:
        topology = yaml.safe_load(fh)["hapair"]["topologies"][args.topology]
    own = args.rundir is None
    lab = Lab(rundir=args.rundir or os.path.join(cache_dir(), "run-bench"))
    figures = {}
    try:
        if own:
            started = time.monotonic()
            lab.up()
            figures["lab_up"] = time.monotonic() - started
        figures["reset"] = reset(lab)
        figures["T1_orchestration_first"] = orchestrate(lab, args.topology)
        print(f"T1 orchestration, blank disks: {figures['T1_orchestration_first']:.1f}s", flush=True)
        figures["T2_orchestration_rerun"] = orchestrate(lab, args.topology)
        print(f"T2 orchestration re-run: {figures['T2_orchestration_rerun']:.1f}s", flush=True)
        files = {n: {p: lab.ssh(n, f"cat {p}", check=True).stdout for p in CONFIG_FILES} for n in NODES}
        reset(lab)
        figures["T0_plain_script"] = plain_script(lab, files, topology)
        print(f"T0 plain ssh script, blank disks: {figures['T0_plain_script']:.1f}s", flush=True)
        reset(lab)
    finally:
        if own:
            lab.down()
    p1 = figures["T1_orchestration_first"] / figures["T0_plain_script"]
    p3 = figures["T2_orchestration_rerun"] / figures["T1_orchestration_first"]
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}))
    print(f"P1 orchestration / plain script = {p1:.2f} (goal <= 1.3)")
    print(f"P3 re-run / first run = {p3:.2f} (goal <= 0.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
