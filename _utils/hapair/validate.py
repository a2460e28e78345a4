"""Validation of a pillar topology (``hapair:topologies:<name>``): every error at once.

``validate(raw, name)`` never raises, whatever ``raw`` holds: wrong types anywhere become
``TopologyError`` entries, each with its full pillar path and a hint.

>>> [str(e) for e in validate({"nodes": {"a": {"address": "2.2.2.300"}}}, "web")][:1]
['hapair:topologies:web:nodes: needs exactly two nodes, found 1 (add the second node)']

The schema (keys, enums, defaults) lives here as plain constants; ``hapair.topology`` uses them
to fill defaults, and ``docs/pillar.md`` documents them.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from typing import Any, Callable, Iterable, Iterator

from hapair import drbd_state, fencing, fields
from hapair.drbd_render import HANDLER_KINDS, HANDLER_PATH
from hapair.errors import TopologyError

ROOT = "hapair:topologies"

TOPOLOGY_KEYS = ("nodes", "drbd", "filesystems", "cluster", "groups", "nfs", "lvm", "partitions", "unison", "tuning")
NODE_KEYS = ("hostname", "minion_id", "address", "node_id", "cluster_address", "cluster_node_id")
DRBD_KEYS = ("dialect", "global", "common", "resources")
SECTIONS = ("net", "disk", "startup", "options", "handlers")
RESOURCE_KEYS = (
    "minor", "device", "port", "disk", "disk_section", "meta_disk", "protocol", "mode", "primary",
    "initial_primary", "initial_sync", "after_sb_0pri", "after_sb_1pri", "after_sb_2pri",
    "cram_hmac_alg", "shared_secret", "net", "startup", "options", "handlers", "nodes", "remediation",
)
RESOURCE_NODE_KEYS = ("minor", "device", "disk", "meta_disk", "address", "port")
REMEDIATION_DEFAULTS = drbd_state.REMEDIATION_DEFAULTS  # one owner; topology.py fills from it
FS_KEYS = (
    "resource", "device", "type", "mkfs_type", "feature_level", "slots", "label", "lock_table",
    "mkfs_options", "mountpoint", "mount_options", "mount_on", "format_on",
)
CLUSTER_KEYS = ("stack", "name", "o2cb", "cman", "corosync", "heartbeat")

DIALECTS = ("8.4", "9", "auto")
PROTOCOLS = ("A", "B", "C")
MODES = ("single-primary", "dual-primary", "crossed")
INITIAL_SYNC = ("full", "skip")
AFTER_SB_0PRI = (
    "disconnect", "discard-younger-primary", "discard-older-primary", "discard-zero-changes",
    "discard-least-changes",
)  # plus discard-node-<node>
AFTER_SB_1PRI = ("disconnect", "consensus", "violently-as0p", "discard-secondary", "call-pri-lost-after-sb")
AFTER_SB_2PRI = ("disconnect", "violently-as0p", "call-pri-lost-after-sb")
CRAM_HMAC_ALGS = ("sha1", "sha224", "sha256", "sha384", "sha512", "md5")
SPLIT_BRAIN = ("manual", "discard_zero_changes", "discard_least_changes", "discard_younger_primary", "victim")
FS_TYPES = ("ocfs2", "gfs2", "ext4", "ext3", "xfs", "btrfs")
CLUSTER_FS = ("ocfs2", "gfs2")
OCFS2_MKFS_TYPES = ("mail", "datafiles", "vmstore")
OCFS2_FEATURE_LEVELS = ("default", "max-compat", "max-features")
STACKS = ("o2cb", "cman", "corosync", "heartbeat", "none")
FS_STACKS = {"ocfs2": ("o2cb",), "gfs2": ("cman", "corosync")}

O2CB_DEFAULTS: dict[str, Any] = {
    "port": 7777, "heartbeat_threshold": 31, "idle_timeout_ms": 30000, "keepalive_delay_ms": 2000,
    "reconnect_delay_ms": 2000,
}
CMAN_KEYS = (
    "config_version", "cluster_id", "two_node", "expected_votes", "dlm", "gfs_controld",
    "fence_devices", "nodes", "failover_domains", "vms", "services", "attributes", "totem", "fence_daemon",
    "rm",
)
CMAN_ATTR_SECTIONS = ("dlm", "gfs_controld", "attributes", "totem", "fence_daemon", "rm")
CMAN_NODE_KEYS = ("votes", "fence")
FAILOVER_DOMAIN_KEYS = ("restricted", "ordered", "nofailback", "nodes")
COROSYNC_DEFAULTS: dict[str, Any] = {
    "transport": "knet", "two_node": True, "wait_for_all": True, "token": 3000, "consensus": None,
    "crypto_cipher": "none", "crypto_hash": "none", "totem": {}, "quorum": {}, "logging": {},
    # dlm_controld's /etc/dlm/dlm.conf (key=value); enable_fencing defaults to true, dlm_controld's own
    # default: a two-node cluster with no fence method must set it false or the first GFS2 mount blocks
    "dlm": {},
    # base64 of /etc/corosync/authkey (SECRET), used when crypto_cipher/crypto_hash are not none
    "authkey": None,
    # dlm_controld's fence devices and each node's methods (cman's shape; hapair.fencing checks them)
    "fencing": None,
}
COROSYNC_TRANSPORTS = ("knet", "udpu", "udp")
COROSYNC_CIPHERS = ("none", "aes256", "aes192", "aes128")
COROSYNC_HASHES = ("none", "md5", "sha1", "sha256", "sha384", "sha512")
HEARTBEAT_DEFAULTS: dict[str, Any] = {
    "udpport": 694, "keepalive": 2, "deadtime": 30, "warntime": 10, "initdead": 120,
    "auto_failback": "off", "logfacility": "local0", "logfile": None, "debugfile": None, "debug": 0,
    "media": [], "authkeys": None,
}
HEARTBEAT_MEDIA = ("bcast", "ucast", "mcast")
HEARTBEAT_MEDIA_KEYS = ("type", "interface", "addresses", "group", "port", "ttl")
HEARTBEAT_AUTH = ("crc", "md5", "sha1")
GROUP_KEYS = ("node", "resource", "filesystem", "ip", "relocate", "services", "canary", "containers")
GROUP_CONTAINER_KEYS = ("template", "backing", "link")
CONTAINER_BACKINGS = ("btrfs",)  # lxc-create -B: snapshots and clones are subvolumes (seed 003)
GROUP_CANARY_KEYS = ("file", "url_path", "port")
GROUP_IP_KEYS = ("address", "cidr", "interface")
GROUP_STACKS = ("heartbeat", "none")  # the engines that run service groups: heartbeat, or hapair.failover
# what each engine can start in a group (stack none: hapair's runner, on the operator's command)
GROUP_PARTS_OF = {"heartbeat": ("ip", "relocate", "services", "canary"), "none": ("containers",)}
# relocate: whole system trees a group can never take over (a path under them is fine)
RELOCATE_REFUSED = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin",
                    "/sys", "/tmp", "/usr", "/var")
AUTO_FAILBACK = ("on", "off", "legacy")
NFS_EXPORT_KEYS = ("path", "clients", "options")
LVM_VG_KEYS = ("pvs", "lvs")
LVM_LV_KEYS = ("size", "filesystem", "mountpoint", "mount_options")
LV_FS_TYPES = ("ext4", "ext3", "xfs")  # an unreplicated LV's own filesystem (hapair.lvm.LV_FS_TYPES)
PARTITION_KEYS = ("table", "partition", "nodes")
PARTITION_TABLES = ("msdos", "gpt")  # parted's label names (hapair.partition.TABLES)
SECRET_ATTRS = ("passwd", "password", "snmp_priv_passwd", "community")  # cman fence attributes
# Options that have a first-class resource key (and must not hide in a free-form section).
RESERVED_NET = {
    "protocol": "use the resource key `protocol`",
    "cram-hmac-alg": "use the resource key `cram_hmac_alg`",
    "shared-secret": "use the resource key `shared_secret` (hapair masks it)",
    "after-sb-0pri": "use the resource key `after_sb_0pri`",
    "after-sb-1pri": "use the resource key `after_sb_1pri`",
    "after-sb-2pri": "use the resource key `after_sb_2pri`",
    "allow-two-primaries": "use `mode: dual-primary`",
}
RESERVED_COMMON_NET = {k: RESERVED_NET[k] for k in ("shared-secret", "allow-two-primaries")}

# every pattern here is used with fullmatch: a trailing newline never passes
_O2CB_NAME_RE = re.compile(r"[A-Za-z0-9_]{1,16}")
_LOCK_PART_RE = re.compile(r"[A-Za-z0-9_-]+")
_DRBD_DEV_RE = re.compile(r"/dev/drbd(\d+)")
_LV_SIZE_RE = re.compile(r"(\d+(\.\d+)?[bBsSkKmMgGtTpPeE]?|\d{1,3}%(FREE|VG|PVS))")
_VG_RE = re.compile(r"[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}")  # lvm: at most 127 characters
MAX_MINOR = (1 << 20) - 1
# drbdsetup's {yes|no} options (`drbdsetup help disk-options|net-options|resource-options|new-peer`,
# drbd-utils 9.22, and drbdsetup-84), plus startup's wait-after-sb. drbdadm reads `yes`/`no` as
# keywords: any other option given yes/no, or one of these given on/true/false, is refused.
DRBD_FLAGS = frozenset((
    "al-updates", "allow-remote-read", "allow-two-primaries", "always-asbp", "auto-promote", "bitmap",
    "csums-after-crash-only", "disable-write-same", "discard-zeroes-if-aligned", "disk-barrier", "disk-drain",
    "disk-flushes", "md-flushes", "tcp-cork", "use-rle", "wait-after-sb",
))
# options drbdadm takes only bare (`stacked-timeouts;`): hapair writes every option with a value
DRBD_BARE_FLAGS = frozenset(("stacked-timeouts", "disable-ip-verification", "udev-always-use-vnr"))
DRBD_YES_NO_ASK = frozenset(("usage-count",))
# the longest command hapair's handler hook writes before an operator's own (drbd_render.hooked_handlers)
_HANDLER_PREFIX = max(len(f"{HANDLER_PATH} {kind} ") for kind in (*HANDLER_KINDS, "fence-peer")) + len(" -- ")
DRBD_SECRET_MAX = 63  # drbdsetup: "shared-secret ... Value is too long. max len: 63"

Path = tuple


def is_int(value: Any) -> bool:
    """True for a real int (bools are not ints here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def ip_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse an IPv4/IPv6 address string; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def dialect_of(value: Any) -> str | None:
    """``8.4`` (YAML float), ``"8.4"``, ``9``, ``"9"``, ``"auto"`` -> the dialect string, else None."""
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, (int, float, str)) else None
    return text if text in DIALECTS else None


