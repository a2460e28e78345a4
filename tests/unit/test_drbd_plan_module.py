"""_modules/hapair_drbd.py with a mocked loader: version dispatch, progress events, give-up reasons.

Captures: tests/fixtures/drbd/*.out (see their .source files), tests/fixtures/fakebin/<stage>/node1
(../shared/captures/lab-drbd-8.4.11-utils-9.22.0) and tests/fixtures/fakebin/public (see .source).
"""

import importlib.util
import os

import pytest
from conftest import FIXTURES, ROOT

salt_exceptions = pytest.importorskip("salt.exceptions", reason="salt is not installed")


def fixture(*parts):
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return handle.read()


class FakeSalt(dict):
    """A minimal __salt__: config.get from a dict, cmd.run_all from a table, events recorded."""

    def __init__(self, config, outputs):
        super().__init__()
        self.calls, self.events, self.outputs = [], [], outputs
        self["config.get"] = lambda key, default=None: config.get(key, default)
        self["cmd.run_all"] = self.run_all
        self["event.send"] = lambda tag, data: self.events.append((tag, data))
        self["event.fire"] = lambda data, tag: self.events.append((tag, data))

    def run_all(self, argv, **kwargs):
        assert kwargs["python_shell"] is False
        self.calls.append(list(argv[1:]))
        out, rc = self.outputs[tuple(argv[1:])]
        return {"retcode": rc, "stdout": out, "stderr": ""}


