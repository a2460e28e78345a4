"""A loader-free harness for hapair's cman, gfs2 and corosync adapters in unit tests.

``load(kind, name, salt, opts, pillar)`` imports ``_modules/<name>.py`` or ``_states/<name>.py``
as a fresh module and sets Salt's dunders on it. ``FakeCmd`` stands in for ``cmd.run_all``:
it replays canned outputs (real captures) by argv and records every call.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if os.path.join(ROOT, "_utils") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "_utils"))


def load(kind: str, name: str, salt: dict, opts: dict | None = None, pillar: dict | None = None):
    """Import ``_<kind>/<name>.py`` under a private name with ``__salt__`` etc. set."""
    path = os.path.join(ROOT, f"_{kind}", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"hapair_test_{kind}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__salt__ = salt
    module.__opts__ = opts if opts is not None else {"id": "core-01", "test": False}
    module.__pillar__ = pillar or {}
    module.__context__ = {}
    return module


class FakeCmd:
    """``cmd.run_all`` replacement: ``responses`` maps an argv prefix tuple to a result or callable."""

    def __init__(self, responses: dict[tuple, Any] | None = None):
        self.responses = dict(responses or {})
        self.calls: list[dict] = []

    def __call__(self, argv, **kwargs):
        self.calls.append({"argv": list(argv), **kwargs})
        best = None
        for prefix in self.responses:
            if tuple(argv[: len(prefix)]) == prefix and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            raise AssertionError(f"unexpected command: {argv}")
        answer = self.responses[best]
        if callable(answer):
            answer = answer(argv, kwargs)
        return {"retcode": 0, "stdout": "", "stderr": "", **answer}

    def argvs(self) -> list[list[str]]:
        return [call["argv"] for call in self.calls]


def salt_dict(cmd: Callable, config: dict | None = None, **extra) -> dict:
    """A ``__salt__`` with ``config.get`` (hapair:bin:* / hapair:paths:* from ``config``) and ``cmd.run_all``."""
    config = dict(config or {})

    def config_get(key, default=None):
        return config.get(key, default)

    return {"config.get": config_get, "cmd.run_all": cmd, **extra}


def real_run_all(argv, python_shell=False, stdin=None, env=None, timeout=None, **_kwargs):
    """``cmd.run_all`` that really runs ``argv`` (no shell), for validator tests of the adapters."""
    import subprocess  # noqa: PLC0415

    from salt.exceptions import CommandExecutionError  # noqa: PLC0415

    assert python_shell is False
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, timeout=timeout or 60,
                              env={**os.environ, **(env or {})}, check=False)
    except OSError as exc:  # what Salt's cmd.run_all does for a missing binary
        raise CommandExecutionError(f"Unable to run command '{argv}', reason: {exc}")
    return {"retcode": proc.returncode, "stdout": proc.stdout.rstrip("\n"), "stderr": proc.stderr.rstrip("\n")}