def secret_text(value: Any) -> str | None:
    """A secret given as str (or an int YAML made of digits) -> str; anything else None."""
    if isinstance(value, str):
        return value
    if is_int(value):
        return str(value)
    return None


def drbd_option(value: Any) -> Any:
    """Free-form DRBD option values: YAML booleans become ``yes``/``no``."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return value


class _Checker:
    """Collects errors for one topology; every helper tolerates any input type."""

    def __init__(self, name: str):
        self.base = f"{ROOT}:{name}"
        self.errors: list[TopologyError] = []

    def path(self, parts: Iterable[Any]) -> str:
        return ":".join([self.base, *(str(p) for p in parts)])

    def add(self, parts: Iterable[Any], message: str, hint: str = "") -> None:
        self.errors.append(TopologyError(self.path(parts), message, hint))

    # -- shapes ---------------------------------------------------------------------------------
    def mapping(self, value: Any, parts: Path, required: bool = False, what: str = "a mapping") -> dict | None:
        if value is None:
            if required:
                self.add(parts, "is required", f"set it to {what}")
            return None
        if not isinstance(value, dict):
            self.add(parts, f"must be {what}, not {type(value).__name__}", f"write it as {what}")
            return None
        bad = [k for k in value if not isinstance(k, str)]
        for key in bad:
            self.add((*parts, key), f"key {key!r} must be a string", "quote the key in YAML")
        return {k: v for k, v in value.items() if isinstance(k, str)}

    def keys(self, value: dict, allowed: Iterable[str], parts: Path) -> None:
        allowed = list(allowed)
        for key in value:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key.replace("-", "_"), allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else "allowed: " + ", ".join(allowed)
            self.add((*parts, key), "unknown key", hint)

    def entries(self, value: Any, parts: Path, allowed: Iterable[str], what: str = "a mapping",
                key: str | Callable[[str, Path], bool] | None = None, skip_bad_keys: bool = True,
                required: bool = True) -> Iterator[tuple[str, Path, dict]]:
        """Each ``(name, path, entry)`` of a section "name -> a mapping with known keys" (``value``,
        a mapping already checked): ``key`` checks the name (a string: a ``name`` field called so,
        ``"node name"``; a callable: ``key(name, path)`` adding its own errors, True when good),
        and a bad name's entry is skipped when ``skip_bad_keys``; each entry must be ``what``
        (``required``: a null one is an error too) with only the ``allowed`` keys. An entry that is
        not a mapping is not yielded. The errors come in the order the loop meets them.
        """
        for name, spec in value.items():
            where = (*parts, name)
            if isinstance(key, str):
                good = self.name(name, where, key) is not None
            else:
                good = key is None or key(name, where)
            if not good and skip_bad_keys:
                continue
            entry = self.mapping(spec, where, required=required, what=what)
            if entry is None:
                continue
            self.keys(entry, allowed, where)
            yield name, where, entry

    def string(self, value: Any, parts: Path, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.add(parts, "is required", "set it to a non-empty string")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(parts, f"must be a non-empty string, not {value!r}", "quote it in YAML")
            return None
        return value

    def field(self, kind: str, value: Any, parts: Path, what: str = "", required: bool = False,
              secret: bool = False) -> str | None:
        """A string that passes ``hapair.fields.CHECKS[kind]`` (full match), else an error."""
        text = self.string(value, parts, required)
        if text is None:
            return None
        check, rule = fields.CHECKS[kind]
        if not check(text):
            shown = "the value" if secret else _show(text)
            self.add(parts, f"{shown} is not a valid {what or kind.replace('_', ' ')}", f"use {rule}")
            return None
        return text

    def name(self, value: Any, parts: Path, what: str) -> str | None:
        return self.field("name", value, parts, what)

    def integer(self, value: Any, parts: Path, low: int, high: int | None = None, required: bool = False) -> int | None:
        if value is None:
            if required:
                self.add(parts, "is required", f"set an integer >= {low}")
            return None
        if not is_int(value):
            self.add(parts, f"must be an integer, not {value!r}", "write a plain number without quotes")
            return None
        if value < low or (high is not None and value > high):
            span = f"{low}..{high}" if high is not None else f">= {low}"
            self.add(parts, f"{value} is out of range {span}", f"use a value in {span}")
            return None
        return value

    def boolean(self, value: Any, parts: Path) -> bool | None:
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(parts, f"must be true or false, not {value!r}", "write true or false")
            return None
        return value

    def enum(self, value: Any, parts: Path, choices: Iterable[str], required: bool = False) -> str | None:
        choices = list(choices)
        if value is None:
            if required:
                self.add(parts, "is required", "one of: " + ", ".join(choices))
            return None
        if value not in choices or not isinstance(value, str):
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`?" if close else "one of: " + ", ".join(choices)
            self.add(parts, f"{value!r} is not allowed", hint)
            return None
        return value

    def abspath(self, value: Any, parts: Path, required: bool = False, kind: str = "path") -> str | None:
        text = self.string(value, parts, required)
        if text is not None and not fields.CHECKS[kind][0](text):
            what = "a valid path" if text.startswith("/") else "an absolute path"
            self.add(parts, f"{_show(text)} is not {what}",
                     f"write the full path, e.g. /dev/sdb1 ({fields.CHECKS[kind][1]})")
            return None
        return text

    def address(self, value: Any, parts: Path, required: bool = False) -> str | None:
        if value is None:
            if required:
                self.add(parts, "is required", "set an IPv4 or IPv6 address")
            return None
        if ip_address(value) is None or "%" in value:
            self.add(parts, f"{_show(value)} is not a valid IPv4 or IPv6 address",
                     "e.g. 10.0.0.1 or fd00::1 (no %scope)")
            return None
        return str(ip_address(value))

    def str_list(self, value: Any, parts: Path, kind: str = "token", what: str = "") -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.add(parts, f"must be a list of strings, not {type(value).__name__}", "write a YAML list")
            return None
        good = []
        for index, item in enumerate(value):
            if self.field(kind, item, (*parts, index), what) is not None:
                good.append(item)
        return good if len(good) == len(value) else None

    def scalars(self, value: Any, parts: Path, reserved: dict[str, str] | None = None,
                key_kind: str = "identifier", value_kind: str = "token") -> dict | None:
        """A free-form option section: ``key_kind`` keys, scalar values (strings: ``value_kind``)."""
        section = self.mapping(value, parts)
        if section is None:
            return None
        for key, item in section.items():
            if not fields.CHECKS[key_kind][0](key):
                self.add((*parts, key), f"{_show(key)} is not a valid option name", f"use {fields.CHECKS[key_kind][1]}")
            elif reserved and key in reserved:
                self.add((*parts, key), "is set by hapair from a first-class key", reserved[key])
            elif item is None or isinstance(item, (dict, list)) or not isinstance(item, (str, int, float, bool)):
                self.add((*parts, key), f"must be a single value, not {_show(item)}", "write a string or a number")
            elif isinstance(item, str):
                self.field(value_kind, item, (*parts, key), "option value")
        return section

    def drbd_section(self, value: Any, parts: Path, section: str,
                     reserved: dict[str, str] | None = None) -> dict | None:
        """A free-form DRBD section: keys drbdadm can read, values it accepts for that kind of option."""
        options = self.mapping(value, parts)
        if options is None:
            return None
        for key, item in options.items():
            where = (*parts, key)
            if not fields.is_drbd_key(key):
                self.add(where, f"{_show(key)} is not a DRBD option name", f"use {fields.CHECKS['drbd_key'][1]}")
            elif reserved and key in reserved:
                self.add(where, "is set by hapair from a first-class key", reserved[key])
            elif item is None or isinstance(item, (dict, list)) or not isinstance(item, (str, int, bool)):
                self.add(where, f"must be a single value, not {_show(item)}", "write a word, an integer or true/false")
            elif section == "handlers":
                limit = fields.DRBD_STRING_MAX - _HANDLER_PREFIX - len(self.base.rsplit(":", 1)[-1])
                if not isinstance(item, str) or not fields.is_text(item):
                    self.add(where, "must be a command on one line", "a string without control characters")
                elif len(item.encode()) + item.count('"') + item.count("\\") > limit:  # quoted by the renderer
                    self.add(where, f"is {len(item.encode())} bytes; drbdadm reads at most {limit} here",
                             "move the command into a script and name the script")
            elif key in DRBD_BARE_FLAGS:
                self.add(where, "drbdadm takes this option only without a value, which hapair never writes",
                         "drop it")
            elif key in DRBD_FLAGS:
                if item not in (True, False, "yes", "no") or is_int(item):
                    self.add(where, f"{_show(item)} is not allowed for a yes/no option", "write true or false")
            elif isinstance(item, bool) or item in ("yes", "no"):
                if key not in DRBD_YES_NO_ASK:
                    self.add(where, f"is not a yes/no option; drbdadm refuses {drbd_option(item)!r} here",
                             "write the option's own value (see drbd.conf(5))")
            elif isinstance(item, str):
                self.field("drbd_word", item, where, "DRBD option value")
        return options


def _show(value: Any) -> str:
    """``repr`` of a refused value, cut to 60 characters (a hostile value may be long)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def prune(value: Any) -> Any:
    """Drop mapping entries whose value is null, recursively: ``key: ~`` means "not set".

    >>> prune({"a": None, "b": [{"c": None}, None]})
    {'b': [{}, None]}
    """
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def validate(raw: Any, name: Any) -> list[TopologyError]:
    """Return every problem in the pillar topology ``raw`` named ``name`` (empty list: valid).

    Never raises. Each error carries its full path ``hapair:topologies:<name>:...`` and a hint.
    A key set to null counts as not set (see ``prune``).
    """
    checker = _Checker(str(name))
    try:
        _validate(checker, prune(raw), name)
    except Exception as exc:  # a validator bug must still not escape as a crash
        checker.add((), f"internal validation error ({type(exc).__name__})", "please report this")
    unique: list[TopologyError] = []
    for error in checker.errors:
        if error not in unique:
            unique.append(error)
    return unique


def _validate(c: _Checker, raw: Any, name: Any) -> None:
    if not fields.is_topology(name):
        c.add((), f"topology name {_show(name)} is not valid", f"use {fields.CHECKS['topology'][1]}")
    topo = c.mapping(raw, (), required=True)
    if topo is None:
        return
    c.keys(topo, TOPOLOGY_KEYS, ())
    nodes = _nodes(c, topo.get("nodes"))
    resources = _drbd(c, topo.get("drbd"), nodes)
    cluster = _cluster(c, topo.get("cluster"), nodes, name)
    filesystems = _filesystems(c, topo.get("filesystems"), nodes, resources, cluster)
    _cross_resources(c, resources, filesystems, nodes)
    _stack_sections(c, topo.get("cluster"), cluster, nodes, resources, filesystems)
    _groups(c, topo.get("groups"), nodes, resources, filesystems, cluster, topo)
    _nfs(c, topo.get("nfs"), _raw_mountpoints(topo))
    _lvm(c, topo.get("lvm"), topo, resources)
    _mkfs_type_sizes(c, topo, resources)
    _partitions(c, topo.get("partitions"), nodes)
    _unison(c, topo.get("unison"), nodes)
    _tuning(c, topo.get("tuning"))
    c.errors += fencing.errors(topo, c.base)  # cluster:corosync:fencing (stack corosync only)


