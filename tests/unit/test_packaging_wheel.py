"""The wheel and the sdist, built from the repository's files as a clean clone has them (issue 20).

Builds both with setuptools' own backend (``build_sdist``, then ``build_wheel`` from the unpacked
sdist, as ``pip install hapair-x.tar.gz`` does) and checks what pip users get: the license and
the metadata, every loader package, the whole SLS tree (the formula with its ``reactor/``,
``orch/hapair``, ``pillar.example``) as ``hapair/file_roots``, and ``python3 -m hapair.saltext
file-roots`` pointing into an unpacked wheel. Skipped only when setuptools>=77 (the build backend
pyproject.toml asks for) can neither be found nor installed (offline, empty pip cache).
"""

from __future__ import annotations

import email.parser
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import zipfile

import hapair
import pytest
from conftest import ROOT

ROOTP = pathlib.Path(ROOT)
NAME = f"hapair-{hapair.__version__}"
LOADER_PACKAGES = ["_modules", "_states", "_grains", "_runners", "_beacons", "_pillar"]


def _tracked() -> list[str]:
    """The files a clean clone has: tracked, plus new ones not ignored (this change's own)."""
    if shutil.which("git") is None or not (ROOTP / ".git").exists():
        pytest.skip("not a git checkout: the clean clone's file list is unknown")
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, text=True, check=True).stdout
    return sorted(p for p in out.split("\0") if p and os.path.lexists(ROOTP / p))


def _backend(tmp: pathlib.Path) -> dict:
    """An environment whose setuptools satisfies ``build-system.requires`` (setuptools>=77)."""
    target = tmp / "backend"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "--target", str(target), "setuptools>=77", "packaging>=24.2"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.skip(f"cannot get setuptools>=77 to build with (offline?): {proc.stderr.strip()[-300:]}")
    return dict(os.environ, PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1")


def _build(env: dict, source: pathlib.Path, kind: str, out: pathlib.Path) -> pathlib.Path:
    code = f"import setuptools.build_meta as b; print(b.build_{kind}({str(out)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=source, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return out / proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    files = _tracked()
    clone = tmp / "clone"
    for rel in files:
        dest = clone / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = ROOTP / rel
        if src.is_symlink():
            os.symlink(os.readlink(src), dest)
        else:
            shutil.copy2(src, dest)
    env = _backend(tmp)
    dist = tmp / "dist"
    sdist = _build(env, clone, "sdist", dist)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp / "unpacked", filter="data")
    wheel = _build(env, tmp / "unpacked" / NAME, "wheel", dist)
    with zipfile.ZipFile(wheel) as zf:
        wheel_names = zf.namelist()
        zf.extractall(tmp / "site")
    with tarfile.open(sdist) as tar:
        sdist_names = [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile() and "/" in m.name]
    return {"files": files, "wheel": wheel_names, "sdist": sdist_names, "site": tmp / "site"}


def test_the_wheel_carries_the_whole_sls_tree(built):
    sls_tree = [f for f in built["files"] if f.startswith("salt/")]
    assert "salt/hapair/reactor/drbd.sls" in sls_tree and "salt/orch/hapair/bootstrap.sls" in sls_tree
    assert "salt/hapair/pillar.example" in sls_tree
    shipped = sorted(n[len("hapair/file_roots/"):] for n in built["wheel"] if n.startswith("hapair/file_roots/"))
    assert shipped == sorted(f[len("salt/"):] for f in sls_tree)
    assert not [n for n in built["wheel"] if n.startswith(("salt/", "reactor/", "orch/"))]


def test_pillar_example_in_the_wheel_is_the_repositorys(built):
    shipped = built["site"] / "hapair" / "file_roots" / "hapair" / "pillar.example"
    assert not shipped.is_symlink()
    assert shipped.read_text(encoding="utf-8") == (ROOTP / "pillar.example").read_text(encoding="utf-8")


def test_the_wheel_carries_every_package_the_license_and_the_metadata(built):
    names = set(built["wheel"])
    for folder in LOADER_PACKAGES:
        py = sorted(p.name for p in (ROOTP / folder).glob("*.py"))
        assert {f"hapair/{folder}/{name}" for name in py} <= names, folder
    core = {f"hapair/{p.name}" for p in (ROOTP / "_utils" / "hapair").glob("*.py")}
    assert core <= names
    info = f"{NAME}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    meta = email.parser.Parser().parsestr((built["site"] / info / "METADATA").read_text(encoding="utf-8"))
    assert meta["License-Expression"] == "Apache-2.0"
    assert "salt-extension" in meta["Keywords"].split(",")
    requires = meta.get_all("Requires-Dist")
    assert [r for r in requires if "extra ==" not in r] == ["salt>=3006"]  # Salt brings Jinja2 and PyYAML
    assert meta.get_all("Provides-Extra") == ["docs"]
    entry_points = (built["site"] / info / "entry_points.txt").read_text(encoding="utf-8")
    assert "[salt.loader]\nhapair = hapair.saltext:loader_dirs" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "lab/", "bench/", "pillar/"))]


def test_the_sdist_carries_the_documents_and_what_the_wheel_is_built_from(built):
    names = set(built["sdist"])
    assert {"LICENSE", "README.md", "CHANGELOG.md", "pillar.example", "pyproject.toml", "setup.py",
            "MANIFEST.in"} <= names
    assert {f for f in built["files"] if f.startswith("salt/")} <= names
    assert {f for f in built["files"] if f.startswith(("_utils/hapair/", "_modules/")) and f.endswith(".py")} <= names


def test_file_roots_points_into_the_installed_wheel(built):
    site = built["site"]
    env = dict(os.environ, PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "hapair.saltext", "file-roots"], cwd=str(site.parent),
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    roots = pathlib.Path(proc.stdout.strip())
    assert roots == site / "hapair" / "file_roots"
    assert (roots / "hapair" / "init.sls").is_file() and (roots / "orch" / "hapair" / "bootstrap.sls").is_file()
    assert (roots / "hapair" / "reactor" / "minion_start.sls").is_file()
    proc = subprocess.run([sys.executable, "-m", "hapair.saltext", "master-config", "--base", "/srv/salt"],
                          cwd=str(site.parent), env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f'    - "/srv/salt"\n    - "{roots}"\nreactor:' in proc.stdout
