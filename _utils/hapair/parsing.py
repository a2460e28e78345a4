"""What every parser of tool output shares: numbers and JSON read from untrusted text.

A tool's output is untrusted input (a broken tool, a truncated pipe, a hostile binary on the
``PATH``): these helpers turn every way it can be wrong into :class:`hapair.errors.ParseError`
naming the line, in time linear in the input. Python's ``int()`` refuses strings of more than
4300 digits with a ``ValueError`` and ``json`` recurses once per nesting level: both are caught
here, deep JSON is refused before it is decoded.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping, Optional, Union

from hapair.errors import ParseError, RefusedError

# drbdsetup status --json nests 5 levels (resources, connections, peer_devices), lvm2 reports 4
MAX_JSON_DEPTH = 32
# a JSON string (closing quote optional, so an unterminated one ends the scan) or a bracket
_JSON_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"?|[][{}]')


def to_int(tool: str, line_no: int, line: str, value: Any, what: str = "value", base: int = 10) -> int:
    """``int(value, base)``, or ParseError naming ``what`` (not a number, or too many digits).

    >>> to_int("t", 1, "x: 0x1f", "0x1f", base=0)
    31
    """
    try:
        return int(value, base)
    except (TypeError, ValueError):
        shown = value if not isinstance(value, str) or len(value) <= 40 else value[:40] + "..."
        raise ParseError(tool, line_no, line, f"{what} is not a number ({shown!r})") from None


def json_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in ``text``, brackets inside strings not counted (linear).

    >>> json_depth('[{"a": "[[["}, [1]]')
    2
    """
    depth = deepest = 0
    for match in _JSON_SCAN.finditer(text):
        tok = match.group()
        if tok in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif tok in ("]", "}"):
            depth = max(0, depth - 1)
    return deepest


def load_json(tool: str, text: str, max_depth: int = MAX_JSON_DEPTH,
              parse_constant: Optional[Callable[[str], Any]] = None) -> Any:
    """Decode JSON tool output; ParseError (with the line) on bad JSON, deep nesting or huge numbers.

    >>> load_json("t", '{"a": [1]}')
    {'a': [1]}
    """
    lines = text.splitlines()
    depth = json_depth(text)
    if depth > max_depth:
        raise ParseError(tool, 1, lines[0][:200] if lines else "",
                         f"JSON nested {depth} levels deep (at most {max_depth} expected)")
    try:
        return json.loads(text, parse_constant=parse_constant)
    except json.JSONDecodeError as err:
        line = lines[err.lineno - 1] if 0 < err.lineno <= len(lines) else ""
        raise ParseError(tool, err.lineno, line[:200], err.msg) from None
    except (ValueError, RecursionError) as err:  # a number beyond int()'s digit limit; recursion: failsafe
        raise ParseError(tool, 1, lines[0][:200] if lines else "", f"unreadable JSON ({str(err)[:80]})") from None


# --------------------------------------------------------------------------- blkid
#: ``blkid`` exits 2 when it finds nothing: no signature, or a device it cannot open (probe that first)
BLKID_NOTHING_FOUND = 2
_BLKID_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


def blkid_argv(blkid: str, device: str) -> list[str]:
    """The one blkid probe hapair runs: low-level (``-p``: the superblocks on ``device`` itself,
    not the cache, so a backing disk sharing a UUID is not mistaken for it), ``KEY=value`` output.

    >>> blkid_argv("blkid", "/dev/drbd0")
    ['blkid', '-p', '-o', 'export', '/dev/drbd0']
    """
    return [blkid, "-p", "-o", "export", device]


def parse_blkid(text: str) -> dict[str, str]:
    """Parse ``blkid -p -o export DEVICE`` into flat lower-case keys (blkid's names, lower-cased).

    Schema: ``{"devname", "type", "pttype", "label", "uuid", "usage", "version", "block_size", ...}``
    (only the keys blkid printed, values as text). Empty output (exit 2: nothing found) is ``{}``;
    a line that is not ``KEY=value`` is a ParseError. Example::

        DEVNAME=g.img
        LABEL=hardcore:gfs2-00
        TYPE=gfs2

    >>> parse_blkid("DEVNAME=g.img\\nLABEL=hardcore:gfs2-00\\nTYPE=gfs2\\n")
    {'devname': 'g.img', 'label': 'hardcore:gfs2-00', 'type': 'gfs2'}
    """
    out: dict[str, str] = {}
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not _BLKID_KEY.fullmatch(key):
            raise ParseError("blkid -o export", line_no, line[:200], "expected KEY=value")
        out[key.lower()] = value
    return out


