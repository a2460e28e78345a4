"""salt-run hapair.translate: a cman topology as the same topology for corosync + dlm, as data."""

import os

import yaml
from conftest import ROOT, load_runner
from hapair import bootstrap, topology


def _pillar(name):
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_cman_topology_prints_as_corosync_with_its_secrets_masked():
    runner = load_runner("hapair_translate_under_test")
    pil = _pillar("hardcore")
    out = runner.translate("hardcore", pillar=pil)
    assert out["result"] is True, out
    translated = yaml.safe_load(out["pillar"])["hapair"]["topologies"]["hardcore"]
    assert translated["cluster"]["stack"] == "corosync"
    for secret in topology.normalise(topology.topologies(pil)["hardcore"], "hardcore")["secrets"]:
        assert secret not in out["pillar"]


def test_other_stacks_and_unknown_topologies_are_failed_returns():
    runner = load_runner("hapair_translate_under_test")
    out = runner.translate("web", pillar=_pillar("web"))
    assert out["result"] is False and "not cman: nothing to translate" in out["comment"]
    assert runner.translate("nope", pillar=_pillar("web"))["result"] is False


def test_the_bootstrap_refusal_of_cman_names_the_translation():
    topo = topology.normalise(topology.topologies(_pillar("hardcore"))["hardcore"], "hardcore")
    (err,) = bootstrap.errors(topo)
    assert "hapair.translate" in str(err)


def test_drift_asks_both_nodes_once_and_says_what_drifted():
    class Nodes:
        jobs = []

        def cmd(self, tgt, fun, **kwargs):
            self.jobs.append((sorted(tgt), fun, kwargs.get("arg")))
            node1 = {"files": {"/etc/drbd.d/r0.res": "differs"},
                     "resources": {"r0": {"pillar_vs_file": [{"key": "net:protocol"}], "pillar_vs_file_class": "reconnect",
                                          "file_vs_kernel": None}}}
            node2 = {"files": {"/etc/drbd.d/r0.res": "matches"}, "resources": {"r0": {"pillar_vs_file": [],
                                                                                      "file_vs_kernel": []}}}
            return {"node1": {"ret": node1, "retcode": 0}, "node2": {"ret": node2, "retcode": 0}}

    runner = load_runner("hapair_drift_under_test")
    nodes = Nodes()
    runner._client = lambda: nodes
    pil = _pillar("lab_web")
    out = runner.drift("lab_web", pillar=pil)
    assert out["result"] is True and nodes.jobs == [(["node1", "node2"], "hapair_drbd.drift", ["lab_web"])]
    assert out["drifted"] == {"node1": ["/etc/drbd.d/r0.res differs",
                                        "r0: pillar differs from the file (reconnect)"], "node2": []}
    assert "node2: no drift" in out["comment"]


def test_a_failed_validation_prints_each_error_once():
    runner = load_runner("hapair_validate_once_under_test")
    pil = _pillar("lab_web")
    res = pil["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]
    res["port"], res["protocol"] = 0, "Z"
    out = runner.validate("lab_web", pillar=pil, deployed=False)
    assert out["result"] is False and len(out["errors"]) == 2
    assert "(2 error(s))" in out["comment"] and "pillar path" in out["comment"]
    for error in out["errors"]:  # the comment counts them, errors holds each: printed once
        assert error not in out["comment"] and ":drbd:resources:r0:" in error
