"""_modules/hapair_drbd.py with a mocked loader: secrets across a rotation, no digests, command timeouts.

The pillar is the repo's lab_web topology (pillar/hapair/lab_web.sls) with secret OLD on disk and
NEW in the pillar: the shared secret was rotated.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os

import pytest
import yaml
from conftest import FIXTURES, ROOT

salt_exceptions = pytest.importorskip("salt.exceptions", reason="salt is not installed")

OLD, NEW = "0ld-Drbd-Secret-a41", "N3w-Drbd-Secret-b52"


def lab_web(secret):
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    pillar["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["shared_secret"] = secret
    return pillar


class FakeSalt(dict):
    """config.get from a dict, cmd.run_all answering from ``answer(argv)``, kwargs recorded."""

    def __init__(self, config, answer):
        super().__init__()
        self.calls = []
        self["config.get"] = lambda key, default=None: config.get(key, default)
        self["cmd.run_all"] = self.run_all
        self.answer = answer

    def run_all(self, argv, **kwargs):
        self.calls.append((list(argv[1:]), kwargs))
        return self.answer(list(argv[1:]))


@pytest.fixture
def drbd(tmp_path):
    spec = importlib.util.spec_from_file_location("hapair_test_secrets_drbd", os.path.join(ROOT, "_modules", "hapair_drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__context__ = {}
    module.__opts__ = {"id": "node1", "file_client": "remote"}
    module.__pillar__ = lab_web(NEW)
    (tmp_path / "drbd.d").mkdir()
    with open(os.path.join(FIXTURES, "fakebin", "05-synced-primary-secondary", "node1", "proc_drbd.stdout"),
              encoding="utf-8") as handle:
        (tmp_path / "proc_drbd").write_text(handle.read())
    config = {"hapair:paths:proc_drbd": str(tmp_path / "proc_drbd"),
              "hapair:paths:drbd_conf_dir": str(tmp_path / "drbd.d"),
              "hapair:paths:drbd_conf": str(tmp_path / "drbd.conf"),
              "hapair:paths:state_dir": str(tmp_path / "st"), "hapair:paths:drbd_handler": "",
              "hapair:bin:drbdadm": "drbdadm"}
    module.__salt__ = FakeSalt(config, lambda argv: {"retcode": 0, "stdout": "", "stderr": ""})
    return module


def written_with(drbd, secret):
    """Write the config rendered for ``secret`` and return {path: text}."""
    pillar = drbd.__pillar__
    drbd.__pillar__ = lab_web(secret)
    drbd.write_config("lab_web")
    files = drbd._render(*drbd._topology("lab_web"))
    drbd.__pillar__ = pillar
    return {path: spec["content"] for path, spec in files.items()}


def test_config_state_returns_no_digest_of_the_secret_files(drbd):
    old_files = written_with(drbd, OLD)
    new_files = {p: f["content"] for p, f in drbd._render(*drbd._topology("lab_web")).items()}
    state = drbd.config_state("lab_web")
    shown = repr(state)
    for text in list(old_files.values()) + list(new_files.values()):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() not in shown
    res = next(p for p in new_files if p.endswith("r0.res"))
    assert state["current"][res]["matches"] is False
    assert state["desired"][res]["secret"] is True
    written_with(drbd, NEW)
    assert drbd.config_state("lab_web")["current"][res]["matches"] is True


def test_config_state_diff_masks_the_old_secret_after_a_rotation(drbd):
    written_with(drbd, OLD)
    state = drbd.config_state("lab_web")
    (diff,) = [d for p, d in state["diff"].items() if p.endswith("r0.res")]
    assert "shared-secret" in diff and "********" in diff
    assert OLD not in repr(state) and NEW not in repr(state)


def test_connect_error_masks_the_secret_of_the_config_on_disk(drbd):
    written_with(drbd, NEW)
    err = (f"drbdsetup-84 connect r0 ipv4:10.0.0.1:7788 ipv4:10.0.0.2:7788 --protocol=C --shared-secret={NEW}\n"
           f"Command 'drbdsetup-84 connect r0 ... {NEW} ...' terminated with exit code 10\n")
    drbd.__salt__.answer = lambda argv: {"retcode": 10, "stdout": "", "stderr": err}
    with pytest.raises(salt_exceptions.CommandExecutionError) as info:
        drbd.connect("r0")
    assert "exit 10" in str(info.value) and NEW not in str(info.value)


def test_every_drbd_command_has_a_timeout_actions_longer_than_probes(drbd):
    drbd.__salt__.answer = lambda argv: {"retcode": 0, "stdout": "", "stderr": ""}
    drbd.up("r0")
    drbd.adjust("r0")
    drbd._run([drbd._bin("drbdadm"), "create-md", "r0"])
    drbd._drbdadm("sh-ll-dev", "r0", ok_codes=(0, 1, 10))
    drbd._run([drbd._bin("drbdsetup"), "status", "--json"], ok_codes=(0, 10, 20))
    timeouts = {tuple(argv): kwargs.get("timeout") for argv, kwargs in drbd.__salt__.calls}
    assert timeouts == {("up", "r0"): 120, ("adjust", "r0"): 120, ("create-md", "r0"): 120,
                        ("sh-ll-dev", "r0"): 30, ("status", "--json"): 30}


def test_configured_state_plans_from_matches(drbd, tmp_path):
    """The state reads config_state's ``matches``: a rotation plans a write and an adjust."""
    spec = importlib.util.spec_from_file_location("hapair_test_secrets_drbd_state",
                                                  os.path.join(ROOT, "_states", "hapair_drbd.py"))
    state_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(state_mod)
    written_with(drbd, OLD)
    drbd.__salt__["mount.active"] = lambda: {}  # drbd.change_facts: nothing mounted, so the rotation applies
    state_mod.__salt__ = {"hapair_drbd.config_state": drbd.config_state, "hapair_drbd.facts": drbd.facts,
                          "hapair_drbd.write_config": drbd.write_config, "hapair_drbd.adjust": drbd.adjust,
                          "hapair_drbd.change_facts": drbd.change_facts}
    state_mod.__opts__ = {"id": "node1", "test": True}
    state_mod.__pillar__ = copy.deepcopy(drbd.__pillar__)
    ret = state_mod.configured("r0", "lab_web")
    assert ret["result"] is None, ret
    res = next(k for k in ret["changes"] if k.endswith("r0.res"))
    assert ret["changes"][res]["old"] == "differs" and "r0:adjusted" in ret["changes"]
    assert OLD not in repr(ret) and NEW not in repr(ret)
    state_mod.__opts__["test"] = False
    applied = state_mod.configured("r0", "lab_web")
    assert applied["result"] is True and applied["changes"] == ret["changes"], applied
    assert OLD not in repr(applied) and NEW not in repr(applied)
    assert state_mod.configured("r0", "lab_web")["changes"] == {}
