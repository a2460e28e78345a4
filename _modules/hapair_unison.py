"""Two-way unison sync of the pair (seed 001's rep-unison): the profile, cron entry, logrotate
snippet and the pair's ssh key on the client, the key authorised for ``unison -server`` on the
server, written through hapair's one render-diff-write helper (``hapair.adapter.install_file``).

Everything comes from ``hapair.unison.render`` (pure); the key from the ``hapair_secrets``
ext_pillar. No function returns a file's content: the private key is never in a return, a log
line or a diff (masked as a topology secret). Config: ``hapair:bin:unison`` (``/usr/bin/unison``),
``hapair:paths:unison_dir`` (``/root/.unison``), ``hapair:paths:unison_prefix`` (``""``: a root
every path is written under, for tests and images).
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.unison as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.unison as core

from hapair import adapter
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError

__virtualname__ = "hapair_unison"


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "unison", "unison")


def _prefix():
    return __salt__["config.get"]("hapair:paths:unison_prefix", "")


def _files(topology):
    """``(files {real path: {content, mode}}, secrets)`` of this node; raises when its key is missing."""
    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology)
    if not topo.get("unison"):
        return {}, topo["secrets"]
    missing = core.missing_key(topo, node)
    if missing:
        raise CommandExecutionError(missing)
    prefix = _prefix()
    authorized = adapter.read_file(prefix + core.AUTHORIZED_KEYS)
    try:
        files = core.render(topo, node, unison_dir=__salt__["config.get"]("hapair:paths:unison_dir", core.UNISON_DIR),
                            authorized=authorized, unison=adapter.binary(__salt__, "unison", "/usr/bin/unison"))
    except HapairError as err:
        raise CommandExecutionError(str(err)) from err
    return {prefix + path: spec for path, spec in files.items()}, topo["secrets"]


def plan(topology):
    """The unison files of this node that differ from what hapair renders: ``{path: {"action",
    "mode", "old_mode", "diff" (secrets masked)}}`` (``{}``: all in place). Never the content.

    CLI Example:

    .. code-block:: bash

        salt torchio hapair_unison.plan fileserver
    """
    files, secrets = _files(topology)
    out = {}
    for path, spec in sorted(files.items()):
        found = adapter.plan_file(path, spec["content"], spec["mode"], secrets=secrets)
        if found["changed"]:
            out[path] = found
    return out


def apply(topology):
    """Write this node's unison files where they differ; returns what ``plan`` returned.

    ``~/.ssh`` is made 0700 when missing; the private key is written 0600 (mode set before content).

    CLI Example:

    .. code-block:: bash

        salt torchio hapair_unison.apply fileserver
    """
    files, secrets = _files(topology)
    done = {}
    for path, spec in sorted(files.items()):
        if os.path.basename(os.path.dirname(path)) == ".ssh":
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        found = adapter.install_file(path, spec["content"], spec["mode"], secrets=secrets)
        if found["changed"]:
            done[path] = found
    return done
