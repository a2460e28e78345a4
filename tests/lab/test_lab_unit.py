"""Fast checks of the lab's host-side pieces (no VM, no root): the guestfwd relay and the CLI."""

import os
import socket
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_relay_carries_bytes_both_ways_between_stdio_and_tcp():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    got = []

    def serve():
        conn, _ = server.accept()
        with conn:
            data = b""
            while not data.endswith(b"\n"):
                data += conn.recv(100)
            got.append(data)
            conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    guest, qemu_side = socket.socketpair()  # QEMU hands the relay one socket as fds 0 and 1
    proc = subprocess.Popen([sys.executable, "-S", os.path.join(ROOT, "lab", "relay.py"), "127.0.0.1",
                             str(server.getsockname()[1])], stdin=qemu_side, stdout=qemu_side)
    qemu_side.close()
    guest.sendall(b"minion hello\n")
    guest.settimeout(10)
    reply = b""
    while not reply.endswith(b"\n"):
        reply += guest.recv(100)
    guest.close()
    assert proc.wait(timeout=10) == 0
    thread.join(5)
    server.close()
    assert got == [b"minion hello\n"]
    assert reply == b"MINION HELLO\n"


def test_salt_subcommands_pass_options_through(monkeypatch):
    sys.path.insert(0, ROOT)
    import lab.cli as cli

    seen = []
    monkeypatch.setattr(cli, "cmd_salt", lambda args, tool: seen.append((tool, args.args)) or 0)
    assert cli.main(["salt", "-L", "node1,node2", "--out=json", "test.ping"]) == 0
    assert cli.main(["salt-run", "jobs.list_jobs"]) == 0
    assert seen == [("salt", ["-L", "node1,node2", "--out=json", "test.ping"]), ("salt-run", ["jobs.list_jobs"])]


def test_data_disk_sizes_default_one_for_both_or_one_each():
    sys.path.insert(0, ROOT)
    import pytest

    from lab.config import LabError
    from lab.vm import data_disk_sizes

    assert data_disk_sizes(None) == {"vdb": "256M", "vdc": "3G"}
    assert data_disk_sizes("1G") == {"vdb": "1G", "vdc": "1G"}
    assert data_disk_sizes("128M, 4G") == {"vdb": "128M", "vdc": "4G"}
    for bad in ("1G,2G,3G", "1G,", "lots"):
        with pytest.raises((LabError, ValueError, KeyError)):
            data_disk_sizes(bad)


def test_ssh_goes_through_one_multiplexed_connection_per_node(tmp_path):
    sys.path.insert(0, ROOT)
    from lab.vm import Lab

    lab = Lab(rundir=str(tmp_path))
    lab.state = {"image": "0" * 16, "nodes": {"node1": {"ssh_port": 2201}, "node2": {"ssh_port": 2202}}}
    argv = lab.ssh_argv("node1")
    assert f"ControlPath={tmp_path}/node1.ssh" in argv and "ControlMaster=auto" in argv
    assert lab.control_path("node1") != lab.control_path("node2")
    # a unix socket path must fit sun_path (108 bytes) for the lab's real run dirs
    real = os.path.join(os.path.expanduser("~"), ".cache", "hapair", "lab", "run-pytest-4194304", "node1.ssh")
    assert len(real) < 108
    lab.close_ssh("node1")  # no connection yet: nothing to close, no error


def test_two_replication_links_each_with_its_own_address_and_cable():
    from lab import image
    from lab.config import LINKS, NODES, LabError
    from lab.vm import Lab

    assert LINKS == ("repl", "repl2")
    for name, spec in NODES.items():
        for i, link in enumerate(LINKS):
            text = image.GUEST_FILES[f"etc/systemd/network/{20 + i}-{link}-{name}.network"]
            assert f"MACAddress={spec[link + '_mac']}" in text and f"Address={spec[link + '_address']}/24" in text
    assert len({spec[f"{link}_address"] for spec in NODES.values() for link in LINKS}) == 4

    lab = Lab.__new__(Lab)
    sent = []
    lab.monitor = lambda name, command: sent.append((name, command))
    lab.cut_link(["node2"], link="repl2")
    lab.restore_link(link="repl")
    assert sent == [("node2", "set_link repl2 off"), ("node1", "set_link repl on"), ("node2", "set_link repl on")]
    with pytest.raises(LabError, match="no link 'eth1'"):
        lab.cut_link(link="eth1")
