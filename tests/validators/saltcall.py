"""A masterless ``salt-call --local`` against this repo, with every hapair path under a temp dir.

Used by the formula tests: ``call = local_salt_call(tmp_path, "web1"); call("state.show_sls", ...)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

BIN = os.path.dirname(sys.executable)
SALT_CALL = os.path.join(BIN, "salt-call")


def local_salt_call(tmp_path, minion_id: str):
    """Return ``call(*args) -> dict`` running salt-call as ``minion_id``; ``call.paths`` lists the temp paths."""
    if not os.access(SALT_CALL, os.X_OK):
        pytest.skip(f"salt-call not found at {SALT_CALL}")
    conf = tmp_path / "conf"
    conf.mkdir()
    paths = {"o2cb_conf": tmp_path / "etc" / "cluster.conf", "o2cb_defaults": tmp_path / "etc" / "o2cb",
             "systemd_dir": tmp_path / "systemd", "fstab": tmp_path / "fstab", "ha_dir": tmp_path / "ha.d"}
    minion = {"id": minion_id, "file_client": "local", "file_roots": {"base": [os.path.join(ROOT, "salt")]},
              "pillar_roots": {"base": [os.path.join(ROOT, "pillar")]}, "module_dirs": [ROOT],
              "cachedir": str(tmp_path / "cache"), "pki_dir": str(tmp_path / "pki"),
              "log_file": str(tmp_path / "minion.log"),
              "hapair": {"paths": {k: str(v) for k, v in paths.items()}}}
    (conf / "minion").write_text(json.dumps(minion))

    def call(*args: str) -> dict:
        result = subprocess.run([SALT_CALL, "-c", str(conf), "--local", "--out=json", *args],
                                capture_output=True, text=True, timeout=300)
        assert result.stdout, result.stderr
        return json.loads(result.stdout)["local"]

    call.paths = paths
    call.log_file = tmp_path / "minion.log"
    return call