def blkid_kind(signature: dict[str, str]) -> Optional[str]:
    """What ``parse_blkid`` found: the filesystem/RAID ``type``, else the partition table ``pttype``.

    >>> blkid_kind({"pttype": "dos"}), blkid_kind({})
    ('dos', None)
    """
    return signature.get("type") or signature.get("pttype") or None


#: The blkid keys a refusal names (in this order) when it describes what a device holds.
SIGNATURE_KEYS = ("type", "pttype", "label", "uuid")


def describe_signature(signature: Union[Mapping[str, str], str]) -> str:
    """What a device holds, in the words of a refusal: ``parse_blkid``'s dict, or a bare blkid TYPE.

    >>> describe_signature("xfs")
    'a xfs signature (blkid)'
    >>> describe_signature({"type": "ext4", "label": "data", "uuid": "5c1e"})
    "ext4 labelled 'data' (blkid: TYPE=ext4, LABEL=data, UUID=5c1e)"
    >>> describe_signature({"pttype": "dos"})
    'a dos signature (blkid: PTTYPE=dos)'
    """
    if isinstance(signature, str):
        return f"a {signature} signature (blkid)"
    kind = blkid_kind(dict(signature)) or "unknown"
    shown = ", ".join(f"{key.upper()}={signature[key]}" for key in SIGNATURE_KEYS if signature.get(key))
    what = f"{kind} labelled {signature['label']!r}" if signature.get("label") else f"a {kind} signature"
    return f"{what} (blkid: {shown})" if shown else f"{what} (blkid)"


def require_blank(device: str, signature: Union[Mapping[str, str], str, None], overwrite: bool = False,
                  override: str = "overwrite=True", then: str = "") -> None:
    """The one "any signature refuses" rule: RefusedError naming ``device`` and ``override`` when
    ``signature`` (``parse_blkid``'s dict, or a bare blkid TYPE) shows anything and ``overwrite`` is
    not set. ``then`` says what the write would do to it (``"mkfs.ext4 destroys it"``). Blank
    (``{}``, ``None``, ``""``) or allowed: returns None. Deciding that the signature is already the
    wanted one is the caller's (a planner returns ``[]`` before it asks).

    >>> require_blank("/dev/drbd0", {})
    >>> require_blank("/dev/drbd0", {"type": "ext4"}, then="formatting destroys it")
    Traceback (most recent call last):
    ...
    hapair.errors.RefusedError: refusing on /dev/drbd0: it carries a ext4 signature (blkid: TYPE=ext4); \
formatting destroys it; to proceed anyway pass overwrite=True
    """
    if not signature or overwrite:
        return
    reason = f"it carries {describe_signature(signature)}"
    raise RefusedError(device, f"{reason}; {then}" if then else reason, override)


# --------------------------------------------------------------------------- /proc/mounts
def parse_proc_mounts(text: str) -> list[dict[str, Any]]:
    r"""Parse /proc/mounts: ``[{"device", "mountpoint", "fstype", "options": [...]}]`` (octal escapes
    such as ``\040`` decoded); the one reader of it (``adapter.mounts``).

    >>> parse_proc_mounts("/dev/drbd0 /srv/a\\040b gfs2 rw,noatime 0 0\n")[0]["mountpoint"]
    '/srv/a b'
    """
    out = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) < 4:
            raise ParseError("/proc/mounts", line_no, line, "expected at least 4 fields")
        unescape = lambda s: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)  # noqa: E731
        out.append({"device": unescape(parts[0]), "mountpoint": unescape(parts[1]), "fstype": parts[2],
                    "options": parts[3].split(",")})
    return out
