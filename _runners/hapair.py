"""hapair runner: validate a topology, show the pair's state, gate orchestration steps, verify with a
canary file, and remediate DRBD faults under the topology's policy.

Every function reads the topology from the pillar the master compiles for its own id, else for a
connected minion that is one of that topology's nodes (never another minion's pillar; when none
holds it the call fails naming every pillar tried), and talks to the two minions named by the
topology's ``minion_id``\\ s through the LocalClient. Remediation trusts no event (``hapair.events``):
it decides only from the topology the sender's .res was rendered from, for a sender that is one of
its nodes. Decisions are made by the pure core
(``hapair.orchestrate`` gates, ``hapair.remediate`` planner); this module only gathers and acts.

Failures set the runner's retcode (so an orchestration step fails) and return
``{"result": False, "comment": ..., "retcode": 1}`` (so ``salt-run`` exits 1); no traceback, no
secrets.

.. code-block:: bash

    salt-run hapair.validate web
    salt-run hapair.status web
    salt-run hapair.status web --out=json
    salt-run hapair.wait_for web synced timeout=3600
    salt-run hapair.canary web www
    salt-run hapair.remediate resource=r0 topology=web
    salt-run hapair.pause web reason="disk swap on web2"
    salt-run hapair.reconfigure web dry_run=True
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import uuid

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.topology as topology_mod
except ImportError:  # synced by saltutil: <extmods>/runners/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.topology as topology_mod

from hapair import adapter, drbd_state, fields, orchestrate, report
from hapair import bootstrap as bootstrap_mod
from hapair import changes as changes_mod
from hapair import cman as cman_mod
from hapair import events as events_mod
from hapair import failover as failover_mod
from hapair import maintenance as maintenance_mod
from hapair import remediate as remediate_mod
from hapair import watch as watch_mod
from hapair.errors import HapairError, ValidationError
from hapair.secrets import mask

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows masters
    fcntl = None

log = logging.getLogger(__name__)

__virtualname__ = "hapair"

HISTORY_KEEP = remediate_mod.HISTORY_KEEP


def __virtual__():
    return __virtualname__


# --------------------------------------------------------------------------- helpers


def _fail(comment, **extra):
    """Mark the runner job failed (retcode 1) and return the failure dict."""
    __context__["retcode"] = 1  # fails a salt.runner orchestration step
    out = {"result": False, "comment": comment, "retcode": 1}  # salt-run's exit code
    out.update(extra)
    return out


def _invalid(err):
    """A failed validation, each error printed once: the count in the comment, every error (with its
    pillar path) in ``errors``."""
    errors = [str(e) for e in err.errors]
    return _fail(f"{str(err).splitlines()[0].rstrip(':')}: each under errors, with its pillar path", errors=errors)


def _say(line):
    """Print one line on the operator's terminal now (``salt-run`` runs the runner in its own
    process: a plain line, where a progress event would come out through the outputter as a
    mapping), and log it."""
    log.info("hapair: %s", line)
    print(line, flush=True)  # the operator's live view of a long run


def _progress(message):
    """Print a progress line on ``salt-run`` (runner job event) and log it."""
    log.info("hapair: %s", message)
    try:
        __jid_event__.fire_event({"message": message}, "progress")
    except NameError:  # called outside a runner job (tests, python API)
        pass
    except Exception:  # noqa: BLE001 - a progress line must never stop the work it reports on
        # seen in the lab: a reactor-started runner's __jid_event__ is a weak proxy whose
        # referent is gone by its second resource (ReferenceError), which killed the rejoin
        log.debug("hapair: progress event not sent: %s", message, exc_info=True)


def _pillar_for(minion_id):
    import salt.pillar  # noqa: PLC0415
    import salt.utils.minions  # noqa: PLC0415

    mid, grains, _ = salt.utils.minions.get_minion_data(minion_id, __opts__)
    grains = grains or {"id": minion_id}
    return salt.pillar.Pillar(__opts__, grains, mid or minion_id, __opts__.get("saltenv") or "base",
                              pillarenv=__opts__.get("pillarenv")).compile_pillar()


def _candidate_ids():
    """The master's own id, then the connected minions' (sorted)."""
    import salt.utils.minions  # noqa: PLC0415

    ids = [__opts__.get("id")]
    try:
        ids += sorted(salt.utils.minions.CkMinions(__opts__).connected_ids() or [])
    except Exception:  # noqa: BLE001 - best effort: only the master's own pillar is read then
        log.info("hapair: cannot list connected minions", exc_info=True)
    return [i for i in dict.fromkeys(ids) if i]


def _node_minions(pil):
    """``{topology: [minion ids of its nodes]}`` from the raw pillar (no validation needed)."""
    out = {}
    for tname, raw in topology_mod.topologies(pil).items():
        nodes = raw.get("nodes") if isinstance(raw, dict) else None
        if isinstance(nodes, dict):
            out[tname] = [spec.get("minion_id", key) if isinstance(spec, dict) else key for key, spec in nodes.items()]
    return out


def _pillar(topology=None, pillar=None, minion=None):
    """The pillar holding ``hapair:topologies``, read from a node, never from another minion.

    ``pillar`` when given (tests, the python API). Otherwise the master's own pillar when it
    holds ``topology`` (or, for an event, a topology that has ``minion`` as a node); else the
    pillar of a connected minion that is itself a node of ``topology`` in that pillar (for an
    event: the sender's own). Raises ``HapairError`` naming every pillar tried when none holds it;
    an event whose sender is no node anywhere gets the master's pillar (the caller says "not ours").
    """
    if pillar is not None:
        return pillar
    master_id = __opts__.get("id")
    tried = []

    def read(mid):
        try:
            return _pillar_for(mid)
        except Exception as err:  # noqa: BLE001 - a pillar that does not compile is reported, not used
            tried.append(f"{mid} (pillar error: {type(err).__name__}: {err})")
            return None

    own = read(master_id) if master_id else None
    own_nodes = _node_minions(own or {})
    if topology is None and minion is None:
        return own or {}
    if topology is None:  # an event: the master's view of the sender, else the sender's own pillar
        if events_mod.member_of(minion, own_nodes):
            return own
        theirs = read(minion)
        return theirs if theirs and events_mod.member_of(minion, _node_minions(theirs)) else (own or {})
    if topology in own_nodes:
        return own
    if own is not None:
        tried.append(f"{master_id} (the master's own: no topology {topology})")
    for mid in _candidate_ids():
        if mid == master_id:
            continue
        compiled = read(mid)
        if compiled is None:
            continue
        nodes = _node_minions(compiled)
        if topology not in nodes:
            tried.append(f"{mid} (no topology {topology})")
        elif mid not in nodes[topology]:
            tried.append(f"{mid} (has {topology} but is not one of its nodes: not used)")
        else:
            return compiled
    raise HapairError(f"topology {topology}: no pillar of the master or of one of its nodes holds it; "
                      f"tried {'; '.join(tried)}")


def _load(topology, pillar=None):
    """Return the normalised topology or raise ValidationError (every error at once)."""
    return topology_mod.load(_pillar(topology, pillar), topology)


def _client():
    """The master's LocalClient, wrapped so that a job it cannot publish reads as unanswered minions.

    ``get_local_client`` and ``LocalClient.cmd`` raise ``SaltClientError`` (and other
    ``salt.exceptions.SaltException``\\ s: request timeout, authentication) when the master cannot
    publish a job, e.g. its publisher is down; the wrapper (``_Reaching``) answers such a ``cmd`` for
    every targeted minion as a failed return naming it and the error, so every caller reports it
    as it reports a minion that did not answer: ``{"result": False, "comment": ...}``, never a
    traceback.
    """
    try:
        import salt.client  # noqa: PLC0415

        return _Reaching(salt.client.get_local_client(__opts__["conf_file"], mopts=__opts__))
    except _client_errors() as err:
        return _Reaching(None, err)


def _client_errors():
    """What the LocalClient raises when the master cannot publish or collect a job."""
    try:
        from salt.exceptions import SaltException  # noqa: PLC0415
    except ImportError:  # pragma: no cover - a master always has Salt
        return (OSError,)
    return (SaltException, OSError)


class _Reaching:
    """``LocalClient.cmd`` that never raises a client error: see ``_client``."""

    def __init__(self, client, error=None):
        self.client, self.error = client, error

    def cmd(self, tgt, fun, *args, **kwargs):
        error = self.error
        if error is None:
            try:
                return self.client.cmd(tgt, fun, *args, **kwargs)
            except _client_errors() as err:
                error = err
        minions = [tgt] if isinstance(tgt, str) else list(tgt)
        why = " ".join(f"{type(error).__name__}: {error}".split()).rstrip(":")  # one line
        log.warning("hapair: the master could not reach %s for %s: %s", ", ".join(minions), fun, why)
        log.debug("hapair: the LocalClient's error", exc_info=error)
        return {mid: {"ret": f"ERROR: the master could not send it {fun}: {why}", "retcode": 1} for mid in minions}


def _minions(topo):
    """``{node name: minion id}`` in node order, each id checked (``orchestrate.minions``)."""
    return dict(zip(topo["node_order"], orchestrate.minions(topo), strict=True))


def _call(topo, fun, arg=(), kwarg=None, timeout=30, nodes=None):
    """Run ``fun`` on the topology's minions; return ``({node: value or None}, {node: error text})``.

    Always one function per job: Salt's ``saltutil.is_running``, which every ``state.sls`` consults,
    crashes while a compound job runs on the minion (seen in the lab: an orchestration's state run
    failed while a remediation's compound fact job ran). Where several reads are needed at once, a
    hapair execution-module function returns them together (``drbd.remediation_facts``).
    """
    ids = _minions(topo)
    if nodes:
        ids = {n: m for n, m in ids.items() if n in nodes}
    raw = _client().cmd(list(ids.values()), fun, arg=list(arg), kwarg=kwarg or None, tgt_type="list",
                        timeout=timeout, full_return=True)
    return _answers(raw, ids)


def _answers(raw, ids):
    """A LocalClient ``full_return`` answer as ``({node: value or None}, {node: error text})``."""
    values, errors = {}, {}
    for node, mid in ids.items():
        entry = raw.get(mid)
        if entry is None:
            values[node], errors[node] = None, f"{mid} did not answer"
            continue
        ret = entry.get("ret") if isinstance(entry, dict) else entry
        retcode = entry.get("retcode", 0) if isinstance(entry, dict) else 0
        if retcode or _is_error_text(ret):
            values[node], errors[node] = None, f"{mid}: {ret}"
        else:
            values[node] = ret
    return values, errors


def _is_error_text(ret):
    """Salt returns a string when a function is missing or raised (``ERROR: ...``)."""
    if not isinstance(ret, str):
        return False
    # a bare traceback with no retcode: how Salt answers for a function that raised in some paths
    return ret.startswith(("ERROR", "Passed invalid arguments", "The minion function caused an exception",
                           "Traceback (most recent call last)")) or (
        ret.startswith("'") and ret.rstrip().endswith("is not available."))


def _drbd_lists(values):
    """``drbd.status`` returns ``{"resources": {name: model}}``; gates take ``[model, ...]``."""
    out = {}
    for node, value in values.items():
        if value is None:
            out[node] = None
        elif isinstance(value, dict) and "resources" in value:
            out[node] = list((value.get("resources") or {}).values())
        else:
            out[node] = list(value)
    return out


def _observe(topo, condition):
    """Gather what ``condition`` needs from both minions (the gate registry,
    ``hapair.orchestrate.OBSERVES``): ``(observed, errors)``."""
    if orchestrate.follows_placement(topo, condition):  # roles where the groups run: DRBD and mounts, one job
        values, errors = _call(topo, "hapair_drbd.report")
        return {"drbd": _drbd_lists({n: v.get("status") if isinstance(v, dict) else None for n, v in values.items()}),
                "mounts": {n: v.get("mounts") if isinstance(v, dict) else None for n, v in values.items()}}, errors
    key, function = orchestrate.OBSERVES[condition]
    values, errors = _call(topo, function)
    return {key: _drbd_lists(values) if key == "drbd" else values}, errors


def _with_errors(message, errors):
    if not errors:
        return message
    return f"{message}; errors: {'; '.join(f'{n}: {e}' for n, e in sorted(errors.items()))}"


def _wait_event(seconds):
    """Wait up to ``seconds`` for any hapair/drbd event on the master bus (returns early on one)."""
    try:
        import salt.utils.event  # noqa: PLC0415

        with salt.utils.event.get_master_event(__opts__, __opts__["sock_dir"], listen=True) as bus:
            bus.get_event(wait=seconds, tag="hapair/drbd/", match_type="startswith")
    except Exception:  # noqa: BLE001 - no event bus (python API): plain poll interval
        time.sleep(seconds)


# --------------------------------------------------------------------------- public functions


DEPLOYED_TIMEOUT = 10  # seconds validate waits for a node's drbd.rendered_topologies (a powered-off node)


def validate(topology, pillar=None, deployed=True):
    """Validate the pillar topology; fail (retcode 1) listing every error at once.

    With ``deployed`` (the default) the nodes are also asked which topologies their hapair .res
    files come from (``drbd.rendered_topologies``, one job), and a clash with one of those
    (resource, minor, device, disk, address:port, mountpoint, cluster stack:
    ``hapair.topology.deployed_conflicts``) fails too. A node that does not answer is named in
    the comment, not failed. The bootstrap validates with ``deployed=False``: each node's
    ``drbd.configured`` makes the same check on itself before writing, at no extra job.

    Returns ``{"result": True, "topology": name, "nodes": {node: minion_id}, "resources": [...]}``.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.validate web
        salt-run hapair.validate web deployed=False
    """
    try:
        deployed = fields.flag(deployed, "deployed")
        pil = _pillar(topology, pillar)
        topo = topology_mod.load(pil, topology)
    except ValidationError as err:
        return _invalid(err)
    except HapairError as err:  # no pillar of the master or of a node holds it
        return _fail(str(err))
    comment = f"topology {topology} is valid"
    if deployed:
        rendered, unanswered = _call(topo, "hapair_drbd.rendered_topologies", timeout=DEPLOYED_TIMEOUT)
        by_minion = {_minions(topo)[node]: value if isinstance(value, dict) else None
                     for node, value in rendered.items()}
        clashes = topology_mod.deployed_conflicts(pil, topology, by_minion)
        if clashes:
            return _invalid(ValidationError(clashes))
        if unanswered:
            comment += f"; not checked against what runs on {', '.join(sorted(unanswered))} (no answer)"
    return {"result": True, "topology": topology, "nodes": _minions(topo),
            "resources": sorted(topo["drbd"]["resources"]),
            "filesystems": sorted(topo.get("filesystems") or {}),
            "comment": comment}


BOOTSTRAP_SLS = "orch.hapair.bootstrap"


def bootstrap(topology, orchestration=None, pillar=None):
    """Run the two-node bootstrap of ``topology`` and print its progress as it happens.

    The same orchestration as ``salt-run state.orchestrate orch.hapair.bootstrap
    pillar='{"topology": "<t>"}'``, which prints nothing until it ends: here every node step is
    printed as it starts and as each node returns (states, changes, the first failure), every
    gate as it waits and when it is met, and resync percent with ETA while the gates wait
    (``hapair.watch``, fed from the master's event bus). ``orchestration``: the
    ``hapair:orchestration`` options for this run (connect_timeout, sync_timeout, ...).
    Returns ``{"result", "topology", "seconds", "steps": [{"id", "result", "comment"}], "comment"}``
    (retcode 1 when a step failed).

    CLI Example:

    .. code-block:: bash

        salt-run hapair.bootstrap lab_web
        salt-run hapair.bootstrap web orchestration='{"sync_timeout": 7200}'
    """
    import threading  # noqa: PLC0415

    try:
        name = fields.require("topology", topology, "topology")
        opts = bootstrap_mod.options(orchestration)
    except HapairError as err:
        return _fail(str(err))
    run_pillar = {"topology": name, **({"hapair": {"orchestration": opts}} if orchestration is not None else {})}
    if pillar is not None:
        run_pillar.update({k: v for k, v in pillar.items() if k not in run_pillar})
    try:
        minions = orchestrate.minions(_load(name, pillar))
    except (HapairError, ValueError):
        minions = []  # the orchestration's validate step reports why
    watch = watch_mod.Watch(name, minions=minions)
    done, stop = {}, threading.Event()
    master_opts = dict(__opts__)

    def listen():  # a side thread only reads the bus and prints; the orchestration keeps the main one
        with _bus(master_opts) as bus:
            while bus is not None and not stop.is_set():
                event = bus.get_event(wait=1, full=True)
                if isinstance(event, dict):
                    for line in watch.feed(event.get("tag"), event.get("data")):
                        _say(line)

    started = time.monotonic()
    _say(f"bootstrap {name}: {BOOTSTRAP_SLS} started")
    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        done["ret"] = __salt__["state.orchestrate"](BOOTSTRAP_SLS, pillar=run_pillar)
    except Exception as err:  # noqa: BLE001 - reported as a failed return
        done["error"] = f"{type(err).__name__}: {err}"
    finally:
        stop.set()
        listener.join(5)
    seconds = round(time.monotonic() - started, 1)
    if "error" in done:
        return _fail(f"bootstrap {name}: the orchestration raised {done['error']}", topology=name, seconds=seconds)
    steps = _orchestration_steps(done.get("ret"))
    failed = [s for s in steps if s["result"] is not True]
    if failed or not steps:
        return _fail(f"bootstrap {name} failed after {seconds}s at {failed[0]['id'] if failed else 'the start'}: "
                     f"{failed[0]['comment'] if failed else done.get('ret')}", topology=name, seconds=seconds,
                     steps=steps)
    return {"result": True, "topology": name, "seconds": seconds, "steps": steps,
            "comment": f"bootstrap {name}: {len(steps)} steps done in {seconds}s"}


@contextlib.contextmanager
def _bus(opts):
    """The master's event bus, listening (None when there is none: the python API in tests)."""
    try:
        import salt.utils.event  # noqa: PLC0415

        bus = salt.utils.event.get_master_event(opts, opts["sock_dir"], listen=True)
    except Exception:  # noqa: BLE001 - no bus: the run still runs, without live lines
        log.debug("hapair: no master event bus for progress", exc_info=True)
        yield None
        return
    try:
        yield bus
    finally:
        bus.destroy()


def _orchestration_steps(ret):
    """``[{"id", "result", "comment"}]`` in run order from ``state.orchestrate``'s return."""
    data = ret.get("data", ret) if isinstance(ret, dict) else {}
    states = {}
    for value in data.values() if isinstance(data, dict) else []:  # {"<master id>_master": {state key: step}}
        if isinstance(value, dict):
            states.update({k: v for k, v in value.items() if isinstance(v, dict) and "result" in v})
    ordered = sorted(states.items(), key=lambda kv: kv[1].get("__run_num__", 0))
    return [{"id": v.get("__id__", k), "result": v.get("result"), "comment": " ".join(str(v.get("comment")).split())[:500]}
            for k, v in ordered]


def drift(topology, pillar=None):
    """Per node, what differs between the pillar, the DRBD files on disk and the running kernel,
    before anything is applied (``drbd.drift`` on both nodes, one job each; reads only).

    Returns ``{"result", "topology", "nodes": {node: drbd.drift or None}, "drifted": {node: [what]},
    "comment"}``; ``result`` is True whether or not anything drifted (a node that does not answer
    is named in the comment). No secret is returned.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.drift lab_web
    """
    try:
        topo = _load(topology, pillar)
    except (HapairError, ValueError) as err:
        return _fail(str(err))
    values, errors = _call(topo, "hapair_drbd.drift", [topology], timeout=60)
    drifted = {}
    for node, value in values.items():
        if not isinstance(value, dict):
            continue
        what = [f"{path} {state}" for path, state in sorted((value.get("files") or {}).items()) if state != "matches"]
        for res, seen in sorted((value.get("resources") or {}).items()):
            if seen.get("pillar_vs_file"):
                what.append(f"{res}: pillar differs from the file ({seen.get('pillar_vs_file_class')})")
            if seen.get("file_vs_kernel"):
                what.append(f"{res}: the kernel differs from the file ({seen.get('file_vs_kernel_class')}): "
                            f"{len(seen['file_vs_kernel'])} adjust command(s)")
        drifted[node] = what
    parts = [f"{node}: {'; '.join(w) if w else 'no drift'}" for node, w in drifted.items()]
    comment = _with_errors("; ".join(parts) or "no node answered", errors)
    return {"result": True, "topology": topology, "nodes": values, "drifted": drifted, "comment": comment}


def translate(topology, pillar=None):
    """Print a cman topology (seed 004's ``stack: cman``) as the same topology for corosync + dlm.

    cman is packaged by no current distribution and modern Salt does not run on RHEL 6: the
    bootstrap refuses ``stack: cman`` and names this runner. The pillar text it prints
    (``hapair.cman.corosync_equivalent_yaml``) keeps the nodes, node ids, DRBD and filesystems
    (the cluster name too: GFS2 lock tables stay valid), moves what has a corosync/dlm equivalent,
    lists what it dropped and why, and masks every secret. It writes nothing.
    Returns ``{"result", "topology", "pillar": text, "comment"}``.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.translate hardcore
    """
    try:
        pil = _pillar(topology, pillar)
        topology_mod.load(pil, topology)  # a valid topology only: every error with its pillar path
        raw = topology_mod.topologies(pil)[topology]
        if (raw.get("cluster") or {}).get("stack") != "cman":
            return _fail(f"topology {topology} runs stack {(raw.get('cluster') or {}).get('stack', 'none')}, "
                         "not cman: nothing to translate")
        text = cman_mod.corosync_equivalent_yaml(raw, topology)
    except ValidationError as err:
        return _fail(str(err))
    except (HapairError, ValueError, TypeError) as err:
        return _fail(str(err))
    return {"result": True, "topology": topology, "pillar": text,
            "comment": f"topology {topology} for stack corosync + dlm (secrets masked: put them back)"}


def wait_for(topology, condition, resource=None, filesystem=None, timeout=600, interval=2, pillar=None):
    """Wait until ``condition`` holds on both nodes; fail with what was awaited and what was seen.

    ``condition``: ``up`` | ``connected`` | ``synced`` | ``demoted`` | ``roles`` | ``o2cb_online`` | ``quorate``
    | ``dlm_up`` | ``mounted``. ``resource``/``filesystem`` narrow the check (default: every one of
    the topology). Polls the minions' observed state (``drbd.status``, ``o2cb.status``,
    ``corosync.quorum_status``, ``corosync.dlm_status``, ``mount.active``), waking early on
    any ``hapair/drbd/*`` event. While a resync runs it prints progress lines
    (``web2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB``) on ``salt-run`` and fires them as
    ``hapair/orch/<topology>/progress`` events (watch an orchestration with
    ``salt-run state.event 'hapair/*' pretty=True``).

    CLI Example:

    .. code-block:: bash

        salt-run hapair.wait_for web connected timeout=120
        salt-run hapair.wait_for web synced resource=r0 timeout=3600
        salt-run hapair.wait_for lab_gfs2 dlm_up timeout=120
    """
    try:
        topo = _load(topology, pillar)
        resources = [resource] if isinstance(resource, str) else resource
        filesystems = [filesystem] if isinstance(filesystem, str) else filesystem
        orchestrate.gate(condition, topo, {}, resources, filesystems)  # unknown names fail here
    except (HapairError, ValueError) as err:
        return _fail(str(err))
    deadline = time.monotonic() + float(timeout)
    start = time.monotonic()
    last_progress = None
    while True:
        observed, errors = _observe(topo, condition)
        result = orchestrate.gate(condition, topo, observed, resources, filesystems)
        lines = orchestrate.progress_lines(result)
        if lines and lines != last_progress:
            for line in lines:
                _progress(line)
            _fire(f"hapair/orch/{topology}/progress", {"condition": condition, "lines": lines,
                                                       "progress": result.progress})
            last_progress = lines
        if result.met:
            out = result.as_dict()
            out.update(result=True, waited_seconds=round(time.monotonic() - start, 1), comment=result.message())
            return out
        if time.monotonic() >= deadline:
            out = result.as_dict()
            message = _with_errors(f"gave up after {timeout}s: {result.message()}", errors)
            out.pop("message", None)
            return _fail(message, **out)
        _wait_event(min(float(interval), max(0.1, deadline - time.monotonic())))


def status(topology=None, table=None, pillar=None):
    """One table for the pair: resource, node, role, disk, connection, sync %, mounts, o2cb, alerts.

    Plain ``salt-run hapair.status web`` prints the table; ``--out=json`` (or ``table=False``)
    returns the data: ``{"topology", "rows": [{"resource", "node", "minion", "role", "disk",
    "connection", "replication", "peer_role", "peer_disk", "sync_percent", "eta_seconds",
    "mounts", "o2cb", "split_brain", "alerts"}]}`` (and ``group``, where this node runs the
    resource's service group, for a topology with groups). Split brain and StandAlone are named in
    ``alerts``. A pause of auto-remediation (``hapair.pause``) is a line under the table
    (``paused`` in the data).

    CLI Example:

    .. code-block:: bash

        salt-run hapair.status web
        salt-run hapair.status web --out=json
    """
    try:
        pil = _pillar(topology, pillar)
    except HapairError as err:
        return _fail(str(err))
    if topology is None:
        known = topology_mod.names(pil)
        if len(known) != 1:
            return _fail(f"name a topology: {', '.join(known) or 'none in the pillar'}")
        topology = known[0]
    try:
        topo = topology_mod.load(pil, topology)
    except ValidationError as err:
        return _fail(str(err))
    with_o2cb = (topo.get("cluster") or {}).get("stack") == "o2cb"
    with_groups = bool(topo.get("groups"))
    answers, errors = _call(topo, "hapair_drbd.report", kwarg={"resources": sorted(topo["drbd"]["resources"]),
                                                        "o2cb": with_o2cb, "heartbeat": with_groups})  # one job
    answers = {n: v if isinstance(v, dict) else {} for n, v in answers.items()}
    drbd_values = {n: v.get("status") for n, v in answers.items()}
    mounts = {n: v.get("mounts") for n, v in answers.items()}
    o2cb = {n: v.get("o2cb") for n, v in answers.items()} if with_o2cb else {}
    split = {res: {n: bool((v.get("split_brain") or {}).get(res)) for n, v in answers.items()}
             for res in sorted(topo["drbd"]["resources"])}
    heartbeat = {n: v.get("heartbeat") for n, v in answers.items()} if with_groups else None
    rows = report.rows(topo, _drbd_lists(drbd_values), mounts, o2cb, split, heartbeat)
    paused = _read_history(_paused_path()).get(topology) or {}
    data = {"topology": topology, "rows": rows, "errors": errors, "paused": paused}
    if table is None:
        table = __opts__.get("fun") == "hapair.status" and __opts__.get("output") in (None, "nested", "txt")
    if not table:
        return data
    notes = [maintenance_mod.describe({**paused[scope], "scope": scope}, topology) for scope in sorted(paused)]
    return "\n".join([_table(rows), *notes])


_table = report.table  # kept for callers of the runner's old helper


def canary(topology, filesystem=None, pillar=None):
    """Write a unique canary file on one node's mount and read it back on the other node.

    Uses the filesystem's ``mount_on`` nodes (default: every filesystem mounted on two nodes).
    Returns ``{"result": True, "checks": [{"filesystem", "path", "written_on", "read_on"}]}``;
    fails saying what was read instead. The file is removed afterwards. A topology with service
    groups: each group's ``canary`` file is written where the group runs and read from the other
    node through the VIP (``http.query``); checks ``[{"group", "path", "url", "written_on", "read_on"}]``.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.canary web www
        salt-run hapair.canary lab_apache www
    """
    try:
        topo = _load(topology, pillar)
    except HapairError as err:
        return _fail(str(err))
    if topo.get("groups"):
        return _group_canary(topo, filesystem)
    fss = topo.get("filesystems") or {}
    names = [filesystem] if filesystem else sorted(n for n, fs in fss.items() if len(fs.get("mount_on") or []) == 2)
    checks = []
    for name in names:
        if name not in fss:
            return _fail(f"unknown filesystem {name!r} in topology {topology}")
        fs = fss[name]
        writer, reader = (fs.get("mount_on") or topo["node_order"])[:2]
        path = os.path.join(fs["mountpoint"], f".hapair-canary-{topology}-{name}")
        token = f"hapair canary {uuid.uuid4()} written on {writer} at {time.time():.3f}\n"
        wrote, err = _call(topo, "file.write", [path, token], nodes=[writer])
        if wrote.get(writer) is None:
            return _fail(f"canary for {name}: cannot write {path} on {writer}: {err.get(writer)}", checks=checks)
        got, err = _call(topo, "file.read", [path], nodes=[reader])
        _call(topo, "file.remove", [path], nodes=[writer])
        if (got.get(reader) or "").strip() != token.strip():
            return _fail(f"canary for {name}: wrote {token.strip()!r} at {path} on {writer}, read "
                         f"{(got.get(reader) or err.get(reader))!r} on {reader}", checks=checks)
        checks.append({"filesystem": name, "path": path, "written_on": writer, "read_on": reader})
    return {"result": True, "checks": checks, "comment": f"canary crossed nodes on {', '.join(names) or 'nothing'}"}


def _group_canary(topo, only=None):
    """Each service group's canary: a token written to its ``file`` on the node that runs it, read
    from the other node at ``http://<VIP>:<port><url_path>`` (``http.query``): data, VIP and service."""
    holders = orchestrate.group_holders(topo, {"heartbeat": _call(topo, "heartbeat.status")[0]})
    checks = []
    for name, group in sorted(topo["groups"].items()):
        if (only and name != only) or not group["canary"]:
            continue
        if len(holders[name]) != 1:
            return _fail(f"canary for group {name}: it runs on {' and '.join(holders[name]) or 'no node'}",
                         checks=checks)
        writer = holders[name][0]
        reader = next(n for n in topo["node_order"] if n != writer)
        canary = group["canary"]
        url = f"http://{group['ip']['address']}:{canary['port']}{canary['url_path']}"
        token = f"hapair canary {uuid.uuid4()} written on {writer} at {time.time():.3f}\n"
        wrote, err = _call(topo, "file.write", [canary["file"], token], nodes=[writer])
        if wrote.get(writer) is None:
            return _fail(f"canary for group {name}: cannot write {canary['file']} on {writer}: {err.get(writer)}",
                         checks=checks)
        got, err = _call(topo, "http.query", [url], kwarg={"text": True, "status": True}, nodes=[reader])
        _call(topo, "file.remove", [canary["file"]], nodes=[writer])
        text = (got.get(reader) or {}).get("text") if isinstance(got.get(reader), dict) else None
        if (text or "").strip() != token.strip():
            return _fail(f"canary for group {name}: wrote {token.strip()!r} to {canary['file']} on {writer}, "
                         f"{reader} read {(got.get(reader) or err.get(reader))!r} from {url}", checks=checks)
        checks.append({"group": name, "path": canary["file"], "url": url, "written_on": writer, "read_on": reader})
    return {"result": True, "checks": checks,
            "comment": f"canary read through the VIP of {', '.join(c['group'] for c in checks) or 'no group'}"}


FAILOVER_TIMEOUT = 120  # seconds failover waits for the group to show on the target
STEP_TIMEOUT = 300  # seconds one failover node step (state run) may take: lxc-stop, umount, mount, lxc-start


def failover(topology, group, to=None, dry_run=False, timeout=FAILOVER_TIMEOUT, force=False, pillar=None):
    """Move a service group (or a group's DRBD resource) to node ``to``.

    Observes both nodes (one ``drbd.report heartbeat=True`` job each), then refuses, with the
    reason and the override, when the move is not safe (``hapair.failover.plan``: ``to`` does not
    answer, its disk is not UpToDate, a split brain is pending, ...). Under heartbeat it asks
    heartbeat (``heartbeat.takeover`` on ``to``) and waits until heartbeat shows the group there.
    Under stack none (no cluster manager) the runner is the engine, on the operator's command
    only: ``group-stop`` on the node the group leaves (containers stopped, filesystem unmounted,
    Secondary), then ``group-takeover`` on ``to`` (Primary, mounted, containers running), then
    both nodes observed. With the other node down, ``force=True`` states that it is down: refused
    still while ``to``'s DRBD is Connected to it; who forced it and when is recorded
    (``failover_history``) and fired as ``hapair/failover/<topology>/<group>``.
    ``dry_run=True`` shows the plan only. Returns ``{"result", "group", "from", "to", "runs_on",
    "seconds", "comment"}``.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.failover lab_apache www to=node2
        salt-run hapair.failover lab_apache r0 to=node1 dry_run=True
        salt-run hapair.failover lab_crossed r0 to=node2
        salt-run hapair.failover lab_crossed store1 to=node2 force=True
    """
    try:
        dry_run, force = fields.flag(dry_run, "dry_run"), fields.flag(force, "force")
        timeout = float(timeout)
        topo = _load(topology, pillar)
        node = _node_of(topo, to) if to is not None else None
        started = time.monotonic()
        resource = topo["groups"][failover_mod.group_of(topo, group)]["resource"]
        observed, _errors = _failover_observe(topo, resource)
        step = failover_mod.plan(topo, group, node, observed, force=force)
    except (HapairError, ValueError, TypeError) as err:
        return _fail(str(err))
    out = {"group": step["group"], "from": step["from"], "to": step["to"]}
    if step["action"] == "none" or dry_run:
        return {"result": True, **out, "runs_on": step["from"], "seconds": 0.0, "plan": step,
                "comment": ("dry run: " if dry_run and step["action"] != "none" else "") + step["comment"]}
    if step["action"] == "switch":
        return _switch(topo, step, started, timeout, out)
    taken, errors = _call(topo, "heartbeat.takeover", kwarg={"resources": step["which"]}, nodes=[step["to"]])
    if taken.get(step["to"]) is None:
        return _fail(f"heartbeat.takeover on {step['to']} failed: {errors.get(step['to'])}", **out)
    deadline = started + timeout
    holders = []
    while time.monotonic() < deadline:
        observed, _errors = _failover_observe(topo, resource)
        holders = orchestrate.group_holders(topo, observed)[step["group"]]
        if holders == [step["to"]]:
            seconds = round(time.monotonic() - started, 1)
            return {"result": True, **out, "runs_on": step["to"], "seconds": seconds,
                    "comment": f"group {step['group']} runs on {step['to']} after {seconds}s"}
        _wait_event(1)
    return _fail(f"group {step['group']} not on {step['to']} after {timeout}s: it runs on "
                 f"{' and '.join(holders) or 'no node'}", **out, runs_on=holders)


def _switch(topo, step, started, timeout, out):
    """Stack none: group-stop where the group leaves (unless forced: that node is down), then
    group-takeover on the target, then where it runs, observed on both nodes."""
    gname, res = step["group"], step["resource"]
    if step["forced"]:
        _record_failover(topo, step)
    if step["stop_on"]:
        failed = _node_step(topo, step["stop_on"], "group-stop", gname)
        if failed:
            return _fail(f"group {gname} not stopped on {step['stop_on']} (nothing started on {step['to']}): "
                         f"{failed}", **out)
    failed = _node_step(topo, step["to"], "group-takeover", gname)
    if failed:
        return _fail(f"group {gname} not started on {step['to']}: {failed}", **out)
    observed, errors = _failover_observe(topo, res)
    runs = orchestrate.placement(topo, {"drbd": observed["models"], "mounts": observed["mounts"]}).get(gname)
    seconds = round(time.monotonic() - started, 1)
    if runs != step["to"]:
        return _fail(_with_errors(f"group {gname} is not seen running on {step['to']} after its takeover "
                                  f"(runs on {runs or 'no node'})", errors), **out, runs_on=runs)
    return {"result": True, **out, "runs_on": runs, "seconds": seconds, "forced": step["forced"],
            "comment": f"group {gname} runs on {runs} after {seconds}s" + (" (forced)" if step["forced"] else "")}


def _node_step(topo, node, step, group):
    """Apply failover node step ``step`` for ``group`` on ``node`` (``orch.hapair.node.step``);
    None when every state succeeded, else the failed states' comments (one line each)."""
    mid = _minions(topo)[node]
    pillar = {"topology": topo["name"], "step": step, "groups": [group]}
    raw = _client().cmd([mid], "state.sls", arg=[bootstrap_mod.STEP_SLS],
                        kwarg={"pillar": pillar, "queue": True}, tgt_type="list", timeout=STEP_TIMEOUT,
                        full_return=True)
    entry = raw.get(mid)
    ret = entry.get("ret") if isinstance(entry, dict) else None
    if not isinstance(ret, dict):
        return f"{mid}: {ret if entry is not None else 'did not answer'}"
    return "; ".join(_failed_states(ret)) or None


def failover_history(topology=None, pillar=None):
    """The forced failovers recorded on this master (who forced which group to which node, when),
    newest last; ``topology`` narrows them.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.failover_history
        salt-run hapair.failover_history lab_crossed
    """
    records = _read_history(_failover_history_path()).get("forced") or []
    if topology is not None:
        records = [r for r in records if r.get("topology") == topology]
    return {"result": True, "forced": records,
            "comment": f"{len(records)} forced failover(s) recorded" + (f" for {topology}" if topology else "")}


def _failover_history_path():
    return os.path.join(_state_dir("failover"), "history.json")


def _record_failover(topo, step):
    """Who forced the failover of a group and when: on disk before anything runs, and as an event."""
    record = {"topology": topo["name"], "group": step["group"], "resource": step["resource"], "to": step["to"],
              "from": step["from"], "by": _operator(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "reason": step["comment"]}
    path = _failover_history_path()
    with _lock(f"{path}.lock", wait=LOCK_WAIT):
        history = _read_history(path)
        history["forced"] = [*(history.get("forced") or []), record][-200:]
        _write_history(path, history)
    log.warning("hapair: forced failover of group %s (%s) to %s by %s", step["group"], topo["name"], step["to"],
                record["by"])
    _fire(f"hapair/failover/{topo['name']}/{step['group']}", {**record, "forced": True})
    return record


def _operator():
    """Who runs this runner: the user behind sudo, else the process's user (never a secret)."""
    import getpass  # noqa: PLC0415

    who = os.environ.get("SUDO_USER") or ""
    try:
        who = who or getpass.getuser()
    except (KeyError, OSError):
        who = who or f"uid {os.getuid()}"
    return who


def _node_of(topo, name):
    """A node named by its node name or its minion id."""
    for node, mid in _minions(topo).items():
        if name in (node, mid):
            return node
    raise ValueError(f"{name!r} is not a node of topology {topo['name']}: one of {', '.join(_minions(topo))}")


def _failover_observe(topo, resource):
    """``({"heartbeat": {node: status}, "drbd": {node: {role, disk, connection, split_brain}},
    "models": {node: [drbd models]}, "mounts": {node: mount.active}}, errors)`` for ``resource``,
    one ``drbd.report`` job per node (None: the node did not answer)."""
    answers, errors = _call(topo, "hapair_drbd.report", kwarg={"resources": [resource],
                                                        "heartbeat": topo["cluster"]["stack"] == "heartbeat"})
    lists = _drbd_lists({n: v.get("status") if isinstance(v, dict) else None for n, v in answers.items()})
    heartbeat, drbd = {}, {}
    mounts = {n: (v.get("mounts") if isinstance(v, dict) else None) for n, v in answers.items()}
    for node, value in answers.items():
        if not isinstance(value, dict):
            heartbeat[node] = drbd[node] = None
            continue
        seen = orchestrate.summarise(orchestrate.find(lists.get(node), resource))
        heartbeat[node] = value.get("heartbeat")
        drbd[node] = {"role": seen["role"], "disk": seen["disk"], "connection": seen["connection"],
                      "split_brain": bool((value.get("split_brain") or {}).get(resource))}
    return {"heartbeat": heartbeat, "drbd": drbd, "models": lists, "mounts": mounts}, errors


# --------------------------------------------------------------------------- reconfigure

QUIESCE_SLS = "hapair.clean"


def reconfigure(topology, dry_run=False, pillar=None):
    """Apply a disruptive pillar change (new addresses, ports, protocol, secret, o2cb cluster) to a
    live pair on both nodes in a safe order; the states refuse it one node at a time.

    Reads both nodes first (``drbd.drift``, ``o2cb.change_facts`` or ``corosync.change_facts``,
    ``drbd.report``: one job each)
    and plans with ``hapair.changes.reconfigure_plan``: nothing to do; online changes only (the
    bootstrap applies them in place); or the phases: each node reaches its peer's new addresses,
    auto-remediation paused (``hapair.pause``, unless it already is), the groups stopped (stack
    none), ``hapair.clean`` on both nodes (services, exports, filesystems unmounted, the stack
    offline, DRBD down; never data or metadata), then ``orch.hapair.bootstrap`` (the new configs,
    DRBD up and Connected with no resync of unchanged data, roles, stack, mounts, groups, canary)
    and auto-remediation resumed. Refused before anything runs: a node that does not answer, a
    split brain, a resync or a disconnected resource, a re-format, a new backing disk. After a
    failure it stops there, auto-remediation stays paused, and a second call resumes from the
    bootstrap (a record under the master's cachedir, ``hapair/reconfigure/<topology>.json``).
    ``dry_run=True`` returns the plan and runs nothing.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.reconfigure web dry_run=True
        salt-run hapair.reconfigure web
    """
    try:
        name = fields.require("topology", topology, "topology")
        dry_run = fields.flag(dry_run, "dry_run")
        topo = _load(name, pillar)
    except ValidationError as err:
        return _invalid(err)
    except (HapairError, ValueError) as err:
        return _fail(str(err))
    path = os.path.join(_state_dir("reconfigure"), f"{name}.json")
    record = _read_history(path)
    found, observed, errors = _reconfigure_facts(topo)
    # a finished quiesce is skipped; one that stopped halfway runs again (each state is idempotent)
    plan = changes_mod.reconfigure_plan(name, found, observed, resuming=record.get("phase"))
    if plan["action"] == "refused":
        return _fail(_with_errors(f"reconfigure {name} refused: {'; '.join(plan['refused'])}", errors), plan=plan)
    if plan["action"] == "none":
        return {"result": True, "plan": plan,
                "comment": f"{name}: nothing to reconfigure (pillar, files and kernel agree on both nodes)"}
    summary = "; ".join(f"{cls}: {', '.join(keys)}" for cls, keys in changes_mod.summary(plan["changes"]).items())
    phases = [p["phase"] for p in plan["phases"]]
    if dry_run:
        return {"result": True, "plan": plan,
                "comment": f"dry run: {name}: {summary or 'an earlier run to finish'}; would run {', '.join(phases)}"}
    started = time.monotonic()
    if plan["action"] == "bootstrap":
        ret = bootstrap(name, pillar=pillar)
        return {**ret, "plan": plan, "comment": f"{name}: online changes only ({summary}): {ret.get('comment')}"}
    unreachable = _unreachable_peers(topo)
    if unreachable:
        return _fail(f"reconfigure {name} refused before any change: {'; '.join(unreachable)}", plan=plan)
    paused_here = bool(record.get("paused_here"))
    if _paused_entry(name, None) is None:  # the whole topology's pause
        pause(name, reason=f"hapair.reconfigure {name}", pillar=pillar)
        paused_here = True
    record = {"phase": "quiesced" if record.get("phase") == "quiesced" else "quiescing", "paused_here": paused_here,
              "by": _operator(),
              "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "changes": summary}
    _write_history(path, record)
    stay = (f"auto-remediation of {name} stays paused; fix it and run salt-run hapair.reconfigure {name} "
            "again (it goes on from there)")
    if "quiesce" in phases:
        _say(f"reconfigure {name}: stopping the pair ({summary})")
        stopped = _stop_groups(topo) or _quiesce(topo)
        if stopped:
            return _fail(f"reconfigure {name} stopped while stopping the pair: {stopped}; {stay}", plan=plan)
        _write_history(path, dict(record, phase="quiesced"))
    _say(f"reconfigure {name}: bootstrapping with the new configuration")
    ret = bootstrap(name, pillar=pillar)
    if not ret.get("result"):
        return _fail(f"reconfigure {name}: the bootstrap failed: {ret.get('comment')}; {stay}", plan=plan,
                     bootstrap=ret)
    os.remove(path)
    if paused_here:
        resume(name, pillar=pillar)
    seconds = round(time.monotonic() - started, 1)
    return {"result": True, "topology": name, "seconds": seconds, "plan": plan, "bootstrap": ret,
            "comment": f"{name} reconfigured in {seconds}s ({summary or 'an earlier run finished'})"}


def _reconfigure_facts(topo):
    """``(found, observed, errors)`` for ``hapair.changes.reconfigure_plan``: one job per function."""
    name = topo["name"]
    drift, errors = _call(topo, "hapair_drbd.drift", [name], timeout=60)
    found = {n: (changes_mod.drift_changes(v) if isinstance(v, dict) else None) for n, v in drift.items()}
    if topo["cluster"]["stack"] in ("o2cb", "corosync"):
        stack, more = _call(topo, f"{topo['cluster']['stack']}.change_facts", [name], timeout=60)
        errors.update(more)
        found = {n: (None if v is None or stack.get(n) is None else v + list(stack[n].get("changes") or []))
                 for n, v in found.items()}
    resources = sorted(topo["drbd"]["resources"])
    answers, more = _call(topo, "hapair_drbd.report", kwarg={"resources": resources})
    errors.update(more)
    lists = _drbd_lists({n: v.get("status") if isinstance(v, dict) else None for n, v in answers.items()})
    observed = {}
    for res in resources:
        for node, value in answers.items():
            if not isinstance(value, dict):
                found[node] = None
                continue
            seen = orchestrate.summarise(orchestrate.find(lists.get(node), res))
            observed.setdefault(res, {})[node] = {
                "up": seen["present"], "disk": seen["disk"], "connection": seen["connection"],
                "split_brain": bool((value.get("split_brain") or {}).get(res))}
    return found, observed, errors


def _unreachable_peers(topo):
    """Each node pings its peer's addresses of the new config (``topology.peer_addresses``);
    ``["<node> cannot reach <address>", ...]``."""
    out = []
    for node in topo["node_order"]:
        for address in topology_mod.peer_addresses(topo, node):
            answers, errors = _call(topo, "network.ping", [address], kwarg={"return_boolean": True, "timeout": 5},
                                    nodes=[node], timeout=60)
            if answers.get(node) is not True:
                out.append(f"{node} cannot reach {address}" + (f" ({errors[node]})" if errors.get(node) else ""))
    return out


def _stop_groups(topo):
    """Stack none: ``group-stop`` on the node each group runs on; None, or what failed."""
    if topo["cluster"]["stack"] != "none":
        return None
    for gname, group in sorted((topo.get("groups") or {}).items()):
        observed, _errors = _failover_observe(topo, group["resource"])
        runs = orchestrate.placement(topo, {"drbd": observed["models"], "mounts": observed["mounts"]}).get(gname)
        failed = _node_step(topo, runs, "group-stop", gname) if runs else None
        if failed:
            return f"group-stop {gname} on {runs}: {failed}"
    return None


def _quiesce(topo):
    """``hapair.clean`` on both nodes at once; None, or the failed states of each node."""
    ids = _minions(topo)
    raw = _client().cmd(list(ids.values()), "state.apply", arg=[QUIESCE_SLS],
                        kwarg={"pillar": {"topology": topo["name"]}, "queue": True}, tgt_type="list",
                        timeout=STEP_TIMEOUT, full_return=True)
    problems = []
    for node, mid in ids.items():
        entry = raw.get(mid)
        ret = entry.get("ret") if isinstance(entry, dict) else None
        if not isinstance(ret, dict):
            problems.append(f"{mid}: {ret if entry is not None else 'did not answer'}")
            continue
        problems += [f"{node} {line}" for line in _failed_states(ret)]
    return "; ".join(problems) or None


def _failed_states(ret):
    """One line per state of a ``state.sls``/``state.apply`` return that did not succeed, in run order."""
    return [f"{state.get('__id__', sid)}: {' '.join(str(state.get('comment')).split())}"
            for sid, state in sorted(ret.items(), key=lambda kv: (kv[1] or {}).get("__run_num__", 0))
            if isinstance(state, dict) and state.get("result") is not True]


# --------------------------------------------------------------------------- maintenance


def pause(topology, resource=None, reason=None, pillar=None):
    """Pause auto-remediation for a topology (or one of its resources) until ``hapair.resume``.

    The reactor's remediations still look and report (``decision: paused`` where they would have
    acted); nothing is reconnected, promoted, mounted or discarded. Kept on the master
    (``<cachedir>/hapair/remediate/paused.json``: who, when, why) and fired as
    ``hapair/maintenance/<topology>/paused``; ``hapair.status`` shows it. No pillar is edited.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.pause web
        salt-run hapair.pause web r1 reason="replacing web2's disk"
    """
    topo, failure = _maintenance_target(topology, resource, pillar)
    if failure:
        return failure
    try:
        reason = maintenance_mod.check_reason(reason)
    except HapairError as err:
        return _fail(str(err))
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = _paused_path()
    with _lock(f"{path}.lock", wait=LOCK_WAIT):
        record = maintenance_mod.pause(_read_history(path), topo["name"], resource, _operator(), at, reason)
        _write_history(path, record)
    entry = maintenance_mod.entry(record, topo["name"], resource)
    log.warning("hapair: %s", maintenance_mod.describe(entry, topo["name"]))
    _fire(f"hapair/maintenance/{topo['name']}/paused", {"topology": topo["name"], **entry})
    return {"result": True, "paused": entry, "comment": maintenance_mod.describe(entry, topo["name"])}


def resume(topology, resource=None, pillar=None):
    """End ``hapair.pause``: without ``resource`` every pause of the topology ends.

    The next DRBD event (or ``salt-run hapair.remediate topology=<t>``) remediates again under the
    pillar's policies.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.resume web
        salt-run hapair.resume web r1
    """
    topo, failure = _maintenance_target(topology, resource, pillar)
    if failure:
        return failure
    path = _paused_path()
    with _lock(f"{path}.lock", wait=LOCK_WAIT):
        try:
            record, removed = maintenance_mod.resume(_read_history(path), topo["name"], resource)
        except HapairError as err:
            return _fail(str(err))
        _write_history(path, record)
    if removed:
        log.warning("hapair: auto-remediation of %s resumed (%s) by %s", topo["name"], ", ".join(removed), _operator())
        _fire(f"hapair/maintenance/{topo['name']}/resumed", {"topology": topo["name"], "scopes": removed,
                                                               "by": _operator()})
    what = topo["name"] if resource is None else f"{resource} of {topo['name']}"
    return {"result": True, "resumed": removed,
            "comment": f"auto-remediation of {what} resumed" if removed else f"{what} was not paused"}


def _maintenance_target(topology, resource, pillar):
    """``(topology, None)`` for a pause or resume, else ``(None, failure)``: the names are checked
    against the topology, never written anywhere unchecked."""
    if not fields.is_topology(topology):
        return None, _fail(f"topology: {topology!r} is not a topology name")
    try:
        topo = topology_mod.load(_pillar(topology, pillar), topology)
    except ValidationError as err:
        return None, _invalid(err)
    except HapairError as err:
        return None, _fail(str(err))
    if resource is not None and resource not in topo["drbd"]["resources"]:
        return None, _fail(f"resource: {resource!r} is no DRBD resource of {topology} "
                           f"({', '.join(sorted(topo['drbd']['resources']))})")
    return topo, None


def _paused_path():
    return os.path.join(_state_dir(), "paused.json")


def _paused_entry(topology, resource):
    return maintenance_mod.entry(_read_history(_paused_path()), topology, resource)


# --------------------------------------------------------------------------- remediation


def _state_dir(kind="remediate"):
    path = os.path.join(__opts__["cachedir"], "hapair", kind)
    os.makedirs(path, exist_ok=True)
    return path


LOCK_WAIT = 90  # seconds a remediation waits for another one of the same resource to finish
RUNNING_TIMEOUT = 60  # seconds a minion-start remediation waits for drbd.status (TCG minions that just started)


@contextlib.contextmanager
def _lock(path, wait=0.0):
    """Exclusive lock, waiting up to ``wait`` seconds; yields False when another remediation kept it.

    Waiting (not skipping) matters: the event that arrives while another remediation of the
    resource runs may carry news (a split-brain record) the running one did not see.
    """
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    deadline = time.monotonic() + float(wait)
    try:
        if fcntl is not None:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.2)
        yield True
    finally:
        handle.close()


def _read_history(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _write_history(path, history):
    tmp = f"{path}.{os.getpid()}.tmp"  # runners write concurrently: each its own temporary file
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(history, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def _lvm_of(lvdisplay):
    """``{"vg", "lv"}`` from Salt's ``lvm.lvdisplay <path>`` output, or None."""
    if not isinstance(lvdisplay, dict):
        return None
    for entry in lvdisplay.values():
        if isinstance(entry, dict) and entry.get("Volume Group Name") and entry.get("Logical Volume Name"):
            return {"vg": entry["Volume Group Name"], "lv": os.path.basename(entry["Logical Volume Name"])}
    return None


def _facts(topo, resource, history, want_backing=False):
    """Both nodes' remediation facts (see ``hapair.remediate``), plus the split-brain markers.

    One ``drbd.remediation_facts`` job per node. The LVM backing matters only to a policy that
    snapshots before it discards, and only in a split brain (a marker, ``want_backing`` for a
    split-brain event, or diverged generation identifiers): for a split-brain event it rides in
    the same job, otherwise it is read after the fact.
    """
    res = topo["drbd"]["resources"][resource]
    pol = remediate_mod.policy_of(topo, resource)
    needs_backing = pol["split_brain"] in remediate_mod.DISCARDING and pol["snapshot_before_discard"]
    disks = {res["nodes"][n].get("disk") for n in topo["node_order"]}
    early = needs_backing and want_backing and len(disks) == 1 and None not in disks
    values, errors = _call(topo, "hapair_drbd.remediation_facts", [resource],
                           {"backing": next(iter(disks))} if early else None)
    facts, split = {}, False
    for node in topo["node_order"]:
        value = values.get(node)
        if not isinstance(value, dict) or not isinstance(value.get("status"), dict):
            facts[node] = None
            if value is not None:
                errors[node] = f"unexpected drbd.remediation_facts answer: {value!r:.200}"
            continue
        model = (value["status"].get("resources") or {}).get(resource)
        nres = res["nodes"][node]
        device = nres.get("device")
        active = value.get("mounts") if isinstance(value.get("mounts"), dict) else None
        if isinstance(value.get("mounted"), list):  # the node compared device numbers (by-res, by-label, links)
            mounted = sorted(str(mp) for mp in value["mounted"])
        else:  # an older drbd module on the node: compare the mount source by name
            mounted = None if active is None else sorted(
                mp for mp, m in active.items() if m.get("device") in (device, f"/dev/drbd/by-res/{resource}/0"))
        marker = bool((value.get("markers") or {}).get("split_brain"))
        split = split or marker
        facts[node] = {"model": model, "mounted": mounted, "split_brain_marker": marker,
                       "backing": {"disk": nres.get("disk"), "lvm": _lvm_of(value.get("lvm"))},
                       "gi": value.get("gi"), "primary_since": (history.get("primary_since") or {}).get(node)}
    nodes = [n for n in topo["node_order"] if facts.get(n)]
    if needs_backing and not early and (split or want_backing or (len(nodes) == 2 and remediate_mod.gi_relation(
            facts[nodes[0]]["gi"], facts[nodes[1]]["gi"]) == "split_brain")):
        for disk in sorted({facts[n]["backing"]["disk"] for n in nodes if facts[n]["backing"]["disk"]}):
            on = [n for n in nodes if facts[n]["backing"]["disk"] == disk]
            lv, _ = _call(topo, "lvm.lvdisplay", [disk], {"quiet": True}, nodes=on)
            for node in on:
                facts[node]["backing"]["lvm"] = _lvm_of(lv.get(node))
    return facts, split, errors


def _act(topo, resource, action):
    node = action["node"]
    kind = action["action"]
    if kind == "lvm_snapshot":
        fun, arg, kwarg = "lvm.lvcreate", [action["snapshot"], action["vg"]], {
            "snapshot": action["lv"], "extents": "100%ORIGIN"}
    elif kind == "discard_my_data_connect":
        fun, arg, kwarg = "hapair_drbd.discard_my_data_connect", [resource], {"victim": node, "node": node, "split_brain": True}
    elif kind == "connect":  # the victim's discard-my-data connect may have connected both already
        fun, arg, kwarg = "hapair_drbd.connect", [resource], {"only_standalone": True}
    elif kind in ("up", "primary", "secondary"):
        fun, arg, kwarg = f"hapair_drbd.{kind}", [resource], None
    elif kind == "mount":  # the filesystem's own state: fstab line, mountpoint, mount
        fun, arg, kwarg = "state.single", [f"{action['type']}.mounted"], {"name": action["filesystem"],
                                                                         "topology": topo["name"], "queue": True}
    else:
        raise HapairError(f"unknown remediation action {kind}")
    values, errors = _call(topo, fun, arg, kwarg, timeout=120, nodes=[node])
    if values.get(node) is None or values.get(node) is False:
        raise HapairError(f"{kind} on {node} failed: {errors.get(node) or values.get(node)}")
    if kind == "lvm_snapshot":  # lvm.lvcreate returns a dict even when lvcreate failed
        created = values[node] if isinstance(values[node], dict) else {}
        path = f"/dev/{action['vg']}/{action['snapshot']}"
        if path not in created:
            raise HapairError(f"snapshot {path} of /dev/{action['vg']}/{action['lv']} on {node} was not created "
                              f"(nothing discarded): {created.get('Output from lvcreate') or values[node]}")
    if kind == "mount":
        failed = [r.get("comment") for r in (values[node] or {}).values() if isinstance(r, dict) and not r.get("result")]
        if failed or not isinstance(values[node], dict):
            raise HapairError(f"mount of {action['filesystem']} on {node} failed: {failed or values[node]}")
    return values[node]


def _fire(tag, data):
    try:
        import salt.utils.event  # noqa: PLC0415

        with salt.utils.event.get_master_event(__opts__, __opts__["sock_dir"], listen=False) as bus:
            bus.fire_event(data, tag)
    except Exception:  # noqa: BLE001 - reporting must not break remediation
        log.warning("hapair: cannot fire %s", tag, exc_info=True)


def _targets(resource, topology, pil, within=None):
    """(topology name, resource) pairs this call is about (``within``: only these topologies)."""
    names = [topology] if topology else topology_mod.names(pil)
    out = []
    for tname in names:
        if within is not None and tname not in within:
            continue
        raw = topology_mod.topologies(pil).get(tname) or {}
        resources = ((raw.get("drbd") or {}).get("resources") or {}) if isinstance(raw, dict) else {}
        for rname in sorted(resources):
            if resource in (None, rname):
                out.append((tname, rname))
    return out


RENDERED_TTL = 120  # seconds a node's answer to drbd.rendered_topologies is reused by later events


def _rendered(ids, running=False):
    """``({minion: drbd.rendered_topologies answer or None}, {minion: error})`` from one job.

    The topology each resource's .res was rendered from, read on the node (its hapair header);
    with ``running``: every resource the kernel runs, with that topology or None. A fault fires a
    burst of events (role, connection, split-brain, standalone, for each resource) and each starts
    a remediation: a node's answer (not ``running``) is kept ``RENDERED_TTL`` seconds in the state
    dir, written only from the node's own job return, so a burst costs that single-process
    minion one such job, not one per event queued behind its other jobs.
    """
    ids = sorted(ids)
    if not ids:
        return {}, {}
    path = None if running else os.path.join(_state_dir(), "rendered.json")
    now = time.time()
    cache = _read_history(path) if path else {}
    fresh = {mid: cache[mid]["rendered"] for mid in ids if isinstance(cache.get(mid), dict)
             and isinstance(cache[mid].get("rendered"), dict) and now - float(cache[mid].get("at") or 0) < RENDERED_TTL}
    ask = [mid for mid in ids if mid not in fresh]
    values, errors = {}, {}
    if ask:
        raw = _client().cmd(ask, "hapair_drbd.rendered_topologies", kwarg={"running": True} if running else None,
                            tgt_type="list", timeout=RUNNING_TIMEOUT, full_return=True)
        values, errors = _answers(raw, {mid: mid for mid in ask})
    out = {**fresh, **{mid: ret if isinstance(ret, dict) else None for mid, ret in values.items()}}
    if not running and any(isinstance(out.get(mid), dict) for mid in ask):
        cache = {**_read_history(path), **{mid: {"at": now, "rendered": out[mid]} for mid in ask
                                           if isinstance(out.get(mid), dict)}}
        _write_history(path, cache)
    return out, errors


def _not_ours(resource, minion, reason):
    """An event hapair has nothing to do with: a report (``result: True``), logged at info."""
    log.info("hapair: not ours: event from %s about %s: %s", minion, resource or "its topologies", reason)
    return {"result": True, "comment": f"not ours: {reason}",
            "results": [{"topology": None, "resource": resource, "decision": "none", "situation": "not_ours",
                         "reason": reason}]}


def _refused(tname, resource, reason):
    out = {"topology": tname, "resource": resource, "decision": "refuse", "situation": "foreign_topology",
           "reason": reason, "actions": []}
    log.warning("hapair: remediation of %s refused: %s", resource, reason)
    _fire(f"hapair/remediate/{resource}/result", out)
    return out


def remediate(resource=None, topology=None, minion=None, tag=None, event=None, dry_run=False,
              verify_timeout=60, pillar=None, now=None, lock_wait=LOCK_WAIT):
    """Heal a DRBD resource as its topology's ``remediation`` policy allows; fire the outcome.

    Gathers both nodes' state (status, mounts, generation identifiers, split-brain markers, LVM
    backing), decides with ``hapair.remediate.plan``, acts through the drbd module on the node
    each step names, verifies, records the attempt under the master's cachedir
    (``hapair/remediate/<topology>.<resource>.json``: attempts, handled event ids, discards with who,
    when and why) and fires ``hapair/remediate/<resource>/result``. Never two at once per resource
    (a lock file: a second call waits up to ``lock_wait`` seconds, then returns ``busy``; an event's
    call that waited while another one read both nodes after it was called returns ``covered``); the
    same event twice is handled once; cooldown and max_attempts apply. The record also keeps the
    last decision (``last``: at, situation, decision, reason, victim).

    Nothing in an event is trusted (``hapair.events``): every argument is checked before any job
    (a bad one fails the call); with ``minion`` (the event's sender) the only topology that decides
    is the one the sender's .res of ``resource`` was rendered from (``drbd.rendered_topologies`` on
    the sender), and only when the sender is one of its nodes; a ``topology`` naming another one is
    refused (``decision: refuse``), a sender that is no node is "not ours" (``result: True``, nothing
    done). Without ``resource`` (a minion start): every resource of the sender's topologies that
    runs from that topology's config. Without ``minion`` (an operator's call): ``resource`` /
    ``topology`` default to every one, and a resource a node rendered from another topology is
    refused.

    CLI Example:

    .. code-block:: bash

        salt-run hapair.remediate resource=r0 topology=web
        salt-run hapair.remediate resource=r0 topology=web dry_run=True
    """
    problems = events_mod.argument_errors(resource, topology, minion, tag, event)
    try:
        dry_run = fields.flag(dry_run, "dry_run")
    except HapairError as err:
        problems.append(str(err))
    if problems:
        log.warning("hapair: remediation refused: %s", "; ".join(problems))
        return _fail(f"remediation refused: {'; '.join(problems)}")
    event = events_mod.clean_event(tag, event, minion)
    try:
        pil = _pillar(None if minion else topology, pillar, minion=minion)
    except HapairError as err:
        return _fail(str(err))
    nodes = _node_minions(pil)
    results = []
    running = None
    if minion:
        member = events_mod.member_of(minion, nodes)
        if topology is not None and resource is None:
            member = [t for t in member if t == topology]
        if not member and resource is None:  # a minion start: any minion of the fleet restarts, quietly
            where = f"topology {topology}" if topology is not None else "any topology"
            return _not_ours(None, minion, f"{minion} is not a node of {where}: nothing to do")
        if not member:
            return _not_ours(resource, minion, f"{minion} is no node of any topology in the pillar")
        if resource is not None:  # an event about one resource: the sender says where it came from
            answers, errors = _rendered([minion])
            verdict = events_mod.deployed(resource, minion, answers.get(minion), nodes, topology)
            if verdict["verdict"] == "unknown":
                return _fail(_with_errors(verdict["reason"], errors))
            if verdict["verdict"] == "not_ours":
                return _not_ours(resource, minion, verdict["reason"])
            if verdict["verdict"] == "refuse":
                return {"result": True, "results": [_refused(verdict["topology"], resource, verdict["reason"])]}
            targets = _targets(resource, verdict["topology"], pil)
            if not targets:
                return _not_ours(resource, minion, f"topology {verdict['topology']} has no DRBD resource {resource}")
        else:  # a minion start: what runs, and from which topology's config (one job per minion)
            targets = _targets(None, None, pil, within=member)
            running = _running(pil, targets)
    else:
        targets = _targets(resource, topology, pil)
        answers, _ = _rendered({m for t, _ in targets for m in nodes.get(t, [])})
        for tname, rname in list(targets):
            why = events_mod.foreign(rname, tname, {m: answers.get(m) for m in nodes.get(tname, [])})
            if why:
                targets.remove((tname, rname))
                results.append(_refused(tname, rname, why))
    for tname, rname in targets:
        try:
            topo = topology_mod.load(pil, tname)
        except ValidationError as err:
            results.append({"topology": tname, "resource": rname, "decision": "error", "reason": str(err)})
            continue
        seen = running.get(tname) if running is not None else None
        if seen is not None and rname not in seen["resources"]:
            why = (f"{rname} of {tname} runs on neither node from {tname}'s config: nothing to rejoin"
                   if seen["answered"] else
                   f"no node of {tname} answered drbd.status in {RUNNING_TIMEOUT}s: nothing to look at now")
            results.append({"topology": tname, "resource": rname, "decision": "none",
                            "situation": "down" if seen["answered"] else "unreachable", "reason": why})
            continue
        try:
            results.append(_remediate_one(topo, rname, event, minion, dry_run, verify_timeout, now, lock_wait))
        except Exception as err:  # noqa: BLE001 - one resource's crash must not leave the others unhealed
            log.exception("hapair: remediation of %s (%s) crashed", rname, tname)
            out = mask({"topology": tname, "resource": rname, "decision": "error",
                        "reason": f"remediation crashed: {type(err).__name__}: {err}"}, topo.get("secrets") or [])
            _fire(f"hapair/remediate/{rname}/result", out)
            results.append(out)
    if not results:
        return _fail(f"no topology resource matches resource={resource} topology={topology} minion={minion}")
    failed = [r for r in results if r.get("decision") in ("error", "failed")]
    if failed:
        __context__["retcode"] = 1
        return {"result": False, "results": results, "retcode": 1}
    return {"result": True, "results": results}


def _running(pil, targets):
    """``{topology: {"answered": [...], "resources": [...]}}`` from one job per minion.

    A minion's start event names no topology, so every topology with that minion is a candidate;
    asking all their minions once keeps a restart from costing a full fact-gathering per resource
    that is not even running (the lab's alternative topologies share the same two nodes). The
    choice is ``hapair.remediate.rejoin_candidates``.
    """
    topos = {}
    for tname, _ in targets:
        if tname not in topos:
            try:
                topos[tname] = topology_mod.load(pil, tname)
            except ValidationError:
                continue
    ids = sorted({m for topo in topos.values() for m in _minions(topo).values()})
    if not ids:
        return {}
    # one job per minion: what runs, and which topology each resource's config came from
    answers, _ = _rendered(ids, running=True)
    running = {mid: ret for mid, ret in answers.items() if ret is not None}
    return remediate_mod.rejoin_candidates({t: list(_minions(topo).values()) for t, topo in topos.items()},
                                           running)


def _remediate_one(topo, resource, event, minion, dry_run, verify_timeout, now, lock_wait=0.0):
    called_at = time.time()
    secrets = topo.get("secrets") or []
    base = os.path.join(_state_dir(), f"{topo['name']}.{resource}")
    with _lock(f"{base}.lock", lock_wait) as locked:
        if not locked:
            return {"topology": topo["name"], "resource": resource, "decision": "busy",
                    "reason": f"another remediation of {resource} is running"}
        history = _read_history(f"{base}.json")
        now = time.time() if now is None else float(now)
        if minion:  # remember who became Primary when
            node = next((n for n, m in _minions(topo).items() if m == minion), None)
            history = remediate_mod.note_role(history, node, event, now)
        why = remediate_mod.covered(history, called_at) if event.get("id") and not dry_run else None
        if why:  # an event's news was read by a remediation that ran while this one waited
            _write_history(f"{base}.json", history)
            return {"topology": topo["name"], "resource": resource, "decision": "covered", "reason": why}
        gathered = time.time()
        facts, split, errors = _facts(topo, resource, history,
                                      want_backing=event.get("kind") == "split-brain" or bool(event.get("split_brain")))
        if not errors and not dry_run:
            history["gathered_at"] = gathered
        if split:
            event["split_brain"] = True
        decision = maintenance_mod.hold(remediate_mod.plan(topo, resource, facts, history, now, event),
                                        _paused_entry(topo["name"], resource), topo["name"])
        out = {"topology": topo["name"], "resource": resource, **decision, "errors": errors, "executed": []}
        if decision["decision"] == "duplicate":
            return mask(out, secrets)
        attempt = None
        stale = remediate_mod.stale_markers(facts)
        if decision["decision"] == "act" and not dry_run:
            attempt = {"ok": False}
            try:
                for action in decision["actions"]:
                    _progress(f"remediate {resource}: {action['action']} on {action['node']}")
                    _act(topo, resource, action)
                    out["executed"].append(action)
                verified = _verify(topo, resource, verify_timeout,
                                   reconnect=decision.get("survivor") if decision["situation"] == "split_brain" else None)
                out["verified"] = verified
                attempt["ok"] = verified["met"]
                out["decision"] = "healed" if verified["met"] else "failed"
                if not verified["met"]:
                    out["reason"] = f"{decision['reason']}; not healed yet: {verified['message']}"
                else:  # Connected on both: every record left (the victim's drbd module removed its own)
                    stale = remediate_mod.stale_markers(
                        facts, [n for n in topo["node_order"] if n != decision.get("victim")])
            except HapairError as err:
                attempt["error"] = str(err)
                out["decision"] = "failed"
                out["reason"] = f"{decision['reason']}; stopped: {err}"
        if stale and not dry_run and not decision.get("paused"):  # paused: nothing on the nodes changes
            out["set_aside"] = _set_aside(topo, resource, stale)
        history = remediate_mod.record(history, out, now, event, attempt, dry_run=dry_run)
        _write_history(f"{base}.json", history)
        out = mask(out, secrets)
        _fire(f"hapair/remediate/{resource}/result", out)
        return out


def _set_aside(topo, resource, nodes):
    """Move each node's stale split-brain record aside (``<record>.resolved``); return where it was done.

    The record is the DRBD handler's (``hapair.drbd_state.marker_path`` under the node's
    ``hapair:paths:state_dir``); once the resource is Connected again it is history, and the
    ``drbd_alerts`` grain stops saying ``split-brain`` (the beacon only observes).
    """
    dirs, errors = _call(topo, "config.get", ["hapair:paths:state_dir", adapter.PATH_DEFAULTS["state_dir"]],
                         nodes=nodes)
    done = []
    for node in nodes:
        if not isinstance(dirs.get(node), str) or not dirs[node].startswith("/"):
            log.warning("hapair: %s: no state_dir from %s: %s", resource, node, errors.get(node) or dirs.get(node))
            continue
        marker = drbd_state.marker_path(dirs[node], resource, "split-brain")
        moved, why = _call(topo, "file.rename", [marker, f"{marker}{drbd_state.RESOLVED_SUFFIX}"], nodes=[node])
        if moved.get(node) is True:
            _progress(f"remediate {resource}: split-brain record on {node} set aside (Connected again)")
            done.append(node)
        else:
            log.warning("hapair: cannot set %s aside on %s: %s", marker, node, why.get(node) or moved.get(node))
    return done


def _verify(topo, resource, timeout, reconnect=None):
    """After acting: wait (bounded) until the resource is Connected on both; say what was seen.

    ``reconnect``: a split brain's survivor. When it turns StandAlone only after its peer's
    discard-my-data connect (DRBD drops the connection on both sides, one a moment later), it is
    connected again (a plain connect on the survivor never discards anything).
    """
    deadline = time.monotonic() + float(timeout)
    while True:
        values, errors = _call(topo, "hapair_drbd.status", [resource])
        result = orchestrate.gate("connected", topo, {"drbd": _drbd_lists(values)}, [resource])
        if result.met or time.monotonic() >= deadline:
            return {"met": result.met, "message": _with_errors(result.message(), errors)}
        value = values.get(reconnect) if reconnect else None
        seen = (value.get("resources") or {}).get(resource) if isinstance(value, dict) else None
        if seen and orchestrate.summarise(seen)["connection"] == "StandAlone":
            _progress(f"remediate {resource}: {reconnect} turned StandAlone: connect")
            try:
                _act(topo, resource, {"node": reconnect, "action": "connect"})
            except HapairError as err:
                log.warning("hapair: reconnecting %s on %s: %s", resource, reconnect, err)
            continue
        _wait_event(min(1.0, max(0.1, deadline - time.monotonic())))
