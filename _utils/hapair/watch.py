"""What the operator sees while the bootstrap runs: master-bus events in, progress lines out (Salt-free).

``salt-run state.orchestrate`` prints nothing until it ends, and it hides the progress its nested
``hapair.wait_for`` runners print, while a full initial sync can take hours. ``salt-run
hapair.bootstrap <topology>`` runs the same orchestration and feeds every event of the master bus
to a :class:`Watch`, which turns the ones that belong to this bootstrap into lines: each node step
as it starts and as each node returns, each gate as it waits and what it met, and sync percent
with ETA: the initial sync is waited for on the nodes (``drbd.synced`` in a node step), which fire
``hapair/drbd/<resource>/sync`` (``drbd.wait_synced``), and a gate's wait fires
``hapair/orch/<topology>/progress``. Nothing in an event is trusted: tags are split, never
interpolated into anything but a printed line, and only the jobs this bootstrap started (its
topology in the step's pillar, or a gate naming it) and the sync events of this topology's
minions are followed; a sync line is printed when it differs from that minion's last one.

>>> w = Watch("lab_web", minions=["node1", "node2"])
>>> w.feed("salt/job/1/new", {"fun": "state.sls", "minions": ["node1", "node2"],
...        "arg": ["orch.hapair.node.step", {"__kwarg__": True, "pillar": {"topology": "lab_web", "step": "drbd-up"}}]})
['step drbd-up: started on node1, node2']
>>> w.feed("salt/job/1/ret/node1", {"fun": "state.sls", "success": True, "retcode": 0,
...        "return": {"a": {"result": True, "changes": {"x": 1}}, "b": {"result": True, "changes": {}}}})
['step drbd-up: node1 done (2 states, 1 changed)']
>>> w.feed("hapair/drbd/r0/sync", {"id": "node2", "data": {"resource": "r0", "replication_state": "SyncTarget",
...        "percent_done": 42.1, "eta_seconds": 35, "out_of_sync_kib": 151552, "synced": False}})
['  node2 r0 SyncTarget 42.1% eta 35s oos 151552 KiB']
>>> w.feed("hapair/drbd/r0/sync", {"id": "node3", "data": {"percent_done": 1.0}})   # not this topology's
[]
>>> w.feed("hapair/orch/lab_web/progress", {"lines": ["node2 r0 SyncTarget 42.1% eta 35s"]})
['  node2 r0 SyncTarget 42.1% eta 35s']
"""

from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from hapair.bootstrap import STEP_SLS
from hapair.fields import is_minion_id, is_name

MAX_LINE = 300  # characters of one printed line (a comment from a node is data: cut, one line)


def _line(text: Any) -> str:
    """One printable line of at most MAX_LINE characters."""
    one = " ".join(str(text).split())
    return one if len(one) <= MAX_LINE else one[: MAX_LINE - 3] + "..."


def _kwargs(args: Any) -> dict[str, Any]:
    """The keyword arguments of a job's ``arg`` list (Salt packs them as ``{"__kwarg__": True, ...}``)."""
    out: dict[str, Any] = {}
    for arg in args if isinstance(args, list) else []:
        if isinstance(arg, Mapping) and arg.get("__kwarg__"):
            out.update({k: v for k, v in arg.items() if k != "__kwarg__"})
    return out


def _positional(args: Any) -> list[Any]:
    return [a for a in (args if isinstance(args, list) else []) if not (isinstance(a, Mapping) and a.get("__kwarg__"))]