@pytest.fixture
def drbd(tmp_path):
    spec = importlib.util.spec_from_file_location("hapair_test_mod_drbd", os.path.join(ROOT, "_modules", "hapair_drbd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__context__ = {}
    module.__opts__ = {"id": "node1", "file_client": "remote"}
    module.__pillar__ = {}
    return module


def setup(drbd, tmp_path, proc_text, outputs, conf=None):
    proc = tmp_path / "proc_drbd"
    proc.write_text(proc_text)
    conf_dir = tmp_path / "drbd.d"
    conf_dir.mkdir()
    if conf:
        (conf_dir / "r0.res").write_text(conf)
    config = {"hapair:paths:proc_drbd": str(proc), "hapair:paths:drbd_conf_dir": str(conf_dir),
              "hapair:paths:drbd_conf": str(tmp_path / "drbd.conf"), "hapair:paths:state_dir": str(tmp_path / "st")}
    drbd.__salt__ = FakeSalt(config, outputs)
    return proc


def test_drbd9_reads_drbdsetup_json(drbd, tmp_path):
    setup(drbd, tmp_path, fixture("fakebin", "public", "proc_drbd--9.0.32-1-no-resources.out"),
          {("status", "--json"): (fixture("drbd", "drbdsetup_status_json--9.0.16-connected-uptodate.out"), 0)})
    out = drbd.status()
    assert out["version"] == "9.0.32-1"
    assert drbd.__salt__.calls == [["status", "--json"]]
    assert out["resources"]["beijing"]["peers"][0]["connection_state"] == "Connected"
    assert drbd.__context__["hapair.drbd.dialect"] == "9"


def test_drbd9_falls_back_to_drbdadm_status(drbd, tmp_path):
    setup(drbd, tmp_path, fixture("fakebin", "public", "proc_drbd--9.0.32-1-no-resources.out"),
          {("status", "--json"): ("", 20),
           ("status", "all"): (fixture("drbd", "drbdadm_status--9.0.16-syncsource-one-peer.out"), 0)})
    flat = drbd.cstate("single")
    assert drbd.__salt__.calls == [["status", "--json"], ["status", "all"]]
    assert flat == {"connection_state": "Connected", "replication_state": "SyncSource"}


def test_drbd84_reads_proc_without_any_command(drbd, tmp_path):
    setup(drbd, tmp_path, fixture("fakebin", "05-synced-primary-secondary", "node1", "proc_drbd.stdout"), {},
          conf='resource "r0" {\n  on node1 { device /dev/drbd0 minor 0; }\n}\n')
    assert drbd.role("r0") == {"local": "Primary", "peer": "Secondary"}
    assert drbd.is_synced("r0") is True
    assert drbd.__salt__.calls == []


def test_wait_synced_fires_progress_events_until_synced(drbd, tmp_path, monkeypatch):
    proc = setup(drbd, tmp_path, fixture("fakebin", "04-syncing-primary-force", "node1", "proc_drbd.stdout"), {},
                 conf='resource r0 {\n device /dev/drbd0 minor 0;\n}\n')
    synced = fixture("fakebin", "05-synced-primary-secondary", "node1", "proc_drbd.stdout")
    monkeypatch.setattr(drbd.time, "sleep", lambda _s: proc.write_text(synced))
    out = drbd.wait_synced("r0", timeout=30, interval=1)
    assert out["synced"] is True
    tags = {tag for tag, _ in drbd.__salt__.events}
    assert tags == {"hapair/drbd/r0/sync"}
    first, last = drbd.__salt__.events[0][1], drbd.__salt__.events[-1][1]
    assert (first["percent_done"], first["eta_seconds"], first["out_of_sync_kib"]) == (1.6, 654, 261716)
    assert first["synced"] is False and last["synced"] is True


@pytest.mark.parametrize("stage, why", [("11-split-brain-standalone", "StandAlone"),
                                        ("13-link-cut-wfconnection", "WFConnection")])
def test_wait_synced_gives_up_saying_why(drbd, tmp_path, monkeypatch, stage, why):
    setup(drbd, tmp_path, fixture("fakebin", stage, "node1", "proc_drbd.stdout"), {},
          conf='resource r0 {\n device /dev/drbd0 minor 0;\n}\n')
    monkeypatch.setattr(drbd.time, "sleep", lambda _s: None)
    with pytest.raises(salt_exceptions.CommandExecutionError, match=why):
        drbd.wait_synced("r0", timeout=0, interval=0)


def test_primary_force_refused_before_running_anything(drbd, tmp_path):
    setup(drbd, tmp_path, fixture("fakebin", "05-synced-primary-secondary", "node1", "proc_drbd.stdout"),
          {("get-gi", "r0"): (fixture("fakebin", "05-synced-primary-secondary", "node1", "drbdadm_get_gi_r0.stdout"), 0)},
          conf='resource r0 {\n device /dev/drbd0 minor 0;\n}\n')
    with pytest.raises(salt_exceptions.CommandExecutionError, match="/dev/drbd0.*force=False"):
        drbd.primary("r0", force=True)
    assert ["primary", "--force", "r0"] not in drbd.__salt__.calls


def test_rendered_topologies_reads_hapair_headers_only(drbd, tmp_path):
    setup(drbd, tmp_path, "", {})
    conf_dir = tmp_path / "drbd.d"
    (conf_dir / "r0.res").write_text("# Generated by hapair from topology lab_gfs2 (DRBD 8.4 dialect). "
                                     "Do not edit: changes are overwritten.\nresource r0 {\n}\n")
    (conf_dir / "r1.res").write_text("resource r1 {\n}\n")  # written by hand: not hapair's
    (conf_dir / "global_common.conf").write_text("# Generated by hapair from topology web (DRBD 8.4 dialect).\n")
    assert drbd.rendered_topologies() == {"r0": "lab_gfs2"}
    assert drbd.__salt__.calls == []  # read files only, no command


def test_rendered_topologies_of_running_resources(drbd, tmp_path):
    """The minion-start remediation's one job: what runs here and which topology rendered it."""
    setup(drbd, tmp_path, fixture("fakebin", "05-synced-primary-secondary", "node1", "proc_drbd.stdout"), {},
          conf="# Generated by hapair from topology lab_web (DRBD 8.4 dialect). Do not edit.\n"
               "resource r0 {\n device /dev/drbd0 minor 0;\n}\n")
    (tmp_path / "drbd.d" / "r7.res").write_text("# Generated by hapair from topology web (DRBD 8.4 dialect).\n"
                                                "resource r7 {\n device /dev/drbd7 minor 7;\n}\n")  # not running
    assert drbd.rendered_topologies() == {"r0": "lab_web", "r7": "web"}
    assert drbd.rendered_topologies(running=True) == {"r0": "lab_web"}


def test_remediation_facts_in_one_call(drbd, tmp_path):
    """Stage 11 (split brain, StandAlone): status, GIs, the split-brain marker, the mounts and the
    LVM backing come back from one call; a part that fails is None with its reason."""
    stage = ("fakebin", "11-split-brain-standalone", "node1")
    setup(drbd, tmp_path, fixture(*stage, "proc_drbd.stdout"),
          {("get-gi", "r0"): (fixture(*stage, "drbdadm_get_gi_r0.stdout"), 0)},
          conf='resource r0 {\n device /dev/drbd0 minor 0;\n}\n')
    marker = tmp_path / "st" / "drbd" / "r0.split-brain"
    marker.parent.mkdir(parents=True)
    marker.write_text("{}\n")
    drbd.__salt__["mount.active"] = lambda: {"/srv/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}}
    drbd.__salt__["lvm.lvdisplay"] = lambda path, quiet=False: {
        path: {"Logical Volume Name": path, "Volume Group Name": "vg0"}}
    out = drbd.remediation_facts("r0", backing="/dev/vg0/r0")
    assert out["status"]["resources"]["r0"]["peers"][0]["connection_state"] == "StandAlone"
    assert out["mounts"] == {"/srv/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}}
    assert out["gi"]["current_uuid"] == "008604F9843C87BF" and out["markers"]["split_brain"] is True
    assert out["lvm"]["/dev/vg0/r0"]["Volume Group Name"] == "vg0" and out["errors"] == {}
    assert drbd.__salt__.calls == [["get-gi", "r0"]]  # one drbdadm: markers probe no GI again

    del drbd.__salt__["lvm.lvdisplay"]  # no lvm module on this minion
    out = drbd.remediation_facts("r0", backing="/dev/vg0/r0")
    assert out["lvm"] is None and "lvm" in out["errors"] and out["status"]["resources"]["r0"]
    assert drbd.remediation_facts("r0")["lvm"] is None  # no backing asked


@pytest.mark.parametrize("stage, runs", [("11-split-brain-standalone", True),       # StandAlone: connect
                                         ("12-split-brain-resolved-primary-secondary", False)])  # Connected
def test_connect_only_while_standalone(drbd, tmp_path, stage, runs):
    """A split-brain survivor's connect after the victim's discard-my-data connect may be moot."""
    setup(drbd, tmp_path, fixture("fakebin", stage, "node1", "proc_drbd.stdout"),
          {("connect", "r0"): ("", 0)}, conf='resource r0 {\n device /dev/drbd0 minor 0;\n}\n')
    out = drbd.connect("r0", only_standalone=True)
    assert (["connect", "r0"] in drbd.__salt__.calls) is runs
    assert ("skipped" in out) is not runs
    if not runs:
        assert "Connected" in out["skipped"]
