"""Build a fake two-node DRBD cluster on disk for the functional and integration tests.

``make_cluster(root)`` creates ``root/cluster.json`` (the shared state the ``fake`` binary
reads and changes) and, per node, ``root/<node>/{bin,etc/drbd.d,state}``, with ``bin/drbdadm``,
``bin/drbdsetup``, ``bin/blkid`` and ``bin/blockdev`` symlinked to ``tests/fakebin/fake``. ``minion_config(...)``
returns the ``hapair:`` config keys that point a minion at one node's tree.
"""

import importlib.machinery
import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NODES = ("node1", "node2")
TOOLS = ("drbdadm", "drbdsetup", "blkid", "blockdev")


def make_cluster(root, loaded=True, stage=None, nodes=None, sync_seconds=1.5):
    """Create the fake cluster; ``nodes`` overrides per-node state ({"node2": {"md": True, "up": True}})."""
    state = {"loaded": loaded, "stage": stage, "sync": None, "primaries": [], "allow_two_primaries": False,
             "sync_seconds": sync_seconds,
             "nodes": {n: {"md": False, "up": False, "signature": None} for n in NODES}}
    for node, values in (nodes or {}).items():
        state["nodes"][node].update(values)
    os.makedirs(root, exist_ok=True)
    for node in NODES:
        for sub in ("bin", "etc/drbd.d", "state"):
            os.makedirs(os.path.join(root, node, sub), exist_ok=True)
        for tool in TOOLS:
            link = os.path.join(root, node, "bin", tool)
            if not os.path.lexists(link):
                os.symlink(os.path.join(HERE, "fake"), link)
    write_state(root, state)
    return root


def read_state(root):
    with open(os.path.join(root, "cluster.json"), encoding="utf-8") as handle:
        return json.load(handle)


def write_state(root, state):
    """Replace the shared state and re-render every node's proc_drbd (through the fake itself)."""
    with open(os.path.join(root, "cluster.json"), "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    fake = _fake()
    fake.render_proc(root, fake._load(root))


def _fake():
    loader = importlib.machinery.SourceFileLoader("hapair_fakebin", os.path.join(HERE, "fake"))
    spec = importlib.util.spec_from_loader("hapair_fakebin", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def argv_log(root, node):
    """Every argv the fake tools of ``node`` were called with, as lists (tool first)."""
    path = os.path.join(root, node, "argv.log")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def clear_log(root, node):
    path = os.path.join(root, node, "argv.log")
    if os.path.exists(path):
        os.remove(path)


def minion_config(root, node):
    """The ``hapair`` config block pointing a minion at ``root/<node>``."""
    base = os.path.join(root, node)
    return {
        "bin": {**{tool: os.path.join(base, "bin", tool) for tool in TOOLS},
                "salt_call": os.path.join(base, "bin", "salt-call")},  # absent: the DRBD handler sends nothing
        "paths": {
            "proc_drbd": os.path.join(base, "proc_drbd"),
            "drbd_conf": os.path.join(base, "etc", "drbd.conf"),
            "drbd_conf_dir": os.path.join(base, "etc", "drbd.d"),
            "state_dir": os.path.join(base, "state"),
            "run_dir": os.path.join(base, "run"),
            "drbd_handler": os.path.join(base, "lib", "drbd-handler"),
        },
    }
