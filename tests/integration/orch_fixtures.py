"""A salt-master and two minions (node1, node2) on fake DRBD nodes, for the orchestration,
runner and reactor tests. Import the fixtures explicitly::

    import orch_fixtures as fx
    stack, cluster, master, minions, short_root = fx.stack, fx.cluster, fx.master, fx.minions, fx.short_root

The daemons are started once per session (the first module that asks) and shared; each module
starts from the default pillar and a reset fake cluster.

The fake nodes are tests/fakebin (real DRBD 8.4.11 captures replayed, actions modelled); each
minion's ``hapair:bin:*``/``hapair:paths:*`` point at its own fake tree. Extension modules come
from the editable install's ``salt.loader`` entry point; the SLS tree is served from a folder of
symlinks to salt/orch and salt/hapair (the formula and its reactor/) (serving the repo root makes sync slow).

Pillar (every minion and the master): topology ``orchweb`` (seed 000's r0 on node1/node2 made
single-primary, no filesystem, stack none: the part of the bootstrap the fakes model), topology
``broken`` (two errors) and ``hapair:orchestration: {packages: false}`` (no apt in tests).
"""

import copy
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin"))
import faketree  # noqa: E402
from saltout import last_json  # noqa: E402

SECRET = "Orch-s3cr3t-never-shown"
NODES = ("node1", "node2")


