"""_modules/{o2cb,ocfs2,heartbeat}.py and their states with a mocked loader.

Commands replay real captures (tests/fixtures/o2cb, tests/fixtures/ocfs2); ``o2cb --config-file``
runs the real o2cb parser when it is installed (it only reads the temp file it is given). The
pillars are the repo's example topologies (pillar/hapair/web.sls, apache.sls); paths point into
tmp_path so nothing on the host is touched.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import stat
import subprocess

import pytest
from conftest import FIXTURES, ROOT
from salt.exceptions import CommandExecutionError, SaltInvocationError

yaml = pytest.importorskip("yaml")
pytest.importorskip("hapair.topology")
KEY = "Hb-Key-9f3c1e77"
# tests that have the real o2cb parser read a rendered file carry the validators marker
NEEDS_O2CB_MARKS = [pytest.mark.validators,
                    pytest.mark.skipif(shutil.which("o2cb") is None, reason="o2cb not installed (apt-get install ocfs2-tools)")]  # distinctive authkeys key: its absence from returns is checked


def read(*parts: str) -> str:
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return handle.read()


def pillar(sls: str) -> dict:
    path = os.path.join(ROOT, "pillar", "hapair", sls)
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load(kind: str, name: str, salt: dict, opts: dict, pillar_data: dict):
    spec = importlib.util.spec_from_file_location(f"hapair_h7_{kind}_{name}", os.path.join(ROOT, f"_{kind}", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.__salt__, module.__opts__, module.__pillar__, module.__context__ = salt, opts, pillar_data, {}
    return module


class Cmd:
    """``cmd.run_all``: answers by argv prefix (longest wins), records every call."""

    def __init__(self, answers):
        self.answers, self.calls = dict(answers), []

    def __call__(self, argv, **kwargs):
        self.calls.append({"argv": list(argv), **kwargs})
        if argv[0] == "o2cb" and argv[1].startswith("--config-file=") and shutil.which("o2cb"):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return {"retcode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
        best = max((p for p in self.answers if tuple(argv[: len(p)]) == p), key=len, default=None)
        assert best is not None, f"unexpected command {argv}"
        answer = self.answers[best]
        answer = answer(argv) if callable(answer) else answer
        return {"retcode": 0, "stdout": "", "stderr": "", **answer}

    def argvs(self):
        return [c["argv"] for c in self.calls]


def harness(kind_names, answers, config, pillar_data, minion="web1", test=False):
    cmd = Cmd(answers)
    salt = {"cmd.run_all": cmd, "config.get": lambda key, default=None: config.get(key, default)}
    opts = {"id": minion, "test": test}
    mods = {}
    for name in kind_names:
        mod = load("modules", name, salt, opts, pillar_data)
        salt.update({f"{name}.{fn}": getattr(mod, fn) for fn in dir(mod)
                     if not fn.startswith("_") and callable(getattr(mod, fn)) and fn not in ("CommandExecutionError",)})
        mods[name] = mod
    states = {name: load("states", name, salt, opts, pillar_data) for name in kind_names}
    return cmd, salt, mods, states, opts


# --- o2cb ------------------------------------------------------------------------------------------

@pytest.fixture
def o2cb_env(tmp_path):
    online = {"state": False}

    def status(argv):
        name = "o2cb-cluster-status--1.8.7-online.out" if online["state"] else "o2cb-cluster-status--1.8.7-offline.out"
        return {"stdout": read("o2cb", name).replace("labcl", "webcluster"), "retcode": 0 if online["state"] else 1}

    def go_online(argv):
        online["state"] = True
        return {"stdout": "Starting O2CB cluster webcluster: OK\n"}

    answers = {("o2cb", "cluster-status"): status, ("/etc/init.d/o2cb", "online"): go_online,
               ("/etc/init.d/o2cb", "status"): {"stdout": read("o2cb", "o2cb-init-status--1.8.7-online-hb-active.out")}}
    config = {"hapair:paths:o2cb_conf": str(tmp_path / "ocfs2" / "cluster.conf"),
              "hapair:paths:o2cb_defaults": str(tmp_path / "default" / "o2cb")}
    env = harness(["o2cb"], answers, config, pillar("web.sls"))
    return {"cmd": env[0], "salt": env[1], "mod": env[2]["o2cb"], "state": env[3]["o2cb"], "opts": env[4],
            "config": config, "online": online}


def test_status_parses_the_init_script_without_the_systemctl_redirect(o2cb_env):
    got = o2cb_env["mod"].status()
    assert got["online"] is True and got["heartbeat_active"] is True and got["format"] == "1.8"
    call = o2cb_env["cmd"].calls[-1]
    assert call["env"] == {"SYSTEMCTL_SKIP_REDIRECT": "1"} and call["python_shell"] is False


@NEEDS_O2CB_MARKS[0]
@NEEDS_O2CB_MARKS[1]
def test_cluster_configured_checks_then_writes_and_converges(o2cb_env):
    state, opts, config = o2cb_env["state"], o2cb_env["opts"], o2cb_env["config"]
    opts["test"] = True
    dry = state.cluster_configured("web")
    assert dry["result"] is None and set(dry["changes"]) == {config["hapair:paths:o2cb_conf"],
                                                            config["hapair:paths:o2cb_defaults"]}
    assert not os.path.exists(config["hapair:paths:o2cb_conf"])
    # the real o2cb parser read the rendered file from a temp path before anything was installed
    assert any(a[0] == "o2cb" and a[1].startswith("--config-file=") and a[2] == "list-cluster"
               for a in o2cb_env["cmd"].argvs())
    opts["test"] = False
    real = state.cluster_configured("web")
    assert real["result"] is True and set(real["changes"]) == set(dry["changes"])
    with open(config["hapair:paths:o2cb_conf"], encoding="utf-8") as handle:
        assert "\tname = web1.lowend.party\n" in handle.read()
    again = state.cluster_configured("web")
    assert again["result"] is True and again["changes"] == {}
    assert o2cb_env["mod"].check_config()["valid"] is True  # the installed file, read back


@NEEDS_O2CB_MARKS[0]
@NEEDS_O2CB_MARKS[1]
def test_cluster_configured_refuses_what_o2cb_would_accept(o2cb_env):
    mod = o2cb_env["mod"]
    bad = copy.deepcopy(mod.__pillar__)
    bad["hapair"]["topologies"]["web"]["cluster"]["name"] = "a-cluster-name-of-17"
    mod.__pillar__ = o2cb_env["state"].__pillar__ = bad
    ret = o2cb_env["state"].cluster_configured("web")
    assert ret["result"] is False and ret["changes"] == {}
    assert not os.path.exists(o2cb_env["config"]["hapair:paths:o2cb_conf"])


def test_online_plans_then_applies_and_is_idempotent(o2cb_env):
    state, opts = o2cb_env["state"], o2cb_env["opts"]
    opts["test"] = True
    dry = state.online("web")
    assert dry["result"] is None and dry["changes"] == {"online": {"old": False, "new": True}, "cluster": "webcluster"}
    assert ["/etc/init.d/o2cb", "online", "webcluster"] not in o2cb_env["cmd"].argvs()
    opts["test"] = False
    real = state.online("web")
    assert real["result"] is True and real["changes"] == dry["changes"]
    assert ["/etc/init.d/o2cb", "online", "webcluster"] in o2cb_env["cmd"].argvs()
    assert state.online("web") == {"name": "web", "result": True, "changes": {}, "comment": "o2cb cluster is online"}


def test_online_reports_a_foreign_cluster_instead_of_touching_it(o2cb_env):
    o2cb_env["online"]["state"] = True
    o2cb_env["cmd"].answers[("o2cb", "cluster-status")] = {"stdout": "Cluster 'labcl' is online\n"}
    ret = o2cb_env["state"].online("web")
    assert ret["result"] is False and "'labcl' is online instead of 'webcluster'" in ret["comment"]


@NEEDS_O2CB_MARKS[0]
@NEEDS_O2CB_MARKS[1]
def test_list_nodes_refuses_an_unknown_cluster(o2cb_env, tmp_path):
    conf = o2cb_env["config"]["hapair:paths:o2cb_conf"]
    os.makedirs(os.path.dirname(conf))
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(read("o2cb", "o2cb-list-cluster--1.8.7-labcl.out"))
    assert [n["name"] for n in o2cb_env["mod"].list_nodes("labcl")] == ["node1", "node2"]
    assert o2cb_env["mod"].list_clusters() == ["labcl"]
    with pytest.raises(CommandExecutionError):
        o2cb_env["mod"].list_nodes("other")


# --- ocfs2 -----------------------------------------------------------------------------------------

def drbd_model(role="Primary", peer="UpToDate"):
    return {"name": "r0", "role": role, "suspended": False, "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
            "peers": [{"name": "web2", "node_id": None, "connection_state": "Connected", "role": "Primary",
                       "volumes": [{"volume": 0, "peer_disk_state": peer}]}]}


@pytest.fixture
def ocfs2_env(tmp_path):
    formatted = {"done": False}

    def blkid(argv):
        if not formatted["done"]:
            return {"retcode": 2}
        return {"stdout": read("ocfs2", "blkid-export--2.38.1-ocfs2.out")}

    def mkfs(argv):
        formatted["done"] = True
        return {"stdout": "mkfs.ocfs2 successful\n"}

    answers = {("blkid",): blkid, ("mkfs.ocfs2",): mkfs,
               ("debugfs.ocfs2",): {"stdout": read("ocfs2", "debugfs-ocfs2-stats--1.8.7-mail-max-features.out")},
               ("mounted.ocfs2", "-d"): {"stdout": read("ocfs2", "mounted-ocfs2-d--1.8.7-drbd-formatted.out")},
               ("mounted.ocfs2", "-f"): {"stdout": read("ocfs2", "mounted-ocfs2-f--1.8.7-mounted-both.out")},
               ("mount",): {"stdout": ""}, ("systemctl", "daemon-reload"): {"stdout": ""}}
    data = pillar("web.sls")
    fs = data["hapair"]["topologies"]["web"]["filesystems"]["www"]
    fs.update(label="www", mkfs_type="mail", feature_level="max-features", mountpoint=str(tmp_path / "www"))
    proc_mounts = tmp_path / "mounts"
    proc_mounts.write_text("")
    config = {"hapair:paths:proc_mounts": str(proc_mounts), "hapair:paths:fstab": str(tmp_path / "fstab"),
              "hapair:paths:systemd_dir": str(tmp_path / "systemd")}
    cmd, salt, mods, states, opts = harness(["ocfs2"], answers, config, data)
    drbd = {"model": drbd_model()}
    salt["hapair_drbd.status"] = lambda name: {"version": "8.4.11", "resources": {name: drbd["model"]}}
    mods["ocfs2"]._exists = lambda path: True
    return {"cmd": cmd, "mod": mods["ocfs2"], "state": states["ocfs2"], "opts": opts, "drbd": drbd,
            "proc_mounts": proc_mounts, "tmp": tmp_path, "config": config}


def test_formatted_runs_mkfs_once_with_the_planned_argv(ocfs2_env):
    state, opts = ocfs2_env["state"], ocfs2_env["opts"]
    opts["test"] = True
    dry = state.formatted("www", "web")
    assert dry["result"] is None
    assert dry["changes"] == {"formatted": {"device": "/dev/drbd0", "label": "www", "slots": 2,
                                            "cluster_name": "webcluster"}}
    opts["test"] = False
    real = state.formatted("www", "web")
    assert real["result"] is True and real["changes"]["formatted"]["label"] == "www"
    mkfs = [a for a in ocfs2_env["cmd"].argvs() if a[0] == "mkfs.ocfs2"]
    assert mkfs == [["mkfs.ocfs2", "-T", "mail", "--fs-feature-level=max-features", "-N", "2", "-L", "www",
                     "--cluster-stack=o2cb", "--cluster-name=webcluster", "/dev/drbd0"]]
    again = state.formatted("www", "web")  # blkid now reports the OCFS2 signature
    assert again["result"] is True and again["changes"] == {}
    assert len([a for a in ocfs2_env["cmd"].argvs() if a[0] == "mkfs.ocfs2"]) == 1


def test_formatted_is_refused_while_the_peer_is_not_uptodate(ocfs2_env):
    ocfs2_env["drbd"]["model"] = drbd_model(peer="Inconsistent")
    ret = ocfs2_env["state"].formatted("www", "web")
    assert ret["result"] is False and ret["changes"] == {}
    assert "/dev/drbd0" in ret["comment"] and "Inconsistent" in ret["comment"]
    assert not [a for a in ocfs2_env["cmd"].argvs() if a[0] == "mkfs.ocfs2"]


def test_formatted_does_nothing_on_the_other_node(ocfs2_env):
    ocfs2_env["opts"]["id"] = "web2"
    ret = ocfs2_env["state"].formatted("www", "web")
    assert ret["result"] is True and ret["changes"] == {}
    assert not [a for a in ocfs2_env["cmd"].argvs() if a[0] == "mkfs.ocfs2"]  # blkid (a read) may run


def test_info_and_mounted_nodes_pick_the_drbd_row(ocfs2_env):
    ocfs2_env["cmd"].answers[("blkid",)] = {"stdout": read("ocfs2", "blkid-export--2.38.1-ocfs2.out")}
    got = ocfs2_env["mod"].info("/dev/drbd0")
    assert (got["label"], got["slots"], got["cluster_name"]) == ("www", 2, "webcluster")
    assert got["detected"]["device"] == "/dev/drbd0"
    assert ocfs2_env["mod"].mounted_nodes("/dev/drbd0") == ["node1", "node2"]
    assert ocfs2_env["mod"].mounted_nodes("/dev/drbd7") == []


def test_mounted_writes_fstab_then_mounts_and_converges(ocfs2_env):
    state, opts, tmp = ocfs2_env["state"], ocfs2_env["opts"], ocfs2_env["tmp"]
    (tmp / "fstab").write_text("UUID=abc / ext4 defaults 0 1\n")
    opts["test"] = True
    dry = state.mounted("www", "web")
    assert dry["result"] is None and set(dry["changes"]) == {"mkdir", "fstab", "mounted"}
    assert not (tmp / "www").exists()
    opts["test"] = False
    mountpoint = str(tmp / "www")

    def mount(argv):  # the fake mount records itself in the fake /proc/mounts
        ocfs2_env["proc_mounts"].write_text(f"/dev/drbd0 {mountpoint} ocfs2 rw,relatime,_netdev 0 0\n")
        return {"stdout": ""}

    ocfs2_env["cmd"].answers[("mount",)] = mount
    real = state.mounted("www", "web")
    assert real["result"] is True and real["changes"] == dry["changes"]
    fstab = (tmp / "fstab").read_text().splitlines()
    assert fstab[0] == "UUID=abc / ext4 defaults 0 1"
    assert fstab[1] == (f"/dev/drbd0 {mountpoint} ocfs2 _netdev,noatime,"
                        "x-systemd.requires=hapair-drbd-promote@r0.service 0 0")
    assert ["mount", "-t", "ocfs2", "-o", "_netdev,noatime", "/dev/drbd0", mountpoint] in ocfs2_env["cmd"].argvs()
    assert state.mounted("www", "web")["changes"] == {}


def test_boot_ordered_installs_units_once(ocfs2_env):
    state, tmp = ocfs2_env["state"], ocfs2_env["tmp"]
    ret = state.boot_ordered("web")
    assert ret["result"] is True and len(ret["changes"]) == 2
    unit = tmp / "systemd" / "hapair-drbd-promote@.service"
    assert "ExecStart=/usr/sbin/drbdadm primary %i" in unit.read_text()
    assert ["systemctl", "daemon-reload"] in ocfs2_env["cmd"].argvs()
    assert state.boot_ordered("web")["changes"] == {}


# --- heartbeat -------------------------------------------------------------------------------------

@pytest.fixture
def hb_env(tmp_path):
    data = pillar("apache.sls")
    data["hapair"]["topologies"]["apache"]["cluster"]["heartbeat"]["authkeys"]["key"] = KEY
    config = {"hapair:paths:ha_dir": str(tmp_path / "ha.d"), "hapair:paths:conf_dir": str(tmp_path / "hapair")}
    # heartbeat.configured reads www's VIP interface (192.0.2.10/24 on eth0): node01's address there
    eth0 = json.dumps([{"ifindex": 2, "ifname": "eth0",
                        "addr_info": [{"family": "inet", "local": "192.0.2.2", "prefixlen": 24}]}])
    answers = {("ip", "-j", "-4", "addr", "show", "dev", "eth0"): {"stdout": eth0}}
    cmd, salt, mods, states, opts = harness(["heartbeat"], answers, config, data, minion="node01")
    return {"mod": mods["heartbeat"], "state": states["heartbeat"], "opts": opts, "dir": tmp_path / "ha.d"}


def test_heartbeat_configured_writes_authkeys_0600_and_never_shows_the_key(hb_env):
    state, opts = hb_env["state"], hb_env["opts"]
    opts["test"] = True
    dry = state.configured("apache")
    # ha.cf, haresources, authkeys, the drbdlinks script and group www's drbdlinks config
    assert dry["result"] is None and len(dry["changes"]) == 5 and KEY not in repr(dry)
    opts["test"] = False
    real = state.configured("apache")
    assert real["result"] is True and set(real["changes"]) == set(dry["changes"]) and KEY not in repr(real)
    authkeys = hb_env["dir"] / "authkeys"
    assert stat.S_IMODE(authkeys.stat().st_mode) == 0o600
    assert authkeys.read_text() == f"auth 1\n1 sha1 {KEY}\n"
    assert KEY not in repr(hb_env["mod"].render("apache"))
    assert state.configured("apache")["changes"] == {}


def test_heartbeat_key_rotation_diff_masks_old_and_new_keys(hb_env):
    hb_env["state"].configured("apache")
    data = hb_env["mod"].__pillar__
    data["hapair"]["topologies"]["apache"]["cluster"]["heartbeat"]["authkeys"]["key"] = "New-Key-0042"
    ret = hb_env["state"].configured("apache")
    assert list(ret["changes"]) == [str(hb_env["dir"] / "authkeys")]
    assert KEY not in repr(ret) and "New-Key-0042" not in repr(ret)
    assert (hb_env["dir"] / "authkeys").read_text().endswith("New-Key-0042\n")


def test_heartbeat_module_refuses_another_stack(hb_env):
    hb_env["mod"].__pillar__ = pillar("web.sls")
    with pytest.raises(SaltInvocationError) as err:
        hb_env["mod"].render("web")
    assert "not heartbeat" in str(err.value)


def test_states_take_the_orchestrations_call_shape(o2cb_env):
    """salt/orch/hapair/node/o2cb.sls passes name=<cluster name>, topology=<topology>."""
    o2cb_env["opts"]["test"] = True
    ret = o2cb_env["state"].online("webcluster", topology="web")
    assert ret["result"] is None and ret["name"] == "webcluster"
    assert ret["changes"]["cluster"] == "webcluster"


@NEEDS_O2CB_MARKS[0]
@NEEDS_O2CB_MARKS[1]
def test_cluster_configured_refuses_readdressing_an_online_cluster_with_ocfs2_mounted(o2cb_env):
    """Issue 18: new o2cb addresses are cluster-offline; with the cluster online and OCFS2 mounted
    the state refuses (naming the runner) and writes nothing; unmounted, it writes as before."""
    state, salt, config, mod = o2cb_env["state"], o2cb_env["salt"], o2cb_env["config"], o2cb_env["mod"]
    assert state.cluster_configured("web")["result"] is True
    with open(config["hapair:paths:o2cb_conf"], encoding="utf-8") as handle:
        before = handle.read()
    o2cb_env["online"]["state"] = True
    mounts = {"/srv/www": {"device": "/dev/drbd0", "fstype": "ocfs2"}}
    salt["mount.active"] = lambda: mounts
    moved = copy.deepcopy(mod.__pillar__)
    moved["hapair"]["topologies"]["web"]["nodes"]["web1"]["cluster_address"] = "10.98.0.1"
    mod.__pillar__ = state.__pillar__ = moved
    for test in (True, False):
        o2cb_env["opts"]["test"] = test
        ret = state.cluster_configured("web")
        assert ret["result"] is False and ret["changes"] == {}, ret
        assert "cluster-offline" in ret["comment"] and "salt-run hapair.reconfigure web" in ret["comment"]
        assert "/srv/www" in ret["comment"]
    with open(config["hapair:paths:o2cb_conf"], encoding="utf-8") as handle:
        assert handle.read() == before
    mounts.clear()
    o2cb_env["opts"]["test"] = False
    assert state.cluster_configured("web")["result"] is True


def test_offline_state_takes_the_topologys_cluster_offline_once(o2cb_env):
    """hapair.o2cb.clean's first state: the bootstrap onlines with the init script, unseen by systemd."""
    state, cmd = o2cb_env["state"], o2cb_env["cmd"]

    def go_offline(argv):
        o2cb_env["online"]["state"] = False
        return {"stdout": "Stopping O2CB cluster webcluster: OK\n"}

    cmd.answers[("/etc/init.d/o2cb", "offline")] = go_offline
    assert state.offline("web")["changes"] == {}                       # offline already: nothing to do
    o2cb_env["online"]["state"] = True
    o2cb_env["opts"]["test"] = True
    dry = state.offline("web")
    assert dry["result"] is None and o2cb_env["online"]["state"] is True
    o2cb_env["opts"]["test"] = False
    done = state.offline("web")
    assert done["result"] is True and done["changes"] == {"online": {"old": True, "new": False}, "cluster": "webcluster"}
    assert ["/etc/init.d/o2cb", "offline", "webcluster"] in cmd.argvs()
