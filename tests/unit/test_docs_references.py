"""Every ``hapair.<module>.<name>`` a docs page names in backticks exists in the Salt-free core (or is
an SLS of the formula, ``salt/hapair/<module>/<name>.sls``): a moved function leaves no stale pointer."""

from __future__ import annotations

import glob
import importlib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

NAMED = re.compile(r"`hapair\.([a-z_0-9]+)\.([A-Za-z_][A-Za-z_0-9]*)")


def stale() -> list[str]:
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        for no, line in enumerate(lines, 1):
            for module, name in NAMED.findall(line):
                if os.path.exists(os.path.join(ROOT, "salt", "hapair", module, f"{name}.sls")):
                    continue
                if not os.path.exists(os.path.join(ROOT, "_utils", "hapair", f"{module}.py")):
                    continue  # an execution module or state (``hapair.reconfigure``), not the core
                if not hasattr(importlib.import_module(f"hapair.{module}"), name):
                    found.append(f"{os.path.relpath(path, ROOT)}:{no}: hapair.{module}.{name}")
    return found


def test_docs_name_only_core_functions_that_exist():
    assert stale() == []
