"""Relay stdin/stdout to a TCP port on the host (a QEMU user-net ``guestfwd=...-cmd:`` helper).

QEMU spawns this once per guest connection with fds 0/1 bound to the guest's socket, e.g.
``guestfwd=tcp:10.0.2.100:4506-cmd:python3 relay.py 127.0.0.1 40123``. Stdlib only; silent
(stderr is the guest's socket too).
"""

import os
import selectors
import socket
import sys


def main() -> int:
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        sock = socket.create_connection((host, port), timeout=10)
    except OSError:
        return 1
    sock.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "in")
    sel.register(sock, selectors.EVENT_READ, "sock")
    while True:
        for key, _ in sel.select():
            if key.data == "in":
                data = os.read(0, 65536)
                if not data:
                    return 0
                sock.sendall(data)
            else:
                data = sock.recv(65536)
                if not data:
                    return 0
                view = memoryview(data)
                while view:
                    view = view[os.write(1, view):]


if __name__ == "__main__":
    sys.exit(main())
