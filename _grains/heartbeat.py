"""Heartbeat v1 grains: is heartbeat running here, how it sees the nodes, which groups this node holds.

.. code-block:: yaml

    heartbeat:
      running: true
      nodes: {node1: active, node2: dead}
      resources: all            # cl_status rscstatus: all, local, foreign, none (transition mid-move)

Target the node that runs its own groups with ``salt -G 'heartbeat:resources:local' ...`` (or
``all``). ``resources`` is None while heartbeat is stopped or refuses cl_status; ``{}`` (no
grain) where cl_status is absent, and then nothing runs. Read by ``hapair.heartbeat.read_status``,
the parser chain ``heartbeat.status`` uses, each cl_status call under a short timeout. Never
raises: an error is logged at warning once per cause (then at debug) and the grain is ``{}``.
The binary comes from the minion config (``hapair:bin:cl_status``).
"""

from __future__ import annotations

import logging
import os
import shutil

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.heartbeat as core
except ImportError:  # synced by saltutil: <extmods>/grains/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.heartbeat as core

from hapair import adapter

log = logging.getLogger(__name__)

TIMEOUT = 3  # seconds per cl_status call: a grains refresh must not hang on a wedged heartbeat


_conf = adapter.opts_value


_run = adapter.bounded_runner(TIMEOUT)  # read_status's runner: no shell, TIMEOUT s at most


def _collect(opts):
    """The heartbeat grains for minion config ``opts``; ``{}`` without running anything where cl_status is absent."""
    binary = _conf(opts, "hapair:bin:cl_status", "cl_status")
    if not isinstance(binary, str) or shutil.which(binary) is None:
        return {}
    status = core.read_status(_run, binary)
    # a timeout raises subprocess.TimeoutExpired: heartbeat() logs it once and the grain is {}
    return {"heartbeat": {"running": status["running"], "nodes": status["nodes"], "resources": status["resources"]}}


_warn_once = adapter.WarnOnce(log, "hapair heartbeat grains")


def heartbeat():
    """Heartbeat grains (see the module docstring); ``{}`` where cl_status is absent or on any error."""
    try:
        return _collect(__opts__)
    except Exception as err:  # noqa: BLE001 - a grain must never break the minion
        _warn_once(f"{type(err).__name__}: {err} (the heartbeat grains are empty until this is fixed)")
        return {}
