"""The drbdlinks heartbeat resource script hapair ships, run for real with /bin/sh in tmp dirs.

``hapair.heartbeat.render_drbdlinks_script()`` is written to a temp file and called as heartbeat
calls it: ``drbdlinks <config> start|stop|status``. The config comes from
``render_drbdlinks_conf`` (or is written by hand for the syntax cases). The rules proved here:
it deletes nothing but its own symlinks, every action is idempotent, and a refusal changes
nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hapair import heartbeat

SH = shutil.which("sh") or "/bin/sh"


@pytest.fixture
def box(tmp_path):
    """A fake root: /etc/apache2 (a dir with a file) and /var/www, their copies on /drbd."""
    script = tmp_path / "drbdlinks"
    script.write_text(heartbeat.render_drbdlinks_script())
    script.chmod(0o755)
    root, mount = tmp_path / "root", tmp_path / "drbd"
    (root / "etc" / "apache2").mkdir(parents=True)
    (root / "etc" / "apache2" / "apache2.conf").write_text("local\n")
    (root / "var" / "www").mkdir(parents=True)
    (mount / "etc" / "apache2").mkdir(parents=True)
    (mount / "etc" / "apache2" / "apache2.conf").write_text("shared\n")
    (mount / "var" / "www").mkdir(parents=True)
    links = [(root / "etc" / "apache2", mount / "etc" / "apache2"), (root / "var" / "www", mount / "var" / "www")]
    topo = {"filesystems": {"data": {"mountpoint": str(mount)}},
            "groups": {"www": {"name": "www", "filesystem": "data",
                               "relocate": [{"path": str(p), "target": str(t)} for p, t in links]}}}
    conf = tmp_path / "drbdlinks-www.conf"
    conf.write_text(heartbeat.render_drbdlinks_conf(topo, "www"))

    def run(action, config=conf):
        done = subprocess.run([SH, str(script), str(config), action], capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout, done.stderr

    return {"run": run, "links": links, "root": root, "mount": mount, "conf": conf, "tmp": tmp_path}


def tree(path) -> dict:
    """Every entry under ``path``: ``{relative: "link -> target" | "dir" | file content}``."""
    out = {}
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, path)
            if os.path.islink(full):
                out[rel] = f"link -> {os.readlink(full)}"
                dirs[:] = [d for d in dirs if d != name]
            elif os.path.isdir(full):
                out[rel] = "dir"
            else:
                with open(full, encoding="utf-8") as handle:
                    out[rel] = handle.read()
    return out


def test_start_start_stop_stop(box):
    run, root, mount = box["run"], box["root"], box["mount"]
    before = tree(root)
    assert run("status")[:2] == (3, "stopped\n")
    assert run("start")[0] == 0
    after = tree(root)
    for path, target in box["links"]:
        assert os.readlink(path) == str(target)
        assert os.path.isdir(f"{path}.drbdlinks")
    assert (root / "etc" / "apache2" / "apache2.conf").read_text() == "shared\n"
    assert (root / "etc" / "apache2.drbdlinks" / "apache2.conf").read_text() == "local\n"
    assert run("status")[:2] == (0, "running\n")
    assert run("start")[0] == 0 and tree(root) == after       # idempotent
    assert run("stop")[0] == 0
    assert tree(root) == before                                 # everything back, nothing lost
    assert tree(mount)["etc/apache2/apache2.conf"] == "shared\n"
    assert run("stop")[0] == 0 and tree(root) == before        # idempotent
    assert run("status")[:2] == (3, "stopped\n")


def test_a_path_that_does_not_exist_is_just_linked_and_unlinked(box):
    run, root = box["run"], box["root"]
    shutil.rmtree(root / "var" / "www")
    assert run("start")[0] == 0
    assert os.readlink(root / "var" / "www") == str(box["mount"] / "var" / "www")
    assert not os.path.lexists(root / "var" / "www.drbdlinks")
    assert run("stop")[0] == 0
    assert not os.path.lexists(root / "var" / "www")


def test_an_existing_file_or_foreign_symlink_is_renamed_never_deleted(box):
    run, root = box["run"], box["root"]
    shutil.rmtree(root / "etc" / "apache2")
    (root / "etc" / "apache2").write_text("a regular file\n")
    shutil.rmtree(root / "var" / "www")
    os.symlink("/somewhere/else", root / "var" / "www")
    assert run("start")[0] == 0
    assert (root / "etc" / "apache2.drbdlinks").read_text() == "a regular file\n"
    assert os.readlink(root / "var" / "www.drbdlinks") == "/somewhere/else"
    assert run("stop")[0] == 0
    assert (root / "etc" / "apache2").read_text() == "a regular file\n"
    assert os.readlink(root / "var" / "www") == "/somewhere/else"


def test_an_existing_backup_is_refused_and_nothing_changes(box):
    run, root = box["run"], box["root"]
    (root / "var" / "www.drbdlinks").mkdir()
    (root / "var" / "www.drbdlinks" / "index.html").write_text("old backup\n")
    before = tree(root)
    code, _out, err = run("start")
    assert code != 0 and "www.drbdlinks exists" in err
    assert tree(root) == before          # not even the first link (checked before any change)
    assert run("status")[:2] == (3, "stopped\n")


def test_a_missing_target_is_refused_and_nothing_changes(box):
    run, root = box["run"], box["root"]
    shutil.rmtree(box["mount"] / "var" / "www")          # the filesystem is not mounted, say
    before = tree(root)
    code, _out, err = run("start")
    assert code != 0 and "does not exist" in err
    assert tree(root) == before


def test_stop_leaves_a_link_it_did_not_make(box):
    run, root = box["run"], box["root"]
    assert run("start")[0] == 0
    os.unlink(root / "var" / "www")
    os.symlink("/elsewhere", root / "var" / "www")
    code, _out, err = run("stop")
    assert code == 0 and "leaving" in err
    assert os.readlink(root / "var" / "www") == "/elsewhere"
    assert os.path.isdir(root / "var" / "www.drbdlinks")
    assert os.path.isdir(root / "etc" / "apache2") and not os.path.islink(root / "etc" / "apache2")


def test_the_drbdlinks_conf_syntax(box):
    run, root, mount = box["run"], box["root"], box["mount"]
    (mount / str(root).lstrip("/") / "etc" / "apache2").mkdir(parents=True)   # default target: mountpoint + path
    conf = box["tmp"] / "hand.conf"
    conf.write_text(f"# a comment\n\n  mountpoint('{mount}')  \nlink('{root}/etc/apache2')\n"
                    f'link("{root}/var/www", "{mount}/var/www")\n')
    assert run("start", conf)[0] == 0
    assert os.readlink(root / "etc" / "apache2") == f"{mount}{root}/etc/apache2"
    assert os.readlink(root / "var" / "www") == f"{mount}/var/www"
    assert run("status", conf)[:2] == (0, "running\n")
    assert run("stop", conf)[0] == 0 and not os.path.islink(root / "etc" / "apache2")


@pytest.mark.parametrize("text, error", [
    ("link('/etc/x')\n", "before any mountpoint"),
    ("mountpoint('/drbd')\nrestartSyslog(1)\n", "cannot read"),
    ("mountpoint('/drbd')\nlink('etc/x')\n", "not an absolute path"),
    ("mountpoint('/drbd')\nlink('/etc/../x')\n", "'..' component"),
    ("mountpoint('/drbd')\nlink('/')\n", "may not be /"),
])
def test_a_config_it_cannot_read_is_refused(box, text, error):
    conf = box["tmp"] / "bad.conf"
    conf.write_text(text)
    before = tree(box["root"])
    code, _out, err = box["run"]("start", conf)
    assert code == 2 and error in err
    assert tree(box["root"]) == before


def test_usage_and_a_missing_config(box):
    assert box["run"]("restart")[0] == 2
    code, _out, err = box["run"]("start", box["tmp"] / "missing.conf")
    assert code == 2 and "cannot read" in err


def test_status_words_match_heartbeats_resource_manager(box):
    """ResourceManager's we_own_resource: ``*[Nn][Oo][Tt]\\ *[Rr]unning*`` -> 3, ``*[Rr]unning*|*OK*`` -> 0."""
    import fnmatch  # noqa: PLC0415

    def owned(out):
        if fnmatch.fnmatchcase(out, "*[Nn][Oo][Tt] *[Rr]unning*"):
            return False
        return fnmatch.fnmatchcase(out, "*[Rr]unning*") or fnmatch.fnmatchcase(out, "*OK*")

    assert owned(box["run"]("status")[1]) is False
    box["run"]("start")
    assert owned(box["run"]("status")[1]) is True


def test_the_script_is_posix_sh_for_dash():
    dash = shutil.which("dash")
    if dash is None:
        pytest.skip("dash not installed")
    done = subprocess.run([dash, "-n"], input=heartbeat.render_drbdlinks_script(), capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
