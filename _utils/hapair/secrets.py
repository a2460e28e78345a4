"""Masking of secrets (shared-secret, fence passwords, authkeys) before anything leaves hapair.

Two rules, applied by :func:`mask` to every string it is given:

* every secret named (the topology's, and those read back from the files on disk with
  :func:`in_file`, so a rotated-out secret stays hidden) becomes ``********``;
* whatever follows a DRBD ``shared-secret`` option (``--shared-secret=x``, ``--shared-secret x``,
  ``shared-secret "x";``) is masked even when nobody named it (drbdadm prints the drbdsetup
  command line it ran, secret included, when that command fails).
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

from hapair.drbd_parse import _DUMP_TOKEN as _DRBD_TOKEN  # the DRBD config reader's tokeniser
from hapair.fencing import dlm_conf_secrets

MASK = "********"

# ``--shared-secret=x`` / ``--shared-secret x`` (drbdsetup argv) and ``shared-secret "x";`` (config).
_OPTION_RES = (re.compile(r"""(--shared-secret(?:=|[ \t]+))("[^"\n]*"|'[^'\n]*'|[^\s;'"]+)"""),
               re.compile(r"""(\bshared-secret[ \t]+)("[^"\n]*"|[^\s;'"]+(?=[ \t]*;))"""))
_AUTH_LINE_RE = re.compile(r"^\s*\d+\s+\S+\s+(\S+)", re.M)


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """Return ``value`` with every secret string replaced by ``********``, recursively.

    Works on strings, and on dicts, lists and tuples of them (keys too). Empty secrets are ignored.
    The value of any ``shared-secret`` option is masked too, named or not.

    >>> mask({"cmd": "shared-secret s3cr3t;"}, ["s3cr3t"])
    {'cmd': 'shared-secret ********;'}
    >>> mask("drbdsetup net r0 --shared-secret=unnamed --protocol=C", [])
    'drbdsetup net r0 --shared-secret=******** --protocol=C'
    """
    found = sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
    return _mask(value, found)


def _option(match: re.Match) -> str:
    value = match.group(2)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group(1)}{quote}{MASK}{quote}"


def _mask(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        if "shared-secret" in value:
            for pattern in _OPTION_RES:
                value = pattern.sub(_option, value)
        return value
    if isinstance(value, dict):
        return {_mask(k, secrets): _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask(v, secrets) for v in value)
    return value


def drbd_secrets(text: str) -> list[str]:
    """Every ``shared-secret`` value in DRBD config text, as written and unescaped (commented ones too).

    >>> drbd_secrets('resource r0 { net { shared-secret "a\\\\"b"; } }  # shared-secret old;')
    ['a\\\\"b', 'a"b', 'old']
    """
    found: list[str] = []
    tokens = _DRBD_TOKEN.findall(text or "")
    for i, tok in enumerate(tokens[:-1]):
        if tok.lstrip("#") != "shared-secret" or tokens[i + 1] in ("{", "}", ";"):
            continue
        value = tokens[i + 1]
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        for form in (value, re.sub(r"\\(.)", r"\1", value)):
            if form and form not in found:
                found.append(form)
    return found


def authkeys_secrets(text: str) -> list[str]:
    """The keys of a heartbeat ``authkeys`` file (``N method key`` lines; ``crc`` has none).

    >>> authkeys_secrets("auth 1\\n1 sha1 k3y\\n2 crc\\n")
    ['k3y']
    """
    return [m.group(1) for m in _AUTH_LINE_RE.finditer(text or "")]


def in_file(path: str, text: str | None) -> list[str]:
    """The secrets a hapair-written file holds, by file kind: DRBD ``.res``/``.conf``/``drbd.conf``
    (shared-secret), heartbeat ``authkeys``, cman ``cluster.conf`` and dlm_controld's ``dlm.conf``
    (fence passwords...); else ``[]``.

    >>> in_file("/etc/ha.d/authkeys", "auth 1\\n1 md5 k3y\\n")
    ['k3y']
    """
    if not text:
        return []
    base = os.path.basename(path)
    if base == "authkeys":
        return authkeys_secrets(text)
    if base == "cluster.conf" and text.lstrip().startswith("<"):
        from hapair.cman import secrets_in  # noqa: PLC0415 - hapair.cman imports this module

        return secrets_in(text)
    if base == "dlm.conf":
        return dlm_conf_secrets(text)
    if base.endswith((".res", ".conf")):
        return drbd_secrets(text)
    return []
