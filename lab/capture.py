"""``lab capture``: real DRBD outputs at each stage, saved as parser fixtures in tests/fixtures/lab/.

Drives resource r0 (/dev/vdb, 10.99.0.x:7788) with plain drbdadm over ssh -- independent of hapair,
so the fixtures are what the tools print, not what hapair expects. Files are named
``<tool>--k<kernel>-drbd<module>-utils<utils>--<NN-stage>--<node>.out`` (stderr in ``.err`` when
non-empty); ``INDEX.tsv`` lists file, node, stage, exit code and the exact command.
"""

from __future__ import annotations

import os
import time

from lab.config import NODES, REPO, LabError, say, wait_for

RES = """resource r0 {
  protocol C;
  net {
    allow-two-primaries yes;
    after-sb-0pri discard-zero-changes;
    after-sb-1pri discard-secondary;
    after-sb-2pri disconnect;
    cram-hmac-alg sha1;
    shared-secret "lab-capture";
  }
  disk { c-plan-ahead 0; resync-rate 8M; }
  on node1 { device /dev/drbd0; disk /dev/vdb; address 10.99.0.1:7788; meta-disk internal; }
  on node2 { device /dev/drbd0; disk /dev/vdb; address 10.99.0.2:7788; meta-disk internal; }
}
"""

COMMANDS = [
    ("proc_drbd", "cat /proc/drbd"),
    ("drbdadm_status", "drbdadm status"),
    ("drbdadm_role", "drbdadm role r0"),
    ("drbdadm_cstate", "drbdadm cstate r0"),
    ("drbdadm_dstate", "drbdadm dstate r0"),
    ("drbdadm_get_gi", "drbdadm get-gi r0"),
    ("drbdadm_version", "drbdadm --version"),
    ("drbdsetup_events2_now", "drbdsetup events2 --now"),
    ("drbdsetup_status_json", "drbdsetup status --json"),
    ("drbdadm_dump", "drbdadm dump r0"),
    ("o2cb_cluster_status", "o2cb cluster-status"),
    ("o2cb_init_status", "SYSTEMCTL_SKIP_REDIRECT=1 /etc/init.d/o2cb status"),
    ("dmesg_drbd", "dmesg | grep -E 'drbd|block drbd' | tail -40"),
]
MARK = "@@hapair-capture@@"


def snapshot(lab, node: str) -> list[tuple[str, int, str, str, str]]:
    """Run COMMANDS on ``node`` in one ssh round trip: [(name, rc, command, stdout, stderr)]."""
    script = "".join(
        f"echo '{MARK} {name}'; ( {cmd} ) >/tmp/c.out 2>/tmp/c.err; echo \"{MARK}rc $?\"; cat /tmp/c.out; "
        f"echo '{MARK}err'; cat /tmp/c.err; " for name, cmd in COMMANDS)
    out = lab.ssh(node, script, timeout=120).stdout
    results = []
    for chunk in out.split(f"{MARK} ")[1:]:
        name, rest = chunk.split("\n", 1)
        rc_line, rest = rest.split("\n", 1)
        stdout, stderr = rest.split(f"{MARK}err\n", 1)
        cmd = dict(COMMANDS)[name.strip()]
        results.append((name.strip(), int(rc_line.split()[-1]), cmd, stdout, stderr))
    return results


class Capture:
    def __init__(self, lab, out: str):
        self.lab = lab
        self.out = out
        self.index: list[str] = []
        self.tag = ""

    def versions(self) -> str:
        text = self.lab.ssh("node1", "uname -r; modinfo -F version drbd; drbdadm --version | "
                            "sed -n 's/^DRBDADM_VERSION=//p'", check=True).stdout.split()
        return f"k{text[0]}-drbd{text[1]}-utils{text[2]}"

    def stage(self, stage: str, nodes=("node1", "node2")) -> None:
        for node in nodes:
            for name, rc, cmd, stdout, stderr in snapshot(self.lab, node):
                base = f"{name}--{self.tag}--{stage}--{node}"
                with open(os.path.join(self.out, base + ".out"), "w") as fh:
                    fh.write(stdout)
                if stderr.strip():
                    with open(os.path.join(self.out, base + ".err"), "w") as fh:
                        fh.write(stderr)
                self.index.append(f"{base}.out\t{node}\t{stage}\t{rc}\t{cmd}")
        say(f"captured stage {stage} on {', '.join(nodes)}")

    def write_index(self) -> None:
        with open(os.path.join(self.out, "INDEX.tsv"), "w") as fh:
            fh.write("file\tnode\tstage\trc\tcommand\n" + "\n".join(self.index) + "\n")


def _cstate(lab, node: str) -> str:
    return lab.ssh(node, "drbdadm cstate r0").stdout.strip()


def _proc(lab, node: str) -> str:
    return lab.ssh(node, "cat /proc/drbd").stdout


