"""The pair's status report: one row per resource and node, and the table ``salt-run hapair.status`` prints.

Pure: the runner gathers each node's answers and hands them here. Alerts are
``hapair.drbd_state.alerts`` (the same words as the ``drbd_alerts`` grain), ``Diskless-served-by-peer``
among them for a node that is Diskless, Connected and served by its UpToDate peer (its row's
``served_by_peer`` is True; the peer's row says ``peer-Diskless``).

>>> topo = {"node_order": ["web1"], "nodes": {"web1": {"minion_id": "m1"}}, "drbd": {"resources": {"r0": {}}}}
>>> [r["alerts"] for r in rows(topo, {"web1": None}, {}, {}, {})]
[['no answer']]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hapair import drbd_state
from hapair.orchestrate import find, group_mounts, held_groups, o2cb_online, summarise

Row = dict[str, Any]

COLUMNS = (("resource", "RESOURCE"), ("node", "NODE"), ("role", "ROLE"), ("disk", "DISK"),
           ("connection", "CONNECTION"), ("sync", "SYNC"), ("eta", "ETA"), ("mounts", "MOUNTS"), ("o2cb", "O2CB"),
           ("alerts", "ALERTS"))
GROUP_COLUMN = ("group", "GROUP")  # topologies with service groups: which node runs each group


def rows(topology: Mapping[str, Any], drbd: Mapping[str, list[Any] | None], mounts: Mapping[str, Any],
         o2cb: Mapping[str, Any], split_brain: Mapping[str, Mapping[str, bool]],
         heartbeat: Mapping[str, Any] | None = None) -> list[Row]:
    """One row per resource (sorted) and node (topology order).

    ``drbd``: ``{node: [resource model, ...] or None (no answer)}``; ``mounts``: ``{node:
    mount.active answer}``; ``o2cb``: ``{node: o2cb.status answer}`` (empty: no o2cb column);
    ``split_brain``: ``{resource: {node: the handler's record is there}}``; ``heartbeat``:
    ``{node: heartbeat.status answer}`` for a topology with service groups: each row's ``group``
    is the resource's group where this node runs it (``orchestrate.held_groups``; under stack none,
    where its filesystem is mounted: ``orchestrate.group_mounts``), else None.
    """
    out = []
    groups = topology.get("groups") or {}
    for res in sorted(topology["drbd"]["resources"]):
        fss = [fs for fs in (topology.get("filesystems") or {}).values() if fs.get("resource") == res]
        for node in topology["node_order"]:
            s = summarise(find(drbd.get(node), res))
            active = mounts.get(node) or {}
            sb = bool((split_brain.get(res) or {}).get(node))
            served = drbd_state.served_by_peer(s["disk"], s["connection"], s["peer_disk"])
            out.append({
                "resource": res, "node": node, "minion": topology["nodes"][node]["minion_id"],
                "role": s["role"], "disk": s["disk"], "connection": s["connection"],
                "replication": s["replication"], "peer_role": s["peer_role"], "peer_disk": s["peer_disk"],
                "sync_percent": s["percent_done"], "eta_seconds": s["eta_seconds"],
                "mounts": [fs["mountpoint"] for fs in fss if fs.get("mountpoint") in active],
                "o2cb": None if not o2cb else ("online" if o2cb_online(o2cb.get(node)) else "offline"),
                "split_brain": sb, "served_by_peer": served,
                "alerts": drbd_state.alerts(s, sb, answered=drbd.get(node) is not None),
            })
            if groups:
                if (topology.get("cluster") or {}).get("stack") == "none":  # hapair's runner: where it is mounted
                    held = [g for g, on in group_mounts(topology, {"mounts": mounts}).items() if node in on]
                else:
                    held = held_groups(topology, node, (heartbeat or {}).get(node)) or []
                out[-1]["group"] = next((g for g in held if groups[g]["resource"] == res), None)
    return out


def eta(seconds: Any) -> str:
    """A resync's time to go as the ETA column shows it (``-`` for none).

    >>> eta(None), eta(42), eta(610), eta(7322)
    ('-', '42s', '10m10s', '2h02m')
    """
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        return "-"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def table(report_rows: list[Mapping[str, Any]]) -> str:
    """The rows as a text table (``COLUMNS``, GROUP too when rows have one); ``-`` for nothing,
    ``Connected/SyncSource`` while syncing.

    >>> print(table([{"resource": "r0", "node": "web1", "role": "Primary", "disk": "UpToDate",
    ...               "connection": "Connected", "replication": "Established", "peer_disk": "UpToDate",
    ...               "sync_percent": None, "mounts": [], "o2cb": None, "alerts": []}]))
    RESOURCE  NODE  ROLE     DISK      CONNECTION  SYNC  ETA  MOUNTS  O2CB  ALERTS
    r0        web1  Primary  UpToDate  Connected   100%  -    -       -     -
    """
    columns = COLUMNS[:-1] + (GROUP_COLUMN, COLUMNS[-1]) if any("group" in r for r in report_rows) else COLUMNS
    cells = []
    for row in report_rows:
        conn = row["connection"] or "-"
        if row["replication"] and row["replication"] not in ("Established", "Off"):
            conn = f"{conn}/{row['replication']}"
        sync = "-" if row["sync_percent"] is None else f"{row['sync_percent']:g}%"
        if sync == "-" and row["disk"] == "UpToDate" and row["peer_disk"] == "UpToDate":
            sync = "100%"
        cells.append({"resource": row["resource"], "node": row["node"], "role": row["role"] or "-",
                      "disk": row["disk"] or "-", "connection": conn, "sync": sync, "eta": eta(row.get("eta_seconds")),
                      "mounts": ",".join(row["mounts"]) or "-", "o2cb": row["o2cb"] or "-",
                      "group": row.get("group") or "-", "alerts": ",".join(row["alerts"]) or "-"})
    widths = {k: max([len(h)] + [len(str(c[k])) for c in cells]) for k, h in columns}
    lines = ["  ".join(h.ljust(widths[k]) for k, h in columns).rstrip()]
    lines += ["  ".join(str(c[k]).ljust(widths[k]) for k, _ in columns).rstrip() for c in cells]
    return "\n".join(lines)
