"""The o2cb cluster stack (OCFS2): render its two config files, parse its tools, plan its states.

Renderers take the normalised topology (docs/DESIGN.md). Parsers take one tool's stdout and
return plain dicts with flat snake_case keys. Planners take parsed facts and return steps.

Example::

    >>> conf = render_cluster_conf(seed001)      # /etc/ocfs2/cluster.conf, tab-indented stanzas
    >>> parse_cluster_status("Cluster 'labcl' is online\\n")
    {'cluster': 'labcl', 'online': True}
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Mapping

from hapair.errors import ParseError, RenderError
from hapair.fields import require
from hapair.parsing import to_int

CLUSTER_CONF = "/etc/ocfs2/cluster.conf"
DEFAULTS_FILE = "/etc/default/o2cb"
MAX_CLUSTER_NAME = 16  # o2cb accepts longer names, mkfs.ocfs2 does not (VALIDATORS.md)
NAME_RE = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")

# o2cb timeouts: pillar key -> /etc/default/o2cb variable (seed 001 sets all four)
TIMEOUT_KEYS = (
    ("heartbeat_threshold", "O2CB_HEARTBEAT_THRESHOLD", 31),
    ("idle_timeout_ms", "O2CB_IDLE_TIMEOUT_MS", 30000),
    ("keepalive_delay_ms", "O2CB_KEEPALIVE_DELAY_MS", 2000),
    ("reconnect_delay_ms", "O2CB_RECONNECT_DELAY_MS", 2000),
)
DEFAULT_PORT = 7777


# --------------------------------------------------------------------------- rendering
def cluster_nodes(topology: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the o2cb node list of a normalised topology, in ``node_order``.

    Each entry: ``{"name": <hostname as uname -n prints it>, "number": <cluster_node_id>,
    "ip_address": <cluster_address>, "ip_port": <cluster.o2cb.port>, "cluster": <cluster name>}``.
    """
    cluster = topology["cluster"]
    port = int((cluster.get("o2cb") or {}).get("port", DEFAULT_PORT))
    order = topology.get("node_order") or list(topology["nodes"])
    out = []
    for index, key in enumerate(order):
        node = topology["nodes"][key]
        number = node.get("cluster_node_id")
        out.append(
            {
                "name": node.get("hostname") or key,
                "number": int(index + 1 if number is None else number),
                "ip_address": node.get("cluster_address") or node["address"],
                "ip_port": port,
                "cluster": cluster["name"],
            }
        )
    return out


def render_cluster_conf(topology: Mapping[str, Any]) -> str:
    """Render ``/etc/ocfs2/cluster.conf`` (stanza format, keys indented by one tab).

    >>> print(render_cluster_conf(seed001))  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
    node:
    \tip_port = 7777
    \tip_address = 192.168.1.6
    \tnumber = 1
    \tname = fiori
    \tcluster = ocfs2
    ...
    cluster:
    \tnode_count = 2
    \tname = ocfs2
    <BLANKLINE>
    """
    nodes = cluster_nodes(topology)
    lines: list[str] = []
    for node in nodes:
        lines += ["node:"] + [f"\t{key} = {_field(key, node[key])}"
                              for key in ("ip_port", "ip_address", "number", "name", "cluster")]
        lines.append("")
    lines += ["cluster:", f"\tnode_count = {len(nodes)}", f"\tname = {_field('cluster', topology['cluster']['name'])}", ""]
    return "\n".join(lines)


