"""_grains/heartbeat.py on the verbatim cl_status captures (tests/fixtures/heartbeat): the lab's
node1 after node2's heartbeat stopped, the lab's passive node2, a stopped heartbeat (real exit
codes and stderr), cl_status absent (nothing runs), a hung or broken cl_status (``{}``, one warning
per cause), and the timeout every call carries."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess

import pytest
from conftest import FIXTURES, ROOT

HB = os.path.join(FIXTURES, "heartbeat")


def read(name: str) -> str:
    with open(os.path.join(HB, name), encoding="utf-8") as handle:
        return handle.read()


def capture(sub: str, state: str, code: int = 0) -> tuple[int, str, str]:
    return code, read(f"cl_status-{sub}--3.0.6-{state}.out"), ""


def stopped() -> dict:
    """cl_status--3.0.6-stopped.txt: ``{sub-command: (exit, stdout, stderr)}``, as captured."""
    found, sub, part = {}, None, None
    for line in read("cl_status--3.0.6-stopped.txt").splitlines():
        if line.startswith("## cl_status "):
            sub = line.split()[2]
            found[sub] = {"exit": None, "stdout": "", "stderr": ""}
        elif sub and line.startswith("exit: "):
            found[sub]["exit"] = int(line[6:])
        elif sub and line in ("stdout:", "stderr:"):
            part = line[:-1]
        elif sub and part:
            found[sub][part] += line + "\n"
    return {key: (v["exit"], v["stdout"], v["stderr"]) for key, v in found.items()}


class Replay:
    """``subprocess.run`` stand-in: answers by argv[1:] from the captures, records argv and timeout."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def __call__(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs))
        answer = self.answers[tuple(argv[1:])]
        if isinstance(answer, BaseException):
            raise answer
        code, out, err = answer
        return subprocess.CompletedProcess(argv, code, out, err)


@pytest.fixture
def grains(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("hapair_test_grains_heartbeat",
                                                  os.path.join(ROOT, "_grains", "heartbeat.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    binary = tmp_path / "cl_status"
    binary.write_text("#!/bin/sh\nexit 99\n")  # found on disk; never run: subprocess.run is replayed
    binary.chmod(0o755)
    module.__opts__ = {"hapair": {"bin": {"cl_status": str(binary)}}}
    module.binary = str(binary)

    def replay(answers):
        fake = Replay(answers)
        monkeypatch.setattr(subprocess, "run", fake)  # adapter.bounded_runner calls it
        return fake

    module.replay = replay
    return module


NODE1_AFTER_PEER_STOP = {("hbstatus",): capture("hbstatus", "lab-running"),
                         ("listnodes",): capture("listnodes", "lab"),
                         ("nodestatus", "node2"): capture("nodestatus", "lab-dead", 1),
                         ("nodestatus", "node1"): capture("nodestatus", "lab-active"),
                         ("rscstatus",): capture("rscstatus", "lab-all")}


def test_node1_holding_everything_after_node2_stopped(grains):
    fake = grains.replay(NODE1_AFTER_PEER_STOP)
    assert grains.heartbeat() == {"heartbeat": {"running": True, "nodes": {"node2": "dead", "node1": "active"},
                                                "resources": "all"}}
    assert [argv[1:] for argv, _ in fake.calls] == [["hbstatus"], ["listnodes"], ["nodestatus", "node2"],
                                                    ["nodestatus", "node1"], ["rscstatus"]]
    assert all(argv[0] == grains.binary for argv, _ in fake.calls)
    assert {kw["timeout"] for _, kw in fake.calls} == {grains.TIMEOUT} and grains.TIMEOUT <= 5
    assert all(kw.get("shell") is not True for _, kw in fake.calls)


def test_the_passive_node_holds_its_own_lines_which_name_nothing(grains):
    answers = dict(NODE1_AFTER_PEER_STOP)
    answers[("nodestatus", "node2")] = capture("nodestatus", "lab-active")
    answers[("rscstatus",)] = capture("rscstatus", "lab-local-peer")
    grains.replay(answers)
    assert grains.heartbeat()["heartbeat"] == {"running": True, "nodes": {"node2": "active", "node1": "active"},
                                               "resources": "local"}


def test_a_stopped_heartbeat_is_one_call_and_no_resources(grains):
    fake = grains.replay({(sub,): answer for sub, answer in stopped().items()})
    assert grains.heartbeat() == {"heartbeat": {"running": False, "nodes": {}, "resources": None}}
    assert [argv[1:] for argv, _ in fake.calls] == [["hbstatus"]]


def test_heartbeat_stopping_midway_reads_as_stopped(grains):
    answers = dict(NODE1_AFTER_PEER_STOP)
    answers[("listnodes",)] = stopped()["listnodes"]
    grains.replay(answers)
    assert grains.heartbeat() == {"heartbeat": {"running": False, "nodes": {}, "resources": None}}


def test_a_refused_connection_is_running_without_details(grains):
    grains.replay({("hbstatus",): capture("hbstatus", "refused")})
    assert grains.heartbeat() == {"heartbeat": {"running": True, "nodes": {}, "resources": None}}


def test_absent_cl_status_is_no_grain_and_runs_nothing(grains, tmp_path):
    fake = grains.replay({})
    grains.__opts__ = {"hapair": {"bin": {"cl_status": str(tmp_path / "missing" / "cl_status")}}}
    assert grains.heartbeat() == {}
    grains.__opts__ = {"hapair": {"bin": {"cl_status": "hapair-no-such-cl_status"}}}  # looked up on PATH
    assert grains.heartbeat() == {}
    assert fake.calls == []


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "heartbeat grains" in r.getMessage()]


def test_a_hung_or_broken_cl_status_is_empty_and_warned_once_per_cause(grains, caplog):
    grains.replay({("hbstatus",): subprocess.TimeoutExpired(["cl_status", "hbstatus"], grains.TIMEOUT)})
    with caplog.at_level(logging.DEBUG):
        assert grains.heartbeat() == {}
        assert grains.heartbeat() == {}
    warned = _warnings(caplog)
    assert len(warned) == 1 and "TimeoutExpired" in warned[0], warned
    grains.replay({("hbstatus",): (0, "Heartbeat is sleeping on this machine.\n", "")})  # another cause
    with caplog.at_level(logging.DEBUG):
        assert grains.heartbeat() == {}
    assert len(_warnings(caplog)) == 2 and "ParseError" in _warnings(caplog)[1]
    grains.replay({("hbstatus",): (12, "", "timed out\n")})  # cl_status's own timeout: exit 12
    with caplog.at_level(logging.DEBUG):
        assert grains.heartbeat() == {}
    assert "exited 12" in _warnings(caplog)[2]
