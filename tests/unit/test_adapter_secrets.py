"""hapair.adapter.run: every command has a timeout, and no secret on disk leaks through its output.

A fake ``__salt__`` (a dict of callables, as in test_adapter.py); the config files live in tmp_path.
"""

from __future__ import annotations

import base64

import pytest
from hapair import adapter
from hapair.errors import ParseError
from salt.exceptions import CommandExecutionError

SECRET = "Disk-Secret-Adapter-3e9"
HB_KEY = "Heartbeat-Key-Adapter-77"
FENCE = "Fence-Passwd-Adapter-12"


def fake_salt(tmp_path, run_all):
    calls = []
    config = {"hapair:paths:drbd_conf": str(tmp_path / "drbd.conf"),
              "hapair:paths:drbd_conf_dir": str(tmp_path / "drbd.d"),
              "hapair:paths:ha_dir": str(tmp_path / "ha.d"),
              "hapair:paths:cman_conf": str(tmp_path / "cluster.conf"),
              "hapair:paths:corosync_authkey": str(tmp_path / "authkey")}

    def run_fn(argv, **kwargs):
        calls.append((list(argv), kwargs))
        return run_all(argv, kwargs)

    return {"config.get": lambda key, default=None: config.get(key, default), "cmd.run_all": run_fn}, calls


def secret_files(tmp_path):
    (tmp_path / "drbd.d").mkdir()
    (tmp_path / "drbd.d" / "r0.res").write_text(f'resource r0 {{\n  net {{ shared-secret "{SECRET}"; }}\n}}\n')
    (tmp_path / "ha.d").mkdir()
    (tmp_path / "ha.d" / "authkeys").write_text(f"auth 1\n1 sha1 {HB_KEY}\n")
    (tmp_path / "cluster.conf").write_text(f'<cluster><fencedevices><fencedevice name="f" passwd="{FENCE}"/>'
                                           "</fencedevices></cluster>\n")
    (tmp_path / "authkey").write_bytes(b"\x01\x02" * 64)


def test_run_masks_the_secrets_of_the_config_on_disk_in_errors(tmp_path):
    secret_files(tmp_path)
    b64 = base64.b64encode(b"\x01\x02" * 64).decode()
    err = (f"drbdsetup-84 net r0 ipv4:10.0.0.1:7788 ipv4:10.0.0.2:7788 --shared-secret={SECRET}\n"
           f"peer said {SECRET}; ha {HB_KEY}; fence {FENCE}; key {b64}\n"
           f"Command 'drbdsetup-84 net r0 --shared-secret={SECRET}' terminated with exit code 10\n")
    salt, _ = fake_salt(tmp_path, lambda argv, kw: {"retcode": 10, "stdout": f"out {SECRET}", "stderr": err})
    with pytest.raises(CommandExecutionError) as info:
        adapter.run(salt, ["drbdadm", "connect", "r0"])   # the caller passes no secrets
    text = str(info.value)
    assert "exit 10" in text and "drbdadm connect r0" in text
    for secret in (SECRET, HB_KEY, FENCE, b64):
        assert secret not in text


def test_run_masks_the_disk_secrets_in_the_stderr_it_returns(tmp_path):
    secret_files(tmp_path)
    salt, _ = fake_salt(tmp_path, lambda argv, kw: {"retcode": 0, "stdout": "", "stderr": f"note: {SECRET}\n"})
    res = adapter.run(salt, ["drbdadm", "adjust", "r0"])
    assert SECRET not in res["stderr"] and "note: ********" in res["stderr"]


def test_run_gives_every_command_a_default_timeout(tmp_path):
    salt, calls = fake_salt(tmp_path, lambda argv, kw: {"retcode": 0, "stdout": "", "stderr": ""})
    adapter.run(salt, ["drbdadm", "status"])
    adapter.run(salt, ["drbdadm", "up", "r0"], timeout=120)
    assert [kw["timeout"] for _argv, kw in calls] == [adapter.DEFAULT_TIMEOUT, 120]
    assert 0 < adapter.DEFAULT_TIMEOUT <= 60


def test_run_reports_a_timeout_naming_the_command_masked(tmp_path):
    secret_files(tmp_path)

    def hung(argv, kw):  # what Salt's cmd.run_all returns when TimedProc kills the command
        return {"retcode": 1, "stdout": f"{argv} : Timed out after {kw['timeout']} seconds", "stderr": "",
                "pid": ""}

    salt, _ = fake_salt(tmp_path, hung)
    with pytest.raises(CommandExecutionError) as info:  # even where exit 1 would be accepted
        adapter.run(salt, ["drbdadm", f"--shared-secret={SECRET}", "sh-ll-dev", "r0"], ok_codes=(0, 1), timeout=7)
    text = str(info.value)
    assert "timed out after 7" in text and "drbdadm" in text and "sh-ll-dev r0" in text
    assert SECRET not in text


def test_parsed_masks_a_shared_secret_in_the_line_a_parse_error_quotes():
    def parser(text):
        raise ParseError("drbdadm dump", 3, text, "unexpected token")

    with pytest.raises(CommandExecutionError) as info:
        adapter.parsed(parser, f'    shared-secret "{SECRET}";')  # no secrets passed
    assert SECRET not in str(info.value) and 'shared-secret "********"' in str(info.value)
    assert info.value.__cause__ is None
