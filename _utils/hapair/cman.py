"""cman (RHEL 5/6 cluster suite): render cluster.conf, check it, parse the cman/rgmanager tools.

Everything here is pure: strings in, dicts or strings out. XML is built and read with
``xml.etree.ElementTree`` only, never by string concatenation.

The topology part read by :func:`render_cluster_conf` (``topology["cluster"]``)::

    {"stack": "cman", "name": "hardcore",
     "cman": {"config_version": 3, "cluster_id": 26333, "two_node": True, "expected_votes": 1,
              "dlm": {"plock_ownership": 1, "plock_rate_limit": 0},
              "gfs_controld": {"plock_rate_limit": 0},
              "fence_devices": {"core-01_ipmi": {"agent": "fence_ipmilan", "ipaddr": "10.0.0.11",
                                                 "login": "admin", "passwd": "SECRET", "action": "reboot"}},
              "nodes": {"core-01": {"votes": 1, "fence": [{"method": "single",
                                                          "devices": [{"name": "core-01_ipmi"}]}]}},
              "failover_domains": {"core-01_domain": {"restricted": False, "ordered": False,
                                                      "nofailback": False, "nodes": ["core-01"]}},
              "vms": {"blueonyx_01": {"domain": "core-01_domain"}},
              "services": {"web": {"domain": "core-01_domain", "autostart": True,
                                   "resources": [{"type": "ip", "address": "10.0.0.50"}]}}}}

Cluster node names are the topology nodes' ``hostname`` (``uname -n``), node ids their
``cluster_node_id`` (default: 1, 2 in ``node_order``).
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from typing import Any, Iterable, Mapping

from hapair.errors import ParseError, RenderError, TopologyError, ValidationError
from hapair.fields import has_control, require
from hapair.secrets import MASK, mask
from hapair.validate import SECRET_ATTRS

SECRET_ATTRIBUTES = SECRET_ATTRS  # fence attributes that hold secrets: validate.SECRET_ATTRS is the one list
_SECRET_ATTR_RE = re.compile(r"(\b(?:" + "|".join(sorted(SECRET_ATTRIBUTES, key=len, reverse=True))
                             + r""")\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE)


# --------------------------------------------------------------------------- rendering


def _value(value: Any, what: str) -> str:
    """An attribute value: ElementTree escapes quotes, ``<`` and ``&``; XML 1.0 cannot hold most
    control characters at all, and cman has no use for a newline, so those are refused."""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if has_control(text):
        raise RenderError(f"{what}: value holds a control character (newline, NUL, ...)")
    return text


def _element(parent: ET.Element | None, tag: str, attrs: Mapping[str, Any] | None = None) -> ET.Element:
    """Create ``tag`` with ``attrs`` (None values dropped, keys sorted for determinism).

    The tag and every attribute key must be XML names (ElementTree writes them unescaped, so
    ``x="1"/><evil`` would add an element); values are escaped by ElementTree.
    """
    require("xml_name", tag, "cluster.conf element")
    clean = {require("xml_name", k, f"<{tag}> attribute"): _value(v, f"<{tag} {k}>")
             for k, v in sorted((attrs or {}).items(), key=lambda kv: str(kv[0])) if v is not None}
    if parent is None:
        return ET.Element(tag, clean)
    return ET.SubElement(parent, tag, clean)


