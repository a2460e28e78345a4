"""hapair.unison: the seed 001 profile, cron entry and logrotate snippet rendered from the
``unison`` pillar section (validated field by field), and the profile's options proven with the
real unison binary on two local directories: changes cross both ways, emptying one side is not
propagated (confirmbigdel with batch)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from hapair import topology, unison

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin", "cman"))
import fakesalt  # noqa: E402

KEY = {"private": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAC3Nz==\n"
                  "-----END OPENSSH PRIVATE KEY-----\n",
       "public": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm0 hapair-unison-fileserver"}


def pillar() -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", "fileserver.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def raw() -> dict:
    return copy.deepcopy(pillar()["hapair"]["topologies"]["fileserver"])


def with_key() -> dict:
    data = raw()
    data["unison"]["ssh_key"] = dict(KEY)
    return topology.normalise(data, "fileserver")


def test_the_committed_fileserver_renders_the_seeds_profile():
    topo = topology.load(pillar(), "fileserver")
    prof = topo["unison"]["profiles"]["vol-rep-unison"]
    assert (prof["client"], prof["server"], prof["server_host"]) == ("torchio", "fiori", "fiori")
    text = unison.render_profile(prof, "fileserver")
    assert text.splitlines()[1:] == [
        "root = /vol/rep-unison/", "root = ssh://fiori//vol/rep-unison/",
        "sshargs = -i /root/.ssh/hapair-unison-fileserver -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
        "owner = true", "group = true", "perms = -1", "times = true", "auto = true", "batch = true", "terse = true",
        "confirmbigdel = true", "fastcheck = true", "prefer = newer", "logfile = /var/log/unison.log"]
    files = unison.render(topo, "torchio")
    assert sorted(files) == ["/etc/cron.d/hapair-unison-fileserver", "/etc/logrotate.d/hapair-unison-fileserver",
                             "/root/.unison/vol-rep-unison.prf"]  # no key reached it: no key files
    assert files["/etc/cron.d/hapair-unison-fileserver"]["content"].splitlines()[-1] == \
        "0 0 * * * root /usr/bin/unison vol-rep-unison"
    assert "rotate 28" in files["/etc/logrotate.d/hapair-unison-fileserver"]["content"]
    assert unison.render(topo, "fiori") == {}
    assert "unison:ssh_key:private/public did not reach torchio" in unison.missing_key(topo, "torchio")
    assert "hapair_secrets" in unison.missing_key(topo, "fiori")


def test_the_key_goes_to_the_client_0600_and_is_authorised_on_the_server_for_unison_only():
    topo = with_key()
    client = unison.render(topo, "torchio")
    assert client["/root/.ssh/hapair-unison-fileserver"] == {"content": KEY["private"], "mode": "0600"}
    server = unison.render(topo, "fiori", authorized="ssh-rsa AAAA admin\n")
    assert server["/root/.ssh/authorized_keys"]["content"] == (
        'ssh-rsa AAAA admin\nrestrict,command="/usr/bin/unison -server" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm0 '
        "hapair-unison-fileserver\n")
    assert not [p for p in server if "hapair-unison-fileserver" in p]  # no private key on the server
    assert unison.missing_key(topo, "torchio") is None
    secrets = topo["secrets"]
    assert KEY["private"] in secrets and "AAAAC3Nz==" in secrets  # each line masked in diffs too


@pytest.mark.parametrize("edit, where, message", [
    ({"root": "/vol/u\nroot = /etc"}, "unison:profiles:p:root", "not a valid path"),
    ({"root": "rel"}, "unison:profiles:p:root", "absolute"),
    ({"root": "/v", "schedule": "0 0 * * * root rm -rf /"}, "unison:profiles:p:schedule", "not a cron schedule"),
    ({"root": "/v", "schedule": "0 0 * * *\n* * * * *"}, "unison:profiles:p:schedule", "not a cron schedule"),
    ({"root": "/v", "client": "nobody"}, "unison:profiles:p:client", ""),
    ({"root": "/v", "logfile": "/var/log/u log"}, "unison:profiles:p:logfile", "not a valid path"),
    ({"root": "/v", "rotate": 0}, "unison:profiles:p:rotate", "out of range"),
    ({"root": "/v", "prefer": "older"}, "unison:profiles:p:prefer", "unknown key"),
    ({}, "unison:profiles:p:root", "is required"),
])
def test_every_unison_string_is_whitelisted_with_its_pillar_path(edit, where, message):
    data = raw()
    data["unison"] = {"profiles": {"p": edit}}
    found = [str(e) for e in topology.validate(data, "fileserver")]
    assert any(e.startswith(f"hapair:topologies:fileserver:{where}") and message in e for e in found), found


def test_bad_profile_names_and_keys_are_refused():
    data = raw()
    data["unison"] = {"profiles": {"../etc/x": {"root": "/v"}},
                      "ssh_key": {"private": "not a key", "public": "ssh-ed25519 AAAA\nssh-ed25519 BBBB"}}
    found = "\n".join(str(e) for e in topology.validate(data, "fileserver"))
    assert "unison:profiles:../etc/x: '../etc/x' is not a valid profile name" in found
    assert "unison:ssh_key:private: is not an unencrypted OpenSSH private key" in found
    assert "not a key" not in found  # a refused secret is never repeated
    assert "unison:ssh_key:public:" in found


# -- the real unison binary ------------------------------------------------------------------------
UNISON = shutil.which("unison")


def sync(home, profile) -> subprocess.CompletedProcess:
    return subprocess.run([UNISON, profile], env={"UNISON": str(home), "HOME": str(home), "PATH": os.environ["PATH"]},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(UNISON is None, reason="unison not installed (apt-get install unison)")
def test_the_rendered_options_sync_both_ways_and_refuse_a_big_delete(tmp_path):
    a, b, home = tmp_path / "a", tmp_path / "b", tmp_path / "home"
    for d in (a, b, home):
        d.mkdir()
    prof = dict(topology.load(pillar(), "fileserver")["unison"]["profiles"]["vol-rep-unison"],
                logfile=str(tmp_path / "unison.log"))
    text = unison.render_profile(prof, "fileserver", local_root=str(a), peer_root=str(b))
    assert "confirmbigdel = true" in text and "batch = true" in text
    (home / "p.prf").write_text(text)
    (a / "from-a").write_text("a1")
    (b / "from-b").write_text("b1")
    first = sync(home, "p")
    assert first.returncode == 0, first.stdout + first.stderr
    assert (b / "from-a").read_text() == "a1" and (a / "from-b").read_text() == "b1"
    (a / "from-a").write_text("a2")  # a change on each side reaches the other after one run
    (b / "from-b").write_text("b2")
    for changed in (a / "from-a", b / "from-b"):  # fastcheck compares size and mtime: same size, so a later mtime
        stamp = changed.stat().st_mtime + 10
        os.utime(changed, (stamp, stamp))
    second = sync(home, "p")
    assert second.returncode == 0, second.stdout + second.stderr
    assert (b / "from-a").read_text() == "a2" and (a / "from-b").read_text() == "b2"
    for f in a.iterdir():  # everything deleted on one side (a lost mount, say)
        f.unlink()
    third = sync(home, "p")
    assert third.returncode != 0 and "completely emptied" in third.stdout + third.stderr  # confirmbigdel stops it
    assert sorted(f.name for f in b.iterdir()) == ["from-a", "from-b"]  # and the other side keeps it all
    assert os.path.exists(tmp_path / "unison.log")


# -- adapters --------------------------------------------------------------------------------------
def keyed_pillar() -> dict:
    data = pillar()
    data["hapair"]["topologies"]["fileserver"]["unison"]["ssh_key"] = dict(KEY)
    return data


def node(minion: str, prefix, data=None):
    salt = fakesalt.salt_dict(fakesalt.FakeCmd({}), {"hapair:paths:unison_prefix": str(prefix),
                                                     "hapair:bin:unison": "/usr/bin/unison"})
    mod = fakesalt.load("modules", "hapair_unison", salt, pillar=data or keyed_pillar(), opts={"id": minion})
    salt.update({f"hapair_unison.{fn}": getattr(mod, fn) for fn in ("plan", "apply")})
    return mod, fakesalt.load("states", "hapair_unison", salt, pillar=data or keyed_pillar(),
                              opts={"id": minion, "test": False})


def test_state_writes_the_client_files_once_and_never_shows_the_key(tmp_path):
    mod, state = node("torchio", tmp_path)
    state.__opts__["test"] = True
    dry = state.configured("fileserver")
    assert dry["result"] is None and not list(tmp_path.iterdir())
    state.__opts__["test"] = False
    done = state.configured("fileserver")
    assert done["result"] is True and done["changes"] == dry["changes"]
    key = tmp_path / "root" / ".ssh" / "hapair-unison-fileserver"
    assert key.read_text() == KEY["private"] and oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "root" / ".ssh").stat().st_mode & 0o777) == "0o700"
    assert (tmp_path / "root" / ".unison" / "vol-rep-unison.prf").read_text().count("confirmbigdel = true") == 1
    assert (tmp_path / "etc" / "cron.d" / "hapair-unison-fileserver").exists()
    shown = repr(done) + repr(dry) + repr(mod.plan("fileserver"))
    assert "AAAAC3Nz==" not in shown and "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" not in shown
    assert state.configured("fileserver")["changes"] == {}


def test_server_authorises_the_key_for_unison_only_keeping_other_keys(tmp_path):
    ssh = tmp_path / "root" / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "authorized_keys").write_text("ssh-rsa AAAA admin\n")
    _mod, state = node("fiori", tmp_path)
    assert state.configured("fileserver")["result"] is True
    lines = (ssh / "authorized_keys").read_text().splitlines()
    assert lines[0] == "ssh-rsa AAAA admin" and lines[1].startswith('restrict,command="/usr/bin/unison -server" ')
    assert not (ssh / "hapair-unison-fileserver").exists()


def test_state_refuses_without_the_key_naming_the_ext_pillar(tmp_path):
    _mod, state = node("torchio", tmp_path, data=pillar())
    ret = state.configured("fileserver")
    assert ret["result"] is False and "hapair_secrets" in ret["comment"] and "unison:ssh_key" in ret["comment"]
    assert not list(tmp_path.iterdir())