# -- nodes ------------------------------------------------------------------------------------------
def _nodes(c: _Checker, value: Any) -> dict[str, dict]:
    """Returns {node: {hostname, minion_id, address, node_id?, cluster_node_id?}} of usable nodes."""
    nodes = c.mapping(value, ("nodes",), required=True, what="a mapping of two nodes")
    if nodes is None:
        return {}
    if len(nodes) != 2:
        hint = "add the second node" if len(nodes) < 2 else "hapair pairs exactly two nodes; split the topology"
        c.add(("nodes",), f"needs exactly two nodes, found {len(nodes)}", hint)
    good: dict[str, dict] = {}
    for key, parts, node in c.entries(nodes, ("nodes",), NODE_KEYS, "a mapping with at least `address`",
                                      key="node name"):
        info = {
            "hostname": c.field("hostname", node.get("hostname", key), (*parts, "hostname")),
            "minion_id": c.field("minion_id", node.get("minion_id", key), (*parts, "minion_id"), "minion id"),
            "address": c.address(node.get("address"), (*parts, "address"), required=True),
            "cluster_address": c.address(node.get("cluster_address"), (*parts, "cluster_address")),
            "node_id": c.integer(node.get("node_id"), (*parts, "node_id"), 0, 31),
            "cluster_node_id": c.integer(node.get("cluster_node_id"), (*parts, "cluster_node_id"), 1, 255),
        }
        if info["cluster_address"] is None:
            info["cluster_address"] = info["address"]
        good[key] = info
    explicit_cluster = any(isinstance(n, dict) and "cluster_address" in n for n in nodes.values())
    for field in ("hostname", "minion_id", "address", "node_id", "cluster_node_id", "cluster_address"):
        if field == "cluster_address" and not explicit_cluster:
            continue  # defaults to address, already checked
        seen: dict[Any, str] = {}
        for key, info in good.items():
            if info[field] is None:
                continue
            if info[field] in seen:
                c.add(("nodes", key, field), f"{info[field]} is already used by node {seen[info[field]]}",
                      f"each node needs its own {field}")
            else:
                seen[info[field]] = key
    return good


def _node_ref(c: _Checker, value: Any, parts: Path, nodes: dict[str, dict], required: bool = False) -> str | None:
    if value is None:
        if required:
            c.add(parts, "is required", "name one of the nodes: " + ", ".join(nodes))
        return None
    if not isinstance(value, str) or value not in nodes:
        close = difflib.get_close_matches(str(value), list(nodes), n=1, cutoff=0.5)
        hint = f"did you mean `{close[0]}`?" if close else "name one of the nodes: " + ", ".join(nodes)
        c.add(parts, f"{value!r} is not a node of this topology", hint)
        return None
    return value


def _node_list(c: _Checker, value: Any, parts: Path, nodes: dict[str, dict]) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        c.add(parts, f"must be a list of nodes, not {type(value).__name__}", "e.g. [" + ", ".join(nodes) + "]")
        return None
    out: list[str] = []
    for index, item in enumerate(value):
        ref = _node_ref(c, item, (*parts, index), nodes)
        if ref is not None:
            if ref in out:
                c.add((*parts, index), f"{ref} is listed twice", "list each node once")
            else:
                out.append(ref)
    return out


# -- drbd -------------------------------------------------------------------------------------------
def _drbd(c: _Checker, value: Any, nodes: dict[str, dict]) -> dict[str, dict]:
    """Validates drbd:, returns {resource: facts} for cross checks."""
    drbd = c.mapping(value, ("drbd",), required=True, what="a mapping with `resources`")
    if drbd is None:
        return {}
    c.keys(drbd, DRBD_KEYS, ("drbd",))
    if "dialect" in drbd and dialect_of(drbd["dialect"]) is None:
        c.add(("drbd", "dialect"), f"{drbd['dialect']!r} is not allowed", "one of: 8.4, 9, auto")
    c.drbd_section(drbd.get("global"), ("drbd", "global"), "global")
    common = c.mapping(drbd.get("common"), ("drbd", "common"))
    if common is not None:
        c.keys(common, SECTIONS, ("drbd", "common"))
        for section in SECTIONS:
            reserved = RESERVED_COMMON_NET if section == "net" else None
            c.drbd_section(common.get(section), ("drbd", "common", section), section, reserved)
    resources = c.mapping(drbd.get("resources"), ("drbd", "resources"), required=True,
                          what="a mapping of DRBD resources")
    if resources is None:
        return {}
    if not resources:
        c.add(("drbd", "resources"), "has no resource", "define at least one resource, e.g. r0")
    facts: dict[str, dict] = {}
    for rname, parts, res in c.entries(resources, ("drbd", "resources"), RESOURCE_KEYS,
                                       "a mapping with `minor` and `port`", key="resource name"):
        facts[rname] = _resource(c, res, parts, nodes)
    return facts


def _resource(c: _Checker, res: dict, parts: Path, nodes: dict[str, dict]) -> dict:
    """One resource whose keys ``_Checker.entries`` checked already."""
    minor = c.integer(res.get("minor"), (*parts, "minor"), 0, MAX_MINOR)
    device = c.abspath(res.get("device"), (*parts, "device"), kind="drbd_device")
    port = c.integer(res.get("port"), (*parts, "port"), 1, 65535, required=True)
    disk_value = res.get("disk")
    disk = None
    if isinstance(disk_value, dict):
        c.drbd_section(disk_value, (*parts, "disk"), "disk")
        if "disk_section" in res:
            c.add((*parts, "disk_section"), "is given twice (disk is a mapping too)", "use only `disk_section`")
    else:
        disk = c.abspath(disk_value, (*parts, "disk"), kind="drbd_path")
    c.drbd_section(res.get("disk_section"), (*parts, "disk_section"), "disk")
    meta_disk = _meta_disk(c, res.get("meta_disk"), (*parts, "meta_disk"))
    c.enum(res.get("protocol"), (*parts, "protocol"), PROTOCOLS)
    mode = c.enum(res.get("mode"), (*parts, "mode"), MODES) or ("single-primary" if "mode" not in res else None)
    primary = _node_ref(c, res.get("primary"), (*parts, "primary"), nodes)
    initial_primary = _node_ref(c, res.get("initial_primary"), (*parts, "initial_primary"), nodes)
    c.enum(res.get("initial_sync"), (*parts, "initial_sync"), INITIAL_SYNC)
    after0 = res.get("after_sb_0pri")
    if after0 is not None:
        hosts = {n: i["hostname"] for n, i in nodes.items()}
        allowed = list(AFTER_SB_0PRI) + [f"discard-node-{h}" for h in (*hosts, *hosts.values()) if h]
        c.enum(after0, (*parts, "after_sb_0pri"), allowed)
    c.enum(res.get("after_sb_1pri"), (*parts, "after_sb_1pri"), AFTER_SB_1PRI)
    c.enum(res.get("after_sb_2pri"), (*parts, "after_sb_2pri"), AFTER_SB_2PRI)
    alg = c.enum(res.get("cram_hmac_alg"), (*parts, "cram_hmac_alg"), CRAM_HMAC_ALGS)
    secret_raw = res.get("shared_secret")
    if secret_raw is not None:
        secret = secret_text(secret_raw)
        # the value itself is never echoed: it is a secret
        if not secret:
            c.add((*parts, "shared_secret"), "must be a non-empty string", "quote the secret in YAML")
        elif (len(secret.encode()) > DRBD_SECRET_MAX or not fields.is_secret(secret)
              or any(ch in secret for ch in '"\\')):
            c.add((*parts, "shared_secret"),
                  f"must be at most {DRBD_SECRET_MAX} bytes without whitespace, control characters, quotes or "
                  "backslashes", "choose another secret")
        if "cram_hmac_alg" not in res:
            c.add((*parts, "cram_hmac_alg"), "is required when shared_secret is set",
                  "add cram_hmac_alg: sha1 (or sha256)")
    elif alg is not None:
        c.add((*parts, "shared_secret"), "is required when cram_hmac_alg is set",
              "add shared_secret, or remove cram_hmac_alg")
    for section in ("net", "startup", "options", "handlers"):
        c.drbd_section(res.get(section), (*parts, section), section, RESERVED_NET if section == "net" else None)
    _remediation(c, res.get("remediation"), (*parts, "remediation"), nodes)

    # per-node values
    overrides = c.mapping(res.get("nodes"), (*parts, "nodes"))
    per_node: dict[str, dict] = {}
    if overrides is not None:
        for key in overrides:
            _node_ref(c, key, (*parts, "nodes", key), nodes)
    if device is not None and minor is not None:
        match = _DRBD_DEV_RE.fullmatch(device)
        if match and int(match.group(1)) != minor:
            c.add((*parts, "device"), f"{device} does not match minor {minor}",
                  f"use /dev/drbd{minor} or drop `device`")
    lacking: dict[str, list[str]] = {"minor": [], "disk": []}
    for node, info in nodes.items():
        over = (overrides or {}).get(node)
        npath = (*parts, "nodes", node)
        over = c.mapping(over, npath) or {}
        c.keys(over, RESOURCE_NODE_KEYS, npath)
        n_minor = c.integer(over["minor"], (*npath, "minor"), 0, MAX_MINOR) if "minor" in over else minor
        if "device" in over:
            n_device = c.abspath(over["device"], (*npath, "device"), kind="drbd_device")
        else:  # a per-node minor re-derives the device
            n_device = device if "minor" not in over else None
        n_disk = c.abspath(over["disk"], (*npath, "disk"), kind="drbd_path") if "disk" in over else disk
        n_meta = _meta_disk(c, over["meta_disk"], (*npath, "meta_disk")) if "meta_disk" in over else meta_disk
        n_addr = c.address(over["address"], (*npath, "address")) if "address" in over else info["address"]
        n_port = c.integer(over["port"], (*npath, "port"), 1, 65535) if "port" in over else port
        if n_minor is None and n_device is not None and _DRBD_DEV_RE.fullmatch(n_device):
            n_minor = int(_DRBD_DEV_RE.fullmatch(n_device).group(1))
        if n_minor is None and "minor" not in over and "minor" not in res:
            lacking["minor"].append(node)
        if ("minor" in over or "device" in over) and n_minor is not None and n_device is not None:
            match = _DRBD_DEV_RE.fullmatch(n_device)
            if match and int(match.group(1)) != n_minor:
                c.add((*npath, "device"), f"{n_device} does not match minor {n_minor}",
                      f"use /dev/drbd{n_minor} or set only `minor`")
        if n_disk is None and not ("disk" in over or isinstance(disk_value, str)):
            lacking["disk"].append(node)
        if n_device is None and n_minor is not None:
            n_device = f"/dev/drbd{n_minor}"
        per_node[node] = {
            "minor": n_minor, "device": n_device, "disk": n_disk, "meta_disk": n_meta, "address": n_addr,
            "port": n_port,
            "minor_path": (*npath, "minor") if "minor" in over else (*parts, "minor"),
            "device_path": (*npath, "device") if "device" in over else (*parts, "device"),
            "disk_path": (*npath, "disk") if "disk" in over else (*parts, "disk"),
            "port_path": (*npath, "port") if "port" in over else (*parts, "port"),
            "address_path": (*npath, "address") if "address" in over else ("nodes", node, "address"),
        }
    if lacking["minor"]:
        c.add((*parts, "minor"), "is required (no minor for " + ", ".join(lacking["minor"]) + ")",
              "add minor: 0 (device defaults to /dev/drbd<minor>)")
    if lacking["disk"]:
        c.add((*parts, "disk"), "no backing disk for " + ", ".join(lacking["disk"]),
              "set `disk` on the resource or per node under nodes:<node>:disk")
    addrs = [ip_address(v["address"]) for v in per_node.values() if v["address"]]
    overridden = any(v["address_path"][0] == "drbd" for v in per_node.values())
    if len(addrs) == 2 and addrs[0] == addrs[1] and overridden:  # else reported under nodes:
        c.add(per_node[list(per_node)[1]]["address_path"], f"{addrs[0]} is the peer's address too",
              "each node needs its own replication address")
    elif len(addrs) == 2 and addrs[0].version != addrs[1].version:
        c.add(per_node[list(per_node)[1]]["address_path"], "mixes IPv4 and IPv6 between the nodes",
              "use the same address family on both nodes")
    return {"mode": mode, "mode_given": "mode" in res, "primary": primary, "primary_given": "primary" in res,
            "initial_primary": initial_primary, "nodes": per_node, "parts": parts}


