"""hapair.heartbeat: ha.cf, haresources and authkeys from seed 002's topology.

Topology: tests/fixtures/heartbeat/seed-002-topology.json (hand-built; its ``_source`` quotes
the recipe's files and says what the recipe leaves out).
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import FIXTURES
from hapair import heartbeat
from hapair.errors import RenderError
from hapair.secrets import mask


def topology() -> dict:
    with open(os.path.join(FIXTURES, "heartbeat", "seed-002-topology.json"), encoding="utf-8") as handle:
        return json.load(handle)


def directives(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split(None, 1)) for line in text.splitlines() if line and not line.startswith("#")]


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


def test_haresources_is_the_recipes_line():
    lines = [line for line in heartbeat.render_haresources(topology()).splitlines() if not line.startswith("#")]
    assert lines == ["node01 10.0.0.100 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks apache2"]


def test_haresources_without_ip_or_fs_and_with_an_inline_filesystem():
    topo = topology()
    topo["cluster"]["heartbeat"]["resources"] = [
        {"node": "node02", "ip": None, "drbd": None, "filesystem": None, "services": ["exim4"]},
        {"node": "node01", "ip": "10.0.0.9/24/eth0", "drbd": "r0",
         "filesystem": {"device": "/dev/drbd0", "mountpoint": "/srv", "type": "xfs"}, "services": []}]
    lines = heartbeat.render_haresources(topo).splitlines()[1:]
    assert lines == ["node02 exim4", "node01 10.0.0.9/24/eth0 drbddisk::r0 Filesystem::/dev/drbd0::/srv::xfs"]


def test_authkeys_is_secret_and_0600():
    files = heartbeat.render(topology(), "/etc/ha.d")
    auth = files["/etc/ha.d/authkeys"]
    assert auth == {"content": "auth 1\n1 sha1 your_super_secure_password\n", "mode": "0600", "secret": True}
    assert files["/etc/ha.d/ha.cf"]["secret"] is False
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


def test_unknown_medium_is_refused():
    topo = topology()
    topo["cluster"]["heartbeat"]["media"] = [{"type": "pigeon", "interface": "eth9"}]
    with pytest.raises(RenderError):
        heartbeat.render_ha_cf(topo)


def test_apache_pillar_renders_the_recipes_files():
    from conftest import ROOT

    path = os.path.join(ROOT, "pillar", "hapair", "apache.sls")
    import hapair.topology as topology_mod  # noqa: PLC0415
    yaml = pytest.importorskip("yaml")
    with open(path, encoding="utf-8") as handle:
        topo = topology_mod.load(yaml.safe_load(handle.read()), "apache")
    assert heartbeat.render_ha_cf(topo) == heartbeat.render_ha_cf(topology())
    assert heartbeat.render_authkeys(topo) == heartbeat.render_authkeys(topology())
    lines = heartbeat.render_haresources(topo).splitlines()[1:]
    assert lines == ["node01 192.0.2.10 drbddisk::r0 Filesystem::/dev/drbd0::/drbd::ext3 drbdlinks apache2"]
    assert heartbeat.check(topo) == []