def run_capture(lab, out: str) -> str:
    """Walk r0 through every stage on a fresh lab and write the fixtures into ``out``."""
    os.makedirs(out, exist_ok=True)
    cap = Capture(lab, out)
    both = list(NODES)
    for node in both:
        lab.ssh(node, "drbdadm down all 2>/dev/null; rmmod drbd 2>/dev/null; "
                "wipefs -a /dev/vdb >/dev/null; true")
        lab.ssh(node, "cat > /etc/drbd.d/r0.res", input=RES, check=True)
        lab.ssh(node, "modprobe drbd", check=True)
    cap.tag = cap.versions()
    say(f"capturing as {cap.tag} into {out}")
    cap.stage("01-module-loaded")
    for node in both:
        lab.ssh(node, "drbdadm create-md --force r0", check=True)
    cap.stage("02-metadata-created")
    for node in both:
        lab.ssh(node, "drbdadm up r0", check=True)
    wait_for("r0 Connected on both", lambda: all(_cstate(lab, n) == "Connected" for n in both), 90, 1,
             lambda: str([_cstate(lab, n) for n in both]))
    cap.stage("03-connected-secondary-secondary-inconsistent")
    # Catch the short-lived "sync'ed:100.0%" /proc/drbd (no space after the colon) in the guest.
    lab.ssh("node1", "nohup sh -c 'for i in $(seq 1 50000); do cat /proc/drbd > /tmp/p; "
            "if grep -q \"sync.ed:100.0%\" /tmp/p; then cp /tmp/p /tmp/proc-100; break; fi; "
            "if grep -q ds:UpToDate/UpToDate /tmp/p; then break; fi; done' >/dev/null 2>&1 &", check=True)
    lab.ssh("node1", "drbdadm primary --force r0", check=True)
    wait_for("sync progress in /proc/drbd", lambda: "sync'ed:" in _proc(lab, "node1"), 60, 0.5,
             lambda: _proc(lab, "node1"))
    time.sleep(2)
    cap.stage("04-syncing")
    wait_for("UpToDate/UpToDate", lambda: "ds:UpToDate/UpToDate" in _proc(lab, "node1"), 600, 3,
             lambda: _proc(lab, "node1"))
    cap.stage("05-synced-primary-secondary")
    last = lab.ssh("node1", "cat /tmp/proc-100")
    if last.returncode == 0:
        base = f"proc_drbd--{cap.tag}--04b-sync-100-percent--node1"
        with open(os.path.join(out, base + ".out"), "w") as fh:
            fh.write(last.stdout)
        cap.index.append(f"{base}.out\tnode1\t04b-sync-100-percent\t0\tcat /proc/drbd (first read showing "
                         "sync'ed:100.0%, polled in a loop)")
        say("captured the sync'ed:100.0% moment of /proc/drbd")
    lab.ssh("node2", "drbdadm primary r0", check=True)
    cap.stage("06-primary-primary")
    lab.cut_link()
    wait_for("WFConnection after the link cut", lambda: all(
        _cstate(lab, n) in ("WFConnection", "NetworkFailure", "Unconnected", "Timeout", "BrokenPipe")
        for n in both), 120, 1, lambda: str([_cstate(lab, n) for n in both]))
    wait_for("WFConnection on both", lambda: all(_cstate(lab, n) == "WFConnection" for n in both), 60, 1,
             lambda: str([_cstate(lab, n) for n in both]))
    cap.stage("07-link-cut-wfconnection")
    for node in both:  # diverging writes while cut: both Primary -> split brain on reconnect
        lab.ssh(node, f"echo written-on-{node} | dd of=/dev/drbd0 bs=4k seek=10 conv=fsync 2>/dev/null",
                check=True)
    lab.restore_link()
    wait_for("StandAlone after split brain", lambda: all(_cstate(lab, n) == "StandAlone" for n in both), 120, 1,
             lambda: str([_cstate(lab, n) for n in both]))
    cap.stage("08-split-brain-standalone")
    lab.ssh("node2", "drbdadm secondary r0 && drbdadm connect --discard-my-data r0", check=True)
    lab.ssh("node1", "drbdadm connect r0", check=True)
    wait_for("resolved (UpToDate/UpToDate)", lambda: "ds:UpToDate/UpToDate" in _proc(lab, "node1"), 180, 2,
             lambda: _proc(lab, "node1"))
    cap.stage("09-split-brain-resolved-primary-secondary")
    lab.poweroff("node2")
    wait_for("WFConnection after peer power-off", lambda: _cstate(lab, "node1") == "WFConnection", 120, 1,
             lambda: _cstate(lab, "node1"))
    cap.stage("10-peer-down", nodes=("node1",))
    cap.write_index()
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write(
            f"# Real DRBD captures from the hapair QEMU lab ({cap.tag})\n\n"
            f"Recorded by `python -m lab capture` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
            f"(image {lab.state.get('image')}, TCG guests node1/node2, Debian bookworm). Verbatim tool output:\n"
            "`<tool>--<versions>--<stage>--<node>.out` (stdout) and `.err` (stderr, when any); INDEX.tsv\n"
            "gives each file's exit code and exact command. Resource r0 on /dev/vdb, dual-primary allowed,\n"
            "driven with plain drbdadm (see lab/capture.py for the .res and the stage script).\n")
    return cap.tag


def main(args) -> int:
    from lab.vm import Lab
    out = args.out or os.path.join(REPO, "tests", "fixtures", "lab")
    lab = Lab()
    own = not lab.is_up()
    started = time.monotonic()
    if own:
        lab.up()
    else:
        lab = Lab.current()
        if not all(lab.status()["nodes"][n]["running"] for n in NODES):
            raise LabError("capture needs both nodes running")
    try:
        tag = run_capture(lab, out)
    finally:
        if own and not args.keep:
            lab.down()
    say(f"capture {tag} done in {time.monotonic() - started:.0f}s -> {out}")
    return 0


