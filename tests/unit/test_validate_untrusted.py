"""Issue 12: every pillar string that reaches a file, a command or a Salt target is whitelisted.

One row per finding: a hand-written bad pillar (an example pillar with one hostile value) and the
exact pillar path validation must report. Each row passed ``validate`` before the fix. A second
table holds hostile-looking values that are legitimate and must stay accepted.
"""

from __future__ import annotations

import copy
import glob
import os

import pytest
import yaml
from conftest import ROOT
from hapair import fields
from hapair.validate import validate

PILLARS: dict[str, dict] = {}
for _path in sorted(glob.glob(os.path.join(ROOT, "pillar", "hapair", "*.sls"))):
    with open(_path, encoding="utf-8") as _handle:
        PILLARS.update((yaml.safe_load(_handle) or {})["hapair"]["topologies"])

ROOT_PATH = "hapair:topologies"


def edit(name: str, *steps):
    """A copy of example topology ``name`` with ``steps`` applied: ``(keys, value)`` sets, ``(keys,)``
    renames the last key to ``value`` when given as ``("rename", keys, new)``."""
    topo = copy.deepcopy(PILLARS[name])
    for step in steps:
        if step[0] == "rename":
            _, keys, new = step
            parent = _walk(topo, keys[:-1])
            parent[new] = parent.pop(keys[-1])
        else:
            keys, value = step
            _walk(topo, keys[:-1])[keys[-1]] = value
    return topo


def _walk(topo, keys):
    node = topo
    for key in keys:
        node = node[key]
    return node


def paths(errors) -> list[str]:
    return [e.path for e in errors]


