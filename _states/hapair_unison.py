"""hapair_unison state: seed 001's two-way unison between the pair, configured.

.. code-block:: yaml

    hapair-unison-configured:
      hapair_unison.configured:
        - name: fileserver        # the topology; its unison: profiles

On a profile's client: ``/root/.unison/<profile>.prf`` (the seed's options), the nightly
``/etc/cron.d/hapair-unison-<topology>``, ``/etc/logrotate.d/hapair-unison-<topology>`` and the pair's
key (``/root/.ssh/hapair-unison-<topology>``, 0600); on its server the key in
``/root/.ssh/authorized_keys`` for ``unison -server`` only. Refused, writing nothing, when the key
did not reach the node (the ``hapair_secrets`` ext_pillar is named). Changes: ``{path: {"action",
"mode", "diff"}}``, the key file's diff always empty.
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.unison  # noqa: F401
except ImportError:  # synced by saltutil: <extmods>/states/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.unison  # noqa: F401

from hapair import adapter, converge
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_unison"


def __virtual__():
    return adapter.virtual_if_function(__salt__, __virtualname__, "hapair_unison.plan")


def _changes(files):
    return {path: {k: found[k] for k in ("action", "mode", "diff")} for path, found in files.items()}


def configured(name):
    """Ensure topology ``name``'s unison files are in place on this node.

    .. code-block:: yaml

        hapair-unison-configured:
          hapair_unison.configured:
            - name: fileserver
    """
    return converge.converge(
        name, None, lambda _facts: __salt__["hapair_unison.plan"](name),
        lambda _files: __salt__["hapair_unison.apply"](name), test=bool(__opts__.get("test")),
        done=f"the unison files of {name} are in place", changes=_changes,
        applied=lambda _files, done: _changes(done),
        would=lambda files: "would write " + ", ".join(sorted(files)),
        did=lambda _files, done: "wrote " + ", ".join(sorted(done)),
        errors=(CommandExecutionError, SaltInvocationError))
