"""Fence devices for the corosync + dlm stack: validation, dlm.conf lines, the agents' own words.

The pillar shape is cman's (``hapair.cman.corosync_equivalent`` returns it under ``fencing``), at
``cluster:corosync:fencing``::

    fencing:
      fence_devices:                       # {name: {agent, ...agent arguments}}
        node1_ipmi: {agent: fence_ipmilan, ip: 10.99.0.254, ipport: 6230, username: admin,
                     password: SECRET, lanplus: true, action: "off"}
      nodes:                               # {topology node: {fence: [methods, in priority order]}}
        node1:
          fence:
            - method: ipmi
              devices: [{name: node1_ipmi}]          # per-node arguments beside name: port, plug...
      fence_all: {agent: dlm_stonith}      # instead of devices: one agent for every node

dlm_controld reads it as dlm.conf's own fencing syntax (``man dlm.conf``)::

    device  node1_ipmi fence_ipmilan action=off ip=10.99.0.254 ipport=6230 lanplus=1 ...
    connect node1_ipmi node=1

One section per device (a blank line ends it), one ``connect`` line per node the device fences;
the sections a node connects to are its methods, tried in file order. A method of several devices
(dual power) becomes parallel devices ``<method>_<node>:<device>`` (dlm: same base name before
``:``). dlm_controld turns every space of the arguments into a newline on the agent's stdin, so no
value may hold whitespace; it adds ``node=<nodeid>`` and ``fail_time=<seconds>`` itself and runs
the agent's default action (reboot for fence_ipmilan) unless the device sets ``action``.

Everything here is pure: ``errors`` (validation with pillar paths), ``dlm_lines`` (the renderer),
``status_request``/``parse_status`` (an agent's ``status`` action, arguments on stdin, never argv),
``parse_metadata`` (``<agent> -o metadata``: required and known arguments) and ``secrets``.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import xml.etree.ElementTree as ET
from typing import Any, Callable, Iterable, Mapping

from hapair.errors import ParseError, RenderError, TopologyError
from hapair.fields import has_control, is_hostname, is_path, is_secret

#: fence arguments that hold secrets (validate.SECRET_ATTRS, the cman list, plus IPMI's Kg key):
#: masked everywhere, never echoed by validation
SECRET_KEYS = ("passwd", "password", "snmp_priv_passwd", "community", "hexadecimal_kg")
#: arguments dlm_controld (or hapair's status check) sets itself
RESERVED = {"node": "dlm_controld adds node=<nodeid> itself (from the node's cluster_node_id)",
            "nodename": "dlm_controld names the victim by node=<nodeid>",
            "fail_time": "dlm_controld adds fail_time itself",
            "agent": "only a fence device names its agent",
            "name": "the device's name is its key under fence_devices"}
SECTION_KEYS = ("fence_devices", "nodes", "fence_all")
NODE_KEYS = ("fence",)
METHOD_KEYS = ("method", "devices")
ACTIONS = ("off", "reboot")  # what a fence may do; `on`/`status` are not fences
DLM_NAME_MAX = 255  # FENCE_CONFIG_NAME_MAX 256 with the NUL (dlm_controld/fence_config.h)
DLM_ARGS_MAX = 4095  # FENCE_CONFIG_ARGS_MAX 4096 with the NUL: device + connect args + node= + fail_time=
DLM_DEVS_MAX = 4  # FENCE_CONFIG_DEVS_MAX: devices one node may connect to
_EXTRA_ARGS = len("node=4294967295\n") + len("fail_time=18446744073709551615\n")

_AGENT = re.compile(r"fence_[a-z0-9_]{1,64}")
_ALL_AGENT = re.compile(r"(?:fence|dlm)_[a-z0-9_]{1,64}")  # fence_all: dlm_stonith too
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # no ':': hapair makes the parallel names
_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")
_LOGIN = re.compile(r"[A-Za-z0-9_.@+\\-]{1,64}")
_PLUG = re.compile(r"[A-Za-z0-9_.:/@+,-]{1,128}")
_WORD = re.compile(r"[A-Za-z0-9_.:/@+,%=-]{1,255}")
_TRUE, _FALSE = ("1", "yes", "on", "true"), ("0", "no", "off", "false")


def _host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return "%" not in value
    except ValueError:
        return is_hostname(value)


def _int_range(low: int, high: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return check


def _enum(*choices: str) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and value in choices


def _flag(value: Any) -> bool:
    return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)) or (
        isinstance(value, str) and value.lower() in _TRUE + _FALSE)


def _match(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, str) and bool(pattern.fullmatch(value))


def _secret(value: Any) -> bool:
    text = secret_text(value)
    return text is not None and is_secret(text) and len(text) <= 255


_SECONDS = (_int_range(0, 86400), "an integer number of seconds, 0..86400")
#: per-argument whitelists: (check, rule). Keys not listed take ``_OTHER``.
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "ip": (lambda v: isinstance(v, str) and _host(v), "an IPv4/IPv6 address or an RFC 1123 hostname"),
    "ipaddr": (lambda v: isinstance(v, str) and _host(v), "an IPv4/IPv6 address or an RFC 1123 hostname"),
    "login": (_match(_LOGIN), "a login: letters, digits and _ . @ + - \\, <= 64"),
    "username": (_match(_LOGIN), "a login: letters, digits and _ . @ + - \\, <= 64"),
    "port": (_match(_PLUG), "a plug/outlet/VM name: letters, digits and _ . : / @ + , -"),
    "plug": (_match(_PLUG), "a plug/outlet/VM name: letters, digits and _ . : / @ + , -"),
    "ipport": (_int_range(1, 65535), "a TCP/UDP port 1..65535 (a plain number)"),
    "cipher": (_int_range(0, 255), "an IPMI cipher suite number (ipmitool -C)"),
    "lanplus": (_flag, "true or false"),
    "ssl": (_flag, "true or false"), "ssl_secure": (_flag, "true or false"),
    "ssl_insecure": (_flag, "true or false"), "notls": (_flag, "true or false"),
    "inet4_only": (_flag, "true or false"), "inet6_only": (_flag, "true or false"),
    "port_as_ip": (_flag, "true or false"), "use_sudo": (_flag, "true or false"),
    "action": (_enum(*ACTIONS), "off or reboot (what dlm_controld's fence does)"),
    "method": (_enum("onoff", "cycle"), "onoff or cycle"),
    "privlvl": (_enum("callback", "user", "operator", "administrator"), "callback, user, operator or administrator"),
    "auth": (_enum("md5", "password", "none"), "md5, password or none"),
    "delay": _SECONDS, "power_timeout": _SECONDS, "power_wait": _SECONDS, "login_timeout": _SECONDS,
    "shell_timeout": _SECONDS, "ipmitool_timeout": _SECONDS,
    "retry_on": (_int_range(1, 100), "an integer 1..100"),
    **{key: (_secret, "a secret without whitespace or control characters, <= 255") for key in SECRET_KEYS},
}
_OTHER = (lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool)) or _flag(v) or _match(_WORD)(v),
          "one word: letters, digits and _ . : / @ + , % = - (no whitespace), or a number or true/false")
_PATHS = (lambda v: isinstance(v, str) and is_path(v), "an absolute path without whitespace")

#: what an agent cannot run without (each group: one of these keys), where its metadata says less
#: than the agent checks (fence_ipmilan's ip is required="0" in its metadata because of
#: port_as_ip, yet it refuses to run without an address: tests/fixtures/fence, no-address).
AGENT_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "fence_ipmilan": (("ip", "ipaddr"),),
    "fence_idrac": (("ip", "ipaddr"),), "fence_ilo3": (("ip", "ipaddr"),),
    "fence_ilo4": (("ip", "ipaddr"),), "fence_ilo5": (("ip", "ipaddr"),),
    "fence_imm": (("ip", "ipaddr"),), "fence_ipmilanplus": (("ip", "ipaddr"),),
    "fence_apc": (("ip", "ipaddr"), ("login", "username"), ("plug", "port")),
    "fence_apc_snmp": (("ip", "ipaddr"), ("plug", "port")),
    "fence_virsh": (("ip", "ipaddr"), ("login", "username"), ("plug", "port")),
    "fence_drac5": (("ip", "ipaddr"), ("login", "username"), ("plug", "port")),
    "fence_ilo": (("ip", "ipaddr"), ("login", "username")),
    "fence_scsi": (("plug", "port"),),
}


def secret_text(value: Any) -> str | None:
    """A secret given as str (or digits YAML read as an int) -> str; anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def is_secret_key(key: str) -> bool:
    """``passwd``, ``password``... and any key that names a password or community: never shown.

    >>> is_secret_key("password"), is_secret_key("snmp_auth_passwd"), is_secret_key("ip")
    (True, True, False)
    """
    return key in SECRET_KEYS or any(word in key for word in ("passw", "community", "secret"))