def topologies():
    """The test pillar: ``orchweb`` from the repo's lab_web topology, and an invalid ``broken``."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        lab = yaml.safe_load(handle)["hapair"]["topologies"]["lab_web"]
    web = copy.deepcopy(lab)
    res = web["drbd"]["resources"]["r0"]
    res.update(mode="single-primary", primary="node1", shared_secret=SECRET)
    res["remediation"] = {"split_brain": "manual", "cooldown": 0, "max_attempts": 5}
    web.pop("filesystems", None)
    web["cluster"] = {"stack": "none", "name": "orchcl"}
    broken = copy.deepcopy(web)
    broken["drbd"]["resources"]["r0"]["port"] = 99999
    broken["nodes"]["node2"]["address"] = broken["nodes"]["node1"]["address"]
    return {"hapair": {"topologies": {"orchweb": web, "broken": broken},
                       "orchestration": {"packages": False, "connect_timeout": 30, "sync_timeout": 60,
                                         "gate_timeout": 30}}}


# One stack (a master, two minions, one fake cluster) for every module that imports these
# fixtures: pytest would build module-imported fixtures once per module, so the started daemons
# are kept here and stopped when the session ends.
_STACK: dict = {}


def _stack(request, event_listener, salt_factories_config_):
    if _STACK:
        return _STACK
    from saltfactories.manager import FactoriesManager  # noqa: PLC0415

    root = tempfile.mkdtemp(prefix="hpo-", dir="/tmp")  # unix socket paths must stay < 107 chars
    _STACK["short_root"] = root
    request.session.config.add_cleanup(_stop)
    _STACK["cluster"] = faketree.make_cluster(os.path.join(root, "fake"))
    config = dict(salt_factories_config_, root_dir=os.path.join(root, "sf"), slow_stop=False,
                  inject_sitecustomize=False)
    for key in ("coverage_rc_path", "coverage_db_path", "scripts_dir"):
        config.pop(key, None)
    factories = FactoriesManager(event_listener=event_listener, **config)
    files = os.path.join(root, "files")
    os.makedirs(files, exist_ok=True)
    for name in ("orch", "hapair"):
        os.symlink(os.path.join(ROOT, "salt", name), os.path.join(files, name))
    pillar = write_pillar(root, topologies())
    overrides = {
        "interface": "127.0.0.1",
        "ipv6": False,
        "file_roots": {"base": [files]},
        "pillar_roots": {"base": [pillar]},
        "fileserver_list_cache_time": 20,
        "reactor": [{"hapair/drbd/*": ["salt://hapair/reactor/drbd.sls"]}],
        "open_mode": True,
    }
    master = factories.salt_master_daemon("orch-master", overrides=overrides)
    master.start(start_timeout=120)
    _STACK["daemons"] = [master]
    _STACK["master"] = master
    minions = {}
    for node in NODES:
        minion = master.salt_minion_daemon(node, overrides={
            "hapair": faketree.minion_config(_STACK["cluster"], node),
            "grains": {"id": node},
        })
        minion.start(start_timeout=120)
        _STACK["daemons"].append(minion)
        minions[node] = minion
    _STACK["minions"] = minions
    write_config(minions)
    return _STACK


def _stop():
    for daemon in reversed(_STACK.pop("daemons", [])):
        daemon.terminate()
    root = _STACK.pop("short_root", None)
    _STACK.clear()
    if root:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(request, event_listener, _salt_factories_config):
    """The shared stack; each module starts from the default pillar and a reset fake cluster."""
    shared = _stack(request, event_listener, _salt_factories_config)
    write_pillar(shared["short_root"], topologies())
    reset(shared["cluster"])
    return shared


@pytest.fixture(scope="module")
def short_root(stack):
    return stack["short_root"]


@pytest.fixture(scope="module")
def cluster(stack):
    """The fake DRBD cluster root (``faketree.make_cluster``); tests reset it as they need."""
    return stack["cluster"]


@pytest.fixture(scope="module")
def master(stack):
    return stack["master"]


@pytest.fixture(scope="module")
def minions(stack):
    return stack["minions"]


def write_pillar(short_root, pillar):
    """Replace the master's test pillar (compiled afresh by every runner call)."""
    path = os.path.join(short_root, "pillar")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "top.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"base": {"*": ["topology"]}}, handle)
    with open(os.path.join(path, "topology.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(pillar, handle)
    return path


def run(master, *args, timeout=180):
    """``salt-run`` on the test master: ``(exit code, parsed JSON or text, raw output)``."""
    cli = master.salt_run_cli(timeout=timeout)
    ret = cli.run(*args)
    data = ret.data if ret.data is not None else last_json(ret.stdout)
    return ret.returncode, data if data is not None else ret.stdout, ret.stdout + ret.stderr


def write_config(minions):
    """Write the orchweb DRBD config on both fake nodes (the 8.4 module names minors from it)."""
    for minion in minions.values():
        ret = minion.salt_call_cli(timeout=120).run("drbd.write_config", "orchweb")
        assert ret.returncode == 0, ret.stdout + ret.stderr


def reset(cluster, keep_config=True, **kwargs):
    """Put the fake cluster back to a known state and forget the argv logs."""
    faketree.make_cluster(cluster, **kwargs)
    for node in NODES:
        faketree.clear_log(cluster, node)
        marker = os.path.join(cluster, node, "state")
        shutil.rmtree(marker, ignore_errors=True)
        os.makedirs(marker, exist_ok=True)
        if keep_config:
            continue
        for name in os.listdir(os.path.join(cluster, node, "etc", "drbd.d")):
            os.remove(os.path.join(cluster, node, "etc", "drbd.d", name))
        conf = os.path.join(cluster, node, "etc", "drbd.conf")
        if os.path.exists(conf):
            os.remove(conf)


def actions(cluster, node):
    """The fake tools' argv calls on ``node`` that change state (reads filtered out)."""
    reads = {"status", "role", "cstate", "dstate", "get-gi", "show-gi", "sh-status", "dump", "dump-xml",
             "--version", "sh-ll-dev", "sh-md-dev", "events2", "show"}
    out = []
    for argv in faketree.argv_log(cluster, node):
        tool, args = os.path.basename(argv[0]), argv[1:]
        if tool in ("blkid", "blockdev") or (args and args[0] in reads):
            continue
        out.append([tool, *args])
    return out


__all__ = ["stack", "cluster", "master", "minions", "short_root", "run", "reset", "actions", "write_config", "write_pillar", "topologies",
           "SECRET", "subprocess"]