LONG = "r" * 256
R1 = {"minor": 1, "port": 7789, "disk": "/dev/sdd1"}
HB = ("cluster", "heartbeat")
GROUP = ("groups", "www")
CMAN = ("cluster", "cman")
ROWS = [
    # -- names: a full match, so a trailing newline never passes; at most 255 bytes -----------------
    ("resource name ends in newline", "web", [(("drbd", "resources", "r1\n"), R1)], "drbd:resources:r1\n"),
    ("resource name over 255 bytes", "web", [(("drbd", "resources", LONG), R1)], f"drbd:resources:{LONG}"),
    ("filesystem name ends in newline", "apache", [("rename", ("filesystems", "data"), "data\n"),
                                                   (GROUP + ("filesystem",), "data\n")],
     "filesystems:data\n"),
    ("hostname ends in newline", "web", [(("nodes", "web2", "hostname"), "web2\n")], "nodes:web2:hostname"),
    ("hostname with a quote", "web", [(("nodes", "web2", "hostname"), 'web2"x')], "nodes:web2:hostname"),
    ("cluster name ends in newline", "fileserver", [(("cluster", "name"), "ocfs2\n")], "cluster:name"),
    ("heartbeat interface ends in newline", "apache", [(HB + ("media", 0, "interface"), "eth1\n")],
     "cluster:heartbeat:media:0:interface"),
    ("lock table ends in newline", "lab_gfs2", [(("filesystems", "gfs2-00", "lock_table"), "labgfs:gfs2-00\n")],
     "filesystems:gfs2-00:lock_table"),
    ("volume group ends in newline", "lab_remedy", [("rename", ("lvm", "vg0"), "vg0\n")], "lvm:vg0\n"),
    ("lv size ends in newline", "lab_remedy", [(("lvm", "vg0", "lvs", "rm0"), "64M\n")], "lvm:vg0:lvs:rm0"),
    ("filesystem label with a newline", "web", [(("filesystems", "www", "label"), "www\nx")],
     "filesystems:www:label"),
    # -- orchestration targets ------------------------------------------------------------------------
    ("minion id widens a list target", "lab_gfs2", [(("nodes", "node2", "minion_id"), "node2,node3")],
     "nodes:node2:minion_id"),
    ("multi-line minion id", "lab_gfs2", [(("nodes", "node2", "minion_id"), "node2\n  tgt: '*'")],
     "nodes:node2:minion_id"),
    ("glob minion id", "lab_gfs2", [(("nodes", "node2", "minion_id"), "node*")], "nodes:node2:minion_id"),
    # -- addresses --------------------------------------------------------------------------------------
    ("scoped address smuggles a newline", "web",
     [(("nodes", "web1", "address"), "fd00::1"), (("nodes", "web2", "address"), "fe80::1%eth0\nx")],
     "nodes:web2:address"),
    # -- ha.cf / haresources / authkeys -----------------------------------------------------------------
    ("logfacility adds a respawn line", "apache", [(HB + ("logfacility",), "local0\nrespawn root /bin/sh")],
     "cluster:heartbeat:logfacility"),
    ("logfacility is not a syslog facility", "apache", [(HB + ("logfacility",), "local9")],
     "cluster:heartbeat:logfacility"),
    ("haresources ip adds a resource", "apache", [(GROUP + ("ip", "address"), "192.0.2.10 evil")],
     "groups:www:ip:address"),
    ("haresources ip interface adds a resource", "apache", [(GROUP + ("ip", "interface"), "eth0 drbddisk::r9")],
     "groups:www:ip:interface"),
    ("haresources ip with a bad prefix", "apache", [(GROUP + ("ip", "cidr"), 99)], "groups:www:ip:cidr"),
    ("haresources service adds a resource", "apache",
     [(GROUP + ("services",), ["apache2 IPaddr::192.0.2.99"])], "groups:www:services:0"),
    ("haresources service takes arguments", "apache",
     [(GROUP + ("services",), ["MailTo::root@example.org"])], "groups:www:services:0"),
    ("haresources service escapes resource.d", "apache",
     [(GROUP + ("services",), ["../../../tmp/x"])], "groups:www:services:0"),
    ("relocated path with a newline", "apache", [(GROUP + ("relocate",), ["/var/www\n/etc"])],
     "groups:www:relocate:0"),
    ("relocated path with drbdlinks quoting", "apache", [(GROUP + ("relocate",), ["/var/www')\nlink('/etc"])],
     "groups:www:relocate:0"),
    ("mountpoint adds Filesystem arguments", "apache", [(("filesystems", "data", "mountpoint"), "/drbd::xfs")],
     "filesystems:data:mountpoint"),
    ("authkeys key with a NUL", "apache", [(HB + ("authkeys", "key"), "secret\x00more")],
     "cluster:heartbeat:authkeys:key"),
    ("logfile with a hash", "apache", [(HB + ("logfile",), "/var/log/ha#x")], "cluster:heartbeat:logfile"),
    # -- fstab / exports --------------------------------------------------------------------------------
    ("mount option adds an fstab line", "lab_gfs2",
     [(("filesystems", "gfs2-00", "mount_options"), ["noatime\n/dev/sda1 / ext4 defaults 0 0"])],
     "filesystems:gfs2-00:mount_options:0"),
    ("mount option with a space", "lab_gfs2", [(("filesystems", "gfs2-00", "mount_options"), ["noatime 0"])],
     "filesystems:gfs2-00:mount_options:0"),
    ("mkfs option with a control character", "web", [(("filesystems", "www", "mkfs_options"), ["-N\x002"])],
     "filesystems:www:mkfs_options:0"),
    ("exports clients add an export", "fileserver",
     [(("nfs", "exports", 0, "clients"), "*(ro)\n/\t*(rw,no_root_squash)")], "nfs:exports:0:clients"),
    ("exports options add an export", "fileserver",
     [(("nfs", "exports", 0, "options"), ["rw)\n/\t*(rw,no_root_squash"])], "nfs:exports:0:options:0"),
    ("exports path with a hash", "fileserver", [(("nfs", "exports", 0, "path"), "/vol/pub#x")],
     "nfs:exports:0:path"),
    # -- cluster.conf (cman) ----------------------------------------------------------------------------
    ("cman attribute key adds an element", "hardcore",
     [(CMAN + ("dlm",), {'plock_ownership="1"/><fencedevice name="x': 1})],
     'cluster:cman:dlm:plock_ownership="1"/><fencedevice name="x'),
    ("cman resource type adds an element", "hardcore",
     [(CMAN + ("services",), {"web": {"domain": "core-01_domain",
                                      "resources": [{"type": 'ip address="1"/><script', "address": "10.0.0.5"}]}})],
     "cluster:cman:services:web:resources:0:type"),
    ("cman attribute value with a control character", "hardcore",
     [(CMAN + ("fence_devices", "core-01_ipmi", "login"), "admin\x01")],
     "cluster:cman:fence_devices:core-01_ipmi:login"),
    ("cman fence password with a NUL", "hardcore",
     [(CMAN + ("fence_devices", "core-01_ipmi", "passwd"), "pw\x00")],
     "cluster:cman:fence_devices:core-01_ipmi:passwd"),
    ("cman vm name with a control character", "hardcore", [("rename", CMAN + ("vms", "winxp_03"), "winxp\x0103")],
     "cluster:cman:vms:winxp\x0103"),
    ("cman fence method name with a newline", "hardcore",
     [(CMAN + ("nodes", "core-01", "fence", 0, "method"), "single\n")],
     "cluster:cman:nodes:core-01:fence:0:method"),
    # -- corosync.conf / dlm.conf -----------------------------------------------------------------------
    ("corosync value closes the section", "lab_gfs2",
     [(("cluster", "corosync", "totem"), {"token_coefficient": "650\n}\nquorum {"})],
     "cluster:corosync:totem:token_coefficient"),
    ("corosync key with a space", "lab_gfs2", [(("cluster", "corosync", "logging"), {"to syslog": "yes"})],
     "cluster:corosync:logging:to syslog"),
    ("dlm.conf value with a newline", "lab_gfs2",
     [(("cluster", "corosync", "dlm"), {"enable_fencing": False, "log_debug": "1\nenable_fencing=1"})],
     "cluster:corosync:dlm:log_debug"),
    ("corosync authkey is not base64", "lab_gfs2", [(("cluster", "corosync", "authkey"), "abc\ndef")],
     "cluster:corosync:authkey"),
    # -- DRBD: free-form sections, paths, secrets -------------------------------------------------------
    ("drbd option key ends in newline", "fileserver", [(("drbd", "common", "net"), {"ping-int\n": 30})],
     "drbd:common:net:ping-int\n"),
    ("drbd option value closes the section", "fileserver", [(("drbd", "common", "net"), {"ping-int": "30; }"})],
     "drbd:common:net:ping-int"),
    ("yaml bool on a non-flag option", "lab_gfs2",
     [(("drbd", "resources", "r0", "disk_section"), {"on-io-error": True})],
     "drbd:resources:r0:disk_section:on-io-error"),
    ("flag option spelt on", "lab_gfs2", [(("drbd", "resources", "r0", "net"), {"always-asbp": "on"})],
     "drbd:resources:r0:net:always-asbp"),
    ("flag option that takes no value", "lab_gfs2",
     [(("drbd", "resources", "r0", "startup"), {"stacked-timeouts": True})],
     "drbd:resources:r0:startup:stacked-timeouts"),
    ("drbd handler with a NUL", "fileserver",
     [(("drbd", "resources", "drbd0", "handlers", "split-brain"), "/usr/lib/drbd/notify.sh\x00 root")],
     "drbd:resources:drbd0:handlers:split-brain"),
    ("drbd handler longer than drbdadm reads", "fileserver",
     [(("drbd", "resources", "drbd0", "handlers", "split-brain"), "/bin/true " + "x" * 250)],
     "drbd:resources:drbd0:handlers:split-brain"),
    ("double colon in a disk path", "web", [(("drbd", "resources", "r0", "disk"), "/dev/x::y")],
     "drbd:resources:r0:disk"),
    ("quote in a meta-disk path", "web", [(("drbd", "resources", "r0", "meta_disk"), '/dev/x";')],
     "drbd:resources:r0:meta_disk"),
    ("disk path longer than a drbdadm token", "web", [(("drbd", "resources", "r0", "disk"), "/dev/" + "d" * 124)],
     "drbd:resources:r0:disk"),
    ("drbd device drbdadm refuses", "web", [(("drbd", "resources", "r0", "device"), "/dev/drbd0,")],
     "drbd:resources:r0:device"),
    ("per-node disk with a hash", "crossed", [(("drbd", "resources", "r0", "nodes"), {"node1": {"disk": "/dev/a#b"}})],
     "drbd:resources:r0:nodes:node1:disk"),
    ("shared secret longer than drbdadm takes", "lab_gfs2",
     [(("drbd", "resources", "r0", "shared_secret"), "s" * 64)], "drbd:resources:r0:shared_secret"),
    ("shared secret with a space", "lab_gfs2", [(("drbd", "resources", "r0", "shared_secret"), "two words")],
     "drbd:resources:r0:shared_secret"),
    ("shared secret with a tab", "lab_gfs2", [(("drbd", "resources", "r0", "shared_secret"), "a\tb")],
     "drbd:resources:r0:shared_secret"),
    ("lvm pv with a hash", "lab_remedy", [(("lvm", "vg0", "pvs"), ["/dev/vdb#"])], "lvm:vg0:pvs:0"),
]