def _meta_disk(c: _Checker, value: Any, parts: Path) -> str | None:
    if value is None or value == "internal":
        return "internal" if value else None
    return c.abspath(value, parts, kind="drbd_path")


def _remediation(c: _Checker, value: Any, parts: Path, nodes: dict[str, dict]) -> None:
    rem = c.mapping(value, parts)
    if rem is None:
        return
    c.keys(rem, REMEDIATION_DEFAULTS, parts)
    for key in ("reconnect", "rejoin_after_reboot", "snapshot_before_discard"):
        c.boolean(rem.get(key), (*parts, key))
    c.integer(rem.get("max_attempts"), (*parts, "max_attempts"), 0)
    c.integer(rem.get("cooldown"), (*parts, "cooldown"), 0)
    policy = c.enum(rem.get("split_brain"), (*parts, "split_brain"), SPLIT_BRAIN)
    victim = _node_ref(c, rem.get("victim"), (*parts, "victim"), nodes)
    if policy == "victim" and rem.get("victim") is None:
        c.add((*parts, "victim"), "is required with split_brain: victim", "name the node whose changes are discarded")
    if victim is not None and rem.get("split_brain") != "victim":
        c.add((*parts, "victim"), "is only used with split_brain: victim", "set split_brain: victim or drop victim")


# -- filesystems ------------------------------------------------------------------------------------
def _filesystems(c: _Checker, value: Any, nodes: dict, resources: dict, cluster: dict) -> dict[str, dict]:
    filesystems = c.mapping(value, ("filesystems",), what="a mapping of filesystems")
    if filesystems is None:
        return {}
    facts: dict[str, dict] = {}
    mountpoints: dict[str, str] = {}
    used_resources: dict[str, str] = {}
    for fname, parts, fs in c.entries(filesystems, ("filesystems",), FS_KEYS, "a mapping with `resource` and `type`",
                                      key="filesystem name"):
        fstype = c.enum(fs.get("type"), (*parts, "type"), FS_TYPES, required=True)
        resource = None
        if "resource" in fs:
            if not isinstance(fs["resource"], str) or fs["resource"] not in resources:
                close = difflib.get_close_matches(str(fs["resource"]), list(resources), n=1, cutoff=0.5)
                hint = f"did you mean `{close[0]}`?" if close else "name a resource under drbd:resources"
                c.add((*parts, "resource"), f"{fs['resource']!r} is not a DRBD resource of this topology", hint)
            else:
                resource = fs["resource"]
                if "device" in fs:
                    c.add((*parts, "device"), "is given together with `resource`", "keep only `resource`")
            if resource in used_resources:
                c.add((*parts, "resource"), f"{resource} already carries filesystem {used_resources[resource]}",
                      "one filesystem per DRBD resource")
            elif resource is not None:
                used_resources[resource] = fname
        elif "device" in fs:
            device = c.abspath(fs.get("device"), (*parts, "device"))
            for rname, res in resources.items():  # a DRBD device named directly: it lives on rname
                devices = [info.get("device") for info in res["nodes"].values()]
                if device is not None and devices and all(d == device for d in devices):
                    resource = rname
            if resource in used_resources:
                c.add((*parts, "device"), f"{resource} already carries filesystem {used_resources[resource]}",
                      "one filesystem per DRBD resource")
            elif resource is not None:
                used_resources[resource] = fname
        else:
            c.add((*parts, "resource"), "is required (or `device`)", "name the DRBD resource the filesystem lives on")
        mkfs_type = fs.get("mkfs_type")
        if mkfs_type is not None:
            if fstype is not None and fstype != "ocfs2":
                c.add((*parts, "mkfs_type"), f"is only for ocfs2, not {fstype}", "drop mkfs_type")
            else:
                c.enum(mkfs_type, (*parts, "mkfs_type"), OCFS2_MKFS_TYPES)
        feature = fs.get("feature_level")
        if feature is not None:
            if fstype is not None and fstype != "ocfs2":
                c.add((*parts, "feature_level"), f"is only for ocfs2, not {fstype}", "drop feature_level")
            else:
                c.enum(feature, (*parts, "feature_level"), OCFS2_FEATURE_LEVELS)
        slots = c.integer(fs.get("slots"), (*parts, "slots"), 1, 255)
        if fs.get("label") is not None:
            c.field("name", fs.get("label"), (*parts, "label"), "filesystem label")
        if "lock_table" in fs and fstype is not None and fstype != "gfs2":
            c.add((*parts, "lock_table"), f"is only for gfs2, not {fstype}", "drop lock_table")
        elif fstype == "gfs2":
            _lock_table(c, fs.get("lock_table"), parts, fname, cluster)
        c.str_list(fs.get("mkfs_options"), (*parts, "mkfs_options"), what="mkfs argument")
        c.str_list(fs.get("mount_options"), (*parts, "mount_options"), what="mount option")
        mountpoint = c.abspath(fs.get("mountpoint"), (*parts, "mountpoint"))
        if mountpoint is not None:
            if mountpoint in mountpoints:
                c.add((*parts, "mountpoint"), f"{mountpoint} is already used by {mountpoints[mountpoint]}",
                      "give each filesystem its own mountpoint")
            else:
                mountpoints[mountpoint] = fname
        mount_on = _node_list(c, fs.get("mount_on"), (*parts, "mount_on"), nodes)
        _node_ref(c, fs.get("format_on"), (*parts, "format_on"), nodes)
        if mount_on and mountpoint is None and "mountpoint" not in fs:
            c.add((*parts, "mountpoint"), "is required to mount the filesystem", "set mountpoint, or mount_on: []")
        if fstype in FS_STACKS and cluster.get("stack") is not None and cluster["stack"] not in FS_STACKS[fstype]:
            c.add(("cluster", "stack"), f"{fstype} filesystem {fname} needs stack "
                  + " or ".join(FS_STACKS[fstype]) + f", not {cluster['stack']}",
                  f"set cluster:stack: {FS_STACKS[fstype][0]}")
        facts[fname] = {"type": fstype, "resource": resource, "mount_on": mount_on,
                        "mount_on_given": "mount_on" in fs, "parts": parts, "slots": slots,
                        "mountpoint": "mountpoint" in fs}
    return facts


def _lock_table(c: _Checker, value: Any, parts: Path, fname: str, cluster: dict) -> None:
    cname = cluster.get("name")
    table = value if value is not None else f"{cname}:{fname}"
    lpath = (*parts, "lock_table")
    if value is not None and not isinstance(value, str):
        c.add(lpath, f"must be a string `cluster:fs`, not {value!r}", "quote it in YAML")
        return
    if table.count(":") != 1:
        c.add(lpath, f"{table!r} is not of the form cluster:fs", f"e.g. {cname}:{fname}")
        return
    cpart, fpart = table.split(":")
    where = lpath if value is not None else ("cluster", "name")
    if not _LOCK_PART_RE.fullmatch(cpart) or len(cpart) > 32:
        c.add(where, f"cluster part {cpart!r} of lock table must be 1-32 letters, digits, '_' or '-'",
              "shorten the cluster name")
    elif cname is not None and cpart != cname:
        c.add(lpath, f"cluster part {cpart!r} differs from the cluster name {cname!r}",
              f"use {cname}:{fpart}")
    if not _LOCK_PART_RE.fullmatch(fpart) or len(fpart) > 30:
        c.add(lpath if value is not None else parts,
              f"filesystem part {fpart!r} of lock table must be 1-30 letters, digits, '_' or '-'",
              "set lock_table: <cluster>:<short name>")


