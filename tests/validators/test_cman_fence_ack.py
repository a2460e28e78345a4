"""cman.fence_ack_manual against the REAL fence_ack_manual script, offline.

tests/fakebin/cman/fence_ack_manual_ns runs the real script in a private mount namespace where
fenced's override file exists, and prints what the script wrote into it. Proves the confirmation
word hapair requires is the one the real tool accepts, that anything else aborts, and that the module
refuses before running anything without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from salt.exceptions import CommandExecutionError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# paths computed here: `from conftest import` can bind another tier's conftest (tests/lab)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WRAPPER = os.path.join(ROOT, "tests", "fakebin", "cman", "fence_ack_manual_ns")
pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("fence_ack_manual") is None,
                       reason="fence_ack_manual not installed (apt-get install fence-agents)"),
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                       reason="needs root and unshare (private mount namespace)"),
]


def test_the_real_tool_aborts_on_any_other_answer():
    result = subprocess.run([WRAPPER, "core-02"], input="yes\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "Aborted." in result.stdout
    assert result.stdout.rstrip().endswith("override file:")


def test_module_feeds_the_confirmation_to_the_real_tool():
    calls = []

    def run_all(argv, **kwargs):
        calls.append(list(argv))
        return fakesalt.real_run_all(argv, **kwargs)

    mod = fakesalt.load("modules", "cman", fakesalt.salt_dict(run_all, {"hapair:bin:fence_ack_manual": WRAPPER}))
    with pytest.raises(CommandExecutionError, match="confirm=absolutely"):
        mod.fence_ack_manual("core-02", confirm="yes")
    assert calls == []
    out = mod.fence_ack_manual("core-02", confirm="absolutely")
    assert out["acknowledged"] and "Done" in out["output"] and out["output"].endswith("override file: core-02")
    assert calls == [[WRAPPER, "core-02"]]
