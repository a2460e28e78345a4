"""A topology a node's cluster stack would refuse later is refused at validation, with its path.

Before, lab_gfs2 with ``enable_fencing: true`` and no fence method (the lab's before it had
ipmi_sim's BMCs) validated, and
``corosync.check_dlm`` refused it on the node at bootstrap step 7b, after the full initial sync.
"""

from __future__ import annotations

import copy
import importlib.util
import os

import pytest
import yaml
from conftest import ROOT
from hapair import topology
from hapair.errors import ValidationError


def pillar(name: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def fencing_without_a_method() -> dict:
    data = pillar("lab_gfs2")
    coro = data["hapair"]["topologies"]["lab_gfs2"]["cluster"]["corosync"]
    coro["dlm"]["enable_fencing"] = True
    del coro["fencing"]
    return data


PATHS = ["hapair:topologies:lab_gfs2:cluster:corosync:fencing:nodes:node1",
         "hapair:topologies:lab_gfs2:cluster:corosync:fencing:nodes:node2"]  # each node without a method


def test_dlm_fencing_without_a_method_is_refused_by_load():
    with pytest.raises(ValidationError) as err:
        topology.load(fencing_without_a_method(), "lab_gfs2")
    assert [e.path for e in err.value.errors] == PATHS


def test_the_runner_s_validate_refuses_it_before_any_job(tmp_path):
    spec = importlib.util.spec_from_file_location("hapair_runner_stack", os.path.join(ROOT, "_runners", "hapair.py"))
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    runner.__context__, runner.__opts__ = {}, {"cachedir": str(tmp_path), "id": "master"}
    out = runner.validate("lab_gfs2", pillar=fencing_without_a_method())
    assert out["result"] is False and all(any(p in e for e in out["errors"]) for p in PATHS), out


@pytest.mark.parametrize("name, change, section", [
    ("apache", lambda t: t["cluster"]["heartbeat"].update(media=[]), "heartbeat"),
])
def test_other_stack_checks_run_at_validation(name, change, section):
    data = copy.deepcopy(pillar(name))
    change(data["hapair"]["topologies"][name])
    with pytest.raises(ValidationError) as err:
        topology.load(data, name)
    assert all(e.path.startswith(f"hapair:topologies:{name}:cluster:{section}") for e in err.value.errors), err.value