@pytest.mark.parametrize("case, name, steps, where", ROWS, ids=[r[0] for r in ROWS])
def test_hostile_value_is_refused_with_its_pillar_path(case, name, steps, where):
    errors = validate(edit(name, *steps), name)
    assert f"{ROOT_PATH}:{name}:{where}" in paths(errors), [str(e) for e in errors]
    assert not any("internal validation error" in e.message for e in errors)


def test_topology_name_ending_in_newline_is_refused():
    errors = validate(copy.deepcopy(PILLARS["web"]), "web\n")
    assert paths(errors) == [f"{ROOT_PATH}:web\n"]


def test_secrets_are_never_echoed_in_the_error():
    secret = "s" * 40 + " has a space"
    errors = validate(edit("lab_gfs2", (("drbd", "resources", "r0", "shared_secret"), secret)), "lab_gfs2")
    assert errors and not any(secret in str(e) for e in errors)


GOOD = [
    ("flag option as a yaml bool", "lab_gfs2", [(("drbd", "resources", "r0", "disk_section"),
                                                 {"on-io-error": "detach", "disk-barrier": False})]),
    ("flag option as a quoted yes", "lab_gfs2", [(("drbd", "resources", "r0", "net"), {"always-asbp": "yes"})]),
    ("handler command with spaces and $", "fileserver", []),
    ("ipv6 addresses", "web", [(("nodes", "web1", "address"), "fd00::1"), (("nodes", "web2", "address"), "fd00::2")]),
    ("group ip on a vlan interface", "apache", [(GROUP + ("ip", "interface"), "eth0.100")]),
    ("group services as systemd units", "apache", [(GROUP + ("services",), ["apache2", "lxc@web.service"])]),
    ("nfs network client", "fileserver", [(("nfs", "exports", 0, "clients"), "192.168.1.0/24")]),
    ("nfs netgroup client", "fileserver", [(("nfs", "exports", 0, "clients"), "@trusted")]),
    ("mount option with =", "lab_gfs2", [(("filesystems", "gfs2-00", "mount_options"), ["noatime", "commit=60"])]),
    ("dotted fqdn minion id", "lab_gfs2", [(("nodes", "node2", "minion_id"), "node2.example.org")]),
    ("cman rgmanager resource", "hardcore",
     [(CMAN + ("services",), {"web": {"domain": "core-01_domain", "autostart": True,
                                      "resources": [{"type": "ip", "address": "10.0.0.5"}]}})]),
    ("shared secret of 63 characters", "lab_gfs2", [(("drbd", "resources", "r0", "shared_secret"), "s" * 63)]),
    ("resource name of 200 bytes", "web", [(("drbd", "resources", "r" * 200), R1)]),
]


