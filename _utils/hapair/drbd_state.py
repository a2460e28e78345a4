"""The DRBD rules derived from a resource's state, each defined once.

Every part of hapair that asks "is this resource synced?", "is this Diskless node served by its
peer?", "which handler records are there?", "where is the split-brain record?", "what does an alert
say?" or "what is the remediation policy by default?" asks here, so the grains, the status table, the gates, the planners, the beacon and
the remediation can never disagree. Pure, Salt-free, and imports nothing else of hapair (every
other core module may import it).

>>> synced("Connected", "Established", "UpToDate", "UpToDate"), synced("Connected", "SyncSource", "UpToDate", "Inconsistent")
(True, False)
>>> marker_path("/var/lib/hapair", "r0", "split-brain")
'/var/lib/hapair/drbd/r0.split-brain'
>>> alerts({"present": True, "connection": "StandAlone", "peer_disk": None}, split_brain=True)
['split-brain', 'StandAlone']
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

#: Replication states in which the two disks are not (yet) identical (8.4 and 9 names): a resync
#: runs, waits to start, is paused, or DRBD is Ahead/Behind (congestion; a resync follows).
#: ``Established``, ``VerifyS``/``VerifyT`` (an online verify of identical disks) and ``None``
#: (8.4: ``cs:Connected``) are not among them.
RESYNC_STATES = frozenset({
    "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
    "SyncTarget", "PausedSyncS", "PausedSyncT", "Ahead", "Behind",
})

#: Kinds of hapair's DRBD handler that every rendered .res calls (``handlers { <kind> ... }``).
HANDLER_KINDS = ("split-brain", "before-resync-target", "after-resync-target", "out-of-sync")
#: The handler kind rendered only for a resource with fencing.
FENCING_HANDLER_KINDS = ("fence-peer",)
#: Every kind the handler may record under ``<state_dir>/drbd`` (what the beacon forwards).
RECORDED_KINDS = (*HANDLER_KINDS, *FENCING_HANDLER_KINDS)
#: Marker kinds hapair itself writes beside the handler records.
MARKER_KINDS = (*RECORDED_KINDS, "initial-sync")
#: Suffix of a split-brain record set aside once the resource is Connected again.
RESOLVED_SUFFIX = ".resolved"

#: The alert vocabulary: one spelling everywhere (grains ``drbd_alerts``, ``hapair.status``).
ALERT_SPLIT_BRAIN = "split-brain"
ALERT_STANDALONE = "StandAlone"
ALERT_PEER_DISKLESS = "peer-Diskless"
ALERT_DOWN = "down"
ALERT_NO_ANSWER = "no answer"
#: A node whose backing disk is detached while its peer serves (:func:`served_by_peer`).
ALERT_SERVED_BY_PEER = "Diskless-served-by-peer"
ALERTS = (ALERT_NO_ANSWER, ALERT_DOWN, ALERT_SPLIT_BRAIN, ALERT_STANDALONE, ALERT_PEER_DISKLESS,
          ALERT_SERVED_BY_PEER)

#: The words hapair reports for a node whose backing disk is detached (``on-io-error detach``, or a
#: ``drbdadm detach``) while its Connected, UpToDate peer serves every read and write: the
#: remediation's ``diskless_served`` situation, ``hapair.status``, the grains, the beacon's
#: ``diskless-served`` event (docs/disk-failure.md). Such a node is not down; its alert is
#: ``ALERT_SERVED_BY_PEER`` (``drbd_alerts`` grain, ``hapair.status`` ALERTS column).
SERVED_BY_PEER = "Diskless, served by peer"

#: A resource's ``remediation`` policy where the pillar says nothing (docs/pillar.md).
REMEDIATION_DEFAULTS: Mapping[str, Any] = {
    "reconnect": True, "rejoin_after_reboot": True, "split_brain": "manual", "victim": None,
    "snapshot_before_discard": True, "max_attempts": 3, "cooldown": 60,
}


def in_resync(replication: Any) -> bool:
    """True when a replication state (or a ``"a,b"`` join of several volumes') has a resync running.

    >>> in_resync("SyncTarget"), in_resync("Established"), in_resync("Established,PausedSyncS"), in_resync(None)
    (True, False, True, False)
    """
    if not isinstance(replication, str):
        return False
    return any(part in RESYNC_STATES for part in replication.split(","))


def synced(connection: Any, replication: Any, disk: Any, peer_disk: Any) -> bool:
    """The one "is synced" rule: Connected, no resync running, both disks UpToDate.

    Takes the four states of one resource on one node, flat (``drbd_plan.flatten``'s
    ``connection_state``, ``replication_state``, ``disk_state``, ``peer_disk_state``, or
    ``orchestrate.summarise``'s ``connection``, ``replication``, ``disk``, ``peer_disk``; a join
    of volumes that disagree, ``"UpToDate,Inconsistent"``, is not UpToDate).

    >>> synced("Connected", None, "UpToDate", "UpToDate"), synced("StandAlone", None, "UpToDate", "UpToDate")
    (True, False)
    >>> synced("Connected", "VerifyS", "UpToDate", "UpToDate"), synced("Connected", "Ahead", "UpToDate", "UpToDate")
    (True, False)
    """
    return (connection == "Connected" and not in_resync(replication)
            and disk == "UpToDate" and peer_disk == "UpToDate")


def is_synced(model: Mapping[str, Any] | None) -> bool:
    """``synced`` for a normalised resource model: every volume with every peer.

    A model without volumes or without any peer shown (StandAlone in ``drbdadm status``) is not
    synced: nothing proves the peer holds the same data.

    >>> is_synced({"volumes": [{"disk_state": "UpToDate"}], "peers": [{"connection_state": "Connected",
    ...     "volumes": [{"peer_disk_state": "UpToDate", "replication_state": "Established"}]}]})
    True
    >>> is_synced({"volumes": [{"disk_state": "UpToDate"}], "peers": []}), is_synced(None)
    (False, False)
    """
    volumes = list((model or {}).get("volumes") or [])
    peers = list((model or {}).get("peers") or [])
    if not volumes or not peers or any(vol.get("disk_state") != "UpToDate" for vol in volumes):
        return False
    # 8.4's /proc/drbd names no peer connection state beside the replication state: Connected then
    return all(peer.get("volumes") and all(
        synced(peer.get("connection_state", "Connected"), pvol.get("replication_state"), "UpToDate",
               pvol.get("peer_disk_state")) for pvol in peer["volumes"]) for peer in peers)


def marker_path(state_dir: str, resource: str, kind: str) -> str:
    """Where a resource's record of ``kind`` lives on a node: ``<state_dir>/drbd/<resource>.<kind>``.

    ``kind`` is one of ``MARKER_KINDS`` (the handler's records and ``initial-sync``).

    >>> marker_path("/var/lib/hapair", "r0", "initial-sync")
    '/var/lib/hapair/drbd/r0.initial-sync'
    """
    if kind not in MARKER_KINDS:
        raise ValueError(f"unknown DRBD marker kind {kind!r} (one of {', '.join(MARKER_KINDS)})")
    return os.path.join(state_dir, "drbd", f"{resource}.{kind}")


def record_kind(basename: str) -> tuple[str, str] | None:
    """``(resource, kind)`` of a handler record's file name, or None for any other file.

    >>> record_kind("r0.split-brain"), record_kind("r0.split-brain.resolved"), record_kind(".r0.out-of-sync")
    (('r0', 'split-brain'), None, None)
    """
    if basename.startswith("."):
        return None
    for kind in RECORDED_KINDS:
        if basename.endswith(f".{kind}") and len(basename) > len(kind) + 1:
            return basename[: -len(kind) - 1], kind
    return None


def served_by_peer(disk: Any, connection: Any, peer_disk: Any) -> bool:
    """True for a node that is Diskless, Connected and whose peer is UpToDate: it serves through the peer.

    Takes one node's flat states (``drbd_plan.flatten``'s ``disk_state``, ``connection_state``,
    ``peer_disk_state`` or ``orchestrate.summarise``'s ``disk``, ``connection``, ``peer_disk``). A
    join of volumes that disagree (``"Diskless,UpToDate"``) is not: one volume still has its disk.

    >>> served_by_peer("Diskless", "Connected", "UpToDate"), served_by_peer("Diskless", "StandAlone", "DUnknown")
    (True, False)
    >>> served_by_peer("Diskless", "Connected", "Inconsistent"), served_by_peer("UpToDate", "Connected", "Diskless")
    (False, False)
    """
    return disk == "Diskless" and connection == "Connected" and peer_disk == "UpToDate"


def connected_again(model: Mapping[str, Any] | None) -> bool:
    """True when a resource shows a Connected peer: a split-brain record is then stale.

    >>> connected_again({"peers": [{"connection_state": "Connected"}]}), connected_again({"peers": []})
    (True, False)
    """
    return any(p.get("connection_state") == "Connected" for p in (model or {}).get("peers") or [])


def alerts(summary: Mapping[str, Any] | None, split_brain: bool = False, answered: bool = True) -> list[str]:
    """The alerts for one resource on one node, in ``ALERTS`` spelling.

    ``summary`` is ``orchestrate.summarise``'s (``present``, ``disk``, ``connection``, ``peer_disk``);
    ``split_brain``: the handler's record is there; ``answered``: the node answered at all.
    A Diskless node served by its peer (:func:`served_by_peer`) says so last.

    >>> alerts(None, answered=False)
    ['no answer']
    >>> alerts({"present": True, "connection": "Connected", "peer_disk": "Diskless"})
    ['peer-Diskless']
    >>> alerts({"present": False, "connection": None, "peer_disk": None})
    ['down']
    >>> alerts({"present": True, "disk": "Diskless", "connection": "Connected", "peer_disk": "UpToDate"})
    ['Diskless-served-by-peer']
    """
    out = []
    summary = summary or {}
    if not answered:
        out.append(ALERT_NO_ANSWER)
    elif not summary.get("present"):
        out.append(ALERT_DOWN)
    if split_brain:
        out.append(ALERT_SPLIT_BRAIN)
    if summary.get("connection") == "StandAlone" or (summary.get("present") and summary.get("connection") is None):
        out.append(ALERT_STANDALONE)
    if summary.get("peer_disk") == "Diskless":
        out.append(ALERT_PEER_DISKLESS)
    if served_by_peer(summary.get("disk"), summary.get("connection"), summary.get("peer_disk")):
        out.append(ALERT_SERVED_BY_PEER)
    return out
