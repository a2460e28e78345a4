"""The formula's topology-from-minion-id rule through Salt's real renderer (``salt-call --local``):
with no ``pillar['topology']`` every SLS takes the one topology of ``hapair:topologies`` naming the
minion (its ``minion_id``, else the node's name), and fails naming the rule when none or several
do; ``hapair`` and ``hapair.clean`` include the parts that topology uses; ``hapair.nfs.clean`` and
``hapair.heartbeat.clean`` remove what their init wrote.

The repo's pillar gives every topology to every minion: web1 is named by ``web`` only, node1 by
every lab topology and ``crossed``, web9 by none.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from saltcall import local_salt_call

pytestmark = pytest.mark.validators
FORMULA = pathlib.Path(ROOT) / "salt" / "hapair"
PARTS = sorted(p.parent.name for p in FORMULA.glob("*/init.sls") if p.parent.name != "reactor")
EVERY_SLS = ",".join(["hapair", "hapair.clean"] + [f"hapair.{p}" for p in PARTS] + [f"hapair.{p}.clean" for p in PARTS])
SALT_LINT = os.path.join(os.path.dirname(sys.executable), "salt-lint")
LINTED = sorted(p for p in FORMULA.rglob("*.sls") if "reactor" not in p.parts)


def _fails(low):
    """``{id: message}`` of a show_sls made only of test.fail_without_changes states."""
    assert isinstance(low, dict), low
    out = {}
    for state_id, body in low.items():
        assert body.get("test", [None])[1:2] == ["fail_without_changes"] or "fail_without_changes" in body["test"], body
        (name,) = [arg["name"] for arg in body["test"] if isinstance(arg, dict) and "name" in arg]
        out[state_id] = name
    return out


def _sls_of(low):
    return {body["__sls__"] for body in low.values()}


def _with_pillar(tmp_path, minion_id, topologies):
    """A salt-call whose pillar is only ``hapair:topologies: <topologies>``."""
    call = local_salt_call(tmp_path, minion_id)
    root = tmp_path / "pillar"
    root.mkdir()
    (root / "top.sls").write_text("base:\n  '*':\n    - topo\n")
    (root / "topo.sls").write_text(yaml.safe_dump({"hapair": {"topologies": topologies}}))
    conf = tmp_path / "conf" / "minion"
    minion = json.loads(conf.read_text())
    minion["pillar_roots"] = {"base": [str(root)]}
    conf.write_text(json.dumps(minion))
    return call


def _web(**web1):
    raw = yaml.safe_load((pathlib.Path(ROOT) / "pillar" / "hapair" / "web.sls").read_text())
    topo = raw["hapair"]["topologies"]["web"]
    topo["nodes"]["web1"].update(web1)
    return topo


@pytest.mark.skipif(not os.access(SALT_LINT, os.X_OK), reason=f"salt-lint not found at {SALT_LINT}")
@pytest.mark.parametrize("path", LINTED, ids=lambda p: str(p.relative_to(FORMULA)))
def test_every_formula_sls_is_salt_lint_clean(path):
    result = subprocess.run([SALT_LINT, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_topology_names_the_minion_every_sls_fails_saying_so(tmp_path):
    fails = _fails(local_salt_call(tmp_path, "web9")("state.show_sls", EVERY_SLS))
    assert len(fails) == 2 + 2 * len(PARTS)  # one failure per SLS, nothing else rendered
    for message in fails.values():
        assert message.startswith("no topology in pillar hapair:topologies names minion web9; "), message
        assert "pass the topology" in message


def test_several_topologies_name_the_minion_every_sls_fails_listing_them(tmp_path):
    fails = _fails(local_salt_call(tmp_path, "node1")("state.show_sls", EVERY_SLS))
    assert len(fails) == 2 + 2 * len(PARTS)
    lab = "crossed, lab_apache, lab_crossed, lab_fileserver, lab_gfs2, lab_remedy, lab_web"
    for message in fails.values():
        assert message.startswith(f"topologies {lab} all name minion node1; pass the topology"), message


def test_several_topologies_and_an_inline_pillar_picks_that_one(tmp_path):
    low = local_salt_call(tmp_path, "node1")("state.show_sls", "hapair", 'pillar={"topology": "lab_web"}')
    assert _sls_of(low) == {"hapair.drbd", "hapair.o2cb", "hapair.ocfs2"}
    assert {"name": "lab_web"} in low["hapair-o2cb-config-managed"]["o2cb"]


def test_one_topology_names_the_minion_a_highstate_applies_it(tmp_path):
    call = local_salt_call(tmp_path, "web1")
    low = call("state.show_sls", "hapair")
    assert _sls_of(low) == {"hapair.drbd", "hapair.o2cb", "hapair.ocfs2"}
    assert {"name": "web"} in low["hapair-o2cb-config-managed"]["o2cb"]
    assert {"topology": "web"} in low["hapair-ocfs2-www-mounted"]["ocfs2"]
    order = sorted(low, key=lambda k: [a for a in next(iter(v for v in low[k].values() if isinstance(v, list)))
                                       if isinstance(a, dict) and "order" in a][0]["order"])
    assert [low[k]["__sls__"] for k in order] == sorted((low[k]["__sls__"] for k in order), key=[
        "hapair.drbd", "hapair.o2cb", "hapair.ocfs2"].index)
    assert order.index("hapair-drbd-r0-configured") < order.index("hapair-o2cb-config-managed")
    assert order[-1] == "hapair-ocfs2-www-mounted"


def test_clean_undoes_the_parts_in_reverse(tmp_path):
    low = local_salt_call(tmp_path, "web1")("state.show_sls", "hapair.clean")
    assert _sls_of(low) == {"hapair.drbd.clean", "hapair.o2cb.clean", "hapair.ocfs2.clean"}
    by_order = sorted(low, key=lambda k: [a for a in next(iter(v for v in low[k].values() if isinstance(v, list)))
                                          if isinstance(a, dict) and "order" in a][0]["order"])
    assert by_order[0] == "hapair-ocfs2-www-unmounted" and by_order[-1] == "hapair-drbd-r0-res-file-absent"
    assert by_order.index("hapair-o2cb-service-dead") > by_order.index("hapair-ocfs2-www-unmounted")
    assert not any("mkfs" in repr(v) or "wipefs" in repr(v) or "create_md" in repr(v) for v in low.values())


def test_a_node_found_by_its_minion_id_not_its_name(tmp_path):
    call = _with_pillar(tmp_path, "web-a.example", {"web": _web(minion_id="web-a.example")})
    low = call("state.show_sls", "hapair.o2cb")
    assert {"name": "web"} in low["hapair-o2cb-config-managed"]["o2cb"]


def test_a_node_name_that_is_another_minions_id_does_not_count(tmp_path):
    call = _with_pillar(tmp_path, "web1", {"web": _web(minion_id="web-a.example")})
    (message,) = _fails(call("state.show_sls", "hapair.o2cb")).values()
    assert message.startswith("no topology in pillar hapair:topologies names minion web1; ")


def test_fileserver_includes_its_exports_and_nfs_clean_removes_the_file(tmp_path):
    call = local_salt_call(tmp_path, "fiori")
    assert _sls_of(call("state.show_sls", "hapair")) == {"hapair.drbd", "hapair.o2cb", "hapair.ocfs2", "hapair.nfs"}
    low = call("state.show_sls", "hapair.nfs.clean")
    assert low["hapair-nfs-exports-absent"]["file"][0] == {"name": "/etc/exports.d/hapair-fileserver.exports"}
    reload = low["hapair-nfs-service-reloaded"]["module"]
    assert {"service.reload": ["nfs-server"]} in reload
    assert {"onlyif": [{"fun": "service.status", "args": ["nfs-server"]}]} in reload
    assert {"onchanges": [{"file": "hapair-nfs-exports-absent"}]} in reload
    assert "hapair.nfs.clean" in _sls_of(call("state.show_sls", "hapair.clean"))


def test_heartbeat_clean_removes_every_file_heartbeat_wrote(tmp_path):
    call = local_salt_call(tmp_path, "node01")
    assert _sls_of(call("state.show_sls", "hapair")) == {"hapair.drbd", "hapair.heartbeat"}
    written = call("heartbeat.write_config", "apache")
    on_disk = sorted(str(p) for p in tmp_path.rglob("*") if p.is_file()
                     and (call.paths["ha_dir"] in p.parents or tmp_path / "hapair" in p.parents))
    assert on_disk and sorted(written) == on_disk  # ha.cf, haresources, authkeys, drbdlinks script + config
    low = call("state.show_sls", "hapair.heartbeat.clean")
    assert low["hapair-heartbeat-config-absent"]["file"][0] == {"names": on_disk}
    assert {"require": [{"service": "hapair-heartbeat-service-dead"}]} in low["hapair-heartbeat-config-absent"]["file"]
    ret = call("state.sls_id", "hapair-heartbeat-config-absent", "hapair.heartbeat.clean", "test=True")
    states = [v for k, v in ret.items() if k.startswith("file_|-hapair-heartbeat-config-absent_|-")]
    assert all(s["result"] is None for s in states), states
    assert sorted(s["changes"]["removed"] for s in states) == on_disk, states
    assert all(os.path.exists(p) for p in on_disk)  # test=True removed nothing


def _redhat(tmp_path, minion_id):
    """A salt-call as ``minion_id`` whose grains say the RedHat family (issue 16: rendering only)."""
    call = local_salt_call(tmp_path, minion_id)
    conf = tmp_path / "conf" / "minion"
    minion = json.loads(conf.read_text())
    minion["grains"] = {"os_family": "RedHat", "osmajorrelease": 9}
    conf.write_text(json.dumps(minion))
    return call


def test_redhat_minion_an_ocfs2_topology_fails_as_a_state_naming_why(tmp_path):
    low = _redhat(tmp_path, "web1")("state.show_sls", "hapair")
    fails = {k: v for k, v in _fails({k: v for k, v in low.items() if "test" in v}).items()}
    assert fails["hapair-o2cb-unavailable"].startswith("o2cb on this minion: OCFS2 does not exist on the RedHat"), fails
    assert "hapair-o2cb-packages-installed" not in low


def test_redhat_minion_gets_the_familys_package_names(tmp_path):
    call = _redhat(tmp_path, "node1")
    low = call("state.show_sls", "hapair.corosync", 'pillar={"topology": "lab_gfs2"}')
    assert low["hapair-corosync-packages-installed"]["pkg"][0] == {"pkgs": ["corosync", "dlm"]}
    step = call("state.show_sls", "orch.hapair.node.step", 'pillar={"topology": "lab_gfs2", "step": "drbd-up"}')
    assert {"pkgs": ["drbd9x-utils", "kmod-drbd9x", "gfs2-utils", "corosync", "dlm", "lvm2", "fence-agents-all",
                     "ipmitool"]} in \
        step["hapair-orch-packages-installed"]["pkg"]
    web = call("state.show_sls", "orch.hapair.node.step", 'pillar={"topology": "lab_web", "step": "drbd-up"}')
    (message,) = _fails(web).values()                       # one failing state, nothing else of the step
    assert message.startswith("topology lab_web needs what a RedHat minion cannot install: o2cb: OCFS2"), message
