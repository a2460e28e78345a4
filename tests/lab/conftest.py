"""The session's QEMU lab: built or reused, brought up once, torn down at the end even on failure.

Skips (with the reason) when not root, when qemu/debootstrap/ssh are missing, or when HAPAIR_LAB=0.
Each session's lab runs in its own run dir (<cache>/run-pytest-<pid>), so it never touches a lab
started by hand or another session's; labs left by killed sessions are stopped first.
"""

import os
import shutil
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

TOOLS = ("qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4", "ssh", "ssh-keygen")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lab_skip_reason():
    if os.environ.get("HAPAIR_LAB") == "0":
        return "HAPAIR_LAB=0: lab tests disabled"
    if os.geteuid() != 0:
        return "the lab needs root (debootstrap builds the guest image)"
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        return f"the lab needs {', '.join(missing)} (make deps)"
    return None


@pytest.fixture(scope="session")
def lab():
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from lab.config import cache_dir
    from lab.vm import Lab

    os.makedirs(cache_dir(), exist_ok=True)  # a fresh machine: nothing built yet
    for name in os.listdir(cache_dir()):  # labs of sessions that were killed before their teardown
        owner = name[len("run-pytest-"):]
        if name.startswith("run-pytest-") and owner.isdigit() and not _alive(int(owner)):
            Lab(rundir=os.path.join(cache_dir(), name)).down()
    lab = Lab(rundir=os.path.join(cache_dir(), f"run-pytest-{os.getpid()}"))  # one per session
    started = time.monotonic()
    try:
        lab.up()
        print(f"\n[lab] up in {time.monotonic() - started:.0f}s: {lab.state.get('timings')}")
        yield lab
    finally:
        lab.down()
        assert not lab.leftovers(), "lab processes left running"
