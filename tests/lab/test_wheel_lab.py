"""hapair from its wheel alone bootstraps lab_web (issue 20's "done means").

A wheel built from a clean clone of the committed tree is installed into a fresh venv on the host
(with the lab's Salt version) and, with ``--no-deps``, into each node's Salt (/opt/salt); the
minions' synced extension modules are removed and never synced again. The lab's master is
restarted from that venv with the one config file ``python3 -m hapair.saltext master-config``
prints (``master.d/hapair.conf``: file_roots = the wheel's SLS tree, hapair's reactor), so no
path of the checkout is served: modules, states, runner, ext_pillar and SLS come from the wheel.
The pillar stays the site's own (the repo's ``pillar/``, as any site keeps its pillar). Then the
orchestration runs through that venv's ``salt-run``. Afterwards the lab's own master and the
synced modules are restored for the tests after this one.

lab_full: it builds a venv (minutes) and bootstraps lab_web once more.
"""

import base64
import glob
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import assert_complete, orchestrate, proc_drbd  # noqa: E402

pytestmark = [pytest.mark.lab, pytest.mark.lab_full]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODES = ("node1", "node2")


def _run(argv, timeout=900, **kw):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}: {proc.stdout[-1500:]} {proc.stderr[-1500:]}"
    return proc


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """(wheel path, venv bin dir): the committed tree's wheel, in a venv that holds only it and Salt."""
    from lab.config import cache_dir
    from lab.image import SALT_VERSION

    work = tmp_path_factory.mktemp("wheel")
    src = work / "clone"
    _run(["git", "clone", "-q", ROOT, str(src)])
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-deps",
          "-w", str(work / "dist"), str(src)])
    (whl,) = glob.glob(str(work / "dist" / "hapair-*.whl"))
    venv = work / "venv"
    _run(["python3", "-m", "venv", str(venv)])   # the system's Python, not the project venv's
    salt_wheels = os.path.join(cache_dir(), "wheels", f"salt-{SALT_VERSION}")
    _run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
          *(["--find-links", salt_wheels] if os.path.isdir(salt_wheels) else []), whl, f"salt=={SALT_VERSION}"],
         timeout=1800)
    return whl, str(venv / "bin")


def _minions_from_wheel(lab, whl):
    payload = base64.b64encode(open(whl, "rb").read()).decode()  # noqa: SIM115 - read once
    name = os.path.basename(whl)
    for node in NODES:
        lab.ssh(node, f"base64 -d > /tmp/{name}", input=payload, check=True, timeout=300)
        lab.ssh(node, f"set -e; /opt/salt/bin/pip install -q --no-index --no-deps --disable-pip-version-check "
                      f"/tmp/{name}; rm -f /tmp/{name}; rm -rf /var/cache/salt/minion/extmods "
                      "/var/cache/salt/minion/files; systemctl restart salt-minion", check=True, timeout=600)


def _minions_restored(lab):
    for node in NODES:
        lab.ssh(node, "/opt/salt/bin/pip uninstall -q -y hapair; systemctl restart salt-minion", timeout=600)


def _start_master(lab, bindir):
    from lab import master

    master.stop(lab.dir)
    _run([os.path.join(bindir, "salt-master"), "-c", master.conf_dir(lab.dir), "-d"], timeout=120)
    deadline = time.monotonic() + 60
    while not master.read_pid(lab.dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert master.read_pid(lab.dir), "the wheel's salt-master wrote no pidfile"


def test_lab_web_bootstraps_from_the_wheel_alone(lab, wheel_venv):
    from lab import master

    whl, bindir = wheel_venv
    times = {"reset": round(reset(lab), 1)}
    roots = _run([os.path.join(bindir, "python"), "-m", "hapair.saltext", "file-roots"]).stdout.strip()
    assert roots.startswith(os.path.dirname(bindir)) and not roots.startswith(ROOT), roots
    site = os.path.join(os.path.dirname(bindir), "site-roots")   # the site's own (empty) file root
    os.makedirs(site, exist_ok=True)
    conf = _run([os.path.join(bindir, "python"), "-m", "hapair.saltext", "master-config", "--base", site]).stdout
    include = os.path.join(master.conf_dir(lab.dir), "master.d", "hapair.conf")
    os.makedirs(os.path.dirname(include), exist_ok=True)
    with open(include, "w") as fh:
        fh.write(conf)
    try:
        _minions_from_wheel(lab, whl)
        _start_master(lab, bindir)
        lab.wait_minions(list(NODES), timeout=600)
        served = _run([os.path.join(bindir, "salt-run"), "-c", master.conf_dir(lab.dir), "--out=txt",
                       "fileserver.file_list"], timeout=300).stdout
        assert "orch/hapair/bootstrap.sls" in served and "_modules" not in served, served[-2000:]

        def salt_run(args, timeout):
            return subprocess.run([os.path.join(bindir, "salt-run"), "-c", master.conf_dir(lab.dir), *args],
                                  capture_output=True, text=True, timeout=timeout, check=False)

        code, steps, seconds, raw = orchestrate(lab, "lab_web", salt_run=salt_run)
        times["bootstrap"] = round(seconds, 1)
        crossed = assert_complete(code, steps, raw, "lab_web")
        assert crossed, "no canary crossed"
        for node in NODES:
            assert "ro:Primary/Primary" in proc_drbd(lab, node) and "ds:UpToDate/UpToDate" in proc_drbd(lab, node)
            extmods = lab.ssh(node, "ls -R /var/cache/salt/minion/extmods 2>/dev/null || true").stdout
            assert "hapair_drbd.py" not in extmods, f"{node} synced hapair's modules: {extmods}"
            where = lab.ssh(node, "/opt/salt/bin/python -c 'import hapair, os; print(os.path.dirname(hapair.__file__))'",
                            check=True).stdout.strip()
            assert where.startswith("/opt/salt/lib/"), where
        print(f"\n[lab] lab_web from the wheel {os.path.basename(whl)}: {times}")
    finally:
        os.remove(include)
        master.stop(lab.dir)
        lab.state["master"]["pid"] = master.start(lab.dir)   # lab.down() stops the master by this pid
        lab._save()
        _minions_restored(lab)
        lab.wait_minions(list(NODES), timeout=600)
        lab.sync_all()
