"""Heartbeat v1 execution module for hapair: the files from a topology, status, switchover.

Files: ha.cf, haresources, authkeys, and for groups that relocate paths the ``drbdlinks``
resource script and each group's drbdlinks config (``hapair.heartbeat.render``). ``authkeys``
holds a secret: it is written mode 0600 and its key never appears in a return value, a diff or
an error (``hapair.secrets.mask``). Status reads ``cl_status``; ``standby``/``takeover`` run
``hb_standby``/``hb_takeover`` (the planned switchover). Paths and binaries from config::

    hapair:
      paths: {ha_dir: /etc/ha.d, conf_dir: /etc/hapair}   # conf_dir: default "hapair" beside ha_dir
      bin: {cl_status: cl_status, hb_standby: /usr/share/heartbeat/hb_standby,
            hb_takeover: /usr/share/heartbeat/hb_takeover, ip: ip}
"""

from __future__ import annotations

import os
import shutil

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


# Debian's heartbeat 3.0.6 ships these two outside PATH
BINARIES = {"cl_status": "cl_status", "hb_standby": "/usr/share/heartbeat/hb_standby",
            "hb_takeover": "/usr/share/heartbeat/hb_takeover"}


def _bin(name):
    return adapter.binary(__salt__, name, BINARIES[name])


def _files(topo):
    ha_dir = adapter.path(__salt__, "ha_dir")
    # the drbdlinks configs: hapair:paths:conf_dir, by default "hapair" beside ha_dir (/etc/hapair)
    conf_dir = __salt__["config.get"]("hapair:paths:conf_dir", None) or os.path.join(
        os.path.dirname(ha_dir.rstrip("/")) or "/", "hapair")
    try:
        return core.render(topo, ha_dir, conf_dir)
    except (HapairError, ValueError) as err:
        raise CommandExecutionError(str(mask(str(err), core.secrets(topo))))


def render(topology):
    """Return every heartbeat file of a topology: ``{path: {"content", "mode", "secret"}}`` (ha.cf,
    haresources, authkeys; the drbdlinks script and configs when a group relocates paths).

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
    """Write the heartbeat files (authkeys 0600, the drbdlinks script 0755) after hapair's checks.
    Returns ``plan_config`` of what changed (secrets masked). Heartbeat reads them when it starts.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.write_config apache
    """
    topo = _load(topology)
    problems = core.check(topo)
    if problems:
        raise CommandExecutionError("refusing heartbeat config: " + "; ".join(problems))
    return _install(topo, test=False)


def group_services(topology):
    """Return the services heartbeat starts on this node (``hapair.heartbeat.group_services``):
    the units that must stay disabled at boot, e.g. ``["apache2"]``.

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.group_services apache
    """
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology, stack="heartbeat")
    try:
        return core.group_services(topo, node)
    except HapairError as err:
        raise CommandExecutionError(str(err))


def _run(argv):
    """``hapair.heartbeat.read_status``'s runner: ``adapter.run`` (no shell, a timeout); exit 1 is
    heartbeat's "normal failure" (stopped, a dead node), anything else (11 bad parameter, 12 timed
    out, 13) raises."""
    res = adapter.run(__salt__, list(argv), ok_codes=(0, 1))
    return res["retcode"], res["stdout"], res["stderr"]


def status():
    """Return heartbeat's view from this node, cheaply; never raises when heartbeat is not
    installed or not running::

        {"running": bool, "nodes": {hostname: "active|up|init|dead|ping"},
         "resources": "all|local|foreign|none|transition" | None, "holds": bool}

    ``holds``: this node holds its own groups (``all`` or ``local``). ``resources`` is None when
    heartbeat does not run or does not answer (a Pacemaker-managed heartbeat).

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.status
    """
    binary = _bin("cl_status")
    if not _found(binary):
        return core.summarise({"running": False}, {}, None)
    try:
        return core.read_status(_run, binary)
    except HapairError as err:
        raise CommandExecutionError(str(err))


def vip_problems(topology):
    """Return why a group's virtual IP cannot live on this node (``[]`` when none): its
    ``ip.interface`` does not exist here, or holds no IPv4 address in the VIP's network. Reads
    ``ip -j -4 addr show dev <iface>`` once per interface (``hapair.heartbeat.vip_problems``).

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.vip_problems apache
    """
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology, stack="heartbeat",
                                       require_node=False)
    try:
        texts = {iface: _ip_addr(iface) for iface in core.vip_interfaces(topo, node)}
        return core.vip_problems(topo, node, texts)
    except HapairError as err:
        raise CommandExecutionError(str(err))


def _ip_addr(iface):
    """``ip -j -4 addr show dev <iface>``'s stdout; None when the device does not exist (exit 1)."""
    res = adapter.run(__salt__, [adapter.binary(__salt__, "ip", "ip"), "-j", "-4", "addr", "show", "dev", iface],
                      ok_codes=(0, 1))
    if res["retcode"] == 0:
        return res["stdout"]
    if "does not exist" in (res["stderr"] or ""):
        return None
    raise CommandExecutionError(f"ip -j -4 addr show dev {iface} failed: {res['stderr']}")


def _found(binary):
    return os.access(binary, os.X_OK) if os.path.isabs(binary) else shutil.which(binary) is not None


def _switch(name, resources):
    from salt.exceptions import SaltInvocationError  # noqa: PLC0415 - as the other adapters raise it

    try:
        which = core.standby_set(resources)
    except HapairError as err:
        raise SaltInvocationError(str(err))
    binary = _bin(name)
    if not _found(binary):
        raise CommandExecutionError(f"{binary} not found (install heartbeat or set hapair:bin:{name})")
    if not status()["running"]:
        # hb_standby/hb_takeover append to heartbeat's FIFO: with no daemon reading it they block
        raise CommandExecutionError(f"heartbeat is not running on this node: {name} {which} would not be heard")
    res = adapter.run(__salt__, [binary, which], timeout=adapter.ACTION_TIMEOUT)
    return {"argv": res["argv"], "retcode": res["retcode"], "stdout": res["stdout"]}


def standby(resources="all"):
    """Give this node's resource groups to the peer (``hb_standby <resources>``; resources:
    all, foreign, local or failback). Heartbeat must run here. Returns
    ``{"argv": [...], "retcode": 0, "stdout": "..."}``; the move itself is asynchronous: watch
    ``heartbeat.status`` (``resources`` goes ``transition`` then ``none`` here).

    CLI Example:

    .. code-block:: bash

        salt node01 heartbeat.standby
        salt node01 heartbeat.standby resources=foreign
    """
    return _switch("hb_standby", resources)


def takeover(resources="all"):
    """Take the resource groups over from the peer (``hb_takeover <resources>``; resources:
    all, foreign, local or failback). Heartbeat must run here. Returns
    ``{"argv": [...], "retcode": 0, "stdout": "..."}``; asynchronous like ``standby``.

    CLI Example:

    .. code-block:: bash

        salt node02 heartbeat.takeover
    """
    return _switch("hb_takeover", resources)
