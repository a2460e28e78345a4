"""The package's metadata (issue 20): one version, the license shipped, only Salt at run time.

Read from the files pip reads (pyproject.toml, setup.py) without building anything; the built wheel
and sdist were checked by hand (see CHANGELOG.md's 0.1.0 and the README's install section).
"""

import ast
import pathlib
import re

import hapair
import hapair.saltext
import tomllib
from conftest import ROOT

ROOTP = pathlib.Path(ROOT)
PYPROJECT = tomllib.loads((ROOTP / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
KINDS = list(hapair.saltext._KINDS)  # every loader kind the entry point hands Salt


def _setup_call():
    """The keyword names of setup.py's ``setup(...)`` call."""
    tree = ast.parse((ROOTP / "setup.py").read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "setup"]
    assert len(calls) == 1, "setup.py calls setup() once"
    return {kw.arg for kw in calls[0].keywords}


def _static_version():
    """``__version__`` as setuptools' ``attr:`` reads it: a literal assignment, found without importing."""
    tree = ast.parse((ROOTP / "_utils" / "hapair" / "__init__.py").read_text(encoding="utf-8"))
    found = [ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
             and any(getattr(t, "id", None) == "__version__" for t in n.targets)]
    assert len(found) == 1, found
    return found[0]


def test_the_version_has_one_source():
    assert "version" not in PROJECT and PROJECT["dynamic"] == ["version"]
    assert SETUPTOOLS["dynamic"]["version"] == {"attr": "hapair.__version__"}
    assert SETUPTOOLS["package-dir"]["hapair"] == "_utils/hapair"  # where that attr is read from
    assert "version" not in _setup_call()
    assert _static_version() == hapair.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", hapair.__version__), hapair.__version__


def test_setup_py_is_a_shim_that_duplicates_nothing():
    assert _setup_call() == set()


def test_the_changelog_opens_with_the_current_version():
    text = (ROOTP / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]? - (\d{4}-\d{2}-\d{2})$", text, re.MULTILINE)
    assert releases, "a '## <version> - <date>' section per release"
    assert releases[0][0] == hapair.__version__


def test_the_license_is_listed_and_shipped():
    assert PROJECT["license"] == "Apache-2.0"  # an SPDX expression (PEP 639): no License classifier
    assert PROJECT["license-files"] == ["LICENSE"]
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    text = (ROOTP / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert text.startswith("Copyright 2026 the hapair authors\n")
    assert "END OF TERMS AND CONDITIONS" in text
    # license / license-files as PEP 639 strings need setuptools 77
    assert PYPROJECT["build-system"] == {"requires": ["setuptools>=77"], "build-backend": "setuptools.build_meta"}


def test_salt_is_the_only_runtime_dependency():
    assert [re.split(r"[<>=!~ ]", d)[0].lower() for d in PROJECT["dependencies"]] == ["salt"]


def test_the_index_metadata():
    assert PROJECT["name"] == "hapair" and PROJECT["readme"] == "README.md"
    assert "salt-extension" in PROJECT["keywords"]
    assert {"Source", "Issues", "Changelog"} <= set(PROJECT["urls"])
    assert PROJECT["requires-python"] == ">=3.10"


def test_every_loader_kind_is_packaged_and_registered():
    assert PROJECT["entry-points"]["salt.loader"] == {"hapair": "hapair.saltext:loader_dirs"}
    """Each loader folder that is a package (has ``__init__.py``) is in the wheel, none is left out.

    A folder without ``__init__.py`` must not be listed: installed, it would be a namespace package
    without ``__file__`` and ``loader_dirs`` (so Salt's loader) would crash for every kind.
    """
    packaged = [kind for kind in KINDS if (ROOTP / f"_{kind}" / "__init__.py").is_file()]
    assert {"modules", "states", "grains", "runners", "beacons"} <= set(packaged)
    expected = {"hapair": "_utils/hapair", **{hapair.saltext._KINDS[kind]: f"_{kind}" for kind in packaged},
                "hapair.file_roots": "salt"}  # the SLS tree, data only (test_packaging_wheel.py)
    assert SETUPTOOLS["package-dir"] == expected
    assert sorted(SETUPTOOLS["packages"]) == sorted(expected)
