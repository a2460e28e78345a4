"""Readable failures (issue 20): when the master cannot publish a job (``LocalClient.cmd`` or
``get_local_client`` raising ``SaltClientError`` and the like), the runner answers as for minions
that did not answer: ``{"result": False, "comment": ...}`` naming each minion and the error, never a
traceback. ``salt.client.get_local_client`` is replaced, so ``_client`` itself runs.
"""

import logging
import os

import pytest
import yaml
from conftest import ROOT, load_runner

salt_client = pytest.importorskip("salt.client", reason="Salt is not installed (make venv)")
import salt.exceptions  # noqa: E402 - after the importorskip above

TIMED_OUT = "Salt request timed out. The master is not responding. You may need to run your command with `--async`"


def lab_web():
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Raising:
    """A LocalClient whose every ``cmd`` raises ``error``; records what was asked."""

    def __init__(self, error):
        self.error, self.jobs = error, []

    def cmd(self, tgt, fun, *args, **kwargs):
        self.jobs.append((list(tgt), fun))
        raise self.error


@pytest.fixture
def runner(tmp_path, monkeypatch):
    mod = load_runner("hapair_runner_quiet_client", {"cachedir": str(tmp_path), "id": "master",
                                                     "conf_file": str(tmp_path / "master")})
    mod.fake = Raising(salt.exceptions.SaltClientError(TIMED_OUT))
    monkeypatch.setattr(salt_client, "get_local_client", lambda *args, **kwargs: mod.fake)
    monkeypatch.setattr(mod, "_fire", lambda tag, data: None)
    monkeypatch.setattr(mod, "_wait_event", lambda seconds: None)
    return mod


def assert_named(comment, fun, minions=("node1", "node2")):
    for minion in minions:
        assert f"{minion}: ERROR: the master could not send it {fun}: SaltClientError: {TIMED_OUT}" in comment, comment
    assert "Traceback" not in comment


def test_call_reports_every_targeted_minion_and_the_error(runner, caplog):
    topo = runner._load("lab_web", lab_web())
    with caplog.at_level(logging.WARNING):
        values, errors = runner._call(topo, "hapair_drbd.status")
    assert values == {"node1": None, "node2": None}
    assert errors == {n: f"{n}: ERROR: the master could not send it hapair_drbd.status: SaltClientError: {TIMED_OUT}"
                      for n in ("node1", "node2")}
    assert runner.fake.jobs == [(["node1", "node2"], "hapair_drbd.status")]
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == f"hapair: the master could not reach node1, node2 for hapair_drbd.status: SaltClientError: {TIMED_OUT}"
    assert record.exc_info is None  # the traceback only at debug


def test_wait_for_fails_naming_the_minions(runner):
    out = runner.wait_for("lab_web", "connected", timeout=0, interval=0, pillar=lab_web())
    assert out["result"] is False and out["retcode"] == 1 and runner.__context__["retcode"] == 1
    assert_named(out["comment"], "hapair_drbd.status")


def test_canary_fails_naming_the_writer(runner):
    out = runner.canary("lab_web", pillar=lab_web())
    assert out["result"] is False and runner.__context__["retcode"] == 1, out
    assert_named(out["comment"], "file.write", minions=("node1",))


def test_an_event_remediation_fails_naming_the_sender(runner):
    out = runner.remediate(resource="r0", minion="node2", tag="hapair/drbd/r0/split-brain", event={}, pillar=lab_web())
    assert out["result"] is False and runner.__context__["retcode"] == 1, out
    assert_named(out["comment"], "hapair_drbd.rendered_topologies", minions=("node2",))


def test_no_client_at_all_reads_the_same(runner, monkeypatch):
    """``get_local_client`` itself raising (no master config, no key): the same answer, from every call."""

    def no_client(*args, **kwargs):
        raise salt.exceptions.SaltClientError(TIMED_OUT)

    monkeypatch.setattr(salt_client, "get_local_client", no_client)
    out = runner.wait_for("lab_web", "connected", timeout=0, interval=0, pillar=lab_web())
    assert out["result"] is False
    assert_named(out["comment"], "hapair_drbd.status")


@pytest.mark.parametrize("error", [salt.exceptions.SaltReqTimeoutError("Message timed out"),
                                   salt.exceptions.EauthAuthenticationError("Failed to authenticate!"),
                                   ConnectionRefusedError(111, "Connection refused")])
def test_other_client_errors_read_the_same(runner, error):
    runner.fake.error = error
    _, errors = runner._call(runner._load("lab_web", lab_web()), "hapair_drbd.report")
    assert set(errors) == {"node1", "node2"}
    assert errors["node1"].startswith(f"node1: ERROR: the master could not send it hapair_drbd.report: {type(error).__name__}: ")
    assert str(error).split()[-1] in errors["node1"]


def test_an_error_without_a_message_still_names_its_kind(runner):
    runner.fake.error = salt.exceptions.SaltClientError()
    _, errors = runner._call(runner._load("lab_web", lab_web()), "hapair_drbd.report", nodes=["node2"])
    assert errors == {"node2": "node2: ERROR: the master could not send it hapair_drbd.report: SaltClientError"}


def test_a_bug_is_not_taken_for_an_unreachable_minion(runner):
    """Only client errors are answers; a programming error still raises where it happens."""
    runner.fake.error = TypeError("cmd() got an unexpected keyword argument 'full_return'")
    with pytest.raises(TypeError):
        runner._call(runner._load("lab_web", lab_web()), "hapair_drbd.report")


def test_a_working_client_is_passed_through(runner):
    class Answering:
        def cmd(self, tgt, fun, *args, **kwargs):
            return {m: {"ret": {"resources": {}}, "retcode": 0} for m in tgt}

    runner.fake = Answering()
    values, errors = runner._call(runner._load("lab_web", lab_web()), "hapair_drbd.status")
    assert errors == {} and values == {"node1": {"resources": {}}, "node2": {"resources": {}}}
