"""adapter.tool, adapter.mounts, adapter.blkid and adapter.node_filesystems: the shared probes of the modules."""

from __future__ import annotations

import pytest
from hapair import adapter
from salt.exceptions import CommandExecutionError


class Salt(dict):
    def __init__(self, paths=None, answers=None):
        super().__init__()
        self.paths, self.answers, self.calls = paths or {}, answers or {}, []
        self["config.get"] = lambda key, default=None: self.paths.get(key, default)
        self["cmd.run_all"] = self.run_all

    def run_all(self, argv, **_kwargs):
        self.calls.append(argv)
        return self.answers[tuple(argv)]


def test_tool_runs_the_configured_binary_and_parses():
    salt = Salt({"hapair:bin:cman_tool": "/opt/cman_tool"}, {("/opt/cman_tool", "status"): {"retcode": 0, "stdout": "a\n"}})
    assert adapter.tool(salt, "cman_tool", "status", parser=str.split) == ["a"]
    assert salt.calls == [["/opt/cman_tool", "status"]]


def test_tool_failure_and_parse_error_are_command_errors():
    from hapair.errors import ParseError

    def refuse(text):
        raise ParseError("t", 1, text, "bad")

    salt = Salt(answers={("x",): {"retcode": 3, "stdout": "", "stderr": "boom"}, ("y",): {"retcode": 0, "stdout": "z"}})
    with pytest.raises(CommandExecutionError, match="boom"):
        adapter.tool(salt, "x", parser=str)
    with pytest.raises(CommandExecutionError, match="bad"):
        adapter.tool(salt, "y", parser=refuse)
    assert adapter.tool(Salt(answers={("x",): {"retcode": 3, "stdout": "ok"}}), "x", parser=str, ok_codes=(3,)) == "ok"


def test_blkid_nothing_found_is_empty_and_keys_are_lower_case():
    salt = Salt(answers={("blkid", "-p", "-o", "export", "/dev/a"): {"retcode": 2, "stdout": ""},
                         ("blkid", "-p", "-o", "export", "/dev/b"): {"retcode": 0, "stdout": "TYPE=drbd\nUSAGE=raid\n"}})
    assert adapter.blkid(salt, "/dev/a") == {}
    assert adapter.blkid(salt, "/dev/b") == {"type": "drbd", "usage": "raid"}


def test_mounts_filters_by_type_and_decodes_escapes(tmp_path):
    proc = tmp_path / "mounts"
    proc.write_text("/dev/drbd0 /srv/a\\040b gfs2 rw 0 0\n/dev/vda1 / ext4 rw 0 0\n")
    salt = Salt({"hapair:paths:proc_mounts": str(proc)})
    assert [m["mountpoint"] for m in adapter.mounts(salt)] == ["/srv/a b", "/"]
    assert [m["device"] for m in adapter.mounts(salt, "gfs2")] == ["/dev/drbd0"]
    assert adapter.mounts(Salt({"hapair:paths:proc_mounts": str(tmp_path / "none")})) == []


def test_node_filesystems():
    topo = {"filesystems": {
        "b": {"type": "gfs2", "device": "/dev/drbd0", "devices": {"n2": "/dev/drbd5"}, "format_on": "n1",
              "mount_on": ["n1", "n2"], "mountpoint": "/srv/b"},
        "a": {"type": "ocfs2", "device": "/dev/drbd1", "format_on": "n1", "mount_on": ["n1"]}}}
    assert adapter.node_filesystems(topo, "n2", "gfs2") == [
        {"name": "b", "device": "/dev/drbd5", "mountpoint": "/srv/b", "format": False, "mount": True}]
    assert adapter.node_filesystems(topo, "n1", "ocfs2") == [
        {"name": "a", "device": "/dev/drbd1", "mountpoint": None, "format": True, "mount": True}]
