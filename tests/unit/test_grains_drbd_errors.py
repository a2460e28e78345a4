"""The drbd grains report why they are empty: at warning, once per cause, and still never raise."""

import importlib.util
import logging
import os

import pytest
from conftest import ROOT

BROKEN = "version: 8.4.11 (api:1/proto:86-101)\n 0: cs:Connected ro:Primary/Secondary\n garbage ::\n"


@pytest.fixture
def grains():
    spec = importlib.util.spec_from_file_location("hapair_test_grains_errors", os.path.join(ROOT, "_grains", "drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _warnings(caplog):
    return [r for r in caplog.records if r.levelno == logging.WARNING and "drbd grains" in r.getMessage()]


def test_a_parse_error_is_logged_at_warning_once_per_cause(grains, tmp_path, caplog):
    proc = tmp_path / "proc_drbd"
    proc.write_text(BROKEN)
    grains.__opts__ = {"hapair": {"paths": {"proc_drbd": str(proc), "drbd_conf_dir": str(tmp_path)}}}
    with caplog.at_level(logging.DEBUG):
        assert grains.drbd() == {}
        assert grains.drbd() == {}
    warned = _warnings(caplog)
    assert len(warned) == 1, [r.getMessage() for r in warned]
    assert "ParseError" in warned[0].getMessage() and "garbage" in warned[0].getMessage()
    proc.write_text(BROKEN.replace("garbage", "rubbish"))  # another cause: its own warning
    with caplog.at_level(logging.DEBUG):
        assert grains.drbd() == {}
    assert len(_warnings(caplog)) == 2


def test_a_failing_drbdsetup_is_logged_at_warning(grains, tmp_path, caplog):
    proc = tmp_path / "proc_drbd"
    proc.write_text("version: 9.2.12 (api:2/proto:86-122)\n")
    drbdsetup = tmp_path / "drbdsetup"
    drbdsetup.write_text("#!/bin/sh\necho 'drbdsetup: cannot talk to the kernel' >&2\nexit 20\n")
    drbdsetup.chmod(0o755)
    grains.__opts__ = {"hapair": {"paths": {"proc_drbd": str(proc)}, "bin": {"drbdsetup": str(drbdsetup)}}}
    with caplog.at_level(logging.DEBUG):
        out = grains.drbd()
    assert out["drbd"]["resources"] == {}
    warned = _warnings(caplog)
    assert len(warned) == 1 and "exited 20" in warned[0].getMessage()
    assert "cannot talk to the kernel" in warned[0].getMessage()