def _number(value: Any) -> float | None:
    """A finite non-negative number from an event, else None (a bool or text is no number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10 ** 15:
        return None
    return value


def sync_line(minion: str, resource: str, payload: Mapping[str, Any]) -> str:
    """One ``drbd.wait_synced`` event as the gates print a resync (``orchestrate.progress_lines``).

    >>> sync_line("node1", "r0", {"replication_state": "SyncSource", "percent_done": 1.6, "eta_seconds": 610})
    'node1 r0 SyncSource 1.6% eta 610s'
    >>> sync_line("node1", "r0", {"synced": True, "percent_done": 100.0, "eta_seconds": 0})
    'node1 r0 synced: UpToDate/UpToDate'
    """
    if payload.get("synced") is True:
        return f"{minion} {resource} synced: UpToDate/UpToDate"
    state = payload.get("replication_state")
    text = f"{minion} {resource} {state if is_name(state) else 'waiting'}"
    pct, eta, oos = (_number(payload.get(key)) for key in ("percent_done", "eta_seconds", "out_of_sync_kib"))
    if pct is not None:
        text += f" {pct:.1f}%"
    if eta is not None:
        text += f" eta {eta:.0f}s"
    if oos is not None:
        text += f" oos {oos:.0f} KiB"
    return text


class Watch:
    """Follows one bootstrap's jobs on the master bus; :meth:`feed` returns the lines to print."""

    def __init__(self, topology: str, clock: Any = time.monotonic, minions: Iterable[str] = ()) -> None:
        self.topology = topology
        self.clock = clock
        self.minions = frozenset(m for m in minions if is_minion_id(m))  # whose sync events are this topology's
        self.steps: dict[str, dict[str, Any]] = {}   # jid -> {"step", "minions", "started"}
        self.gates: dict[str, dict[str, Any]] = {}   # jid -> {"condition", "started"}
        self.synced: dict[tuple[str, str], str] = {}  # (minion, resource) -> the last sync line printed

    def feed(self, tag: Any, data: Any) -> list[str]:
        """The lines event ``tag``/``data`` gives (empty: not this bootstrap's, or nothing to say)."""
        if not isinstance(tag, str) or not isinstance(data, Mapping):
            return []
        parts = tag.split("/")
        if parts[:2] == ["hapair", "orch"] and len(parts) == 4 and parts[2] == self.topology and parts[3] == "progress":
            return [f"  {_line(line)}" for line in (data.get("lines") or [])[:20]]
        if parts[:2] == ["hapair", "drbd"] and len(parts) == 4 and parts[3] == "sync":
            return self._sync(parts[2], data)
        if len(parts) < 4 or parts[0] != "salt" or parts[1] not in ("job", "run"):
            return []
        jid, kind = parts[2], parts[3]
        if parts[1] == "job":
            return self._job(jid, kind, parts[4] if len(parts) > 4 else None, data)
        return self._run(jid, kind, data)

    def _sync(self, resource: str, data: Mapping[str, Any]) -> list[str]:
        """A minion's ``drbd.wait_synced`` progress (on the master bus: ``{"id": minion, "data": payload}``)."""
        minion = data.get("id")
        payload = data.get("data")
        if (not isinstance(minion, str) or minion not in self.minions or not is_name(resource)
                or not isinstance(payload, Mapping)):
            return []
        line = _line(sync_line(minion, resource, payload))
        if self.synced.get((minion, resource)) == line:
            return []
        self.synced[(minion, resource)] = line
        return [f"  {line}"]

    def _job(self, jid: str, kind: str, minion: str | None, data: Mapping[str, Any]) -> list[str]:
        if kind == "new":
            args = data.get("arg")
            pillar = _kwargs(args).get("pillar")
            if (data.get("fun") not in ("state.sls", "state.apply") or STEP_SLS not in _positional(args)
                    or not isinstance(pillar, Mapping) or pillar.get("topology") != self.topology):
                return []
            step = _line(pillar.get("step"))
            minions = [str(m) for m in data.get("minions") or data.get("tgt") or [] if isinstance(m, str)]
            self.steps[jid] = {"step": step, "minions": minions, "started": self.clock()}
            return [f"step {step}: started on {', '.join(minions) or 'no node'}"]
        if kind != "ret" or jid not in self.steps or minion is None:
            return []
        step = self.steps[jid]["step"]
        ret = data.get("return")
        seconds = self.clock() - self.steps[jid]["started"]
        if not isinstance(ret, Mapping):
            return [f"step {step}: {_line(minion)} FAILED after {seconds:.0f}s: {_line(ret)}"]
        states = [s for s in ret.values() if isinstance(s, Mapping)]
        bad = [s for s in states if s.get("result") is not True]
        changed = sum(1 for s in states if s.get("changes"))
        if bad:
            first = bad[0]
            return [f"step {step}: {_line(minion)} FAILED after {seconds:.0f}s ({len(bad)} of {len(states)} states): "
                    f"{_line(first.get('__id__') or '')} {_line(first.get('comment'))}".rstrip()]
        return [f"step {step}: {_line(minion)} done ({len(states)} states, {changed} changed)"]

    def _run(self, jid: str, kind: str, data: Mapping[str, Any]) -> list[str]:
        if kind == "new":
            if data.get("fun") != "runner.hapair.wait_for":
                return []
            args = data.get("fun_args")
            kwargs = _kwargs(args)
            for arg in args if isinstance(args, list) else []:  # salt-run style key=value strings
                if isinstance(arg, Mapping):
                    kwargs.update(arg)
            positional = _positional(args)
            topology = kwargs.get("topology", positional[0] if positional else None)
            if topology != self.topology:
                return []
            condition = _line(kwargs.get("condition", positional[1] if len(positional) > 1 else "?"))
            self.gates[jid] = {"condition": condition, "started": self.clock()}
            return [f"gate {condition}: waiting on both nodes"]
        if jid not in self.gates:
            return []
        gate = self.gates[jid]
        if kind == "progress":
            return []  # the same lines come as hapair/orch/<topology>/progress
        if kind != "ret":
            return []
        ret = data.get("return")
        seconds = self.clock() - gate["started"]
        if isinstance(ret, Mapping) and ret.get("result") is True:
            return [f"gate {gate['condition']}: met after {seconds:.0f}s"]
        comment = ret.get("comment") if isinstance(ret, Mapping) else ret
        return [f"gate {gate['condition']}: NOT met after {seconds:.0f}s: {_line(comment)}"]
