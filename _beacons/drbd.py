"""DRBD beacon: fire ``hapair/drbd/<resource>/<kind>`` events on every meaningful state change.

Kinds: ``present``, ``role``, ``disk``, ``connection``, ``replication``, ``peer-role``,
``peer-disk``, ``standalone``, ``peer-diskless``, ``sync-finished``, ``diskless-served`` (the
change detection is pure: ``hapair.remediate.diff``). ``diskless-served`` says this node went
Diskless (its backing disk failed, ``on-io-error detach``) and serves through its Connected,
UpToDate peer: reported for the operator, never remediated (``hapair.events.REPORTED_ONLY``; see
docs/disk-failure.md). Event data: ``{"resource", "kind", "old": summary, "new": summary,
"changed": {field: {"old", "new"}}}`` where a summary is ``hapair.orchestrate.summarise`` of the
normalised resource model. Split brain is reported by DRBD's own split-brain handler (rendered by
hapair) on the same tag tree, ``hapair/drbd/<resource>/split-brain``: status commands only show
StandAlone.

How it watches: with ``mode: auto`` (default) it keeps ``drbdsetup events2 all`` running and reads
``drbd.status`` only when that stream printed something since the last interval, so an idle
cluster costs one ``select()`` per interval. When events2 is missing or exits, it polls
``drbd.status`` at the beacon interval and tries events2 again after 100 intervals
(``mode: poll`` always polls).

Minion config:

.. code-block:: yaml

    beacons:
      drbd:
        - interval: 5
        - mode: auto          # auto | poll

Events go to the master with ``event.send`` (tags as above, not under ``salt/beacon``), so the
reactor maps ``hapair/drbd/*`` (see salt/hapair/reactor/README.md). The beacon itself returns ``[]``.

It also forwards what hapair's DRBD handler recorded (``<state_dir>/drbd/<resource>.<kind>``,
kinds split-brain, fence-peer, before/after-resync-target, out-of-sync) as
``hapair/drbd/<resource>/<kind>`` with ``source: handler-record`` the first interval after the
record appears or changes, and copies it to ``<resource>.<kind>.forwarded`` so the handler's
deferred ``salt-call event.send`` (seconds of CPU on a loaded node) is skipped. It only observes:
it never moves or removes a record. A stale split-brain record (the resource is Connected again)
is set aside by the remediation runner (``hapair.remediate`` / ``salt-run hapair.remediate``) or
removed by ``drbd.discard_my_data_connect``; when a record goes away the grains are refreshed
(``drbd_alerts``). Each event carries ``topology``, read from the hapair header of the resource's
.res file.

Salt rebuilds its beacons (and their ``__context__``) on every pillar refresh, and a grains
refresh that changes grains causes one. The beacon keeps its last reading and its record baseline
in ``<run_dir>/beacon-drbd.json`` (``hapair:paths:run_dir``, default ``/run/hapair``), so nothing
that happens across a rebuild is lost; ``close()`` stops the events2 follower before a rebuild.
After a change it refreshes grains (``drbd_roles``, ``drbd_alerts``) once the changes settle (one
15 s without news, at most 60 s after the first): each such refresh rebuilds every module on the minion
and, on a slow node, would slow the remediation of the very change it reports. Salt does not call
``close()`` for beacons configured in pillar, so a follower left by a rebuild is also stopped by pid
(kept in the same file) when the next beacon instance starts.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import select
import subprocess
import time

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.remediate as remediate
except ImportError:  # synced by saltutil: <extmods>/beacons/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.remediate as remediate

from hapair import adapter, drbd_state
from hapair import drbd_render as render_mod

log = logging.getLogger(__name__)

__virtualname__ = "drbd"
_CTX = "hapair.beacon.drbd"
RETRY_AFTER = 100  # intervals of polling before following events2 again after it exited
GRAINS_QUIET = 15.0  # seconds without a DRBD change before the grains refresh (after a heal, typically)
GRAINS_MAX_WAIT = 60.0  # seconds a grains refresh may wait for the changes to settle
HANDLER_KINDS = drbd_state.RECORDED_KINDS  # the records forwarded (one list: hapair.drbd_state)


def __virtual__():
    return __virtualname__


def _config(config):
    out = {}
    for item in config if isinstance(config, list) else [config or {}]:
        if isinstance(item, dict):
            out.update(item)
    return out


def validate(config):
    """Validate the beacon configuration: a list of one-key dicts; ``mode`` is auto or poll."""
    if not isinstance(config, list):
        return False, "drbd beacon: configuration must be a list"
    conf = _config(config)
    if conf.get("mode", "auto") not in ("auto", "poll"):
        return False, f"drbd beacon: mode must be auto or poll, not {conf.get('mode')!r}"
    return True, "valid"


def _follower(ctx):
    """The running ``drbdsetup events2`` process, started on first use; None when unavailable."""
    proc = ctx.get("proc")
    if proc is not None:
        if proc.poll() is None:
            return proc
        _died(ctx)
    if ctx.get("retry_in", 0) > 0:  # events2 died recently: poll, retry it later
        ctx["retry_in"] -= 1
        return None
    argv = [adapter.binary(__salt__, "drbdsetup"), "events2", "all"]
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    except OSError as err:
        log.debug("drbd beacon: cannot follow %s: %s; polling", argv, err)
        ctx["events2_failed"] = ctx.get("events2_failed", 0) + 1
        ctx["retry_in"] = RETRY_AFTER
        ctx["proc"] = None
        return None
    os.set_blocking(proc.stdout.fileno(), False)
    ctx["proc"] = proc
    ctx["fresh"] = True
    ctx["dirty"] = True  # its pid goes into the run-dir file
    return proc


def _died(ctx):
    proc = ctx.pop("proc", None)
    if proc is not None and proc.stdout is not None:
        proc.stdout.close()
    ctx["events2_failed"] = ctx.get("events2_failed", 0) + 1
    ctx["retry_in"] = RETRY_AFTER


def _stream_moved(proc):
    """True when events2 printed anything since the last call (drains the pipe, never blocks)."""
    moved = False
    fd = proc.stdout.fileno()
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:  # EOF: the follower died
            return True
        moved = True
    return moved


def _snapshot():
    status = __salt__["hapair_drbd.status"]()
    return dict((status or {}).get("resources") or {})


def _topology_of(resource):
    """The topology named in the hapair header of ``<drbd_conf_dir>/<resource>.res``, or None."""
    path = os.path.join(adapter.path(__salt__, "drbd_conf_dir"), f"{resource}.res")
    try:
        with open(path, encoding="utf-8") as handle:
            return render_mod.topology_of(handle.readline())
    except OSError:
        return None


def _state_file():
    return os.path.join(adapter.path(__salt__, "run_dir"), "beacon-drbd.json")


def _restore(ctx):
    """Pick up the last snapshot and record baseline once per ``__context__``.

    Salt rebuilds its beacons, and with them ``__context__``, on every pillar refresh, and a grains
    refresh that changes grains (ours, after each DRBD change) is one. Without this the first
    reading after each rebuild is silent, and a change or handler record landing in that gap is
    lost (seen in the lab: a split-brain record never forwarded). The file lives in the run dir
    (tmpfs), so after a reboot the first reading is silent again; after a minion restart the
    changes made while it was down are reported.
    """
    if ctx.get("restored"):
        return
    ctx["restored"] = True
    try:
        saved = json.loads(adapter.read_file(_state_file()) or "{}")
    except Exception as err:  # noqa: BLE001 - an unreadable file means a silent first reading
        log.debug("drbd beacon: cannot read %s: %s", _state_file(), err)
        return
    if isinstance(saved, dict):
        if isinstance(saved.get("last"), dict):
            ctx.setdefault("last", saved["last"])
        if isinstance(saved.get("records"), dict):
            ctx.setdefault("records", saved["records"])
        ctx.setdefault("grains_due", bool(saved.get("grains_due")))
        _stop_orphan(saved.get("follower_pid"))


def _stop_orphan(pid):
    """Stop the events2 follower of a beacon instance Salt replaced without calling ``close()``."""
    if not isinstance(pid, int) or pid <= 1:
        return
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().split(b"\0")
    except OSError:
        return  # gone already
    if b"events2" in argv and any(os.path.basename(a) == b"drbdsetup" for a in argv):  # not a reused pid
        try:
            os.kill(pid, 15)
        except OSError as err:
            log.debug("drbd beacon: cannot stop the old follower %s: %s", pid, err)


def _save(ctx):
    try:
        proc = ctx.get("proc")
        saved = {"last": ctx.get("last"), "records": ctx.get("records"), "grains_due": ctx.get("grains_due", False),
                 "follower_pid": proc.pid if proc is not None and proc.poll() is None else None}
        adapter.write_file(_state_file(), json.dumps(saved), "0600")
    except Exception as err:  # noqa: BLE001 - the events went out; the file only bridges a rebuild
        log.debug("drbd beacon: cannot write %s: %s", _state_file(), err)


def close(config):  # noqa: ARG001 - Salt's beacon close() signature
    """Stop the ``drbdsetup events2`` follower: Salt calls this before it rebuilds the beacons,
    which would otherwise leave one follower process behind per rebuild."""
    proc = (__context__.get(_CTX) or {}).pop("proc", None)
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _records(ctx):
    """Events for handler records that appeared or changed since the last interval."""
    pattern = os.path.join(adapter.path(__salt__, "state_dir"), "drbd", "*")
    seen = {}
    for path in glob.glob(pattern):
        found = drbd_state.record_kind(os.path.basename(path))
        if found is None:
            continue
        try:
            seen[path] = (os.stat(path).st_mtime_ns, *found)
        except OSError:
            continue
    old = ctx.get("records")
    ctx["records"] = {p: v[0] for p, v in seen.items()}
    if ctx["records"] != old:
        ctx["dirty"] = True
    if old is not None and set(old) - set(seen):  # set aside or removed: the grains' alerts follow
        ctx["records_gone"] = True
    if old is None:  # first reading: what was there before the minion started is no news
        return []
    events = []
    for path, (mtime, resource, kind) in sorted(seen.items()):
        if old.get(path) == mtime:
            continue
        record, text = {}, ""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            record = json.loads(text.strip() or "{}")
        except (OSError, ValueError):
            pass
        events.append({"tag": f"hapair/drbd/{resource}/{kind}", "resource": resource, "kind": kind,
                       "source": "handler-record", "record": record,
                       "topology": record.get("topology") or _topology_of(resource),
                       "_forwarded": (f"{path}.forwarded", text)})
    return events


def _send(events, ctx, refresh=False):
    for event in events:
        tag = event.pop("tag")
        forwarded = event.pop("_forwarded", None)
        if "topology" not in event:
            event["topology"] = _topology_of(event.get("resource"))
        __salt__["event.send"](tag, event)
        if forwarded:  # the handler's deferred salt-call sees its record went out and stays quiet
            try:
                adapter.write_file(forwarded[0], forwarded[1], "0644")
            except Exception as err:  # noqa: BLE001 - the event went out; the note is an optimisation
                log.debug("drbd beacon: cannot write %s: %s", forwarded[0], err)
    ctx["sent"] = ctx.get("sent", 0) + len(events)
    if events or refresh:  # drbd_roles / drbd_alerts follow the change, once it settles
        if not ctx.get("grains_due"):
            ctx["dirty"] = True  # a rebuild before the refresh must still refresh
        ctx["grains_due"] = True
        ctx["last_change"] = time.monotonic()
        ctx.setdefault("due_since", ctx["last_change"])


def _refresh_grains(ctx):
    """Refresh grains once the changes settled: ``GRAINS_QUIET`` s without news, or ``GRAINS_MAX_WAIT``.

    A refresh that changes grains makes Salt refresh the pillar and rebuild every module and
    beacon, seconds of CPU on a slow node; one per event of a link flap (a dozen) starved the
    minion in the lab. The events themselves are never delayed.
    """
    if not ctx.get("grains_due"):
        return
    now = time.monotonic()
    quiet = now - ctx.setdefault("last_change", now)
    waited = now - ctx.setdefault("due_since", now)
    if quiet < GRAINS_QUIET and waited < GRAINS_MAX_WAIT:
        return
    ctx["grains_due"], ctx["dirty"] = False, True
    ctx.pop("last_change", None)
    ctx.pop("due_since", None)
    if "saltutil.refresh_grains" not in __salt__:
        return
    try:
        __salt__["saltutil.refresh_grains"](refresh_pillar=False)
    except Exception as err:  # noqa: BLE001 - events matter more than grains
        log.debug("drbd beacon: grains refresh failed: %s", err)


def beacon(config):
    """Compare DRBD state with the last interval's and send one event per meaningful change.

    Returns ``[]``: events are sent with ``event.send`` under ``hapair/drbd/<resource>/<kind>``.
    """
    conf = _config(config)
    ctx = __context__.setdefault(_CTX, {})
    _restore(ctx)
    try:
        events = _records(ctx)
        _send(events, ctx, refresh=ctx.pop("records_gone", False))
    except Exception as err:  # noqa: BLE001 - a beacon must not die with a bad record
        log.warning("drbd beacon: cannot forward handler records: %s", err)
    try:
        _watch(conf, ctx)
    finally:
        _refresh_grains(ctx)
        if ctx.pop("dirty", False):
            _save(ctx)
    return []


def _watch(conf, ctx):
    proc = _follower(ctx) if conf.get("mode", "auto") == "auto" else None
    if proc is not None:
        moved = _stream_moved(proc) or ctx.pop("fresh", False)
        if proc.poll() is not None:  # exited (no events2 in this DRBD): poll for a while
            _died(ctx)
            moved = True
        if not moved and "last" in ctx:
            return
    try:
        new = _snapshot()
    except Exception as err:  # noqa: BLE001 - a beacon must not die with the module
        log.warning("drbd beacon: cannot read drbd.status: %s", err)
        return
    events = remediate.diff(ctx.get("last"), new)
    if new != ctx.get("last"):
        ctx["dirty"] = True
    ctx["last"] = new
    log.debug("drbd beacon: %d change event(s) for %s", len(events), ", ".join(sorted(new)) or "no resource")
    _send(events, ctx)
