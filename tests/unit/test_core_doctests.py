"""Every docstring example in the Salt-free core (``_utils/hapair``) runs and holds.

The examples may use the seed example topologies as ``seed000`` .. ``seed004``: the repo's
``pillar/hapair/<name>.sls`` files, loaded and normalised exactly as production does
(``hapair.topology.load``).
"""

import contextlib
import doctest
import importlib
import io
import os
import pkgutil

import hapair
import pytest
import yaml
from conftest import ROOT
from hapair import topology

SEEDS = {"seed000": "web", "seed001": "fileserver", "seed002": "apache", "seed003": "crossed",
         "seed004": "hardcore"}

MODULES = sorted(info.name for info in pkgutil.iter_modules(hapair.__path__))


def seed_globals() -> dict:
    """``{"seed000": <normalised web topology>, ...}`` from the repo's seed pillar files."""
    found = {}
    for glob, name in SEEDS.items():
        with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
            found[glob] = topology.load(yaml.safe_load(handle), name)
    return found


GLOBS = seed_globals()


def test_every_core_module_is_listed():
    assert {"topology", "drbd_render", "remediate", "orchestrate"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    module = importlib.import_module(f"hapair.{name}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = doctest.testmod(module, extraglobs=GLOBS,
                                 optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed:\n{out.getvalue()}"
