"""hapair.heartbeat renderers: ha.cf, haresources (from ``topology["groups"]``), authkeys, the
drbdlinks configs and the set of files ``render`` returns.

Topology: tests/fixtures/heartbeat/seed-002-topology.json (hand-built, normalised shape; its
``_source`` quotes the recipe's files and says what the recipe leaves out).
"""

from __future__ import annotations

import copy
import json
import os

import pytest
from conftest import FIXTURES, ROOT
from hapair import heartbeat
from hapair.errors import RenderError
from hapair.secrets import mask

LINE = ("node01 IPaddr2::10.0.0.100/24/eth1 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 "
        "drbdlinks::/etc/hapair/drbdlinks-www.conf apache2")


def topology() -> dict:
    with open(os.path.join(FIXTURES, "heartbeat", "seed-002-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def directives(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line and not line.startswith("#")]


def resource_lines(topo: dict, **kwargs) -> list[str]:
    return [line for line in heartbeat.render_haresources(topo, **kwargs).splitlines() if not line.startswith("#")]


# --- ha.cf -------------------------------------------------------------------------------------

def test_ha_cf_has_the_recipes_directives():
    found = directives(heartbeat.render_ha_cf(topology()))
    recipe = [("debugfile", "/var/log/ha-debug"), ("logfile", "/var/log/ha-log"), ("logfacility", "local0"),
              ("keepalive", "2"), ("deadtime", "60"), ("warntime", "30"), ("initdead", "120"),
              ("udpport", "697"), ("auto_failback", "off"), ("node", "node01"), ("node", "node02"),
              ("debug", "0")]
    assert [d for d in found if d[0] not in ("bcast", "ucast", "mcast")] == recipe
    assert ("bcast", "eth1") in found


def test_udpport_precedes_every_medium():
    # heartbeat: "udpport setting must precede media statements"
    topo = topology()
    topo["cluster"]["heartbeat"]["media"] = [
        {"type": "ucast", "interface": "eth0", "addresses": ["10.0.0.2", "10.0.0.3"]},
        {"type": "mcast", "interface": "eth2", "group": "225.0.0.1", "port": 697, "ttl": 1}]
    names = [d[0] for d in directives(heartbeat.render_ha_cf(topo))]
    assert names.index("udpport") < names.index("ucast") < names.index("mcast")
    lines = heartbeat.render_ha_cf(topo).splitlines()
    assert "ucast eth0 10.0.0.2" in lines and "ucast eth0 10.0.0.3" in lines
    assert "mcast eth2 225.0.0.1 697 1 0" in lines


def test_node_lines_use_hostnames():
    topo = topology()
    topo["nodes"]["node02"]["hostname"] = "node02.example.org"
    assert "node node02.example.org" in heartbeat.render_ha_cf(topo).splitlines()


# --- haresources -------------------------------------------------------------------------------

def test_haresources_is_the_recipes_line_with_ipaddr2_and_drbdlinks():
    assert resource_lines(topology()) == [LINE]


def test_haresources_names_the_preferred_nodes_hostname_and_its_device():
    topo = topology()
    topo["groups"]["www"]["node"] = "node02"
    topo["nodes"]["node02"]["hostname"] = "node02.example.org"
    topo["filesystems"]["drbd"]["devices"]["node02"] = "/dev/drbd_www"
    (line,) = resource_lines(topo)
    assert line.startswith("node02.example.org IPaddr2::") and "Filesystem::/dev/drbd_www::/drbd::ext3" in line


# group table: what a group holds -> its haresources line
BARE = {"name": "db", "node": "node02", "nodes": ["node02", "node01"], "resource": "r1", "filesystem": None,
        "ip": None, "relocate": [], "services": []}
GROUP_CASES = [
    ("resource only", {}, "node02 drbddisk::r1"),
    ("ip", {"ip": {"address": "192.0.2.7", "cidr": 32, "interface": "bond0.100"}},
     "node02 IPaddr2::192.0.2.7/32/bond0.100 drbddisk::r1"),
    ("filesystem, no relocate", {"filesystem": "drbd"}, "node02 drbddisk::r1 Filesystem::/dev/drbd0::/drbd::ext3"),
    ("relocate", {"filesystem": "drbd", "relocate": [{"path": "/etc/mysql", "target": "/drbd/etc/mysql"}]},
     "node02 drbddisk::r1 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks::/etc/hapair/drbdlinks-db.conf"),
    ("services in order", {"services": ["mariadb", "MailTo::root@example.org"]},
     "node02 drbddisk::r1 mariadb MailTo::root@example.org"),
]


@pytest.mark.parametrize("case, change, line", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_haresources_group_table(case, change, line):
    topo = topology()
    topo["groups"] = {"db": {**copy.deepcopy(BARE), **change}}
    assert resource_lines(topo) == [line]


def test_haresources_lines_are_in_group_name_order_and_mount_options_join():
    topo = topology()
    topo["groups"]["aaa"] = {**copy.deepcopy(BARE), "name": "aaa"}
    topo["filesystems"]["drbd"]["mount_options"] = ["noatime", "nodiratime"]
    lines = resource_lines(topo, conf_dir="/srv/conf")
    assert [line.split()[1] for line in lines] == ["drbddisk::r1", "IPaddr2::10.0.0.100/24/eth1"]
    assert "Filesystem::/dev/drbd0::/drbd::ext3::noatime,nodiratime drbdlinks::/srv/conf/drbdlinks-www.conf" in lines[1]


def test_no_groups_is_a_header_only_haresources():
    topo = topology()
    topo["groups"] = {}
    assert resource_lines(topo) == []


def test_the_old_cluster_heartbeat_resources_key_is_not_read():
    topo = topology()
    topo["groups"] = {}
    topo["cluster"]["heartbeat"]["resources"] = [{"node": "node01", "ip": "10.6.6.6", "drbd": "r0", "services": ["x"]}]
    assert resource_lines(topo) == []


@pytest.mark.parametrize("where, value", [
    (("ip", "address"), "10.0.0.100 node02 evil"),
    (("ip", "address"), "10.0.0.100\nnode02 IPaddr::10.6.6.6"),
    (("ip", "address"), "fe80::1"),                      # '::' splits IPaddr2's argument
    (("ip", "cidr"), 33),
    (("ip", "cidr"), "24 evil"),
    (("ip", "interface"), "eth1 evil"),
    (("ip", "interface"), "0eth"),                       # IPaddr2 reads a leading digit as a broadcast
    (("resource",), "r0 evil"),
    (("resource",), "r0::x"),
    (("services",), ["apache2 evil"]),
    (("services",), ["apache2\nnode02 evil"]),
    (("services",), ["a*"]),                             # ResourceManager globs the unquoted argument
    (("services",), ["10.0.0.9"]),                       # ResourceManager's isip(): IPaddr::10.0.0.9
    (("node",), "node03"),
])
def test_haresources_fields_cannot_add_resources(where, value):
    topo = topology()
    target = topo["groups"]["www"]
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(RenderError):
        heartbeat.render_haresources(topo)


@pytest.mark.parametrize("field, value", [
    ("mountpoint", "/drbd::ext3::-o::exec x"), ("mountpoint", "/drbd:"), ("device", "/dev/drbd0:"),
    ("device", ":/dev/drbd0"), ("type", "ext3::rw"), ("type", "ext3 x"),
])
def test_haresources_filesystem_arguments_cannot_split(field, value):
    topo = topology()
    topo["filesystems"]["drbd"][field] = value
    topo["filesystems"]["drbd"]["devices"] = {} if field == "device" else topo["filesystems"]["drbd"]["devices"]
    with pytest.raises(RenderError, match=field):
        heartbeat.render_haresources(topo)


def test_haresources_mount_options_cannot_split():
    topo = topology()
    topo["filesystems"]["drbd"]["mount_options"] = ["rw::x"]
    with pytest.raises(RenderError, match="mount_options"):
        heartbeat.render_haresources(topo)


# --- drbdlinks configs -------------------------------------------------------------------------

def test_drbdlinks_conf_from_the_groups_relocate_list():
    assert heartbeat.render_drbdlinks_conf(topology(), "www").splitlines() == [
        "# Managed by hapair (Salt): drbdlinks for heartbeat group www.",
        "mountpoint('/drbd')",
        "link('/etc/apache2', '/drbd/etc/apache2')",
        "link('/var/www', '/drbd/var/www')",
    ]


@pytest.mark.parametrize("item, error", [
    ({"path": "/etc/apache2') ; evil('", "target": "/drbd/x"}, "path"),
    ({"path": "/etc/apache2", "target": "/drbd/../etc"}, "target"),
    ({"path": "/", "target": "/drbd"}, "path"),
    ({"path": "/etc/a\nlink('/x')", "target": "/drbd/etc/a"}, "path"),
    ({"path": "relative", "target": "/drbd/relative"}, "path"),
])
def test_drbdlinks_conf_refuses_what_would_change_its_meaning(item, error):
    topo = topology()
    topo["groups"]["www"]["relocate"] = [item]
    with pytest.raises(RenderError, match=error):
        heartbeat.render_drbdlinks_conf(topo, "www")


def test_drbdlinks_conf_needs_a_group_with_a_filesystem():
    topo = topology()
    with pytest.raises(RenderError, match="no such group"):
        heartbeat.render_drbdlinks_conf(topo, "nope")
    topo["groups"]["www"]["filesystem"] = None
    with pytest.raises(RenderError, match="nowhere"):
        heartbeat.render_drbdlinks_conf(topo, "www")


def test_drbdlinks_conf_path():
    assert heartbeat.drbdlinks_conf_path("www") == "/etc/hapair/drbdlinks-www.conf"
    with pytest.raises(RenderError):
        heartbeat.drbdlinks_conf_path("../www")


# --- authkeys and the files --------------------------------------------------------------------

def test_render_returns_every_file_with_its_mode():
    files = heartbeat.render(topology(), "/etc/ha.d")
    assert {path: (f["mode"], f["secret"]) for path, f in files.items()} == {
        "/etc/ha.d/ha.cf": ("0644", False),
        "/etc/ha.d/haresources": ("0644", False),
        "/etc/ha.d/authkeys": ("0600", True),
        "/etc/ha.d/resource.d/drbdlinks": ("0755", False),
        "/etc/hapair/drbdlinks-www.conf": ("0644", False),
    }
    assert files["/etc/ha.d/resource.d/drbdlinks"]["content"] == heartbeat.render_drbdlinks_script()
    assert files["/etc/ha.d/resource.d/drbdlinks"]["content"].startswith("#!/bin/sh\n")


def test_render_without_relocation_ships_no_drbdlinks():
    topo = topology()
    topo["groups"]["www"]["relocate"] = []
    assert sorted(heartbeat.render(topo, "/x/ha.d", "/x/conf")) == ["/x/ha.d/authkeys", "/x/ha.d/ha.cf",
                                                                     "/x/ha.d/haresources"]


def test_authkeys_is_secret_and_0600():
    files = heartbeat.render(topology(), "/etc/ha.d")
    auth = files["/etc/ha.d/authkeys"]
    assert auth == {"content": "auth 1\n1 sha1 your_super_secure_password\n", "mode": "0600", "secret": True}
    assert heartbeat.secrets(topology()) == ["your_super_secure_password"]
    assert "your_super_secure_password" not in str(mask(files, heartbeat.secrets(topology())))


@pytest.mark.parametrize("auth, error", [({"method": "sha1", "key": ""}, "needs a key"),
                                         ({"method": "sha1", "key": "two words"}, "without whitespace"),
                                         ({"method": "des", "key": "k"}, "not one of")])
def test_bad_authkeys_are_refused(auth, error):
    topo = topology()
    topo["cluster"]["heartbeat"]["authkeys"] = auth
    with pytest.raises(RenderError) as err:
        heartbeat.render_authkeys(topo)
    assert error in str(err.value)
    assert "two words" not in str(err.value)


def test_crc_needs_no_key():
    topo = topology()
    topo["cluster"]["heartbeat"]["authkeys"] = {"index": 2, "method": "crc", "key": None}
    assert heartbeat.render_authkeys(topo) == "auth 2\n2 crc\n"


# --- check and the services heartbeat owns -----------------------------------------------------

def test_check_table():
    topo = topology()
    assert heartbeat.check(topo) == []
    topo["groups"]["www"]["node"] = "node03"
    topo["groups"]["www"]["filesystem"] = None
    topo["cluster"]["heartbeat"]["media"] = []
    assert heartbeat.check(topo) == [
        "no heartbeat media (bcast/ucast/mcast): heartbeat refuses to start",
        "groups:www: node 'node03' is not a node of this topology",
        "groups:www: relocate needs a filesystem to relocate onto"]


def test_group_services_of_a_node():
    topo = topology()
    topo["groups"]["db"] = {**copy.deepcopy(BARE), "nodes": ["node02"],
                            "services": ["mariadb", "apache2", "MailTo::root"]}
    assert heartbeat.group_services(topo, "node01") == ["apache2"]
    assert heartbeat.group_services(topo, "node02") == ["mariadb", "apache2"]
    topo["groups"]["db"]["services"] = ["evil unit"]
    with pytest.raises(RenderError):
        heartbeat.group_services(topo, "node02")


def test_apache_pillar_renders_its_group():
    import hapair.topology as topology_mod  # noqa: PLC0415
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(ROOT, "pillar", "hapair", "apache.sls"), encoding="utf-8") as handle:
        topo = topology_mod.load(yaml.safe_load(handle.read()), "apache")
    assert heartbeat.render_ha_cf(topo) == heartbeat.render_ha_cf(topology())
    assert heartbeat.render_authkeys(topo) == heartbeat.render_authkeys(topology())
    (line,) = resource_lines(topo)
    assert line.startswith("node01 IPaddr2::") and " drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 " in line
    assert line.endswith(" drbdlinks::/etc/hapair/drbdlinks-www.conf apache2")
    assert heartbeat.check(topo) == []
