"""Unit tests of hapair.drbd_render: structure (parsed back with a tiny tokenizer), quoting,
secrets, determinism and refusal of values that cannot be written as DRBD config.

Topologies: tests/fixtures/render/seed_topologies.json, normalised dicts built by hand from the
recipes in ../shared/seeds (each entry's ``_source`` names the recipe and the part it follows).
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
from conftest import FIXTURES
from hapair import drbd_render
from hapair.errors import HapairError, ValidationError

SEEDS_FILE = os.path.join(FIXTURES, "render", "seed_topologies.json")


def seeds() -> dict:
    with open(SEEDS_FILE, encoding="utf-8") as handle:
        return json.load(handle)


# --- a tiny DRBD config reader, independent of the renderer ---------------------------------------

_TOKEN = re.compile(r'\s+|#[^\n]*|"((?:[^"\\\n]|\\.)*)"|([{};])|([^\s{};"#]+)')


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: kind is 'str' (quoted, unescaped), 'word' or 'punct'."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        assert match, f"cannot tokenize at {text[pos:pos + 30]!r}"
        pos = match.end()
        if match.group(1) is not None:
            tokens.append(("str", re.sub(r"\\(.)", r"\1", match.group(1))))
        elif match.group(2):
            tokens.append(("punct", match.group(2)))
        elif match.group(3):
            tokens.append(("word", match.group(3)))
    return tokens


def parse(text: str) -> list:
    """Nested list of statements: (words, None) for `a b c;`, (words, [children]) for `a b { ... }`."""
    tokens = tokenize(text)
    pos = 0

    def block() -> list:
        nonlocal pos
        out, words = [], []
        while pos < len(tokens):
            kind, value = tokens[pos]
            pos += 1
            if kind == "punct" and value == ";":
                out.append((tuple(words), None))
                words = []
            elif kind == "punct" and value == "{":
                out.append((tuple(words), block()))
                words = []
            elif kind == "punct" and value == "}":
                assert not words, f"dangling words {words}"
                return out
            else:
                words.append(value)
        assert not words, f"dangling words {words}"
        return out

    tree = block()
    assert pos == len(tokens)
    return tree


def section(tree: list, *head: str) -> list:
    found = [children for words, children in tree if words == head and children is not None]
    assert len(found) == 1, f"{head} found {len(found)} times in {tree}"
    return found[0]


def options(tree: list) -> dict:
    return {words[0]: words[1:] for words, children in tree if children is None}


def names(tree: list) -> list:
    return [words for words, _ in tree]


def res_tree(files: dict, name: str, conf_dir: str = "/etc/drbd.d") -> list:
    return section(parse(files[f"{conf_dir}/{name}.res"]["content"]), "resource", name)


# --- file set, paths and modes ----------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["8.4", "9"])
def test_paths_and_includes(dialect):
    topo = seeds()["seed-001"]
    files = drbd_render.render(topo, "fiori", dialect, conf_path="/x/drbd.conf", conf_dir="/x/d.d")
    assert sorted(files) == ["/x/d.d/drbd0.res", "/x/d.d/drbd1.res", "/x/d.d/global_common.conf", "/x/drbd.conf"]
    includes = [words for words, _ in parse(files["/x/drbd.conf"]["content"])]
    assert includes == [("include", "/x/d.d/global_common.conf"), ("include", "/x/d.d/*.res")]


def test_default_paths():
    files = drbd_render.render(seeds()["seed-000"], "web1", "8.4")
    assert sorted(files) == ["/etc/drbd.conf", "/etc/drbd.d/global_common.conf", "/etc/drbd.d/r0.res"]


@pytest.mark.parametrize("dialect", ["8.4", "9"])
def test_secret_files_are_0600_and_hold_the_only_copy(dialect):
    topo = seeds()["seed-003"]
    files = drbd_render.render(topo, "node1", dialect)
    modes = {path: (f["mode"], f["secret"]) for path, f in files.items()}
    assert modes == {
        "/etc/drbd.conf": ("0644", False),
        "/etc/drbd.d/global_common.conf": ("0644", False),
        "/etc/drbd.d/r0.res": ("0600", True),
        "/etc/drbd.d/r1.res": ("0600", True),
    }
    r0, r1 = files["/etc/drbd.d/r0.res"]["content"], files["/etc/drbd.d/r1.res"]["content"]
    assert "super_secret_random_code" in r0 and "another_super_secret_code" not in r0
    assert "another_super_secret_code" in r1
    for path in ("/etc/drbd.conf", "/etc/drbd.d/global_common.conf"):
        assert not any(s in files[path]["content"] for s in topo["secrets"])


def test_no_secret_means_0644():
    files = drbd_render.render(seeds()["seed-001"], "torchio", "9")
    assert {(f["mode"], f["secret"]) for f in files.values()} == {("0644", False)}


def test_shared_secret_in_common_makes_global_common_secret():
    topo = seeds()["seed-001"]
    topo["drbd"]["common"]["net"].update({"cram-hmac-alg": "sha1", "shared-secret": "c0mm0n"})
    topo["secrets"] = ["c0mm0n"]
    files = drbd_render.render(topo, "fiori", "8.4")
    assert files["/etc/drbd.d/global_common.conf"]["mode"] == "0600"
    assert files["/etc/drbd.d/drbd0.res"]["mode"] == "0644"


# --- content -----------------------------------------------------------------------------------------


def test_seed000_dual_primary_84():
    files = drbd_render.render(seeds()["seed-000"], "web2", "8.4")
    res = res_tree(files, "r0")
    net = options(section(res, "net"))
    assert net == {
        "protocol": ("C",), "allow-two-primaries": ("yes",), "cram-hmac-alg": ("sha1",),
        "shared-secret": ("secret",), "after-sb-0pri": ("discard-zero-changes",),
        "after-sb-1pri": ("discard-secondary",), "after-sb-2pri": ("disconnect",),
    }
    assert options(section(res, "startup")) == {"become-primary-on": ("both",)}
    web1 = options(section(res, "on", "web1.lowend.party"))
    assert web1 == {"device": ("/dev/drbd0", "minor", "0"), "disk": ("/dev/sdc1",),
                    "meta-disk": ("internal",), "address": ("ipv4", "1.1.1.1:7788")}
    assert options(section(res, "on", "web2.lowend.party"))["address"] == ("ipv4", "2.2.2.2:7788")
    assert ("connection-mesh",) not in names(res)
    common = parse(files["/etc/drbd.d/global_common.conf"]["content"])
    assert options(section(common, "global")) == {"usage-count": ("yes",)}
    assert options(section(section(common, "common"), "net")) == {"protocol": ("C",)}


def test_seed000_dual_primary_9():
    res = res_tree(drbd_render.render(seeds()["seed-000"], "web1", "9"), "r0")
    assert options(section(res, "net"))["allow-two-primaries"] == ("yes",)
    assert ("startup",) not in names(res)  # become-primary-on is 8.4 only
    assert options(section(res, "on", "web1.lowend.party"))["node-id"] == ("0",)
    assert options(section(res, "on", "web2.lowend.party"))["node-id"] == ("1",)
    assert options(section(res, "connection-mesh")) == {"hosts": ("web1.lowend.party", "web2.lowend.party")}


def test_crossed_become_primary_on_each_resources_primary():
    files = drbd_render.render(seeds()["seed-003"], "node1", "8.4")
    assert options(section(res_tree(files, "r0"), "startup"))["become-primary-on"] == ("node1",)
    assert options(section(res_tree(files, "r1"), "startup"))["become-primary-on"] == ("node2",)
    assert "allow-two-primaries" not in files["/etc/drbd.d/r0.res"]["content"]
    on2 = options(section(res_tree(files, "r1"), "on", "node2"))
    assert on2["device"] == ("/dev/drbd2", "minor", "2")  # per-node device of the recipe kept


def test_become_primary_on_uses_hostname_not_node_key():
    topo = seeds()["seed-003"]
    topo["nodes"]["node1"]["hostname"] = "node1.example.org"
    res = res_tree(drbd_render.render(topo, "node1", "8.4"), "r0")
    assert options(section(res, "startup"))["become-primary-on"] == ("node1.example.org",)
    assert ("on", "node1.example.org") in names(res)


def test_single_primary_without_primary_has_no_startup():
    topo = seeds()["seed-003"]
    res = topo["drbd"]["resources"]["r0"]
    res.update(mode="single-primary", primary=None, sections={})
    assert ("startup",) not in names(res_tree(drbd_render.render(topo, "node1", "8.4"), "r0"))


@pytest.mark.parametrize("dialect", ["8.4", "9"])
def test_syncer_rate_becomes_disk_resync_rate(dialect):
    files = drbd_render.render(seeds()["seed-004"], "core-01", dialect)
    assert options(section(res_tree(files, "r0"), "disk")) == {"on-io-error": ("detach",), "resync-rate": ("100M",)}
    assert options(section(res_tree(files, "r1"), "disk"))["resync-rate"] == ("125M",)
    gc = drbd_render.render(seeds()["seed-003"], "node1", dialect)["/etc/drbd.d/global_common.conf"]["content"]
    assert options(section(section(parse(gc), "common"), "disk")) == {"resync-rate": ("200M",)}
    for files_ in (files, drbd_render.render(seeds()["seed-003"], "node1", dialect)):
        assert not any("syncer" in f["content"] for f in files_.values())


def test_handlers_are_quoted_strings_and_round_trip():
    files = drbd_render.render(seeds()["seed-001"], "fiori", "8.4")
    text = files["/etc/drbd.d/drbd0.res"]["content"]
    assert '    before-resync-target "/sbin/drbdsetup $DRBD_MINOR secondary";\n' in text
    assert '    split-brain "/usr/lib/drbd/notify-split-brain.sh root";\n' in text
    topo = seeds()["seed-001"]
    nasty = 'echo "a\\b" ; } handlers { x'
    topo["drbd"]["resources"]["drbd0"]["sections"]["handlers"] = {"split-brain": nasty, "fence-peer": "/bin/true"}
    res = res_tree(drbd_render.render(topo, "fiori", "9"), "drbd0")
    assert options(section(res, "handlers")) == {"fence-peer": ("/bin/true",), "split-brain": (nasty,)}


def test_no_handlers_section_when_absent():
    files = drbd_render.render(seeds()["seed-000"], "web1", "8.4")
    assert all("handlers" not in f["content"] for f in files.values())


def test_free_form_values_bool_none_and_quoting():
    topo = seeds()["seed-000"]
    topo["drbd"]["resources"]["r0"]["sections"] = {
        "net": {"use-rle": True, "tcp-cork": False, "ping-int": 30},
        "disk": {"disk-flushes": None, "on-io-error": "detach"},
        "options": {"cpu-mask": "with space"},
    }
    res = res_tree(drbd_render.render(topo, "web1", "8.4"), "r0")
    net = options(section(res, "net"))
    assert (net["use-rle"], net["tcp-cork"], net["ping-int"]) == (("yes",), ("no",), ("30",))
    assert options(section(res, "disk")) == {"disk-flushes": (), "on-io-error": ("detach",)}
    assert options(section(res, "options")) == {"cpu-mask": ("with space",)}
    assert names(res)[:4] == [("options",), ("net",), ("disk",), ("startup",)]


def test_ipv6_address():
    topo = seeds()["seed-000"]
    for name, addr in (("web1", "fd00::1"), ("web2", "FD00:0:0::2")):
        topo["drbd"]["resources"]["r0"]["nodes"][name]["address"] = addr
    res = res_tree(drbd_render.render(topo, "web1", "9"), "r0")
    assert options(section(res, "on", "web2.lowend.party"))["address"] == ("ipv6", "[fd00::2]:7788")


def test_header_names_topology_and_dialect():
    for dialect in ("8.4", "9"):
        for content in (f["content"] for f in drbd_render.render(seeds()["seed-004"], "core-02", dialect).values()):
            first = content.splitlines()[0]
            assert first.startswith("# Generated by hapair from topology hardcore ")
            assert f"(DRBD {dialect} dialect)" in first


def test_deterministic_and_independent_of_dict_order():
    topo = seeds()["seed-004"]
    again = drbd_render.render(copy.deepcopy(topo), "core-01", "9")
    assert drbd_render.render(topo, "core-01", "9") == again

    def reverse(obj):
        if isinstance(obj, dict):
            return {k: reverse(obj[k]) for k in reversed(list(obj))}
        return obj

    shuffled = reverse(topo)
    assert list(shuffled["drbd"]["resources"]["r0"]["sections"]) != list(topo["drbd"]["resources"]["r0"]["sections"])
    assert drbd_render.render(shuffled, "core-01", "9") == again


def test_dialects_differ_only_where_they_must():
    files84 = drbd_render.render(seeds()["seed-000"], "web1", "8.4")
    files9 = drbd_render.render(seeds()["seed-000"], "web1", "9")
    only84 = set(files84["/etc/drbd.d/r0.res"]["content"].splitlines()) - set(files9["/etc/drbd.d/r0.res"]["content"].splitlines())
    assert {line.strip() for line in only84} == {
        "# Generated by hapair from topology web (DRBD 8.4 dialect). Do not edit: changes are overwritten.",
        "startup {", "become-primary-on both;",
    }


@pytest.mark.parametrize("dialect", ["8.4", "9"])
@pytest.mark.parametrize("target", ["web1.lowend.party", "web1", "WEB1.lowend.party"])
def test_discard_node_becomes_node_relative(dialect, target):
    topo = seeds()["seed-000"]
    topo["drbd"]["resources"]["r0"]["after_sb_0pri"] = f"discard-node-{target}"
    on1 = options(section(res_tree(drbd_render.render(topo, "web1", dialect), "r0"), "net"))
    on2 = options(section(res_tree(drbd_render.render(topo, "web2", dialect), "r0"), "net"))
    assert (on1["after-sb-0pri"], on2["after-sb-0pri"]) == (("discard-local",), ("discard-remote",))


def test_discard_node_of_a_stranger_is_refused():
    topo = seeds()["seed-000"]
    topo["drbd"]["resources"]["r0"]["after_sb_0pri"] = "discard-node-web3"
    with pytest.raises(ValidationError, match="names no node"):
        drbd_render.render(topo, "web1", "9")


# --- refusals ------------------------------------------------------------------------------------------


def test_unknown_dialect_and_node():
    with pytest.raises(HapairError, match="dialect"):
        drbd_render.render(seeds()["seed-000"], "web1", "auto")
    with pytest.raises(HapairError, match="web3"):
        drbd_render.render(seeds()["seed-000"], "web3", "9")


def test_every_error_at_once_with_paths():
    topo = seeds()["seed-004"]
    r0 = topo["drbd"]["resources"]["r0"]
    r0["sections"]["handlers"] = {"split-brain": "line1\nline2"}
    r0["sections"]["syncer"]["verify"] = "md5"
    r0["sections"]["bogus"] = {"x": 1}
    r0["sections"]["net"]["after-sb-0pri"] = "disconnect"  # contradicts after_sb_0pri
    r0["sections"]["disk"]["resync-rate"] = "1M"  # also set by syncer.rate
    r0["nodes"]["core-02"]["address"] = "10.0.0.300"
    r0["nodes"]["core-01"]["disk"] = None
    with pytest.raises(ValidationError) as info:
        drbd_render.render(topo, "core-01", "9")
    paths = sorted(err.path for err in info.value.errors)
    base = "hapair:topologies:hardcore:drbd:resources:r0"
    assert paths == sorted([
        f"{base}:handlers:split-brain", f"{base}:syncer:verify", f"{base}:bogus",
        f"{base}:net:after-sb-0pri", f"{base}:syncer:rate", f"{base}:nodes:core-02:address",
        f"{base}:nodes:core-01:disk",
    ])


def test_equal_free_form_duplicate_is_accepted_once():
    topo = seeds()["seed-000"]
    topo["drbd"]["resources"]["r0"]["sections"] = {"net": {"allow-two-primaries": "yes", "protocol": "C"}}
    text = drbd_render.render(topo, "web1", "8.4")["/etc/drbd.d/r0.res"]["content"]
    assert text.count("allow-two-primaries") == 1 and text.count("protocol") == 1


def test_secret_never_in_error_text():
    topo = seeds()["seed-004"]  # shared-secret 123456
    r0 = topo["drbd"]["resources"]["r0"]
    r0["nodes"]["core-02"]["address"] = "123456"  # the secret typed into the wrong field
    r0["shared_secret"] = "123456\nmore"
    topo["secrets"] = ["123456\nmore", "123456"]
    with pytest.raises(ValidationError) as info:
        drbd_render.render(topo, "core-01", "8.4")
    paths = sorted(err.path for err in info.value.errors)
    base = "hapair:topologies:hardcore:drbd:resources:r0"
    assert paths == [f"{base}:net:shared-secret", f"{base}:nodes:core-02:address"]
    assert "123456" not in str(info.value)
    assert "********" in str(info.value)


@pytest.mark.parametrize("bad", ["/etc/drbd.d/../x", "r 0", "r0;"])
def test_bad_resource_name_is_refused(bad):
    topo = seeds()["seed-000"]
    topo["drbd"]["resources"] = {bad: topo["drbd"]["resources"]["r0"]}
    with pytest.raises(ValidationError, match="resource name"):
        drbd_render.render(topo, "web1", "9")


def test_bad_option_key_is_refused():
    topo = seeds()["seed-000"]
    topo["drbd"]["common"] = {"net": {"protocol C; } x {": 1}}
    with pytest.raises(ValidationError, match="not a DRBD option name"):
        drbd_render.render(topo, "web1", "9")


# --- helpers -------------------------------------------------------------------------------------------


def test_resource_names_sorted():
    assert drbd_render.resource_names(seeds()["seed-001"]) == ["drbd0", "drbd1"]
    assert drbd_render.resource_names({"drbd": {"resources": {}}}) == []


@pytest.mark.parametrize("text, dialect", [
    ("8.4.11", "8.4"),
    ("9.2.2", "9"),
    ("DRBD_KERNEL_VERSION=9.1.23", "9"),
    ("version: 8.4.10 (api:1/proto:86-101)", "8.4"),  # first line of /proc/drbd, seed 000
    ("DRBD_KERNEL_VERSION_CODE=0x08040b", "8.4"),
    ("DRBD_KERNEL_VERSION_CODE=0x090202", "9"),
])
def test_dialect_for_version(text, dialect):
    assert drbd_render.dialect_for_version(text) == dialect


@pytest.mark.parametrize("text", ["8.3.16", "version: 8.2.4 (api:88/proto:86-88)", "0.7.23", "10.0.0", "", "0",
                                  "DRBD_KERNEL_VERSION_CODE=0x000000"])
def test_dialect_for_version_refuses(text):
    with pytest.raises(HapairError):
        drbd_render.dialect_for_version(text)


def test_header_names_the_topology_and_reads_back():
    from hapair import drbd_render

    header = drbd_render._header({"name": "lab_web"}, "8.4")
    assert drbd_render.topology_of(header + "resource r0 {\n") == "lab_web"
    assert drbd_render.topology_of("resource r0 {\n") is None
    assert drbd_render.topology_of("") is None
