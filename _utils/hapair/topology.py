"""The hapair topology model: pillar ``hapair:topologies:<name>`` in, normalised dict out.

``load(pillar, name)`` validates (``hapair.validate``: every error at once) and normalises;
``normalise(raw, name)`` fills every default and resolves per-node DRBD values. The normalised
shape is the contract of docs/DESIGN.md; docs/pillar.md documents every pillar key.

Example::

    >>> pillar = {"hapair": {"topologies": {"t": {
    ...     "nodes": {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}},
    ...     "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/vdb"}}}}}}}
    >>> topo = load(pillar, "t")
    >>> topo["drbd"]["resources"]["r0"]["nodes"]["b"]
    {'minor': 0, 'device': '/dev/drbd0', 'disk': '/dev/vdb', 'meta_disk': 'internal', 'address': '10.0.0.2', 'port': 7788}
    >>> [(t["name"], node) for t, node in for_minion(pillar, "b")]
    [('t', 'b')]
"""

from __future__ import annotations

import copy
from typing import Any

from hapair.errors import HapairError, TopologyError, ValidationError
from hapair.validate import (
    CMAN_KEYS,
    COROSYNC_DEFAULTS,
    HEARTBEAT_DEFAULTS,
    O2CB_DEFAULTS,
    REMEDIATION_DEFAULTS,
    ROOT,
    SECRET_ATTRS,
    SECTIONS,
    dialect_of,
    drbd_option,
    ip_address,
    partition_of,
    prune,
    secret_text,
    validate,
)

__all__ = ["normalise", "validate", "load", "names", "for_minion", "topologies", "conflicts", "deployed_conflicts"]

CMAN_DEFAULTS: dict[str, Any] = {
    "config_version": 1, "cluster_id": None, "two_node": True, "expected_votes": 1,
}


def topologies(pillar: Any) -> dict:
    """``pillar["hapair"]["topologies"]`` or ``{}`` (tolerates missing or mistyped levels)."""
    hapair = pillar.get("hapair") if isinstance(pillar, dict) else None
    topos = hapair.get("topologies") if isinstance(hapair, dict) else None
    return topos if isinstance(topos, dict) else {}


def names(pillar: Any) -> list[str]:
    """Sorted topology names in the pillar: ``names({"hapair": {"topologies": {"web": {}}}}) == ["web"]``."""
    return sorted(str(key) for key in topologies(pillar))


def load(pillar: Any, name: str) -> dict:
    """Validate then normalise ``hapair:topologies:<name>``; raise ``ValidationError`` with every error."""
    topos = topologies(pillar)
    if name not in topos:
        known = ", ".join(names(pillar)) or "none"
        raise ValidationError([TopologyError(f"{ROOT}:{name}", "no such topology in the pillar",
                                             f"known topologies: {known}")])
    raw = topos[name]
    errors = validate(raw, name)
    if errors:
        raise ValidationError(errors)
    topo = normalise(raw, name)
    errors = stack_errors(topo)
    if errors:
        raise ValidationError(errors)
    return topo


def stack_errors(topology: dict) -> list[TopologyError]:
    """What a node's cluster stack would refuse later (corosync, dlm_controld, heartbeat, o2cb),
    checked on the normalised topology at validation, before any minion job runs.

    >>> stack_errors({"path": "hapair:topologies:t", "cluster": {"stack": "none"}, "filesystems": {}})
    []
    """
    from hapair import corosync, heartbeat, o2cb  # noqa: PLC0415 - they import this module's schema

    path = f"{topology['path']}:cluster"
    stack = topology["cluster"]["stack"]
    ocfs2 = any(fs["type"] == "ocfs2" for fs in topology["filesystems"].values())
    checks: list[tuple[str, Any]] = []
    if stack == "corosync":
        checks += [("corosync", corosync.check_conf), ("corosync", corosync.check_dlm)]
    if stack == "heartbeat":
        checks.append(("heartbeat", heartbeat.check))
    if stack == "o2cb" or ocfs2:
        checks.append(("o2cb", o2cb.check_topology))
    errors: list[TopologyError] = []
    for section, check in checks:
        try:
            found = check(topology)
        except HapairError as err:  # a renderer's refusal of a value validation let through
            found = [str(err)]
        errors += [e if isinstance(e, TopologyError) else TopologyError(f"{path}:{section}", e) for e in found]
    return errors