def _cross_resources(c: _Checker, resources: dict, filesystems: dict, nodes: dict) -> None:
    """Uniqueness across resources and the mode rules that need filesystems."""
    for field, what in (("minor", "minor"), ("device", "device"), ("disk", "backing disk")):
        for node in nodes:
            seen: dict[Any, str] = {}
            for rname, res in resources.items():
                info = res["nodes"].get(node) or {}
                value = info.get(field)
                if value is None:
                    continue
                if value in seen:
                    c.add(info[f"{field}_path"], f"{what} {value} is already used by {seen[value]} on {node}",
                          f"give {rname} its own {what}")
                else:
                    seen[value] = rname
    for node in nodes:
        seen_ep: dict[tuple, str] = {}
        for rname, res in resources.items():
            info = res["nodes"].get(node) or {}
            if info.get("address") is None or info.get("port") is None:
                continue
            key = (ip_address(info["address"]), info["port"])
            if key in seen_ep:
                c.add(info["port_path"], f"{info['port']} is already used by {seen_ep[key]} on {node}",
                      f"give {rname} its own port, e.g. {info['port'] + 1 if info['port'] < 65535 else 7788}")
            else:
                seen_ep[key] = rname

    on_resource: dict[str, list[str]] = {}
    for fname, fs in filesystems.items():
        if fs["resource"] is not None:
            on_resource.setdefault(fs["resource"], []).append(fname)
    crossed_primaries: set[str] = set()
    crossed_seen, crossed_complete = False, True
    for rname, res in resources.items():
        parts = res["parts"]
        mode = res["mode"]
        fss = [filesystems[f] for f in on_resource.get(rname, [])]
        if mode == "dual-primary":
            if res["primary_given"]:
                c.add((*parts, "primary"), "does not apply to dual-primary (both nodes are primary)",
                      "drop primary; use initial_primary for the initial sync")
            if not any(fs["type"] in CLUSTER_FS for fs in fss):
                c.add((*parts, "mode"), "dual-primary needs a cluster filesystem (ocfs2 or gfs2) on the resource",
                      "add an ocfs2/gfs2 filesystem on it, or use mode: single-primary")
            for fs in fss:
                if fs["type"] is not None and fs["type"] not in CLUSTER_FS:
                    c.add((*fs["parts"], "type"), f"{fs['type']} cannot live on dual-primary resource {rname}",
                          "use ocfs2 or gfs2, or make the resource single-primary")
                mounted = len(fs["mount_on"]) if fs["mount_on_given"] and fs["mount_on"] is not None else (
                    len(nodes) if fs["mountpoint"] else 0)
                if fs["type"] in CLUSTER_FS and fs["slots"] is not None and fs["slots"] < mounted:
                    c.add((*fs["parts"], "slots"), f"{fs['slots']} slot(s) for {mounted} mounting nodes",
                          f"set slots: {mounted}")
        if mode == "crossed":
            crossed_seen = True
            if not res["primary_given"]:
                c.add((*parts, "primary"), "is required for a crossed resource", "name the node that runs it")
            if res["primary"] is None:
                crossed_complete = False
            else:
                crossed_primaries.add(res["primary"])
        if mode in ("single-primary", "crossed"):
            steady = res["primary"] or res["initial_primary"] or (next(iter(nodes)) if nodes else None)
            for fs in fss:
                mount_on = fs["mount_on"]
                if mount_on is None:
                    continue
                if fs["type"] in CLUSTER_FS:
                    if len(mount_on) > 1:
                        c.add((*fs["parts"], "mount_on"), f"{rname} is {mode}: only its primary can mount",
                              f"mount_on: [{steady}] or make {rname} dual-primary")
                    continue
                if len(mount_on) > 1:
                    c.add((*fs["parts"], "mount_on"), f"{fs['type']} is not a cluster filesystem; never mount it on both nodes",
                          f"mount_on: [{steady}]")
                elif mount_on and steady is not None and mount_on[0] != steady:
                    c.add((*fs["parts"], "mount_on"), f"{mount_on[0]} is not the primary of {rname} ({steady})",
                          f"mount_on: [{steady}]")
    if crossed_seen and crossed_complete and len(nodes) == 2 and set(nodes) - crossed_primaries:
        missing = sorted(set(nodes) - crossed_primaries)
        first = next(r for r in resources.values() if r["mode"] == "crossed")
        c.add((*first["parts"], "primary"), "crossed resources together need a primary on each node; none on "
              + ", ".join(missing), f"make another crossed resource primary on {missing[0]}")


# -- cluster stack ----------------------------------------------------------------------------------
def _cluster(c: _Checker, value: Any, nodes: dict, tname: Any) -> dict:
    cluster = c.mapping(value, ("cluster",))
    if cluster is None:
        return {"stack": "none", "name": tname if isinstance(tname, str) else None}
    c.keys(cluster, CLUSTER_KEYS, ("cluster",))
    stack = c.enum(cluster.get("stack", "none"), ("cluster", "stack"), STACKS)
    name = cluster.get("name", tname)
    if "name" in cluster:
        name = c.name(cluster.get("name"), ("cluster", "name"), "cluster name")
    if stack == "o2cb" and isinstance(name, str) and not _O2CB_NAME_RE.fullmatch(name):
        where = ("cluster", "name")
        c.add(where, f"o2cb cluster name {name!r} must be 1-16 letters, digits or '_'",
              "set cluster:name to a short name, e.g. ocfs2")
    for other in ("o2cb", "cman", "corosync", "heartbeat"):
        if other in cluster and other != stack and stack is not None:
            c.add(("cluster", other), f"is set but the stack is {stack}", f"set stack: {other}, or drop this section")
    return {"stack": stack, "name": name if isinstance(name, str) else None}


def _stack_sections(c: _Checker, value: Any, cluster: dict, nodes: dict, resources: dict, filesystems: dict) -> None:
    raw = value if isinstance(value, dict) else {}
    stack = cluster.get("stack")
    if stack == "o2cb":
        o2cb = c.mapping(raw.get("o2cb"), ("cluster", "o2cb"))
        if o2cb is not None:
            c.keys(o2cb, O2CB_DEFAULTS, ("cluster", "o2cb"))
            c.integer(o2cb.get("port"), ("cluster", "o2cb", "port"), 1, 65535)
            for key in ("heartbeat_threshold", "idle_timeout_ms", "keepalive_delay_ms", "reconnect_delay_ms"):
                c.integer(o2cb.get(key), ("cluster", "o2cb", key), 1)
    elif stack == "cman":
        _cman(c, raw.get("cman"), nodes)
    elif stack == "corosync":
        _corosync(c, raw.get("corosync"))
    elif stack == "heartbeat":
        _heartbeat(c, raw.get("heartbeat"), nodes, resources, filesystems)


def _attrs(c: _Checker, value: Any, parts: Path, required: Iterable[str] = ()) -> dict | None:
    attrs = c.mapping(value, parts, what="a mapping of attributes")
    if attrs is None:
        return None
    for key, item in attrs.items():
        if not fields.is_xml_name(key):
            c.add((*parts, key), f"{_show(key)} is not a valid attribute name", f"use {fields.CHECKS['xml_name'][1]}")
        elif key in SECRET_ATTRS:
            if secret_text(item) is None or secret_text(item) == "":
                c.add((*parts, key), "must be a non-empty string", "quote it in YAML")
            elif not fields.is_text(secret_text(item)):
                c.add((*parts, key), "must not contain control characters", "choose another secret")
        elif item is None or not isinstance(item, (str, int, float, bool)):
            c.add((*parts, key), f"must be a single value, not {type(item).__name__}", "write a string or number")
        elif isinstance(item, str) and not fields.is_text(item):
            c.add((*parts, key), f"{_show(item)} holds a control character", "write it on one line")
    for key in required:
        if key not in attrs:
            c.add((*parts, key), "is required", f"set {key}")
        elif key == "type":
            c.field("xml_name", attrs[key], (*parts, key), "resource type")
        elif key in ("name", "agent"):
            c.field("name", attrs[key], (*parts, key))
        else:
            c.string(attrs[key], (*parts, key))
    return attrs


def _cman(c: _Checker, value: Any, nodes: dict) -> None:
    base = ("cluster", "cman")
    cman = c.mapping(value, base)
    if cman is None:
        cman = {}
    c.keys(cman, CMAN_KEYS, base)
    c.integer(cman.get("config_version"), (*base, "config_version"), 1)
    c.integer(cman.get("cluster_id"), (*base, "cluster_id"), 0, 65535)
    two_node = c.boolean(cman.get("two_node"), (*base, "two_node"))
    votes = c.integer(cman.get("expected_votes"), (*base, "expected_votes"), 1)
    if two_node is not False and votes is not None and votes != 1:
        c.add((*base, "expected_votes"), f"must be 1 with two_node (got {votes})", "set expected_votes: 1")
    if two_node is not False and len(nodes) != 2:
        c.add((*base, "two_node"), "needs exactly two nodes", "fix the nodes, or set two_node: false")
    for key in CMAN_ATTR_SECTIONS:
        _attrs(c, cman.get(key), (*base, key))
    devices = c.mapping(cman.get("fence_devices"), (*base, "fence_devices")) or {}
    for dname, spec in devices.items():
        c.name(dname, (*base, "fence_devices", dname), "fence device name")
        _attrs(c, spec, (*base, "fence_devices", dname), required=("agent",))
        if spec is None:
            c.add((*base, "fence_devices", dname), "is required", "set at least `agent`")
    cnodes = c.mapping(cman.get("nodes"), (*base, "nodes")) or {}
    for _node, npath, cnode in c.entries(cnodes, (*base, "nodes"), CMAN_NODE_KEYS, required=False,
                                         key=lambda node, where: _node_ref(c, node, where, nodes) is not None,
                                         skip_bad_keys=False):
        c.integer(cnode.get("votes"), (*npath, "votes"), 0)
        for mpath, method in fencing.fence_methods(c.add, cnode.get("fence"), npath,
                                                   "e.g. [{method: single, devices: [{name: dev}]}]"):
            meth = c.mapping(method, mpath, required=True)
            if meth is None:
                continue
            c.keys(meth, ("method", "devices"), mpath)
            c.field("name", meth.get("method"), (*mpath, "method"), "fence method name", required=True)
            devs = fencing.method_devices(c.add, meth, mpath)
            if devs is None:
                continue
            for dindex, dev in enumerate(devs):
                dpath = (*mpath, "devices", dindex)
                attrs = _attrs(c, dev, dpath, required=("name",))
                if attrs is None:
                    if dev is None:
                        c.add(dpath, "is required", "write {name: <fence device>}")
                    continue
                if isinstance(attrs.get("name"), str) and attrs["name"] not in devices:
                    close = difflib.get_close_matches(attrs["name"], list(devices), n=1, cutoff=0.5)
                    hint = f"did you mean `{close[0]}`?" if close else "define it under cluster:cman:fence_devices"
                    c.add((*dpath, "name"), f"fence device {attrs['name']!r} is not defined", hint)
    domains = c.mapping(cman.get("failover_domains"), (*base, "failover_domains")) or {}
    for _domain, dpath, dom in c.entries(domains, (*base, "failover_domains"), FAILOVER_DOMAIN_KEYS,
                                         key="failover domain name", skip_bad_keys=False):
        for key in ("restricted", "ordered", "nofailback"):
            c.boolean(dom.get(key), (*dpath, key))
        if "nodes" not in dom:
            c.add((*dpath, "nodes"), "is required", "list the topology nodes of the domain")
        _node_list(c, dom.get("nodes"), (*dpath, "nodes"), nodes)
    for kind in ("vms", "services"):
        items = c.mapping(cman.get(kind), (*base, kind)) or {}
        for iname, spec in items.items():
            ipath = (*base, kind, iname)
            c.name(iname, ipath, f"{kind[:-1]} name")
            spec = spec if spec is not None else {}
            sub = spec.get("resources") if kind == "services" and isinstance(spec, dict) else None
            if kind == "services" and isinstance(spec, dict) and "resources" in spec:
                spec = {k: v for k, v in spec.items() if k != "resources"}
                if not isinstance(sub, list):
                    c.add((*ipath, "resources"), "must be a list", "e.g. [{type: ip, address: 192.0.2.50}]")
                else:
                    for rindex, item in enumerate(sub):
                        if _attrs(c, item, (*ipath, "resources", rindex), required=("type",)) is None and item is None:
                            c.add((*ipath, "resources", rindex), "is required", "e.g. {type: ip, address: ...}")
            attrs = _attrs(c, spec, ipath)
            if attrs is None:
                continue
            domain = attrs.get("domain")
            if domain is not None and (not isinstance(domain, str) or domain not in domains):
                close = difflib.get_close_matches(str(domain), list(domains), n=1, cutoff=0.5)
                hint = f"did you mean `{close[0]}`?" if close else "define it under cluster:cman:failover_domains"
                c.add((*ipath, "domain"), f"failover domain {domain!r} is not defined", hint)


