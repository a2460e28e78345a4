"""hapair.secrets and the secrets lists: what is masked, and where the secrets on disk are read.

Issue 12 "Secrets": every secret ever written is masked (read the files' own secrets before a
diff), generic ``--shared-secret=...`` output is masked, and the cman fence attributes
``snmp_priv_passwd`` and ``community`` are secrets too.
"""

from __future__ import annotations

import copy
import os

import yaml
from conftest import ROOT
from hapair import cman, secrets, topology

OLD, NEW = "0ld-Rotated-Secret-7f1", "N3w-Rotated-Secret-9c2"


def hardcore_pillar():
    with open(os.path.join(ROOT, "pillar", "hapair", "hardcore.sls"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --------------------------------------------------------------------------- generic patterns
def test_mask_hides_shared_secret_options_it_was_not_told_about():
    err = ("drbdsetup-84 net r0 ipv4:10.0.0.1:7788 ipv4:10.0.0.2:7788 --protocol=C "
           f"--shared-secret={OLD} --cram-hmac-alg=sha1\n"
           f"Command 'drbdsetup-84 net r0 --shared-secret \"{NEW}\"' terminated with exit code 10\n"
           f'    shared-secret "{OLD}";\n')
    masked = secrets.mask(err, [])
    assert OLD not in masked and NEW not in masked
    assert "--shared-secret=********" in masked and "--cram-hmac-alg=sha1" in masked
    assert 'shared-secret "********";' in masked


# --------------------------------------------------------------------------- secrets in files
def test_drbd_secrets_read_from_a_res_file_quoted_bare_and_commented():
    text = (f'resource r0 {{\n  net {{\n    cram-hmac-alg sha1;\n    shared-secret "{OLD}";\n  }}\n}}\n'
            f"resource r1 {{ net {{ shared-secret {NEW}; }} }}\n"
            "# shared-secret \"Commented-Out-1\";\n")
    assert set(secrets.drbd_secrets(text)) == {OLD, NEW, "Commented-Out-1"}
    assert secrets.drbd_secrets("resource r0 { net { protocol C; } }\n") == []
    assert secrets.drbd_secrets("") == []


def test_authkeys_secrets():
    assert secrets.authkeys_secrets(f"auth 1\n1 sha1 {OLD}\n2 md5 {NEW}\n3 crc\n") == [OLD, NEW]
    assert secrets.authkeys_secrets("auth 3\n3 crc\n") == []


def test_secrets_in_file_picks_the_reader_by_file_kind():
    assert secrets.in_file("/etc/drbd.d/r0.res", f'shared-secret "{OLD}";') == [OLD]
    assert secrets.in_file("/etc/ha.d/authkeys", f"auth 1\n1 sha1 {OLD}\n") == [OLD]
    assert secrets.in_file("/etc/cluster/cluster.conf", f'<fencedevice name="f" passwd="{OLD}"/>') == [OLD]
    assert secrets.in_file("/etc/ha.d/ha.cf", f"node {OLD}\n") == []
    dlm = (f"enable_fencing=1\n\ndevice d1 fence_ipmilan ip=10.0.0.9 password={OLD} username=admin\n"
           f"connect d1 node=1 passwd={NEW}\ndevice d2 fence_apc ip=10.0.0.8 login=apc\n")
    assert secrets.in_file("/etc/dlm/dlm.conf", dlm) == [OLD, NEW]      # dlm_controld's fence devices
    assert secrets.in_file("/etc/dlm/dlm.conf", "enable_fencing=0\n") == []


# --------------------------------------------------------------------------- cman fence attributes
def test_cman_snmp_priv_passwd_and_community_are_secrets():
    pillar = hardcore_pillar()
    raw = copy.deepcopy(pillar)
    dev = raw["hapair"]["topologies"]["hardcore"]["cluster"]["cman"]["fence_devices"]["core-01_ipmi"]
    dev.update(snmp_priv_passwd="Snmp-Priv-Secret-42", community="Community-Secret-43")
    topo = topology.load(raw, "hardcore")
    assert {"Snmp-Priv-Secret-42", "Community-Secret-43"} <= set(topo["secrets"])
    assert {"Snmp-Priv-Secret-42", "Community-Secret-43"} <= set(cman.secrets_in(topo))
    xml = '<fencedevice name="f" community="Community-Secret-43" snmp_priv_passwd="Snmp-Priv-Secret-42"/>'
    assert set(cman.secrets_in(xml)) == {"Snmp-Priv-Secret-42", "Community-Secret-43"}
    masked = cman.mask_xml(xml)
    assert "Secret-4" not in masked and masked.count("********") == 2
