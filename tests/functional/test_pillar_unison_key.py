"""_pillar/hapair_secrets.py through Salt's pillar loader: the pair's unison ssh key (ed25519) is
made once per topology on the master (0600), the private key reaches the profile's client only,
the public key both nodes, other minions nothing; a key in the pillar wins; ssh-keygen agrees the
two halves are one key."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "_utils"))

salt_config = pytest.importorskip("salt.config")
salt_loader = pytest.importorskip("salt.loader")

from hapair import topology, unison  # noqa: E402

with open(os.path.join(ROOT, "pillar", "hapair", "fileserver.sls"), encoding="utf-8") as _handle:
    FILESERVER = yaml.safe_load(_handle)


@pytest.fixture
def ext_pillar(tmp_path):
    opts = salt_config.master_config(os.devnull)
    opts.update(cachedir=str(tmp_path / "cache"), extension_modules=str(tmp_path / "extmods"),
                pillar_dirs=[os.path.join(ROOT, "_pillar")])
    os.makedirs(opts["extension_modules"], exist_ok=True)
    func = salt_loader.pillars(opts, {})["hapair_secrets"]
    func.store = os.path.join(opts["cachedir"], "hapair", "secrets", "fileserver", unison.KEY_STORE_FILE)
    return func


def key_of(answer):
    return answer.get("hapair", {}).get("topologies", {}).get("fileserver", {}).get("unison", {}).get("ssh_key")


def test_the_client_gets_the_pair_the_server_the_public_half_others_nothing(ext_pillar, tmp_path):
    client = key_of(ext_pillar("torchio", FILESERVER))
    server = key_of(ext_pillar("fiori", FILESERVER))
    assert set(client) == {"private", "public"} and server == {"public": client["public"]}
    assert ext_pillar("nfs-client", FILESERVER) == {}
    assert key_of(ext_pillar("torchio", FILESERVER)) == client  # made once
    assert stat.S_IMODE(os.stat(ext_pillar.store).st_mode) == 0o600
    assert client["public"].startswith("ssh-ed25519 ") and client["public"].endswith(" hapair-unison-fileserver")
    merged = yaml.safe_load(yaml.safe_dump(FILESERVER))
    merged["hapair"]["topologies"]["fileserver"]["unison"]["ssh_key"] = client
    topo = topology.load(merged, "fileserver")  # what a node validates
    assert client["private"] in topo["secrets"]
    if shutil.which("ssh-keygen"):
        private = tmp_path / "k"
        private.write_text(client["private"])
        private.chmod(0o600)
        derived = subprocess.run(["ssh-keygen", "-y", "-f", str(private)], capture_output=True, text=True, check=True)
        assert derived.stdout.split()[:2] == client["public"].split()[:2]


def test_a_key_in_the_pillar_wins_and_a_damaged_store_gives_none(ext_pillar):
    own = yaml.safe_load(yaml.safe_dump(FILESERVER))
    own["hapair"]["topologies"]["fileserver"]["unison"]["ssh_key"] = {"public": "ssh-ed25519 AAAA"}
    assert ext_pillar("torchio", own) == {}
    assert not os.path.exists(ext_pillar.store)
    os.makedirs(os.path.dirname(ext_pillar.store), mode=0o700)
    with open(ext_pillar.store, "w", encoding="ascii") as handle:
        handle.write("garbage\n")
    assert ext_pillar("torchio", FILESERVER) == {}
