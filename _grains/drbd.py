"""DRBD grains: per-resource state, the kernel module version and a flat ``drbd_roles`` for targeting.

.. code-block:: yaml

    drbd:
      version: 8.4.11
      resources:
        r0: {role: Primary, disk_state: UpToDate, connection_state: Connected,
             peer_role: Secondary, peer_disk_state: UpToDate, replication_state: Established,
             served_by_peer: false}
    drbd_roles: {r0: Primary}

    drbd_alerts: {r0: [split-brain, StandAlone]}    # only while something is wrong

A node whose backing disk failed and was detached (``on-io-error detach``) and that serves through
its Connected, UpToDate peer has ``served_by_peer: true`` on the resource and the alert
``Diskless-served-by-peer`` (``salt -G 'drbd_alerts:r0:Diskless-served-by-peer' ...``); the peer
says ``peer-Diskless``. It is not down: see docs/disk-failure.md for the re-attach.

Target with ``salt -G 'drbd_roles:r0:Primary' ...``; ``salt -G 'drbd_alerts:r0:split-brain' ...``
finds a split brain (recorded by hapair's DRBD handler under ``hapair:paths:state_dir``/drbd; the
drbd beacon refreshes the grains when it sends events; the remediation runner sets the record
aside once the resource is Connected again). Never raises; ``{}`` where DRBD is absent.
DRBD 8.4: /proc/drbd plus the config files (no subprocess); DRBD 9: one ``drbdsetup status --json``.
Paths and binaries come from the minion config (``hapair:paths:*``, ``hapair:bin:drbdsetup``).
"""

from __future__ import annotations

import logging
import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.drbd_plan as plan
except ImportError:  # synced by saltutil: <extmods>/grains/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.drbd_plan as plan

from hapair import adapter, drbd_state
from hapair import drbd_parse as parse

log = logging.getLogger(__name__)


_KEYS = ("role", "disk_state", "connection_state", "peer_role", "peer_disk_state", "replication_state")


_conf = adapter.opts_value


def _config_texts(opts):
    """The DRBD config files' texts (drbd.conf, conf_dir/*.res and *.conf): read only on DRBD 8.4."""
    conf = _conf(opts, "hapair:paths:drbd_conf", adapter.PATH_DEFAULTS["drbd_conf"])
    conf_dir = _conf(opts, "hapair:paths:drbd_conf_dir", adapter.PATH_DEFAULTS["drbd_conf_dir"])
    return [t for t in (adapter.read_file(p) for p in adapter.drbd_config_paths(conf, conf_dir)) if t]


_run = adapter.bounded_runner(5)  # read_state's runner: no shell, 5 s at most (a hung drbdsetup raises)


def _collect(opts):
    """Return the DRBD grains for a minion config ``opts`` (pure apart from reads and one command)."""
    state = parse.read_state(adapter.read_file(_conf(opts, "hapair:paths:proc_drbd", adapter.PATH_DEFAULTS["proc_drbd"])),
                             lambda: _config_texts(opts), _run,
                             drbdsetup=_conf(opts, "hapair:bin:drbdsetup", "drbdsetup"), on_error=_warn_once)
    version = state["version"]
    if version is None:
        return {}
    resources, roles = {}, {}
    for name, model in state["resources"].items():
        flat = plan.flatten(model)
        resources[name] = {key: flat.get(key) for key in _KEYS}
        resources[name]["served_by_peer"] = drbd_state.served_by_peer(
            flat.get("disk_state"), flat.get("connection_state"), flat.get("peer_disk_state"))
        roles[name] = flat.get("role")
    out = {"drbd": {"version": version, "resources": resources}, "drbd_roles": roles}
    state_dir = _conf(opts, "hapair:paths:state_dir", adapter.PATH_DEFAULTS["state_dir"])
    alerts = {}
    for name, flat in sorted(resources.items()):
        # the split-brain record: DRBD's split-brain handler wrote it (hapair's drbd-handler)
        found = drbd_state.alerts({"present": True, "disk": flat.get("disk_state"),
                                   "connection": flat.get("connection_state"), "peer_disk": flat.get("peer_disk_state")},
                                  split_brain=os.path.exists(drbd_state.marker_path(state_dir, name, "split-brain")))
        if found:
            alerts[name] = found
    if alerts:  # only while something is wrong: salt -G 'drbd_alerts:*' finds the pairs that need a look
        out["drbd_alerts"] = alerts
    return out


_warn_once = adapter.WarnOnce(log, "hapair drbd grains")


def drbd():
    """DRBD grains (see the module docstring); ``{}`` where DRBD is absent or on any error.

    An error (unreadable status, a ParseError naming the line, a hung drbdsetup) is logged at
    warning once per cause, then at debug: the grains never raise and never flood the log.
    """
    try:
        return _collect(__opts__)
    except Exception as err:  # noqa: BLE001 - a grain must never break the minion
        _warn_once(f"{type(err).__name__}: {err} (the drbd grains are empty until this is fixed)")
        return {}
