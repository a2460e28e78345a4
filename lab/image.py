"""``lab build``: the guest image (Debian bookworm + DRBD 8.4 kernel + drbd-utils + Salt in /opt/salt).

Recipe (everything in this file is hashed; change it and the image is rebuilt):
debootstrap --variant=minbase with PACKAGES (debs cached in <cache>/apt-cache), guest config files
(GUEST_FILES), Salt SALT_VERSION pip-installed offline into /opt/salt from wheels built on the host,
an ssh key baked in, kernel + initrd copied out for direct boot, unused kernel modules pruned, then
``mkfs.ext4 -d`` and ``qemu-img convert -O qcow2`` (no loop mounts). Result in
<cache>/images/<hash>/ with manifest.json, e.g.
``{"hash": "3f2a...", "kernel": "6.1.0-50-amd64", "drbd_module": "8.4.11", "drbd_utils": "9.22.0", ...}``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sys
import time

from lab.config import (
    BMC_LAN_PORT,
    BMC_PASSWORD,
    BMC_USER,
    BMC_VM_PORT,
    GUEST_PUBLISH_PORT,
    GUEST_RET_PORT,
    LAB_DIR,
    LINKS,
    MASTER_GUEST_IP,
    NODES,
    LabError,
    cache_dir,
    run,
    say,
)

SUITE = "bookworm"
MIRROR = os.environ.get("HAPAIR_LAB_MIRROR", "http://deb.debian.org/debian")
SALT_VERSION = "3008.3"
IMAGE_SIZE = "3G"
PACKAGES = [
    "linux-image-amd64", "drbd-utils", "ocfs2-tools", "gfs2-utils", "lvm2", "kmod", "systemd-sysv",
    "udev", "dbus", "openssh-server", "iproute2", "python3", "python3-venv", "procps", "inetutils-ping",
    "e2fsprogs", "corosync", "dlm-controld", "nfs-kernel-server",
    # seed 002 (heartbeat v1 + Apache) and seed 003 (Btrfs + LXC); heartbeat takes inetutils-ping
    # (its first alternative, which debootstrap resolves to), so that is the ping of the image
    "heartbeat", "apache2", "rsync", "curl", "btrfs-progs", "lxc", "busybox-static",
    # seed 001's unison between the nodes and seeds 000/003's partitions (hapair_disk: parted, wipefs)
    "unison", "parted",
    # seed 004's fencing: fence_ipmilan (+ ipmitool it drives) against ipmi_sim, the peer's BMC;
    # python3-cryptography's virtual cffi-backend-api dependency, which debootstrap cannot resolve
    "fence-agents", "ipmitool", "openipmi", "python3-cffi-backend",
]
# Services the packages enable that the lab starts itself (or never): faster, quieter boots.
DISABLE = [
    "corosync", "dlm", "nfs-server", "rpcbind", "rpcbind.socket", "nfs-blkmap", "o2cb", "ocfs2", "drbd",
    "lvm2-monitor", "e2scrub_reap", "e2scrub_all.timer", "fstrim.timer", "apt-daily.timer",
    "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "systemd-networkd-wait-online",
    "heartbeat", "lxc", "lxc-net", "lxcfs", "openipmi", "ipmievd",
]
# Kernel module trees no lab VM uses (keeps the image small).
PRUNE_MODULES = [
    "drivers/gpu", "drivers/net/wireless", "drivers/media", "drivers/infiniband", "drivers/staging",
    "sound", "drivers/bluetooth", "drivers/net/ethernet", "drivers/usb", "drivers/hid", "drivers/iio",
    "drivers/isdn", "drivers/input/touchscreen", "drivers/scsi/qla2xxx", "drivers/scsi/lpfc",
    "drivers/net/can", "net/bluetooth", "net/wireless", "net/mac80211",
]


def _repl_network(node: str, link: str) -> str:
    spec = NODES[node]
    return (f"[Match]\nMACAddress={spec[link + '_mac']}\n\n[Network]\nAddress={spec[link + '_address']}/24\n"
            "LinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n"
            "IgnoreCarrierLoss=yes\n")


# ipmi_sim as the peer's BMC (see BMC_VM_PORT): one BMC at 0x20 with a LAN channel (IPMI 1.5 and
# 2.0/lanplus) and the QEMU "VM" serial codec, so chassis power off reaches the peer's QEMU.
BMC_LAN_CONF = f"""name "peer-bmc"
set_working_mc 0x20
  startlan 1
    addr 0.0.0.0 {BMC_LAN_PORT}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 0.0.0.0 {BMC_VM_PORT} codec VM
  startnow false
  user 2 true "{BMC_USER}" "{BMC_PASSWORD}" admin 10 none md2 md5 straight
