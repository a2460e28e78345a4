"""Shared test setup: the core is imported straight from the tree.

Test modules read the shared paths with ``from conftest import ROOT, SHARED, FIXTURES``. Pytest
imports every folder's ``conftest.py`` under the same module name, so before each test module is
collected this file puts itself back as ``conftest`` (see ``pytest_collectstart``).
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "_utils"))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

_THIS = sys.modules[__name__]


def load_runner(name, opts=None):
    """A fresh copy of ``_runners/hapair.py`` with the loader dunders set (no master needed)."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "_runners", "hapair.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.__context__ = {}
    mod.__opts__ = dict(opts or {})
    return mod


def pytest_collectstart(collector):
    """Make ``from conftest import ...`` in a test module mean this file, whatever folder it is in."""
    if isinstance(collector, pytest.Module):
        sys.modules["conftest"] = _THIS


def pytest_unconfigure(config):
    """Close Salt's temporary log handler so daemons' teardown does not print '--- Logging error ---'."""
    try:
        from salt._logging.impl import shutdown_temp_handler
    except ImportError:  # Salt is not installed: the pure tiers still run
        return
    shutdown_temp_handler()
