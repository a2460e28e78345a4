"""``python -m lab <command>``: build, up, down, status, ssh, salt, salt-run, faults, capture, demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from lab.config import LINKS, NODES, LabError, say


def _lab():
    from lab.vm import Lab
    return Lab.current()


def cmd_build(args) -> int:
    from lab import image
    from lab.vm import prune_images
    info = image.build(force=args.force)
    for old in prune_images(info["hash"]):
        say(f"removed the outdated image {old}")
    print(json.dumps(info, indent=1))
    return 0


def cmd_up(args) -> int:
    from lab.vm import Lab
    started = time.monotonic()
    lab = Lab()
    try:
        lab.up(memory=args.memory, disk_size=args.disk_size, accel=args.accel, wait=not args.no_wait)
    except BaseException:
        say("up failed: tearing down what was started")
        lab.down()
        raise
    say(f"lab up in {time.monotonic() - started:.0f}s; `python -m lab status`, `python -m lab ssh node1`, "
        "`python -m lab down`")
    return 0


def cmd_down(args) -> int:
    from lab.vm import Lab
    lab = Lab()
    notes = lab.down()
    for note in notes:
        say(note)
    say("lab down: nothing of it is running")
    return 0


def cmd_status(args) -> int:
    from lab.vm import Lab
    status = Lab().status()
    if args.json:
        print(json.dumps(status, indent=1))
        return 0 if status["up"] else 3
    if not status["up"]:
        print("lab: down")
        return 3
    print(f"lab: up ({status['accel']}, image {status['image']}, kernel {status['kernel']}, dir {status['dir']})")
    m = status["master"]
    print(f"  salt-master  pid {m['pid']} {'running' if m['running'] else 'STOPPED'}  ports {m['ports']}")
    for name, node in status["nodes"].items():
        print(f"  {name:<12} pid {node['pid']} {'running' if node['running'] else 'STOPPED'}  ssh {node['ssh']}"
              f"  repl udp {node['repl_udp']}")
    return 0


def cmd_ssh(args) -> int:
    lab = _lab()
    argv = lab.ssh_argv(args.node)
    if args.command:
        argv.append(" ".join(args.command))
    elif sys.stdin.isatty():
        argv.insert(1, "-t")
    os.execvp(argv[0], argv)
    return 127


def cmd_salt(args, tool: str) -> int:
    lab = _lab()
    from lab import master
    from lab.config import venv_bin
    argv = [venv_bin(tool), "-c", master.conf_dir(lab.dir), *args.args]
    os.execvp(argv[0], argv)
    return 127


def cmd_fault(args) -> int:
    lab = _lab()
    if args.cmd in ("cut-link", "restore-link"):
        nodes = [args.node] if args.node else None
        (lab.cut_link if args.cmd == "cut-link" else lab.restore_link)(nodes, link=args.link)
    else:
        if not args.node:
            raise LabError(f"{args.cmd} needs a node ({', '.join(NODES)})")
        getattr(lab, args.cmd.replace("-", "_"))(args.node)
    say(f"{args.cmd} {args.node or 'both'}: done")
    return 0


def cmd_capture(args) -> int:
    from lab import capture
    return capture.main(args)


def cmd_demo(args) -> int:
    from lab import demo
    return demo.main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("build", help="build (or reuse) the guest image")
    p.add_argument("--force", action="store_true", help="rebuild even when cached")
    p = sub.add_parser("up", help="boot both VMs and the salt-master")
    p.add_argument("--memory", type=int, default=1024, help="MiB per VM (default 1024)")
    p.add_argument("--disk-size", default=None,
                   help="both data disks' size, or VDB,VDC (default: vdb 256M, vdc 3G)")
    p.add_argument("--accel", choices=["auto", "tcg", "kvm"], default="auto")
    p.add_argument("--no-wait", action="store_true", help="do not wait for ssh and minions")
    sub.add_parser("down", help="stop everything the lab started")
    p = sub.add_parser("status", help="what runs, where")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("ssh", help="ssh NODE [command...]")
    p.add_argument("node", choices=list(NODES))
    p.add_argument("command", nargs=argparse.REMAINDER)
    for tool in ("salt", "salt-run", "salt-key"):
        p = sub.add_parser(tool, help=f"the host's {tool} with the lab master config", add_help=False)
        p.add_argument("args", nargs=argparse.REMAINDER)
    for fault, text in (("cut-link", "set_link LINK off (both nodes unless NODE; LINK repl unless --link)"),
                        ("restore-link", "set_link LINK on"), ("poweroff", "power loss of NODE"),
                        ("reset", "hard reset of NODE"), ("restart", "power-cycle NODE and wait for it"),
                        ("start", "boot a powered-off NODE")):
        p = sub.add_parser(fault, help=text)
        p.add_argument("node", nargs="?", choices=list(NODES))
        if fault.endswith("-link"):
            p.add_argument("--link", choices=list(LINKS), default="repl", help="which replication link (default repl)")
    p = sub.add_parser("capture", help="record real DRBD outputs at each stage into tests/fixtures/lab")
    p.add_argument("--out", default=None, help="output dir (default tests/fixtures/lab)")
    p.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    p = sub.add_parser("demo", help="orchestrated seed-000 bootstrap (lab_web) through the master, status table, tear down")
    p.add_argument("--keep", action="store_true", help="leave the lab running afterwards")
    p.add_argument("--topology", default="lab_web")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("salt", "salt-run", "salt-key"):  # pass every option through untouched
        args = argparse.Namespace(cmd=argv[0], args=argv[1:])
    else:
        args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            return cmd_build(args)
        if args.cmd == "up":
            return cmd_up(args)
        if args.cmd == "down":
            return cmd_down(args)
        if args.cmd == "status":
            return cmd_status(args)
        if args.cmd == "ssh":
            return cmd_ssh(args)
        if args.cmd in ("salt", "salt-run", "salt-key"):
            return cmd_salt(args, args.cmd)
        if args.cmd == "capture":
            return cmd_capture(args)
        if args.cmd == "demo":
            return cmd_demo(args)
        return cmd_fault(args)
    except LabError as exc:
        print(f"lab {args.cmd}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lab {args.cmd}: interrupted", file=sys.stderr)
        return 130
