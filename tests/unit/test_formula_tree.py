"""The formula tree's shape (issue 20): every SLS takes its topology from map.jinja (pillar
['topology'], else the one topology naming the minion), every part has a clean.sls, and
hapair/init.sls and hapair/clean.sls cover exactly the parts map.jinja can pick.
"""

from __future__ import annotations

import pathlib
import re

import pytest
from conftest import ROOT

FORMULA = pathlib.Path(ROOT) / "salt" / "hapair"
PARTS = sorted(p.parent.name for p in FORMULA.glob("*/init.sls") if p.parent.name != "reactor")
SLS = sorted(p for p in FORMULA.rglob("*.sls") if "reactor" not in p.parts)
IMPORT = '{%- from tplroot ~ "/map.jinja" import '


def test_the_parts():
    assert PARTS == ["corosync", "drbd", "gfs2", "heartbeat", "nfs", "o2cb", "ocfs2"]


@pytest.mark.parametrize("part", PARTS)
def test_every_part_has_a_clean_sls(part):
    assert (FORMULA / part / "clean.sls").is_file()


@pytest.mark.parametrize("path", SLS, ids=lambda p: str(p.relative_to(FORMULA)))
def test_every_sls_takes_its_topology_from_map_jinja(path):
    text = path.read_text(encoding="utf-8")
    assert "pillar.get']('topology'" not in text and "pillar['topology'] }}" not in text
    imports = [line for line in text.splitlines() if line.startswith(IMPORT)]
    assert len(imports) == 1, path
    names = {n.strip() for n in imports[0][len(IMPORT):].split(" with context")[0].split(",")}
    assert {"topology", "topology_error"} <= names
    assert "{%- if not topology %}" in text
    assert "- name: {{ topology_error | json }}" in text  # the rule's own message: none, or several


def test_map_jinja_picks_only_parts_that_exist():
    text = (FORMULA / "map.jinja").read_text(encoding="utf-8")
    picked = set(re.findall(r"components\.append\('([a-z0-9]+)'\)", text)) | {"drbd"}
    assert picked == set(PARTS)


def test_init_and_clean_include_the_picked_parts_in_opposite_orders():
    init = (FORMULA / "init.sls").read_text(encoding="utf-8")
    clean = (FORMULA / "clean.sls").read_text(encoding="utf-8")
    assert "{%-   for part in components %}\n  - {{ tplroot }}.{{ part }}\n" in init
    assert "{%-   for part in components | reverse %}\n  - {{ tplroot }}.{{ part }}.clean\n" in clean


def _lookup_keys():
    """Every ``hapair:lookup:<part>:<key>`` the formula reads: defaults.yaml's keys and each
    ``hapair.get('<part>', {})...get('<key>'`` / ``hapair.<part>.<key>`` in an SLS."""
    import yaml  # noqa: PLC0415

    defaults = yaml.safe_load((FORMULA / "defaults.yaml").read_text(encoding="utf-8"))["hapair"]
    keys = {(part, key) for part, values in defaults.items() for key in values}
    for path in SLS:
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)  # not the comments
        keys |= set(re.findall(r"hapair\.get\('(\w+)', \{\}\)\.get\('(\w+)'", text))
        keys |= set(re.findall(r"\bhapair\.(\w+)\.(\w+)\b", text)) - {("get", "get")}
        for var, part in re.findall(r"\{%- set (\w+) = hapair\.get\('(\w+)', \{\}\) %\}", text):
            keys |= {(part, key) for key in re.findall(rf"\b{var}\.get\('(\w+)'", text)}
    return keys


def test_lookup_keys_are_documented():
    keys = _lookup_keys()
    assert {("drbd", "sync_timeout"), ("o2cb", "packages"), ("heartbeat", "packages"), ("nfs", "service")} <= keys
    doc = (pathlib.Path(ROOT) / "docs" / "formula.md").read_text(encoding="utf-8")
    for part, key in sorted(keys):
        assert f"`hapair:lookup:{part}:{key}`" in doc, (part, key)
    documented = set(re.findall(r"`hapair:lookup:(\w+):(\w+)`", doc))
    assert documented == keys  # and nothing the formula does not read
