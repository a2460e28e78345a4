"""Maintenance: auto-remediation paused for a topology or one of its resources (pure).

The record lives on the master (``<cachedir>/hapair/remediate/paused.json``, written by the runner's
``hapair.pause`` / ``hapair.resume``)::

    {"web": {"*": {"by": "alice", "at": "2026-12-07T15:00:00Z", "reason": "disk swap"},
             "r1": {...}}}

``*`` is the whole topology. While an entry applies, ``hapair.remediate`` still gathers the facts,
decides and reports, but acts on nothing: an ``act`` decision becomes ``paused`` (its actions kept
for the reader), every other decision is unchanged and carries the entry. Nothing here is a policy
of its own: the pillar's ``remediation`` policies stay as they are.
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair import fields
from hapair.errors import HapairError

WHOLE = "*"
MAX_REASON = 200


def check_reason(reason: Any) -> str | None:
    """The operator's reason as stored: one line of text up to ``MAX_REASON`` characters, or None.

    >>> check_reason("disk swap on web2"), check_reason(None)
    ('disk swap on web2', None)
    """
    if reason is None or reason == "":
        return None
    if not isinstance(reason, str) or len(reason) > MAX_REASON or not fields.is_text(reason):
        raise HapairError(f"reason: one line of text, at most {MAX_REASON} characters, no control characters")
    return reason


def entry(record: Mapping[str, Any], topology: str, resource: str | None = None) -> dict[str, Any] | None:
    """The pause that applies to ``resource`` of ``topology`` (its own, else the topology's), or None.

    >>> entry({"web": {"*": {"by": "alice"}}}, "web", "r0")
    {'by': 'alice', 'scope': '*'}
    >>> entry({"web": {"r1": {"by": "bob"}}}, "web", "r0") is None
    True
    """
    paused = (record or {}).get(topology) or {}
    for scope in ([resource] if resource else []) + [WHOLE]:
        if scope in paused:
            return {**paused[scope], "scope": scope}
    return None


def pause(record: Mapping[str, Any], topology: str, resource: str | None, by: str, at: str,
          reason: str | None = None) -> dict[str, Any]:
    """The record with ``resource`` (None: the whole topology) paused by ``by`` at ``at``.

    >>> pause({}, "web", None, "alice", "T")
    {'web': {'*': {'by': 'alice', 'at': 'T', 'reason': None}}}
    """
    out = {t: dict(v) for t, v in (record or {}).items()}
    out.setdefault(topology, {})[resource or WHOLE] = {"by": by, "at": at, "reason": check_reason(reason)}
    return out


def resume(record: Mapping[str, Any], topology: str, resource: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """``(record, scopes removed)``: without ``resource`` every pause of the topology ends.

    A resource is refused while the whole topology is paused (resuming it alone would leave the
    topology's pause standing and say otherwise).

    >>> resume({"web": {"*": {}, "r1": {}}}, "web")
    ({}, ['*', 'r1'])
    >>> resume({"web": {"r1": {}}}, "web", "r1")
    ({}, ['r1'])
    """
    out = {t: dict(v) for t, v in (record or {}).items()}
    paused = out.get(topology) or {}
    if resource is None:
        removed = sorted(paused)
        out.pop(topology, None)
        return out, removed
    if resource not in paused and WHOLE in paused:
        raise HapairError(f"{topology} is paused as a whole, not {resource} alone: salt-run hapair.resume {topology}")
    removed = [resource] if paused.pop(resource, None) is not None else []
    if not paused:
        out.pop(topology, None)
    return out, removed


def describe(pause_entry: Mapping[str, Any], topology: str) -> str:
    """One line for logs, returns and the status table.

    >>> describe({"by": "alice", "at": "T", "reason": "disk swap", "scope": "*"}, "web")
    'auto-remediation of web paused by alice since T (disk swap); salt-run hapair.resume web'
    """
    scope = pause_entry.get("scope") or WHOLE
    what = topology if scope == WHOLE else f"{scope} of {topology}"
    why = f" ({pause_entry['reason']})" if pause_entry.get("reason") else ""
    resume_cmd = f"salt-run hapair.resume {topology}" + ("" if scope == WHOLE else f" {scope}")
    return f"auto-remediation of {what} paused by {pause_entry.get('by')} since {pause_entry.get('at')}{why}; {resume_cmd}"


def hold(decision: Mapping[str, Any], pause_entry: Mapping[str, Any] | None, topology: str) -> dict[str, Any]:
    """``decision`` (``hapair.remediate.plan``'s) under a pause: ``act`` becomes ``paused``.

    >>> d = hold({"decision": "act", "reason": "r0 StandAlone: reconnecting", "actions": [{"node": "a"}]},
    ...          {"by": "alice", "at": "T", "reason": None, "scope": "*"}, "web")
    >>> d["decision"], d["actions"], d["reason"].split("; ")[1]
    ('paused', [{'node': 'a'}], 'not acting: auto-remediation of web paused by alice since T')
    """
    if not pause_entry:
        return dict(decision)
    out = dict(decision, paused=dict(pause_entry))
    if decision.get("decision") == "act":
        out["decision"] = "paused"
        out["reason"] = f"{decision.get('reason')}; not acting: {describe(pause_entry, topology)}"
    return out
