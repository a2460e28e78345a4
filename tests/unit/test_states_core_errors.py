"""Every state turns an error of hapair's core into ``result: False`` with its message, never a traceback;
a core "not ready yet" is ``result: None`` under test, a refusal ``False`` in both modes.

A planner or renderer that refuses a value (``RenderError``) or reads output it cannot parse
(``ParseError``) raises a ``HapairError``; the state's one outer ``except`` must hold it.
"""

from __future__ import annotations

import os
import sys

import pytest
from hapair.errors import HapairError, NotReadyError, ParseError, RefusedError, RenderError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

# (state module, function, its arguments, the execution function it calls first)
CASES = [
    ("ocfs2", "formatted", ("www", "web"), "ocfs2.plan_format"),
    ("ocfs2", "mounted", ("www", "web"), "ocfs2.plan_mount"),
    ("gfs2", "formatted", ("gfs2-00", "hardcore"), "gfs2.plan"),
    ("gfs2", "mounted", ("gfs2-00", "hardcore"), "gfs2.plan_mount"),
    ("hapair_nfs", "exported", ("fileserver",), "hapair_nfs.plan"),
    ("corosync", "configured", ("/etc/corosync/corosync.conf", "lab_gfs2"), "corosync.plan_config"),
    ("corosync", "authkey_managed", ("/etc/corosync/authkey", "lab_gfs2"), "corosync.plan_authkey"),
    ("corosync", "dlm_configured", ("/etc/dlm/dlm.conf", "lab_gfs2"), "corosync.dlm_check"),
    ("ocfs2", "boot_ordered", ("web",), "ocfs2.plan_boot_units"),
    ("o2cb", "cluster_configured", ("web",), "o2cb.check_config"),
    ("o2cb", "online", ("web",), "o2cb.plan_online"),
    ("heartbeat", "configured", ("apache",), "heartbeat.check"),
    ("cman", "cluster_configured", ("/etc/cluster/cluster.conf", "hardcore"), "cman.plan_config"),
    ("hapair_lvm", "present", ("fileserver",), "hapair_lvm.plan"),
]

ERRORS = [RenderError("exports: '/ *(rw)' is not a valid path"), ParseError("blkid", 1, "junk", "no TYPE")]


def raiser(error):
    def call(*_args, **_kwargs):
        raise error
    return call


@pytest.mark.parametrize("error", ERRORS, ids=["render", "parse"])
@pytest.mark.parametrize("module, function, args, first", CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_a_core_error_is_a_failed_state_not_a_traceback(module, function, args, first, error):
    salt = fakesalt.salt_dict(fakesalt.FakeCmd({}), {}, **{first: raiser(error)})
    state = fakesalt.load("states", module, salt, opts={"id": "node1", "test": False}, pillar={})
    ret = getattr(state, function)(*args)
    assert ret["result"] is False and ret["changes"] == {} and str(error) in ret["comment"]


def wrapped(inner):
    """What an execution module raises: CommandExecutionError(str(err)) inside ``except`` of a core error."""
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415

    def call(*_args, **_kwargs):
        try:
            raise inner
        except HapairError as err:
            raise CommandExecutionError(str(err))
    return call


NOT_READY = NotReadyError("/dev/drbd0", "this node Primary and the peer Connected/UpToDate (no peer is connected)")
REFUSED = RefusedError("/dev/drbd0", "it already holds a signature (TYPE=ext4)", "overwrite=True")


@pytest.mark.parametrize("error, test, result", [
    (NOT_READY, True, None), (NOT_READY, False, False), (REFUSED, True, False), (REFUSED, False, False),
], ids=["not-ready-test", "not-ready-apply", "refused-test", "refused-apply"])
@pytest.mark.parametrize("module, function, args, first", [
    ("gfs2", "formatted", ("gfs2-00", "hardcore"), "gfs2.plan"),
    ("ocfs2", "formatted", ("www", "web"), "ocfs2.plan_format"),
], ids=["gfs2.formatted", "ocfs2.formatted"])
def test_not_ready_is_none_under_test_refused_is_false(module, function, args, first, error, test, result):
    salt = fakesalt.salt_dict(fakesalt.FakeCmd({}), {}, **{first: wrapped(error)})
    state = fakesalt.load("states", module, salt, opts={"id": "node1", "test": test}, pillar={})
    ret = getattr(state, function)(*args)
    assert ret["result"] is result and ret["changes"] == {} and str(error) in ret["comment"]


OCFS2_MKFS = {"action": "mkfs", "device": "/dev/drbd0", "label": "www", "slots": 2, "cluster_name": "webcluster",
              "argv": ["mkfs.ocfs2", "/dev/drbd0"]}
GFS2_MKFS = {"action": "mkfs", "device": "/dev/drbd0", "lock_table": "hardcore:gfs2-00", "journals": 2,
             "argv": ["mkfs.gfs2", "/dev/drbd0"]}
MOUNT = {"action": "mount", "device": "/dev/drbd0", "mountpoint": "/srv/fs", "options": ["_netdev"]}
NFS_PLAN = {"write": False, "start": False, "reload": True, "missing": ["/vol/ocfs2-small"], "refused": [],
            "path": "/etc/exports.d/hapair-fileserver.exports", "content": ""}
# (state module, function, arguments, the plan function, what it keeps planning, the apply function, its answer)
RESIDUE = [
    ("ocfs2", "formatted", ("www", "web"), "ocfs2.plan_format", [OCFS2_MKFS], "ocfs2.mkfs",
     dict(OCFS2_MKFS, formatted=True)),
    ("gfs2", "formatted", ("gfs2-00", "hardcore"), "gfs2.plan", [GFS2_MKFS], "gfs2.mkfs",
     dict(GFS2_MKFS, formatted=True, summary={})),
    ("gfs2", "mounted", ("gfs2-00", "hardcore"), "gfs2.plan_mount", [MOUNT], "gfs2.mount", [MOUNT]),
    ("ocfs2", "mounted", ("www", "web"), "ocfs2.plan_mount", [MOUNT], "ocfs2.mount", [MOUNT]),
    ("hapair_nfs", "exported", ("fileserver",), "hapair_nfs.plan", NFS_PLAN, "hapair_nfs.apply", NFS_PLAN),
]


@pytest.mark.parametrize("module, function, args, plan, planned, apply, answer", RESIDUE,
                         ids=[f"{c[0]}.{c[1]}" for c in RESIDUE])
def test_a_plan_left_after_apply_fails_the_state(module, function, args, plan, planned, apply, answer):
    """facts -> plan -> apply -> facts again: the plan must now be empty, else ``result: False``."""
    calls = []
    salt = fakesalt.salt_dict(fakesalt.FakeCmd({}), {}, **{
        plan: lambda *_a, **_k: calls.append("plan") or planned,
        apply: lambda *_a, **_k: calls.append("apply") or answer})
    state = fakesalt.load("states", module, salt, opts={"id": "node1", "test": False}, pillar={})
    ret = getattr(state, function)(*args)
    assert calls == ["plan", "apply", "plan"], calls
    assert ret["result"] is False and ret["changes"], ret