def for_minion(pillar: Any, minion_id: str) -> list[tuple[dict, str]]:
    """Every ``(normalised topology, node name)`` whose node has ``minion_id``, by topology name.

    Raises ``ValidationError`` when such a topology is invalid (other topologies are not read).
    """
    found: list[tuple[dict, str]] = []
    for tname in names(pillar):
        raw = topologies(pillar)[tname]
        nodes = raw.get("nodes") if isinstance(raw, dict) else None
        if not isinstance(nodes, dict):
            continue
        for key, spec in nodes.items():
            mid = spec.get("minion_id", key) if isinstance(spec, dict) else key
            if mid == minion_id:
                found.append((load(pillar, tname), key))
                break
    return found


def conflicts(pillar: Any, minion_id: str, among: Any = None) -> list[TopologyError]:
    """Clashes between the topologies that name ``minion_id`` (each valid on its own).

    On one machine two topologies must not share a DRBD resource name, minor, device, backing
    disk, ``address:port``, mountpoint, or run a cluster stack each (one o2cb/cman/corosync/
    heartbeat cluster per node). ``among``: only these topology names, in this order, each clash
    reported on the later one (a pillar may hold several that share nodes on purpose, as the
    lab's do; only those deployed together can clash).
    Raises ``ValidationError`` when one of them is invalid.

    >>> conflicts({"hapair": {"topologies": {}}}, "node1")
    []
    """
    errors: list[TopologyError] = []
    seen: dict[tuple[str, Any], tuple[str, str]] = {}

    def claim(kind: str, value: Any, topo: dict, where: str) -> None:
        if value is None:
            return
        key = (kind, value)
        if key in seen and seen[key][0] != topo["name"]:
            other, other_path = seen[key]
            errors.append(TopologyError(f"{topo['path']}:{where}",
                                        f"{kind} {value} on {minion_id} is also used by topology {other}",
                                        f"apply only one of them, or change one; the other is {other_path}"))
        else:
            seen.setdefault(key, (topo["name"], f"{topo['path']}:{where}"))

    found = for_minion(pillar, minion_id)
    if among is not None:  # in that order: the last named is the one each clash is reported on
        order = list(among)
        found = sorted((pair for pair in found if pair[0]["name"] in order), key=lambda pair: order.index(pair[0]["name"]))
    for topo, node in found:
        for rname, res in topo["drbd"]["resources"].items():
            here = res["nodes"][node]
            base = f"drbd:resources:{rname}"
            claim("DRBD resource", rname, topo, base)
            claim("minor", here["minor"], topo, f"{base}:minor")
            claim("device", here["device"], topo, f"{base}:device")
            claim("backing disk", here["disk"], topo, f"{base}:disk")
            claim("address:port", f"{here['address']}:{here['port']}", topo, f"{base}:port")
        for fname, fs in topo["filesystems"].items():
            if node in fs["mount_on"]:
                claim("mountpoint", fs["mountpoint"], topo, f"filesystems:{fname}:mountpoint")
        if topo["cluster"]["stack"] != "none":
            claim("cluster stack", "(one per node)", topo, "cluster:stack")
    return errors