def field_check(key: str) -> tuple[Callable[[Any], bool], str]:
    """The (check, rule) of fence argument ``key``."""
    if key in FIELDS:
        return FIELDS[key]
    if is_secret_key(key):
        return FIELDS["password"]
    if key.endswith(("_path", "_script", "_file")):
        return _PATHS
    return _OTHER


def section(topology: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``cluster:corosync:fencing`` of a raw or normalised topology (None when absent)."""
    cluster = topology.get("cluster") if isinstance(topology, Mapping) else None
    coro = cluster.get("corosync") if isinstance(cluster, Mapping) else None
    value = coro.get("fencing") if isinstance(coro, Mapping) else None
    return value if isinstance(value, Mapping) else None


def enable_fencing(topology: Mapping[str, Any]) -> bool:
    """dlm.conf ``enable_fencing`` of the topology (dlm_controld's default: on)."""
    cluster = topology.get("cluster") or {}
    dlm = ((cluster.get("corosync") or {}) if isinstance(cluster, Mapping) else {}).get("dlm") or {}
    value = dlm.get("enable_fencing", True) if isinstance(dlm, Mapping) else True
    return value in (True, 1, "1", "yes", "true", "on")


def nodeids(topology: Mapping[str, Any]) -> dict[str, int]:
    """``{node: dlm/corosync nodeid}``: ``cluster_node_id``, else the first free id from 1 in node
    order (``hapair.topology``'s rule), for a raw or a normalised topology.

    >>> nodeids({"nodes": {"a": {}, "b": {"cluster_node_id": 1}}})
    {'a': 2, 'b': 1}
    """
    nodes = topology.get("nodes") if isinstance(topology.get("nodes"), Mapping) else {}
    order = [n for n in (topology.get("node_order") or list(nodes)) if n in nodes]
    taken = {spec.get("cluster_node_id") for spec in nodes.values()
             if isinstance(spec, Mapping) and isinstance(spec.get("cluster_node_id"), int)}
    out: dict[str, int] = {}
    for node in order:
        spec = nodes[node] if isinstance(nodes[node], Mapping) else {}
        cid = spec.get("cluster_node_id")
        if not isinstance(cid, int) or isinstance(cid, bool):
            cid = 1
            while cid in taken:
                cid += 1
            taken.add(cid)
        out[node] = cid
    return out


# --------------------------------------------------------------------------- validation


class _Errors:
    def __init__(self, base: str):
        self.base, self.found = base, []  # type: ignore[var-annotated]

    def add(self, parts: Iterable[Any], message: str, hint: str = "") -> None:
        self.found.append(TopologyError(":".join([self.base, *(str(p) for p in parts)]), message, hint))

    def mapping(self, value: Any, parts: tuple, what: str) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add(parts, f"must be {what}, not {type(value).__name__}", f"write it as {what}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.add((*parts, key), f"key {key!r} must be a string", "quote the key in YAML")
        return {k: v for k, v in value.items() if isinstance(k, str)}

    def keys(self, value: Mapping[str, Any], allowed: Iterable[str], parts: tuple) -> None:
        allowed = list(allowed)
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                self.add((*parts, key), "unknown key",
                         f"did you mean `{close[0]}`?" if close else "allowed: " + ", ".join(allowed))


#: How a check reports one error: ``add(path parts, message, hint)`` (validate.py's and this module's).
Add = Callable[[tuple, str, str], None]


def fence_methods(add: Add, methods: Any, parts: tuple, example: str) -> list[tuple[tuple, Any]]:
    """A node's ``fence`` value as ``[(path, method)]``, the one owner of the fence-method list
    check of both stacks (``cluster:cman:nodes:<n>:fence`` and ``...:fencing:nodes:<n>:fence``):
    unset is ``[]``; anything but a list is reported at ``(*parts, "fence")`` with ``example`` as
    the hint, and is ``[]`` too. ``parts`` is the node's path.

    >>> found = []
    >>> fence_methods(lambda *error: found.append(error), {"method": "m"}, ("nodes", "a"), "e.g. [...]"), found
    ([], [(('nodes', 'a', 'fence'), 'must be a list of methods', 'e.g. [...]')])
    >>> fence_methods(print, [{"method": "m"}], ("nodes", "a"), "")
    [(('nodes', 'a', 'fence', 0), {'method': 'm'})]
    """
    if methods is None:
        return []
    if not isinstance(methods, list):
        add((*parts, "fence"), "must be a list of methods", example)
        return []
    return [((*parts, "fence", index), method) for index, method in enumerate(methods)]


def method_devices(add: Add, method: Mapping[str, Any], parts: tuple) -> list[Any] | None:
    """A fence method's ``devices``: a non-empty list, else reported at ``(*parts, "devices")`` and None.

    >>> method_devices(print, {"devices": [{"name": "d"}]}, ("fence", 0))
    [{'name': 'd'}]
    """
    refs = method.get("devices")
    if not isinstance(refs, list) or not refs:
        add((*parts, "devices"), "must be a non-empty list", "e.g. [{name: node1_ipmi}]")
        return None
    return refs


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _args(e: _Errors, attrs: Mapping[str, Any], parts: tuple, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Check fence arguments one by one (the value of a secret is never shown); return the good ones."""
    good: dict[str, Any] = {}
    for key, value in attrs.items():
        if key in skip:
            continue
        where = (*parts, key)
        if not _KEY.fullmatch(key):
            e.add(where, f"{_show(key)} is not a fence argument name", "lower-case letters, digits and '_'")
            continue
        if key in RESERVED:
            e.add(where, "is set by hapair or dlm_controld", RESERVED[key])
            continue
        check, rule = field_check(key)
        if value is None or isinstance(value, (Mapping, list)) or not check(value):
            shown = "the value" if is_secret_key(key) else _show(value)
            e.add(where, f"{shown} is not a valid {key}", f"use {rule}")
            continue
        good[key] = value
    return good


def missing_args(agent: str, given: Iterable[str], metadata: Mapping[str, Any] | None) -> list[tuple[str, ...]]:
    """The required argument groups of ``agent`` that ``given`` does not cover."""
    groups = list(AGENT_REQUIRED.get(agent, ()))
    if metadata:
        groups += [group for group in metadata.get("required", []) if group not in groups]
    have = set(given)
    return [group for group in groups if not have.intersection(group) and "action" not in group]


def errors(raw_topology: Any, path: str, metadata: Mapping[str, Mapping[str, Any]] | None = None
           ) -> list[TopologyError]:
    """Every problem of ``cluster:corosync:fencing`` (and of dlm fencing left without a method), with
    its pillar path under ``path`` (``hapair:topologies:<name>``). Never raises.

    Checked: the section's shape; each device's name (``[A-Za-z0-9][A-Za-z0-9_.-]*``), ``agent``
    (``fence_[a-z0-9_]+``) and every argument against its field's whitelist (secrets never echoed);
    each node is a topology node, each method names a defined device; the arguments an agent needs
    (``AGENT_REQUIRED``, and the ``required`` groups of ``metadata[agent]`` from
    :func:`parse_metadata` when given) among the device's and the node's; dlm.conf's limits (4
    devices per node, 4095 bytes of arguments); and, with dlm ``enable_fencing`` on (its default),
    a method with a device for every node, unless ``fence_all``.

    >>> raw = {"nodes": {"a": {}, "b": {}}, "cluster": {"stack": "corosync", "corosync": {"fencing": {
    ...     "fence_devices": {"a_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.1"}},
    ...     "nodes": {"a": {"fence": [{"method": "ipmi", "devices": [{"name": "a_ipmi"}]}]}}}}}}
    >>> [str(e) for e in errors(raw, "t")]  # doctest: +NORMALIZE_WHITESPACE
    ['t:cluster:corosync:fencing:nodes:b: has no fence method, and dlm enable_fencing is on
      (add a method with a device under fencing:nodes:b:fence, or set cluster:corosync:dlm:enable_fencing: false
      where losing a node cannot corrupt shared data)']
    """
    try:
        return _errors(raw_topology, path, metadata or {})
    except Exception as exc:  # noqa: BLE001 - a validator bug must not escape as a crash
        return [TopologyError(f"{path}:cluster:corosync:fencing", f"internal validation error ({type(exc).__name__})",
                              "please report this")]


def _errors(raw: Any, path: str, metadata: Mapping[str, Mapping[str, Any]]) -> list[TopologyError]:
    if not isinstance(raw, Mapping):
        return []
    cluster = raw.get("cluster") if isinstance(raw.get("cluster"), Mapping) else {}
    if cluster.get("stack") != "corosync":
        return []
    base = ("cluster", "corosync", "fencing")
    e = _Errors(path)
    coro = cluster.get("corosync") if isinstance(cluster.get("corosync"), Mapping) else {}
    dlm = coro.get("dlm") if isinstance(coro.get("dlm"), Mapping) else {}
    for key, hint in (("device", "write the devices under cluster:corosync:fencing:fence_devices"),
                      ("connect", "write each node's methods under cluster:corosync:fencing:nodes"),
                      ("fence_all", "write cluster:corosync:fencing:fence_all: {agent: ...}")):
        if key in dlm:
            e.add(("cluster", "corosync", "dlm", key), f"dlm.conf's {key} is a line of its own, not key={key}", hint)
    fencing = e.mapping(coro.get("fencing"), base, "a mapping of fence_devices and nodes") or {}
    e.keys(fencing, SECTION_KEYS, base)
    topo_nodes = [n for n in (raw.get("nodes") or {}) if isinstance(n, str)] if isinstance(raw.get("nodes"), Mapping) else []
    devices = e.mapping(fencing.get("fence_devices"), (*base, "fence_devices"), "a mapping of devices") or {}
    good_devices: dict[str, dict[str, Any]] = {}
    for dname, spec in devices.items():
        dpath = (*base, "fence_devices", dname)
        if not _DEVICE.fullmatch(dname):
            e.add(dpath, f"{_show(dname)} is not a valid fence device name",
                  "letters, digits, '_', '.' and '-' (no ':'), <= 64, starting with a letter or digit")
        attrs = e.mapping(spec, dpath, "a mapping with at least `agent`")
        if attrs is None:
            if spec is None:
                e.add(dpath, "is required", "set at least `agent`")
            continue
        agent = attrs.get("agent")
        if agent is None:
            e.add((*dpath, "agent"), "is required", "the fence agent, e.g. fence_ipmilan")
        elif not (isinstance(agent, str) and _AGENT.fullmatch(agent)):
            e.add((*dpath, "agent"), f"{_show(agent)} is not a fence agent name",
                  "fence_ followed by lower-case letters, digits and '_' (e.g. fence_ipmilan)")
            agent = None
        good_devices[dname] = {"agent": agent, "args": _args(e, attrs, dpath, skip=("agent",)), "keys": set(attrs)}
    fence_all = e.mapping(fencing.get("fence_all"), (*base, "fence_all"), "a mapping with `agent`")
    if fence_all is not None:
        agent = fence_all.get("agent")
        if not (isinstance(agent, str) and _ALL_AGENT.fullmatch(agent)):
            e.add((*base, "fence_all", "agent"), "is required" if agent is None else f"{_show(agent)} is not an agent name",
                  "e.g. dlm_stonith (pacemaker) or a fence_ agent")
        _args(e, fence_all, (*base, "fence_all"), skip=("agent",))
        if devices or fencing.get("nodes"):
            e.add((*base, "fence_all"), "cannot be combined with fence_devices or nodes",
                  "dlm.conf: a fence_all configuration is not compatible with device lines")
    cnodes = e.mapping(fencing.get("nodes"), (*base, "nodes"), "a mapping of topology nodes") or {}
    fenced: set[str] = set()
    for node, spec in cnodes.items():
        npath = (*base, "nodes", node)
        if node not in topo_nodes:
            close = difflib.get_close_matches(node, topo_nodes, n=1, cutoff=0.5)
            e.add(npath, f"{node!r} is not a node of this topology",
                  f"did you mean `{close[0]}`?" if close else "use a key of nodes:")
        cnode = e.mapping(spec, npath, "a mapping with `fence`")
        if cnode is None:
            continue
        e.keys(cnode, NODE_KEYS, npath)
        sections = 0
        for mpath, method in fence_methods(e.add, cnode.get("fence"), npath,
                                           "e.g. [{method: ipmi, devices: [{name: node1_ipmi}]}]"):
            meth = e.mapping(method, mpath, "a mapping with method and devices")
            if meth is None:
                if method is None:
                    e.add(mpath, "is required", "write {method: <name>, devices: [{name: <device>}]}")
                continue
            e.keys(meth, METHOD_KEYS, mpath)
            mname = meth.get("method")
            if not (isinstance(mname, str) and _DEVICE.fullmatch(mname)):
                e.add((*mpath, "method"), "is required" if mname is None else f"{_show(mname)} is not a method name",
                      "letters, digits, '_', '.' and '-'")
            refs = method_devices(e.add, meth, mpath)
            if refs is None:
                continue
            sections += len(refs)
            usable = True
            for dindex, ref in enumerate(refs):
                rpath = (*mpath, "devices", dindex)
                entry = e.mapping(ref, rpath, "a mapping with `name`")
                if entry is None:
                    usable = False
                    if ref is None:
                        e.add(rpath, "is required", "write {name: <fence device>}")
                    continue
                dname = entry.get("name")
                if dname not in devices:
                    usable = False
                    close = difflib.get_close_matches(str(dname), list(devices), n=1, cutoff=0.5)
                    e.add((*rpath, "name"), "is required" if dname is None else f"fence device {dname!r} is not defined",
                          f"did you mean `{close[0]}`?" if close else "define it under cluster:corosync:fencing:fence_devices")
                    continue
                conn = _args(e, entry, rpath, skip=("name",))
                device = good_devices.get(dname)
                if device is None or device["agent"] is None:
                    usable = False
                    continue
                given = {**device["args"], **conn}
                present = device["keys"] | set(entry)  # a bad value is refused already, not also missing
                for group in missing_args(device["agent"], present, metadata.get(device["agent"])):
                    usable = False
                    alt = f" (or {', '.join(group[1:])})" if len(group) > 1 else ""
                    e.add(("cluster", "corosync", "fencing", "fence_devices", dname, group[0]),
                          f"is required by {device['agent']} to fence {node}{alt}",
                          f"set it on the device, or per node beside `name: {dname}`")
                size = sum(len(f"{k}={_value(v)}") + 1 for k, v in given.items()) + _EXTRA_ARGS
                if size > DLM_ARGS_MAX:
                    e.add(rpath, f"the arguments for {node} are {size} bytes; dlm_controld passes at most "
                                 f"{DLM_ARGS_MAX}", "shorten them")
            if usable and isinstance(mname, str):
                fenced.add(node)
        if sections > DLM_DEVS_MAX:
            e.add((*npath, "fence"), f"lists {sections} devices; dlm_controld reads at most {DLM_DEVS_MAX} per node",
                  "keep the methods that matter")
    if not e.found:
        e.found += _order_errors(fencing, path)
    if enable_fencing(raw) and fence_all is None:
        for node in topo_nodes:
            if node in fenced:
                continue
            listed = node in cnodes and isinstance(cnodes.get(node), Mapping) and cnodes[node].get("fence")
            if listed:
                continue  # its methods already carry their own errors
            e.add((*base, "nodes", node), "has no fence method, and dlm enable_fencing is on",
                  f"add a method with a device under fencing:nodes:{node}:fence, or set "
                  "cluster:corosync:dlm:enable_fencing: false where losing a node cannot corrupt shared data")
    return e.found


def _order_errors(fencing: Mapping[str, Any], path: str) -> list[TopologyError]:
    """dlm.conf has one order of devices for all nodes: refuse two nodes listing shared devices
    in opposite orders (node1 A then B, node2 B then A)."""
    try:
        plan = _sections(fencing, {n: i for i, n in enumerate(fencing.get("nodes") or {}, start=1)})
    except RenderError as err:
        return [TopologyError(f"{path}:cluster:corosync:fencing:nodes", str(err),
                              "list shared devices in the same order on every node")]
    del plan
    return []


# --------------------------------------------------------------------------- rendering


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _arg(key: str, value: Any) -> str:
    """``key=value`` for dlm.conf or an agent's stdin, refused unless the field's whitelist passes."""
    if not _KEY.fullmatch(key) or key in RESERVED:
        raise RenderError(f"fence argument name {key!r} is not allowed")
    check, rule = field_check(key)
    text = _value(value)
    if not check(value) or has_control(text) or any(ch.isspace() for ch in text):
        shown = "the value" if is_secret_key(key) else repr(text)
        raise RenderError(f"fence argument {key}: {shown} is not {rule}")
    if key in FIELDS and FIELDS[key][0] is _flag and isinstance(value, str):
        text = "1" if value.lower() in _TRUE else "0"
    return f"{key}={text}"


def _sections(fencing: Mapping[str, Any], ids: Mapping[str, int]) -> list[dict[str, Any]]:
    """The dlm.conf device sections in file order: ``[{"name", "device", "connect": [(node, {args})]}]``.

    A method of one device uses the device's own name (one section, a ``connect`` per node using
    it); a method of several is parallel: ``<method>_<node>:<device>`` sections for that node.
    Raises RenderError when two nodes would need shared devices in different orders.
    """
    out: list[dict[str, Any]] = []
    index: dict[str, dict[str, Any]] = {}
    per_node: dict[str, list[str]] = {}
    for node in ids:
        spec = (fencing.get("nodes") or {}).get(node) or {}
        for method in spec.get("fence") or []:
            refs = list(method.get("devices") or [])
            for ref in refs:
                dname = ref["name"]
                name = dname if len(refs) == 1 else f"{method['method']}_{node}:{dname}"
                if name not in index:
                    index[name] = {"name": name, "device": dname, "connect": []}
                    out.append(index[name])
                index[name]["connect"].append((node, {k: v for k, v in ref.items() if k != "name"}))
                per_node.setdefault(node, []).append(name)
    position = {sec["name"]: i for i, sec in enumerate(out)}
    for node, names in per_node.items():
        if [position[n] for n in names] != sorted(position[n] for n in names):
            raise RenderError(f"{node}'s fence methods ({', '.join(names)}) would be tried in another order: "
                              "dlm.conf lists each device once, in one order for every node")
    return out


def dlm_lines(topology: Mapping[str, Any]) -> list[str]:
    """The fencing part of dlm.conf for ``cluster:corosync:fencing`` (``[]`` when there is none):
    a blank line, then each device section (``device``/``connect`` lines) and a blank line after
    each, or one ``fence_all`` line. Secrets are written as they are (the file is the agent's
    input): mask before showing. Raises RenderError on a value the whitelists refuse.

    >>> topo = {"nodes": {"a": {}, "b": {}}, "cluster": {"corosync": {"fencing": {
    ...     "fence_devices": {"b_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.2", "lanplus": True}},
    ...     "nodes": {"b": {"fence": [{"method": "ipmi", "devices": [{"name": "b_ipmi"}]}]}}}}}}
    >>> dlm_lines(topo)
    ['', 'device b_ipmi fence_ipmilan ip=192.0.2.2 lanplus=1', 'connect b_ipmi node=2', '']
    """
    fencing = section(topology)
    if not fencing:
        return []
    devices = fencing.get("fence_devices") or {}
    if fencing.get("fence_all"):
        spec = dict(fencing["fence_all"])
        agent = spec.pop("agent", None)
        if not (isinstance(agent, str) and _ALL_AGENT.fullmatch(agent)):
            raise RenderError(f"fence_all agent {agent!r} is not an agent name")
        return ["", " ".join(["fence_all", agent, *(_arg(k, v) for k, v in sorted(spec.items()))])]
    ids = nodeids(topology)
    lines: list[str] = []
    for sec in _sections(fencing, ids):
        name = sec["name"]
        if len(name) > DLM_NAME_MAX or not re.fullmatch(r"[A-Za-z0-9_.:-]+", name):
            raise RenderError(f"fence device name {name!r} is not allowed in dlm.conf")
        spec = dict(devices.get(sec["device"]) or {})
        agent = spec.pop("agent", None)
        if not (isinstance(agent, str) and _AGENT.fullmatch(agent)):
            raise RenderError(f"fence device {sec['device']}: agent {agent!r} is not a fence agent name")
        lines.append("")
        lines.append(" ".join(["device", name, agent, *(_arg(k, v) for k, v in sorted(spec.items()))]))
        for node, args in sec["connect"]:
            lines.append(" ".join(["connect", name, f"node={ids[node]}",
                                   *(_arg(k, v) for k, v in sorted(args.items()))]))
    if lines:
        lines.append("")
    return lines


def configured(topology: Mapping[str, Any]) -> bool:
    """True when the topology gives dlm_controld a fence method (devices with methods, or fence_all)."""
    fencing = section(topology) or {}
    if fencing.get("fence_all"):
        return True
    return any((spec or {}).get("fence") for spec in (fencing.get("nodes") or {}).values())


def dlm_conf_secrets(text: str) -> list[str]:
    """The secret values of a dlm.conf's ``device``/``connect`` lines (``key=value`` arguments
    whose key names a secret): what an old dlm.conf on disk holds, masked in its diff.

    >>> dlm_conf_secrets("enable_fencing=1\\ndevice d1 fence_ipmilan ip=10.0.0.9 password=pw1\\n")
    ['pw1']
    """
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] not in ("device", "connect"):
            continue
        for word in words[2:]:
            key, sep, value = word.partition("=")
            if sep and value and is_secret_key(key) and value not in found:
                found.append(value)
    return found


def secrets(topology: Mapping[str, Any]) -> list[str]:
    """Every secret value of ``cluster:corosync:fencing`` (for masking), raw or normalised topology.

    >>> secrets({"cluster": {"corosync": {"fencing": {"fence_devices": {"d": {"agent": "fence_x",
    ...     "password": "s3"}}}}}})
    ['s3']
    """
    fencing = section(topology) or {}
    found: list[str] = []

    def scan(attrs: Any) -> None:
        if isinstance(attrs, Mapping):
            for key, value in attrs.items():
                text = secret_text(value)
                if isinstance(key, str) and is_secret_key(key) and text and text not in found:
                    found.append(text)

    for spec in (fencing.get("fence_devices") or {}).values():
        scan(spec)
    scan(fencing.get("fence_all"))
    for node in (fencing.get("nodes") or {}).values():
        for method in (node or {}).get("fence") or [] if isinstance(node, Mapping) else []:
            for ref in (method or {}).get("devices") or [] if isinstance(method, Mapping) else []:
                scan(ref)
    return found


# --------------------------------------------------------------------------- the agents


def pairs(topology: Mapping[str, Any], node: str | None = None) -> list[dict[str, Any]]:
    """Every (device, node) a fence would use, in method order: ``[{"device", "node", "agent",
    "method"}]``; only the victims ``node`` when given."""
    fencing = section(topology) or {}
    devices = fencing.get("fence_devices") or {}
    out = []
    for victim, spec in (fencing.get("nodes") or {}).items():
        if node is not None and victim != node:
            continue
        for method in (spec or {}).get("fence") or []:
            for ref in method.get("devices") or []:
                out.append({"device": ref["name"], "node": victim, "method": method.get("method"),
                            "agent": (devices.get(ref["name"]) or {}).get("agent")})
    return out


def status_request(topology: Mapping[str, Any], device: str, node: str, action: str = "status"
                   ) -> dict[str, Any]:
    """What to run to ask ``device`` about ``node``: ``{"agent", "stdin", "secrets"}``.

    The arguments go on stdin as ``key=value`` lines (a fence agent reads stdin only when its argv
    is empty, so ``action`` is a stdin line too): the secret never appears in argv or ps. The
    device's own ``action`` (off/reboot) is replaced; ``node``'s per-device arguments follow the
    device's. Raises RenderError when ``node`` has no method using ``device``, or on a bad value.

    >>> topo = {"nodes": {"a": {}, "b": {}}, "cluster": {"corosync": {"fencing": {
    ...     "fence_devices": {"b_ipmi": {"agent": "fence_ipmilan", "ip": "192.0.2.2", "password": "pw",
    ...                                  "action": "off"}},
    ...     "nodes": {"b": {"fence": [{"method": "ipmi", "devices": [{"name": "b_ipmi"}]}]}}}}}}
    >>> req = status_request(topo, "b_ipmi", "b")
    >>> req["agent"], req["stdin"].splitlines(), req["secrets"]
    ('fence_ipmilan', ['action=status', 'ip=192.0.2.2', 'password=pw'], ['pw'])
    """
    if action not in ("status", "monitor", "validate-all", "metadata"):
        raise RenderError(f"fence action {action!r} is not a check (status, monitor, validate-all)")
    fencing = section(topology) or {}
    spec = dict((fencing.get("fence_devices") or {}).get(device) or {})
    refs = [ref for method in (((fencing.get("nodes") or {}).get(node) or {}).get("fence") or [])
            for ref in method.get("devices") or [] if ref.get("name") == device]
    if not spec or not refs:
        known = ", ".join(f"{p['device']} for {p['node']}" for p in pairs(topology)) or "none"
        raise RenderError(f"no fence method of {node} uses device {device} (known: {known})")
    agent = spec.pop("agent", None)
    if not (isinstance(agent, str) and _AGENT.fullmatch(agent)):
        raise RenderError(f"fence device {device}: agent {agent!r} is not a fence agent name")
    args = {k: v for k, v in spec.items() if k != "action"}
    args.update({k: v for k, v in refs[0].items() if k not in ("name", "action")})
    lines = [f"action={action}", *(_arg(k, v) for k, v in sorted(args.items()))]
    found = [secret_text(v) for k, v in args.items() if is_secret_key(k) and secret_text(v)]
    return {"agent": agent, "stdin": "\n".join(lines) + "\n", "secrets": found}


_STATUS_LINE = re.compile(r"^Status: (ON|OFF)$", re.M)
# fencing.py's log lines: "2026-12-03 12:36:15,165 ERROR: Connection timed out" or "ERROR:root:..."
_LOG_LINE = re.compile(r"^(?:\d{4}-\d\d-\d\d [\d:,]+ |)(ERROR|WARNING|CRITICAL)(?::root)?: ?(.*)$")


def parse_status(retcode: int, stdout: str, stderr: str) -> dict[str, Any]:
    """Read a fence agent's ``status`` answer (the fencing library of fence-agents 4.x).

    Exit 0 with ``Status: ON`` and exit 2 with ``Status: OFF`` are answers (the device works; the
    node's power is on/off); anything else is a failure whose reason is the agent's last ERROR
    line (``Connection timed out``, ``Failed: You have to enter fence address``...).

    Schema: ``{"ok": bool, "power": "on"|"off"|None, "retcode": int, "error": str|None,
    "warnings": [str]}`` (``warnings``: the agent's WARNING lines, e.g. an ignored option).

    >>> parse_status(2, "Status: OFF", "")
    {'ok': True, 'power': 'off', 'retcode': 2, 'error': None, 'warnings': []}
    """
    if not isinstance(retcode, int):
        raise ParseError("fence agent status", 0, str(retcode), "no exit code")
    found = _STATUS_LINE.findall(stdout or "")
    power = found[-1].lower() if found else None
    errors_, warnings = [], []
    for line in (stderr or "").splitlines():
        match = _LOG_LINE.match(line.strip())
        if not match or not match.group(2).strip():
            continue
        text = match.group(2).strip()
        if match.group(1) == "WARNING":
            warnings.append(text)
        elif text != "Please use '-h' for usage":
            errors_.append(text)
    ok = (retcode == 0 and power == "on") or (retcode == 2 and power == "off")
    error = None
    if not ok:
        error = errors_[-1] if errors_ else (
            f"exit {retcode}" + (f", stdout {stdout.strip()[:200]!r}" if (stdout or "").strip() else ", no status line"))
    return {"ok": ok, "power": power if ok else None, "retcode": retcode, "error": error, "warnings": warnings}


def parse_metadata(xml: str) -> dict[str, Any]:
    """Parse ``<agent> -o metadata`` (the resource-agent XML of fence-agents).

    Schema: ``{"agent": str, "parameters": {name: {"required": bool, "type": str|None,
    "default": str|None, "options": [str], "deprecated": bool, "obsoletes": str|None,
    "getopt": str|None}}, "required": [(name, *aliases)], "actions": [str], "symlinks": [str]}``.
    ``required`` groups a required parameter with the names sharing its option (``ip`` with
    ``ipaddr``): one of each group must be given. ``action`` is left out of ``required`` (the
    caller always sets it).
    """
    tool = "fence agent -o metadata"
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise ParseError(tool, getattr(err, "position", (0, 0))[0], "", f"not XML: {err}") from None
    if root.tag != "resource-agent" or not root.get("name"):
        raise ParseError(tool, 1, root.tag, "expected <resource-agent name=...>")
    params: dict[str, dict[str, Any]] = {}
    for el in root.findall("./parameters/parameter"):
        name = el.get("name")
        if not name:
            continue
        content = el.find("content")
        getopt = el.find("getopt")
        params[name] = {"required": el.get("required") == "1",
                        "type": content.get("type") if content is not None else None,
                        "default": content.get("default") if content is not None else None,
                        "options": [o.get("value") for o in (content.findall("option") if content is not None else [])
                                    if o.get("value")],
                        "deprecated": el.get("deprecated") == "1", "obsoletes": el.get("obsoletes"),
                        "getopt": getopt.get("mixed") if getopt is not None else None}
    groups: list[tuple[str, ...]] = []
    for name, spec in params.items():
        if not spec["required"] or name == "action" or spec["deprecated"]:
            continue
        same = [other for other, o in params.items() if other != name and (
            (spec["getopt"] and o["getopt"] == spec["getopt"]) or o["obsoletes"] == name or spec["obsoletes"] == other)]
        groups.append((name, *sorted(same)))
    for name, spec in params.items():  # a required deprecated name with no current twin
        if spec["required"] and spec["deprecated"] and not any(name in g for g in groups) and name != "action":
            groups.append((name,))
    return {"agent": root.get("name"), "parameters": params, "required": groups,
            "actions": [a.get("name") for a in root.findall("./actions/action") if a.get("name")],
            "symlinks": [s.get("name") for s in root.findall("./symlink") if s.get("name")]}


def unknown_args(metadata: Mapping[str, Any], args: Iterable[str]) -> list[str]:
    """The arguments the agent does not know (its stdin parser would ignore them with a warning
    that prints the whole line, value included)."""
    known = set(metadata.get("parameters") or {})
    return sorted(a for a in args if a not in known)


def agent_names(filenames: Iterable[str]) -> list[str]:
    """The fence agents among a directory's file names (``fence_*``, not ``fence_ack_manual``).

    >>> agent_names(["fence_ipmilan", "fence_ack_manual", "ls", "fence_virsh"])
    ['fence_ipmilan', 'fence_virsh']
    """
    return sorted(n for n in filenames if _AGENT.fullmatch(n) and n != "fence_ack_manual")
