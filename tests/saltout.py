"""Reading what the Salt CLIs print, for the integration and lab tiers."""

from __future__ import annotations

import json


def last_json(text):
    """The last JSON document of ``salt-run --out=json`` output (progress lines print before it)."""
    decoder, pos, last = json.JSONDecoder(), 0, None
    text = text or ""
    while True:
        start = text.find("{", pos)
        if start < 0:
            return last
        try:
            last, pos = decoder.raw_decode(text, start)
        except ValueError:
            pos = start + 1
