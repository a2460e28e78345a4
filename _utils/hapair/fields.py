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
# An absolute path: no whitespace, no control characters, no quotes, no '#' (comment) and no ':'
# doubled (drbdadm reads '::' as a syntax element).
_PATH = re.compile(r"/[A-Za-z0-9_.+@%,=/-]*")
# One whitespace-free token of a tool's option grammar (mount options, exports options, ...).
_TOKEN = re.compile(r"[A-Za-z0-9_.,:=/+@%-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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

    >>> is_path("/dev/vg0/rep-drbd0"), is_path("/dev/x::y"), is_path("relative")
    (True, False, False)
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
