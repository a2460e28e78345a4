"""The reactor SLS (salt/reactor/*.sls) rendered as the master renders it: which events start a
remediation, and with what arguments. Rendered with Salt's own jinja renderer (``jinja|yaml``)."""

import os

import pytest
import yaml
from conftest import ROOT

templates = pytest.importorskip("salt.utils.templates", reason="Salt is not installed (make venv)")


@pytest.fixture
def render(tmp_path):
    import salt.config  # noqa: PLC0415 - after the importorskip above

    opts = dict(salt.config.DEFAULT_MASTER_OPTS, cachedir=str(tmp_path), file_client="local",
                file_roots={"base": [os.path.join(ROOT, "salt")]})

    def run(name, tag, data):
        with open(os.path.join(ROOT, "salt", "reactor", name), encoding="utf-8") as handle:
            text = handle.read()
        out = templates.render_jinja_tmpl(text, {"tag": tag, "data": data, "opts": opts, "saltenv": "base",
                                                 "sls": name})
        return yaml.safe_load(out) or {}
    return run


def beacon_event(kind, connection="Connected", role="Primary"):
    """What the master's reactor sees for ``event.send`` from a minion's drbd beacon."""
    new = {"present": True, "role": role, "disk": "UpToDate", "connection": connection}
    return f"hapair/drbd/r0/{kind}", {"id": "node1", "_stamp": "2026-12-02T05:00:00.000000",
                                      "data": {"resource": "r0", "kind": kind, "topology": "web", "new": new}}


CASES = [
    # (kind, new connection, remediation started?)
    ("connection", "StandAlone", False),      # its `standalone` event (below) is the one acted on
    ("connection", "Connected", True),        # a rejoined dual-primary node may need promoting
    ("connection", "WFConnection", False),    # a link cut: the runner could only say "waiting"
    ("connection", "WFReportParams", False),  # a handshake under way
    ("connection", "Connecting", False),      # DRBD 9's name for it
    ("standalone", "StandAlone", True),
    ("split-brain", "StandAlone", True),
    ("present", None, True),
    ("role", "Connected", True),
    ("replication", "Connected", False),      # detail kinds: never acted on
    ("peer-role", "Connected", False),
    ("sync", "Connected", False),             # drbd.wait_synced progress
]


@pytest.mark.parametrize("kind,connection,started", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_which_events_start_a_remediation(render, kind, connection, started):
    tag, data = beacon_event(kind, connection)
    out = render("drbd.sls", tag, data)
    assert bool(out) is started, out
    if started:
        (state,) = out.values()
        args = {k: v for item in state["runner.hapair.remediate"][0]["args"] for k, v in item.items()}
        assert args["resource"] == "r0" and args["topology"] == "web" and args["minion"] == "node1"
        assert args["tag"] == tag and args["event"]["kind"] == kind and args["event"]["_stamp"] == data["_stamp"]


def test_a_minion_start_looks_at_every_topology_of_that_minion(render):
    out = render("minion_start.sls", "salt/minion/node2/start", {"id": "node2", "_stamp": "2026-12-02T05:00:00"})
    (state,) = out.values()
    args = {k: v for item in state["runner.hapair.remediate"][0]["args"] for k, v in item.items()}
    assert args == {"minion": "node2", "tag": "salt/minion/node2/start",
                    "event": {"kind": "minion-start", "_stamp": "2026-12-02T05:00:00"}}