def cluster_nodes(topology: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return ``[{"node", "name", "nodeid", "votes", "fence"}]`` in node order.

    >>> cluster_nodes({"nodes": {"a": {"hostname": "a.x"}}, "node_order": ["a"],
    ...                "cluster": {"cman": {}}})[0]["name"]
    'a.x'
    """
    cman = topology.get("cluster", {}).get("cman", {}) or {}
    overrides = cman.get("nodes", {}) or {}
    order = topology.get("node_order") or list(topology.get("nodes", {}))
    out = []
    for index, key in enumerate(order, start=1):
        node = topology["nodes"][key]
        extra = overrides.get(key, {}) or {}
        out.append(
            {
                "node": key,
                "name": extra.get("name") or node.get("hostname") or key,
                "nodeid": int(extra.get("nodeid") or node.get("cluster_node_id") or index),
                "votes": int(extra.get("votes", 1)),
                "fence": list(extra.get("fence", []) or []),
            }
        )
    return out


def render_cluster_conf(topology: Mapping[str, Any], config_version: int | None = None) -> str:
    """Render ``/etc/cluster/cluster.conf`` for a cman topology (deterministic, ends with a newline).

    ``config_version`` overrides ``cluster.cman.config_version`` (default 1). Failover domain and
    fence method node references use topology node keys and are rendered as cluster node names.

    >>> xml = render_cluster_conf({"nodes": {"a": {}, "b": {}}, "node_order": ["a", "b"],
    ...                            "cluster": {"stack": "cman", "name": "c", "cman": {}}})
    >>> '<cman expected_votes="1" two_node="1" />' in xml
    True
    """
    cluster = topology.get("cluster", {})
    cman = cluster.get("cman", {}) or {}
    nodes = cluster_nodes(topology)
    names = {n["node"]: n["name"] for n in nodes}
    version = config_version if config_version is not None else cman.get("config_version", 1)
    root = _element(None, "cluster", {"name": cluster["name"], "config_version": int(version)})
    if cman.get("dlm"):
        _element(root, "dlm", cman["dlm"])
    if cman.get("gfs_controld"):
        _element(root, "gfs_controld", cman["gfs_controld"])
    two_node = bool(cman.get("two_node", len(nodes) == 2))
    cman_attrs: dict[str, Any] = dict(cman.get("attributes", {}) or {})
    cman_attrs["cluster_id"] = cman.get("cluster_id")
    if two_node:
        cman_attrs.update(two_node=True, expected_votes=cman.get("expected_votes", 1))
    elif cman.get("expected_votes") is not None:
        cman_attrs["expected_votes"] = cman["expected_votes"]
    _element(root, "cman", cman_attrs)
    if cman.get("totem"):
        _element(root, "totem", cman["totem"])
    if cman.get("fence_daemon"):
        _element(root, "fence_daemon", cman["fence_daemon"])

    clusternodes = _element(root, "clusternodes")
    for node in nodes:
        el = _element(clusternodes, "clusternode", {"name": node["name"], "nodeid": node["nodeid"],
                                                    "votes": node["votes"]})
        fence = _element(el, "fence")
        for method in node["fence"]:
            m_el = _element(fence, "method", {"name": method.get("method", method.get("name", "single"))})
            for device in method.get("devices", []):
                _element(m_el, "device", device)

    fencedevices = _element(root, "fencedevices")
    for name, device in sorted((cman.get("fence_devices") or {}).items()):
        _element(fencedevices, "fencedevice", {**device, "name": name})

    domains = cman.get("failover_domains") or {}
    vms = cman.get("vms") or {}
    services = cman.get("services") or {}
    if domains or vms or services or cman.get("rm"):
        rm = _element(root, "rm", cman.get("rm") or {})
        if domains:
            fds = _element(rm, "failoverdomains")
            for name, dom in sorted(domains.items()):
                # restricted always (as seed 004 writes it); ordered/nofailback only when set (rgmanager default 0)
                attrs = {"restricted": dom.get("restricted", False),
                         **{k: True for k in ("ordered", "nofailback") if dom.get(k)}}
                fd = _element(fds, "failoverdomain", {**attrs, "name": name})
                for prio, member in enumerate(dom.get("nodes", []), start=1):
                    _element(fd, "failoverdomainnode", {"name": names.get(member, member),
                                                        "priority": prio if dom.get("ordered") else None})
        for name, vm in vms.items():  # pillar order: rgmanager starts services in document order
            _element(rm, "vm", {**vm, "name": name})
        for name, svc in services.items():
            attrs = {k: v for k, v in svc.items() if k != "resources"}
            s_el = _element(rm, "service", {**attrs, "name": name})
            for res in svc.get("resources", []) or []:
                _element(s_el, res["type"], {k: v for k, v in res.items() if k != "type"})
    return serialize(root)


def serialize(root: ET.Element) -> str:
    """Serialise an element tree as indented XML with an XML declaration and a final newline."""
    tree = ET.ElementTree(root)
    ET.indent(tree, space="  ")
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- comparing, bumping


def _parse_xml(xml: str, tool: str = "cluster.conf") -> ET.Element:
    try:
        return ET.fromstring(xml)
    except (UnicodeError, ValueError) as err:  # lone surrogates of undecodable output; NUL
        raise ParseError(tool, 0, "", f"not well-formed XML ({err.__class__.__name__})") from None
    except ET.ParseError as err:
        line_no = err.position[0] if err.position else 0
        lines = xml.splitlines()
        line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
        raise ParseError(tool, line_no, mask_xml(line), f"not well-formed XML ({err})") from None


def _canonical(el: ET.Element, drop_version: bool = False) -> tuple:
    attrs = dict(el.attrib)
    if drop_version:
        attrs.pop("config_version", None)
    return (
        el.tag,
        tuple(sorted(attrs.items())),
        (el.text or "").strip(),
        tuple(_canonical(child) for child in el if isinstance(child.tag, str)),
    )


def content_equal(a: str, b: str) -> bool:
    """True when two cluster.conf texts differ at most in ``config_version`` and formatting.

    >>> content_equal('<cluster config_version="1" name="x"/>', '<cluster name="x" config_version="9"></cluster>')
    True
    """
    return _canonical(_parse_xml(a), True) == _canonical(_parse_xml(b), True)


def config_version(xml: str) -> int | None:
    """Return the ``config_version`` of a cluster.conf text (None when absent).

    >>> config_version('<cluster config_version="7" name="x"/>')
    7
    """
    value = _parse_xml(xml).get("config_version")
    return int(value) if value is not None and value.isdigit() else None


def bump(xml: str, new_version: int) -> str:
    """Return ``xml`` with ``config_version`` set to ``new_version`` (re-serialised).

    >>> 'config_version="4"' in bump('<cluster config_version="3" name="x"/>', 4)
    True
    """
    root = _parse_xml(xml)
    root.set("config_version", str(int(new_version)))
    return serialize(root)


def mask_xml(xml: str) -> str:
    """Mask every secret attribute value (``SECRET_ATTRIBUTES``: passwd, snmp_priv_passwd...) for diffs and logs.

    >>> mask_xml('<fencedevice name="f" passwd="s3cr3t"/>')
    '<fencedevice name="f" passwd="********"/>'
    """
    return _SECRET_ATTR_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", xml)


def secrets_in(xml_or_topology: str | Mapping[str, Any]) -> list[str]:
    """Every fence secret (``SECRET_ATTRIBUTES``) in a cluster.conf text or a topology's ``cluster.cman`` section."""
    found: list[str] = []
    if isinstance(xml_or_topology, str):
        found = [m.group(3) for m in _SECRET_ATTR_RE.finditer(xml_or_topology)]
    else:
        cman = xml_or_topology.get("cluster", {}).get("cman", {}) or {}
        for device in (cman.get("fence_devices") or {}).values():
            found += [str(device[k]) for k in SECRET_ATTRIBUTES if device.get(k) is not None]
        for node in (cman.get("nodes") or {}).values():
            for method in (node or {}).get("fence", []) or []:
                for device in method.get("devices", []):
                    found += [str(device[k]) for k in SECRET_ATTRIBUTES if device.get(k) is not None]
    return sorted({s for s in found if s and s != MASK})


# --------------------------------------------------------------------------- checks


def check_cluster_conf(xml: str) -> list[TopologyError]:
    """Check what the RELAX NG schema cannot: return every problem found (empty list = fine).

    Catches: two_node without expected_votes="1" or with other than two nodes, duplicate node ids
    or names, a failover domain naming an unknown node, a vm/service in an unknown failover
    domain, a fence device referenced but not defined, a missing/non-positive config_version.

    >>> [e.message for e in check_cluster_conf('<cluster name="c" config_version="1">'
    ...  '<cman two_node="1"/><clusternodes/></cluster>')][0]
    'two_node="1" needs expected_votes="1"'
    """
    root = _parse_xml(xml)
    errors: list[TopologyError] = []
    if root.tag != "cluster":
        return [TopologyError("/", f"root element is <{root.tag}>, expected <cluster>")]
    version = root.get("config_version", "")
    if not version.isdigit() or int(version) < 1:
        errors.append(TopologyError("/cluster/@config_version", f"must be a positive integer, got {version!r}"))
    nodes = root.findall("./clusternodes/clusternode")
    names = [n.get("name") for n in nodes]
    ids = [n.get("nodeid") for n in nodes]
    for label, values in (("name", names), ("nodeid", ids)):
        for value in sorted({v for v in values if v is not None and values.count(v) > 1}):
            errors.append(TopologyError(f"/cluster/clusternodes/clusternode/@{label}",
                                        f"duplicate {label} {value!r}", "each node needs its own"))
    cman = root.find("cman")
    if cman is not None and cman.get("two_node") == "1":
        if cman.get("expected_votes") != "1":
            errors.append(TopologyError("/cluster/cman/@expected_votes", 'two_node="1" needs expected_votes="1"',
                                        "set expected_votes to 1"))
        if len(nodes) != 2:
            errors.append(TopologyError("/cluster/cman/@two_node", f"two_node=\"1\" with {len(nodes)} node(s)",
                                        "two_node is only for exactly two nodes"))
    defined = {d.get("name") for d in root.findall("./fencedevices/fencedevice")}
    for node in nodes:
        for device in node.findall("./fence/method/device"):
            if device.get("name") not in defined:
                errors.append(TopologyError(f"/cluster/clusternodes/clusternode[@name='{node.get('name')}']",
                                            f"fence device {device.get('name')!r} is not defined",
                                            "add it under fencedevices"))
    domains = {d.get("name") for d in root.findall("./rm/failoverdomains/failoverdomain")}
    for dom in root.findall("./rm/failoverdomains/failoverdomain"):
        for member in dom.findall("failoverdomainnode"):
            if member.get("name") not in names:
                errors.append(TopologyError(f"/cluster/rm/failoverdomains/failoverdomain[@name='{dom.get('name')}']",
                                            f"unknown cluster node {member.get('name')!r}"))
    for el in root.iter():
        domain = el.get("domain")
        if el.tag in ("vm", "service") and domain is not None and domain not in domains:
            errors.append(TopologyError(f"/cluster/rm/{el.tag}[@name='{el.get('name')}']",
                                        f"unknown failover domain {domain!r}", "define it under failover_domains"))
    return errors


# --------------------------------------------------------------------------- parsers


def _lines(text: str) -> list[tuple[int, str]]:
    return [(no, line.rstrip()) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _snake(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")


def _int(tool: str, no: int, line: str, value: str) -> int:
    try:
        return int(value, 0) if value.lower().startswith("0x") else int(value)
    except ValueError:
        raise ParseError(tool, no, line, f"expected an integer, got {value!r}") from None


_STATUS_INTS = {"config_version", "cluster_id", "cluster_generation", "nodes", "expected_votes", "total_votes",
                "node_votes", "active_subsystems", "node_id"}


def parse_status(text: str) -> dict[str, Any]:
    """Parse ``cman_tool status``.

    Schema: ``{"version": str, "config_version": int, "cluster_name": str, "cluster_id": int,
    "cluster_member": bool, "cluster_generation": int, "membership_state": str, "nodes": int,
    "expected_votes": int, "total_votes": int, "node_votes": int|None, "quorum": int,
    "activity_blocked": bool, "quorate": bool, "active_subsystems": int, "flags": [str],
    "ports_bound": [int], "node_name": str, "node_id": int, "multicast_addresses": [str],
    "node_addresses": [str]}`` (keys absent from the output are None). ``quorate`` is
    ``not activity_blocked``: cman_tool appends "Activity blocked" to the Quorum line exactly when
    the cluster is inquorate.

    Example: ``Quorum: 1`` -> ``{"quorum": 1, "activity_blocked": False, "quorate": True}``.
    """
    tool = "cman_tool status"
    out: dict[str, Any] = {}
    for no, line in _lines(text):
        if ":" not in line:
            raise ParseError(tool, no, line, "expected 'Key: value'")
        key, _, value = line.partition(":")
        key, value = _snake(key), value.strip()
        if key in _STATUS_INTS:
            out[key] = _int(tool, no, line, value)
        elif key == "quorum":
            number, _, rest = value.partition(" ")
            out["quorum"] = _int(tool, no, line, number)
            out["activity_blocked"] = "activity blocked" in rest.lower()
        elif key == "cluster_member":
            out[key] = value.lower() == "yes"
        elif key in ("flags", "multicast_addresses", "node_addresses"):
            out[key] = value.split()
        elif key == "ports_bound":
            out[key] = [_int(tool, no, line, v) for v in value.split()]
        else:
            out[key] = value
    if "quorum" not in out or "cluster_name" not in out:
        raise ParseError(tool, 0, "", "no 'Cluster Name' / 'Quorum' lines: not cman_tool status output")
    out["quorate"] = not out["activity_blocked"]
    for key in ("node_votes", "cluster_id", "node_id", "version", "membership_state"):
        out.setdefault(key, None)
    return out


_NODE_ROW = re.compile(r"^\s*(\d+)\s+([A-Za-z])\s+(\d+)\s+(?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+)?(\S+)\s*$")
_NODE_STATES = {"M": "member", "X": "dead", "d": "disallowed", "J": "joining"}


def parse_nodes(text: str) -> list[dict[str, Any]]:
    """Parse ``cman_tool nodes``.

    Schema: ``[{"node_id": int, "status": "M"|"X"|"d"|"J", "member": bool, "state": str,
    "incarnation": int, "joined": "YYYY-MM-DD HH:MM:SS"|None, "name": str}]``.

    Example row ``1   M  34944   2008-02-16 02:08:14  core-01`` ->
    ``{"node_id": 1, "status": "M", "member": True, "state": "member", "incarnation": 34944,
    "joined": "2008-02-16 02:08:14", "name": "core-01"}``.
    """
    tool = "cman_tool nodes"
    rows = _lines(text)
    if not rows:
        return []
    no, header = rows[0]
    if header.split()[:3] != ["Node", "Sts", "Inc"]:
        raise ParseError(tool, no, header, "expected the 'Node Sts Inc Joined Name' header")
    out = []
    for no, line in rows[1:]:
        match = _NODE_ROW.match(line)
        if not match:
            raise ParseError(tool, no, line, "expected 'id status incarnation [joined] name'")
        node_id, sts, inc, joined, name = match.groups()
        out.append({"node_id": _int(tool, no, line, node_id), "status": sts, "member": sts == "M",
                    "state": _NODE_STATES.get(sts, "unknown"), "incarnation": _int(tool, no, line, inc),
                    "joined": joined, "name": name})
    return out


def parse_nodes_fields(text: str, fields: Iterable[str] = ("id", "type", "votes", "name")) -> list[dict[str, Any]]:
    """Parse ``cman_tool nodes -F id,type,votes,name`` (one node a line, fields space separated).

    Schema: ``[{"id": int, "type": "M"|"X"|"d", "member": bool, "votes": int, "name": str}]``
    (keys follow ``fields``; ``member`` is added when ``type`` is present).
    """
    tool = "cman_tool nodes -F"
    fields = list(fields)
    out = []
    for no, line in _lines(text):
        parts = line.split()
        if len(parts) != len(fields):
            raise ParseError(tool, no, line, f"expected {len(fields)} fields ({','.join(fields)})")
        row: dict[str, Any] = {}
        for field, value in zip(fields, parts, strict=True):
            row[field] = _int(tool, no, line, value) if field in ("id", "votes", "inc") else value
        if "type" in row:
            if row["type"] not in _NODE_STATES:
                raise ParseError(tool, no, line, f"unknown node type {row['type']!r}")
            row["member"] = row["type"] == "M"
        out.append(row)
    return out


def parse_services(text: str) -> list[dict[str, Any]]:
    """Parse ``cman_tool services`` (cman 2 / group_tool ``ls`` layout).

    Schema: ``[{"type": "fence"|"dlm"|"gfs", "level": int, "name": str, "id": str, "state": str,
    "members": [int]}]``; the ``[1 2]`` member line follows each group row.

    Example: ``fence 0 default 00010001 none`` + ``[1 2]`` ->
    ``{"type": "fence", "level": 0, "name": "default", "id": "00010001", "state": "none", "members": [1, 2]}``.
    """
    tool = "cman_tool services"
    rows = _lines(text)
    if not rows:
        return []
    no, header = rows[0]
    if header.split()[:3] != ["type", "level", "name"]:
        raise ParseError(tool, no, header, "expected the 'type level name id state' header")
    out: list[dict[str, Any]] = []
    for no, line in rows[1:]:
        stripped = line.strip()
        if stripped.startswith("["):
            if not out or not stripped.endswith("]"):
                raise ParseError(tool, no, line, "member list without a group")
            out[-1]["members"] = [_int(tool, no, line, v) for v in stripped[1:-1].split()]
            continue
        parts = stripped.split(None, 4)
        if len(parts) != 5:
            raise ParseError(tool, no, line, "expected 'type level name id state'")
        out.append({"type": parts[0], "level": _int(tool, no, line, parts[1]), "name": parts[2],
                    "id": parts[3], "state": parts[4].strip(), "members": []})
    return out


_CLUSTAT_TITLE = re.compile(r"^Cluster Status for (\S+) @ (.+)$")


def parse_clustat(text: str) -> dict[str, Any]:
    """Parse ``clustat`` text output.

    Schema: ``{"cluster_name": str, "timestamp": str, "quorate": bool, "member_status": str,
    "members": [{"name": str, "node_id": int, "status": [str], "online": bool, "local": bool,
    "rgmanager": bool}], "services": [{"name": str, "owner": str|None, "last_owner": str|None,
    "state": str|None}]}``. An owner printed as ``(core-01)`` is the last owner (service not
    running); ``(none)`` means none.
    """
    tool = "clustat"
    out: dict[str, Any] = {"cluster_name": None, "timestamp": None, "member_status": None, "quorate": None,
                           "members": [], "services": []}
    section = None
    for no, line in _lines(text):
        stripped = line.strip()
        title = _CLUSTAT_TITLE.match(stripped)
        if title:
            out["cluster_name"], out["timestamp"] = title.group(1), title.group(2).strip()
        elif stripped.startswith("Member Status:"):
            out["member_status"] = stripped.split(":", 1)[1].strip()
            out["quorate"] = out["member_status"] == "Quorate"
        elif stripped.split()[:2] == ["Member", "Name"]:
            section = "members"
        elif stripped.split()[:2] == ["Service", "Name"]:
            section = "services"
        elif set(stripped) <= set("- "):
            continue
        elif section == "members":
            match = re.match(r"^(\S+)\s+(\d+)\s+(.+)$", stripped)
            if not match:
                raise ParseError(tool, no, line, "expected 'name id status'")
            status = [s.strip() for s in match.group(3).split(",") if s.strip()]
            out["members"].append({"name": match.group(1), "node_id": _int(tool, no, line, match.group(2)),
                                   "status": status,
                                   "online": "Online" in status, "local": "Local" in status,
                                   "rgmanager": "rgmanager" in status})
        elif section == "services":
            parts = stripped.split()
            if len(parts) > 3:
                raise ParseError(tool, no, line, "expected 'service owner state'")
            owner = parts[1] if len(parts) > 1 else None
            entry = {"name": parts[0], "owner": owner, "last_owner": None,
                     "state": parts[2] if len(parts) > 2 else None}
            if owner and owner.startswith("(") and owner.endswith(")"):
                inner = owner[1:-1]
                entry["owner"] = None
                entry["last_owner"] = None if inner == "none" else inner
            out["services"].append(entry)
        else:
            raise ParseError(tool, no, line, "unexpected line")
    if out["cluster_name"] is None:
        raise ParseError(tool, 0, "", "no 'Cluster Status for' line: not clustat output")
    return out


def parse_clustat_xml(text: str) -> dict[str, Any]:
    """Parse ``clustat -x``.

    Schema: ``{"version": str, "cluster_name": str, "cluster_id": int, "generation": int,
    "quorate": bool, "group_member": bool, "members": [{"name", "node_id": int, "online": bool,
    "local": bool, "estranged": bool, "rgmanager": bool, "rgmanager_master": bool, "qdisk": bool}],
    "services": [{"name", "state": int, "state_str", "flags": int, "flags_str", "owner": str|None,
    "last_owner": str|None, "restarts": int, "last_transition": int}]}``.
    """
    tool = "clustat -x"
    root = _parse_xml(text, tool)
    if root.tag != "clustat":
        raise ParseError(tool, 1, root.tag, "root element is not <clustat>")
    cluster, quorum = root.find("cluster"), root.find("quorum")
    if cluster is None or quorum is None:
        raise ParseError(tool, 0, "", "missing <cluster> or <quorum>")

    def num(el: ET.Element, key: str) -> int:
        value = el.get(key, "")
        try:
            return int(value, 0)
        except ValueError:
            raise ParseError(tool, 0, ET.tostring(el, encoding="unicode").strip(), f"bad {key}={value!r}") from None

    def flag(el: ET.Element, key: str) -> bool:
        return num(el, key) != 0

    def person(value: str | None) -> str | None:
        return None if value in (None, "", "none") else value

    return {
        "version": root.get("version"),
        "cluster_name": cluster.get("name"),
        "cluster_id": num(cluster, "id"),
        "generation": num(cluster, "generation"),
        "quorate": flag(quorum, "quorate"),
        "group_member": flag(quorum, "groupmember"),
        "members": [
            {"name": n.get("name"), "node_id": num(n, "nodeid"), "online": flag(n, "state"),
             "local": flag(n, "local"), "estranged": flag(n, "estranged"), "rgmanager": flag(n, "rgmanager"),
             "rgmanager_master": flag(n, "rgmanager_master"), "qdisk": flag(n, "qdisk")}
            for n in root.findall("./nodes/node")
        ],
        "services": [
            {"name": g.get("name"), "state": num(g, "state"), "state_str": g.get("state_str"),
             "flags": num(g, "flags"), "flags_str": g.get("flags_str"), "owner": person(g.get("owner")),
             "last_owner": person(g.get("last_owner")), "restarts": num(g, "restarts"),
             "last_transition": num(g, "last_transition")}
            for g in root.findall("./groups/group")
        ],
    }


def parse_lsnode(text: str) -> dict[str, Any]:
    """Parse ``ccs_tool lsnode``.

    Schema: ``{"cluster_name": str, "config_version": int, "nodes": [{"name": str, "votes": int,
    "node_id": int, "fence_type": str|None}]}``.
    """
    tool = "ccs_tool lsnode"
    rows = _lines(text)
    if not rows:
        raise ParseError(tool, 0, "", "empty output")
    no, first = rows[0]
    match = re.match(r"^Cluster name:\s*(\S+),\s*config_version:\s*(\d+)$", first.strip())
    if not match:
        raise ParseError(tool, no, first, "expected 'Cluster name: X, config_version: N'")
    out: dict[str, Any] = {"cluster_name": match.group(1), "config_version": _int(tool, no, first, match.group(2)),
                           "nodes": []}
    body = rows[1:]
    if body:
        no, header = body[0]
        if header.split()[:3] != ["Nodename", "Votes", "Nodeid"]:
            raise ParseError(tool, no, header, "expected the 'Nodename Votes Nodeid Fencetype' header")
    for no, line in body[1:]:
        parts = line.split()
        if len(parts) not in (3, 4):
            raise ParseError(tool, no, line, "expected 'name votes nodeid [fencetype]'")
        out["nodes"].append({"name": parts[0], "votes": _int(tool, no, line, parts[1]),
                             "node_id": _int(tool, no, line, parts[2]),
                             "fence_type": parts[3] if len(parts) == 4 else None})
    return out


def parse_lsfence(text: str) -> list[dict[str, str]]:
    """Parse ``ccs_tool lsfence``: ``[{"name": str, "agent": str}]``."""
    tool = "ccs_tool lsfence"
    rows = _lines(text)
    if not rows:
        return []
    no, header = rows[0]
    if header.split() != ["Name", "Agent"]:
        raise ParseError(tool, no, header, "expected the 'Name Agent' header")
    out = []
    for no, line in rows[1:]:
        parts = line.split()
        if len(parts) != 2:
            raise ParseError(tool, no, line, "expected 'name agent'")
        out.append({"name": parts[0], "agent": parts[1]})
    return out


def parse_version(text: str) -> dict[str, Any]:
    """Parse ``cman_tool version``: ``6.2.0 config 4`` -> ``{"version": "6.2.0", "config_version": 4}``."""
    tool = "cman_tool version"
    rows = _lines(text)
    if len(rows) != 1:
        raise ParseError(tool, rows[1][0] if rows else 0, rows[1][1] if rows else "", "expected one line")
    no, line = rows[0]
    match = re.match(r"^(\d+(?:\.\d+)*)\s+config\s+(\d+)$", line.strip())
    if not match:
        raise ParseError(tool, no, line, "expected '<version> config <N>'")
    return {"version": match.group(1), "config_version": _int(tool, no, line, match.group(2))}


def plan_cluster_conf(current: str | None, topology: Mapping[str, Any],
                      running_version: int | None = None) -> dict[str, Any]:
    """Plan a cluster.conf update: compare the file on disk with the rendered topology.

    Returns ``{"changed": bool, "old_version": int|None, "new_version": int, "content": str}``.
    A changed content is written with the pillar's ``cluster.cman.config_version`` (default 1),
    never a number counted on the node: both nodes get the same pillar, so applying them one after
    the other (node1 writes N and ``cman_tool version -r N``, node2's file then catches up to N)
    leaves both on N. Refused (ValidationError at that pillar path, naming the number to set) when
    that version is not above the file's, or is below the one cman runs (cman ignores it). An
    unchanged file keeps its version; a file that is not well-formed XML counts as version 0.
    ``content`` holds the secrets: callers mask before showing.

    >>> topo = {"name": "c", "nodes": {"a": {}, "b": {}}, "node_order": ["a", "b"],
    ...         "cluster": {"name": "c", "cman": {"config_version": 8}}}
    >>> plan_cluster_conf(None, topo, running_version=7)["new_version"]
    8
    """
    wanted = int(topology.get("cluster", {}).get("cman", {}).get("config_version", 1))
    old = None
    if current is not None:
        try:
            old = config_version(current)
            if content_equal(current, render_cluster_conf(topology, old or 1)):
                return {"changed": False, "old_version": old, "new_version": old, "content": current}
        except ParseError:
            old = None
    running = running_version or 0
    if wanted <= (old or 0) or wanted < running:
        needed = max((old or 0) + 1, running)
        seen = f"the file's {old}" if wanted <= (old or 0) else f"the {running} cman runs"
        raise ValidationError([TopologyError(
            f"hapair:topologies:{topology.get('name', '?')}:cluster:cman:config_version",
            f"cluster.conf changes, and config_version {wanted} is not above {seen}",
            f"set it to {needed} in pillar and apply both nodes")])
    return {"changed": True, "old_version": old, "new_version": wanted, "content": render_cluster_conf(topology, wanted)}


# --------------------------------------------------------------------------- the way off cman
#
# cman is packaged nowhere any more and modern Salt does not run on RHEL 6: the bootstrap refuses
# stack cman and prints the same topology for corosync + dlm (corosync 2+ with dlm_controld, the
# stack GFS2 uses everywhere today). The translation is pure pillar data in, pillar data out.

#: cman's <dlm>/<gfs_controld>/<fence_daemon> attributes that dlm_controld (dlm.conf) still takes.
#: gfs_controld is gone since cluster 3.x: dlm_controld handles plocks, so its plock options move there.
DLM_CARRIED = {("dlm", "plock_ownership"): "plock_ownership", ("dlm", "plock_rate_limit"): "plock_rate_limit",
               ("gfs_controld", "plock_rate_limit"): "plock_rate_limit",
               ("fence_daemon", "post_join_delay"): "post_join_delay"}
#: cman totem attributes with the same meaning in corosync 3's totem section (``token`` is the
#: topology's own ``corosync.token``).
TOTEM_CARRIED = ("token", "consensus", "join", "token_retransmits_before_loss_const", "max_messages")


def corosync_equivalent(raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Translate a ``stack: cman`` topology's pillar into the same topology on corosync + dlm.

    ``raw`` is the pillar mapping of ``hapair:topologies:<name>`` (not normalised). Returns::

        {"topology": <the same pillar, cluster: {stack: corosync, name, corosync: {...}}>,
         "fencing": {"fence_devices": {dev: {"agent", ...attrs}}, "nodes": {node: {"fence": [methods]}}},
         "notes": ["what moved where, and what was dropped and why", ...]}

    Nodes, addresses, ``cluster_node_id`` (the corosync nodeid), DRBD, filesystems (GFS2 lock
    tables keep the cluster name) and every other topology key are kept as they are. The cluster
    name stays; ``two_node`` becomes corosync's ``two_node`` (votequorum: expected votes 2 and
    wait_for_all, cman's ``expected_votes: 1`` is implied); votes other than 1 are noted (hapair's
    corosync nodelist gives each node one vote); plock options and ``post_join_delay`` move to
    dlm.conf; cman's totem attributes that corosync 3 knows move to ``corosync.totem``.
    ``cluster_id``, ``config_version`` and the rgmanager parts (``failover_domains``, ``vms``,
    ``services``, ``rm``) are dropped with a note: the service groups of the active/passive issue
    are their running equivalent. The fence devices and each node's methods are returned under
    ``fencing`` in cman's own shape (secrets included: mask before showing, as
    :func:`corosync_equivalent_yaml` does); ``enable_fencing`` is true when every node has a method
    with a device, as under cman, so ``hapair.topology.stack_errors`` asks for a dlm fence method
    until hapair renders these devices for dlm. The result passes ``hapair.validate.validate``.
    Pure: ``raw`` is not changed.

    >>> raw = {"nodes": {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}},
    ...        "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/vdb"}}},
    ...        "cluster": {"stack": "cman", "name": "c", "cman": {"two_node": True, "expected_votes": 1,
    ...                    "failover_domains": {"d": {"nodes": ["a"]}}}}}
    >>> out = corosync_equivalent(raw, "t")
    >>> out["topology"]["cluster"]
    {'stack': 'corosync', 'name': 'c', 'corosync': {'two_node': True, 'dlm': {'enable_fencing': False}}}
    >>> [n.split(": ")[0] for n in out["notes"]]
    ['cluster:cman:expected_votes', 'cluster:cman:failover_domains', 'fencing']
    """
    topo = copy.deepcopy(dict(raw))
    cluster = dict(topo.get("cluster") or {})
    cman = dict(cluster.get("cman") or {})
    notes: list[str] = []
    base = "cluster:cman"

    def note(key: str, text: str) -> None:
        notes.append(f"{base}:{key}: {text}")

    corosync: dict[str, Any] = {}
    two_node = cman.get("two_node")
    if two_node is not None:
        corosync["two_node"] = bool(two_node)
    if "expected_votes" in cman:
        note("expected_votes", f"{cman['expected_votes']} dropped: corosync's votequorum sets expected votes "
                               "itself (two_node: expected 2, wait_for_all on)")
    dlm: dict[str, Any] = {}
    totem: dict[str, Any] = {}
    for section in ("dlm", "gfs_controld", "fence_daemon", "totem"):
        for key, value in sorted((cman.get(section) or {}).items()):
            where = f"{section}:{key}"
            if section == "totem" and key in TOTEM_CARRIED:
                if key == "token":
                    corosync["token"] = value
                else:
                    totem[key] = value
                continue
            target = DLM_CARRIED.get((section, key))
            if target is None:
                note(where, f"{value!r} dropped: dlm_controld/corosync 3 have no such option")
            elif target in dlm and dlm[target] != value:
                note(where, f"{value!r} dropped: dlm.conf {target} is {dlm[target]!r} (from cman's dlm section)")
            else:
                dlm.setdefault(target, value)
                if section != "dlm":
                    note(where, f"moved to dlm.conf {target} ({section} is gone; dlm_controld does it)")
    if totem:
        corosync["totem"] = totem
    for key in ("cluster_id", "config_version"):
        if key in cman:
            note(key, f"{cman[key]!r} dropped: corosync 3 names the cluster by cluster_name and versions "
                      "corosync.conf itself")
    for key in ("attributes", "rm"):
        if cman.get(key):
            note(key, "dropped: cluster.conf-only attributes (rgmanager)")
    for key in ("failover_domains", "vms", "services"):
        if cman.get(key):
            note(key, f"dropped ({', '.join(sorted(cman[key]))}): rgmanager's, which corosync + dlm does not run; "
                      "the running equivalent is the topology's service groups (groups:)")
    cnodes = dict(cman.get("nodes") or {})
    for node, spec in sorted(cnodes.items()):
        votes = (spec or {}).get("votes", 1)
        if votes != 1:
            note(f"nodes:{node}:votes", f"{votes} dropped: hapair's corosync nodelist gives each node one vote")
    devices = copy.deepcopy(dict(cman.get("fence_devices") or {}))
    methods = {node: {"fence": copy.deepcopy(list((spec or {}).get("fence") or []))}
               for node, spec in sorted(cnodes.items()) if (spec or {}).get("fence")}
    fenced = sorted(node for node, spec in methods.items()
                    if any(m.get("devices") for m in spec["fence"] if isinstance(m, Mapping)))
    every = sorted(topo.get("nodes") or {})
    dlm = {"enable_fencing": bool(every) and fenced == every, **dlm}
    corosync["dlm"] = dlm
    if devices:  # hapair.fencing renders them as dlm.conf device/connect lines
        corosync["fencing"] = {"fence_devices": devices, "nodes": methods}
    if dlm["enable_fencing"]:
        notes.append(f"fencing: devices {', '.join(sorted(devices))} and the methods of {', '.join(fenced)} "
                     "are under cluster:corosync:fencing (cman's shape); enable_fencing stays on as under cman, and "
                     "hapair renders them as dlm.conf device/connect lines (docs/fencing.md)")
    else:
        notes.append("fencing: not every node had a cman fence method with a device, so enable_fencing is off: "
                     "a node failure is then not fenced (acceptable only where that cannot corrupt shared data)")
    cluster = {"stack": "corosync", "name": cluster.get("name"), "corosync": corosync}
    topo["cluster"] = {k: v for k, v in cluster.items() if v is not None}
    return {"topology": topo, "fencing": {"fence_devices": devices, "nodes": methods}, "notes": notes}


def _secret_values(raw: Mapping[str, Any]) -> list[str]:
    """Every secret of a topology's pillar the translation may carry: DRBD shared secrets, fence
    attributes in ``SECRET_ATTRS``, a corosync authkey."""
    out: list[str] = []
    for res in ((raw.get("drbd") or {}).get("resources") or {}).values():
        if isinstance(res, Mapping) and res.get("shared_secret") is not None:
            out.append(str(res["shared_secret"]))
    cluster = raw.get("cluster") or {}
    for dev in ((cluster.get("cman") or {}).get("fence_devices") or {}).values():
        for key, value in (dev or {}).items():
            if str(key).lower() in SECRET_ATTRIBUTES and value is not None:
                out.append(str(value))
    authkey = (cluster.get("corosync") or {}).get("authkey")
    if authkey is not None:
        out.append(str(authkey))
    return out


def corosync_equivalent_yaml(raw: Mapping[str, Any], name: str) -> str:
    """:func:`corosync_equivalent` as a pillar file to paste: ``hapair:topologies:<name>`` on corosync,
    the notes and the fence devices as comments, every secret masked (``********``).

    >>> raw = {"nodes": {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}},
    ...        "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/vdb", "shared_secret": "s3"}}},
    ...        "cluster": {"stack": "cman", "name": "c", "cman": {}}}
    >>> text = corosync_equivalent_yaml(raw, "t")
    >>> "s3" in text, "shared_secret: '********'" in text, "stack: corosync" in text
    (False, True, True)
    """
    import yaml  # noqa: PLC0415 - Salt's own dependency; only this helper needs it

    out = corosync_equivalent(raw, name)
    secrets = _secret_values(raw)
    lines = [f"# The corosync + dlm equivalent of cman topology {name} (hapair.cman.corosync_equivalent).",
             "# Secrets are masked: put the real values back before use."]
    lines += [f"#   - {mask(n, secrets)}" for n in out["notes"]]
    body = yaml.safe_dump({"hapair": {"topologies": {name: mask(out["topology"], secrets)}}},
                          default_flow_style=False, sort_keys=False)
    fencing = yaml.safe_dump({"fencing": mask(out["fencing"], secrets)}, default_flow_style=False, sort_keys=False)
    lines.append(body.rstrip("\n"))
    lines.append("# The fence devices and methods as cman had them (also under cluster:corosync:fencing above):")
    lines += [f"# {line}" for line in fencing.rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"
