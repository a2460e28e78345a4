"""hapair delivered by ``saltutil.sync_all`` (no pip install): the drbd module, state and grains load.

The repo's ``_modules``, ``_states``, ``_grains``, ``_runners``, ``_beacons`` and ``_utils`` are
copied into ``<extmods>/{modules,states,grains,runners,beacons,utils}`` exactly as sync_all lays
them out, and ``salt-call --local`` runs with ``extension_modules`` there and no ``module_dirs``.

Salt's loader puts ``<extmods>/utils`` on ``sys.path`` only while it imports a module file
(salt/loader/lazy.py ``__populate_sys_path``/``__clean_sys_path``), so this must work without
``hapair`` being importable any other way. The test venv has hapair installed editable, through
``__editable__.hapair-*.pth`` in site-packages, and tests/conftest.py adds ``_utils`` to this
process's path. salt-call therefore runs as ``python -S runner.py`` with only the venv's
site-packages on PYTHONPATH: ``-S`` skips ``site``, which is what processes ``.pth`` files, so the
editable finder is never installed while salt and its dependencies still import from the
plain path entry. The runner refuses to start if ``hapair`` can be found (``find_spec``), and
``test_hapair_is_hidden_from_the_runner`` checks that the hiding works. (Salt logs one "Error
processing Salt Extension hapair" per loader: the ``salt.loader`` entry point from the
dist-info cannot import ``hapair.saltext``, as on a minion where hapair is not installed.)

What this does and does not prove: with salt 3008.3 the pre-change drbd files (hapair imports
inside ``_parse``/``_topology``/``_render``/``_load``/``_collect``) pass these tests too. A
function-level ``import hapair.x`` resolves through ``sys.modules["hapair"].__path__`` once the
load-time bootstrap imported ``hapair``, and in salt-call ``<extmods>/utils`` was still on
``sys.path`` at call time (checked with a probe module). So these tests guard the synced layout
itself (e.g. a core file missing from ``<extmods>/utils`` makes ``drbd`` fail to load, which was
checked); tests/unit/test_adapter_imports.py is what forbids imports inside functions.

Fake DRBD: tests/fakebin (real DRBD 8.4.11 / drbd-utils 9.22 captures, see tests/fixtures/fakebin).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

import faketree
import pytest
import yaml
from drbd_helpers import ROOT, SALT_CALL, SECRET, TOPOLOGY, lab_web_pillar

KINDS = ("modules", "states", "grains", "runners", "beacons")
RUNNER = """\
import importlib.util
import sys

if importlib.util.find_spec("hapair") is not None:
    sys.exit("hapair is importable outside Salt's loader: the synced layout is not being tested")
if sys.argv[1:] == ["--check-hidden"]:
    sys.exit(0)
from salt.scripts import salt_call

sys.argv = ["salt-call", *sys.argv[1:]]
salt_call()
"""


def sync_layout(src, extmods):
    """Copy ``src``'s loader folders and ``_utils/`` into ``extmods`` like ``saltutil.sync_all``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for kind in KINDS:
        shutil.copytree(os.path.join(src, f"_{kind}"), os.path.join(extmods, kind), ignore=ignore)
    shutil.copytree(os.path.join(src, "_utils"), os.path.join(extmods, "utils"), ignore=ignore)


def site_path():
    """The venv's site-packages as plain path entries (no .pth processing)."""
    paths = sysconfig.get_paths()
    return os.pathsep.join(dict.fromkeys([paths["purelib"], paths["platlib"]]))


