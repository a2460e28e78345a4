"""hapair's secrets ext_pillar: a heartbeat authkeys key and a unison ssh key (ed25519) generated
once per pair, kept on the master.

Master config::

    ext_pillar:
      - hapair_secrets: {}

(then ``salt-run saltutil.sync_pillar`` and ``salt-run saltutil.sync_utils`` on the master, or
hapair installed with pip there, and ``saltutil.refresh_pillar`` on the nodes). For each topology
of the compiled pillar whose ``cluster:heartbeat:authkeys`` uses ``md5``/``sha1`` without a
``key``, and only for a minion that is one of its nodes (``minion_id``, else the node's name), it
returns::

    hapair:
      topologies:
        <topology>:
          cluster: {heartbeat: {authkeys: {key: <64 hex digits>}}}

The key is made once (``secrets.token_hex(32)``) and kept in
``<cachedir>/hapair/secrets/<topology>/heartbeat-authkey`` (directories 0700, the file 0600):
written complete to a temporary file opened with ``O_EXCL``, then published with ``link()``,
which fails when the file exists, so two minions compiling at once both read the one key that
won and nobody reads a half-written file. Other minions get nothing. The key is never logged;
an unreadable or damaged store is logged (its path, never its content) and the topology gets
no key, so ``heartbeat.configured`` refuses naming the pillar path and this ext_pillar. A key
set in the pillar always wins (nothing is generated then). Rotating: remove the file; the next
pillar refresh of both nodes brings a new key (``heartbeat.configured``, then restart heartbeat
on both nodes, which hands the groups over).

The same for a topology with a ``unison`` section and no ``unison:ssh_key``: an ed25519 key pair
made once (``cryptography``), its private key (OpenSSH format) stored the same way in
``<cachedir>/hapair/secrets/<topology>/unison-ed25519`` (0600), the public key derived from it on
each read. A profile's client node gets ``unison:ssh_key: {private, public}``, the server node
``{public}`` only (authorised there for ``unison -server``), other minions nothing. The private key
is never logged, returned or diffed (a topology secret, each of its lines masked).
"""

from __future__ import annotations

import logging
import os
import secrets

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running master
    import hapair.heartbeat as core
except ImportError:  # synced by saltutil: <extmods>/pillar/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.heartbeat as core

from hapair import fields
from hapair import topology as topology_mod
from hapair import unison as unison_core

log = logging.getLogger(__name__)

__virtualname__ = "hapair_secrets"


def __virtual__():
    return __virtualname__


def _directory(cachedir, topology):
    """``<cachedir>/hapair/secrets/<topology>``, made 0700 (``hapair`` itself only when it is new)."""
    path = os.path.join(cachedir, core.SECRETS_DIR[0])
    os.makedirs(path, mode=0o700, exist_ok=True)
    for part in (*core.SECRETS_DIR[1:], topology):
        path = os.path.join(path, part)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        if os.path.islink(path) or not os.path.isdir(path):
            raise OSError(f"{path} is not a directory")
        os.chmod(path, 0o700)
    return path


def _read(path):
    """The stored key; ValueError (naming the path, never the content) when it is not one we made."""
    with open(path, encoding="ascii", errors="replace") as handle:
        key = handle.read().strip()
    if not core.is_generated_key(key):
        raise ValueError(f"{path} does not hold a generated key ({2 * core.AUTHKEY_BYTES} hex digits): "
                         "remove it to generate a new one")
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return key


def _publish(directory, name, make):
    """Write ``make()`` to ``directory``/``name`` once: a complete 0600 temporary file opened with
    O_EXCL, published with ``link()`` (fails when another compile published first: its file wins)."""
    path = os.path.join(directory, name)
    if os.path.exists(path):
        return path
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic, and fails when another compile published its key first
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return path


def stored_key(directory):
    """The key in ``directory``/heartbeat-authkey, made on first use; the same for every caller."""
    return _read(_publish(directory, core.AUTHKEY_FILE, lambda: secrets.token_hex(core.AUTHKEY_BYTES) + "\n"))


def _new_ed25519():
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415 - only when a key is made
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode("ascii")


def stored_unison_key(directory, topology):
    """``{"private", "public"}``: the pair's unison key in ``directory``/unison-ed25519, made on
    first use; ValueError naming the path (never the content) when the file is not such a key."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    path = _publish(directory, unison_core.KEY_STORE_FILE, _new_ed25519)
    with open(path, encoding="ascii", errors="replace") as handle:
        private = handle.read()
    if not unison_core.is_private_key(private):
        raise ValueError(f"{path} does not hold a generated OpenSSH key: remove it to generate a new one")
    try:
        key = serialization.load_ssh_private_key(private.encode("ascii"), password=None)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode("ascii")
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"{path} does not hold an unencrypted ed25519 key: remove it to generate a new one") from None
    if not public.startswith("ssh-ed25519 "):
        raise ValueError(f"{path} is not an ed25519 key: remove it to generate a new one")
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
    return {"private": private, "public": f"{public} hapair-unison-{topology}"}


def _merge(into, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def ext_pillar(minion_id, pillar, *args, **kwargs):
    """The generated heartbeat authkeys keys and unison ssh keys of the topologies ``minion_id`` is
    a node of (the unison private key for a profile's client only).

    ``{}`` for any other minion, and for topologies with a key (or method crc) in the pillar.

    CLI Example:

    .. code-block:: bash

        salt node1 pillar.get hapair:topologies:lab_apache:cluster:heartbeat:authkeys:key
    """
    keys = {}
    for name in core.generated_keys_for(topology_mod.topologies(pillar), minion_id):
        try:
            keys[name] = stored_key(_directory(__opts__["cachedir"], name))
        except (OSError, ValueError) as err:  # messages name paths only: the key is never in them
            log.error("hapair_secrets: no heartbeat authkeys key for topology %s (minion %s): %s",
                      name, minion_id, err)
    unison_keys = {}
    for name, raw in sorted(topology_mod.topologies(pillar).items()):
        share = unison_core.key_receivers(raw, minion_id) if isinstance(name, str) and fields.is_name(name) else None
        if share is None:
            continue
        try:
            pair = stored_unison_key(_directory(__opts__["cachedir"], name), name)
        except (OSError, ValueError, ImportError) as err:  # paths only: the key is never in the message
            log.error("hapair_secrets: no unison key for topology %s (minion %s): %s", name, minion_id, err)
            continue
        unison_keys[name] = pair if share == "private" else {"public": pair["public"]}
    return _merge(core.key_pillar(keys), unison_core.key_pillar(unison_keys))