def deployed_conflicts(pillar: Any, name: str, deployed: dict) -> list[TopologyError]:
    """What topology ``name`` would clash with on its nodes, given what each node runs now.

    ``deployed``: ``{minion id: {resource: topology}}`` (``drbd.rendered_topologies``: the
    topology each hapair-rendered .res on that node came from; ``None`` when it did not answer).
    Only the topologies deployed on a node are compared with ``name`` there, and only those still
    in the pillar (a removed one cannot be compared). The bootstrap's validation step calls this
    before any minion job changes anything.

    >>> deployed_conflicts({"hapair": {"topologies": {}}}, "web", {"web1": None})
    []
    """
    errors: list[TopologyError] = []
    known = set(names(pillar))
    for minion_id, rendered in sorted(deployed.items()):
        others = {t for t in (rendered or {}).values() if t in known} - {name}
        if others:
            errors += [e for e in conflicts(pillar, minion_id, among=[*sorted(others), name])
                       if e.path.startswith(f"{ROOT}:{name}:")]
    return errors


def _first_free(taken: set[int], start: int) -> int:
    value = start
    while value in taken:
        value += 1
    return value


def _nodes(raw: dict) -> tuple[dict, list[str]]:
    order = list(raw)
    explicit_ids = {spec["node_id"] for spec in raw.values() if spec.get("node_id") is not None}
    explicit_cids = {spec["cluster_node_id"] for spec in raw.values() if spec.get("cluster_node_id") is not None}
    nodes: dict[str, dict] = {}
    for key in order:
        spec = raw[key]
        node_id = spec.get("node_id")
        if node_id is None:
            node_id = _first_free(explicit_ids, 0)
            explicit_ids.add(node_id)
        cluster_node_id = spec.get("cluster_node_id")
        if cluster_node_id is None:
            cluster_node_id = _first_free(explicit_cids, 1)
            explicit_cids.add(cluster_node_id)
        address = str(ip_address(spec["address"]))
        nodes[key] = {
            "name": key,
            "hostname": spec.get("hostname", key),
            "minion_id": spec.get("minion_id", key),
            "address": address,
            "node_id": node_id,
            "cluster_address": str(ip_address(spec["cluster_address"])) if spec.get("cluster_address") else address,
            "cluster_node_id": cluster_node_id,
        }
    return nodes, order


def _options(section: Any) -> dict:
    return {key: drbd_option(value) for key, value in (section or {}).items()}


def _after_sb_0pri(value: Any, nodes: dict) -> Any:
    """``discard-node-<node key>`` becomes ``discard-node-<hostname>`` (DRBD's name for it)."""
    if isinstance(value, str) and value.startswith("discard-node-"):
        target = value[len("discard-node-"):]
        if target in nodes:
            return f"discard-node-{nodes[target]['hostname']}"
    return value


def _resource(rname: str, res: dict, nodes: dict, order: list[str]) -> dict:
    mode = res.get("mode", "single-primary")
    primary = res.get("primary")
    if mode == "single-primary" and primary is None:
        primary = res.get("initial_primary", order[0])
    if mode == "dual-primary":
        primary = None
    initial_primary = res.get("initial_primary") or primary or order[0]
    disk_value = res.get("disk")
    disk_section = dict(res.get("disk_section") or {})
    if isinstance(disk_value, dict):
        disk_section, disk_value = dict(disk_value), None
    sections = {name: _options(res.get(name)) for name in SECTIONS if name != "disk"}
    sections["disk"] = _options(disk_section)
    sections = {name: sections[name] for name in SECTIONS}
    secret = secret_text(res.get("shared_secret"))
    per_node: dict[str, dict] = {}
    overrides = res.get("nodes") or {}
    for node in order:
        over = overrides.get(node) or {}
        minor = over.get("minor", res.get("minor"))
        device = over.get("device", res.get("device") if "minor" not in over else None)
        if minor is None:
            minor = int(str(device)[len("/dev/drbd"):])
        per_node[node] = {
            "minor": minor,
            "device": device or f"/dev/drbd{minor}",
            "disk": over.get("disk", disk_value),
            "meta_disk": over.get("meta_disk", res.get("meta_disk", "internal")),
            "address": str(ip_address(over["address"])) if "address" in over else nodes[node]["address"],
            "port": over.get("port", res["port"]),
        }
    remediation = {**REMEDIATION_DEFAULTS, **(res.get("remediation") or {})}
    roles = steady_roles(mode, primary, order)
    return {
        "name": rname,
        "port": res["port"],
        "protocol": res.get("protocol", "C"),
        "mode": mode,
        "primary": primary,
        "initial_primary": initial_primary,
        "roles": roles,
        "initial_sync": res.get("initial_sync", "full"),
        "after_sb_0pri": _after_sb_0pri(res.get("after_sb_0pri"), nodes),
        "after_sb_1pri": res.get("after_sb_1pri"),
        "after_sb_2pri": res.get("after_sb_2pri"),
        "cram_hmac_alg": res.get("cram_hmac_alg"),
        "shared_secret": secret,
        "sections": sections,
        "nodes": per_node,
        "remediation": remediation,
    }


