"""Masking of secrets (shared-secret, fence passwords, authkeys) before anything leaves hapair."""

from __future__ import annotations

from typing import Any, Iterable

MASK = "********"


def mask(value: Any, secrets: Iterable[str]) -> Any:
    """Return ``value`` with every secret string replaced by ``********``, recursively.

    Works on strings, and on dicts, lists and tuples of them (keys too). Empty secrets are ignored.

    >>> mask({"cmd": "shared-secret s3cr3t;"}, ["s3cr3t"])
    {'cmd': 'shared-secret ********;'}
    """
    found = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not found:
        return value
    return _mask(value, found)


def _mask(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_mask(k, secrets): _mask(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secrets) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask(v, secrets) for v in value)
    return value
