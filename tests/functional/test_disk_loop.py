"""hapair_disk on a real loop device: the execution module and state with the real parted, sfdisk,
lsblk and wipefs (root only). ``cmd.run_all`` is a plain subprocess runner: what runs is the tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fakebin", "cman"))
import fakesalt  # noqa: E402

TOOLS = ("losetup", "parted", "sfdisk", "lsblk", "wipefs", "mkfs.ext4")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in TOOLS),
    reason="needs root and " + ", ".join(TOOLS) + " (loop devices)")


def run_all(argv, **kwargs):
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=kwargs.get("timeout", 60), check=False)
    return {"retcode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


@pytest.fixture
def loop(tmp_path):
    image = tmp_path / "disk.img"
    with open(image, "wb") as handle:
        handle.truncate(64 * 2**20)
    try:
        device = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True,
                                check=True).stdout.strip()
    except subprocess.CalledProcessError as err:
        pytest.skip(f"no loop device here: {err.stderr.strip()}")
    yield device
    subprocess.run(["losetup", "-d", device], check=False)


def topology(device: str) -> dict:
    return {"hapair": {"topologies": {"t": {
        "nodes": {"n1": {"address": "10.0.0.1"}, "n2": {"address": "10.0.0.2"}},
        "drbd": {"resources": {"r0": {"minor": 0, "port": 7788, "disk": device}}},
        "partitions": {device: {"table": "gpt"}}}}}}


def state_for(device: str):
    salt = fakesalt.salt_dict(run_all, {})
    pillar = topology(device)
    mod = fakesalt.load("modules", "hapair_disk", salt, pillar=pillar, opts={"id": "n1"})
    salt.update({f"hapair_disk.{fn}": getattr(mod, fn) for fn in ("facts", "plan", "apply")})
    return mod, fakesalt.load("states", "hapair_disk", salt, pillar=pillar, opts={"id": "n1", "test": False})


def test_a_blank_loop_disk_is_partitioned_once(loop):
    mod, state = state_for(loop)
    state.__opts__["test"] = True
    dry = state.partitioned("t")
    assert dry["result"] is None and dry["changes"] == {"partitioned": {loop: {"old": "blank", "new": f"gpt: {loop}p1"}}}
    assert mod.disk_facts(loop)["table"] is None  # test=True wrote nothing
    state.__opts__["test"] = False
    done = state.partitioned("t")
    assert done["result"] is True and done["changes"] == dry["changes"], done
    table = mod.disk_facts(loop)["table"]
    assert table["label"] == "gpt" and [(p["node"], p["start"]) for p in table["partitions"]] == [(f"{loop}p1", 2048)]
    again = state.partitioned("t")
    assert again["result"] is True and again["changes"] == {}, again


def test_a_loop_disk_with_a_filesystem_is_refused_then_overwritten_on_request(loop):
    subprocess.run(["mkfs.ext4", "-q", loop], check=True)
    mod, state = state_for(loop)
    ret = state.partitioned("t")
    assert ret["result"] is False and f"refusing on {loop}" in ret["comment"] and "overwrite=True" in ret["comment"]
    assert mod.disk_facts(loop)["signatures"][0]["type"] == "ext4"  # untouched
    ret = state.partitioned("t", overwrite=True)
    assert ret["result"] is True, ret
    assert [s["type"] for s in mod.disk_facts(loop)["signatures"]] == ["gpt", "gpt", "PMBR"]