def _filesystem(fname: str, fs: dict, resources: dict, order: list[str], cluster_name: str | None) -> dict:
    fstype = fs["type"]
    rname = fs.get("resource")
    if rname is None:
        # a plain device may be one of our DRBD devices: then it lives on that resource
        for candidate, res in resources.items():
            if all(res["nodes"][n]["device"] == fs["device"] for n in order):
                rname = candidate
    res = resources.get(rname) if rname else None
    if res is not None:
        devices = {n: res["nodes"][n]["device"] for n in order}
    else:
        devices = {n: fs["device"] for n in order}
    cluster_fs = fstype in ("ocfs2", "gfs2")
    if "mount_on" in fs:
        mount_on = list(fs["mount_on"])
    elif res is None or cluster_fs and res["mode"] == "dual-primary":
        mount_on = list(order) if fs.get("mountpoint") else []
    else:
        mount_on = [res["primary"]] if fs.get("mountpoint") else []
    first = mount_on[0] if mount_on else (res["primary"] if res is not None and res["primary"] else order[0])
    format_on = fs.get("format_on")
    if format_on is None:
        initial = res["initial_primary"] if res is not None else None
        format_on = initial if initial and (not mount_on or initial in mount_on) else first
    default_options = ["_netdev"] if cluster_fs else []
    return {
        "name": fname,
        "resource": rname,
        "device": devices[first],
        "devices": devices,
        "type": fstype,
        "mkfs_type": fs.get("mkfs_type"),
        "feature_level": fs.get("feature_level"),
        "slots": fs.get("slots", 2),
        "label": fs.get("label"),
        "lock_table": fs.get("lock_table", f"{cluster_name}:{fname}") if fstype == "gfs2" else None,
        "mkfs_options": list(fs.get("mkfs_options") or []),
        "mountpoint": fs.get("mountpoint"),
        "mount_options": list(fs.get("mount_options", default_options)),
        "mount_on": mount_on,
        "format_on": format_on,
    }


def _cman(raw: dict, nodes: dict, order: list[str]) -> dict:
    out: dict[str, Any] = {key: raw.get(key, default) for key, default in CMAN_DEFAULTS.items()}
    out["dlm"] = dict(raw.get("dlm") or {})
    out["gfs_controld"] = dict(raw.get("gfs_controld") or {})
    out["fence_devices"] = {name: {"name": name, **{k: secret_text(v) if k in SECRET_ATTRS else v
                                                     for k, v in attrs.items()}}
                            for name, attrs in (raw.get("fence_devices") or {}).items()}
    raw_nodes = raw.get("nodes") or {}
    out["nodes"] = {}
    for node in order:
        spec = raw_nodes.get(node) or {}
        fence = []
        for method in spec.get("fence") or []:
            devices = [{k: secret_text(v) if k in SECRET_ATTRS else v for k, v in dev.items()}
                       for dev in method["devices"]]
            fence.append({"method": method["method"], "devices": devices})
        out["nodes"][node] = {"nodeid": nodes[node]["cluster_node_id"], "votes": spec.get("votes", 1),
                              "fence": fence}
    out["failover_domains"] = {
        name: {"name": name, "restricted": dom.get("restricted", False), "ordered": dom.get("ordered", False),
               "nofailback": dom.get("nofailback", False), "nodes": list(dom.get("nodes") or [])}
        for name, dom in (raw.get("failover_domains") or {}).items()}
    for kind in ("vms", "services"):
        out[kind] = {name: {"name": name, "domain": None, **copy.deepcopy(attrs or {})}
                     for name, attrs in (raw.get(kind) or {}).items()}
    for key in ("attributes", "totem", "fence_daemon", "rm"):
        out[key] = dict(raw.get(key) or {})
    assert set(out) == set(CMAN_KEYS)
    return out


