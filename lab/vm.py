"""Bring the two-node lab up and down, talk to it (ssh, salt, QEMU monitor) and inject faults.

Run state lives in ``<cache>/run/state.json``::

    {"image": "3f2a...", "accel": "tcg", "master": {"pid": 4242, "publish_port": 41001, "ret_port": 41002},
     "nodes": {"node1": {"pid": 4300, "ssh_port": 41003, "ports": {"repl": [41004, 41005], "repl2": [...]},
                         "monitor": ".../run/node1.mon", "argv": [...qemu argv...], ...}, "node2": {...}}}

Networks: ``mgmt`` is user-net with restrict=on (hostfwd ssh on 127.0.0.1, guestfwd of the master's
two ports to 10.0.2.100:4505/4506 through lab/relay.py); ``repl`` (eth1) and ``repl2`` (eth2) are two
back-to-back replication links, each a QEMU UDP socket netdev between 127.0.0.1 ports
(connectionless, so either node can be power-cycled and the link comes back). Power: each node's
QEMU has an external BMC (``ipmi-bmc-extern``) whose chardev connects to ``bmc_port``, a hostfwd
of the *peer's* user-net to the peer's ipmi_sim (lab/config.py BMC_VM_PORT): fence_ipmilan on
node1 against node1's own address powers node2 off.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from lab import image, master
from lab.config import (
    BMC_VM_PORT,
    DATA_DISKS,
    GUEST_PUBLISH_PORT,
    GUEST_RET_PORT,
    LAB_DIR,
    LINKS,
    MASTER_GUEST_IP,
    NODES,
    LabError,
    cache_dir,
    free_port,
    pid_alive,
    run,
    run_dir,
    say,
    wait_for,
)

SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=10",
            "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6"]


def probe_kvm(info: dict) -> bool:
    """True when this host's /dev/kvm boots the guest kernel (to the initramfs /init) within 20 s.

    The answer is cached per image in <cache>/kvm-probe-<hash>.json. LAB-NOTES: the /dev/kvm on the
    reference machines is a PVM hypervisor that cannot run the stock kernel, so this is usually False.
    """
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    cached = os.path.join(cache_dir(), f"kvm-probe-{info['kernel']}.json")
    if os.path.exists(cached):
        with open(cached) as fh:
            return bool(json.load(fh)["kvm"])
    imgdir = image.image_dir(info["hash"])
    console = os.path.join(cache_dir(), "kvm-probe.console")
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "512", "-nodefaults", "-display", "none",
         "-serial", f"file:{console}", "-kernel", os.path.join(imgdir, "vmlinuz"),
         "-initrd", os.path.join(imgdir, "initrd.img"), "-append", "console=ttyS0 panic=-1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        try:
            with open(console, errors="replace") as fh:
                if "Run /init as init process" in fh.read():
                    ok = True
                    break
        except OSError:
            pass
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    with open(cached, "w") as fh:
        json.dump({"kvm": ok}, fh)
    return ok


class Lab:
    """The running lab (or one about to be brought up). All methods are synchronous and bounded."""

    def __init__(self, rundir: str | None = None):
        self.dir = rundir or run_dir()
        self.state: dict = {}
        path = self._state_path()
        if os.path.exists(path):
            with open(path) as fh:
                self.state = json.load(fh)

    @classmethod
    def current(cls) -> Lab:
        """The lab brought up earlier; LabError when none is running."""
        lab = cls()
        if not lab.state.get("nodes"):
            raise LabError("no lab is up (run `python -m lab up`)")
        return lab

    # ----------------------------------------------------------------- state
    def _state_path(self) -> str:
        return os.path.join(self.dir, "state.json")

    def _save(self) -> None:
        tmp = self._state_path() + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.state, fh, indent=1)
        os.replace(tmp, self._state_path())

    def is_up(self) -> bool:
        return any(pid_alive(n.get("pid")) for n in self.state.get("nodes", {}).values()) or pid_alive(
            self.state.get("master", {}).get("pid"))

    @property
    def key(self) -> str:
        return os.path.join(image.image_dir(self.state["image"]), "id_ed25519")

    # ----------------------------------------------------------------- up / down
    def up(self, memory: int = 1024, disk_size: str | None = None, accel: str = "auto", wait: bool = True) -> dict:
        """Build or reuse the image, start the master and both VMs, wait for ssh + minions, sync_all.

        ``disk_size``: one size for both data disks, or ``"<vdb>,<vdc>"``; default DATA_DISKS
        (sparse files: a large disk costs nothing until written).
        """
        if self.is_up():
            raise LabError(f"a lab is already up (state {self._state_path()}); run `python -m lab down` first")
        started = time.monotonic()
        info = image.manifest() or image.build()
        timings: dict[str, float] = {}
        if accel == "auto":
            accel = "kvm" if probe_kvm(info) else "tcg"
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        relay = os.path.join(self.dir, "relay.py")
        shutil.copy(os.path.join(LAB_DIR, "relay.py"), relay)
        taken: list[int] = []
        sizes = data_disk_sizes(disk_size)

        def port(kind=socket.SOCK_STREAM) -> int:
            taken.append(free_port(kind, taken))
            return taken[-1]

        pub, ret = port(), port()
        self.state = {"image": info["hash"], "kernel": info["kernel"], "accel": accel, "memory": memory,
                      "started_at": time.time(), "master": {"publish_port": pub, "ret_port": ret}, "nodes": {}}
        link_ports = {link: {name: port(socket.SOCK_DGRAM) for name in NODES} for link in LINKS}
        bmc_ports = {name: port() for name in NODES}  # node's QEMU -> its BMC, hostfwd on the peer
        imgdir = image.image_dir(info["hash"])
        for name, spec in NODES.items():
            peer = [n for n in NODES if n != name][0]
            overlay = os.path.join(self.dir, f"{name}.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                            os.path.join(imgdir, "base.qcow2"), overlay], check=True)
            disks = []
            for dev, size in sizes.items():
                path = os.path.join(self.dir, f"{name}-{dev}.raw")
                with open(path, "wb") as fh:
                    fh.truncate(_size(size))
                disks.append(path)
            node = {"ssh_port": port(), "ports": {link: [own[name], own[peer]] for link, own in link_ports.items()},
                    "bmc_port": bmc_ports[name],
                    "monitor": os.path.join(self.dir, f"{name}.mon"), "overlay": overlay, "disks": disks,
                    "console": os.path.join(self.dir, f"{name}.console"),
                    "pidfile": os.path.join(self.dir, f"{name}.pid")}
            guestfwd = ",".join(
                f"guestfwd=tcp:{MASTER_GUEST_IP}:{gport}-cmd:{sys.executable} -S {relay} 127.0.0.1 {hport}"
                for gport, hport in ((GUEST_PUBLISH_PORT, pub), (GUEST_RET_PORT, ret)))
            cpu = ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg,thread=multi",
                                                                            "-cpu", "max"]
            node["argv"] = [
                "qemu-system-x86_64", "-name", name, *cpu, "-smp", "1", "-m", str(memory),
                "-nodefaults", "-no-user-config", "-display", "none",
                "-serial", f"file:{node['console']}", "-monitor", f"unix:{node['monitor']},server=on,wait=off",
                "-pidfile", node["pidfile"],
                "-kernel", os.path.join(imgdir, "vmlinuz"), "-initrd", os.path.join(imgdir, "initrd.img"),
                "-append", f"root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.hostname={name} quiet",
                "-drive", f"file={overlay},if=virtio,format=qcow2,discard=unmap",
                *[a for d in disks for a in ("-drive", f"file={d},if=virtio,format=raw,discard=unmap")],
                "-netdev", f"user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:{node['ssh_port']}-:22,"
                           f"hostfwd=tcp:127.0.0.1:{bmc_ports[peer]}-:{BMC_VM_PORT},{guestfwd}",
                "-device", f"virtio-net-pci,netdev=mgmt,mac={spec['mgmt_mac']}",
                *[a for link, (own, far) in node["ports"].items() for a in (
                    "-netdev", f"socket,id={link},udp=127.0.0.1:{far},localaddr=127.0.0.1:{own}",
                    "-device", f"virtio-net-pci,netdev={link},mac={spec[link + '_mac']}")],
                # this node's power, wired to the BMC its peer serves (BMC_VM_PORT); QEMU keeps
                # reconnecting while the peer is down
                "-chardev", f"socket,id=bmc,host=127.0.0.1,port={node['bmc_port']},reconnect=2",
                "-device", "ipmi-bmc-extern,id=bmc0,chardev=bmc", "-device", "isa-ipmi-kcs,bmc=bmc0",
            ]
            self.state["nodes"][name] = node
        self._save()
        cdir = master.write_config(self.dir, pub, ret)
        say(f"starting salt-master (127.0.0.1:{pub}/{ret}, config {cdir}) and 2 VMs ({accel}, {memory} MiB, "
            "data disks " + ", ".join(f"{d} {z}" for d, z in sizes.items()) + ") ...")
        for name in NODES:
            self._launch(name)
        self.state["master"]["pid"] = master.start(self.dir)
        self._save()
        timings["launch"] = time.monotonic() - started
        if wait:
            step = time.monotonic()
            self.wait_ssh(list(NODES))
            timings["boot_to_ssh"] = time.monotonic() - step
            say(f"both nodes answer ssh after {timings['boot_to_ssh']:.0f}s")
            step = time.monotonic()
            self.wait_minions(list(NODES))
            timings["minions_up"] = time.monotonic() - step
            say(f"both minions answer test.ping through the master after {timings['minions_up']:.0f}s more")
            step = time.monotonic()
            self.sync_all()
            timings["sync_all"] = time.monotonic() - step
            say(f"saltutil.sync_all on both in {timings['sync_all']:.0f}s")
        timings["total"] = time.monotonic() - started
        self.state["timings"] = {k: round(v, 1) for k, v in timings.items()}
        self._save()
        return self.state

    def _launch(self, name: str) -> int:
        node = self.state["nodes"][name]
        if os.path.exists(node["pidfile"]):
            os.unlink(node["pidfile"])
        log = open(os.path.join(self.dir, f"{name}.qemu.log"), "a")
        proc = subprocess.Popen(node["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=self.dir)
        log.close()
        node["pid"] = proc.pid
        self._save()
        time.sleep(0.3)
        if proc.poll() is not None:
            with open(os.path.join(self.dir, f"{name}.qemu.log")) as fh:
                raise LabError(f"qemu for {name} exited at once ({proc.returncode}): {fh.read()[-2000:]}")
        return proc.pid

    def down(self) -> list[str]:
        """Stop both VMs and the master by pid, check nothing of ours runs, keep the logs in last-run/."""
        notes = []
        for name, node in self.state.get("nodes", {}).items():
            if pid_alive(node.get("pid")):
                self._stop_vm(name)
                notes.append(f"{name} stopped (pid {node['pid']})")
        mpid = self.state.get("master", {}).get("pid") or master.read_pid(self.dir)
        if pid_alive(mpid):
            master.stop(self.dir, mpid)
            notes.append(f"salt-master stopped (pid {mpid})")
        left = self.leftovers()
        for pid in left:  # children (relays, master workers) that outlived their parent: ours by cmdline
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        left = self.leftovers()
        if left:
            raise LabError(f"processes still running after down: {left}")
        if os.path.isdir(self.dir):
            last = os.path.join(cache_dir(), "last-run")
            shutil.rmtree(last, ignore_errors=True)
            os.makedirs(last)
            for fname in os.listdir(self.dir):
                if fname.endswith((".console", ".log")):
                    shutil.move(os.path.join(self.dir, fname), last)
            mlog = os.path.join(master.conf_dir(self.dir), "master.log")
            if os.path.exists(mlog):
                shutil.move(mlog, os.path.join(last, "master.log"))
            shutil.rmtree(self.dir)
        self.state = {}
        return notes

    def leftovers(self) -> list[int]:
        """Pids whose command line names this run dir (like ``pgrep -f``): QEMU, relays, salt-master,
        ssh multiplexing masters."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    argv = fh.read().decode(errors="replace").split("\0")
            except OSError:
                continue
            text = " ".join(argv)
            if self.dir.rstrip("/") + "/" in text and pid_alive(int(entry)) and (
                    argv[0].endswith("qemu-system-x86_64") or "relay.py" in text or "salt-master" in text
                    or (argv[0] == "ssh" and "ControlPath=" in text)):  # a multiplexing master
                pids.append(int(entry))
        return pids

    def _stop_vm(self, name: str, timeout: float = 10) -> None:
        node = self.state["nodes"][name]
        pid = node.get("pid")
        try:
            self.close_ssh(name)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.monitor(name, "quit")
        except (OSError, LabError):
            pass
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if pid_alive(pid):
                os.kill(pid, sig)
                time.sleep(1)
        _reap(pid)

    # ----------------------------------------------------------------- talking to it
    def status(self) -> dict:
        nodes = {}
        for name, node in self.state.get("nodes", {}).items():
            nodes[name] = {"pid": node.get("pid"), "running": pid_alive(node.get("pid")),
                           "ssh": f"127.0.0.1:{node['ssh_port']}",
                           "udp": {link: own for link, (own, _far) in node.get("ports", {}).items()}}
        mpid = self.state.get("master", {}).get("pid")
        return {"up": self.is_up(), "dir": self.dir, "accel": self.state.get("accel"),
                "image": self.state.get("image"), "kernel": self.state.get("kernel"),
                "master": {"pid": mpid, "running": pid_alive(mpid),
                           "ports": [self.state.get("master", {}).get("publish_port"),
                                     self.state.get("master", {}).get("ret_port")]},
                "nodes": nodes, "timings": self.state.get("timings", {})}

    def control_path(self, name: str) -> str:
        """The ssh multiplexing socket for ``name`` (run dir; short enough for a unix socket)."""
        return os.path.join(self.dir, f"{name}.ssh")

    def ssh_argv(self, name: str) -> list[str]:
        """ssh to ``name`` through one multiplexed connection per node: a new ssh handshake costs
        2-5 s of guest CPU under TCG, a session on the open connection ~0.5 s."""
        node = self.state["nodes"][name]
        return ["ssh", *SSH_OPTS, "-o", "ControlMaster=auto", "-o", f"ControlPath={self.control_path(name)}",
                "-o", "ControlPersist=120", "-i", self.key, "-p", str(node["ssh_port"]), "root@127.0.0.1"]

    def close_ssh(self, name: str) -> None:
        """Close ``name``'s multiplexed ssh connection (before its VM stops; best effort)."""
        if os.path.exists(self.control_path(name)):
            run(["ssh", "-o", f"ControlPath={self.control_path(name)}", "-O", "exit", "lab"], timeout=10)

    def ssh(self, name: str, cmd: str, check: bool = False, timeout: float = 180,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` (a shell string) on node ``name``; CompletedProcess with text stdout/stderr."""
        try:
            proc = run([*self.ssh_argv(name), cmd], timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            raise LabError(f"ssh {name} {cmd!r}: no answer in {timeout:.0f}s")
        if check and proc.returncode != 0:
            raise LabError(f"ssh {name} {cmd!r}: exit {proc.returncode}: {proc.stderr.strip()[-1500:]}")
        return proc

    def wait_ssh(self, names: list[str], timeout: float = 240) -> None:
        pending = list(names)

        def check():
            for name in list(pending):
                if not pid_alive(self.state["nodes"][name].get("pid")):
                    raise LabError(f"{name}'s QEMU died while booting; see {self.state['nodes'][name]['console']}")
                try:
                    if self.ssh(name, "true", timeout=20).returncode == 0:
                        pending.remove(name)
                except LabError:
                    pass
            return not pending
        wait_for(f"ssh on {pending}", check, timeout, 2, lambda: f"still waiting for {pending}")

    def salt(self, target: str, fun: str, *args: str, tgt_type: str = "list", timeout: float = 300) -> dict:
        """``salt -L target fun args`` through the lab master -> {minion: return}."""
        flag = {"list": "-L", "glob": "", "compound": "-C"}[tgt_type]
        argv = [a for a in (flag, target, fun, *args) if a]
        return master.salt_json(self.dir, ["-t", str(int(timeout)), *argv], timeout=timeout + 30)

    def salt_cli(self, tool: str, args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess:
        return master.cli(self.dir, tool, args, timeout=timeout)

    def wait_minions(self, names: list[str], timeout: float = 240) -> None:
        last: dict = {}
        answered: set = set()

        def check():  # a minion counts once it answered any ping (TCG under load: replies take 10-30 s)
            nonlocal last
            pending = [n for n in names if n not in answered]
            try:
                last = self.salt(",".join(pending), "test.ping", timeout=45)
            except (LabError, subprocess.TimeoutExpired) as exc:
                last = {"error": str(exc)[-300:]}
            answered.update(n for n in pending if last.get(n) is True)
            return answered >= set(names)
        wait_for(f"minions {names} to answer test.ping", check, timeout, 2,
                 lambda: f"answered {sorted(answered)}, last reply {last!r}")

    def sync_all(self, names: list[str] | None = None) -> dict:
        """``saltutil.sync_all`` on ``names``; a node whose first sync raised is synced once more (a
        freshly booted Salt 3008 minion under TCG load once failed its first with ``KeyError:
        'localfs_key.fetch'`` inside Salt's own key cache)."""
        names = names or list(NODES)
        out = self.salt(",".join(names), "saltutil.sync_all", timeout=180)
        missing = [n for n in names if not isinstance(out.get(n), dict)]
        if missing:
            say(f"saltutil.sync_all failed on {missing}, once more: {str(out)[-300:]}")
            out.update(self.salt(",".join(missing), "saltutil.sync_all", timeout=180))
            missing = [n for n in names if not isinstance(out.get(n), dict)]
        if missing:
            raise LabError(f"saltutil.sync_all failed on {missing}: {out}")
        return out

    def monitor(self, name: str, command: str, timeout: float = 10) -> str:
        """Send one human-monitor command to node ``name``'s QEMU; return its text reply."""
        path = self.state["nodes"][name]["monitor"]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            try:
                sock.connect(path)
            except OSError as exc:
                raise LabError(f"{name}'s QEMU monitor {path}: {exc}")
            buf = _read_until(sock, b"(qemu) ")
            sock.sendall(command.encode() + b"\n")
            if command == "quit":
                return ""
            buf = _read_until(sock, b"(qemu) ")
        text = buf.decode(errors="replace").replace("\r", "")
        lines = [ln for ln in text.split("\n") if ln.strip() and not ln.startswith("(qemu)")
                 and command not in ln and "\x1b" not in ln]
        return "\n".join(lines)

    # ----------------------------------------------------------------- faults
    def cut_link(self, names: list[str] | None = None, link: str = "repl") -> None:
        """Pull a replication cable: ``set_link <link> off`` on both nodes (or on ``names``)."""
        self._set_link(names, link, "off")

    def restore_link(self, names: list[str] | None = None, link: str = "repl") -> None:
        """Plug a replication cable back in (``set_link <link> on``)."""
        self._set_link(names, link, "on")

    def _set_link(self, names: list[str] | None, link: str, state: str) -> None:
        if link not in LINKS:
            raise LabError(f"no link {link!r} in the lab (links: {', '.join(LINKS)})")
        for name in names or list(NODES):
            self.monitor(name, f"set_link {link} {state}")

    def poweroff(self, name: str) -> None:
        """Power loss: QEMU quits at once (no guest shutdown). The overlay and data disks stay."""
        self._stop_vm(name, timeout=5)

    def reset(self, name: str) -> None:
        """Hard reset (``system_reset``): the guest reboots without shutting down."""
        self.close_ssh(name)
        self.monitor(name, "system_reset")

    def start(self, name: str, wait: bool = True) -> None:
        """Boot a powered-off node again on the same overlay, disks and ports."""
        if pid_alive(self.state["nodes"][name].get("pid")):
            raise LabError(f"{name} is running")
        self._launch(name)
        if wait:
            self.wait_ssh([name])
            self.wait_minions([name])

    def restart(self, name: str, wait: bool = True) -> None:
        """Power-cycle a node: poweroff, then start (and wait for ssh and its minion)."""
        self.poweroff(name)
        self.start(name, wait=wait)


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    buf = b""
    while marker not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf


def _reap(pid: int | None) -> None:
    if not pid:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def data_disk_sizes(spec: str | None) -> dict[str, str]:
    """{"vdb": size, "vdc": size} from ``"SIZE"`` (both) or ``"SIZE_VDB,SIZE_VDC"``; None: DATA_DISKS."""
    if not spec:
        return dict(DATA_DISKS)
    parts = [p.strip() for p in spec.split(",")]
    if len(parts) == 1:
        parts *= len(DATA_DISKS)
    if len(parts) != len(DATA_DISKS) or not all(parts):
        raise LabError(f"disk size {spec!r}: give one size or one per data disk ({', '.join(DATA_DISKS)})")
    for part in parts:
        _size(part)
    return dict(zip(DATA_DISKS, parts, strict=True))


def _size(text: str) -> int:
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    text = text.strip().upper()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def prune_images(keep: str) -> list[str]:
    """Remove cached images other than ``keep`` and any a running lab uses; return what was removed."""
    used = {keep}
    for name in os.listdir(cache_dir()):
        state = os.path.join(cache_dir(), name, "state.json")
        if name.startswith("run") and os.path.exists(state):
            with open(state) as fh:
                used.add(json.load(fh).get("image"))
    removed = []
    images = os.path.join(cache_dir(), "images")
    for name in os.listdir(images) if os.path.isdir(images) else []:
        if name not in used and not name.endswith(".build"):
            shutil.rmtree(os.path.join(images, name), ignore_errors=True)
            removed.append(name)
    return removed
