"""Integration fixtures: a real salt-master and two real minions (pytest-salt-factories).

Each minion (node1, node2) points its ``hapair:bin:*``/``hapair:paths:*`` at its own node of
one fake DRBD cluster (tests/fakebin), so the pair behaves like two DRBD nodes on one host.
Modules, states and grains reach the minions through hapair's ``salt.loader`` entry point
(``pip install -e .``); the master serves the repo's ``salt/`` SLS tree and a test pillar.
"""

import os
import shutil
import sys
import tempfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin"))
sys.path.insert(0, os.path.join(ROOT, "tests", "functional"))

import faketree  # noqa: E402
from drbd_helpers import lab_web_pillar  # noqa: E402

pytest.importorskip("saltfactories", reason="pytest-salt-factories is not installed")


@pytest.fixture(scope="session")
def short_root():
    """A short root (unix socket paths must stay under 107 characters)."""
    path = tempfile.mkdtemp(prefix="hpi-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def salt_factories_config(short_root):
    return {"root_dir": os.path.join(short_root, "sf"), "slow_stop": False}


@pytest.fixture(scope="session")
def fake_cluster(short_root):
    root = os.path.join(short_root, "drbd")
    faketree.make_cluster(root, sync_seconds=2)
    return root


@pytest.fixture(scope="session")
def salt_master(salt_factories, short_root):
    pillar_dir = os.path.join(short_root, "pillar")
    os.makedirs(pillar_dir, exist_ok=True)
    with open(os.path.join(pillar_dir, "top.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"base": {"node*": ["topology"]}}, handle)
    with open(os.path.join(pillar_dir, "topology.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(lab_web_pillar(), handle)
    overrides = {
        "interface": "127.0.0.1",
        "ipv6": False,
        "file_roots": {"base": [os.path.join(ROOT, "salt")]},
        "pillar_roots": {"base": [pillar_dir]},
        "fileserver_list_cache_time": 20,
    }
    master = salt_factories.salt_master_daemon("hp-master", overrides=overrides)
    with master.started(start_timeout=120):
        yield master


def _minion(master, fake_cluster, node):
    overrides = {"hapair": faketree.minion_config(fake_cluster, node), "enable_fqdns_grains": False}
    return master.salt_minion_daemon(node, overrides=overrides)


@pytest.fixture(scope="session")
def minions(salt_master, fake_cluster):
    node1 = _minion(salt_master, fake_cluster, "node1")
    node2 = _minion(salt_master, fake_cluster, "node2")
    with node1.started(start_timeout=120), node2.started(start_timeout=120):
        yield {"node1": node1, "node2": node2}