"""
BMC_EMU = ("mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n"
           "sel_enable 0x20 1000 0x0a\nmc_enable 0x20\n")

GUEST_FILES = {
    "etc/fstab": "/dev/vda / ext4 rw,errors=remount-ro 0 1\n",
    "etc/hosts": "127.0.0.1 localhost\n" + "".join(
        f"{spec['repl_address']} {name}\n" for name, spec in NODES.items()),
    "etc/resolv.conf": "# the lab has no DNS: nothing leaves the host's loopback\n",
    "etc/systemd/network/10-mgmt.network": "[Match]\nMACAddress=" + " ".join(
        spec["mgmt_mac"] for spec in NODES.values()) + "\n\n[Network]\nDHCP=ipv4\n"
        "LinkLocalAddressing=no\nIPv6AcceptRA=no\n\n[DHCPv4]\nUseDNS=no\nUseDomains=no\n",
    **{f"etc/systemd/network/{20 + i}-{link}-{name}.network": _repl_network(name, link)
       for i, link in enumerate(LINKS) for name in NODES},
    "etc/ssh/sshd_config.d/lab.conf": "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
        "UseDNS no\n",
    "etc/salt/minion.d/lab.conf": (
        f"master: {MASTER_GUEST_IP}\nmaster_port: {GUEST_RET_PORT}\npublish_port: {GUEST_PUBLISH_PORT}\n"
        "ipv6: false\nacceptance_wait_time: 1\nrandom_startup_delay: 0\nrandom_reauth_delay: 1\n"
        "recon_default: 1000\nrecon_max: 5000\nrecon_randomize: false\nenable_fqdns_grains: false\n"
        "master_tries: -1\nauth_tries: 20\nlog_level_logfile: info\n"
        # TCG: forking a process per job costs ~20 s; threads answer in ~1 s (LAB-NOTES timings).
        "multiprocessing: false\n"),
    # Small initrd (MODULES=most makes 39 MB, slow to unpack under TCG).
    "etc/initramfs-tools/conf.d/lab.conf": "MODULES=list\nCOMPRESS=gzip\n",
    "etc/initramfs-tools/modules": "virtio_pci\nvirtio_blk\next4\n",
    "etc/systemd/system/salt-minion.service": (
        "[Unit]\nDescription=Salt minion (hapair lab)\nAfter=network.target\n\n[Service]\n"
        "ExecStartPre=/bin/sh -c 'echo \"id: %H\" > /etc/salt/minion.d/id.conf'\n"
        # keys made on the host at build time: RSA key generation under TCG takes ~20 s
        "ExecStartPre=/bin/sh -c 'if [ ! -e /etc/salt/pki/minion/minion.pem ] && [ -d /etc/salt/lab-keys/%H ];"
        " then mkdir -p -m 700 /etc/salt/pki/minion && cp -p /etc/salt/lab-keys/%H/minion.pem"
        " /etc/salt/lab-keys/%H/minion.pub /etc/salt/pki/minion/; fi'\n"
        "ExecStart=/opt/salt/bin/salt-minion\nKillMode=process\nRestart=on-failure\nRestartSec=2\n\n"
        "[Install]\nWantedBy=multi-user.target\n"),
    "etc/hapair-lab/bmc/lan.conf": BMC_LAN_CONF,
    "etc/hapair-lab/bmc/peer.emu": BMC_EMU,
    "etc/systemd/system/hapair-lab-bmc.service": (
        "[Unit]\nDescription=ipmi_sim: the peer VM's BMC (hapair lab)\nAfter=network.target\n\n[Service]\n"
        "RuntimeDirectory=hapair-lab-bmc\n"
        "ExecStart=/usr/bin/ipmi_sim -n -c /etc/hapair-lab/bmc/lan.conf -f /etc/hapair-lab/bmc/peer.emu"
        " -s /run/hapair-lab-bmc\nRestart=on-failure\nRestartSec=2\n\n"
        "[Install]\nWantedBy=multi-user.target\n"),
}


def recipe_hash() -> str:
    """sha256 (16 hex) of the files that define the image (this file and lab/config.py)."""
    digest = hashlib.sha256()
    for name in ("image.py", "config.py"):
        with open(os.path.join(LAB_DIR, name), "rb") as fh:
            digest.update(name.encode() + b"\0" + fh.read())
    return digest.hexdigest()[:16]


def image_dir(digest: str | None = None) -> str:
    return os.path.join(cache_dir(), "images", digest or recipe_hash())


def manifest(digest: str | None = None) -> dict | None:
    """The built image's manifest, or None when the current recipe has no image yet."""
    path = os.path.join(image_dir(digest), "manifest.json")
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise LabError(f"{what} needs root (debootstrap and chroot); run it as root, e.g. `sudo make lab-build`")


