"""Renderers quote or refuse, never concatenate unchecked text (issue 12, "Config injection").

Every case calls a renderer straight with a hostile value, bypassing validation (as a value that
reached the renderer some other way would), and asserts the renderer refuses it with the project's
error type (``RenderError``, a ``HapairError``) instead of writing an extra line, element or field.
"""

from __future__ import annotations

import copy
import json
import os
import xml.etree.ElementTree as ET

import pytest
import yaml
from hapair import cman, corosync, drbd_render, gfs2, heartbeat, nfs, o2cb, ocfs2, orchestrate, topology
from hapair.errors import HapairError, RenderError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")


def load_pillar(name: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", f"{name}.sls"), encoding="utf-8") as handle:
        return topology.load(yaml.safe_load(handle), name)


def fixture(*parts: str) -> dict:
    with open(os.path.join(FIXTURES, *parts), encoding="utf-8") as handle:
        return json.load(handle)


def heartbeat_topo() -> dict:
    return fixture("heartbeat", "seed-002-topology.json")


# --- heartbeat: ha.cf, haresources, authkeys ------------------------------------------------------


def test_ha_cf_logfacility_cannot_add_a_respawn_line():
    topo = heartbeat_topo()
    topo["cluster"]["heartbeat"]["logfacility"] = "local0\nrespawn root /bin/sh -c 'id > /tmp/pwned'"
    with pytest.raises(RenderError, match="logfacility"):
        heartbeat.render_ha_cf(topo)


@pytest.mark.parametrize("medium", [{"type": "bcast", "interface": "eth1\nrespawn root /bin/sh"},
                                    {"type": "ucast", "interface": "eth0", "addresses": ["10.0.0.2 eth9"]}])
def test_ha_cf_media_fields_are_one_word(medium):
    topo = heartbeat_topo()
    topo["cluster"]["heartbeat"]["media"] = [medium]
    with pytest.raises(RenderError):
        heartbeat.render_ha_cf(topo)


def test_ha_cf_node_names_are_hostnames():
    topo = heartbeat_topo()
    first = (topo.get("node_order") or list(topo["nodes"]))[0]
    topo["nodes"][first]["hostname"] = "node01\nrespawn root /bin/sh"
    with pytest.raises(RenderError):
        heartbeat.render_ha_cf(topo)


def test_ha_cf_unknown_medium_is_the_projects_error():
    topo = heartbeat_topo()
    topo["cluster"]["heartbeat"]["media"] = [{"type": "pigeon", "interface": "eth0"}]
    with pytest.raises(HapairError):
        heartbeat.render_ha_cf(topo)


# haresources injection (IPaddr2, drbddisk, Filesystem, services, every ``::``): tests/unit/test_heartbeat.py


def test_authkeys_refuses_nul_and_raises_the_projects_error():
    topo = heartbeat_topo()
    topo["cluster"]["heartbeat"]["authkeys"] = {"index": 1, "method": "sha1", "key": "k\x00ey"}
    with pytest.raises(RenderError) as err:
        heartbeat.render_authkeys(topo)
    assert "k\x00ey" not in str(err.value)  # the key is a secret: never quoted
    topo["cluster"]["heartbeat"]["authkeys"] = {"index": 1, "method": "rot13", "key": "k"}
    with pytest.raises(HapairError):
        heartbeat.render_authkeys(topo)


def test_heartbeat_seed_still_renders():
    files = heartbeat.render(heartbeat_topo())
    assert all("\x00" not in f["content"] for f in files.values())


# --- /etc/exports --------------------------------------------------------------------------------


def test_exports_clients_cannot_add_an_export_line():
    topo = load_pillar("lab_fileserver")
    topo["nfs"]["exports"][0]["clients"] = "10.0.0.0/24(rw)\n/ *"
    with pytest.raises(RenderError, match="clients"):
        nfs.render_exports(topo)


def test_exports_options_cannot_add_an_export_line():
    topo = load_pillar("lab_fileserver")
    topo["nfs"]["exports"][0]["options"] = ["rw)\n/ *(rw", "no_root_squash"]
    with pytest.raises(RenderError, match="options"):
        nfs.render_exports(topo)


def test_exports_path_is_a_path():
    topo = load_pillar("lab_fileserver")
    topo["nfs"]["exports"][0]["path"] = "/vol/x *(rw,no_root_squash)\n/srv"
    with pytest.raises(RenderError):
        nfs.render_exports(topo)


def test_exports_example_still_renders():
    text = nfs.render_exports(load_pillar("lab_fileserver"))
    assert [line.split()[0] for line in text.splitlines()[1:]] == [e["path"] for e in
                                                                   load_pillar("lab_fileserver")["nfs"]["exports"]]


# --- /etc/fstab (OCFS2, GFS2) ---------------------------------------------------------------------

FS = {"device": "/dev/drbd0", "mountpoint": "/vol/ocfs2-small", "type": "ocfs2", "resource": "drbd0",
      "mount_options": ["noatime"]}


@pytest.mark.parametrize("module", [ocfs2, gfs2])
@pytest.mark.parametrize("key, value", [
    ("mount_options", ["noatime 0 0\n/dev/sdb / ext4 defaults"]),
    ("mount_options", ["noatime,exec\t"]),
    ("mountpoint", "/vol/x ext4 defaults 0 0\n/dev/sdb /"),
    ("device", "/dev/drbd0 /"),
    ("resource", "drbd0 x"),
])
def test_fstab_line_fields_cannot_add_lines_or_fields(module, key, value):
    with pytest.raises(RenderError):
        module.fstab_line({**FS, key: value})


def test_fstab_line_normal():
    assert ocfs2.fstab_line(FS) == ("/dev/drbd0 /vol/ocfs2-small ocfs2 _netdev,noatime,"
                                    "x-systemd.requires=hapair-drbd-promote@drbd0.service 0 0")


# --- cman cluster.conf ---------------------------------------------------------------------------


def cman_topo() -> dict:
    return load_pillar("hardcore")


def test_cman_attribute_key_cannot_add_an_element():
    topo = cman_topo()
    topo["cluster"]["cman"]["attributes"] = {'x="1"/><fencedevice agent="fence_evil" name="f': "1"}
    with pytest.raises(RenderError):
        cman.render_cluster_conf(topo)


def test_cman_resource_type_cannot_add_an_element():
    topo = cman_topo()
    topo["cluster"]["cman"]["services"] = {"web": {"resources": [{"type": 'ip address="1"/><script file="/x" name="y',
                                                                  "address": "10.0.0.50"}]}}
    with pytest.raises(RenderError):
        cman.render_cluster_conf(topo)


def test_cman_control_characters_in_values_are_refused():
    topo = cman_topo()
    topo["cluster"]["cman"]["totem"] = {"token": "1\x00"}
    with pytest.raises(RenderError):
        cman.render_cluster_conf(topo)


def test_cman_hostile_attribute_values_stay_attribute_values():
    topo = cman_topo()
    topo["cluster"]["cman"]["totem"] = {"token": '1"/><evil a="'}
    root = ET.fromstring(cman.render_cluster_conf(topo).split("\n", 1)[1])
    assert root.find("totem").get("token") == '1"/><evil a="'
    assert root.find("evil") is None and root.find(".//evil") is None


# --- DRBD ----------------------------------------------------------------------------------------


def drbd_seed() -> dict:
    return fixture("render", "seed_topologies.json")["seed-000"]


def test_drbd_resource_name_with_a_trailing_newline_is_refused():
    topo = drbd_seed()
    res = topo["drbd"]["resources"].pop("r0")
    topo["drbd"]["resources"]["r1\n"] = {**res, "name": "r1\n"}
    with pytest.raises(HapairError) as err:
        drbd_render.render(topo, "web1", "9")
    assert "r1" in str(err.value)


def test_drbd_option_key_with_a_trailing_newline_is_refused():
    topo = drbd_seed()
    topo["drbd"]["resources"]["r0"]["sections"] = {"disk": {"resync-rate\n": "10M"}}
    with pytest.raises(HapairError):
        drbd_render.render(topo, "web1", "8.4")


def test_drbd_hostname_drbdadm_cannot_hold_is_refused():
    topo = drbd_seed()
    topo["nodes"]["web2"]["hostname"] = "web2\n}\non evil {"
    with pytest.raises(HapairError):
        drbd_render.render(topo, "web1", "9")


def test_drbd_quote_refuses_control_characters():
    with pytest.raises(RenderError):
        drbd_render._quote("a\nb")


# --- o2cb, corosync ------------------------------------------------------------------------------


def test_o2cb_cluster_conf_node_name_cannot_add_a_stanza():
    topo = load_pillar("lab_fileserver")
    first = topo["node_order"][0]
    topo["nodes"][first]["hostname"] = "fiori\n\nnode:\n\tname = evil"
    with pytest.raises(RenderError):
        o2cb.render_cluster_conf(topo)


def test_o2cb_defaults_cluster_name_cannot_add_a_variable():
    topo = load_pillar("lab_fileserver")
    topo["cluster"]["name"] = "ocfs2\nO2CB_ENABLED=false"
    with pytest.raises(RenderError):
        o2cb.render_defaults(topo)


def test_corosync_section_and_key_names_are_checked():
    topo = load_pillar("lab_gfs2")
    topo["cluster"]["corosync"]["totem"] = {"interface {\n x": {"a": 1}}
    with pytest.raises(HapairError):
        corosync.render_conf(topo)
    topo["cluster"]["corosync"]["totem"] = {"token\n": 3000}
    with pytest.raises(HapairError):
        corosync.render_conf(topo)
    topo["cluster"]["corosync"]["totem"] = {"token": "3000\x00"}
    with pytest.raises(HapairError):
        corosync.render_conf(topo)


def test_dlm_conf_key_with_a_trailing_newline_is_refused():
    topo = load_pillar("lab_gfs2")
    topo["cluster"]["corosync"]["dlm"] = {"enable_fencing": False, "post_join_delay\n": 10}
    with pytest.raises(HapairError):
        corosync.render_dlm_conf(topo)


# --- orchestration targets ----------------------------------------------------------------------


@pytest.mark.parametrize("hostile", ["node2,node3", "node2\n  - tgt: '*'", "*", "node2 or G@os:*"])
def test_orchestration_minions_are_checked(hostile):
    topo = copy.deepcopy(load_pillar("lab_web"))
    first = topo["node_order"][0]
    topo["nodes"][first]["minion_id"] = hostile
    with pytest.raises(RenderError, match="minion"):
        orchestrate.minions(topo)


def test_orchestration_minions_in_node_order():
    topo = load_pillar("lab_web")
    assert orchestrate.minions(topo) == [topo["nodes"][n]["minion_id"] for n in topo["node_order"]]
