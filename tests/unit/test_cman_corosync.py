"""The way off cman: ``hapair.cman.corosync_equivalent`` translates seed 004's cman topology
(pillar/hapair/hardcore.sls) into the same topology on corosync + dlm, which hapair's validation accepts.
"""

from __future__ import annotations

import copy
import os

import pytest
import yaml
from conftest import ROOT
from hapair import bootstrap, cman, topology, validate


def hardcore():
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["hapair"]["topologies"]["hardcore"]


def test_hardcore_translates_and_validates():
    raw = hardcore()
    before = copy.deepcopy(raw)
    out = cman.corosync_equivalent(raw, "hardcore")
    assert raw == before  # pure
    assert validate.validate(raw, "hardcore") == []  # the cman original is valid too
    assert validate.validate(out["topology"], "hardcore") == []
    cluster = out["topology"]["cluster"]
    assert cluster == {"stack": "corosync", "name": "hardcore", "corosync": {
        "two_node": True, "dlm": {"enable_fencing": True, "plock_ownership": 1, "plock_rate_limit": 0},
        "fencing": out["fencing"]}}  # cman's devices and methods, rendered for dlm by hapair.fencing
    # everything that is not the cluster stack is kept as it was
    assert {k: v for k, v in out["topology"].items() if k != "cluster"} == {k: v for k, v in raw.items() if k != "cluster"}
    assert out["fencing"]["fence_devices"] == raw["cluster"]["cman"]["fence_devices"]
    assert out["fencing"]["nodes"] == {n: {"fence": s["fence"]} for n, s in raw["cluster"]["cman"]["nodes"].items()}


def test_the_notes_say_what_was_dropped_and_why():
    notes = cman.corosync_equivalent(hardcore(), "hardcore")["notes"]
    keys = [n.split(": ")[0] for n in notes]
    assert keys == ["cluster:cman:expected_votes", "cluster:cman:gfs_controld:plock_rate_limit",
                    "cluster:cman:cluster_id", "cluster:cman:config_version", "cluster:cman:failover_domains",
                    "cluster:cman:vms", "fencing"]
    assert "service groups" in notes[keys.index("cluster:cman:vms")]


def test_normalised_it_runs_on_the_bootstrap_with_cmans_fencing_rendered_for_dlm():
    """Fencing stays on as under cman, its devices and methods rendered as dlm.conf device/connect
    lines: the translation loads, and the bootstrap can run it."""
    t = cman.corosync_equivalent(hardcore(), "hardcore")["topology"]
    norm = topology.load({"hapair": {"topologies": {"hardcore": copy.deepcopy(t)}}}, "hardcore")
    assert bootstrap.errors(norm) == [] and topology.stack_errors(norm) == []
    from hapair import corosync  # noqa: PLC0415

    conf = corosync.render_dlm_conf(norm)
    assert "enable_fencing=1" in conf and "\ndevice " in conf and "\nconnect " in conf


def test_without_fence_methods_fencing_is_off_and_it_loads():
    raw = hardcore()
    for node in raw["cluster"]["cman"]["nodes"].values():
        node.pop("fence")
    out = cman.corosync_equivalent(raw, "hardcore")
    assert out["topology"]["cluster"]["corosync"]["dlm"]["enable_fencing"] is False
    assert topology.load({"hapair": {"topologies": {"hardcore": out["topology"]}}}, "hardcore")["cluster"]["stack"] == "corosync"
    assert out["notes"][-1].startswith("fencing: not every node")


def test_votes_and_totem():
    raw = hardcore()
    raw["cluster"]["cman"]["nodes"]["core-02"]["votes"] = 2
    raw["cluster"]["cman"]["totem"] = {"token": 21000, "consensus": 25000, "rrp_mode": "none"}
    out = cman.corosync_equivalent(raw, "hardcore")
    coro = out["topology"]["cluster"]["corosync"]
    assert coro["token"] == 21000 and coro["totem"] == {"consensus": 25000}
    assert any(n.startswith("cluster:cman:nodes:core-02:votes: 2 dropped") for n in out["notes"])
    assert any(n.startswith("cluster:cman:totem:rrp_mode") for n in out["notes"])
    assert validate.validate(out["topology"], "hardcore") == []


def test_yaml_masks_every_secret_and_reads_back():
    raw = hardcore()
    text = cman.corosync_equivalent_yaml(raw, "hardcore")
    for secret in ("123456", "ipmi-secret-core-01", "ipmi-secret-core-02"):
        assert secret not in text
    back = yaml.safe_load(text)
    t = back["hapair"]["topologies"]["hardcore"]
    assert t["cluster"]["stack"] == "corosync" and t["drbd"]["resources"]["r0"]["shared_secret"] == "********"
    assert validate.validate(t, "hardcore") == []
    assert "# fencing:" in text and "passwd: '********'" in text


@pytest.mark.parametrize("broken", [{}, {"cluster": None}, {"cluster": {"stack": "cman", "name": "x", "cman": None}}])
def test_odd_pillar_never_raises(broken):
    out = cman.corosync_equivalent(broken, "x")
    assert out["topology"]["cluster"]["stack"] == "corosync"
