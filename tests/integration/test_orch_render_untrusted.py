"""Orchestration targets and state IDs are data (issue 12, "Orchestration targets").

Renders orch.hapair.bootstrap and a node SLS with Salt's real jinja|yaml renderer
(``salt-call --local state.show_sls``, no daemons) for topologies whose minion ids and resource
names are hostile (straight from the pillar: rendering runs before hapair.validate). A minion id
``node2,node3`` must not widen a list target, a multi-line one must not add ``tgt: '*'`` or
``highstate: True`` to a step, a resource name must not add a state. Such a topology renders as its
validation step alone; a clean one targets exactly its minion ids, as a list.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SALT_CALL = os.path.join(os.path.dirname(sys.executable), "salt-call")

pytestmark = pytest.mark.integration

INJECTED = "\n    - tgt: '*'\n    - tgt_type: glob\n    - highstate: True"


def topology(minion2="node2", resource="r0"):
    return {"nodes": {"a": {"minion_id": "node1", "hostname": "node1", "address": "10.0.0.1"},
                      "b": {"minion_id": minion2, "hostname": "node2", "address": "10.0.0.2"}},
            "drbd": {"resources": {resource: {"mode": "single-primary", "initial_primary": "a", "minor": 0,
                                              "port": 7788, "disk": "/dev/vdb"}}},
            "cluster": {"stack": "none"}}


TOPOLOGIES = {
    "good": topology(),
    "widened": topology("node2,node3"),
    "multiline": topology("node2" + INJECTED),
    "globbed": topology("node*"),
    "evilres": topology(resource="r0-x:\n  cmd.run:\n    - name: id\nhapair-orch-drbd-r1"),
}

# every argument a bootstrap step may carry (salt.state, salt.function and salt.runner steps)
ALLOWED = {"tgt", "tgt_type", "queue", "sls", "pillar", "require", "order", "name", "topology", "condition",
           "timeout", "filesystem", "resource", "deployed"}


@pytest.fixture(scope="module")
def show_sls(tmp_path_factory):
    conf = tmp_path_factory.mktemp("orchuntrusted")
    pillar = conf / "pillar"
    pillar.mkdir()
    (pillar / "top.sls").write_text("base:\n  '*':\n    - hostile\n", encoding="utf-8")
    (pillar / "hostile.sls").write_text(yaml.safe_dump({"hapair": {"topologies": TOPOLOGIES}}), encoding="utf-8")
    with open(conf / "minion", "w", encoding="utf-8") as handle:
        yaml.safe_dump({"id": "node1", "root_dir": str(conf / "root"), "file_client": "local",
                        "file_roots": {"base": [os.path.join(ROOT, "salt")]},
                        "pillar_roots": {"base": [str(pillar)]}, "user": "root"}, handle)

    def render(sls, name, step=None):
        pillar = {"topology": name, **({"step": step} if step else {})}
        proc = subprocess.run([SALT_CALL, "--local", "-c", str(conf), "--out=json", "--log-level=quiet",
                               "state.show_sls", sls, "pillar=" + json.dumps(pillar)],
                              capture_output=True, text=True, timeout=120, check=False)
        data = json.loads(proc.stdout)["local"]
        assert isinstance(data, dict), data
        return {k: v for k, v in data.items() if not k.startswith("__")}

    return render


def args(body):
    items = next(iter(v for k, v in body.items() if not k.startswith("__")))
    return [(k, v) for item in items if isinstance(item, dict) for k, v in item.items()]


def test_clean_topology_targets_exactly_its_minions_as_a_list(show_sls):
    steps = show_sls("orch.hapair.bootstrap", "good")
    targeted = [dict(args(body)) for body in steps.values() if "tgt" in dict(args(body))]
    assert len(targeted) == 2  # drbd-up (up to the initial sync), roles (after the sync)
    assert all(a["tgt"] == ["node1", "node2"] and a["tgt_type"] == "list" for a in targeted), targeted
    assert all({k for k, _ in args(body)} <= ALLOWED for body in steps.values())


@pytest.mark.parametrize("name", ["widened", "multiline", "globbed", "evilres"])
def test_hostile_ids_render_only_the_validation_step(show_sls, name):
    steps = show_sls("orch.hapair.bootstrap", name)
    assert list(steps) == ["hapair-bootstrap-validate"], steps
    assert dict(args(steps["hapair-bootstrap-validate"]))["topology"] == name
    for body in steps.values():
        keys = [k for k, _ in args(body)]
        assert set(keys) <= ALLOWED and len(keys) == len(set(keys)), keys
        assert "tgt" not in keys and "highstate" not in keys


def test_hostile_resource_name_adds_no_state_on_the_node(show_sls):
    """The node's step renders from the validated topology only: a hostile name fails the render."""
    with pytest.raises(AssertionError) as err:
        show_sls("orch.hapair.node.step", "evilres", step="drbd-up")
    assert "failed: Problem running salt function" in str(err.value)  # pytest truncates the rest
    good = show_sls("orch.hapair.node.step", "good", step="drbd-up")
    assert not any("cmd" in body for body in good.values())
    assert "hapair-drbd-r0-up" in good
