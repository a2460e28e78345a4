"""Heartbeat v1 (seed 002): ha.cf, haresources, authkeys and drbdlinks from the normalised
topology, and the parsers of ``cl_status``. Pure: no Salt, no I/O.

The topology's ``cluster.heartbeat`` mapping holds ha.cf's settings and the authkeys::

    {"udpport": 697, "keepalive": 2, "deadtime": 60, "warntime": 30, "initdead": 120,
     "auto_failback": "off", "logfacility": "local0", "logfile": "/var/log/ha-log",
     "debugfile": "/var/log/ha-debug", "debug": 0,
     "media": [{"type": "bcast", "interface": "eth1"}],
     "authkeys": {"index": 1, "method": "sha1", "key": "SECRET"}}

``topology["groups"]`` (docs/DESIGN.md) are the resource groups: one haresources line each, in
group-name order::

    {"www": {"name": "www", "node": "node01", "nodes": ["node01", "node02"], "resource": "r0",
             "filesystem": "data", "ip": {"address": "10.0.0.100", "cidr": 24, "interface": "eth1"},
             "relocate": [{"path": "/etc/apache2", "target": "/drbd/etc/apache2"}],
             "services": ["apache2"]}}

renders as::

    node01 IPaddr2::10.0.0.100/24/eth1 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks::/etc/hapair/drbdlinks-www.conf apache2

Heartbeat's ResourceManager splits a resource at ``::`` and hands the pieces to the script
unquoted (word splitting and globbing), so every value passes a whitelist without whitespace,
quotes or glob characters (``hapair.fields``), and no argument starts or ends with ``:``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from typing import Any, Callable, Iterable, Mapping

from hapair.errors import HapairError, ParseError, RenderError
from hapair.fields import has_control, is_hostname, is_name, require

HA_DIR = "/etc/ha.d"
CONF_DIR = "/etc/hapair"  # the per-group drbdlinks configs
DRBDLINKS = "resource.d/drbdlinks"  # under HA_DIR: where heartbeat looks up haresources' scripts
AUTH_METHODS = ("crc", "md5", "sha1")
# ha.cf directives in the order the recipe (seed 002) lists them; media lines follow udpport
_DIRECTIVES = ("debugfile", "logfile", "logfacility", "keepalive", "deadtime", "warntime",
               "initdead", "udpport")
_MEDIA = {"bcast": 1, "mcast": 5, "ucast": 2, "serial": 1}
# each ha.cf directive's field kind (hapair.fields); every other directive is one option token
_PATH_DIRECTIVES = ("debugfile", "logfile")
# ResourceManager's isip(): a resource matching this is read as IPaddr::<resource>
_ISIP = "[0-9]*.[0-9]*.[0-9]*.[0-9]*"

#: ``cl_status rscstatus``: what this node holds (heartbeat's hb_rsc_resource_state()).
RESOURCE_STATES = ("all", "local", "foreign", "none", "transition")
#: the states in which this node holds its own groups
#: ``cl_status rscstatus`` -> whose haresources lines this node holds: its own, the peer's, or both
HELD = {"all": ("own", "peer"), "local": ("own",), "foreign": ("peer",), "none": ()}
HOLDS = tuple(state for state, held in HELD.items() if "own" in held)  # this node holds its own groups
#: ``cl_status nodestatus``: a node's status (heartbeat.h INITSTATUS ... PINGSTATUS).
NODE_STATES = ("init", "up", "active", "dead", "ping")
#: hb_standby / hb_takeover's one argument
STANDBY_SETS = ("all", "foreign", "local", "failback")
HBSTATUS_RUNNING = "Heartbeat is running on this machine."
HBSTATUS_STOPPED = "Heartbeat is stopped on this machine."
HBSTATUS_REFUSED = "Heartbeat is apparently running on this machine, but refuses my connection"


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


# --------------------------------------------------------------------------- haresources

def _arg(kind: str, value: Any, what: str) -> str:
    """One ``::``-separated argument of a haresources resource: ``kind``'s whitelist, no ``::``
    and no leading or trailing ``:`` (``/dev/x:`` + ``::`` would read as ``/dev/x`` and ``:/drbd``)."""
    text = require(kind, value, what)
    if "::" in text or text.startswith(":") or text.endswith(":"):
        raise RenderError(f"{what}: {value!r} may not hold '::' or start or end with ':' (haresources splits at '::')")
    return text


def _ip(ip: Mapping[str, Any], what: str) -> str:
    """``IPaddr2::<address>/<cidr>/<interface>``: the argument /etc/ha.d/resource.d/IPaddr2 reads
    as ``ip-address[/netmaskbits[/interface[:label][/broadcast]]]``. IPv4 only: an IPv6 address
    holds ``::``; an interface starting with a digit would be read as the broadcast address."""
    try:
        address = ipaddress.IPv4Address(ip.get("address"))
    except (ipaddress.AddressValueError, TypeError, ValueError):
        raise RenderError(f"{what}:address: {ip.get('address')!r} is not an IPv4 address (IPaddr2 in "
                          "haresources; an IPv6 address holds '::')") from None
    cidr = ip.get("cidr")
    if isinstance(cidr, bool) or not isinstance(cidr, int) or not 1 <= cidr <= 32:
        raise RenderError(f"{what}:cidr: {cidr!r} is not a prefix length 1..32")
    interface = require("interface", ip.get("interface"), f"{what}:interface")
    if interface[0].isdigit():
        raise RenderError(f"{what}:interface: {interface!r} starts with a digit (IPaddr2 reads it as a broadcast address)")
    return f"IPaddr2::{address}/{cidr}/{interface}"


def _service(value: Any, what: str) -> str:
    text = require("service", value, what)
    if fnmatch.fnmatchcase(text.split("::")[0], _ISIP):
        raise RenderError(f"{what}: {value!r} would be read as an IP address by heartbeat")
    return text


def drbdlinks_conf_path(group: str, conf_dir: str = CONF_DIR) -> str:
    """The drbdlinks config of group ``group``: ``/etc/hapair/drbdlinks-<group>.conf``.

    >>> drbdlinks_conf_path("www")
    '/etc/hapair/drbdlinks-www.conf'
    """
    return f"{require('path', conf_dir, 'conf_dir').rstrip('/')}/drbdlinks-{require('name', group, 'group')}.conf"


def _groups(topology: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [topology["groups"][name] for name in sorted(topology.get("groups") or {})]


def _group_filesystem(topology: Mapping[str, Any], group: Mapping[str, Any], what: str) -> Mapping[str, Any] | None:
    name = group.get("filesystem")
    if name is None:
        return None
    fs = (topology.get("filesystems") or {}).get(name)
    if fs is None:
        raise RenderError(f"{what}:filesystem: {name!r} is not a filesystem of this topology")
    return fs


def render_haresources(topology: Mapping[str, Any], conf_dir: str = CONF_DIR) -> str:
    """Render ``haresources``: one line per group of ``topology["groups"]``, in group-name order::

        <preferred node's hostname> [IPaddr2::<address>/<cidr>/<interface>] drbddisk::<resource>
            [Filesystem::<device on that node>::<mountpoint>::<type>[::<options>]]
            [drbdlinks::<conf_dir>/drbdlinks-<group>.conf] <services...>

    IPaddr2 only with an ``ip``, drbdlinks only with ``relocate`` entries, the mount options
    (comma-joined) only when there are some. Heartbeat starts a line left to right and stops it
    right to left: the services stop before the links go, the links before the unmount.

    >>> render_haresources(seed002).splitlines()[1]
    'node01 IPaddr2::192.0.2.10/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks::/etc/hapair/drbdlinks-www.conf apache2'
    """
    lines = ["# Managed by hapair (Salt): heartbeat v1 resource groups."]
    for group in _groups(topology):
        what = f"groups:{group.get('name')}"
        node = group.get("node")
        if node not in (topology.get("nodes") or {}):
            raise RenderError(f"{what}:node: {node!r} is not a node of this topology")
        words = [_hostname(topology, node)]
        if group.get("ip"):
            words.append(_ip(group["ip"], f"{what}:ip"))
        words.append(f"drbddisk::{_arg('name', group.get('resource'), f'{what}:resource')}")
        fs = _group_filesystem(topology, group, what)
        if fs is not None:
            device = (fs.get("devices") or {}).get(node) or fs.get("device")
            args = [_arg("path", device, f"{what}:filesystem:device"),
                    _arg("path", fs.get("mountpoint"), f"{what}:filesystem:mountpoint"),
                    _arg("name", fs.get("type"), f"{what}:filesystem:type")]
            options = [_arg("token", opt, f"{what}:filesystem:mount_options") for opt in fs.get("mount_options") or []]
            if options:
                args.append(_arg("token", ",".join(options), f"{what}:filesystem:mount_options"))
            words.append("Filesystem::" + "::".join(args))
        if group.get("relocate"):
            words.append(f"drbdlinks::{_arg('path', drbdlinks_conf_path(group['name'], conf_dir), f'{what}:relocate')}")
        words += [_service(service, f"{what}:services") for service in group.get("services") or []]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- drbdlinks

def _relocated(path: Any, what: str) -> str:
    text = require("path", path, what)
    if text == "/" or any(part in (".", "..") for part in text.split("/")):
        raise RenderError(f"{what}: {path!r} may not be / or hold a '.' or '..' component")
    return text


def render_drbdlinks_conf(topology: Mapping[str, Any], group: str) -> str:
    """Render group ``group``'s drbdlinks config from its ``relocate`` list: the filesystem's
    ``mountpoint(...)`` and one ``link(path, target)`` per entry (targets written out in full).

    >>> print(render_drbdlinks_conf(seed002, "www"), end="")
    # Managed by hapair (Salt): drbdlinks for heartbeat group www.
    mountpoint('/drbd')
    link('/etc/apache2', '/drbd/etc/apache2')
    ...
    """
    spec = (topology.get("groups") or {}).get(group)
    what = f"groups:{group}"
    if spec is None:
        raise RenderError(f"{what}: no such group")
    fs = _group_filesystem(topology, spec, what)
    if fs is None:
        raise RenderError(f"{what}:relocate: a group without a filesystem has nowhere to relocate to")
    lines = [f"# Managed by hapair (Salt): drbdlinks for heartbeat group {require('name', group, 'group')}.",
             f"mountpoint('{_relocated(fs.get('mountpoint'), f'{what}:filesystem:mountpoint')}')"]
    for index, item in enumerate(spec.get("relocate") or []):
        path = _relocated(item.get("path"), f"{what}:relocate:{index}:path")
        target = _relocated(item.get("target"), f"{what}:relocate:{index}:target")
        lines.append(f"link('{path}', '{target}')")
    return "\n".join(lines) + "\n"


def render_drbdlinks_script() -> str:
    """The ``drbdlinks`` heartbeat resource script (POSIX sh), installed 0755 as
    ``/etc/ha.d/resource.d/drbdlinks``: ``drbdlinks [config] start|stop|status``."""
    return DRBDLINKS_SCRIPT


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
    if key is None:  # left to the master (validate accepts an absent key): it did not supply one
        raise RenderError(missing_key(topology.get("name"), method))
    # never quote the key: it is a secret
    if not key or not isinstance(key, (str, int)) or any(c.isspace() or has_control(c) for c in str(key)):
        raise RenderError(f"authkeys method {method} needs a key without whitespace or control characters")
    return f"auth {index}\n{index} {method} {key}\n"


#: the master config line of hapair's ext_pillar (``_pillar/hapair_secrets.py``)
EXT_PILLAR_LINE = "ext_pillar: [{hapair_secrets: {}}]"
#: the master's store of generated keys, under its cachedir
SECRETS_DIR = ("hapair", "secrets")
AUTHKEY_FILE = "heartbeat-authkey"
AUTHKEY_BYTES = 32  # secrets.token_hex(32): 64 hex digits


def missing_key(topology: Any, method: Any) -> str:
    """Why authkeys cannot be rendered without a key, naming the pillar path and the ext_pillar.

    >>> missing_key("apache", "sha1").split(";")[0]
    'authkeys method sha1 needs a key and none reached this minion: hapair:topologies:apache:cluster:heartbeat:authkeys:key is unset'
    """
    return (f"authkeys method {method} needs a key and none reached this minion: "
            f"hapair:topologies:{topology}:cluster:heartbeat:authkeys:key is unset; set it, or let the "
            f"master generate one per pair with `{EXT_PILLAR_LINE}` in its config (saltutil.sync_pillar on "
            "the master, then saltutil.refresh_pillar on both nodes)")


def needs_generated_key(raw: Any) -> bool:
    """A raw topology (pillar) whose heartbeat authkeys uses md5/sha1 and has no key (absent or
    null): the master's ext_pillar supplies one. Tolerates any shape (the pillar is not validated yet).

    >>> needs_generated_key({"cluster": {"heartbeat": {"authkeys": {"method": "sha1"}}}})
    True
    >>> needs_generated_key({"cluster": {"heartbeat": {"authkeys": {"method": "crc"}}}})
    False
    """
    cluster = raw.get("cluster") if isinstance(raw, Mapping) else None
    hb = cluster.get("heartbeat") if isinstance(cluster, Mapping) else None
    auth = hb.get("authkeys") if isinstance(hb, Mapping) else None
    return isinstance(auth, Mapping) and auth.get("method") in ("md5", "sha1") and auth.get("key") is None


def node_minions(raw: Any) -> list[str]:
    """The minion ids of a raw topology's nodes: each node's ``minion_id``, else its name (the
    rule of ``hapair.topology.for_minion``).

    >>> node_minions({"nodes": {"node1": {}, "node2": {"minion_id": "web-b"}}})
    ['node1', 'web-b']
    """
    nodes = raw.get("nodes") if isinstance(raw, Mapping) else None
    if not isinstance(nodes, Mapping):
        return []
    return [spec.get("minion_id", key) if isinstance(spec, Mapping) else key for key, spec in nodes.items()]


def generated_keys_for(topologies: Mapping[str, Any], minion_id: str) -> list[str]:
    """The topologies whose generated authkeys key ``minion_id`` gets: those needing one
    (:func:`needs_generated_key`) that have ``minion_id`` as a node, with a name that can be a
    directory name (``hapair.fields`` kind ``name``); sorted.

    >>> generated_keys_for({"a": {"nodes": {"n1": {}}, "cluster": {"heartbeat": {"authkeys": {"method": "md5"}}}}}, "n1")
    ['a']
    """
    return sorted(name for name, raw in topologies.items()
                  if isinstance(name, str) and is_name(name) and needs_generated_key(raw)
                  and minion_id in node_minions(raw))


def key_pillar(keys: Mapping[str, str]) -> dict[str, Any]:
    """The ext_pillar's answer: each key at ``hapair:topologies:<t>:cluster:heartbeat:authkeys:key``.

    >>> key_pillar({"a": "k"})
    {'hapair': {'topologies': {'a': {'cluster': {'heartbeat': {'authkeys': {'key': 'k'}}}}}}}
    """
    if not keys:
        return {}
    return {"hapair": {"topologies": {name: {"cluster": {"heartbeat": {"authkeys": {"key": key}}}}
                                      for name, key in sorted(keys.items())}}}


def is_generated_key(text: Any) -> bool:
    """A key as the ext_pillar stores it: 64 lower-case hex digits.

    >>> is_generated_key("ab" * 32), is_generated_key("ab")
    (True, False)
    """
    return (isinstance(text, str) and len(text) == 2 * AUTHKEY_BYTES
            and all(c in "0123456789abcdef" for c in text))




def secrets(topology: Mapping[str, Any]) -> list[str]:
    """The secret values this module renders (for :func:`hapair.secrets.mask`)."""
    key = (_heartbeat(topology).get("authkeys") or {}).get("key")
    return [str(key)] if key else []


def render(topology: Mapping[str, Any], ha_dir: str = HA_DIR, conf_dir: str = CONF_DIR) -> dict[str, dict[str, Any]]:
    """Every file heartbeat needs: ``{path: {"content", "mode", "secret"}}`` for ha.cf, haresources,
    authkeys (0600, secret) and, when a group relocates paths, the drbdlinks script (0755,
    ``<ha_dir>/resource.d/drbdlinks``) and each such group's drbdlinks config (0644).

    >>> sorted(render(seed002))
    ['/etc/ha.d/authkeys', '/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/resource.d/drbdlinks', '/etc/hapair/drbdlinks-www.conf']
    """
    ha_dir = require("path", ha_dir, "ha_dir").rstrip("/")
    files = {
        f"{ha_dir}/ha.cf": {"content": render_ha_cf(topology), "mode": "0644", "secret": False},
        f"{ha_dir}/haresources": {"content": render_haresources(topology, conf_dir), "mode": "0644", "secret": False},
        f"{ha_dir}/authkeys": {"content": render_authkeys(topology), "mode": "0600", "secret": True},
    }
    relocating = [group["name"] for group in _groups(topology) if group.get("relocate")]
    if relocating:
        files[f"{ha_dir}/{DRBDLINKS}"] = {"content": render_drbdlinks_script(), "mode": "0755", "secret": False}
    for name in relocating:
        files[drbdlinks_conf_path(name, conf_dir)] = {"content": render_drbdlinks_conf(topology, name),
                                                      "mode": "0644", "secret": False}
    return files


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
    for name, group in sorted((topology.get("groups") or {}).items()):
        if group.get("node") not in (topology.get("nodes") or {}):
            problems.append(f"groups:{name}: node {group.get('node')!r} is not a node of this topology")
        if group.get("relocate") and not group.get("filesystem"):
            problems.append(f"groups:{name}: relocate needs a filesystem to relocate onto")
    return problems


def group_services(topology: Mapping[str, Any], node: str | None) -> list[str]:
    """The services heartbeat starts on ``node`` (the groups that may run there, in group-name order,
    each service once): the systemd units / init scripts that must not start at boot. Resources
    with ``::`` arguments (``MailTo::root``) are heartbeat scripts, not units, and are left out.

    >>> group_services(seed002, "node02")
    ['apache2']
    """
    found: list[str] = []
    for group in _groups(topology):
        if node is not None and node not in (group.get("nodes") or [group.get("node")]):
            continue
        for service in group.get("services") or []:
            text = _service(service, f"groups:{group.get('name')}:services")
            if "::" not in text and text not in found:
                found.append(text)
    return found


# --------------------------------------------------------------------------- planners

def plan_services_disabled(enabled: Mapping[str, bool], running: Mapping[str, bool] | None = None,
                           heartbeat_running: bool = True) -> list[dict[str, Any]]:
    """The group services to take off the boot (heartbeat starts them): ``enabled`` is
    ``{service: enabled at boot}`` as the service module reads it, ``running`` ``{service: active}``.
    A running service is stopped only while heartbeat does not run on this node (the bootstrap,
    before heartbeat's first start: a service the package started must not serve beside the
    group); once heartbeat runs, it may be serving the group here and is left alone.

    >>> plan_services_disabled({"apache2": True, "exim4": False})
    [{'key': 'apache2', 'old': 'enabled', 'new': 'disabled', 'action': 'disable apache2', 'service': 'apache2'}]
    >>> [s["action"] for s in plan_services_disabled({"apache2": False}, {"apache2": True}, heartbeat_running=False)]
    ['stop apache2']
    """
    steps = [{"key": name, "old": "enabled", "new": "disabled", "action": f"disable {name}", "service": name}
             for name, on in enabled.items() if on]
    if not heartbeat_running:
        steps += [{"key": f"{name}:running", "old": True, "new": False, "action": f"stop {name}", "service": name}
                  for name, active in (running or {}).items() if active]
    return steps


def plan_running(facts: Mapping[str, bool], enable: bool = True) -> list[dict[str, Any]]:
    """Heartbeat enabled at boot (when ``enable``) and running: ``facts`` is ``{"enabled", "running"}``.

    >>> [step["action"] for step in plan_running({"enabled": False, "running": False})]
    ['enable', 'start']
    >>> plan_running({"enabled": False, "running": True}, enable=False)
    []
    """
    steps = []
    if enable and not facts.get("enabled"):
        steps.append({"key": "enabled", "old": bool(facts.get("enabled")), "new": True, "action": "enable"})
    if not facts.get("running"):
        steps.append({"key": "running", "old": False, "new": True, "action": "start"})
    return steps


def standby_set(resources: Any) -> str:
    """hb_standby / hb_takeover's argument, checked: ``all``, ``foreign``, ``local`` or ``failback``.

    >>> standby_set("all")
    'all'
    """
    if resources not in STANDBY_SETS:
        raise RenderError(f"resources: {resources!r} is not one of {', '.join(STANDBY_SETS)}")
    return str(resources)


# --------------------------------------------------------------------------- cl_status parsers

def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_hbstatus(text: str) -> dict[str, bool]:
    """``cl_status hbstatus`` (heartbeat 3.0.6; exit 0 running, 1 stopped):
    ``{"running": bool, "connected": bool}``. ``connected`` is False when heartbeat runs but
    refuses cl_status (an API authorisation problem: no node or resource status then).

    >>> parse_hbstatus("Heartbeat is running on this machine.")
    {'running': True, 'connected': True}
    >>> parse_hbstatus("Heartbeat is stopped on this machine.")
    {'running': False, 'connected': False}
    """
    lines = _lines(text)
    if not lines:
        raise ParseError("cl_status hbstatus", 0, "", "no output")
    first = lines[0]
    if first == HBSTATUS_RUNNING:
        return {"running": True, "connected": True}
    if first == HBSTATUS_STOPPED:
        return {"running": False, "connected": False}
    if first == HBSTATUS_REFUSED:
        return {"running": True, "connected": False}
    raise ParseError("cl_status hbstatus", 1, first[:200], "not a heartbeat status line")


def parse_listnodes(text: str) -> list[str]:
    r"""``cl_status listnodes``: one node name per line (ha.cf's ``node`` names, ping nodes too).
    Empty output (heartbeat stopped: cl_status exits 1 and prints nothing) is ``[]``.

    >>> parse_listnodes("node02\nnode01\n")
    ['node02', 'node01']
    """
    nodes = []
    for number, line in enumerate((text or "").splitlines(), 1):
        name = line.strip()
        if not name:
            continue
        if not is_hostname(name) and not _is_ip(name):
            raise ParseError("cl_status listnodes", number, name[:200], "not a node name")
        nodes.append(name)
    return nodes


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _one_word(tool: str, text: str, words: Iterable[str]) -> str:
    lines = _lines(text)
    if len(lines) != 1:
        raise ParseError(tool, len(lines), lines[-1][:200] if lines else "", "expected one status word")
    if lines[0] not in words:
        raise ParseError(tool, 1, lines[0][:200], f"not one of {', '.join(words)}")
    return lines[0]


def parse_nodestatus(text: str) -> dict[str, str]:
    r"""``cl_status nodestatus <node>``: ``{"status": "init|up|active|dead|ping"}`` (exit 0 for
    active, up and ping, 1 for the others).

    >>> parse_nodestatus("active\n")
    {'status': 'active'}
    """
    return {"status": _one_word("cl_status nodestatus", text, NODE_STATES)}


def parse_rscstatus(text: str) -> dict[str, str]:
    r"""``cl_status rscstatus``: ``{"resources": "all|local|foreign|none|transition"}``: the groups
    this node holds (``local``: its own, ``foreign``: the peer's, ``transition``: a takeover or
    release is running).

    >>> parse_rscstatus("local\n")
    {'resources': 'local'}
    """
    return {"resources": _one_word("cl_status rscstatus", text, RESOURCE_STATES)}


def summarise(hbstatus: Mapping[str, bool], nodes: Mapping[str, str], resources: str | None) -> dict[str, Any]:
    """``heartbeat.status``'s answer: ``{"running": bool, "nodes": {hostname: status},
    "resources": "all|local|foreign|none|transition" | None, "holds": bool}``; ``holds`` is True
    when this node holds its own groups (``all`` or ``local``).

    >>> summarise({"running": True, "connected": True}, {"node01": "active"}, "local")["holds"]
    True
    """
    return {"running": bool(hbstatus.get("running")), "nodes": dict(nodes), "resources": resources,
            "holds": resources in HOLDS}


#: ``run(argv) -> (exit code, stdout, stderr)``: the module's adapter.run, the grains' subprocess
Runner = Callable[[list[str]], "tuple[int, str, str]"]


def read_status(run: Runner, cl_status: str = "cl_status") -> dict[str, Any]:
    """Heartbeat's view from this node through ``run``: ``cl_status hbstatus``, then (when it
    answers) ``listnodes``, ``nodestatus <node>`` for each, ``rscstatus``; :func:`summarise`'s shape.
    Exit 1 is heartbeat's "normal failure" (stopped, a dead node); a stop midway reads as stopped;
    any other exit raises HapairError. One owner for ``heartbeat.status`` and the heartbeat grains.

    >>> answers = {"hbstatus": (1, HBSTATUS_STOPPED, "")}
    >>> read_status(lambda argv: answers[argv[1]])["running"]
    False
    """
    def call(*args: str) -> tuple[int, str]:
        code, out, err = run([cl_status, *args])
        if code not in (0, 1):
            raise HapairError(f"cl_status {' '.join(args)} exited {code}: {(err or out or '').strip()[:200]}")
        return code, out or ""

    stopped = summarise({"running": False}, {}, None)
    _code, out = call("hbstatus")
    hb = parse_hbstatus(out)
    if not hb["connected"]:
        return summarise(hb, {}, None)
    code, out = call("listnodes")
    if code != 0:  # stopped since hbstatus
        return stopped
    nodes = {}
    for node in parse_listnodes(out):
        _code, answer = call("nodestatus", node)
        if not answer.strip():  # exit 1 and no word: heartbeat stopped since listnodes
            return stopped
        nodes[node] = parse_nodestatus(answer)["status"]
    code, out = call("rscstatus")
    return summarise(hb, nodes, parse_rscstatus(out)["resources"] if code == 0 else None)


# --------------------------------------------------------------------------- the VIP's interface

def parse_ip_addr(text: str) -> dict[str, list[str]]:
    """``ip -j -4 addr show [dev <iface>]`` (iproute2 6.1): ``{ifname: ["192.0.2.2/24", ...]}``,
    each interface's IPv4 addresses (``local``/``prefixlen`` of its ``addr_info``) in order. An
    interface without IPv4 is not listed (``ip -4`` prints ``[]`` for it). ParseError on anything
    that is not that JSON.

    >>> parse_ip_addr('[{"ifindex":4,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]}]')
    {'eth0': ['192.0.2.2/24']}
    """
    tool = "ip -j -4 addr show"
    try:
        data = json.loads(text)
    except (TypeError, ValueError, RecursionError) as err:
        first = (text or "").strip().splitlines()[:1]
        raise ParseError(tool, getattr(err, "lineno", 0), (first[0] if first else "")[:200], f"not JSON: {err}") from None
    if not isinstance(data, list):
        raise ParseError(tool, 1, str(data)[:200], "expected a JSON list of interfaces")
    out: dict[str, list[str]] = {}
    for index, link in enumerate(data):
        if not isinstance(link, dict):
            raise ParseError(tool, 1, str(link)[:200], f"interface {index} is not an object")
        if not link:  # older iproute2 prints {} for an interface -4 filtered out
            continue
        name = link.get("ifname")
        infos = link.get("addr_info", [])
        if not isinstance(name, str) or not name or not isinstance(infos, list):
            raise ParseError(tool, 1, str(link)[:200], f"interface {index} has no ifname or addr_info list")
        found = out.setdefault(name, [])
        for info in infos:
            if not isinstance(info, dict) or info.get("family", "inet") != "inet":
                continue
            try:
                found.append(str(ipaddress.IPv4Interface(f"{info['local']}/{int(info['prefixlen'])}")))
            except (KeyError, TypeError, ValueError, OverflowError):
                raise ParseError(tool, 1, str(info)[:200], f"{name}: not an IPv4 address with a prefix") from None
    return {name: addrs for name, addrs in out.items() if addrs}


def _vip_groups(topology: Mapping[str, Any], node: str | None) -> list[Mapping[str, Any]]:
    return [group for group in _groups(topology) if group.get("ip")
            and (node is None or node in (group.get("nodes") or [group.get("node")]))]


def vip_interfaces(topology: Mapping[str, Any], node: str | None) -> list[str]:
    """The interfaces whose IPv4 addresses :func:`vip_problems` reads on ``node`` (None: every
    group's): the ``ip.interface`` of each group with a VIP that may run there, each once, checked.

    >>> vip_interfaces(seed002, "node01")
    ['eth0']
    """
    found: list[str] = []
    for group in _vip_groups(topology, node):
        name = require("interface", (group["ip"] or {}).get("interface"), f"groups:{group.get('name')}:ip:interface")
        if name not in found:
            found.append(name)
    return found


def vip_problems(topology: Mapping[str, Any], node: str | None, ip_json: Mapping[str, str | None]) -> list[str]:
    """Why a group's VIP cannot live on ``node``: its ``ip.interface`` does not exist there
    (``ip_json[iface]`` is None) or holds no IPv4 address, other than the VIP itself, in the VIP's
    network (``address/cidr``). ``ip_json``: ``{iface: stdout of ip -j -4 addr show dev <iface>}``
    for each of :func:`vip_interfaces`. ``[]`` when every VIP fits.

    >>> vip_problems(seed002, "node01", {"eth0": '[]'})[0].split(":", 3)[3].strip()[:40]
    '192.0.2.10/24 is outside every IPv4 netw'
    """
    problems = []
    where = f" on {node}" if node else ""
    for group in _vip_groups(topology, node):
        ip = group["ip"]
        what = f"groups:{group.get('name')}:ip"
        iface = require("interface", ip.get("interface"), f"{what}:interface")
        try:
            vip = ipaddress.IPv4Interface(f"{ip.get('address')}/{int(ip.get('cidr'))}")
        except (TypeError, ValueError):
            problems.append(f"{what}: {ip.get('address')!r}/{ip.get('cidr')!r} is not an IPv4 address/prefix")
            continue
        if iface not in ip_json:
            raise RenderError(f"{what}: interface {iface}'s addresses were not read")
        text = ip_json[iface]
        if text is None:
            problems.append(f"{what}: interface {iface} does not exist{where}: IPaddr2 cannot add {vip} to it")
            continue
        mine = [ipaddress.IPv4Interface(a) for a in parse_ip_addr(text).get(iface, [])]
        if not any(a.ip in vip.network and a.ip != vip.ip for a in mine):
            held = ", ".join(str(a) for a in mine) or "no IPv4 address"
            problems.append(f"{what}: {vip} is outside every IPv4 network of {iface}{where} ({held}): "
                            f"no address of {vip.network} there, the peer and clients could not reach it")
    return problems


DRBDLINKS_SCRIPT = r"""#!/bin/sh
# Managed by hapair (Salt): drbdlinks, a heartbeat v1 resource script.
#
#   drbdlinks [config] start|stop|status      (config: /etc/drbdlinks.conf)
#
# The config names the DRBD filesystem's mountpoint and the paths that live on it:
#   mountpoint('/drbd')
#   link('/etc/apache2')                       # target: the mountpoint + the path
#   link('/var/www', '/drbd/var/www')          # an explicit target
# Lines starting with '#' and blank lines are ignored; anything else is refused.
#
# start   for each link: a path that is not already the right symlink is renamed to
#         <path>.drbdlinks (never deleted), then linked to its target. Every link is
#         checked first (target present, no backup in the way): a refusal changes nothing.
# stop    removes only symlinks that point at their target and renames <path>.drbdlinks back.
# status  prints "running" (exit 0) when every link is in place, else "stopped" (exit 3),
#         like drbddisk: heartbeat reads the word, the exit code follows the LSB.
# Nothing is ever deleted but the symlinks this script made; running an action twice is a no-op.

CONF=/etc/drbdlinks.conf
case $# in
  1) ACTION=$1 ;;
  2) CONF=$1; ACTION=$2 ;;
  *) echo "usage: drbdlinks [config] start|stop|status" >&2; exit 2 ;;
