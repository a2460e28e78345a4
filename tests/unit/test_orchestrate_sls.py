"""The orchestration SLS mirrors hapair.fields' whitelists (SLS cannot import the core): the
patterns in salt/orch/hapair/map.jinja must stay the core's, anchored for Salt's ``match`` test."""

from __future__ import annotations

import os
import re

from hapair import fields

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def jinja_pattern(name: str) -> str:
    with open(os.path.join(ROOT, "salt", "orch", "hapair", "map.jinja"), encoding="utf-8") as handle:
        return re.search(rf"set {name} = '([^']*)'", handle.read()).group(1)


def test_map_jinja_names_are_fields_names():
    assert jinja_pattern("NAME_RE") == f"^{fields._NAME.pattern}$"
    assert jinja_pattern("MINION_ID_RE") == f"^{fields._MINION_ID.pattern}$"
    assert fields.MAX_NAME == 255  # the jinja check's length limit


def test_bootstrap_targets_render_as_json():
    with open(os.path.join(ROOT, "salt", "orch", "hapair", "bootstrap.sls"), encoding="utf-8") as handle:
        text = handle.read()
    assert "set tgt = minion_ids | json" in text and "join(',')" not in text
    assert text.count("- tgt: {{ tgt }}") == text.count("- tgt_type: list")
