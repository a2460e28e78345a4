"""No DRBD shared secret, old or new, leaves hapair across a rotation (issue 12 "Secrets").

Real Salt loader (``salt-call --local``, log file at debug, one call with ``-l debug`` on the
console, ``cache_jobs: True``) over the fake DRBD tree of tests/fakebin. r0 runs (stage 05); its
secret is rotated from A to B with ``drbd.configured`` (test=True, then for real), then
``drbd.connect`` fails through a drbdadm that, like the real one, prints the drbdsetup command
line it ran (``--shared-secret=<the secret on disk>``) and the secret itself on stderr. Every
return, every output, the minion log and every file under the minion's root (cachedir, job
cache, proc files) are searched for A and B: no hit.
"""

import os
import sys

import faketree
import yaml
from drbd_helpers import ROOT

A = "Rotation-Old-Secret-5ac1"
B = "Rotation-New-Secret-7bd2"

FAILING_DRBDADM = """#!{python}
import importlib.machinery, importlib.util, os, re, sys
if sys.argv[1:2] == ["connect"]:  # fail as drbdadm does, echoing what it ran, secret included
    node_dir = os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[0])))
    with open(os.path.join(node_dir, "etc", "drbd.d", "r0.res"), encoding="utf-8") as handle:
        secret = re.search(r'shared-secret\\s+"([^"]*)"', handle.read()).group(1)
    cmd = ("drbdsetup-84 net r0 ipv4:10.0.0.1:7788 ipv4:10.0.0.2:7788 --protocol=C "
           "--shared-secret=" + secret + " --cram-hmac-alg=sha1")
    sys.stderr.write("argv: " + " ".join(sys.argv) + "\\n" + cmd + "\\nsecret " + secret + " refused\\n"
                     + "Command '" + cmd + "' terminated with exit code 10\\n")
    sys.exit(10)
loader = importlib.machinery.SourceFileLoader("hapair_fake", {fake!r})
spec = importlib.util.spec_from_loader("hapair_fake", loader)
fake = importlib.util.module_from_spec(spec)
loader.exec_module(fake)
sys.exit(fake.main(sys.argv))
"""


def set_secret(cluster, secret):
    node = cluster["node1"]
    pillar = node.pillar
    pillar["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["shared_secret"] = secret
    with open(os.path.join(cluster["root"], "pillar", "topology.sls"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(pillar, handle)


def hits(path, secrets):
    """``[(file, secret)]`` for every file under ``path`` holding a secret (bytes, any encoding)."""
    found = []
    for base, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(base, name)
            try:
                with open(full, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            found += [(full, s) for s in secrets if s.encode() in data]
    return found


def test_no_secret_old_or_new_in_returns_logs_diffs_or_cache_across_a_rotation(cluster):
    node, root = cluster["node1"], cluster["root"]
    conf_path = os.path.join(node.conf_dir, "minion")
    with open(conf_path, encoding="utf-8") as handle:
        conf = yaml.safe_load(handle)
    conf["cache_jobs"] = True  # the minion keeps every job's return in its cachedir
    with open(conf_path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(conf, handle)
    drbdadm = os.path.join(root, "node1", "bin", "drbdadm")
    os.remove(drbdadm)
    with open(drbdadm, "w", encoding="utf-8") as handle:
        handle.write(FAILING_DRBDADM.format(python=sys.executable, fake=os.path.join(ROOT, "tests", "fakebin", "fake")))
    os.chmod(drbdadm, 0o755)
    state = faketree.read_state(root)
    state["stage"] = "05"  # r0 runs: a changed config is adjusted
    faketree.write_state(root, state)
    res_file = os.path.join(root, "node1", "etc", "drbd.d", "r0.res")
    returns = []

    set_secret(cluster, A)
    returns.append(node.state("drbd.configured", test=True))
    first = node.state("drbd.configured")
    returns.append(first)
    assert first["result"] is True, first
    with open(res_file, encoding="utf-8") as handle:
        assert A in handle.read()  # secret A was really written

    set_secret(cluster, B)
    planned = node.state("drbd.configured", test=True)
    applied = node.state("drbd.configured")
    returns += [planned, applied]
    assert planned["result"] is None and applied["result"] is True, (planned, applied)
    diff = planned["changes"][res_file]["new"]["diff"]
    assert "-        shared-secret \"********\";" in diff and "+        shared-secret \"********\";" in diff
    assert applied["changes"] == planned["changes"]
    assert ["drbdadm", "adjust", "r0"] in node.argv()
    with open(res_file, encoding="utf-8") as handle:
        assert B in handle.read()  # ... and rotated to B

    returns.append(node.call("-l", "debug", "drbd.connect", "r0", check=False))  # fails: rc 10
    assert "exit 10" in node.outputs[-1] and "--shared-secret=********" in node.outputs[-1]
    returns.append(node.call("drbd.config_state", "lab_web"))
    returns.append(node.call("drbd.render", "lab_web"))

    for value in returns:
        assert A not in repr(value) and B not in repr(value)
    for text in node.outputs:
        assert A not in text and B not in text
    logs = [os.path.join(base, name) for base, _dirs, files in os.walk(node.conf_dir) for name in files
            if name == "minion.log"]  # Salt puts log_file under root_dir
    assert logs, "no minion log written"
    with open(logs[0], encoding="utf-8", errors="replace") as handle:
        log = handle.read()
    assert "drbd.connect" in log and "hapair: running" in log  # the debug log was written
    assert A not in log and B not in log
    jobs = [base for base, _dirs, files in os.walk(node.conf_dir) if "return.p" in files]
    assert len(jobs) >= 6  # the job cache holds every call's return ...
    assert hits(node.conf_dir, [A, B]) == []  # ... and neither it, the proc files nor the log hold a secret