def _heartbeat(raw: dict, nodes: dict, order: list[str]) -> dict:
    out = {key: copy.deepcopy(raw.get(key, default)) for key, default in HEARTBEAT_DEFAULTS.items()}
    if isinstance(out["auto_failback"], bool):
        out["auto_failback"] = "on" if out["auto_failback"] else "off"
    media = []
    for med in raw.get("media") or []:
        item = {"type": med["type"], "interface": med["interface"]}
        if med["type"] == "ucast":
            item["addresses"] = [str(ip_address(a)) for a in med.get("addresses")
                                 or [nodes[n]["cluster_address"] for n in order]]
        if med["type"] == "mcast":
            item.update(group=med["group"], port=med.get("port", out["udpport"]), ttl=med.get("ttl", 1))
        media.append(item)
    out["media"] = media
    auth = raw["authkeys"]
    out["authkeys"] = {"index": 1, "method": auth["method"], "key": secret_text(auth.get("key"))}
    return out


def steady_roles(mode: str, primary: str | None, order: list[str]) -> dict[str, str]:
    """The one owner of "which role does each node hold in steady state".

    >>> steady_roles("single-primary", "n2", ["n1", "n2"])
    {'n1': 'Secondary', 'n2': 'Primary'}
    """
    return {node: "Primary" if mode == "dual-primary" or node == primary else "Secondary" for node in order}


def placed(topology: dict, placement: dict[str, str]) -> dict:
    """``topology`` with each group of ``placement`` (``{group: node}``) running on that node: the
    group's node, its filesystem's format node and its resource's primary and roles follow it.

    Stack none has no cluster manager to say where a group runs after ``hapair.failover``: where
    it is observed running (``hapair.orchestrate.placement``) is applied here, so a bootstrap re-run
    and the formula keep it there instead of pulling it back. ``preferred`` keeps the pillar's node.
    Raises ValueError for an unknown group or node.

    >>> t = {"node_order": ["n1", "n2"], "filesystems": {"f": {"format_on": "n1"}},
    ...      "groups": {"g": {"node": "n1", "preferred": "n1", "resource": "r0", "filesystem": "f"}},
    ...      "drbd": {"resources": {"r0": {"primary": "n1", "roles": {}}}}}
    >>> p = placed(t, {"g": "n2"})
    >>> p["groups"]["g"]["node"], p["groups"]["g"]["preferred"], p["drbd"]["resources"]["r0"]["roles"]
    ('n2', 'n1', {'n1': 'Secondary', 'n2': 'Primary'})
    """
    out = copy.deepcopy(topology)
    order = list(out["node_order"])
    for gname, node in sorted(placement.items()):
        if gname not in out.get("groups", {}):
            raise ValueError(f"{gname!r} is not a service group of topology {out.get('name')}")
        if node not in order:
            raise ValueError(f"{node!r} is not a node of topology {out.get('name')}: one of {', '.join(order)}")
        group = out["groups"][gname]
        group["node"] = node
        group["nodes"] = [node, *[n for n in order if n != node]]
        if group.get("filesystem"):
            out["filesystems"][group["filesystem"]]["format_on"] = node
        res = out["drbd"]["resources"][group["resource"]]
        res["primary"] = node
        res["roles"] = steady_roles("single-primary", node, order)
    return out


