"""Salt loader entry point: tells salt-call, master and minions where hapair's modules live.

``setup.py`` registers :func:`loader_dirs` under the ``salt.loader`` entry point group, so a
``pip install .`` exposes the extension without ``saltutil.sync_all``.
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
}


def _package_dir(package: str) -> str | None:
    try:
        mod = importlib.import_module(package)
    except ImportError:
        return None
    return os.path.dirname(os.path.abspath(mod.__file__))


def loader_dirs() -> dict[str, list[str]]:
    """Return ``{"modules": [dir], "states": [dir], ...}`` for Salt's loader.

    CLI Example:

    .. code-block:: bash

        python3 -c 'import hapair.saltext as s; print(s.loader_dirs())'
    """
    dirs = {}
    for kind, package in _KINDS.items():
        path = _package_dir(package)
        if path:
            dirs[kind] = [path]
    return dirs
