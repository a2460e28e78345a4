"""Day 2 on a live pair (issue 18): lab_web moves from the lab's first replication link to its
second with one pillar change and one ``salt-run hapair.reconfigure``; the same change through
``state.apply`` is refused.

The move is seed 001's re-addressing: the nodes' addresses 10.99.0.x (eth1, ``repl``) ->
10.98.0.x (eth2, ``repl2``), which moves DRBD r0 (``reconnect``) and o2cb (``cluster-offline``),
and r0's port 7788 -> 7790 on the way; dual-primary OCFS2 mounted on both nodes with a canary
written before. After: no split brain, the canary read on the other node, DRBD and o2cb on link 2
on both nodes (``drbdsetup show``, cluster.conf, o2cb's configfs), auto-remediation resumed; then
link 1 is cut on both nodes and, past o2cb's and DRBD's timeouts, nothing changes: still
Connected Primary/Primary, a file written on node2 is read on node1. A second call has nothing to do.

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
    """lab_web's pillar with both nodes on link 2 (``repl2_address``) and r0 on port 7790."""
    from lab.config import NODES as LAB_NODES

    with open(os.path.join(ROOT, "pillar", "hapair", f"{TOPOLOGY}.sls"), encoding="utf-8") as fh:
        pil = yaml.safe_load(fh)
    topo = pil["hapair"]["topologies"][TOPOLOGY]
    for node in NODES:
        assert topo["nodes"][node]["address"] == LAB_NODES[node]["repl_address"], topo["nodes"][node]
        topo["nodes"][node]["address"] = LAB_NODES[node]["repl2_address"]
    topo["drbd"]["resources"]["r0"]["port"] = 7790
    return yaml.safe_dump(pil, default_flow_style=False)


def _on_link2(lab, node):
    """What shows ``node`` runs DRBD r0 and o2cb on link 2 (asserted)."""
    from lab.config import NODES as LAB_NODES

    own, peer = LAB_NODES[node]["repl2_address"], [LAB_NODES[n]["repl2_address"] for n in NODES if n != node][0]
    shown = lab.ssh(node, "drbdsetup show r0", check=True).stdout
    assert f"{own}:7790" in shown and f"{peer}:7790" in shown, shown
    conf = lab.ssh(node, "cat /etc/ocfs2/cluster.conf", check=True).stdout
    assert all(f"ip_address = {LAB_NODES[n]['repl2_address']}" in conf for n in NODES), conf
    for name in NODES:  # the running cluster, not only its file: o2cb's configfs
        ip = lab.ssh(node, f"cat /sys/kernel/config/cluster/labcl/node/{name}/ipv4_address", check=True).stdout
        assert ip.strip() == LAB_NODES[name]["repl2_address"], f"{node}: o2cb has {name} at {ip.strip()}"


def test_lab_web_moves_to_link_2_through_hapair_reconfigure(lab):
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
        assert "10.99.0.1:7788" in lab.ssh("node1", "drbdsetup show r0", check=True).stdout

        dry = _runner(lab, "hapair.reconfigure", TOPOLOGY, "dry_run=True")
        assert dry.get("result") is True and dry["plan"]["action"] == "reconfigure", dry
        assert {"reconnect", "cluster-offline"} <= {c["class"] for c in dry["plan"]["changes"]}, dry["plan"]
        assert "10.98.0" not in lab.ssh("node2", "drbdsetup show r0", check=True).stdout   # a dry run ran nothing

        splits = {n: _split_brains(lab, n) for n in NODES}
        started = time.monotonic()
        done = _runner(lab, "hapair.reconfigure", TOPOLOGY)
        times["reconfigure"] = round(time.monotonic() - started, 1)
        assert done.get("result") is True, done
        for node in NODES:
            text = proc_drbd(lab, node)
            assert "cs:Connected" in text and "ro:Primary/Primary" in text and "ds:UpToDate/UpToDate" in text, text
            _on_link2(lab, node)
            assert "/dev/drbd0 /srv/www" in mounts(lab, node)
            assert _split_brains(lab, node) == splits[node], f"{node}: a split brain during the move"
            assert ".split-brain" not in lab.ssh(node, "ls /var/lib/hapair/drbd/ 2>/dev/null || true").stdout
        assert lab.ssh("node2", "cat /srv/www/reconfigure-canary", check=True).stdout.strip() == token
        status = lab.salt_cli("salt-run", ["--out=json", "hapair.status", TOPOLOGY], timeout=300).stdout
        assert last_json(status).get("paused") == {}, status                    # remediation resumed

        # link 1 pulled on both nodes: past o2cb's idle timeout (30 s) and DRBD's ping, nothing moves
        lab.cut_link(link="repl")
        try:
            time.sleep(45)
            for node in NODES:
                text = proc_drbd(lab, node)
                assert "cs:Connected" in text and "ro:Primary/Primary" in text, f"{node} after link 1 cut: {text}"
                assert "/dev/drbd0 /srv/www" in mounts(lab, node)
            lab.ssh("node2", f"echo '{token} link2' > /srv/www/link2-canary && sync", check=True)
            read = lab.ssh("node1", "cat /srv/www/link2-canary", check=True, timeout=120).stdout.strip()
            assert read == f"{token} link2", read
            assert all(_split_brains(lab, n) == splits[n] for n in NODES), "a split brain after link 1 was cut"
        finally:
            lab.restore_link(link="repl")

        again = _runner(lab, "hapair.reconfigure", TOPOLOGY)
        assert again.get("result") is True and again["plan"]["action"] == "none", again
        print(f"\n[lab] lab_web reconfigure (link 1 -> link 2, r0 7788->7790): {json.dumps(times)}")
    finally:
        if os.path.exists(overlay):
            os.remove(overlay)
        lab.salt(",".join(NODES), "saltutil.refresh_pillar", timeout=120)
