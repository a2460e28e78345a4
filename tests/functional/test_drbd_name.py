"""The ``drbd`` virtualname, shared with salt-shaptools (docs/drbd-name.md), through the real loader.

hapair comes in as pip users get it (the ``salt.loader`` entry point of the installed package, no
``module_dirs``); a stand-in for salt-shaptools' ``drbdmod.py`` (its RPM puts it in
``/srv/salt/_modules``, ``saltutil.sync_all`` copies it into ``extension_modules``) sits in the
minion's ``extension_modules``, which the loader searches before entry points. What the page says:
both load under ``drbd``, mixed; ``hapair_drbd.*`` (the alias hapair's own states and runner call)
is hapair's whatever else loads; ``disable_modules: [drbdmod]`` / ``disable_states: [drbdmod]``
leave hapair's ``drbd`` alone; a file named ``drbd.py`` in ``extension_modules`` no longer hides
hapair's module (its file is ``hapair_drbd.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

SALT_CALL = os.path.join(os.path.dirname(sys.executable), "salt-call")
STAND_IN = '''"""salt-shaptools stand-in: virtualname drbd, as its drbdmod.py."""
__virtualname__ = "drbd"


def __virtual__():
    return __virtualname__


def status(name="all"):
    """shaptools status"""
    return "shaptools"


def createmd(name="all", force=True):
    """shaptools createmd"""
    return "shaptools"
'''
STATE_STAND_IN = '''"""salt-shaptools stand-in: the drbd state module, as its states/drbdmod.py."""
__virtualname__ = "drbd"


def __virtual__():
    return __virtualname__


def initialized(name, force=True):
    """shaptools initialized"""
    return {"name": name, "result": True, "changes": {}, "comment": "shaptools"}
'''


@pytest.fixture
def minion(tmp_path):
    if not os.access(SALT_CALL, os.X_OK):
        pytest.skip(f"salt-call not found at {SALT_CALL}")
    if shutil.which("drbdadm") is None:
        pytest.skip("hapair's drbd module loads only where drbdadm is (drbd-utils)")
    extmods = tmp_path / "extmods"
    (extmods / "modules").mkdir(parents=True)
    (extmods / "states").mkdir()
    conf = tmp_path / "conf"
    conf.mkdir()

    def call(*args, file_name="drbdmod", **config):
        (extmods / "modules" / f"{file_name}.py").write_text(STAND_IN)
        (extmods / "states" / f"{file_name}.py").write_text(STATE_STAND_IN)
        minion_conf = {"id": "web1", "file_client": "local", "cachedir": str(tmp_path / "cache"),
                       "extension_modules": str(extmods), "pki_dir": str(tmp_path / "pki"),
                       "log_file": str(tmp_path / "minion.log"), **config}
        (conf / "minion").write_text(json.dumps(minion_conf))
        proc = subprocess.run([SALT_CALL, "-c", str(conf), "--local", "--out=json", *args],
                              capture_output=True, text=True, timeout=300)
        try:
            return json.loads(proc.stdout)["local"]
        except (json.JSONDecodeError, KeyError):
            return proc.stdout + proc.stderr

    return call


def test_both_load_under_drbd_and_hapair_drbd_is_always_hapairs(minion):
    assert minion("drbd.createmd") == "shaptools"  # shaptools' functions join hapair's drbd.*
    status = minion("hapair_drbd.status")  # the alias only hapair's module carries (its file's name)
    assert isinstance(status, dict) and "resources" in status, status
    # after a full load (extension_modules first), hapair_drbd.* is still hapair's, whatever drbd.* became
    assert minion("sys.doc", "hapair_drbd.status")["hapair_drbd.status"].startswith("Return the normalised state")
    states = minion("sys.list_state_functions", "hapair_drbd")
    assert "hapair_drbd.configured" in states and "hapair_drbd.initialized" not in states, states


def test_disable_modules_drbdmod_keeps_hapairs_drbd_alone(minion):
    config = {"disable_modules": ["drbdmod"], "disable_states": ["drbdmod"]}
    functions = minion("sys.list_functions", "drbd", **config)
    assert "drbd.facts" in functions and "drbd.createmd" not in functions, functions
    assert minion("sys.doc", "drbd.status", **config)["drbd.status"].startswith("Return the normalised state")
    states = minion("sys.list_state_functions", "drbd", **config)
    assert "drbd.configured" in states and "drbd.initialized" not in states, states
    without = minion("sys.list_state_functions", "drbd")
    assert {"drbd.configured", "drbd.initialized"} <= set(without), without


def test_a_drbd_py_in_extension_modules_no_longer_hides_hapair(minion):
    functions = minion("sys.list_functions", "drbd", file_name="drbd")
    assert "drbd.createmd" in functions, functions  # the other drbd.py loads under drbd ...
    ours = minion("sys.list_functions", "hapair_drbd", file_name="drbd")
    assert "hapair_drbd.facts" in ours and "hapair_drbd.createmd" not in ours, ours  # ... and hapair's beside it
