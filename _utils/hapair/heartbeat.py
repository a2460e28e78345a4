"""Heartbeat v1 (seed 002): render ha.cf, haresources and authkeys from the normalised topology.

The topology's ``cluster.heartbeat`` mapping (docs/DESIGN.md)::

    {"udpport": 697, "keepalive": 2, "deadtime": 60, "warntime": 30, "initdead": 120,
     "auto_failback": "off", "logfacility": "local0", "logfile": "/var/log/ha-log",
     "debugfile": "/var/log/ha-debug", "debug": 0,
     "media": [{"type": "bcast", "interface": "eth1"},
               {"type": "ucast", "interface": "eth0", "addresses": ["10.0.0.2", "10.0.0.3"]}],
     "authkeys": {"index": 1, "method": "sha1", "key": "SECRET"},
     "resources": [{"node": "node01", "ip": "10.0.0.100", "drbd": "r0",
                    "filesystem": "www" | {"device", "mountpoint", "type"},
                    "services": ["drbdlinks", "apache2"]}]}

Example::

    >>> print(render_haresources(seed002))
    # Managed by hapair (Salt): heartbeat v1 resource groups.
    node01 192.0.2.10 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks apache2
    <BLANKLINE>
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair.errors import RenderError
from hapair.fields import has_control, require

HA_DIR = "/etc/ha.d"
AUTH_METHODS = ("crc", "md5", "sha1")
# ha.cf directives in the order the recipe (seed 002) lists them; media lines follow udpport
_DIRECTIVES = ("debugfile", "logfile", "logfacility", "keepalive", "deadtime", "warntime",
               "initdead", "udpport")
_MEDIA = {"bcast": 1, "mcast": 5, "ucast": 2, "serial": 1}
# each ha.cf directive's field kind (hapair.fields); every other directive is one option token
_PATH_DIRECTIVES = ("debugfile", "logfile")


def _heartbeat(topology: Mapping[str, Any]) -> Mapping[str, Any]:
    return (topology.get("cluster") or {}).get("heartbeat") or {}


def _raw_hostname(topology: Mapping[str, Any], key: str) -> Any:
    node = (topology.get("nodes") or {}).get(key)
    return (node or {}).get("hostname") or key


def _hostname(topology: Mapping[str, Any], key: str) -> str:
    return require("hostname", _raw_hostname(topology, key), f"nodes:{key}:hostname")


def _value(value: Any, what: str, kind: str = "token") -> str:
    """One whitespace-free ha.cf/haresources field: bools as on/off, numbers as they are, text
    passing ``kind``'s whitelist (a newline would start a new directive, a space a new argument)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    return require(kind, value, what)


def render_ha_cf(topology: Mapping[str, Any]) -> str:
    """Render ``ha.cf``: the recipe's directives, media lines, one ``node`` line per node
    (``uname -n`` names, which heartbeat requires), ``auto_failback`` and ``debug``.

    Media: ``{"type": "bcast", "interface": "eth1"}`` -> ``bcast eth1``; ``ucast`` takes
    ``interface`` and ``addresses`` (one line each); ``mcast`` takes ``interface group port ttl``
    (loop 0); ``serial`` takes ``device`` (and ``baud``).
    """
    hb = _heartbeat(topology)
    lines = ["# Managed by hapair (Salt): heartbeat v1 configuration."]
    for key in _DIRECTIVES:
        if hb.get(key) is not None:
            kind = "path" if key in _PATH_DIRECTIVES else "token"
            lines.append(f"{key} {_value(hb[key], f'heartbeat:{key}', kind)}")
    for medium in hb.get("media") or []:
        lines += _media_lines(medium)
    if hb.get("auto_failback") is not None:
        lines.append(f"auto_failback {_value(hb['auto_failback'], 'heartbeat:auto_failback')}")
    order = topology.get("node_order") or list(topology.get("nodes") or {})
    lines += [f"node {_hostname(topology, key)}" for key in order]
    if hb.get("debug") is not None:
        lines.append(f"debug {_value(hb['debug'], 'heartbeat:debug')}")
    return "\n".join(lines) + "\n"


def _media_lines(medium: Mapping[str, Any]) -> list[str]:
    kind = medium.get("type")
    if kind not in _MEDIA:
        raise RenderError(f"heartbeat medium type {kind!r} is not one of {', '.join(_MEDIA)}")

    def field(key: str, default: Any = None, check: str = "token") -> str:
        value = medium.get(key, default)
        return _value(default if value is None else value, f"heartbeat:media:{kind}:{key}", check)

    if kind == "serial":
        baud = [f"baud {field('baud')}"] if medium.get("baud") else []
        return baud + [f"serial {field('device', check='path')}"]
    if kind == "ucast":  # heartbeat ignores the line that names its own address
        addresses = medium.get("addresses") or [medium.get("address")]
        return [f"ucast {field('interface')} {_value(address, 'heartbeat:media:ucast:addresses')}"
                for address in addresses]
    if kind == "mcast":
        return [f"mcast {field('interface')} {field('group')} {field('port', 694)} "
                f"{field('ttl', 1)} {field('loop', 0)}"]
    return [f"bcast {field('interface')}"]


