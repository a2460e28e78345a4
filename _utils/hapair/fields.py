"""Per-field whitelists for every string that reaches a rendered file, a command or a target.

One owner for "is this text safe here": validation (``hapair.validate``) refuses a pillar value
that fails its field's check, with the pillar path; renderers call ``require`` on every value
they write, so a value that bypassed validation is refused, never written. Every check is a full
match (``re.fullmatch``): a trailing newline never passes.

>>> is_name("r0"), is_name("r1\\n"), is_minion_id("node2,node3")
(True, False, False)
>>> require("path", "/srv/www", "mountpoint")
'/srv/www'
>>> require("path", "/srv/www extra", "mountpoint")
Traceback (most recent call last):
...
hapair.errors.RenderError: mountpoint: '/srv/www extra' is not a valid path (absolute, no whitespace, no control characters)
"""

from __future__ import annotations

import re
from typing import Any, Callable

from hapair.errors import RenderError

# DRBD and most tools cap names well below this; drbdadm refuses names over 255 bytes.
MAX_NAME = 255
MAX_PATH = 4095

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")
# Salt minion ids: no comma (list targets), no whitespace, no glob or compound-target syntax.
_MINION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# RFC 1123 hostname labels, dot-separated.
_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")
# An absolute path: no whitespace, no control characters, no quotes, no '#' (comment); a single ':'
# (udev's /dev/disk/by-path names) but never '::' (haresources' field separator).
_PATH = re.compile(r"/[A-Za-z0-9_.+@%,=:/-]*")
# One whitespace-free token of a tool's option grammar (mount options, exports options, ...).
_TOKEN = re.compile(r"[A-Za-z0-9_.,:=/+@%-]+")
# C0 and C1 controls and the Unicode line/paragraph separators (str.splitlines() breaks on all of them)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character (newline, CR, NUL, tab, ...).

    >>> has_control("a\\tb"), has_control("ab")
    (True, False)
    """
    return bool(_CONTROL.search(text))


def is_name(value: Any) -> bool:
    """A resource, group, cluster or service name: ``[A-Za-z0-9][A-Za-z0-9_.+-]*``, <= 255 bytes.

    >>> is_name("r0"), is_name("r0.res/../x"), is_name("-r")
    (True, False, False)
    """
    return isinstance(value, str) and len(value.encode()) <= MAX_NAME and bool(_NAME.fullmatch(value))


def is_minion_id(value: Any) -> bool:
    """A Salt minion id safe as a list-target element: no comma, glob, whitespace or '@'.

    >>> is_minion_id("node1.example.org"), is_minion_id("*"), is_minion_id("a b")
    (True, False, False)
    """
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(_MINION_ID.fullmatch(value))


def is_hostname(value: Any) -> bool:
    """An RFC 1123 hostname (what ``uname -n`` prints and DRBD's ``on`` sections name).

    >>> is_hostname("node1"), is_hostname("node1.lab"), is_hostname("node_1")
    (True, True, False)
    """
    return isinstance(value, str) and len(value) <= 253 and bool(_HOSTNAME.fullmatch(value))


def is_path(value: Any) -> bool:
    """An absolute path with no whitespace, control character, quote, '#' or '::'.

    >>> is_path("/dev/vg0/rep-drbd0"), is_path("/dev/disk/by-path/pci-0000:00:05.0")
    (True, True)
    >>> is_path("/dev/x::y"), is_path("relative")
    (False, False)
    """
    return (isinstance(value, str) and len(value) <= MAX_PATH and "::" not in value
            and bool(_PATH.fullmatch(value)))


def is_token(value: Any) -> bool:
    """One whitespace-free option token (``noatime,nodiratime``, ``rw,sync``, ``10.0.0.0/24``).

    >>> is_token("rw,sync,no_subtree_check"), is_token("rw /x *(rw)")
    (True, False)
    """
    return isinstance(value, str) and bool(_TOKEN.fullmatch(value))


CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "name": (is_name, "letters, digits, '.', '_', '+' and '-', starting with a letter or digit"),
    "minion_id": (is_minion_id, "letters, digits, '.', '_' and '-' (no comma, glob or space)"),
    "hostname": (is_hostname, "an RFC 1123 hostname: letters, digits and '-', dot-separated"),
    "path": (is_path, "absolute, no whitespace, no control characters"),
    "token": (is_token, "letters, digits and , . : = / + @ % _ - with no whitespace"),
}


def require(kind: str, value: Any, what: str) -> str:
    """Return ``value`` when it passes the ``kind`` check, else raise ``RenderError`` naming ``what``.

    >>> require("name", "r0", "resource")
    'r0'
    """
    check, rule = CHECKS[kind]
    if not check(value):
        raise RenderError(f"{what}: {value!r} is not a valid {kind.replace('_', ' ')} ({rule})")
    return value


_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


def flag(value: Any, what: str) -> bool:
    """Parse an override flag strictly: a bool, 1/0, or true/false/yes/no/1/0 (any case).

    Salt hands CLI and SLS arguments through as given, so ``force="no"`` must mean no, never
    "a non-empty string, so yes". Anything else raises ``RenderError`` naming the argument.

    >>> flag(True, "force"), flag("No", "force"), flag("YES", "overwrite"), flag(0, "overwrite")
    (True, False, True, False)
    >>> flag("nope", "overwrite_data")
    Traceback (most recent call last):
    ...
    hapair.errors.RenderError: overwrite_data: 'nope' is not a flag (True/False, yes/no, 1/0)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise RenderError(f"{what}: {value!r} is not a flag (True/False, yes/no, 1/0)")


# --- exports(5) client specs and XML names (the renderers of /etc/exports and cluster.conf) ---

# exports(5) clients: hosts, wildcards (*, ?), @netgroups, networks (a/b), [IPv6]; never whitespace
# (a new client) or parentheses (an option list).
# A leading "-" would make exportfs read the word as default options for the path.
_EXPORT_CLIENT = re.compile(r"[A-Za-z0-9_.*?@/:\[\]][A-Za-z0-9_.*?@/:\[\]-]*")
# An XML 1.0 name, ASCII and without ':' (no namespaces in cluster.conf).
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def is_export_client(value: Any) -> bool:
    """One exports(5) client spec: ``*``, ``*.lab``, ``10.0.0.0/24``, ``@trusted``, ``[fe80::1]``.

    >>> is_export_client("*"), is_export_client("10.0.0.0/24"), is_export_client("* /(rw)")
    (True, True, False)
    """
    return isinstance(value, str) and len(value) <= MAX_PATH and bool(_EXPORT_CLIENT.fullmatch(value))


def is_xml_name(value: Any) -> bool:
    """An XML element or attribute name (ASCII, no namespace prefix).

    >>> is_xml_name("two_node"), is_xml_name('x="1"/><evil'), is_xml_name("a\\n")
    (True, False, False)
    """
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(_XML_NAME.fullmatch(value))


CHECKS["export_client"] = (is_export_client, "a host, *.wildcard, @netgroup or network, no whitespace")
CHECKS["xml_name"] = (is_xml_name, "letters, digits, '_', '.' and '-', starting with a letter or '_'")


# --- the remaining field kinds of the pillar ---

# drbdadm's lexer: a bare word is at most 128 bytes, a quoted string at most 255; ':' ends a bare word.
DRBD_WORD_MAX = 128
DRBD_STRING_MAX = 255
_TOPOLOGY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_INTERFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DRBD_KEY = re.compile(r"[a-z0-9][a-z0-9-]*")
_DRBD_WORD = re.compile(r"[A-Za-z0-9_./+@-]+")
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*(::[A-Za-z0-9_.,=/+@%-]+)*")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
SYSLOG_FACILITIES = ("auth", "authpriv", "cron", "daemon", "ftp", "kern", "lpr", "mail", "news", "syslog",
                     "user", "uucp", *(f"local{n}" for n in range(8)))


def is_topology(value: Any) -> bool:
    """A topology name (file names, the DRBD handler's argument): no '.', '+', at most 64 bytes.

    >>> is_topology("lab_gfs2"), is_topology("web.x"), is_topology("web\\n")
    (True, False, False)
    """
    return isinstance(value, str) and len(value) <= 64 and bool(_TOPOLOGY.fullmatch(value))


def is_interface(value: Any) -> bool:
    """A Linux network interface name (at most 15 bytes, no '/', ':' or whitespace).

    >>> is_interface("eth1"), is_interface("bond0.100"), is_interface("eth1 eth2")
    (True, True, False)
    """
    return isinstance(value, str) and bool(_INTERFACE.fullmatch(value))


def is_identifier(value: Any) -> bool:
    """A ``[A-Za-z_][A-Za-z0-9_]*`` key (corosync.conf, dlm.conf), at most 64 bytes.

    >>> is_identifier("token_coefficient"), is_identifier("to syslog")
    (True, False)
    """
    return isinstance(value, str) and len(value) <= 64 and bool(_IDENTIFIER.fullmatch(value))


def is_drbd_key(value: Any) -> bool:
    """A DRBD option keyword: ``[a-z0-9][a-z0-9-]*``, at most 64 bytes.

    >>> is_drbd_key("ping-int"), is_drbd_key("ping-int\\n"), is_drbd_key("Ping")
    (True, False, False)
    """
    return isinstance(value, str) and len(value) <= 64 and bool(_DRBD_KEY.fullmatch(value))


def is_drbd_word(value: Any) -> bool:
    """A value drbdadm reads as one bare word (``100M``, ``resource-only``, ``crc32c``).

    >>> is_drbd_word("100M"), is_drbd_word("30; }"), is_drbd_word("a:b")
    (True, False, False)
    """
    return (isinstance(value, str) and len(value.encode()) <= DRBD_WORD_MAX
            and bool(_DRBD_WORD.fullmatch(value)))


def is_drbd_path(value: Any) -> bool:
    """A path (``is_path``) drbdadm takes: at most 128 bytes (the renderer quotes one holding ':').

    >>> is_drbd_path("/dev/vg0/r0"), is_drbd_path("/dev/" + "d" * 124)
    (True, False)
    """
    return is_path(value) and len(value.encode()) <= DRBD_WORD_MAX


_DRBD_DEVICE = re.compile(r"/dev/drbd([0-9]+|_[A-Za-z0-9_.+-]+)")


def is_drbd_device(value: Any) -> bool:
    """A DRBD device path drbdadm accepts: ``/dev/drbd<minor>`` or ``/dev/drbd_<name>``.

    >>> is_drbd_device("/dev/drbd0"), is_drbd_device("/dev/drbd_web"), is_drbd_device("/dev/drbd0,")
    (True, True, False)
    """
    return is_drbd_path(value) and bool(_DRBD_DEVICE.fullmatch(value))


def is_text(value: Any) -> bool:
    """One line of free text (a command, an XML attribute value): no control characters.

    >>> is_text("/sbin/drbdsetup $DRBD_MINOR secondary"), is_text("a\\x00b")
    (True, False)
    """
    return isinstance(value, str) and len(value) <= MAX_PATH and not has_control(value)


def is_secret(value: Any) -> bool:
    """A secret written into a file or a command line: no whitespace, no control characters.

    >>> is_secret("s3cret!"), is_secret("two words"), is_secret("nul\\x00")
    (True, False, False)
    """
    return (isinstance(value, str) and 0 < len(value) <= MAX_PATH and not has_control(value)
            and not any(ch.isspace() for ch in value))


def is_service(value: Any) -> bool:
    """A heartbeat haresources resource: ``name`` or ``name::arg::arg`` (no whitespace, no '/' in the name).

    >>> is_service("apache2"), is_service("MailTo::root@example.org"), is_service("../x"), is_service("a b")
    (True, True, False, False)
    """
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(_SERVICE.fullmatch(value))


def is_base64(value: Any) -> bool:
    """Standard base64 text (padding included, no line breaks).

    >>> is_base64("YWJjZA=="), is_base64("abc\\ndef")
    (True, False)
    """
    return isinstance(value, str) and bool(value) and bool(_BASE64.fullmatch(value))


_UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")


def is_unit(value: Any) -> bool:
    """A service a group starts: a systemd unit or init script name (``apache2``, ``lxc@web``),
    <= 255 bytes, no ':' (haresources' argument separator), '/' or whitespace.

    >>> is_unit("apache2"), is_unit("lxc@web.service"), is_unit("IPaddr::x"), is_unit("../x")
    (True, True, False, False)
    """
    return isinstance(value, str) and len(value.encode()) <= MAX_NAME and bool(_UNIT.fullmatch(value))


_URL_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")


def is_url_path(value: Any) -> bool:
    """The path part of an http URL hapair builds (the group canary's): ``/`` then unreserved
    characters only, no ``..`` segment, <= 255 bytes.

    >>> is_url_path("/hapair-canary.txt"), is_url_path("/a?b"), is_url_path("/../etc")
    (True, False, False)
    """
    return (isinstance(value, str) and len(value.encode()) <= MAX_NAME and bool(_URL_PATH.fullmatch(value))
            and ".." not in value.split("/"))


def is_facility(value: Any) -> bool:
    """A syslog facility name (``local0``, ``daemon``, ...).

    >>> is_facility("local0"), is_facility("local9")
    (True, False)
    """
    return isinstance(value, str) and value in SYSLOG_FACILITIES


CHECKS.update({
    "topology": (is_topology, "letters, digits, '_' and '-', starting with a letter or digit, <= 64 bytes"),
    "interface": (is_interface, "an interface name: letters, digits, '_', '.' and '-', <= 15 bytes"),
    "identifier": (is_identifier, "letters, digits and '_', starting with a letter or '_'"),
    "drbd_key": (is_drbd_key, "lower-case letters, digits and '-'"),
    "drbd_word": (is_drbd_word, "letters, digits and _ . / + @ -, <= 128 bytes (no ':' or whitespace)"),
    "drbd_path": (is_drbd_path, "absolute, no whitespace, '::', quote or '#', <= 128 bytes"),
    "drbd_device": (is_drbd_device, "/dev/drbd<minor> or /dev/drbd_<name>"),
    "text": (is_text, "one line without control characters"),
    "secret": (is_secret, "no whitespace or control characters"),
    "service": (is_service, "a resource name, optionally with ::arguments, no whitespace"),
    "unit": (is_unit, "a systemd unit or init script name: letters, digits and _ . @ + -"),
    "url_path": (is_url_path, "a URL path: '/' then letters, digits and . _ ~ / -, no '..'"),
    "base64": (is_base64, "base64 text without line breaks"),
    "facility": (is_facility, "a syslog facility: " + ", ".join(SYSLOG_FACILITIES)),
})