esac
SUFFIX=.drbdlinks

die() { echo "drbdlinks: $*" >&2; exit 1; }

# the argument of mountpoint('...') or the arguments of link('...'[, '...']) on one line
quoted="['\"]\([^'\"]*\)['\"]"

checked_path() {  # $1 what, $2 path: absolute, no '..' component, not '/'
  case $2 in
    /*) ;;
    *) echo "drbdlinks: $CONF: $1 '$2' is not an absolute path" >&2; exit 2 ;;
  esac
  case /$2/ in
    */../*|*/./*) echo "drbdlinks: $CONF: $1 '$2' has a '.' or '..' component" >&2; exit 2 ;;
  esac
  [ "$2" != / ] || { echo "drbdlinks: $CONF: $1 may not be /" >&2; exit 2; }
}

# each_link FUNC: call FUNC path target for every link(...) of the config, in order
each_link() {
  mount=
  lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=$(printf '%s\n' "$line" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    case $line in
      ''|'#'*) continue ;;
    esac
    value=$(printf '%s\n' "$line" | sed -n "s/^mountpoint([[:space:]]*$quoted[[:space:]]*)\$/\\1/p")
    if [ -n "$value" ]; then
      checked_path mountpoint "$value"
      mount=${value%/}
      continue
    fi
    path=$(printf '%s\n' "$line" | sed -n "s/^link([[:space:]]*$quoted[[:space:]]*\(,[[:space:]]*$quoted[[:space:]]*\)\{0,1\})\$/\\1/p")
    if [ -z "$path" ]; then
      echo "drbdlinks: $CONF:$lineno: cannot read: $line" >&2
      exit 2
    fi
    target=$(printf '%s\n' "$line" | sed -n "s/^link([[:space:]]*$quoted[[:space:]]*,[[:space:]]*$quoted[[:space:]]*)\$/\\2/p")
    checked_path link "$path"
    path=${path%/}
    if [ -z "$target" ]; then
      [ -n "$mount" ] || { echo "drbdlinks: $CONF:$lineno: link('$path') before any mountpoint(...)" >&2; exit 2; }
      target=$mount$path
    fi
    checked_path target "$target"
    "$1" "$path" "${target%/}" || exit $?
  done < "$CONF"
}

in_place() {  # path is a symlink to target
  [ -L "$1" ] && [ "$(readlink -- "$1")" = "$2" ]
}

exists() {  # anything at the path, a dangling symlink included
  [ -e "$1" ] || [ -L "$1" ]
}

check_start() {
  in_place "$1" "$2" && return 0
  [ -e "$2" ] || die "refusing $1: its target $2 does not exist (is the filesystem mounted?)"
  if exists "$1" && exists "$1$SUFFIX"; then
    die "refusing $1: it is not a link to $2 and $1$SUFFIX exists already (move one aside by hand)"
  fi
  [ -d "$(dirname -- "$1")" ] || die "refusing $1: its directory does not exist"
}

do_start() {
  in_place "$1" "$2" && return 0
  if exists "$1"; then
    mv -- "$1" "$1$SUFFIX" || die "cannot rename $1 to $1$SUFFIX"
  fi
  ln -s -- "$2" "$1" || die "cannot link $1 to $2"
}

do_stop() {
  if in_place "$1" "$2"; then
    rm -- "$1" || die "cannot remove the link $1"
  fi
  if exists "$1$SUFFIX"; then
    if exists "$1"; then
      echo "drbdlinks: leaving $1$SUFFIX: $1 exists and is not a link to $2" >&2
    else
      mv -- "$1$SUFFIX" "$1" || die "cannot rename $1$SUFFIX back to $1"
    fi
  fi
  return 0
}

ALL_IN_PLACE=yes
do_status() {
  in_place "$1" "$2" || ALL_IN_PLACE=no
  return 0
}

[ -r "$CONF" ] || { echo "drbdlinks: cannot read $CONF" >&2; exit 2; }
case $ACTION in
  start) each_link check_start; each_link do_start ;;
  stop) each_link do_stop ;;
  status)
    each_link do_status
    if [ "$ALL_IN_PLACE" = yes ]; then echo running; exit 0; fi
    echo stopped
    exit 3 ;;
  *) echo "usage: drbdlinks [config] start|stop|status" >&2; exit 2 ;;
esac
exit 0
"""