def lxcpath(fs: dict) -> str:
    """Where a group's LXC containers live: ``containers/`` on the group's filesystem, so they move
    with its DRBD resource (one owner: the state, the runner and the failover read it from here).

    >>> lxcpath({"mountpoint": "/srv/store1/"})
    '/srv/store1/containers'
    """
    return fs["mountpoint"].rstrip("/") + "/containers"


def peer_addresses(topology: dict, node: str) -> list[str]:
    """The addresses ``node`` must reach on its peer: every DRBD resource's address of the other
    node, and its cluster address under o2cb or corosync (``hapair.reconfigure``'s peer check).

    >>> t = {"cluster": {"stack": "o2cb"}, "nodes": {"a": {"cluster_address": "10.0.0.1"}, "b": {"cluster_address": "10.0.0.2"}},
    ...      "drbd": {"resources": {"r0": {"nodes": {"a": {"address": "10.9.0.1"}, "b": {"address": "10.9.0.2"}}}}}}
    >>> peer_addresses(t, "a")
    ['10.0.0.2', '10.9.0.2']
    """
    found = set()
    for res in topology["drbd"]["resources"].values():
        found.update(spec["address"] for peer, spec in (res.get("nodes") or {}).items() if peer != node)
    if (topology.get("cluster") or {}).get("stack") in ("o2cb", "corosync"):
        found.update(spec["cluster_address"] for peer, spec in topology["nodes"].items()
                     if peer != node and spec.get("cluster_address"))
    return sorted(found)


def _groups(raw: dict, order: list[str], filesystems: dict, resources: dict) -> dict:
    """``{group: {name, node, preferred (the pillar's node), nodes (node first), resource, filesystem,
    ip, relocate, services, canary: {file, url_path, port} | None,
    containers: [{name, template, backing, link, lxcpath}]}}``;
    each relocated path's target is the group filesystem's mountpoint + the path. A group's
    filesystem is formatted on the group's node and never mounted at boot (the manager mounts it);
    its resource's steady ``roles``: Primary where the group prefers to run."""
    out = {}
    for gname in sorted(raw):
        spec = raw[gname]
        fs = filesystems.get(spec.get("filesystem")) if spec.get("filesystem") else None
        ip = spec.get("ip")
        if fs is not None:
            fs["format_on"], fs["mount_on"] = spec["node"], []
        resources[spec["resource"]]["roles"] = steady_roles("single-primary", spec["node"], order)
        out[gname] = {
            "name": gname, "node": spec["node"], "preferred": spec["node"],
            "nodes": [spec["node"], *[n for n in order if n != spec["node"]]],
            "resource": spec["resource"], "filesystem": fs["name"] if fs else None,
            "ip": {"address": str(ip_address(ip["address"])), "cidr": ip["cidr"], "interface": ip["interface"]}
            if ip else None,
            "relocate": [{"path": path.rstrip("/"), "target": fs["mountpoint"].rstrip("/") + path.rstrip("/")}
                         for path in spec.get("relocate") or []] if fs else [],
            "services": list(spec.get("services") or []),
            "canary": {"file": spec["canary"]["file"], "url_path": spec["canary"]["url_path"],
                       "port": spec["canary"].get("port", 80)} if spec.get("canary") else None,
            "containers": [{"name": cname, "template": entry["template"], "backing": entry.get("backing", "btrfs"),
                            "link": entry.get("link"), "lxcpath": lxcpath(fs)}
                           for cname, entry in sorted((spec.get("containers") or {}).items())] if fs else [],
        }
    return out


def _corosync(raw: dict) -> dict:
    """Top-level conveniences (token, consensus, wait_for_all) land in totem/quorum too."""
    out = {**copy.deepcopy(COROSYNC_DEFAULTS), **copy.deepcopy(raw)}
    for key in ("token", "consensus"):
        if out[key] is not None:
            out["totem"].setdefault(key, out[key])
    if "wait_for_all" in raw:
        out["quorum"].setdefault("wait_for_all", 1 if raw["wait_for_all"] else 0)
    return out


