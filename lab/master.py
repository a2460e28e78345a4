"""The lab's salt-master: a real daemon on the host bound to 127.0.0.1, own root under run/salt.

file_roots = ``run/salt/state-overlay`` (empty; a highstate test drops a ``top.sls`` there), the
repo's ``salt/`` plus a small folder of symlinks to the extension folders
(_modules _states _grains _runners _beacons _utils; SALT-NOTES: serving the repo root makes
sync_all slow), pillar_roots = ``run/salt/pillar-overlay`` (empty; a bench or test drops a changed
copy of a pillar file there to shadow the repo's for one scenario) then the repo's ``pillar/``; ``reactor:`` from ``salt/hapair/reactor/reactor.yaml``
(a standard master ``reactor:`` list) when that file exists.
"""

from __future__ import annotations

import json
import os
import signal
import time

import yaml

from lab.config import REPO, LabError, pid_alive, run, venv_bin, wait_for

EXT_DIRS = ("_modules", "_states", "_grains", "_runners", "_beacons", "_utils")


def conf_dir(rundir: str) -> str:
    return os.path.join(rundir, "salt")


def pillar_overlay(rundir: str) -> str:
    """The pillar root searched before the repo's: ``<overlay>/hapair/x.sls`` shadows ``pillar/hapair/x.sls``."""
    return os.path.join(conf_dir(rundir), "pillar-overlay")


def state_overlay(rundir: str) -> str:
    """The file root searched before the repo's ``salt/``: a test drops a ``top.sls`` here for a highstate."""
    return os.path.join(conf_dir(rundir), "state-overlay")


def write_config(rundir: str, publish_port: int, ret_port: int) -> str:
    """Write run/salt/master (and the ext symlink folder); return the config dir for ``-c``."""
    cdir = conf_dir(rundir)
    ext = os.path.join(cdir, "ext")
    os.makedirs(ext, exist_ok=True)
    os.makedirs(pillar_overlay(rundir), exist_ok=True)
    os.makedirs(state_overlay(rundir), exist_ok=True)
    for name in EXT_DIRS:
        link = os.path.join(ext, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(REPO, name), link)
    config = {
        "id": "lab-master",
        "user": "root",
        "root_dir": cdir,  # salt prefixes other paths with root_dir unless already under it
        "pki_dir": os.path.join(cdir, "pki"),
        "cachedir": os.path.join(cdir, "cache"),
        "sock_dir": os.path.join(cdir, "sock"),
        "pidfile": os.path.join(cdir, "master.pid"),
        "log_file": os.path.join(cdir, "master.log"),
        "key_logfile": os.path.join(cdir, "key.log"),
        "log_level_logfile": "info",
        "interface": "127.0.0.1",
        "ipv6": False,
        "publish_port": publish_port,
        "ret_port": ret_port,
        "auto_accept": True,
        "worker_threads": 3,
        "timeout": 60,
        "gather_job_timeout": 30,
        "fileserver_list_cache_time": 20,
        "file_roots": {"base": [state_overlay(rundir), os.path.join(REPO, "salt"), ext]},
        "pillar_roots": {"base": [pillar_overlay(rundir), os.path.join(REPO, "pillar")]},
        "enable_fqdns_grains": False,
        # generated secrets (heartbeat authkeys without a pillar key): hapair's ext_pillar, on the master
        "ext_pillar": [{"hapair_secrets": {}}],
    }
    reactor = os.path.join(REPO, "salt", "hapair", "reactor", "reactor.yaml")
    if os.path.exists(reactor):
        with open(reactor) as fh:
            config["reactor"] = yaml.safe_load(fh) or []
    with open(os.path.join(cdir, "master"), "w") as fh:
        yaml.safe_dump(config, fh, default_flow_style=False)
    return cdir


def read_pid(rundir: str) -> int | None:
    try:
        with open(os.path.join(conf_dir(rundir), "master.pid")) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def start(rundir: str) -> int:
    """Start ``salt-master -d`` with the lab config; return its pid."""
    cdir = conf_dir(rundir)
    proc = run([venv_bin("salt-master"), "-c", cdir, "-d"])
    if proc.returncode != 0:
        raise LabError(f"salt-master failed to start: {proc.stderr[-2000:]}")
    pid = wait_for("salt-master pidfile", lambda: read_pid(rundir), 30, 0.2)
    return int(pid)


def stop(rundir: str, pid: int | None = None) -> None:
    """SIGTERM the master by pid (it stops its own children); SIGKILL after 15 s."""
    pid = pid or read_pid(rundir)
    if not pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def cli(rundir: str, tool: str, args: list[str], timeout: float | None = None):
    """Run a host Salt CLI (``salt`` or ``salt-run``) with the lab's config; CompletedProcess."""
    return run([venv_bin(tool), "-c", conf_dir(rundir), *args], timeout=timeout)


def salt_json(rundir: str, args: list[str], timeout: float = 300) -> dict:
    """``salt --out=json --static ARGS`` -> the parsed dict (raises LabError if not JSON)."""
    proc = cli(rundir, "salt", ["--out=json", "--static", *args], timeout=timeout)
    try:
        return json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        raise LabError(f"salt {' '.join(args)}: exit {proc.returncode}, not JSON: "
                       f"{proc.stdout[-1500:]} {proc.stderr[-1500:]}")
