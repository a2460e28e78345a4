"""_pillar/hapair_secrets.py through Salt's own loader and pillar compiler (no daemons): the
heartbeat authkeys key is generated once per topology on the master (0600 in 0700 directories),
the same for every node and every compile, merged at
hapair:topologies:<t>:cluster:heartbeat:authkeys:key for the topology's nodes only, never
generated where the pillar sets a key or uses crc; and a node without one is refused at render
naming the pillar path and the ext_pillar line."""

from __future__ import annotations

import os
import stat
import sys
import threading

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

salt_config = pytest.importorskip("salt.config")
salt_loader = pytest.importorskip("salt.loader")
salt_pillar = pytest.importorskip("salt.pillar")

from hapair import heartbeat  # noqa: E402
from hapair import topology as topology_mod  # noqa: E402
from hapair.errors import RenderError  # noqa: E402

with open(os.path.join(ROOT, "pillar", "hapair", "lab_apache.sls"), encoding="utf-8") as _handle:
    LAB_APACHE = yaml.safe_load(_handle)


def raw_apache(**auth):
    """lab_apache's topology (pillar/hapair/lab_apache.sls) with ``auth`` as its authkeys."""
    raw = LAB_APACHE["hapair"]["topologies"]["lab_apache"]
    raw = yaml.safe_load(yaml.safe_dump(raw))  # a copy
    raw["cluster"]["heartbeat"]["authkeys"] = auth
    return raw


def master_opts(tmp_path, **extra):
    opts = salt_config.master_config(os.devnull)
    opts.update(cachedir=str(tmp_path / "cache"), extension_modules=str(tmp_path / "extmods"),
                pillar_dirs=[os.path.join(ROOT, "_pillar")], **extra)
    os.makedirs(opts["extension_modules"], exist_ok=True)
    return opts


@pytest.fixture
def ext_pillar(tmp_path):
    """The ext_pillar function as Salt's pillar loader loads it, with cachedir under tmp_path."""
    opts = master_opts(tmp_path)
    func = salt_loader.pillars(opts, {})["hapair_secrets"]
    func.store = os.path.join(opts["cachedir"], "hapair", "secrets", "lab_apache", "heartbeat-authkey")
    return func


def pillar_of(*topologies):
    return {"hapair": {"topologies": dict(topologies)}}


def key_of(answer, name="lab_apache"):
    return answer["hapair"]["topologies"][name]["cluster"]["heartbeat"]["authkeys"]["key"]


def node_ids():
    return heartbeat.node_minions(raw_apache())


def test_two_calls_and_both_nodes_get_one_key_kept_0600_in_0700_dirs(ext_pillar):
    pil = pillar_of(("lab_apache", raw_apache(method="sha1")))
    first, second = node_ids()
    key = key_of(ext_pillar(first, pil))
    assert heartbeat.is_generated_key(key)
    assert key_of(ext_pillar(first, pil)) == key == key_of(ext_pillar(second, pil))
    assert stat.S_IMODE(os.stat(ext_pillar.store).st_mode) == 0o600
    with open(ext_pillar.store, encoding="ascii") as handle:
        assert handle.read() == key + "\n"
    for level in (os.path.dirname(ext_pillar.store), os.path.dirname(os.path.dirname(ext_pillar.store))):
        assert stat.S_IMODE(os.stat(level).st_mode) == 0o700, level
    assert os.listdir(os.path.dirname(ext_pillar.store)) == ["heartbeat-authkey"]  # no temp file left


def test_a_minion_that_is_no_node_gets_nothing_and_nothing_is_made(ext_pillar):
    pil = pillar_of(("lab_apache", raw_apache(method="sha1")))
    assert ext_pillar("master", pil) == {}
    assert ext_pillar("node3", pil) == {}
    assert not os.path.exists(os.path.dirname(ext_pillar.store))


