"""hapair.adapter: the helpers every Salt adapter shares, driven by a fake ``__salt__`` dict.

No Salt daemons and no loader: ``salt`` is a plain dict of callables, files live in tmp_path.
"""

from __future__ import annotations

import copy
import os
import stat

import pytest
from hapair import adapter
from hapair.errors import ParseError
from salt.exceptions import CommandExecutionError, SaltInvocationError

SECRET = "Adapter-Secret-51d2"


def fake_salt(config=None, pillar_items=None, run_all=None):
    """A ``__salt__`` stand-in: config.get from a dict, pillar.items counting its calls."""
    config = dict(config or {})
    calls = {"pillar.items": 0, "cmd.run_all": []}

    def pillar_fn():
        calls["pillar.items"] += 1
        return copy.deepcopy(pillar_items or {})

    def run_fn(argv, **kwargs):
        calls["cmd.run_all"].append((list(argv), kwargs))
        return run_all(argv) if run_all else {"retcode": 0, "stdout": "", "stderr": ""}

    salt = {"config.get": lambda key, default=None: config.get(key, default),
            "pillar.items": pillar_fn, "cmd.run_all": run_fn}
    return salt, calls


def topology_pillar(stack="o2cb"):
    raw = {"nodes": {"alpha": {"address": "10.0.0.1"},
                     "beta": {"address": "10.0.0.2", "minion_id": "beta.example"}},
           "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/sdb1"}}},
           "cluster": {"stack": stack, "name": "c1"}}
    return {"hapair": {"topologies": {"t1": raw}}}


# --------------------------------------------------------------------------- binaries
def test_binary_config_then_default_then_name():
    salt, _ = fake_salt({"hapair:bin:o2cb": "/opt/o2cb"})
    assert adapter.binary(salt, "o2cb") == "/opt/o2cb"
    assert adapter.binary(salt, "o2cb_init", "/etc/init.d/o2cb") == "/etc/init.d/o2cb"
    assert adapter.binary(salt, "blkid") == "blkid"


def test_has_binary_absolute_path_needs_exec_bit(tmp_path):
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o644)
    salt, _ = fake_salt({"hapair:bin:tool": str(tool)})
    assert adapter.has_binary(salt, "tool") is False  # no x bit: not even root may run it
    tool.chmod(0o755)
    assert adapter.has_binary(salt, "tool") is True
    missing, _ = fake_salt({"hapair:bin:tool": str(tmp_path / "absent")})
    assert adapter.has_binary(missing, "tool") is False


def test_has_binary_searches_path(tmp_path, monkeypatch):
    tool = tmp_path / "hapair-fake-tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    salt, _ = fake_salt()
    assert adapter.has_binary(salt, "hapair-fake-tool") is True
    assert adapter.has_binary(salt, "hapair-no-such-tool") is False
    renamed, _ = fake_salt({"hapair:bin:other": "hapair-fake-tool"})
    assert adapter.has_binary(renamed, "other") is True


def test_virtual_if_binary(tmp_path):
    tool = tmp_path / "mkfs.fake"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    salt, _ = fake_salt({"hapair:bin:mkfs.fake": str(tool)})
    assert adapter.virtual_if_binary(salt, "fake", "mkfs.fake", "fake-utils") == "fake"
    tool.chmod(0o644)
    assert adapter.virtual_if_binary(salt, "fake", "mkfs.fake", "fake-utils") == (
        False, f"fake: {tool} not found (install fake-utils or set hapair:bin:mkfs.fake)")


def test_virtual_if_function():
    salt, _ = fake_salt()
    assert adapter.virtual_if_function(salt, "cfg", "cmd.run_all") == "cfg"
    assert adapter.virtual_if_function(salt, "o2cb", "o2cb.plan_config") == (
        False, "o2cb: the o2cb execution module is not available")


def test_path_defaults_and_config():
    salt, _ = fake_salt({"hapair:paths:fstab": "/tmp/fstab"})
    assert adapter.path(salt, "fstab") == "/tmp/fstab"
    assert adapter.path(salt, "cman_schema") == "/usr/share/cluster/cluster.rng"


# --------------------------------------------------------------------------- run
def test_run_masks_secrets_and_raises_on_bad_exit():
    salt, calls = fake_salt(run_all=lambda argv: {"retcode": 3, "stdout": "", "stderr": f"bad key {SECRET}"})
    with pytest.raises(CommandExecutionError) as err:
        adapter.run(salt, ["tool", f"--key={SECRET}"], secrets=[SECRET])
    assert SECRET not in str(err.value) and "exit 3" in str(err.value)
    argv, kwargs = calls["cmd.run_all"][0]
    assert argv == ["tool", f"--key={SECRET}"] and kwargs["python_shell"] is False
    out = adapter.run(salt, ["tool"], secrets=[SECRET], ok_codes=(0, 3))
    assert out["retcode"] == 3 and SECRET not in out["stderr"]


# --------------------------------------------------------------------------- parsed
def test_parsed_returns_parser_result():
    assert adapter.parsed(str.split, "a b") == ["a", "b"]


def test_parsed_turns_hapair_errors_into_command_errors_masked():
    def parser(text):
        raise ParseError("tool", 2, f"key {SECRET}", "unexpected")

    with pytest.raises(CommandExecutionError) as err:
        adapter.parsed(parser, "x")
    assert "cannot parse tool output, line 2" in str(err.value)
    with pytest.raises(CommandExecutionError) as err:
        adapter.parsed(parser, "x", secrets=[SECRET])
    assert SECRET not in str(err.value) and "********" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__  # no unmasked error attached


