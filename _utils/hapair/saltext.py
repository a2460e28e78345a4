"""Salt loader entry point: tells salt-call, master and minions where hapair's modules live.

``pyproject.toml`` registers :func:`loader_dirs` under the ``salt.loader`` entry point group, so a
``pip install .`` exposes the extension without ``saltutil.sync_all``. From a plain checkout
(``_utils`` on ``sys.path``, nothing installed) the folders next to ``_utils/`` are used.

The SLS tree (the ``hapair`` formula with its ``reactor/``, ``orch/hapair``) ships in the wheel as
``hapair/file_roots``; :func:`file_roots` finds it, and the command line prints it for the master's
config::

    python3 -m hapair.saltext file-roots      # the folder to add to file_roots
    python3 -m hapair.saltext master-config   # a master.d snippet: file_roots + hapair's reactor
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

_KINDS = {
    "modules": "hapair._modules",
    "states": "hapair._states",
    "grains": "hapair._grains",
    "runners": "hapair._runners",
    "beacons": "hapair._beacons",
    "pillar": "hapair._pillar",  # ext_pillar hapair_secrets: generated heartbeat authkeys
}


def _package_dir(package: str) -> str | None:
    try:
        mod = importlib.import_module(package)
    except ImportError:
        return None
    return os.path.dirname(os.path.abspath(mod.__file__))


def _checkout_dir(kind: str) -> str | None:
    """``<repo>/_<kind>`` when this file is ``<repo>/_utils/hapair/saltext.py`` (a plain checkout)."""
    utils = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.basename(utils) != "_utils":  # e.g. synced to <extmods>/utils/hapair: Salt finds those
        return None
    path = os.path.join(os.path.dirname(utils), f"_{kind}")
    return path if os.path.isdir(path) else None


def loader_dirs() -> dict[str, list[str]]:
    """Return ``{"modules": [dir], "states": [dir], ...}`` for Salt's loader.

    Each dir is the installed ``hapair._<kind>`` package, else ``<repo>/_<kind>`` of a checkout;
    kinds found neither way are left out.

    CLI Example:

    .. code-block:: bash

        python3 -c 'import hapair.saltext as s; print(s.loader_dirs())'
    """
    dirs = {}
    for kind, package in _KINDS.items():
        path = _package_dir(package) or _checkout_dir(kind)
        if path:
            dirs[kind] = [path]
    return dirs


FILE_ROOTS = "file_roots"  # the SLS tree's folder inside the installed ``hapair`` package
REACTOR = {"hapair/drbd/*": "salt://hapair/reactor/drbd.sls",
           "salt/minion/*/start": "salt://hapair/reactor/minion_start.sls"}


def file_roots() -> str | None:
    """The folder that serves hapair's SLS (``salt://hapair/...``, ``salt://orch/hapair/...``).

    The installed package's ``hapair/file_roots`` (a wheel), else ``<repo>/salt`` of a checkout
    (an editable install or ``_utils`` on ``sys.path``); ``None`` when neither is there.

    CLI Example:

    .. code-block:: bash

        python3 -m hapair.saltext file-roots
    """
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, FILE_ROOTS)
    if os.path.isfile(os.path.join(installed, "hapair", "map.jinja")):
        return installed
    utils = os.path.dirname(here)
    checkout = os.path.join(os.path.dirname(utils), "salt")
    if os.path.basename(utils) == "_utils" and os.path.isfile(os.path.join(checkout, "hapair", "map.jinja")):
        return checkout
    return None


def master_config(roots: str, base: Sequence[str] = ("/srv/salt",)) -> str:
    """A ``/etc/salt/master.d/hapair.conf`` for ``roots``: ``file_roots`` (``base`` first, then
    hapair's tree) and hapair's ``reactor:`` list, as YAML text (paths JSON-quoted).

    ``file_roots`` in a master.d file replaces the master's whole ``file_roots``: list every root
    the site serves in ``base``.

    >>> print(master_config("/x", base=()))  # doctest: +NORMALIZE_WHITESPACE
    file_roots:
      base:
        - "/x"
    reactor:
      - "hapair/drbd/*":
        - "salt://hapair/reactor/drbd.sls"
      - "salt/minion/*/start":
        - "salt://hapair/reactor/minion_start.sls"
    """
    import json  # noqa: PLC0415

    lines = ["file_roots:", "  base:"] + [f"    - {json.dumps(path)}" for path in (*base, roots)]
    lines.append("reactor:")
    for tag, sls in REACTOR.items():
        lines += [f"  - {json.dumps(tag)}:", f"    - {json.dumps(sls)}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m hapair.saltext file-roots|master-config|loader-dirs``: print what the master needs.

    CLI Example:

    .. code-block:: bash

        python3 -m hapair.saltext master-config --base /srv/salt > /etc/salt/master.d/hapair.conf
    """
    parser = argparse.ArgumentParser(prog="python3 -m hapair.saltext", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("file-roots", help="print the folder that serves salt://hapair and salt://orch/hapair")
    conf = sub.add_parser("master-config", help="print a master.d snippet: file_roots and hapair's reactor")
    conf.add_argument("--base", action="append", default=None, metavar="DIR",
                      help="a file_roots folder listed before hapair's (repeatable; default /srv/salt)")
    sub.add_parser("loader-dirs", help="print the loader folders the salt.loader entry point hands Salt")
    args = parser.parse_args(argv)
    if args.command == "loader-dirs":
        for kind, dirs in loader_dirs().items():
            print(f"{kind}: {dirs[0]}")
        return 0
    roots = file_roots()
    if roots is None:
        print("hapair: the SLS tree is not installed (no hapair/file_roots beside hapair.saltext)", file=sys.stderr)
        return 1
    if args.command == "file-roots":
        print(roots)
    else:
        print(master_config(roots, args.base if args.base is not None else ("/srv/salt",)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
