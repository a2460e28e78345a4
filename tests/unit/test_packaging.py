"""The repository's shape: what `pip install .` and `saltutil.sync_all` rely on."""

import ast
import os
import pathlib

import hapair.saltext
import tomllib
from conftest import ROOT

ROOTP = pathlib.Path(ROOT)
LOADER_FOLDERS = ["_modules", "_states", "_grains", "_runners", "_beacons", "_pillar"]


def test_every_loader_folder_is_a_package_for_pip():
    for folder in LOADER_FOLDERS:
        assert (ROOTP / folder / "__init__.py").is_file(), folder


def test_sls_tree_never_shadows_the_salt_package():
    assert not list((ROOTP / "salt").rglob("__init__.py"))


def test_entry_point_points_at_the_loader_folders():
    dirs = hapair.saltext.loader_dirs()
    assert set(dirs) == {"modules", "states", "grains", "runners", "beacons", "pillar"}
    for kind, (path,) in dirs.items():
        assert os.path.isdir(path), (kind, path)
        assert os.path.realpath(path) == os.path.realpath(ROOTP / f"_{kind}")


def test_pyproject_registers_the_salt_loader_entry_point():
    project = tomllib.loads((ROOTP / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["salt.loader"] == {"hapair": "hapair.saltext:loader_dirs"}


def test_core_never_imports_salt():
    for path in (ROOTP / "_utils" / "hapair").glob("*.py"):
        if path.name == "adapter.py":  # the one adapter helper imports Salt lazily, inside run()
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "salt" or n.startswith("salt.") for n in names), (path.name, names)


def test_adapters_find_the_core_when_synced():
    """Synced by saltutil, <extmods>/modules/x.py must find <extmods>/utils/hapair."""
    for folder in LOADER_FOLDERS:
        for path in (ROOTP / folder).glob("*.py"):
            if path.name == "__init__.py":
                continue
            text = path.read_text()
            if "import hapair" in text or "from hapair" in text:
                assert '"utils"' in text and "except ImportError" in text, path