def _corosync(c: _Checker, value: Any) -> None:
    base = ("cluster", "corosync")
    coro = c.mapping(value, base)
    if coro is None:
        return
    c.keys(coro, COROSYNC_DEFAULTS, base)
    c.enum(coro.get("transport"), (*base, "transport"), COROSYNC_TRANSPORTS)
    c.boolean(coro.get("two_node"), (*base, "two_node"))
    c.boolean(coro.get("wait_for_all"), (*base, "wait_for_all"))
    c.integer(coro.get("token"), (*base, "token"), 1)
    c.integer(coro.get("consensus"), (*base, "consensus"), 1)
    c.enum(coro.get("crypto_cipher"), (*base, "crypto_cipher"), COROSYNC_CIPHERS)
    c.enum(coro.get("crypto_hash"), (*base, "crypto_hash"), COROSYNC_HASHES)
    for key in ("totem", "quorum", "logging"):
        c.scalars(coro.get(key), (*base, key))
    dlm = c.scalars(coro.get("dlm"), (*base, "dlm"))
    if dlm:
        c.boolean(dlm.get("enable_fencing"), (*base, "dlm", "enable_fencing"))
    if "authkey" in coro and not fields.is_base64(secret_text(coro.get("authkey"))):
        c.add((*base, "authkey"), "must be the base64 text of the key (one line)",
              "e.g. `base64 -w0 /etc/corosync/authkey`")


def _heartbeat(c: _Checker, value: Any, nodes: dict, resources: dict, filesystems: dict) -> None:
    base = ("cluster", "heartbeat")
    hb = c.mapping(value, base, required=True, what="a mapping with `media` and `authkeys`")
    if hb is None:
        return
    if "resources" in hb:
        c.add((*base, "resources"), "resource groups moved to the topology's `groups`",
              "write each haresources line as groups:<name>: {node, resource, filesystem, ip, services}")
    c.keys({k: v for k, v in hb.items() if k != "resources"}, HEARTBEAT_DEFAULTS, base)
    c.integer(hb.get("udpport"), (*base, "udpport"), 1, 65535)
    for key in ("keepalive", "deadtime", "warntime", "initdead"):
        c.integer(hb.get(key), (*base, key), 1)
    c.integer(hb.get("debug"), (*base, "debug"), 0, 255)
    auto = hb.get("auto_failback")
    if isinstance(auto, bool):
        auto = "on" if auto else "off"  # YAML reads on/off as booleans
    c.enum(auto, (*base, "auto_failback"), AUTO_FAILBACK)
    c.enum(hb.get("logfacility"), (*base, "logfacility"), fields.SYSLOG_FACILITIES)
    c.abspath(hb.get("logfile"), (*base, "logfile"))
    c.abspath(hb.get("debugfile"), (*base, "debugfile"))
    media = hb.get("media")
    if not isinstance(media, list) or not media:
        c.add((*base, "media"), "must be a non-empty list", "e.g. [{type: bcast, interface: eth1}]")
    else:
        for index, spec in enumerate(media):
            mpath = (*base, "media", index)
            med = c.mapping(spec, mpath, required=True)
            if med is None:
                continue
            c.keys(med, HEARTBEAT_MEDIA_KEYS, mpath)
            kind = c.enum(med.get("type"), (*mpath, "type"), HEARTBEAT_MEDIA, required=True)
            c.field("interface", med.get("interface"), (*mpath, "interface"), "interface name")
            if "interface" not in med:
                c.add((*mpath, "interface"), "is required", "e.g. eth1")
            if kind == "mcast":
                group = c.address(med.get("group"), (*mpath, "group"), required=True)
                if group is not None and not ip_address(group).is_multicast:
                    c.add((*mpath, "group"), f"{group} is not a multicast address", "e.g. 225.0.0.1")
                c.integer(med.get("port"), (*mpath, "port"), 1, 65535)
                c.integer(med.get("ttl"), (*mpath, "ttl"), 1, 255)
            if kind == "ucast" and med.get("addresses") is not None:
                addrs = med.get("addresses")
                if not isinstance(addrs, list):
                    c.add((*mpath, "addresses"), "must be a list of addresses", "e.g. [10.0.0.2, 10.0.0.3]")
                else:
                    for aindex, addr in enumerate(addrs):
                        c.address(addr, (*mpath, "addresses", aindex))
    auth = c.mapping(hb.get("authkeys"), (*base, "authkeys"), required=True, what="{method, key}")
    if auth is not None:
        c.keys(auth, ("method", "key"), (*base, "authkeys"))
        method = c.enum(auth.get("method"), (*base, "authkeys", "method"), HEARTBEAT_AUTH, required=True)
        key = secret_text(auth.get("key"))
        # an absent key is the master's to supply (ext_pillar hapair_secrets); whether one reached
        # the node is checked where authkeys is rendered (hapair.heartbeat.render_authkeys)
        if method in ("md5", "sha1") and key == "":
            c.add((*base, "authkeys", "key"), f"is required (non-empty) with method {method} when set",
                  "set a long random key, or leave key out for the master's ext_pillar hapair_secrets")
        elif key is not None and not fields.is_secret(key):
            c.add((*base, "authkeys", "key"), "must not contain whitespace or control characters",
                  "use a key without spaces")
        elif auth.get("key") is not None and key is None:
            c.add((*base, "authkeys", "key"), "must be a string", "quote the key in YAML")


# -- service groups ---------------------------------------------------------------------------------
def _groups(c: _Checker, value: Any, nodes: dict, resources: dict, filesystems: dict, cluster: dict,
            topo: dict) -> None:
    """``groups``: what the cluster manager runs on one node at a time (haresources' lines)."""
    groups = c.mapping(value, ("groups",), what="a mapping of group name -> {node, resource, ...}")
    if not groups:
        return
    if cluster.get("stack") is not None and cluster["stack"] not in GROUP_STACKS:
        c.add(("cluster", "stack"), f"service groups need a cluster manager that runs them, not {cluster['stack']}",
              "set cluster:stack: " + " or ".join(GROUP_STACKS))
    node_addresses = {str(n.get("address")) for n in nodes.values()} | {
        str(n.get("cluster_address")) for n in nodes.values()}
    owners: dict[str, str] = {}
    containers: dict[str, str] = {}
    boot_enabled = {"nfs-kernel-server", "nfs-server"} if ((topo.get("nfs") or {}).get("exports")) else set()
    for gname, parts, group in c.entries(groups, ("groups",), GROUP_KEYS, "{node, resource, filesystem, ip, services}",
                                         key="group name", skip_bad_keys=False):
        _node_ref(c, group.get("node"), (*parts, "node"), nodes, required=True)
        rname = group.get("resource")
        res = resources.get(rname) if isinstance(rname, str) else None
        if rname is None:
            c.add((*parts, "resource"), "is required", "name the DRBD resource the group's data lives on")
        elif res is None:
            c.add((*parts, "resource"), f"{_show(rname)} is not a DRBD resource of this topology",
                  "name a resource under drbd:resources")
        else:
            if res["mode"] == "dual-primary":
                c.add((*parts, "resource"), f"{rname} is dual-primary: a group runs on one node at a time",
                      f"set drbd:resources:{rname}:mode: single-primary")
            node = group.get("node")
            if res["primary_given"] and res["primary"] not in (None, node) and node in nodes:
                c.add((*parts, "node"), f"{node} is not {rname}'s primary ({res['primary']})",
                      f"make the group's node {res['primary']}, or drop drbd:resources:{rname}:primary")
            if rname in owners:
                c.add((*parts, "resource"), f"{rname} is already the resource of group {owners[rname]}",
                      "one group per resource: put both groups' services in one group")
            else:
                owners[rname] = gname
        fname = group.get("filesystem")
        fs = filesystems.get(fname) if isinstance(fname, str) else None
        if fname is not None and fs is None:
            c.add((*parts, "filesystem"), f"{_show(fname)} is not a filesystem of this topology",
                  "name a filesystem under filesystems")
        elif fs is not None:
            if isinstance(rname, str) and fs["resource"] not in (None, rname):
                c.add((*parts, "filesystem"), f"{fname} lives on {fs['resource']}, not {rname}",
                      f"set resource: {fs['resource']}")
            if fs["type"] in CLUSTER_FS:
                c.add((*parts, "filesystem"), f"{fname} is {fs['type']}, a cluster filesystem every node mounts",
                      "a group takes an ext3, ext4, xfs or btrfs filesystem")
            if fs["mount_on"]:
                c.add((*fs["parts"], "mount_on"), f"{fname} is mounted by group {gname}'s cluster manager",
                      "set mount_on: []")
            if not fs["mountpoint"]:
                c.add((*fs["parts"], "mountpoint"), f"is required: group {gname} mounts {fname}",
                      "e.g. mountpoint: /drbd")
        stack = cluster.get("stack")
        for part in ("ip", "relocate", "services", "canary", "containers"):
            if group.get(part) is not None and stack in GROUP_PARTS_OF and part not in GROUP_PARTS_OF[stack]:
                engines = [s for s, kinds in GROUP_PARTS_OF.items() if part in kinds]
                c.add((*parts, part), f"stack {stack} does not start a group's {part}",
                      "set cluster:stack: " + " or ".join(engines) + f", or drop {part}")
        _containers(c, group.get("containers"), (*parts, "containers"), fs, fname, containers)
        _group_ip(c, group.get("ip"), (*parts, "ip"), node_addresses)
        relocate = group.get("relocate")
        if relocate is not None:
            if fs is None:
                c.add((*parts, "relocate"), "needs the group's filesystem to move the paths onto",
                      "set filesystem, or drop relocate")
            _relocate(c, relocate, (*parts, "relocate"))
        _group_canary(c, group.get("canary"), (*parts, "canary"), group.get("ip"))
        services = c.str_list(group.get("services"), (*parts, "services"), kind="unit", what="service")
        for index, unit in enumerate(services or []):
            if unit in boot_enabled:
                c.add((*parts, "services", index), f"{unit} is also enabled at boot by this topology's nfs",
                      "the cluster manager starts it: drop nfs:exports, or the service from the group")
            if (services or []).count(unit) > 1 and services.index(unit) != index:
                c.add((*parts, "services", index), f"{unit} is listed twice", "list each service once")