def _cluster(raw: dict, name: str, nodes: dict, order: list[str]) -> dict:
    stack = raw.get("stack", "none")
    out: dict[str, Any] = {"stack": stack, "name": raw.get("name", name),
                           "o2cb": None, "cman": None, "corosync": None, "heartbeat": None}
    if stack == "o2cb":
        out["o2cb"] = {**O2CB_DEFAULTS, **(raw.get("o2cb") or {})}
    elif stack == "cman":
        out["cman"] = _cman(raw.get("cman") or {}, nodes, order)
    elif stack == "corosync":
        out["corosync"] = _corosync(raw.get("corosync") or {})
    elif stack == "heartbeat":
        out["heartbeat"] = _heartbeat(raw["heartbeat"], nodes, order)
    return out


def _secrets(topo: dict) -> list[str]:
    found: list[str] = []
    for res in topo["drbd"]["resources"].values():
        found.append(res["shared_secret"])
    cman = topo["cluster"]["cman"]
    if cman:
        for dev in cman["fence_devices"].values():
            found.extend(dev.get(k) for k in SECRET_ATTRS)
        for node in cman["nodes"].values():
            for method in node["fence"]:
                for dev in method["devices"]:
                    found.extend(dev.get(k) for k in SECRET_ATTRS)
    heartbeat = topo["cluster"]["heartbeat"]
    if heartbeat:
        found.append(heartbeat["authkeys"]["key"])
    corosync = topo["cluster"]["corosync"]
    if corosync:
        from hapair import fencing  # noqa: PLC0415 - fencing is Salt-free and small

        found.append(secret_text(corosync.get("authkey")))
        found.extend(fencing.secrets(topo))
    if topo.get("unison") and topo["unison"]["ssh_key"]:
        from hapair.unison import key_secrets  # noqa: PLC0415

        found.extend(key_secrets(topo["unison"]["ssh_key"]["private"]))
    unique: list[str] = []
    for secret in found:
        if isinstance(secret, str) and secret and secret not in unique:
            unique.append(secret)
    return unique


def _partitions(raw: dict, order: list[str]) -> dict:
    """``{disk: {disk, table, partition, nodes}}``: msdos by default (the seeds' fdisk and parted
    label), partition 1 as the kernel names it, both nodes unless ``nodes`` says."""
    return {disk: {"disk": disk, "table": (spec or {}).get("table", "msdos"),
                   "partition": (spec or {}).get("partition") or partition_of(disk),
                   "nodes": [n for n in order if n in ((spec or {}).get("nodes") or order)]}
            for disk, spec in raw.items()}


def _on_partitions(resources: dict, partitions: dict) -> None:
    """A resource's backing disk that ``partitions`` partitions on that node is its partition."""
    for res in resources.values():
        for node, info in res["nodes"].items():
            spec = partitions.get(info["disk"])
            if spec is not None and node in spec["nodes"]:
                info["disk"] = spec["partition"]


def _lv(vg: str, lv: str, entry: Any) -> dict:
    """``{name, size, path, filesystem}``; ``filesystem`` is None for a DRBD backing LV, else
    ``{name, type, device (/dev/mapper/...), mountpoint, mount_options, label, mkfs_options}``."""
    spec = entry if isinstance(entry, dict) else {"size": entry}
    fs = None
    if spec.get("filesystem"):
        fs = {"name": f"{vg}/{lv}", "type": spec["filesystem"],
              "device": f"/dev/mapper/{vg.replace('-', '--')}-{lv.replace('-', '--')}",
              "mountpoint": spec["mountpoint"], "mount_options": list(spec.get("mount_options") or []),
              "label": None, "mkfs_options": []}
    return {"name": lv, "size": spec["size"], "path": f"/dev/{vg}/{lv}", "filesystem": fs}


