"""Every state turns an error of hapair's core into ``result: False`` with its message, never a traceback.

A planner or renderer that refuses a value (``RenderError``) or reads output it cannot parse
(``ParseError``) raises a ``HapairError``; the state's one outer ``except`` must hold it.
"""

from __future__ import annotations

import os
import sys

import pytest
from hapair.errors import ParseError, RenderError

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