def _containers(c: _Checker, value: Any, parts: Path, fs: dict | None, fname: Any, seen: dict[str, str]) -> None:
    """A group's LXC containers: ``{name: {template, backing: btrfs, link}}``; their lxcpath is on
    the group's filesystem, so the group needs a btrfs one (``lxc-create -B btrfs``)."""
    spec = c.mapping(value, parts, what="a mapping of container name -> {template, backing, link}")
    if not spec:
        return
    if fs is None:
        c.add(parts, "need the group's filesystem: their lxcpath lives on it", "set filesystem")
    for name, entry in spec.items():
        cparts = (*parts, name)
        if c.field("hostname", name, cparts, "container name") is not None:
            if name in seen:
                c.add(cparts, f"container {name} is also in group {seen[name]}", "give each container one group")
            seen[name] = parts[1]
        entry = c.mapping(entry, cparts, required=True, what="{template, backing, link}")
        if entry is None:
            continue
        c.keys(entry, GROUP_CONTAINER_KEYS, cparts)
        c.field("token", entry.get("template"), (*cparts, "template"), "LXC template", required=True)
        backing = c.enum(entry.get("backing", "btrfs"), (*cparts, "backing"), CONTAINER_BACKINGS)
        if backing and fs is not None and fs["type"] != backing:
            c.add((*cparts, "backing"), f"{backing} needs a {backing} filesystem; {fname} is {fs['type']}",
                  f"set filesystems:{fname}:type: {backing}")
        c.field("interface", entry.get("link"), (*cparts, "link"), "bridge name")


def _group_ip(c: _Checker, value: Any, parts: Path, node_addresses: set[str]) -> None:
    """A virtual IP: ``{address, cidr, interface}``, not a node's address nor its network's edges."""
    vip = c.mapping(value, parts, what="{address, cidr, interface}")
    if vip is None:
        return
    c.keys(vip, GROUP_IP_KEYS, parts)
    address = c.address(vip.get("address"), (*parts, "address"), required=True)
    parsed = ip_address(address) if address else None
    cidr = c.integer(vip.get("cidr"), (*parts, "cidr"), 1, parsed.max_prefixlen if parsed else 128, required=True)
    c.field("interface", vip.get("interface"), (*parts, "interface"), "interface name", required=True)
    if address is None:
        return
    if address in node_addresses:
        c.add((*parts, "address"), f"{address} is a node's own address", "pick an unused address for the group")
    if cidr is not None:
        network = ipaddress.ip_network(f"{address}/{cidr}", strict=False)
        if network.num_addresses > 2 and parsed in (network.network_address, network.broadcast_address):
            c.add((*parts, "address"), f"{address} is the network or broadcast address of {network}",
                  "pick a host address inside the network")


def _group_canary(c: _Checker, value: Any, parts: Path, ip: Any) -> None:
    """``{file, url_path, port}``: the bootstrap writes a token to ``file`` where the group runs and
    reads it from the other node at ``http://<ip address>:<port><url_path>``."""
    canary = c.mapping(value, parts, what="{file, url_path, port}")
    if canary is None:
        return
    c.keys(canary, GROUP_CANARY_KEYS, parts)
    c.abspath(canary.get("file"), (*parts, "file"), required=True)
    c.field("url_path", canary.get("url_path"), (*parts, "url_path"), "plain URL path", required=True)
    c.integer(canary.get("port"), (*parts, "port"), 1, 65535)
    if not isinstance(ip, dict):
        c.add(parts, "needs the group's ip: the canary is read through it", "set ip: {address, cidr, interface}")


def _relocate(c: _Checker, value: Any, parts: Path) -> None:
    if not isinstance(value, list) or not value:
        c.add(parts, "must be a non-empty list of absolute paths", "e.g. [/etc/apache2, /var/www]")
        return
    seen: list[str] = []
    for index, item in enumerate(value):
        path = c.abspath(item, (*parts, index))
        if path is None:
            continue
        path = path.rstrip("/") or "/"
        if path in RELOCATE_REFUSED:
            c.add((*parts, index), f"{path} is a whole system tree, which cannot move onto DRBD",
                  "name the directory the service owns, e.g. /etc/apache2")
        elif any(path == p or path.startswith(p + "/") or p.startswith(path + "/") for p in seen):
            c.add((*parts, index), f"{path} overlaps another relocated path", "list each tree once")
        else:
            seen.append(path)


# -- nfs, lvm ---------------------------------------------------------------------------------------
def _raw_mountpoints(topo: dict) -> list[str]:
    """The mountpoints a raw topology names (its filesystems and its LVM volumes' filesystems)."""
    filesystems = topo.get("filesystems")
    found = [fs.get("mountpoint") for fs in (filesystems.values() if isinstance(filesystems, dict) else [])
             if isinstance(fs, dict)]
    for vg in (topo.get("lvm") or {}).values() if isinstance(topo.get("lvm"), dict) else []:
        lvs = vg.get("lvs") if isinstance(vg, dict) else None
        found += [lv.get("mountpoint") for lv in (lvs or {}).values() if isinstance(lv, dict)] if isinstance(lvs, dict) else []
    return [m.rstrip("/") or "/" for m in found if isinstance(m, str) and m.startswith("/")]


def _under(path: str, mountpoints: list[str]) -> str | None:
    """The mountpoint ``path`` is strictly under (no ``.`` or ``..`` on the way), or None."""
    if any(part in (".", "..") for part in path.split("/")):
        return None
    return next((m for m in mountpoints if path.startswith(m.rstrip("/") + "/")), None)


def _nfs(c: _Checker, value: Any, mountpoints: list[str]) -> None:
    nfs = c.mapping(value, ("nfs",))
    if nfs is None:
        return
    c.keys(nfs, ("exports", "links"), ("nfs",))
    links = c.mapping(nfs.get("links"), ("nfs", "links"), what="a mapping {/vol/home: /vol/ocfs2-small/home}")
    for link, target in (links or {}).items():
        parts = ("nfs", "links", link)
        if c.abspath(link, parts) is None or c.abspath(target, parts, required=True) is None:
            continue
        if any(part in (".", "..") for part in link.split("/")):
            c.add(parts, f"{link} has a '.' or '..' component", "write the path plainly")
        elif link.rstrip("/") in mountpoints or _under(link, mountpoints):
            c.add(parts, f"{link} is on a filesystem of the topology", "a link lives on each node's root filesystem")
        if not _under(target, mountpoints):
            c.add(parts, f"{target} is under no mountpoint of the topology",
                  f"a directory under one of {', '.join(sorted(mountpoints)) or 'its mountpoints'}")
    exports = nfs.get("exports")
    if exports is None:
        return
    if not isinstance(exports, list):
        c.add(("nfs", "exports"), "must be a list", "e.g. [{path: /vol/home, clients: '*', options: [rw]}]")
        return
    for index, spec in enumerate(exports):
        epath = ("nfs", "exports", index)
        exp = c.mapping(spec, epath, required=True)
        if exp is None:
            continue
        c.keys(exp, NFS_EXPORT_KEYS, epath)
        path = c.abspath(exp.get("path"), (*epath, "path"), required=True)
        if path is not None and path.rstrip("/") not in mountpoints and not _under(path, mountpoints) \
                and path not in (links or {}):
            c.add((*epath, "path"), f"nothing creates {path}",
                  "export a mountpoint, a directory under one, or a link of nfs:links")
        clients = exp.get("clients")
        if clients is not None and not fields.is_export_client(clients):
            c.add((*epath, "clients"), f"{_show(clients)} is not a client spec",
                  f"e.g. '*' or 192.168.1.0/24 ({fields.CHECKS['export_client'][1]})")
        c.str_list(exp.get("options"), (*epath, "options"), what="export option")


# mkfs.ocfs2 (ocfs2-tools 1.8.7) refuses -T vmstore under 2 GiB ("Selected file system type requires a
# device of at least 2 gigabytes"); DRBD's internal metadata takes its share of the LV, so ask for a
# whole MiB more than that
VMSTORE_MIN_LV = 2 * 2**30 + 2**20
_LV_UNITS = {"B": 1, "S": 512, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50, "E": 2**60}


def lv_bytes(size: Any) -> int | None:
    """Bytes of an lvcreate ``--size`` (binary units, M when none); None for %FREE/%VG forms or junk."""
    if not isinstance(size, str) or "%" in size or not _LV_SIZE_RE.fullmatch(size):
        return None
    unit = size[-1].upper() if size[-1].isalpha() else "M"
    number = size[:-1] if size[-1].isalpha() else size
    return int(float(number) * _LV_UNITS[unit])


def _mkfs_type_sizes(c: _Checker, topo: dict, resources: dict) -> None:
    """An ocfs2 ``mkfs_type: vmstore`` on an LV this topology creates smaller than mkfs.ocfs2 accepts."""
    lvm = topo.get("lvm") if isinstance(topo.get("lvm"), dict) else {}
    lvs = {f"/dev/{vg}/{lv}": lv_size(size) for vg, spec in lvm.items()
           if isinstance(spec, dict) and isinstance(spec.get("lvs"), dict) for lv, size in spec["lvs"].items()}
    filesystems = topo.get("filesystems") if isinstance(topo.get("filesystems"), dict) else {}
    for fname, fs in filesystems.items():
        if not isinstance(fs, dict) or fs.get("mkfs_type") != "vmstore" or fs.get("resource") not in resources:
            continue
        for node, info in sorted(resources[fs["resource"]]["nodes"].items()):
            size = lvs.get(info.get("disk"))
            nbytes = lv_bytes(size)
            if nbytes is not None and nbytes < VMSTORE_MIN_LV:
                c.add(("filesystems", fname, "mkfs_type"),
                      f"vmstore needs a device of at least 2 GiB; {fs['resource']} on {node} is "
                      f"{info['disk']} ({size}) and mkfs.ocfs2 would refuse it",
                      f"grow lvm LV {info['disk']} to at least 2049M, or use mkfs_type: mail or datafiles")
                break


def lv_size(spec: Any) -> Any:
    """The size of an ``lvs`` entry: the string itself, or the ``size`` of its mapping form."""
    return spec.get("size") if isinstance(spec, dict) else spec


