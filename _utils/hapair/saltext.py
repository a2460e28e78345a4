"""Salt loader entry point: tells salt-call, master and minions where hapair's modules live.

``setup.py`` registers :func:`loader_dirs` under the ``salt.loader`` entry point group, so a
``pip install .`` exposes the extension without ``saltutil.sync_all``. From a plain checkout
(``_utils`` on ``sys.path``, nothing installed) the folders next to ``_utils/`` are used.
"""

from __future__ import annotations

import importlib
import os

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