def _filesystem(topology: Mapping[str, Any], ref: Any) -> Mapping[str, Any] | None:
    if ref is None:
        return None
    if isinstance(ref, Mapping):
        return ref
    return (topology.get("filesystems") or {})[ref]


def render_haresources(topology: Mapping[str, Any]) -> str:
    """Render ``haresources``: one line per resource group, the preferred node first, then the
    virtual IP, ``drbddisk::<res>``, ``Filesystem::<device>::<mountpoint>::<type>``, services.

    >>> render_haresources(seed002).splitlines()[1]
    'node01 192.0.2.10 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks apache2'
    """
    lines = ["# Managed by hapair (Salt): heartbeat v1 resource groups."]
    for index, group in enumerate(_heartbeat(topology).get("resources") or []):
        what = f"heartbeat:resources:{index}"
        words = [_hostname(topology, group["node"])]
        ips = group.get("ip")
        words += [_value(ip, f"{what}:ip") for ip in (ips if isinstance(ips, list) else [ips] if ips else [])]
        if group.get("drbd"):
            words.append(f"drbddisk::{require('name', group['drbd'], f'{what}:drbd')}")
        fs = _filesystem(topology, group.get("filesystem"))
        if fs:
            device = (fs.get("devices") or {}).get(group["node"]) or fs["device"]
            fstype = fs.get("type") or fs.get("fstype")
            # '::' separates Filesystem's arguments: paths hold no ':' (hapair.fields.is_path)
            words.append(f"Filesystem::{require('path', device, f'{what}:filesystem:device')}"
                         f"::{require('path', fs['mountpoint'], f'{what}:filesystem:mountpoint')}"
                         f"::{require('name', fstype, f'{what}:filesystem:type')}")
        words += [_value(service, f"{what}:services") for service in group.get("services") or []]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def render_authkeys(topology: Mapping[str, Any]) -> str:
    """Render ``authkeys`` (must be mode 0600; the key is a secret).

    >>> render_authkeys({"cluster": {"heartbeat": {"authkeys": {"method": "sha1", "key": "k"}}}})
    'auth 1\\n1 sha1 k\\n'
    """
    auth = _heartbeat(topology).get("authkeys") or {}
    index = auth.get("index") or 1
    index = int(index) if isinstance(index, str) and index.isascii() and index.isdigit() else index
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= 15:
        raise RenderError(f"authkeys index {index!r} is not a number 1..15")
    method = auth.get("method", "sha1")
    if method not in AUTH_METHODS:
        raise RenderError(f"authkeys method {method!r} is not one of {', '.join(AUTH_METHODS)}")
    if method == "crc":
        return f"auth {index}\n{index} crc\n"
    key = auth.get("key")
    # never quote the key: it is a secret
    if not key or not isinstance(key, (str, int)) or any(c.isspace() or has_control(c) for c in str(key)):
        raise RenderError(f"authkeys method {method} needs a key without whitespace or control characters")
    return f"auth {index}\n{index} {method} {key}\n"


def secrets(topology: Mapping[str, Any]) -> list[str]:
    """The secret values this module renders (for :func:`hapair.secrets.mask`)."""
    key = (_heartbeat(topology).get("authkeys") or {}).get("key")
    return [str(key)] if key else []


def render(topology: Mapping[str, Any], ha_dir: str = HA_DIR) -> dict[str, dict[str, Any]]:
    """Return ``{path: {"content", "mode", "secret"}}`` for ha.cf, haresources and authkeys."""
    return {
        f"{ha_dir}/ha.cf": {"content": render_ha_cf(topology), "mode": "0644", "secret": False},
        f"{ha_dir}/haresources": {"content": render_haresources(topology), "mode": "0644", "secret": False},
        f"{ha_dir}/authkeys": {"content": render_authkeys(topology), "mode": "0600", "secret": True},
    }


def check(topology: Mapping[str, Any]) -> list[str]:
    """What hapair refuses before heartbeat sees it (some of which heartbeat itself accepts).

    Heartbeat accepts the same ``node`` twice; it refuses a config without media and an
    haresources line naming an unknown node, but only when the daemon starts.

    >>> check(seed002)
    []
    """
    problems = []
    hb = _heartbeat(topology)
    order = topology.get("node_order") or list(topology.get("nodes") or {})
    names = [_raw_hostname(topology, key) for key in order]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"node {name} is listed {names.count(name)} times in ha.cf")
    if not hb.get("media"):
        problems.append("no heartbeat media (bcast/ucast/mcast): heartbeat refuses to start")
    for index, group in enumerate(hb.get("resources") or []):
        if group.get("node") not in (topology.get("nodes") or {}):
            problems.append(f"resources[{index}]: node {group.get('node')!r} is not a node of this topology")
    return problems
