"""The orchestration SLS writes values as data: every expression in orch.hapair.bootstrap, the node
step and the shared state renderer is ``| json`` (targets included), and no SLS re-derives the
topology from raw pillar: the steps and states come from hapair.bootstrap, after validation."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = ["salt/orch/hapair/bootstrap.sls", "salt/orch/hapair/node/step.sls", "salt/hapair/states.jinja",
         "salt/hapair/drbd/init.sls"]


def text(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("path", FILES)
def test_every_expression_is_json_or_the_renderer(path):
    for expr in re.findall(r"\{\{-?(.*?)-?\}\}", text(path), flags=re.S):
        expr = expr.strip()
        assert expr.endswith("| json") or expr.startswith("render("), (path, expr)


@pytest.mark.parametrize("path", FILES)
def test_no_sls_reads_the_raw_topology(path):
    assert "hapair:topologies" not in text(path)


def test_bootstrap_targets_are_lists():
    body = text("salt/orch/hapair/bootstrap.sls")
    assert body.count("- tgt: {{ step.targets | json }}") == body.count("- tgt_type: list") == 2
    assert "join(" not in body
