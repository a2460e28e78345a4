"""hapair's handler lines as the real drbd-utils parsers read them (8.4 and 9), offline.

Every example topology is rendered with ``handler_path`` (as ``drbd.configured`` does on a minion)
and ``drbdadm -c FILE dump <res>`` must print each hooked handler with hapair's script, the
topology name and, where the pillar had one, the operator's command after ``--``. See
tests/validators/test_drbd_configs.py for the config checks without handlers.
"""

from __future__ import annotations

import shutil

import pytest
from hapair import drbd_render
from test_drbd_configs import V9, all_topologies, drbdadm, errors_of, parsers_for, write

pytestmark = [
    pytest.mark.validators,
    pytest.mark.skipif(shutil.which("drbdadm") is None, reason="drbdadm not installed (apt-get install drbd-utils)"),
]

HANDLER = "/usr/lib/hapair/drbd-handler"
TOPOLOGIES = all_topologies()


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
def test_handlers_parse_and_dump(name, tmp_path):
    topo = TOPOLOGIES[name]
    node = topo["node_order"][0]
    dialects = ["8.4", "9"] if name.startswith("hand/") or topo["drbd"].get("dialect") in ("auto", "8.4", None) else ["9"]
    for dialect in dialects:
        tmp = tmp_path / dialect.replace(".", "")
        conf = str(tmp / "drbd.conf")
        files = drbd_render.render(topo, node, dialect, conf_path=conf, conf_dir=str(tmp / "drbd.d"),
                                   handler_path=HANDLER)
        write(files, str(tmp))
        host = topo["nodes"][node]["hostname"]
        for version in parsers_for(dialect):
            for res in drbd_render.resource_names(topo):
                proc = drbdadm(conf, host, version, "dump", res)
                assert proc.returncode == 0, f"{name} {dialect} under {version}: {errors_of(proc)}"
                dumped = proc.stdout
                for kind in drbd_render.HANDLER_KINDS:
                    assert f"{HANDLER} {kind} {topo['name']}" in dumped, f"{name} {res} {version}: {dumped}"
                own = ((topo["drbd"]["resources"][res].get("sections") or {}).get("handlers") or {}).get("split-brain")
                if own:
                    assert f"-- {own}" in dumped, dumped


def test_fence_peer_hooked_with_fencing_v9(tmp_path):
    topo = TOPOLOGIES["pillar/lab_remedy.sls:lab_remedy"]
    topo["drbd"]["resources"]["rm1"]["sections"]["net"]["fencing"] = "resource-only"
    conf = str(tmp_path / "drbd.conf")
    write(drbd_render.render(topo, "node1", "9", conf_path=conf, conf_dir=str(tmp_path / "drbd.d"),
                             handler_path=HANDLER), str(tmp_path))
    proc = drbdadm(conf, "node1", V9, "dump", "rm1")
    assert proc.returncode == 0, errors_of(proc)
    assert f"{HANDLER} fence-peer lab_remedy" in proc.stdout
