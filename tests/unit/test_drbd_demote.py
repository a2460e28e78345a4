"""``drbd.secondary`` waits for udev's queue first: udev probes a device that was just closed
after a write and holds it open for a moment, and a demote then fails "Device is held open by
someone" (-12; the lab's split-brain fault hit it right after ``umount /dev/drbd0``)."""

from __future__ import annotations

import os
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin", "cman"))
import fakesalt  # noqa: E402


def demote(tmp_path, udevadm_present):
    udevadm = tmp_path / "udevadm"
    if udevadm_present:
        udevadm.write_text("#!/bin/sh\n")
        udevadm.chmod(0o755)
    cmd = fakesalt.FakeCmd({(str(udevadm), "settle"): {"retcode": 1}, ("drbdadm", "secondary", "r0"): {}})
    salt = fakesalt.salt_dict(cmd, {"hapair:bin:udevadm": str(udevadm),
                                    "hapair:paths:drbd_conf": str(tmp_path / "drbd.conf"),
                                    "hapair:paths:drbd_conf_dir": str(tmp_path / "drbd.d")})
    mod = fakesalt.load("modules", "hapair_drbd", salt, opts={"id": "node1", "test": False})
    return mod.secondary("r0"), cmd.argvs(), str(udevadm)


def test_secondary_settles_udev_then_demotes_even_when_settle_times_out(tmp_path):
    out, argvs, udevadm = demote(tmp_path, udevadm_present=True)
    assert argvs == [[udevadm, "settle", "--timeout=30"], ["drbdadm", "secondary", "r0"]]
    assert out["argv"] == ["drbdadm", "secondary", "r0"]


def test_secondary_without_udevadm_only_demotes(tmp_path):
    _out, argvs, _ = demote(tmp_path, udevadm_present=False)
    assert argvs == [["drbdadm", "secondary", "r0"]]
