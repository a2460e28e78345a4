"""Heartbeat v1 execution module for hapair: ha.cf, haresources and authkeys from a topology.

``authkeys`` holds a secret: it is written mode 0600 and its key never appears in a return
value, a diff or an error (``hapair.secrets.mask``). Paths from config::

    hapair:
      paths: {ha_dir: /etc/ha.d}
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.heartbeat as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.heartbeat as core

from hapair import adapter
from hapair.errors import HapairError
from hapair.secrets import mask
from salt.exceptions import CommandExecutionError

__virtualname__ = "heartbeat"


def __virtual__():
    return __virtualname__  # renders and writes files only; the daemon need not be installed


def _load(topology):
    """The normalised heartbeat topology; this minion need not be one of its nodes."""
    topo, _node = adapter.load_topology(__salt__, __pillar__, __opts__, topology,
                                        stack="heartbeat", require_node=False)
    return topo


def _files(topo):
    try:
        return core.render(topo, adapter.path(__salt__, "ha_dir"))
    except (HapairError, ValueError) as err:
        raise CommandExecutionError(str(mask(str(err), core.secrets(topo))))


def render(topology):
    """Return ha.cf, haresources and authkeys of a topology: ``{path: {"content", "mode", "secret"}}``.

    The authkeys key is masked (``********``) in what this returns.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.render apache
    """
    topo = _load(topology)
    return mask(_files(topo), core.secrets(topo))


def check(topology):
    """Return hapair's own problems with a heartbeat topology (``[]`` when none), e.g. a node
    listed twice, which heartbeat itself accepts.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.check apache
    """
    return core.check(_load(topology))


def plan_config(topology):
    """Return the files that differ from the rendered ones: ``{path: {"diff", "mode", "old_mode"}}``
    plus ``adapter.plan_file``'s ``path``, ``changed`` and ``action``.

    Diffs never show a key: the topology's secrets and the keys of the authkeys on disk are masked.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.plan_config apache
    """
    return _install(_load(topology), test=True)


def _install(topo, test):
    """``adapter.install_files`` of the rendered files (authkeys 0600 before the key), the changed ones."""
    plans = adapter.install_files(_files(topo), secrets=core.secrets(topo), test=test)
    return {path: plan for path, plan in plans.items() if plan["changed"]}


def write_config(topology):
    """Write ha.cf, haresources and authkeys (0600) for a topology after hapair's checks.
    Returns ``plan_config`` of what changed (secrets masked). Heartbeat rereads them on reload.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.write_config apache
    """
    topo = _load(topology)
    problems = core.check(topo)
    if problems:
        raise CommandExecutionError("refusing heartbeat config: " + "; ".join(problems))
    return _install(topo, test=False)