def _field(key: str, value: Any) -> str:
    """One ``key = value`` value of cluster.conf: numbers, an IP address, names (``hapair.fields``)."""
    if key in ("ip_port", "number"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RenderError(f"cluster.conf {key}: {value!r} is not a number")
        return str(value)
    if key == "ip_address":
        try:
            return str(ipaddress.ip_address(str(value)))
        except ValueError:
            raise RenderError(f"cluster.conf ip_address: {value!r} is not an IP address") from None
    if key == "cluster":
        return require("name", value, "cluster name")
    return require("hostname", value, f"cluster.conf {key}")


def render_defaults(topology: Mapping[str, Any], enabled: bool = True) -> str:
    """Render ``/etc/default/o2cb`` (the boot cluster and its four timeouts).

    >>> print(render_defaults(seed001))
    # Managed by hapair (Salt): o2cb boot settings for the OCFS2 cluster stack.
    O2CB_ENABLED=true
    O2CB_BOOTCLUSTER=ocfs2
    O2CB_HEARTBEAT_THRESHOLD=61
    O2CB_IDLE_TIMEOUT_MS=60000
    O2CB_KEEPALIVE_DELAY_MS=4000
    O2CB_RECONNECT_DELAY_MS=4000
    <BLANKLINE>
    """
    cluster = topology["cluster"]
    settings = cluster.get("o2cb") or {}
    lines = [
        "# Managed by hapair (Salt): o2cb boot settings for the OCFS2 cluster stack.",
        f"O2CB_ENABLED={'true' if enabled else 'false'}",
        f"O2CB_BOOTCLUSTER={require('name', cluster['name'], 'cluster name')}",
    ]
    for key, var, default in TIMEOUT_KEYS:
        value = settings.get(key)
        lines.append(f"{var}={int(default if value is None else value)}")
    return "\n".join(lines) + "\n"


def render(
    topology: Mapping[str, Any],
    conf_path: str = CLUSTER_CONF,
    defaults_path: str = DEFAULTS_FILE,
) -> dict[str, dict[str, Any]]:
    """Return ``{path: {"content", "mode", "secret"}}`` for both o2cb files (same on both nodes)."""
    return {
        conf_path: {"content": render_cluster_conf(topology), "mode": "0644", "secret": False},
        defaults_path: {"content": render_defaults(topology), "mode": "0644", "secret": False},
    }


# --------------------------------------------------------------------------- parsing
def _stanzas(text: str, tool: str) -> list[tuple[str, dict[str, str]]]:
    """Tokenise the o2cb stanza format: ``name:`` then indented ``key = value`` lines."""
    stanzas: list[tuple[str, dict[str, str]]] = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            match = re.fullmatch(r"([a-z_]+):\s*", line)
            if not match:
                raise ParseError(tool, line_no, line, "expected a stanza header like 'node:'")
            stanzas.append((match.group(1), {}))
            continue
        match = re.fullmatch(r"\s+([a-z_]+)\s*=\s*(.*?)\s*", line)
        if not match:
            raise ParseError(tool, line_no, line, "expected an indented 'key = value'")
        if not stanzas:
            raise ParseError(tool, line_no, line, "key outside a stanza")
        stanzas[-1][1][match.group(1)] = match.group(2)
    return stanzas


def _int(value: str | None) -> int | None:
    """An integer stanza value, None when absent or no number (also one beyond int()'s digit limit)."""
    if value is None or not value.lstrip("-").isascii() or not value.lstrip("-").isdigit():
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_cluster_conf(text: str, tool: str = "o2cb list-cluster") -> dict[str, Any]:
    """Parse ``cluster.conf`` or ``o2cb list-cluster NAME`` / ``list-nodes NAME`` output.

    Schema: ``{"clusters": [{"name", "node_count": int|None, "heartbeat_mode": str|None}],
    "nodes": [{"name", "number": int|None, "ip_address", "ip_port": int|None, "cluster"}],
    "heartbeats": [{"region", "cluster"}]}``.

    >>> parse_cluster_conf("cluster:\\n\\tnode_count = 2\\n\\tname = labcl\\n")["clusters"]
    [{'name': 'labcl', 'node_count': 2, 'heartbeat_mode': None}]
    """
    out: dict[str, Any] = {"clusters": [], "nodes": [], "heartbeats": []}
    for kind, keys in _stanzas(text, tool):
        if kind == "cluster":
            out["clusters"].append(
                {"name": keys.get("name"), "node_count": _int(keys.get("node_count")),
                 "heartbeat_mode": keys.get("heartbeat_mode")}
            )
        elif kind == "node":
            out["nodes"].append(
                {"name": keys.get("name"), "number": _int(keys.get("number")),
                 "ip_address": keys.get("ip_address"), "ip_port": _int(keys.get("ip_port")),
                 "cluster": keys.get("cluster")}
            )
        elif kind == "heartbeat":
            out["heartbeats"].append({"region": keys.get("region"), "cluster": keys.get("cluster")})
    return out


def parse_list_clusters(text: str) -> list[str]:
    """Parse ``o2cb list-clusters``: one cluster name per line.

    >>> parse_list_clusters("labcl\\n")
    ['labcl']
    """
    names = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not NAME_RE.fullmatch(line.strip()):
            raise ParseError("o2cb list-clusters", line_no, line, "not a cluster name")
        names.append(line.strip())
    return names


def parse_cluster_status(text: str) -> dict[str, Any]:
    """Parse ``o2cb cluster-status [NAME]`` (exit 0 online, 1 offline).

    Schema: ``{"cluster": str|None, "online": bool}``.

    >>> parse_cluster_status("offline\\n")
    {'cluster': None, 'online': False}
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ParseError("o2cb cluster-status", 0, "", "no output")
    line = lines[0].strip()
    if line == "offline":
        return {"cluster": None, "online": False}
    match = re.fullmatch(r"Cluster '([^']+)' is (online|offline)", line)
    if not match:
        raise ParseError("o2cb cluster-status", 1, lines[0], "unknown cluster status")
    return {"cluster": match.group(1), "online": match.group(2) == "online"}


_LOADED = {"Loaded": True, "Not loaded": False, "Mounted": True, "Not mounted": False,
           "mounted": True, "not mounted": False, "Active": True, "Not active": False,
           "Online": True, "Offline": False}
_TIMEOUTS = {
    "heartbeat dead threshold": "heartbeat_dead_threshold",
    "network idle timeout": "idle_timeout_ms",
    "network keepalive delay": "keepalive_delay_ms",
    "network reconnect delay": "reconnect_delay_ms",
}


def parse_init_status(text: str) -> dict[str, Any]:
    """Parse ``/etc/init.d/o2cb status`` in both formats, raw tokens first, then types.

    ocfs2-tools 1.8 (``Driver for "configfs": Loaded``, ``Stack plugin "o2cb": Loaded``,
    ``Checking O2CB cluster "labcl": Online``, indented ``Heartbeat dead threshold: 31``) and the
    older Debian/Ubuntu one (``Module "ocfs2_nodemanager": Loaded``, ``Checking O2CB cluster
    ocfs2: Online``, ``Heartbeat dead threshold = 31``; 1.2 prints ``Checking cluster ocfs2``).

    Schema::

        {"format": "1.8" | "legacy", "drivers": {"configfs": True, ...},
         "filesystems": {"configfs": True, "ocfs2_dlmfs": True},
         "stack_glue": bool|None, "stack_plugins": {"o2cb": True},
         "cluster": "labcl"|None, "online": bool|None, "heartbeat_active": bool|None,
         "heartbeat_dead_threshold": int|None, "idle_timeout_ms": int|None,
         "keepalive_delay_ms": int|None, "reconnect_delay_ms": int|None,
         "heartbeat_mode": "local"|"global"|None, "debugfs_mounted": bool|None}
    """
    out: dict[str, Any] = {
        "format": None, "drivers": {}, "filesystems": {}, "stack_glue": None, "stack_plugins": {},
        "cluster": None, "online": None, "heartbeat_active": None,
        "heartbeat_dead_threshold": None, "idle_timeout_ms": None, "keepalive_delay_ms": None,
        "reconnect_delay_ms": None, "heartbeat_mode": None, "debugfs_mounted": None,
    }
    seen = False
    for line_no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        seen = True
        match = re.fullmatch(r'(Driver for|Module|Filesystem|Stack plugin) "([^"]+)": (.+)', line)
        if match:
            kind, name, state = match.groups()
            table = {"Filesystem": "filesystems", "Stack plugin": "stack_plugins"}.get(kind, "drivers")
            out[table][name] = _state(state, raw, line_no)
            continue
        match = re.fullmatch(r"Stack glue driver: (.+)", line)
        if match:
            out["stack_glue"] = _state(match.group(1), raw, line_no)
            continue
        match = re.fullmatch(r'Checking (?:O2CB )?cluster ("?)([^":]+)\1: (\w+(?: \w+)?)', line)
        if match:
            # 1.8 quotes the cluster name; the 1.2-1.6 init scripts do not
            out["format"] = "1.8" if match.group(1) else "legacy"
            out["cluster"], out["online"] = match.group(2), _state(match.group(3), raw, line_no)
            continue
        match = re.fullmatch(r"Checking (?:O2CB )?heartbeat: (.+)", line)
        if match:
            out["heartbeat_active"] = _state(match.group(1), raw, line_no)
            continue
        match = re.fullmatch(r"(Heartbeat dead threshold|Network idle timeout|Network keepalive delay|"
                             r"Network reconnect delay)\s*[:=]\s*(\d+)", line)
        if match:
            out[_TIMEOUTS[match.group(1).lower()]] = to_int("o2cb status", line_no, raw, match.group(2),
                                                            match.group(1))
            continue
        match = re.fullmatch(r"Heartbeat mode: (\w+)", line)
        if match:
            out["heartbeat_mode"] = match.group(1).lower()
            continue
        match = re.fullmatch(r"Debug file system at \S+: (.+)", line)
        if match:
            out["debugfs_mounted"] = _state(match.group(1), raw, line_no)
            continue
        raise ParseError("o2cb status", line_no, raw, "unknown status line")
    if not seen:
        raise ParseError("o2cb status", 0, "", "no output")
    if out["format"] is None:  # no cluster line: 1.8 says "Driver for", older scripts "Module"
        out["format"] = "1.8" if out["stack_glue"] is not None or "Module" not in text else "legacy"
    return out


def _state(word: str, line: str, line_no: int) -> bool:
    if word not in _LOADED:
        raise ParseError("o2cb status", line_no, line, f"unknown state {word!r}")
    return _LOADED[word]


# --------------------------------------------------------------------------- our own checks
def check_cluster_conf(parsed: Mapping[str, Any], name: str) -> list[str]:
    """Return what o2cb itself accepts but must not: the checks its parser misses.

    Duplicate node numbers, duplicate names, node_count different from the nodes listed, a node
    of another cluster (o2cb silently drops it), a missing cluster stanza, a cluster name longer
    than 16 characters (mkfs.ocfs2 refuses it), two nodes on the same ip:port.

    >>> two = [{"name": n, "number": 1, "ip_address": f"10.0.0.{i}", "ip_port": 7777, "cluster": "c1"}
    ...        for i, n in enumerate("ab", 1)]     # parse_cluster_conf's "nodes": both are number 1
    >>> check_cluster_conf({"clusters": [{"name": "c1", "node_count": 2}], "nodes": two}, "c1")
    ['node number 1 is used by a and b']
    """
    problems: list[str] = []
    clusters = [c for c in parsed["clusters"] if c["name"] == name]
    if not clusters:
        problems.append(f"no cluster stanza named {name!r}")
    if len(clusters) > 1:
        problems.append(f"cluster {name!r} is defined {len(clusters)} times")
    if len(name) > MAX_CLUSTER_NAME:
        problems.append(f"cluster name {name!r} is longer than {MAX_CLUSTER_NAME} characters (mkfs.ocfs2 refuses it)")
    if not NAME_RE.fullmatch(name):
        problems.append(f"cluster name {name!r} has characters outside [-A-Za-z0-9_]")
    nodes = [n for n in parsed["nodes"] if n["cluster"] == name]
    for node in parsed["nodes"]:
        if node["cluster"] != name:
            problems.append(f"node {node['name']} belongs to cluster {node['cluster']!r}, not {name!r}: o2cb would drop it")
    for key, label in (("number", "node number"), ("name", "node name")):
        owners: dict[Any, list[str]] = {}
        for node in nodes:
            owners.setdefault(node[key], []).append(str(node["name"]))
        for value, names in owners.items():
            if len(names) > 1:
                problems.append(f"{label} {value} is used by {' and '.join(names)}")
    endpoints: dict[tuple, list[str]] = {}
    for node in nodes:
        endpoints.setdefault((node["ip_address"], node["ip_port"]), []).append(str(node["name"]))
    for (addr, port), names in endpoints.items():
        if len(names) > 1:
            problems.append(f"{addr}:{port} is used by {' and '.join(names)}")
    for cluster in clusters[:1]:
        if cluster["node_count"] != len(nodes):
            problems.append(f"node_count = {cluster['node_count']} but {len(nodes)} node stanza(s) belong to {name!r}")
    return problems


def check_topology(topology: Mapping[str, Any]) -> list[str]:
    """Run :func:`check_cluster_conf` on what :func:`render_cluster_conf` makes of ``topology``."""
    return check_cluster_conf(parse_cluster_conf(render_cluster_conf(topology), "hapair render"),
                              topology["cluster"]["name"])


# --------------------------------------------------------------------------- planning
def plan_online(status: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """Steps that bring cluster ``name`` online, from parsed ``o2cb cluster-status`` facts.

    ``status`` is :func:`parse_cluster_status` output, or None when it could not be read.
    Returns ``[]`` when ``name`` is online, else ``[{"action": "online", "cluster": name}]``
    (the init script's ``online`` registers the cluster and sets the timeouts). A different
    cluster online is returned as a conflict the state must not paper over.

    >>> plan_online({"cluster": "labcl", "online": True}, "labcl")
    []
    """
    if status and status.get("online") and status.get("cluster") not in (None, name):
        return [{"action": "conflict", "cluster": name,
                 "reason": f"cluster {status['cluster']!r} is online instead of {name!r}; take it offline first"}]
    if status and status.get("online") and status.get("cluster") == name:
        return []
    return [{"action": "online", "cluster": name}]


def plan_offline(status: Mapping[str, Any] | None, name: str) -> list[dict[str, Any]]:
    """Steps that take cluster ``name`` offline: ``[]`` unless it is the one online here (another
    cluster is not ours to stop).

    >>> plan_offline({"cluster": "labcl", "online": True}, "labcl"), plan_offline({"online": False}, "labcl")
    ([{'action': 'offline', 'cluster': 'labcl'}], [])
    """
    if status and status.get("online") and status.get("cluster") in (None, name):
        return [{"action": "offline", "cluster": name}]
    return []


def check_listed(stdout: str, stderr: str, topology: Mapping[str, Any]) -> list[str]:
    """Judge ``o2cb --config-file=FILE list-cluster NAME`` run on a rendered file.

    o2cb exits 0 on a missing file or an unknown cluster (it only prints ``Unknown cluster`` on
    stderr), so the listing itself is checked: it must show the cluster and exactly our nodes.
    Returns problems (``[]`` when o2cb read back what we rendered).
    """
    name = topology["cluster"]["name"]
    try:
        listed = parse_cluster_conf(stdout)
    except ParseError as err:
        return [f"o2cb printed something unreadable: {err}"]
    if not any(c["name"] == name for c in listed["clusters"]):
        return [f"o2cb did not list cluster {name!r}: {stderr.strip() or 'no output'}"]
    want = sorted((n["name"], n["number"], n["ip_address"], n["ip_port"]) for n in cluster_nodes(topology))
    got = sorted((n["name"], n["number"], n["ip_address"], n["ip_port"]) for n in listed["nodes"]
                 if n["cluster"] == name)
    if want != got:
        return [f"o2cb read nodes {got}, hapair rendered {want}"]
    return []
