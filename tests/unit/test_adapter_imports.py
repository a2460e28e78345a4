"""Adapters import the core at module top level, inside the DESIGN.md bootstrap.

Salt's loader puts ``<extmods>/utils`` on ``sys.path`` only while it imports a module file
(salt/loader/lazy.py ``__populate_sys_path``/``__clean_sys_path``). A ``hapair`` import inside a
function runs outside that window, so a minion that got hapair by ``saltutil.sync_all`` can
only rely on imports done at load time (tests/functional/test_synced_layout.py runs that case).
"""

import ast
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

FOLDERS = ("_modules", "_states", "_grains", "_runners", "_beacons", "_pillar")


def _hapair_names(node):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name == "hapair" or a.name.startswith("hapair.")]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "hapair" or node.module.startswith("hapair."):
            return [node.module]
    return []


def function_imports(tree):
    """``[(function name, line, module)]`` for every hapair import inside a function (or lambda)."""
    found = []
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for node in ast.walk(func):
                found += [(getattr(func, "name", "<lambda>"), node.lineno, n) for n in _hapair_names(node)]
    return found


def has_bootstrap(tree):
    """True when a top-level ``try: import hapair... except ImportError: sys.path.insert(...) import hapair...``."""
    for node in tree.body:
        if not isinstance(node, ast.Try):
            continue
        tried = any(_hapair_names(n) for n in node.body)
        for handler in node.handlers:
            names = {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)} if handler.type else set()
            if "ImportError" not in names and "ModuleNotFoundError" not in names:
                continue
            inserts = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "insert"
                          and "utils" in ast.unparse(n) for n in ast.walk(handler))
            reimports = any(_hapair_names(n) for n in ast.walk(handler))
            if tried and inserts and reimports:
                return True
    return False


def reloads_changed(tree):
    """True when the bootstrap's try calls ``hapair.reload_changed()`` before its other hapair imports."""
    for node in tree.body:
        if isinstance(node, ast.Try):
            body = [ast.unparse(n) for n in node.body]
            return len(body) >= 3 and body[0] == "import hapair" and body[1] == "hapair.reload_changed()"
    return False


def _cases():
    for folder in FOLDERS:
        for path in sorted((pathlib.Path(ROOT) / folder).glob("*.py")):
            if path.name == "__init__.py":
                continue
            yield pytest.param(path, id=f"{folder}/{path.name}")


CASES = list(_cases())


@pytest.mark.parametrize("path", CASES)
def test_no_hapair_import_inside_a_function(path):
    assert function_imports(ast.parse(path.read_text())) == []


@pytest.mark.parametrize("path", CASES)
def test_adapter_importing_hapair_has_the_bootstrap(path):
    tree = ast.parse(path.read_text())
    if not any(_hapair_names(node) for node in ast.walk(tree)):
        pytest.skip(f"{path.name} does not import hapair")
    assert has_bootstrap(tree), f"{path}: no try/except ImportError bootstrap inserting <extmods>/utils"
    assert reloads_changed(tree), f"{path}: the bootstrap does not start with hapair.reload_changed()"


def test_a_running_minion_picks_up_synced_core_files(tmp_path):
    """saltutil.sync_all writes new core files into <extmods>/utils/hapair while the minion runs;
    the adapters' bootstrap (reload_changed) makes the next import read them, not sys.modules."""
    shutil.copytree(os.path.join(ROOT, "_utils", "hapair"), tmp_path / "hapair")
    code = (
        "import os, sys, time\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import hapair\nhapair.reload_changed()\nimport hapair.errors as e\n"
        "assert not hasattr(e, 'SYNCED')\n"
        "assert hapair.reload_changed() is False  # nothing changed: nothing forgotten\n"
        f"p = {str(tmp_path / 'hapair' / 'errors.py')!r}\n"
        "with open(p, 'a') as f: f.write('\\nSYNCED = 1\\n')\n"
        "os.utime(p, ns=(hapair._IMPORTED_NS + 1,) * 2)  # newer than the import, without waiting\n"
        "import hapair\nassert hapair.reload_changed() is True\nimport hapair.errors as e\n"
        "assert e.SYNCED == 1, 'the old core stayed loaded'\n"
        "import hapair\nassert hapair.reload_changed() is False\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                          check=False, env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_a_reload_is_not_shadowed_by_the_runner_file_named_hapair(tmp_path):
    """Salt's loader puts _runners/ on sys.path, and the runner file is hapair.py: after a reload a
    plain ``import hapair`` would find that file, not the package (the master then lost the runner:
    "partially initialized module 'hapair'"). reload_changed imports the package again from its folder."""
    shutil.copytree(os.path.join(ROOT, "_utils", "hapair"), tmp_path / "utils" / "hapair")
    (tmp_path / "runners").mkdir()
    (tmp_path / "runners" / "hapair.py").write_text("raise SystemExit('the runner file was imported as the package')\n")
    code = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(tmp_path / 'utils')!r})\n"
        "import hapair\n"
        f"sys.path.insert(0, {str(tmp_path / 'runners')!r})  # what the loader does, after the first import\n"
        f"p = {str(tmp_path / 'utils' / 'hapair' / 'errors.py')!r}\n"
        "os.utime(p, ns=(hapair._IMPORTED_NS + 1,) * 2)\n"
        "assert hapair.reload_changed() is True\n"
        "import hapair.errors as e\nimport hapair\n"
        "assert hapair.__file__.endswith(os.path.join('hapair', '__init__.py')) and e.HapairError\nprint('ok')\n")
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60,
                          check=False, env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


def test_the_checks_catch_a_lazy_import_and_a_missing_bootstrap():
    lazy = ast.parse("def f():\n    import hapair.topology as t\n    return t\n"
                     "g = lambda: __import__('x')\n"
                     "def h():\n    from hapair import drbd_parse\n")
    assert function_imports(lazy) == [("f", 2, "hapair.topology"), ("h", 6, "hapair")]
    assert not has_bootstrap(ast.parse("import hapair.topology\n"))
    assert not has_bootstrap(ast.parse("try:\n    import hapair.x\nexcept ImportError:\n    pass\n"))
    good = ("try:\n    import hapair.x\nexcept ImportError:\n    import os, sys\n"
            "    sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'utils'))\n    import hapair.x\n")
    assert has_bootstrap(ast.parse(good))
    assert not reloads_changed(ast.parse(good))
    assert reloads_changed(ast.parse(good.replace("try:\n", "try:\n    import hapair\n    hapair.reload_changed()\n", 1)))
    assert function_imports(ast.parse(good)) == []


def _loader_dirs(utils_dir):
    """``hapair.saltext.loader_dirs()`` in a fresh ``python -S`` (no site: the editable install is off)."""
    code = ("import importlib.util, json, sys\n"
            "assert importlib.util.find_spec('hapair._modules') is None, 'hapair is installed'\n"
            "import hapair.saltext\nprint(json.dumps(hapair.saltext.loader_dirs()))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = utils_dir
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=30,
                          check=False, env=env, cwd=os.path.dirname(utils_dir))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_loader_dirs_from_a_plain_checkout():
    dirs = _loader_dirs(os.path.join(ROOT, "_utils"))
    assert dirs == {kind[1:]: [os.path.join(ROOT, kind)] for kind in FOLDERS}


def test_loader_dirs_empty_when_synced(tmp_path):
    shutil.copytree(os.path.join(ROOT, "_utils", "hapair"), tmp_path / "utils" / "hapair")
    (tmp_path / "modules").mkdir()  # <extmods>/modules: Salt's own extension_modules covers it
    assert _loader_dirs(str(tmp_path / "utils")) == {}
