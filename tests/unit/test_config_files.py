"""adapter.plan_file / install_file / install_files / replace_lines: the one "render, diff, write
a config file" helper every module uses, with one shape of changes and no secret in a diff."""

from __future__ import annotations

import os
import stat

import pytest
from hapair import adapter
from salt.exceptions import CommandExecutionError

KEYS = {"path", "changed", "action", "mode", "old_mode", "diff"}


def mode_of(path):
    return oct(stat.S_IMODE(os.stat(path).st_mode))


def test_created_updated_mode_unchanged(tmp_path):
    path = str(tmp_path / "etc" / "x.conf")
    made = adapter.install_file(path, "a\n", "0644")
    assert set(made) == KEYS
    assert (made["action"], made["changed"], made["old_mode"], made["mode"]) == ("created", True, None, "0644")
    assert made["diff"].startswith(f"--- {path} (current)\n+++ {path} (hapair)\n") and "+a\n" in made["diff"]
    assert open(path).read() == "a\n" and mode_of(path) == "0o644"
    updated = adapter.install_file(path, "b\n", 0o644)
    assert updated["action"] == "updated" and "-a\n+b\n" in updated["diff"] and updated["old_mode"] == "0644"
    moded = adapter.install_file(path, "b\n", "600")
    assert (moded["action"], moded["diff"], moded["old_mode"], moded["mode"]) == ("mode", "", "0644", "0600")
    assert mode_of(path) == "0o600"
    same = adapter.install_file(path, "b\n", "0600")
    assert (same["action"], same["changed"], same["diff"]) == ("unchanged", False, "")


def test_test_mode_and_plan_file_write_nothing(tmp_path):
    path = str(tmp_path / "x.conf")
    planned = adapter.install_file(path, "a\n", "0644", test=True)
    assert planned == adapter.plan_file(path, "a\n", "0644") and planned["action"] == "created"
    assert not os.path.exists(path)
    adapter.write_file(path, "a\n", "0640")
    assert adapter.install_file(path, "a\n", "0644", test=True)["action"] == "mode" and mode_of(path) == "0o640"


def test_named_old_and_new_secrets_never_in_the_diff(tmp_path):
    res = str(tmp_path / "r0.res")
    adapter.write_file(res, 'resource r0 { net { shared-secret "old-s3cr3t"; } }\n', "0600")
    out = adapter.install_file(res, 'resource r0 { net { shared-secret "new-s3cr3t"; } }\nnamed-x\n', "0600",
                               secrets=["named-x"])
    assert out["action"] == "updated"
    assert "s3cr3t" not in out["diff"] and "named-x" not in out["diff"] and "********" in out["diff"]
    keys = str(tmp_path / "authkeys")
    adapter.write_file(keys, "auth 1\n1 sha1 oldkey\n", "0600")
    out = adapter.install_file(keys, "auth 1\n1 sha1 newkey\n", "0600")
    assert "oldkey" not in out["diff"] and "newkey" not in out["diff"] and "-1 sha1 ********" in out["diff"]


def test_redact_applies_to_both_sides_before_diffing(tmp_path):
    path = str(tmp_path / "x.xml")
    adapter.write_file(path, "<a p='1'/>\n", "0640")
    out = adapter.plan_file(path, "<a p='2'/>\n<b/>\n", "0640", redact=lambda t: t.replace("'1'", "?").replace("'2'", "?"))
    assert out["action"] == "updated" and "'1'" not in out["diff"] and "'2'" not in out["diff"] and "+<b/>" in out["diff"]


def test_bytes_have_no_diff_and_are_written_as_bytes(tmp_path):
    path = str(tmp_path / "authkey")
    out = adapter.install_file(path, b"\x00\xffkey", "0400")
    assert (out["action"], out["diff"]) == ("created", "")
    assert open(path, "rb").read() == b"\x00\xffkey" and mode_of(path) == "0o400"
    assert adapter.plan_file(path, b"\x00\xffkey", "0400")["action"] == "unchanged"
    assert adapter.plan_file(path, b"other", "0400")["action"] == "updated"


def test_install_files_every_path_in_order(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    adapter.write_file(a, "same\n", "0644")
    out = adapter.install_files({b: {"content": "new\n", "mode": "0644"}, a: {"content": "same\n", "mode": "0644"}})
    assert list(out) == [a, b] and [d["action"] for d in out.values()] == ["unchanged", "created"]


def test_replace_lines_drops_the_old_lines_and_appends(tmp_path):
    fstab = str(tmp_path / "fstab")
    adapter.write_file(fstab, "keep me\n/dev/drbd0 /srv ocfs2 defaults 0 0\n", "0644")
    out = adapter.replace_lines(fstab, ["/dev/drbd0 /srv ocfs2 defaults 0 0"], "/dev/drbd0 /srv ocfs2 _netdev 0 0")
    assert out["action"] == "updated"
    assert open(fstab).read() == "keep me\n/dev/drbd0 /srv ocfs2 _netdev 0 0\n"
    missing = str(tmp_path / "new-fstab")
    assert adapter.replace_lines(missing, [], "x")["action"] == "created" and open(missing).read() == "x\n"


def test_write_errors_are_command_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CommandExecutionError, match="cannot (read|write)"):
        adapter.install_file(str(blocker / "x.conf"), "a\n", "0644")
