"""``disk_section: {on-io-error: detach}`` (a failed disk is detached, the node serves through its peer,
docs/disk-failure.md) passes validation, renders into the resource's ``disk`` section, and the real
drbdadm (8.4 and 9 parsers, offline: ../shared/docs/VALIDATORS.md) accepts it and passes
``--on-io-error=detach`` to the attach of ``drbdadm -d up``. A misspelt value is refused by the
v9 parser: the check can fail.
"""

from __future__ import annotations

import copy
import os
import shutil
import sys

import pytest
from conftest import ROOT
from hapair import topology, validate

sys.path.insert(0, os.path.join(ROOT, "tests", "validators"))
from test_drbd_configs import V9, V84, drbdadm, errors_of, render_into  # noqa: E402

pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("drbdadm") is None, reason="drbdadm not installed (apt-get install drbd-utils)"),
]

RAW = {
    "nodes": {"node1": {"minion_id": "node1", "address": "10.99.0.1"},
              "node2": {"minion_id": "node2", "address": "10.99.0.2"}},
    "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": "/dev/vdb", "mode": "dual-primary",
                                  "disk_section": {"on-io-error": "detach"}}}},
    "filesystems": {"gfs2-00": {"resource": "r0", "type": "gfs2", "mountpoint": "/srv/gfs2-00"}},
    "cluster": {"stack": "corosync", "name": "labgfs", "corosync": {"dlm": {"enable_fencing": False}}},
}


def load(raw):
    assert validate.validate(raw, "lab_df") == []
    return topology.load({"hapair": {"topologies": {"lab_df": raw}}}, "lab_df")


@pytest.mark.parametrize("dialect, version", [("8.4", V84), ("8.4", V9), ("9", V9)])
def test_on_io_error_detach_reaches_the_attach(tmp_path, dialect, version):
    topo = load(copy.deepcopy(RAW))
    assert topo["drbd"]["resources"]["r0"]["sections"]["disk"] == {"on-io-error": "detach"}
    conf, files = render_into(tmp_path, topo, "node1", dialect)
    res = next(spec["content"] for path, spec in files.items() if path.endswith("r0.res"))
    assert "on-io-error detach;" in res
    nop = drbdadm(conf, "node1", version, "sh-nop")
    assert nop.returncode == 0, errors_of(nop)
    dry = drbdadm(conf, "node1", version, "-d", "up", "r0")
    assert dry.returncode == 0, errors_of(dry)
    attach = [line for line in dry.stdout.splitlines() if " attach " in line or line.startswith("drbdsetup attach")]
    assert attach and all("--on-io-error=detach" in line for line in attach), dry.stdout


def test_a_misspelt_value_is_refused_by_the_v9_parser(tmp_path):
    topo = load(copy.deepcopy(RAW))
    topo["drbd"]["resources"]["r0"]["sections"]["disk"] = {"on-io-error": "detatch"}
    conf, _ = render_into(tmp_path, topo, "node1", "9")
    assert drbdadm(conf, "node1", V9, "sh-nop").returncode != 0