class SyncedNode:
    """node1 of a fake cluster as a salt-call --local whose hapair lives only in <extmods>."""

    def __init__(self, tmp, src=ROOT):
        self.tmp = tmp
        self.cluster = os.path.join(tmp, "c")
        faketree.make_cluster(self.cluster)
        root_dir = os.path.join(tmp, "root")
        # under root_dir: Salt prefixes root_dir to any other absolute extension_modules
        self.extmods = os.path.join(root_dir, "var", "cache", "salt", "minion", "extmods")
        sync_layout(src, self.extmods)
        pillar_dir = os.path.join(tmp, "pillar")
        os.makedirs(pillar_dir)
        with open(os.path.join(pillar_dir, "top.sls"), "w", encoding="utf-8") as handle:
            yaml.safe_dump({"base": {"*": ["topology"]}}, handle)
        with open(os.path.join(pillar_dir, "topology.sls"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(lab_web_pillar(), handle)
        self.conf_dir = os.path.join(tmp, "conf")
        os.makedirs(self.conf_dir)
        config = {
            "id": "node1",
            "root_dir": root_dir,
            "extension_modules": self.extmods,
            "file_client": "local",
            "file_roots": {"base": [os.path.join(ROOT, "salt")]},
            "pillar_roots": {"base": [pillar_dir]},
            "user": "root",
            "grains": {"id": "node1"},
            "enable_fqdns_grains": False,
            "hapair": faketree.minion_config(self.cluster, "node1"),
        }
        with open(os.path.join(self.conf_dir, "minion"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
        self.runner = os.path.join(tmp, "runner.py")
        with open(self.runner, "w", encoding="utf-8") as handle:
            handle.write(RUNNER)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.env["PYTHONPATH"] = site_path()

    def run(self, *args):
        argv = [sys.executable, "-S", self.runner, *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                              cwd=self.tmp, env=self.env)

    def call(self, *args):
        """``salt-call --local`` and its parsed ``local`` value (AssertionError with stderr if none)."""
        proc = self.run("--local", "-c", self.conf_dir, "--out=json", "--log-level=quiet", *args)
        assert proc.stdout.strip(), f"rc {proc.returncode}: {proc.stderr[-2000:]}"
        out = json.loads(proc.stdout)["local"]
        assert SECRET not in proc.stdout + proc.stderr
        return out

    def stage(self, stage):
        state = faketree.read_state(self.cluster)
        state["stage"] = stage
        faketree.write_state(self.cluster, state)


@pytest.fixture
def node(tmp_path):
    if not os.access(SALT_CALL, os.X_OK):
        pytest.skip(f"salt-call not found at {SALT_CALL}")
    return SyncedNode(str(tmp_path))


def test_hapair_is_hidden_from_the_runner(node):
    proc = node.run("--check-hidden")
    assert proc.returncode == 0, proc.stderr
    probe = subprocess.run([sys.executable, "-S", "-c", "import salt.version, hapair"], capture_output=True,
                           text=True, timeout=60, check=False, cwd=node.tmp, env=node.env)
    assert "No module named 'hapair'" in probe.stderr, probe.stderr
    assert os.path.isfile(os.path.join(node.extmods, "utils", "hapair", "drbd_parse.py"))
    assert os.path.isfile(os.path.join(node.extmods, "modules", "hapair_drbd.py"))


def test_synced_module_reads_status_and_renders(node):
    node.stage("05")                                     # r0 up, synced, node1 Primary
    status = node.call("drbd.status")
    assert status["version"] == "8.4.11"
    assert sorted(status["resources"]) == ["minor-0"]  # no config yet: named after the minor
    rendered = node.call("drbd.render", TOPOLOGY)
    res_file = os.path.join(node.cluster, "node1", "etc", "drbd.d", "r0.res")
    assert rendered[res_file]["secret"] is True and rendered[res_file]["mode"] == "0600"
    assert "********" in rendered[res_file]["content"]
    assert node.call("drbd.write_config", TOPOLOGY)[res_file] == "created"
    status = node.call("drbd.status", "r0")
    assert status["resources"]["r0"]["role"] == "Primary"
    assert node.call("drbd.role", "r0") == {"local": "Primary", "peer": "Secondary"}


def test_synced_grains_and_state(node):
    node.stage("05")
    node.call("drbd.write_config", TOPOLOGY)
    grains = node.call("grains.item", "drbd", "drbd_roles")
    assert grains["drbd_roles"] == {"r0": "Primary"}
    assert grains["drbd"]["version"] == "8.4.11"
    assert grains["drbd"]["resources"]["r0"]["disk_state"] == "UpToDate"
    out = node.call("state.single", "drbd.configured", "name=r0", f"topology={TOPOLOGY}", "test=True")
    (result,) = out.values()
    assert result["result"] is True, result
    assert result["comment"] == "r0: DRBD config files are up to date"
