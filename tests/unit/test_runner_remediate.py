"""The remediation runner sets a stale split-brain record aside (issue 13: the beacon only observes).

Once a resource is Connected again, its DRBD handler's record is history: the runner, which acts,
moves it to ``<record>.resolved`` on that node with ``file.rename`` (the path from the node's
``hapair:paths:state_dir``, ``hapair.drbd_state.marker_path``); a dry run moves nothing.
"""

import json
import os

import pytest
import yaml
from conftest import ROOT, load_runner

CONNECTED = {"name": "r0", "role": "Primary", "suspended": False,
             "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
             "peers": [{"name": None, "node_id": 0, "connection_state": "Connected", "role": "Primary",
                        "volumes": [{"volume": 0, "replication_state": "Established", "peer_disk_state": "UpToDate",
                                     "percent_done": None, "eta_seconds": None, "out_of_sync_kib": 0}]}]}


@pytest.fixture
def runner(tmp_path):
    return load_runner("hapair_runner_remediate", {"cachedir": str(tmp_path), "id": "master"})


class Client:
    """LocalClient.cmd (full_return) answering config.get and file.rename; records every job."""

    def __init__(self, state_dirs, rename_ok=True):
        self.state_dirs, self.rename_ok, self.jobs = state_dirs, rename_ok, []

    def cmd(self, tgt, fun, arg=(), kwarg=None, **kwargs):
        self.jobs.append((list(tgt), fun, list(arg)))
        if fun == "config.get":
            return {m: {"ret": self.state_dirs.get(m, arg[1]), "retcode": 0} for m in tgt}
        if fun == "file.rename":
            ret = True if self.rename_ok else "ERROR: Could not rename"
            return {m: {"ret": ret, "retcode": 0 if self.rename_ok else 1} for m in tgt}
        raise AssertionError(fun)


@pytest.fixture
def world(runner, monkeypatch):
    client = Client({"node1": "/srv/hapair-state"})
    marker = {"node1": True, "node2": False}

    def facts(topo, resource, history, want_backing=False):
        return ({n: {"model": CONNECTED, "mounted": ["/srv/www"], "backing": {"disk": "/dev/vdb", "lvm": None},
                     "gi": None, "primary_since": None, "split_brain_marker": marker[n]} for n in ("node1", "node2")},
                any(marker.values()), {})

    monkeypatch.setattr(runner, "_facts", facts)
    monkeypatch.setattr(runner, "_client", lambda: client)
    monkeypatch.setattr(runner, "_fire", lambda tag, data: None)
    monkeypatch.setattr(runner, "_rendered", lambda ids, running=False: ({m: {"r0": "lab_web"} for m in ids}, {}))
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pil = yaml.safe_load(handle)
    return {"client": client, "marker": marker, "pillar": pil}


def test_connected_again_sets_the_record_aside(runner, world, tmp_path):
    out = runner.remediate(resource="r0", topology="lab_web", pillar=world["pillar"])
    (result,) = out["results"]
    assert result["situation"] == "healthy" and result["set_aside"] == ["node1"], result
    path = "/srv/hapair-state/drbd/r0.split-brain"
    assert world["client"].jobs == [(["node1"], "config.get", ["hapair:paths:state_dir", "/var/lib/hapair"]),
                                    (["node1"], "file.rename", [path, f"{path}.resolved"])]
    record = json.loads((tmp_path / "hapair" / "remediate" / "lab_web.r0.json").read_text())
    assert record["last"]["situation"] == "healthy"


def test_a_dry_run_moves_nothing(runner, world):
    out = runner.remediate(resource="r0", topology="lab_web", pillar=world["pillar"], dry_run=True)
    assert "set_aside" not in out["results"][0] and world["client"].jobs == []


def test_no_record_no_job(runner, world):
    world["marker"]["node1"] = False
    out = runner.remediate(resource="r0", topology="lab_web", pillar=world["pillar"])
    assert "set_aside" not in out["results"][0] and world["client"].jobs == []


def test_a_failed_move_is_reported_not_fatal(runner, world):
    world["client"].rename_ok = False
    out = runner.remediate(resource="r0", topology="lab_web", pillar=world["pillar"])
    assert out["result"] is True and out["results"][0]["set_aside"] == []