def _unison(raw: Any, nodes: dict, order: list[str]) -> dict | None:
    """``{profiles: {p: {name, root, client, server, server_host, schedule, logfile, rotate}},
    ssh_key: {private, public} | None}`` (SECRET private key), None without a ``unison`` section."""
    from hapair.unison import DEFAULTS  # noqa: PLC0415 - hapair.unison is Salt-free and small

    if not raw:
        return None
    profiles = {}
    for pname, spec in raw["profiles"].items():
        client = spec.get("client", order[0])
        server = next(n for n in order if n != client)
        profiles[pname] = {"name": pname, "root": spec["root"], "client": client, "server": server,
                           "server_host": nodes[server]["hostname"],
                           **{k: spec.get(k, v) for k, v in DEFAULTS.items()}}
    key = raw.get("ssh_key") or {}
    return {"profiles": profiles,
            "ssh_key": {"private": key.get("private"), "public": key.get("public")} if key else None}


def _whole_partition(device: str, partitions: dict, order: list[str]) -> str:
    """An LVM PV on a disk both nodes partition is that partition (the lvm section is not per node)."""
    spec = partitions.get(device)
    return spec["partition"] if spec is not None and spec["nodes"] == order else device


def normalise(raw: dict, name: str) -> dict:
    """Return the normalised topology (docs/DESIGN.md) of a *valid* pillar topology.

    Schema: ``{name, path, nodes: {n: {name, hostname, minion_id, address, node_id, cluster_address,
    cluster_node_id}}, node_order, drbd: {dialect, global, common, resources: {r: {...,
    nodes: {n: {minor, device, disk, meta_disk, address, port}}}}}, filesystems, cluster, groups,
    nfs, lvm, partitions, secrets}``. Call ``validate`` first (``load`` does); invalid input may raise here.
    """
    raw = prune(raw)
    nodes, order = _nodes(raw["nodes"])
    drbd_raw = raw["drbd"]
    resources = {rname: _resource(rname, res, nodes, order) for rname, res in drbd_raw["resources"].items()}
    cluster = _cluster(raw.get("cluster") or {}, name, nodes, order)
    common_raw = drbd_raw.get("common") or {}
    filesystems = {fname: _filesystem(fname, fs, resources, order, cluster["name"])
                   for fname, fs in (raw.get("filesystems") or {}).items()}
    exports = [{"path": exp["path"], "clients": exp.get("clients", "*"), "options": list(exp.get("options") or [])}
               for exp in (raw.get("nfs") or {}).get("exports") or []]
    partitions = _partitions(raw.get("partitions") or {}, order)
    _on_partitions(resources, partitions)
    lvm = {vg: {"name": vg, "pvs": [_whole_partition(pv, partitions, order) for pv in spec.get("pvs") or []],
                "lvs": {lv: _lv(vg, lv, entry) for lv, entry in (spec.get("lvs") or {}).items()}}
           for vg, spec in (raw.get("lvm") or {}).items()}
    topo = {
        "name": name,
        "path": f"{ROOT}:{name}",
        "nodes": nodes,
        "node_order": order,
        "drbd": {
            "dialect": dialect_of(drbd_raw.get("dialect", "auto")),
            "global": _options(drbd_raw.get("global")),
            "common": {section: _options(common_raw.get(section)) for section in SECTIONS},
            "resources": resources,
        },
        "filesystems": filesystems,
        "cluster": cluster,
        "groups": _groups(raw.get("groups") or {}, order, filesystems, resources),
        "nfs": {"exports": exports, "links": dict(sorted(((raw.get("nfs") or {}).get("links") or {}).items()))},
        "lvm": lvm,
        "partitions": partitions,
        "unison": _unison(raw.get("unison"), nodes, order),
        "tuning": {"sysctl": {k: str(v) for k, v in sorted(((raw.get("tuning") or {}).get("sysctl") or {}).items())}},
    }
    topo["secrets"] = _secrets(topo)
    return topo
