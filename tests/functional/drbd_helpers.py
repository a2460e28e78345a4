"""Helpers for the functional tests: hapair's drbd module and states through the real Salt loader.

Each node is a ``salt-call --local`` with its own config dir whose ``hapair:bin:*`` and
``hapair:paths:*`` point at a fake tree (tests/fakebin) that replays real DRBD 8.4 captures.
The pillar is the repo's seed-000 lab topology (pillar/hapair/lab_web.sls) with a distinctive
shared secret, so its absence from returns and logs can be checked.
"""

import json
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "_utils"))

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fakebin"))
import faketree  # noqa: E402

SALT_CALL = os.path.join(os.path.dirname(sys.executable), "salt-call")
SECRET = "Fk9-s3cr3t-hapair-functional"
TOPOLOGY = "lab_web"


def lab_web_pillar():
    """The repo's lab_web topology (seed 000 on node1/node2) with a distinctive secret."""
    with open(os.path.join(ROOT, "pillar", "hapair", "lab_web.sls"), encoding="utf-8") as handle:
        pillar = yaml.safe_load(handle)
    pillar["hapair"]["topologies"]["lab_web"]["drbd"]["resources"]["r0"]["shared_secret"] = SECRET
    return pillar


class Node:
    """One fake node: a salt-call --local config and its fake DRBD tree."""

    def __init__(self, root, name, pillar):
        self.root, self.name, self.pillar = root, name, pillar
        self.conf_dir = os.path.join(root, name, "salt")
        self.log_file = os.path.join(self.conf_dir, "minion.log")
        pillar_dir = os.path.join(root, "pillar")
        os.makedirs(pillar_dir, exist_ok=True)
        with open(os.path.join(pillar_dir, "top.sls"), "w", encoding="utf-8") as handle:
            yaml.safe_dump({"base": {"*": ["topology"]}}, handle)
        with open(os.path.join(pillar_dir, "topology.sls"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(pillar, handle)
        os.makedirs(self.conf_dir, exist_ok=True)
        config = {
            "id": name,
            "root_dir": os.path.join(self.conf_dir, "root"),
            "file_client": "local",
            "file_roots": {"base": [os.path.join(ROOT, "salt")]},
            "pillar_roots": {"base": [pillar_dir]},
            "module_dirs": [ROOT],
            "log_file": self.log_file,
            "log_level_logfile": "debug",
            "user": "root",
            "grains": {"id": name},
            "enable_fqdns_grains": False,
            "hapair": faketree.minion_config(root, name),
        }
        with open(os.path.join(self.conf_dir, "minion"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(config, handle)
        self.outputs = []

    def call(self, *args, test=False, check=True):
        """Run ``salt-call --local`` and return the parsed ``local`` value."""
        argv = [SALT_CALL, "--local", "-c", self.conf_dir, "--out=json", "--log-level=quiet", *args]
        if test:
            argv.append("test=True")
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        self.outputs.append(proc.stdout + proc.stderr)
        if check and not proc.stdout.strip():
            raise AssertionError(f"salt-call gave no output (rc {proc.returncode}): {proc.stderr[-2000:]}")
        return json.loads(proc.stdout)["local"] if proc.stdout.strip() else None

    def state(self, fun, name="r0", test=False, **kwargs):
        """Run one drbd state with ``state.single`` and return its single result dict."""
        args = ["state.single", fun, f"name={name}", f"topology={TOPOLOGY}"]
        args += [f"{k}={v}" for k, v in kwargs.items()]
        out = self.call(*args, test=test)
        assert isinstance(out, dict), out
        (result,) = out.values()
        return result

    def write_config(self):
        """Write this node's rendered DRBD config straight from the core (no salt-call needed)."""
        import hapair.drbd_render as render  # noqa: PLC0415
        import hapair.topology as topology  # noqa: PLC0415

        conf = faketree.minion_config(self.root, self.name)
        paths = conf["paths"]
        topo = topology.load(self.pillar, TOPOLOGY)
        files = render.render(topo, self.name, "8.4", paths["drbd_conf"], paths["drbd_conf_dir"],
                              handler_path=paths["drbd_handler"])
        files.update(render.handler_files(paths["drbd_handler"], paths["state_dir"], conf["bin"]["salt_call"]))
        for path, spec in files.items():  # what drbd.write_config writes, handler script included
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(spec["content"])
            if path == paths["drbd_handler"]:
                os.chmod(path, int(spec["mode"], 8))

    def argv(self):
        return faketree.argv_log(self.root, self.name)

    def clear(self):
        faketree.clear_log(self.root, self.name)

    def log_text(self):
        if not os.path.exists(self.log_file):
            return ""
        with open(self.log_file, encoding="utf-8", errors="replace") as handle:
            return handle.read()


def new_cluster(root, pillar=None):
    """A fresh fake cluster at stage 01 (module loaded, nothing configured) with two nodes."""
    faketree.make_cluster(root)
    pillar = pillar or lab_web_pillar()
    return {"root": root, "node1": Node(root, "node1", pillar), "node2": Node(root, "node2", pillar)}
