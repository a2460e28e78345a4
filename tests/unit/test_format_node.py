"""The node that formats a cluster filesystem is the topology's ``format_on``, in every module.

The normalised topology owns the rule (``hapair.topology``: ``format_on``, default the resource's
initial primary where it mounts). Before, ``ocfs2`` recomputed it from ``initial_primary`` and
ignored ``format_on``: with ``format_on: web2`` the module on web2 said it does not format, and the
module on web1 said it does.
"""

from __future__ import annotations

import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakebin", "cman"))
import fakesalt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pillar(seed: str, fsname: str, format_on: str) -> dict:
    with open(os.path.join(ROOT, "pillar", "hapair", f"{seed}.sls"), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    data["hapair"]["topologies"][seed]["filesystems"][fsname]["format_on"] = format_on
    return data


@pytest.mark.parametrize("module, seed, fsname, nodes", [
    ("ocfs2", "web", "www", ("web1", "web2")),
    ("gfs2", "hardcore", "gfs2-00", ("core-01", "core-02")),
])
def test_only_the_format_on_node_formats(module, seed, fsname, nodes):
    first, second = nodes
    data = pillar(seed, fsname, second)
    for node, formats in ((first, False), (second, True)):
        salt = fakesalt.salt_dict(fakesalt.FakeCmd({}), {})
        mod = fakesalt.load("modules", module, salt, opts={"id": node, "test": False}, pillar=data)
        (entry,) = [f for f in mod.topology_filesystems(seed) if f["name"] == fsname]
        assert entry["format"] is formats, (node, entry)