@pytest.mark.parametrize("case, name, steps", GOOD, ids=[r[0] for r in GOOD])
def test_legitimate_values_stay_accepted(case, name, steps):
    assert [str(e) for e in validate(edit(name, *steps), name)] == []


@pytest.mark.parametrize("name", sorted(PILLARS))
def test_every_example_pillar_stays_valid(name):
    assert [str(e) for e in validate(copy.deepcopy(PILLARS[name]), name)] == []


@pytest.mark.parametrize("kind", sorted(fields.CHECKS))
def test_every_field_check_refuses_a_trailing_newline(kind):
    check, _ = fields.CHECKS[kind]
    sample = {"path": "/srv/x", "drbd_path": "/dev/vdb", "drbd_device": "/dev/drbd0", "facility": "local0", "base64": "YWJj",
              "url_path": "/hapair-canary.txt"}.get(kind, "abc")
    assert check(sample) and not check(sample + "\n")


def test_the_tool_checks_full_match_too():
    """gfs2's lock-table check and o2cb's cluster-name checks took ``^...$`` with ``match``: a part
    ending in a newline passed."""
    from hapair import gfs2, o2cb
    assert gfs2.check_lock_table("web:www\n")
    assert any("characters outside" in p for p in o2cb.check_cluster_conf(
        {"clusters": [{"name": "c1\n", "node_count": 0}], "nodes": []}, "c1\n"))


def test_an_o2cb_cluster_name_with_underscore_renders():
    """Found by hypothesis: validation takes o2cb's own rule (letters, digits, '_') for the cluster
    name, and cluster.conf's cluster stanza checked it as a hostname, refusing ``a_``."""
    from hapair import o2cb, topology  # noqa: PLC0415

    raw = edit("web", (("cluster", "name"), "ocfs_2"))
    assert validate(raw, "web") == []
    conf = o2cb.render_cluster_conf(topology.normalise(raw, "web"))
    assert conf.endswith("cluster:\n\tnode_count = 2\n\tname = ocfs_2\n")