def _need_tools(*names: str) -> None:
    missing = [n for n in names if not shutil.which(n)]
    if missing:
        raise LabError("missing tools: " + ", ".join(missing) +
                       " (apt-get install qemu-system-x86 qemu-utils debootstrap e2fsprogs openssh-client,"
                       " or `make deps`)")


def _check(argv: list[str], what: str, **kwargs) -> str:
    proc = run(argv, **kwargs)
    if proc.returncode != 0:
        tail = "\n".join(((proc.stdout or "") + (proc.stderr or "")).splitlines()[-25:])
        raise LabError(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}")
    return proc.stdout or ""


def _minion_keys(keydir: str) -> None:
    """minion.pem (PKCS#1) + minion.pub (SubjectPublicKeyInfo), as salt-minion writes them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    for fname, data in (("minion.pem", pem), ("minion.pub", pub)):
        path = os.path.join(keydir, fname)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o400), "wb") as fh:
            fh.write(data)


def build_wheels() -> str:
    """Wheels for Salt and its dependencies, built once on the host (the chroot cannot reach PyPI)."""
    dest = os.path.join(cache_dir(), "wheels", f"salt-{SALT_VERSION}")
    if glob.glob(os.path.join(dest, f"salt-{SALT_VERSION}-*.whl")):
        return dest
    if sys.version_info[:2] != (3, 11):
        raise LabError("the guest runs bookworm's Python 3.11: build the lab from a Python 3.11 venv "
                       f"(this is {sys.version.split()[0]})")
    os.makedirs(dest, exist_ok=True)
    say(f"building wheels for salt=={SALT_VERSION} on the host ...")
    _check([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
            f"salt=={SALT_VERSION}", "-w", dest], "pip wheel")
    return dest


def build(force: bool = False) -> dict:
    """Build the image for the current recipe unless it is cached; return its manifest."""
    digest = recipe_hash()
    existing = manifest(digest)
    if existing and not force:
        say(f"image {digest} is cached ({image_dir(digest)})")
        return existing
    _need_root("lab build")
    _need_tools("debootstrap", "mkfs.ext4", "qemu-img", "ssh-keygen", "chroot")
    started = time.monotonic()
    wheels = build_wheels()
    out = image_dir(digest)
    work = out + ".build"
    shutil.rmtree(work, ignore_errors=True)
    root = os.path.join(work, "root")
    os.makedirs(root)
    apt_cache = os.path.join(cache_dir(), "apt-cache")
    os.makedirs(apt_cache, exist_ok=True)

    step = time.monotonic()
    say(f"debootstrap {SUITE} minbase + {len(PACKAGES)} packages (apt cache {apt_cache}) ...")
    _check(["debootstrap", "--variant=minbase", f"--cache-dir={apt_cache}", "--include=" + ",".join(PACKAGES),
            SUITE, root, MIRROR], "debootstrap")
    say(f"debootstrap done in {time.monotonic() - step:.0f}s")

    step = time.monotonic()
    for rel, content in GUEST_FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.islink(path):
            os.unlink(path)
        with open(path, "w") as fh:
            fh.write(content)
    for rel in ("etc/hostname",):
        if os.path.exists(os.path.join(root, rel)):
            os.unlink(os.path.join(root, rel))
    _check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hapair-lab", "-f",
            os.path.join(work, "id_ed25519")], "ssh-keygen")
    os.makedirs(os.path.join(root, "root/.ssh"), mode=0o700, exist_ok=True)
    shutil.copy(os.path.join(work, "id_ed25519.pub"), os.path.join(root, "root/.ssh/authorized_keys"))
    os.chmod(os.path.join(root, "root/.ssh/authorized_keys"), 0o600)
    _check(["chroot", root, "systemctl", "enable", "systemd-networkd", "salt-minion", "hapair-lab-bmc"],
           "systemctl enable")
    for unit in DISABLE:
        run(["chroot", root, "systemctl", "disable", unit])
    run(["chroot", root, "systemctl", "mask", "systemd-networkd-wait-online.service"])

    for name in NODES:
        keydir = os.path.join(root, "etc/salt/lab-keys", name)
        os.makedirs(keydir, mode=0o700)
        _minion_keys(keydir)

    say("installing Salt offline into /opt/salt ...")
    guest_wheels = os.path.join(root, "tmp/wheels")
    shutil.copytree(wheels, guest_wheels)
    _check(["chroot", root, "python3", "-m", "venv", "/opt/salt"], "venv")
    _check(["chroot", root, "/opt/salt/bin/pip", "install", "-q", "--no-index", "--disable-pip-version-check",
            "--find-links", "/tmp/wheels", f"salt=={SALT_VERSION}"], "pip install salt (offline)",
           env={**os.environ, "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull})
    shutil.rmtree(guest_wheels)
    for tool in ("salt-call", "salt-minion"):
        os.symlink(f"/opt/salt/bin/{tool}", os.path.join(root, "usr/local/bin", tool))
    say(f"configured + Salt installed in {time.monotonic() - step:.0f}s")

    kernels = sorted(glob.glob(os.path.join(root, "boot/vmlinuz-*")))
    if not kernels:
        raise LabError("no kernel in the guest's /boot (linux-image-amd64 missing?)")
    kver = os.path.basename(kernels[-1])[len("vmlinuz-"):]
    _check(["chroot", root, "update-initramfs", "-u", "-k", kver], "update-initramfs")
    shutil.copy(kernels[-1], os.path.join(work, "vmlinuz"))
    shutil.copy(os.path.join(root, f"boot/initrd.img-{kver}"), os.path.join(work, "initrd.img"))
    drbd_ko = glob.glob(os.path.join(root, f"lib/modules/{kver}/kernel/drivers/block/drbd/drbd.ko*"))
    drbd_version = ""
    if drbd_ko:
        drbd_version = _check(["chroot", root, "modinfo", "-F", "version", drbd_ko[0][len(root):]],
                              "modinfo drbd").strip()
    utils_version = _check(["chroot", root, "dpkg-query", "-W", "-f", "${Version}", "drbd-utils"],
                           "dpkg-query").strip()
    for rel in PRUNE_MODULES:
        shutil.rmtree(os.path.join(root, f"lib/modules/{kver}/kernel", rel), ignore_errors=True)
    run(["chroot", root, "depmod", "-a", kver])
    for rel in ("usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "var/cache/apt/archives",
                "var/lib/apt/lists"):
        shutil.rmtree(os.path.join(root, rel), ignore_errors=True)
    os.makedirs(os.path.join(root, "var/cache/apt/archives/partial"), exist_ok=True)
    os.makedirs(os.path.join(root, "var/lib/apt/lists/partial"), exist_ok=True)
    for boot in glob.glob(os.path.join(root, "boot/initrd.img-*")):
        os.unlink(boot)  # copied out; direct kernel boot

    step = time.monotonic()
    say(f"mkfs.ext4 -d ({IMAGE_SIZE}) + qemu-img convert ...")
    raw = os.path.join(work, "base.raw")
    _check(["mkfs.ext4", "-q", "-F", "-L", "hapair-root", "-d", root, raw, IMAGE_SIZE], "mkfs.ext4 -d")
    _check(["qemu-img", "convert", "-O", "qcow2", raw, os.path.join(work, "base.qcow2")], "qemu-img convert")
    os.unlink(raw)
    shutil.rmtree(root)
    info = {
        "hash": digest, "suite": SUITE, "kernel": kver, "drbd_module": drbd_version,
        "drbd_utils": utils_version.split("-")[0], "salt": SALT_VERSION, "packages": PACKAGES,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 1),
        "qcow2_bytes": os.path.getsize(os.path.join(work, "base.qcow2")),
    }
    with open(os.path.join(work, "manifest.json"), "w") as fh:
        json.dump(info, fh, indent=1)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(work, out)
    say(f"image {digest} built in {info['build_seconds']}s: kernel {kver}, drbd {drbd_version}, "
        f"drbd-utils {info['drbd_utils']}, {info['qcow2_bytes'] // 2**20} MiB qcow2")
    return info