def _lvm(c: _Checker, value: Any, topo: dict | None = None, resources: dict | None = None) -> None:
    lvm = c.mapping(value, ("lvm",), what="a mapping of volume groups")
    if lvm is None:
        return
    topo = topo or {}
    filesystems = topo.get("filesystems") if isinstance(topo.get("filesystems"), dict) else {}
    mountpoints = {fs.get("mountpoint"): f"filesystems:{name}" for name, fs in filesystems.items()
                   if isinstance(fs, dict) and isinstance(fs.get("mountpoint"), str)}
    disks = {info.get("disk"): rname for rname, res in (resources or {}).items()
             for info in res.get("nodes", {}).values() if isinstance(info, dict)}
    def vg_name(vg: str, vpath: Path) -> bool:
        if _VG_RE.fullmatch(vg):
            return True
        c.add(vpath, f"{_show(vg)} is not a valid volume group name", "use letters, digits, '+', '_', '.', '-'")
        return False

    for vg, vpath, group in c.entries(lvm, ("lvm",), LVM_VG_KEYS, "{pvs: [...], lvs: {name: size}}", key=vg_name,
                                      skip_bad_keys=False):
        pvs = group.get("pvs")
        if pvs is not None and (not isinstance(pvs, list) or not pvs):
            c.add((*vpath, "pvs"), "must be a non-empty list of devices",
                  "e.g. [/dev/vdc], or leave it out for a volume group that exists already")
        elif pvs is not None:
            for index, pv in enumerate(pvs):
                c.abspath(pv, (*vpath, "pvs", index))
        lvs = c.mapping(group.get("lvs"), (*vpath, "lvs"), what="a mapping {lv: size}") or {}
        for lv, entry in lvs.items():
            lpath = (*vpath, "lvs", lv)
            if not _VG_RE.fullmatch(lv):
                c.add(lpath, f"{_show(lv)} is not a valid logical volume name", "use letters, digits, '_', '-'")
            if isinstance(entry, dict):
                c.keys(entry, LVM_LV_KEYS, lpath)
                size, spath = entry.get("size"), (*lpath, "size")
            else:
                size, spath = entry, lpath
            if not isinstance(size, str) or not _LV_SIZE_RE.fullmatch(size):
                c.add(spath, f"size {size!r} is not valid", "e.g. 100M, 2G or 50%FREE")
            if isinstance(entry, dict):
                _lv_filesystem(c, entry, lpath, (vg, lv), mountpoints, disks)


def _lv_filesystem(c: _Checker, entry: dict, lpath: Path, names: tuple[str, str], mountpoints: dict,
                   disks: dict) -> None:
    """An unreplicated LV's ``filesystem``, ``mountpoint`` and ``mount_options`` (seed 001's rep-no)."""
    fstype = c.enum(entry.get("filesystem"), (*lpath, "filesystem"), LV_FS_TYPES)
    mountpoint = c.abspath(entry.get("mountpoint"), (*lpath, "mountpoint"))
    c.str_list(entry.get("mount_options"), (*lpath, "mount_options"), what="mount option")
    if ("filesystem" in entry) != ("mountpoint" in entry):
        missing = "mountpoint" if "filesystem" in entry else "filesystem"
        c.add((*lpath, missing), "is required with " + ("filesystem" if missing == "mountpoint" else "mountpoint"),
              "an unreplicated volume has both: filesystem: ext4, mountpoint: /vol/<name>")
    if "mount_options" in entry and "filesystem" not in entry:
        c.add((*lpath, "mount_options"), "is only for an LV with a filesystem", "drop it, or set filesystem")
    if mountpoint is not None:
        if mountpoint in mountpoints:
            c.add((*lpath, "mountpoint"), f"{mountpoint} is already used by {mountpoints[mountpoint]}",
                  "give each volume its own mountpoint")
        else:
            mountpoints[mountpoint] = ":".join(("lvm", names[0], "lvs", names[1]))
    vg, lv = names
    for path in (f"/dev/{vg}/{lv}", f"/dev/mapper/{vg.replace('-', '--')}-{lv.replace('-', '--')}"):
        if fstype is not None and path in disks:
            c.add((*lpath, "filesystem"), f"{path} is the backing disk of DRBD resource {disks[path]}",
                  "a DRBD backing LV carries no filesystem of its own: drop filesystem/mountpoint")


# -- partitions -------------------------------------------------------------------------------------
def partition_of(disk: str) -> str:
    """Partition 1 of ``disk`` as the kernel names it (``hapair.partition.partition_path``).

    >>> partition_of("/dev/sdc"), partition_of("/dev/nvme0n1")
    ('/dev/sdc1', '/dev/nvme0n1p1')
    """
    from hapair.partition import partition_path  # noqa: PLC0415 - the core owns the rule

    return partition_path(disk)


def _partitions(c: _Checker, value: Any, nodes: dict) -> None:
    """``partitions: {<disk>: {table: msdos|gpt, partition: <path>, nodes: [...]}}``."""
    disks = c.mapping(value, ("partitions",), what="a mapping {<disk>: {table, partition, nodes}}")
    if disks is None:
        return
    def a_disk(disk: str, parts: Path) -> bool:
        if c.abspath(disk, parts, kind="drbd_path") is None:
            return False
        if _DRBD_DEV_RE.fullmatch(disk) or disk.startswith("/dev/drbd"):
            c.add(parts, "is a DRBD device, not a disk", "name the backing disk, e.g. /dev/sdc")
            return False
        return True

    taken: dict[str, str] = {}
    # a disk with no settings (`/dev/vdc:`) is partitioned with the defaults
    for disk, parts, entry in c.entries({d: {} if s is None else s for d, s in disks.items()}, ("partitions",),
                                        PARTITION_KEYS, "{table, partition, nodes}", key=a_disk, required=False):
        c.enum(entry.get("table"), (*parts, "table"), PARTITION_TABLES)
        _node_list(c, entry.get("nodes"), (*parts, "nodes"), nodes)
        if entry.get("nodes") == []:
            c.add((*parts, "nodes"), "is empty", "name the nodes that partition this disk, or drop the entry")
        if "partition" in entry:
            partition = c.abspath(entry["partition"], (*parts, "partition"), kind="drbd_path")
        else:
            partition = partition_of(disk)
            if not fields.is_drbd_path(partition):
                c.add(parts, f"its partition {_show(partition)} is not a valid DRBD disk path",
                      "set `partition` to its path")
                partition = None
        if partition is None:
            continue
        if partition == disk:
            c.add((*parts, "partition"), "is the disk itself", f"e.g. {partition_of(disk)}")
        elif partition in taken or partition in disks:
            c.add((*parts, "partition"), f"{partition} is already named by partitions:{taken.get(partition, partition)}",
                  "one partition per disk entry")
        taken[partition] = disk


# -- tuning -----------------------------------------------------------------------------------------
TUNING_KEYS = ("sysctl",)
SYSCTL_KEY_RE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_-]+)+")
SYSCTL_VALUE_RE = re.compile(r"[0-9]+(?: [0-9]+)*")


def _tuning(c: _Checker, value: Any) -> None:
    """``tuning: {sysctl: {<key>: <value>}}``: kernel parameters both nodes persist and apply (seed
    001's vm.min_free_kbytes and kernel.panic). A key is a dotted sysctl name, a value an integer or
    integers separated by one space: nothing else reaches /etc/sysctl.d or ``sysctl -w``."""
    section = c.mapping(value, ("tuning",), what="{sysctl: {vm.min_free_kbytes: 65536}}")
    if section is None:
        return
    c.keys(section, TUNING_KEYS, ("tuning",))
    sysctl = c.mapping(section.get("sysctl"), ("tuning", "sysctl"), what="a mapping {<key>: <value>}")
    for key, val in (sysctl or {}).items():
        parts = ("tuning", "sysctl", key)
        if not (isinstance(key, str) and len(key) <= 128 and SYSCTL_KEY_RE.fullmatch(key)):
            c.add(parts, f"{_show(key)} is not a sysctl name", "a dotted name like vm.min_free_kbytes")
            continue
        text = str(val) if isinstance(val, int) and not isinstance(val, bool) and val >= 0 else val
        if not (isinstance(text, str) and len(text) <= 128 and SYSCTL_VALUE_RE.fullmatch(text)):
            c.add(parts, f"{_show(val)} is not a sysctl value hapair writes",
                  "a non-negative integer, or integers separated by one space")


# -- unison -----------------------------------------------------------------------------------------
UNISON_KEYS = ("profiles", "ssh_key")
UNISON_KEY_KEYS = ("private", "public")


def _unison(c: _Checker, value: Any, nodes: dict) -> None:
    """``unison: {profiles: {<name>: {root, client, schedule, logfile, rotate}}, ssh_key: {private, public}}``."""
    from hapair import unison  # noqa: PLC0415 - the core owns the grammar of its files

    section = c.mapping(value, ("unison",), what="{profiles: {<name>: {root: /vol/...}}}")
    if section is None:
        return
    c.keys(section, UNISON_KEYS, ("unison",))
    profiles = c.mapping(section.get("profiles"), ("unison", "profiles"), required=True,
                         what="a mapping {<profile>: {root: /vol/rep-unison}}")
    if profiles is not None and not profiles:
        c.add(("unison", "profiles"), "is empty", "name at least one profile, e.g. vol-rep-unison: {root: /vol/rep-unison}")
    def profile_name(name: str, parts: Path) -> bool:
        if unison.is_profile_name(name):
            return True
        c.add(parts, f"{_show(name)} is not a valid profile name", "use [A-Za-z0-9][A-Za-z0-9_-]*, <= 64 bytes")
        return False

    for _name, parts, prof in c.entries(profiles or {}, ("unison", "profiles"), unison.PROFILE_KEYS,
                                        "{root, client, schedule, logfile, rotate}", key=profile_name,
                                        skip_bad_keys=False):
        c.abspath(prof.get("root"), (*parts, "root"), required=True)
        _node_ref(c, prof.get("client"), (*parts, "client"), nodes)
        if prof.get("schedule") is not None and not unison.is_schedule(prof["schedule"]):
            c.add((*parts, "schedule"), f"{_show(prof['schedule'])} is not a cron schedule",
                  "five fields of digits and * / , - (e.g. '0 0 * * *'), or @daily")
        c.abspath(prof.get("logfile"), (*parts, "logfile"))
        c.integer(prof.get("rotate"), (*parts, "rotate"), 1, 3650)
    key = c.mapping(section.get("ssh_key"), ("unison", "ssh_key"), what="{private, public}")
    if key is not None:
        c.keys(key, UNISON_KEY_KEYS, ("unison", "ssh_key"))
        if key.get("private") is not None and not unison.is_private_key(key["private"]):
            c.add(("unison", "ssh_key", "private"), "is not an unencrypted OpenSSH private key",
                  "leave it out: the hapair_secrets ext_pillar makes the pair's key")
        if key.get("public") is not None and not unison.is_public_key(key["public"]):
            c.add(("unison", "ssh_key", "public"), f"{_show(key['public'])} is not one ssh-ed25519 key line",
                  "ssh-ed25519 <base64> [comment]")
