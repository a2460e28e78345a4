"""``hapair.pause`` / ``hapair.resume``: auto-remediation stops and restarts without a pillar edit.

Paused, a remediation still gathers and decides, and reports ``paused`` where it would have acted:
no job reaches a node (no connect, no stale-record rename). ``hapair.status`` names the pause.
"""

import copy
import json
import os

import pytest
import yaml
from conftest import ROOT, load_runner
from test_runner_remediate import CONNECTED, Client

STANDALONE = copy.deepcopy(CONNECTED)
STANDALONE["peers"][0].update(connection_state="StandAlone", role=None)
STANDALONE["peers"][0]["volumes"][0].update(replication_state=None, peer_disk_state=None)


@pytest.fixture
def runner(tmp_path):
    return load_runner("hapair_runner_maintenance", {"cachedir": str(tmp_path), "id": "master"})


@pytest.fixture
def world(runner, monkeypatch):
    client = Client({"node1": "/srv/hapair-state"})
    seen = {"model": STANDALONE, "marker": False}
    fired = []

    def facts(topo, resource, history, want_backing=False):
        return ({n: {"model": seen["model"], "mounted": ["/srv/www"], "backing": {"disk": "/dev/vdb", "lvm": None},
                     "gi": None, "primary_since": None, "split_brain_marker": seen["marker"] and n == "node1"}
                 for n in ("node1", "node2")}, seen["marker"], {})

    monkeypatch.setattr(runner, "_facts", facts)
    monkeypatch.setattr(runner, "_client", lambda: client)
    monkeypatch.setattr(runner, "_fire", lambda tag, data: fired.append((tag, data)))
    monkeypatch.setattr(runner, "_rendered", lambda ids, running=False: ({m: {"r0": "lab_web"} for m in ids}, {}))
    monkeypatch.setattr(runner, "_operator", lambda: "alice")
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    return {"client": client, "seen": seen, "pillar": pil, "fired": fired}


def remediate(runner, world, **kw):
    (result,) = runner.remediate(resource="r0", topology="lab_web", pillar=world["pillar"], **kw)["results"]
    return result


def test_standalone_would_be_reconnected_then_paused_it_is_only_reported(runner, world, tmp_path):
    assert remediate(runner, world, dry_run=True)["decision"] == "act"           # the control: it would act
    out = runner.pause("lab_web", reason="moving the link", pillar=world["pillar"])
    assert out["result"] is True and out["paused"]["by"] == "alice" and out["paused"]["scope"] == "*", out
    assert ("hapair/maintenance/lab_web/paused" in [t for t, _ in world["fired"]])

    result = remediate(runner, world)
    assert result["decision"] == "paused", result
    assert [a["action"] for a in result["actions"]] == ["connect", "connect"]     # what it would have done
    assert "paused by alice" in result["reason"] and "salt-run hapair.resume lab_web" in result["reason"]
    assert result["executed"] == [] and world["client"].jobs == []
    record = json.loads((tmp_path / "hapair" / "remediate" / "lab_web.r0.json").read_text())
    assert record["last"]["decision"] == "paused"
    assert [a for a in record.get("attempts") or [] if a.get("situation") != "healthy"] == []

    assert runner.resume("lab_web", pillar=world["pillar"])["resumed"] == ["*"]
    assert remediate(runner, world, dry_run=True)["decision"] == "act"


def test_paused_a_stale_split_brain_record_is_left_where_it_is(runner, world):
    world["seen"].update(model=CONNECTED, marker=True)
    runner.pause("lab_web", "r0", pillar=world["pillar"])
    result = remediate(runner, world)
    assert result["situation"] == "healthy" and "set_aside" not in result and world["client"].jobs == []
    runner.resume("lab_web", "r0", pillar=world["pillar"])
    assert remediate(runner, world)["set_aside"] == ["node1"]


def test_resume_one_resource_of_a_topology_paused_as_a_whole_is_refused(runner, world):
    runner.pause("lab_web", pillar=world["pillar"])
    out = runner.resume("lab_web", "r0", pillar=world["pillar"])
    assert out["result"] is False and "salt-run hapair.resume lab_web" in out["comment"], out
    assert runner.resume("lab_web", pillar=world["pillar"])["resumed"] == ["*"]
    again = runner.resume("lab_web", pillar=world["pillar"])
    assert again["result"] is True and again["resumed"] == [] and "was not paused" in again["comment"]


@pytest.mark.parametrize("args, kwargs, words", [
    (("lab_web", "r9"), {}, "no DRBD resource of lab_web"),
    (("lab_web",), {"reason": "two\nlines"}, "one line of text"),
    (("lab_web",), {"reason": "x" * 201}, "at most 200"),
    (("../lab_web",), {}, "not a topology name"),
])
def test_bad_arguments_are_refused_and_nothing_is_written(runner, world, tmp_path, args, kwargs, words):
    out = runner.pause(*args, pillar=world["pillar"], **kwargs)
    assert out["result"] is False and words in out["comment"], out
    assert not (tmp_path / "hapair" / "remediate" / "paused.json").exists()


def test_status_names_the_pause(runner, world, monkeypatch):
    monkeypatch.setattr(runner, "_call", lambda topo, fun, **kw: ({"node1": {}, "node2": {}}, {}))
    runner.pause("lab_web", "r0", reason="disk swap", pillar=world["pillar"])
    data = runner.status("lab_web", table=False, pillar=world["pillar"])
    assert data["paused"]["r0"]["by"] == "alice"
    text = runner.status("lab_web", table=True, pillar=world["pillar"])
    assert text.splitlines()[-1] == (f"auto-remediation of r0 of lab_web paused by alice since {data['paused']['r0']['at']}"
                                     " (disk swap); salt-run hapair.resume lab_web r0")
