"""A node that renders authkeys without a key (neither the pillar nor the master's hapair_secrets
ext_pillar gave one) is refused naming the pillar path and the ext_pillar line: validation lets the
absent key through (the master supplies it), the render is the one place that checks it reached
the node. The ext_pillar itself: tests/functional/test_pillar_secrets.py."""

from __future__ import annotations

import pytest
from hapair import heartbeat
from hapair import topology as topology_mod
from hapair.errors import RenderError
from test_heartbeat_status import module_env, raw_apache, topology

PATH = "hapair:topologies:apache:cluster:heartbeat:authkeys:key"


def test_validation_accepts_an_absent_key_and_the_render_refuses_it():
    raw = raw_apache()
    del raw["cluster"]["heartbeat"]["authkeys"]["key"]
    topo = topology_mod.load({"hapair": {"topologies": {"apache": raw}}}, "apache")
    assert topo["cluster"]["heartbeat"]["authkeys"] == {"index": 1, "method": "sha1", "key": None}
    assert heartbeat.secrets(topo) == []
    with pytest.raises(RenderError) as err:
        heartbeat.render(topo)
    assert PATH in str(err.value) and "ext_pillar: [{hapair_secrets: {}}]" in str(err.value)


@pytest.mark.parametrize("key", ["", "two words"])
def test_a_key_that_is_set_must_still_be_a_key(key):
    raw = raw_apache()
    raw["cluster"]["heartbeat"]["authkeys"]["key"] = key
    with pytest.raises(Exception, match="cluster:heartbeat:authkeys:key"):
        topology_mod.load({"hapair": {"topologies": {"apache": raw}}}, "apache")


def test_crc_needs_no_key():
    topo = topology()
    topo["cluster"]["heartbeat"]["authkeys"] = {"index": 1, "method": "crc", "key": None}
    assert heartbeat.render_authkeys(topo) == "auth 1\n1 crc\n"


@pytest.mark.parametrize("test", [True, False])
def test_configured_refuses_without_a_key_and_writes_nothing(tmp_path, test):
    env = module_env(tmp_path, {}, test=test)
    env["mod"].__salt__["heartbeat.vip_problems"] = lambda _topology: []  # the VIP is tested elsewhere
    del env["mod"].__pillar__["hapair"]["topologies"]["apache"]["cluster"]["heartbeat"]["authkeys"]["key"]
    ret = env["state"].configured("apache")
    assert ret["result"] is False and ret["changes"] == {}, ret
    assert PATH in ret["comment"] and "hapair_secrets" in ret["comment"]
    assert not (tmp_path / "ha.d").exists()
