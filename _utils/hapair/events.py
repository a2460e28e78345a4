"""What a remediation may take from an event: the parsed tag, checked arguments, the trusted topology.

Any minion can ``event.send`` any tag and payload, and the reactor passes them to the runner. So
nothing in an event is trusted: the tag is parsed (never interpolated), every argument passes its
``hapair.fields`` check before any job runs, and the topology that decides is the one the
sender's own ``.res`` was rendered from (``drbd.rendered_topologies``), acted on only when the
sender is one of that topology's nodes. A payload naming another topology is refused, never used.

>>> parse_tag("hapair/drbd/r0/split-brain")
{'resource': 'r0', 'kind': 'split-brain', 'minion': None}
>>> parse_tag("hapair/drbd/x:\\n  local.cmd.run: x\\nz/split-brain") is None
True
>>> deployed("r0", "node2", {"r0": "web"}, {"web": ["node1", "node2"]})["verdict"]
'act'
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair import fields

# The kinds that start a remediation (salt/hapair/reactor/drbd.sls mirrors this list in Jinja; a test
# renders the SLS and compares). Detail and progress kinds (replication, peer-role, peer-disk,
# sync) never do.
ACTED_ON = ("present", "role", "disk", "connection", "standalone", "peer-diskless", "sync-finished",
            "split-brain")
#: Kinds the beacon sends for the operator and never for a remediation: ``parse_tag`` returns None
#: for them, so the reactor's runner call refuses them. ``diskless-served``: a node's backing disk
#: was detached and it serves through its UpToDate peer; nothing is down (the ``disk`` and
#: ``peer-diskless`` events of the same change do start a remediation, which reports it as
#: ``diskless_served`` and acts on nothing).
REPORTED_ONLY = ("diskless-served",)
MINION_START = "minion-start"
ROLES = ("Primary", "Secondary", "Unknown")
MAX_TAG = 600
MAX_STAMP = 64


def parse_tag(tag: Any) -> dict[str, Any] | None:
    """``hapair/drbd/<resource>/<kind>`` or ``salt/minion/<id>/start`` as data; None for anything else.

    The resource must pass ``fields.is_name``, the kind be one of ``ACTED_ON``, the minion id pass
    ``fields.is_minion_id``.

    >>> parse_tag("salt/minion/node2/start")
    {'resource': None, 'kind': 'minion-start', 'minion': 'node2'}
    >>> parse_tag("hapair/drbd/r0/sync"), parse_tag("hapair/drbd/r0\\n/role"), parse_tag("salt/minion/*/start")
    (None, None, None)
    """
    if not isinstance(tag, str) or len(tag) > MAX_TAG:
        return None
    parts = tag.split("/")
    if len(parts) != 4:
        return None
    if parts[:2] == ["hapair", "drbd"] and fields.is_name(parts[2]) and parts[3] in ACTED_ON:
        return {"resource": parts[2], "kind": parts[3], "minion": None}
    if parts[:2] == ["salt", "minion"] and parts[3] == "start" and fields.is_minion_id(parts[2]):
        return {"resource": None, "kind": MINION_START, "minion": parts[2]}
    return None


def argument_errors(resource: Any = None, topology: Any = None, minion: Any = None, tag: Any = None,
                    event: Any = None) -> list[str]:
    """Every problem with a remediation's arguments (empty: all usable), checked before any job.

    >>> argument_errors(resource="r0", minion="node2", tag="hapair/drbd/r0/role")
    []
    >>> [e.split(" is ")[0] for e in argument_errors(resource="r0\\n", minion="node2,node3")]
    ["resource: 'r0\\\\n'", "minion: 'node2,node3'"]
    >>> argument_errors(resource="r1", tag="hapair/drbd/r0/role")
    ["tag 'hapair/drbd/r0/role' names resource r0, not r1"]
    """
    errors = []
    for what, kind, value in (("resource", "name", resource), ("topology", "name", topology),
                              ("minion", "minion_id", minion)):
        if value is not None:
            check, rule = fields.CHECKS[kind]
            if not check(value):
                errors.append(f"{what}: {value!r:.300} is not a valid {kind.replace('_', ' ')} ({rule})")
    if event is not None and not isinstance(event, Mapping):
        errors.append(f"event: {event!r:.300} is not a mapping")
    if tag is None:
        return errors
    parsed = parse_tag(tag)
    if parsed is None:
        errors.append(f"tag {tag!r:.300} is neither hapair/drbd/<resource>/<kind> (kind one of "
                      f"{', '.join(ACTED_ON)}) nor salt/minion/<id>/start")
    elif parsed["resource"] and resource is not None and parsed["resource"] != resource:
        errors.append(f"tag {tag!r} names resource {parsed['resource']}, not {resource}")
    elif parsed["minion"] and minion is not None and parsed["minion"] != minion:
        errors.append(f"tag {tag!r} names minion {parsed['minion']}, not {minion}")
    return errors


def clean_event(tag: str | None, event: Mapping[str, Any] | None, minion: str | None) -> dict[str, Any]:
    """The few event fields a remediation reads, each checked; everything else is dropped.

    ``kind`` comes from the tag (else the event's, when it is one of ``ACTED_ON``); ``_stamp`` is
    kept when it is a short token, and with the tag and sender it makes the event ``id`` (the
    runner handles an id once); ``new.role`` is kept when it is a DRBD role; ``split_brain`` only
    when it is ``True``. Call ``argument_errors`` first.

    >>> clean_event("hapair/drbd/r0/role", {"_stamp": "2026-12-02T05:00:00", "new": {"role": "Primary"},
    ...                                      "cmd": "x"}, "node2")
    {'kind': 'role', '_stamp': '2026-12-02T05:00:00', 'id': 'hapair/drbd/r0/role|node2|2026-12-02T05:00:00', 'new': {'role': 'Primary'}}
    >>> clean_event(None, {"kind": "rm -rf", "_stamp": "a\\nb", "id": "forged"}, None)
    {}
    """
    event = event if isinstance(event, Mapping) else {}
    out: dict[str, Any] = {}
    parsed = parse_tag(tag) if tag is not None else None
    if parsed:
        out["kind"] = parsed["kind"]
    elif event.get("kind") in ACTED_ON + (MINION_START,):
        out["kind"] = event["kind"]
    stamp = event.get("_stamp")
    if isinstance(stamp, str) and len(stamp) <= MAX_STAMP and fields.is_token(stamp):
        out["_stamp"] = stamp
        if parsed:
            out["id"] = f"{tag}|{minion}|{stamp}"
    new = event.get("new")
    role = new.get("role") if isinstance(new, Mapping) else None
    if role in ROLES:
        out["new"] = {"role": role}
    if event.get("split_brain") is True:
        out["split_brain"] = True
    return out


def member_of(minion: str, node_minions: Mapping[str, list[str]]) -> list[str]:
    """The topologies (sorted) that list ``minion`` as one of their nodes.

    >>> member_of("node2", {"web": ["node1", "node2"], "nfs": ["fs1", "fs2"]})
    ['web']
    """
    return sorted(t for t, mids in node_minions.items() if minion in mids)


def deployed(resource: str, sender: str, rendered: Mapping[str, Any] | None,
             node_minions: Mapping[str, list[str]], claimed: str | None = None) -> dict[str, Any]:
    """Which topology (if any) decides for ``resource`` on an event from ``sender``.

    ``rendered``: the sender's ``drbd.rendered_topologies`` answer ``{resource: topology}`` (None:
    no answer); ``node_minions``: ``{topology: [minion ids]}`` from the pillar; ``claimed``: the
    topology the event's payload names. Returns ``{"verdict", "topology", "reason"}`` where
    ``verdict`` is ``act`` (``topology`` decides), ``not_ours`` (nothing to do: the sender is no
    node of the topology the resource was rendered from, or hapair did not render it),
    ``refuse`` (the payload names another topology: never used) or ``unknown`` (no answer).

    >>> deployed("r0", "evil", {"r0": "web"}, {"web": ["node1", "node2"]})["verdict"]
    'not_ours'
    >>> deployed("r0", "node2", {"r0": "web"}, {"web": ["node1", "node2"], "alt": ["node2"]}, "alt")["reason"]
    'the event names topology alt, but r0 on node2 was rendered from topology web: nothing done'
    """
    def verdict(kind: str, reason: str, topology: str | None = None) -> dict[str, Any]:
        return {"verdict": kind, "topology": topology, "reason": reason}

    if not member_of(sender, node_minions):
        return verdict("not_ours", f"{sender} is no node of any topology in the pillar")
    if not isinstance(rendered, Mapping):
        return verdict("unknown", f"{sender} did not say which topology its {resource} was rendered from")
    tname = rendered.get(resource)
    if not fields.is_name(tname):
        return verdict("not_ours", f"{resource} on {sender} was not rendered by hapair")
    if tname not in node_minions:
        return verdict("not_ours", f"{resource} on {sender} was rendered from topology {tname}, "
                                   "which is not in the pillar")
    if sender not in node_minions[tname]:
        return verdict("not_ours", f"{sender} is no node of topology {tname} ({resource} was rendered from it)")
    if claimed is not None and claimed != tname:
        return verdict("refuse", f"the event names topology {claimed}, but {resource} on {sender} was "
                                 f"rendered from topology {tname}: nothing done", tname)
    return verdict("act", f"{resource} on {sender} was rendered from topology {tname}", tname)


def foreign(resource: str, topology: str, rendered: Mapping[str, Mapping[str, Any] | None]) -> str | None:
    """Why ``resource`` must not be remediated under ``topology``: a node rendered it from another one.

    ``rendered``: ``{minion: drbd.rendered_topologies answer or None}`` of the topology's nodes.
    A node that did not answer, or has no hapair config for the resource, tells nothing.

    >>> foreign("r0", "web", {"node1": {"r0": "gfs"}, "node2": None})
    'r0 on node1 was rendered from topology gfs, not web: nothing done'
    >>> foreign("r0", "web", {"node1": {"r0": "web"}, "node2": {}}) is None
    True
    """
    for mid in sorted(rendered):
        answer = rendered[mid]
        other = answer.get(resource) if isinstance(answer, Mapping) else None
        if other is not None and other != topology:
            shown = other if fields.is_name(other) else repr(other)[:100]
            return f"{resource} on {mid} was rendered from topology {shown}, not {topology}: nothing done"
    return None