@pytest.mark.parametrize("auth", [{"method": "sha1", "key": "Set-In-Pillar-1"}, {"method": "crc"}, {"method": "md5", "key": ""}])
def test_a_key_in_the_pillar_or_crc_generates_nothing(ext_pillar, auth):
    assert ext_pillar(node_ids()[0], pillar_of(("lab_apache", raw_apache(**auth)))) == {}
    assert not os.path.exists(ext_pillar.store)


def test_each_topology_has_its_own_key(ext_pillar):
    other = raw_apache(method="md5")
    pil = pillar_of(("lab_apache", raw_apache(method="sha1")), ("other", other))
    answer = ext_pillar(node_ids()[0], pil)
    assert sorted(answer["hapair"]["topologies"]) == ["lab_apache", "other"]
    assert key_of(answer) != key_of(answer, "other")


def test_concurrent_compiles_agree_on_one_key(ext_pillar):
    pil = pillar_of(("lab_apache", raw_apache(method="sha1")))
    keys, start = [], threading.Barrier(8)

    def compile_once(mid):
        start.wait()
        keys.append(key_of(ext_pillar(mid, pil)))

    threads = [threading.Thread(target=compile_once, args=(node_ids()[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert os.listdir(os.path.dirname(ext_pillar.store)) == ["heartbeat-authkey"]


def test_a_damaged_store_is_logged_without_content_and_gives_no_key(ext_pillar, caplog):
    pil = pillar_of(("lab_apache", raw_apache(method="sha1")))
    os.makedirs(os.path.dirname(ext_pillar.store))
    with open(ext_pillar.store, "w", encoding="ascii") as handle:
        handle.write("Not-A-Generated-Key\n")
    assert ext_pillar(node_ids()[0], pil) == {}
    assert "does not hold a generated key" in caplog.text and "Not-A-Generated-Key" not in caplog.text
    with open(ext_pillar.store, encoding="ascii") as handle:
        assert handle.read() == "Not-A-Generated-Key\n"  # never overwritten: both nodes may hold it


def _write_roots(tmp_path, raw):
    roots = tmp_path / "pillar"
    roots.mkdir()
    (roots / "top.sls").write_text("base:\n  '*':\n    - topo\n")
    (roots / "topo.sls").write_text(yaml.safe_dump({"hapair": {"topologies": {"lab_apache": raw}}}))
    return str(roots)


def test_the_compiled_pillar_holds_the_key_and_renders_authkeys(tmp_path):
    """salt.pillar.Pillar with ``ext_pillar: [{hapair_secrets: {}}]``: the merge Salt itself does."""
    opts = master_opts(tmp_path, pillar_roots={"base": [_write_roots(tmp_path, raw_apache(method="sha1"))]},
                       ext_pillar=[{"hapair_secrets": {}}], file_client="local")
    compiled = {mid: salt_pillar.Pillar(opts, {"id": mid}, mid, "base").compile_pillar()
                for mid in (*node_ids(), "bystander")}
    key = key_of(compiled[node_ids()[0]])
    assert heartbeat.is_generated_key(key) and key_of(compiled[node_ids()[1]]) == key
    assert compiled["bystander"]["hapair"]["topologies"]["lab_apache"]["cluster"]["heartbeat"]["authkeys"] == {
        "method": "sha1"}
    assert "_errors" not in compiled[node_ids()[0]]
    topo = topology_mod.load(compiled[node_ids()[0]], "lab_apache")
    assert heartbeat.render_authkeys(topo) == f"auth 1\n1 sha1 {key}\n"
    assert key in heartbeat.secrets(topo)  # masked wherever hapair reports
    bystander = topology_mod.load(compiled["bystander"], "lab_apache")  # validates: the runner's view
    with pytest.raises(RenderError) as err:
        heartbeat.render_authkeys(bystander)
    assert "hapair:topologies:lab_apache:cluster:heartbeat:authkeys:key" in str(err.value)
    assert heartbeat.EXT_PILLAR_LINE in str(err.value)