def test_parsed_lets_other_errors_through():
    with pytest.raises(ValueError):
        adapter.parsed(int, "not a number")


# --------------------------------------------------------------------------- files
def test_read_file(tmp_path):
    path = tmp_path / "f.conf"
    assert adapter.read_file(str(path)) is None
    path.write_text("one\ntwo\n")
    assert adapter.read_file(str(path)) == "one\ntwo\n"
    with pytest.raises(CommandExecutionError, match="cannot read"):
        adapter.read_file(str(tmp_path))  # a directory


def test_file_mode(tmp_path):
    path = tmp_path / "f"
    assert adapter.file_mode(str(path)) is None
    path.write_text("x")
    path.chmod(0o640)
    assert adapter.file_mode(str(path)) == "0640"


@pytest.mark.parametrize("mode, bits", [("0600", 0o600), ("0644", 0o644), (0o640, 0o640)])
def test_write_file_content_and_mode(tmp_path, mode, bits):
    path = tmp_path / "sub" / "dir" / "file"  # missing directories are created
    adapter.write_file(str(path), "new\n", mode)
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == bits
    assert os.listdir(path.parent) == ["file"]  # no temp file left behind


def test_write_file_replaces_and_resets_mode(tmp_path):
    path = tmp_path / "authkeys"
    path.write_text("old\n")
    path.chmod(0o666)
    inode = path.stat().st_ino
    adapter.write_file(str(path), "auth 1\n", "0600")
    assert path.read_text() == "auth 1\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != inode  # renamed over, not rewritten in place


def test_write_file_error_is_a_command_error_and_cleans_up(tmp_path):
    target = tmp_path / "a-directory"
    target.mkdir()
    (target / "keep").write_text("")
    with pytest.raises(CommandExecutionError, match=f"cannot write {target}"):
        adapter.write_file(str(target), "x", "0644")  # rename onto a non-empty directory fails
    assert sorted(os.listdir(tmp_path)) == ["a-directory"]
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CommandExecutionError, match="cannot write"):
        adapter.write_file(str(blocker / "below"), "x", "0644")  # parent is a file


def test_unified_diff():
    assert adapter.unified_diff("same\n", "same\n", "/etc/x") == ""
    diff = adapter.unified_diff("a\nb\n", "a\nc\n", "/etc/x")
    assert diff.splitlines()[:2] == ["--- /etc/x (current)", "+++ /etc/x (hapair)"]
    assert "-b" in diff.splitlines() and "+c" in diff.splitlines()
    created = adapter.unified_diff(None, "l1\nl2\n", "/etc/new")
    assert [line for line in created.splitlines() if line.startswith("+") and not line.startswith("+++")] == [
        "+l1", "+l2"]


# --------------------------------------------------------------------------- topology
def test_load_topology_uses_given_pillar_and_finds_node():
    salt, calls = fake_salt()
    topo, node = adapter.load_topology(salt, topology_pillar(), {"id": "beta.example"}, "t1")
    assert topo["name"] == "t1" and node == "beta"
    assert calls["pillar.items"] == 0


def test_load_topology_falls_back_to_pillar_items():
    salt, calls = fake_salt(pillar_items=topology_pillar())
    topo, node = adapter.load_topology(salt, {}, {"id": "alpha"}, "t1")
    assert node == "alpha" and calls["pillar.items"] == 1
    _, node = adapter.load_topology(salt, None, {"id": "alpha"}, "t1")
    assert node == "alpha" and calls["pillar.items"] == 2


def test_load_topology_lists_every_validation_error():
    data = {"hapair": {"topologies": {"bad": {"nodes": {"a": {}}, "drbd": {"resources": {"r0": {}}}}}}}
    salt, _ = fake_salt()
    with pytest.raises(CommandExecutionError) as err:
        adapter.load_topology(salt, data, {"id": "a"}, "bad")
    text = str(err.value)
    for where in ("bad:nodes:", "bad:nodes:a:address", "r0:port", "r0:minor", "r0:disk"):
        assert where in text
    with pytest.raises(CommandExecutionError, match="no such topology"):
        adapter.load_topology(salt, data, {"id": "a"}, "other")


def test_load_topology_minion_not_a_node():
    salt, _ = fake_salt()
    with pytest.raises(CommandExecutionError, match="minion gamma is not a node of topology t1"):
        adapter.load_topology(salt, topology_pillar(), {"id": "gamma"}, "t1")
    topo, node = adapter.load_topology(salt, topology_pillar(), {"id": "gamma"}, "t1", require_node=False)
    assert node is None and topo["name"] == "t1"


def test_load_topology_checks_the_stack():
    salt, _ = fake_salt()
    _, node = adapter.load_topology(salt, topology_pillar("cman"), {"id": "alpha"}, "t1", stack="cman")
    assert node == "alpha"
    with pytest.raises(SaltInvocationError, match="uses cluster stack 'cman', not o2cb"):
        adapter.load_topology(salt, topology_pillar("cman"), {"id": "alpha"}, "t1", stack="o2cb")


def test_load_topology_does_not_change_the_pillar():
    data = topology_pillar()
    before = copy.deepcopy(data)
    salt, _ = fake_salt()
    topo, _ = adapter.load_topology(salt, data, {"id": "alpha"}, "t1")
    topo["nodes"]["alpha"]["address"] = "192.0.2.9"
    assert data == before


# --------------------------------------------------------------------------- states
def test_state_result_is_fresh_each_time():
    first = adapter.state_result("x")
    assert first == {"name": "x", "result": True, "changes": {}, "comment": ""}
    first["changes"]["k"] = 1
    assert adapter.state_result("x")["changes"] == {}
