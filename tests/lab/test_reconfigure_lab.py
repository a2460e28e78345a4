"""Day 2 on a live pair (issue 18): lab_web moves to new ports with one pillar change and one
``salt-run hapair.reconfigure``; the same change through ``state.apply`` is refused.

The lab has one replication link, so the move is DRBD r0 7788 -> 7790 (``reconnect``) and o2cb
7777 -> 7778 (``cluster-offline``) on it, dual-primary OCFS2 mounted on both nodes with a canary
written before. After: no split brain, the canary read on the other node, DRBD and o2cb on the new
ports on both nodes, auto-remediation resumed, a second call has nothing to do.

lab_full: a bootstrap from blank disks plus a whole stop and bootstrap of the pair.
"""

import json
import os
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labreset import reset  # noqa: E402
from orchrun import assert_complete, mounts, orchestrate, proc_drbd  # noqa: E402
from saltout import last_json  # noqa: E402

pytestmark = [pytest.mark.lab, pytest.mark.lab_full]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODES = ("node1", "node2")
TOPOLOGY = "lab_web"


def _runner(lab, *args, timeout=1800):
    proc = lab.salt_cli("salt-run", ["--out=json", *args], timeout=timeout)
    return last_json(proc.stdout) or {"raw": proc.stdout[-3000:] + proc.stderr[-3000:]}


def _split_brains(lab, node):
    """How many times the kernel log says DRBD detected a split brain on ``node``."""
    return lab.ssh(node, "dmesg | grep -c 'Split-Brain detected' || true").stdout.strip()


def _moved_pillar():
    with open(os.path.join(ROOT, "pillar", "hapair", f"{TOPOLOGY}.sls"), encoding="utf-8") as fh:
        pil = yaml.safe_load(fh)
    topo = pil["hapair"]["topologies"][TOPOLOGY]
    topo["drbd"]["resources"]["r0"]["port"] = 7790
    topo["cluster"].setdefault("o2cb", {})["port"] = 7778
    return yaml.safe_dump(pil, default_flow_style=False)


def test_lab_web_moves_to_new_ports_through_hapair_reconfigure(lab):
    from lab.master import pillar_overlay

    times = {"reset": round(reset(lab), 1)}
    code, steps, seconds, raw = orchestrate(lab, TOPOLOGY)
    times["bootstrap"] = round(seconds, 1)
    assert_complete(code, steps, raw, TOPOLOGY)
    token = f"reconfigure canary {time.time():.6f}"
    lab.ssh("node1", f"echo '{token}' > /srv/www/reconfigure-canary && sync", check=True)

    overlay = os.path.join(pillar_overlay(lab.dir), "hapair", f"{TOPOLOGY}.sls")
    os.makedirs(os.path.dirname(overlay), exist_ok=True)
    with open(overlay, "w", encoding="utf-8") as fh:
        fh.write(_moved_pillar())
    try:
        lab.salt(",".join(NODES), "saltutil.refresh_pillar", timeout=120)
        # the same change one node at a time through the formula is refused, nothing written
        out = lab.salt("node1", "state.apply", "hapair.drbd", "pillar=" + json.dumps({"topology": TOPOLOGY}),
                       timeout=600)["node1"]
        refused = [s.get("comment") for s in out.values() if isinstance(s, dict) and s.get("result") is False]
        assert any("salt-run hapair.reconfigure lab_web" in str(c) for c in refused), out
        assert "7788" in lab.ssh("node1", "drbdsetup show r0", check=True).stdout

        dry = _runner(lab, "hapair.reconfigure", TOPOLOGY, "dry_run=True")
        assert dry.get("result") is True and dry["plan"]["action"] == "reconfigure", dry
        assert {"reconnect", "cluster-offline"} <= {c["class"] for c in dry["plan"]["changes"]}, dry["plan"]
        assert "7790" not in lab.ssh("node2", "drbdsetup show r0", check=True).stdout   # a dry run ran nothing

        splits = {n: _split_brains(lab, n) for n in NODES}
        started = time.monotonic()
        done = _runner(lab, "hapair.reconfigure", TOPOLOGY)
        times["reconfigure"] = round(time.monotonic() - started, 1)
        assert done.get("result") is True, done
        for node in NODES:
            text = proc_drbd(lab, node)
            assert "cs:Connected" in text and "ro:Primary/Primary" in text and "ds:UpToDate/UpToDate" in text, text
            assert "7790" in lab.ssh(node, "drbdsetup show r0", check=True).stdout
            assert "ip_port = 7778" in lab.ssh(node, "cat /etc/ocfs2/cluster.conf", check=True).stdout
            # the running cluster, not only its file: o2cb's configfs
            port = lab.ssh(node, f"cat /sys/kernel/config/cluster/labcl/node/{node}/ipv4_port", check=True).stdout
            assert port.strip() == "7778", f"{node}: o2cb runs on port {port.strip()}"
            assert "/dev/drbd0 /srv/www" in mounts(lab, node)
            assert _split_brains(lab, node) == splits[node], f"{node}: a split brain during the move"
            assert ".split-brain" not in lab.ssh(node, "ls /var/lib/hapair/drbd/ 2>/dev/null || true").stdout
        assert lab.ssh("node2", "cat /srv/www/reconfigure-canary", check=True).stdout.strip() == token
        status = lab.salt_cli("salt-run", ["--out=json", "hapair.status", TOPOLOGY], timeout=300).stdout
        assert last_json(status).get("paused") == {}, status                    # remediation resumed

        again = _runner(lab, "hapair.reconfigure", TOPOLOGY)
        assert again.get("result") is True and again["plan"]["action"] == "none", again
        print(f"\n[lab] lab_web reconfigure (DRBD 7788->7790, o2cb 7777->7778): {json.dumps(times)}")
    finally:
        if os.path.exists(overlay):
            os.remove(overlay)
        lab.salt(",".join(NODES), "saltutil.refresh_pillar", timeout=120)
