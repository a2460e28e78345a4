"""orch.hapair.bootstrap renders, for the repo's example topologies, into the steps of issue 5
in a strict requisite chain that starts with validation (``salt-call --local state.show_sls``:
the Salt renderer, no daemons). Pillar: the repo's pillar/ tree (seeds 000 and 001 and the lab).
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

# the peer's connection and the sync are waited for on the nodes (drbd-up, then the first step
# that changes roles): no gate for them
FULL = ["validate", "drbd-up", "roles", "gate-roles", "o2cb", "gate-o2cb-online", "mkfs", "mount", "gate-mounted",
        "canary"]


@pytest.fixture(scope="module")
def show_sls(tmp_path_factory):
    conf = tmp_path_factory.mktemp("orchrender")
    with open(conf / "minion", "w", encoding="utf-8") as handle:
        yaml.safe_dump({"id": "node1", "root_dir": str(conf / "root"), "file_client": "local",
                        "file_roots": {"base": [os.path.join(ROOT, "salt")]},
                        "pillar_roots": {"base": [os.path.join(ROOT, "pillar")]}, "user": "root"}, handle)

    def render(sls, topology, step=None):
        pillar = {"topology": topology, **({"step": step} if step else {})}
        proc = subprocess.run([SALT_CALL, "--local", "-c", str(conf), "--out=json", "--log-level=quiet",
                               "state.show_sls", sls, "pillar=" + json.dumps(pillar)],
                              capture_output=True, text=True, timeout=120, check=False)
        data = json.loads(proc.stdout)["local"]
        assert isinstance(data, dict), data
        return {k: v for k, v in data.items() if not k.startswith("__")}

    return render


def chain(steps):
    def order(body):
        return next(i["order"] for i in body["salt"] if isinstance(i, dict) and "order" in i)

    ordered = sorted(steps.items(), key=lambda kv: order(kv[1]))
    names = [k.replace("hapair-bootstrap-", "") for k, _ in ordered]
    for (prev, _), (sid, body) in zip(ordered, ordered[1:], strict=False):
        reqs = [r for item in body["salt"] if isinstance(item, dict) and "require" in item for r in item["require"]]
        assert reqs == [{"salt": prev}], (sid, reqs)
    return names


@pytest.mark.parametrize(
    "topology, expected",
    [("lab_web", FULL),            # seed 000 in the lab: dual-primary r0, OCFS2, o2cb
     ("fileserver", FULL[:-1] + ["nfs", "canary"]),  # seed 001: drbd0/drbd1, OCFS2 mail/vmstore, NFS
     # no cluster filesystem, no o2cb: DRBD steps and roles; r1 moves: demoted, observed, promoted;
     # no cluster manager: each group's Btrfs formatted and started by hapair, observed mounted
     ("crossed", FULL[:2] + ["roles-demote", "gate-demoted", "roles", "gate-roles",
                             "group-format", "group-start", "gate-groups-started"])],
)
def test_bootstrap_steps_and_chain(show_sls, topology, expected):
    steps = show_sls("orch.hapair.bootstrap", topology)
    assert chain(steps) == expected
    raw = yaml.safe_load(open(os.path.join(ROOT, "pillar", "hapair", f"{topology}.sls"), encoding="utf-8"))
    nodes = raw["hapair"]["topologies"][topology]["nodes"]
    minions = [(spec or {}).get("minion_id", key) for key, spec in nodes.items()]
    args = {k: v for i in steps["hapair-bootstrap-drbd-up"]["salt"] if isinstance(i, dict) for k, v in i.items()}
    assert args["tgt"] == minions and args["tgt_type"] == "list"  # a list target as data, never joined text
    assert args["sls"] == "orch.hapair.node.step"  # steps 2-5: one state run per node
    assert args["pillar"] == {"topology": topology, "step": "drbd-up", "packages": True, "connect_timeout": 300}
    first = "roles-demote" if topology == "crossed" else "roles"   # the sync is waited for in it
    sync = {k: v for i in steps[f"hapair-bootstrap-{first}"]["salt"] if isinstance(i, dict) for k, v in i.items()}
    assert sync["pillar"] == {"topology": topology, "step": first, "packages": True, "sync_timeout": 86400}
    later = [body["salt"] for sid, body in steps.items()
             if "state" in body["salt"] and sid not in ("hapair-bootstrap-drbd-up", f"hapair-bootstrap-{first}")]
    assert later and all(set(next(i["pillar"] for i in b if isinstance(i, dict) and "pillar" in i))
                         == {"topology", "step", "packages"} for b in later), later
    # a state run on the minion (a remediation's mount) makes a node step wait, never fail
    state_steps = [body["salt"] for body in steps.values() if "state" in body["salt"]]
    assert state_steps and all({"queue": True} in body for body in state_steps), state_steps


def _requires(body):
    return [r for arg in next(iter(body.values())) if isinstance(arg, dict) for r in arg.get("require", [])]


def test_node_steps_2_to_5_in_one_run_each_after_the_one_before(show_sls):
    """One drbd-up run per node, each state requiring the one before: a node stops at its first failure.
    It ends with each resource Connected (waited for on the node) and its initial sync."""
    run = show_sls("orch.hapair.node.step", "lab_fileserver", "drbd-up")
    assert {"hapair-orch-packages-installed", "hapair-orch-kmod-drbd-present", "hapair-drbd-lvm-present",
            "hapair-drbd-drbd0-configured", "hapair-drbd-drbd0-metadata-created",
            "hapair-drbd-drbd0-up", "hapair-drbd-drbd1-up", "hapair-drbd-drbd0-connected",
            "hapair-drbd-drbd1-initial-sync"} <= set(run)
    assert {"kmod": "hapair-orch-kmod-drbd-present"} in _requires(run["hapair-drbd-lvm-present"])
    assert {"hapair_lvm": "hapair-drbd-lvm-present"} in _requires(run["hapair-drbd-drbd0-configured"])
    assert {"drbd": "hapair-drbd-drbd0-configured"} in _requires(run["hapair-drbd-drbd1-metadata-created"])
    assert {"drbd": "hapair-drbd-drbd1-metadata-created"} in _requires(run["hapair-drbd-drbd1-up"])
    assert {"drbd": "hapair-drbd-drbd1-up"} in _requires(run["hapair-drbd-drbd1-connected"])
    assert {"timeout": 300} in run["hapair-drbd-drbd1-connected"]["drbd"]   # no pillar timeout: the default
    assert {"drbd": "hapair-drbd-drbd1-connected"} in _requires(run["hapair-drbd-drbd1-initial-sync"])


def test_formula_and_orchestration_share_the_drbd_bringup(show_sls):
    formula = show_sls("hapair.drbd", "lab_fileserver")
    orch = show_sls("orch.hapair.node.step", "lab_fileserver", "drbd-up")
    shared = {sid for sid in orch if sid.startswith("hapair-drbd-")}
    assert shared and shared <= set(formula)
    assert {"hapair-drbd-drbd0-connected", "hapair-drbd-drbd0-synced", "hapair-drbd-drbd0-dual-primary"} <= set(formula)


def test_unknown_topology_renders_validation_only(show_sls):
    assert list(show_sls("orch.hapair.bootstrap", "no-such-topology")) == ["hapair-bootstrap-validate"]


def test_unknown_step_fails_the_render(show_sls, tmp_path):
    with pytest.raises((AssertionError, ValueError, KeyError)):
        show_sls("orch.hapair.node.step", "lab_web", "no-such-step")


def test_cman_is_refused_right_after_validation(show_sls):
    steps = show_sls("orch.hapair.bootstrap", "hardcore")
    assert sorted(steps) == ["hapair-bootstrap-refused", "hapair-bootstrap-validate"]
    name = next(iter(steps["hapair-bootstrap-refused"].values()))[0]["name"]
    assert "cluster:stack" in name and "stack: corosync" in name


def test_node_steps_for_seed_001(show_sls):
    roles = show_sls("orch.hapair.node.step", "lab_fileserver", "roles")  # node1 is a node of the lab variant
    assert sorted(roles) == ["hapair-drbd-drbd0-dual-primary", "hapair-drbd-drbd0-synced",
                             "hapair-drbd-drbd1-dual-primary", "hapair-drbd-drbd1-synced",
                             "hapair-orch-roles-node-done"]
    # the sync is waited for first, and no role changes before both resources are synced
    assert _requires(roles["hapair-drbd-drbd0-dual-primary"]) == [{"drbd": "hapair-drbd-drbd0-synced"},
                                                                  {"drbd": "hapair-drbd-drbd1-synced"}]
    exports = show_sls("orch.hapair.node.step", "lab_fileserver", "nfs")
    assert exports["hapair-orch-nfs-exported"]["hapair_nfs"][0] == {"name": "lab_fileserver"}
