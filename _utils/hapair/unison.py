"""Two-way unison sync between the pair (seed 001's rep-unison): the files, rendered; pure.

Seed 001 nominates one node the client: it holds ``~/.unison/<profile>.prf``, an ssh key of its own
authorised on the other node (the server), the nightly ``/etc/cron.d/unison`` entry and the
logrotate snippet of ``/var/log/unison.log``. hapair renders the same from the topology's
``unison`` section, with the seed's options::

    root = /vol/rep-unison/
    root = ssh://torchio//vol/rep-unison/
    sshargs = -i /root/.ssh/hapair-unison-fileserver -o BatchMode=yes -o StrictHostKeyChecking=accept-new
    owner = true
    group = true
    perms = -1
    times = true
    auto = true
    batch = true
    terse = true
    confirmbigdel = true
    fastcheck = true
    prefer = newer
    logfile = /var/log/unison.log

``confirmbigdel`` with ``batch``: when one replica has been emptied, unison aborts instead of
deleting everything on the other (proven with the real binary in tests/unit/test_unison.py).
The pair's key (ed25519) is made once by the ``hapair_secrets`` ext_pillar; on the server it is
authorised for ``unison -server`` only (``restrict,command=...``). Every value reaching a file
passed ``hapair.validate`` (and ``hapair.fields.require`` again here).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from hapair.errors import RenderError
from hapair.fields import require

#: seed 001's automation options, in the seed's order
OPTIONS = (("owner", "true"), ("group", "true"), ("perms", "-1"), ("times", "true"), ("auto", "true"),
           ("batch", "true"), ("terse", "true"), ("confirmbigdel", "true"), ("fastcheck", "true"),
           ("prefer", "newer"))
DEFAULTS: dict[str, Any] = {"schedule": "0 0 * * *", "logfile": "/var/log/unison.log", "rotate": 28}
PROFILE_KEYS = ("root", "client", "schedule", "logfile", "rotate")
KEY_FILE = "/root/.ssh/hapair-unison-{topology}"
AUTHORIZED_KEYS = "/root/.ssh/authorized_keys"
UNISON_DIR = "/root/.unison"
CRON_FILE = "/etc/cron.d/hapair-unison-{topology}"  # cron.d names: letters, digits, _ and - only
LOGROTATE_FILE = "/etc/logrotate.d/hapair-unison-{topology}"

_CRON_FIELD = re.compile(r"[0-9*][0-9*/,-]*")
_CRON_MACROS = ("@daily", "@hourly", "@weekly", "@monthly", "@midnight", "@reboot", "@yearly", "@annually")
_PUBLIC_KEY = re.compile(r"ssh-ed25519 [A-Za-z0-9+/]+={0,2}( [A-Za-z0-9_.@+-]+)?")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_schedule(value: Any) -> bool:
    """Five cron fields of digits and ``* / , -``, or a macro such as ``@daily``.

    >>> is_schedule("0 0 * * *"), is_schedule("@daily"), is_schedule("0 0 * * * root rm -rf /")
    (True, True, False)
    """
    if not isinstance(value, str) or "\n" in value:
        return False
    if value in _CRON_MACROS:
        return True
    fields = value.split(" ")
    return len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields)


def is_profile_name(value: Any) -> bool:
    """A profile name: ``[A-Za-z0-9][A-Za-z0-9_-]*`` (it names ``<name>.prf`` and a cron command word).

    >>> is_profile_name("vol-rep-unison"), is_profile_name("../x"), is_profile_name("a.b")
    (True, False, False)
    """
    return isinstance(value, str) and bool(_PROFILE_NAME.fullmatch(value))


def is_public_key(value: Any) -> bool:
    """One ``ssh-ed25519 <base64> [comment]`` line.

    >>> is_public_key("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB hapair-unison-t"), is_public_key("ssh-rsa AAAA")
    (True, False)
    """
    return isinstance(value, str) and bool(_PUBLIC_KEY.fullmatch(value))


def is_private_key(value: Any) -> bool:
    """An unencrypted OpenSSH private key block (``-----BEGIN OPENSSH PRIVATE KEY-----`` ... base64 ...).

    >>> is_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3Blbg==\\n-----END OPENSSH PRIVATE KEY-----\\n")
    True
    """
    if not isinstance(value, str):
        return False
    lines = value.strip("\n").split("\n")
    return (len(lines) >= 3 and lines[0] == "-----BEGIN OPENSSH PRIVATE KEY-----"
            and lines[-1] == "-----END OPENSSH PRIVATE KEY-----"
            and all(re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", line) for line in lines[1:-1]))


def key_secrets(private: str | None) -> list[str]:
    """What to mask for a private key: the whole block and each of its base64 lines (a diff is by line).

    >>> key_secrets("-----BEGIN OPENSSH PRIVATE KEY-----\\nAAAA\\n-----END OPENSSH PRIVATE KEY-----\\n")
    ['-----BEGIN OPENSSH PRIVATE KEY-----\\nAAAA\\n-----END OPENSSH PRIVATE KEY-----\\n', 'AAAA']
    """
    if not private:
        return []
    return [private, *[line for line in private.strip("\n").split("\n")[1:-1] if line]]


def key_path(topology: str) -> str:
    """The client's private key file: ``/root/.ssh/hapair-unison-<topology>``."""
    return KEY_FILE.format(topology=require("topology", topology, "topology name"))


def render_profile(profile: Mapping[str, Any], topology: str, *, local_root: str | None = None,
                   peer_root: str | None = None) -> str:
    """The ``<name>.prf`` of a normalised profile ``{name, root, server_host, logfile}``.

    ``local_root``/``peer_root`` replace the two roots (tests sync two local directories with the
    very options the nodes get).

    >>> print(render_profile({"name": "p", "root": "/vol/u", "server_host": "torchio", "logfile": "/var/log/u.log"},
    ...                      "t").splitlines()[1])
    root = /vol/u/
    """
    root = require("path", profile["root"], "root").rstrip("/") + "/"
    host = require("hostname", profile["server_host"], "server")
    first = require("path", local_root, "root") if local_root is not None else root
    second = require("path", peer_root, "root") if peer_root is not None else f"ssh://{host}/{root}"
    lines = [f"# hapair: unison profile {profile['name']} of topology {topology}; do not edit",
             f"root = {first}", f"root = {second}"]
    if peer_root is None:
        lines.append(f"sshargs = -i {key_path(topology)} -o BatchMode=yes -o StrictHostKeyChecking=accept-new")
    lines += [f"{key} = {value}" for key, value in OPTIONS]
    lines.append(f"logfile = {require('path', profile['logfile'], 'logfile')}")
    return "\n".join(lines) + "\n"


def render_cron(profiles: Mapping[str, Mapping[str, Any]], topology: str, unison: str = "/usr/bin/unison") -> str:
    """``/etc/cron.d/hapair-unison-<topology>``: one line per profile, as root (seed: ``0 0 * * *``).

    >>> print(render_cron({"p": {"name": "p", "schedule": "0 0 * * *"}}, "t"), end="")
    # hapair: unison of topology t; do not edit
    SHELL=/bin/sh
    PATH=/usr/sbin:/usr/bin:/sbin:/bin
    0 0 * * * root /usr/bin/unison p
    """
    lines = [f"# hapair: unison of topology {topology}; do not edit", "SHELL=/bin/sh",
             "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    for name, profile in sorted(profiles.items()):
        if not is_schedule(profile["schedule"]) or not is_profile_name(name):
            raise RenderError(f"unison profile {name!r}: schedule or name refused")
        lines.append(f"{profile['schedule']} root {require('path', unison, 'unison binary')} {name}")
    return "\n".join(lines) + "\n"


def render_logrotate(profiles: Mapping[str, Mapping[str, Any]], topology: str) -> str:
    """``/etc/logrotate.d/hapair-unison-<topology>``: each log daily, compressed, ``rotate`` kept.

    >>> print(render_logrotate({"p": {"logfile": "/var/log/unison.log", "rotate": 28}}, "t"), end="")
    # hapair: unison of topology t; do not edit
    /var/log/unison.log {
        daily
        compress
        rotate 28
        missingok
    }
    """
    lines = [f"# hapair: unison of topology {topology}; do not edit"]
    seen: dict[str, int] = {}
    for _name, profile in sorted(profiles.items()):
        seen.setdefault(require("path", profile["logfile"], "logfile"), int(profile["rotate"]))
    for logfile, rotate in sorted(seen.items()):
        lines += [f"{logfile} {{", "    daily", "    compress", f"    rotate {rotate}", "    missingok", "}"]
    return "\n".join(lines) + "\n"


def authorized_line(public: str, topology: str, unison: str = "/usr/bin/unison") -> str:
    """The server's ``authorized_keys`` line: the pair's key, for ``unison -server`` only.

    >>> authorized_line("ssh-ed25519 AAAAC3Nz", "t")
    'restrict,command="/usr/bin/unison -server" ssh-ed25519 AAAAC3Nz hapair-unison-t'
    """
    if not is_public_key(public):
        raise RenderError("unison:ssh_key:public: not one ssh-ed25519 key line")
    words = public.split(" ")
    return f'restrict,command="{require("path", unison, "unison binary")} -server" {words[0]} {words[1]} ' \
           f"hapair-unison-{require('topology', topology, 'topology name')}"


def merge_authorized(text: str | None, line: str, topology: str) -> str:
    """``authorized_keys`` with hapair's line for ``topology`` replaced (or appended), others kept.

    >>> merge_authorized("ssh-rsa K me\\nold hapair-unison-t\\n", "new hapair-unison-t", "t")
    'ssh-rsa K me\\nnew hapair-unison-t\\n'
    """
    marker = f" hapair-unison-{topology}"
    kept = [row for row in (text or "").splitlines() if not row.endswith(marker)]
    return "\n".join([*kept, line]) + "\n"


def render(topology: Mapping[str, Any], node: str, *, unison_dir: str = UNISON_DIR,
           authorized: str | None = None, unison: str = "/usr/bin/unison") -> dict[str, dict[str, Any]]:
    """The files of ``node`` for the topology's ``unison`` section: ``{path: {"content", "mode"}}``.

    The client gets its profiles, the cron entry, the logrotate snippet and the private and public
    key; the server its ``authorized_keys`` (``authorized``: the current text, merged). A side
    without its key gets none of the key files (``missing_key`` says why).
    """
    section = topology.get("unison")
    if not section:
        return {}
    name = topology["name"]
    key = section.get("ssh_key") or {}
    files: dict[str, dict[str, Any]] = {}
    mine = {p: spec for p, spec in section["profiles"].items() if spec["client"] == node}
    served = [p for p, spec in section["profiles"].items() if spec["server"] == node]
    if mine:
        for pname, spec in sorted(mine.items()):
            files[f"{unison_dir}/{pname}.prf"] = {"content": render_profile(spec, name), "mode": "0644"}
        files[CRON_FILE.format(topology=name)] = {"content": render_cron(mine, name, unison), "mode": "0644"}
        files[LOGROTATE_FILE.format(topology=name)] = {"content": render_logrotate(mine, name), "mode": "0644"}
        if key.get("private") and key.get("public"):
            files[key_path(name)] = {"content": key["private"], "mode": "0600"}
            files[key_path(name) + ".pub"] = {"content": key["public"].rstrip("\n") + "\n", "mode": "0644"}
    if served and key.get("public"):
        files[AUTHORIZED_KEYS] = {"content": merge_authorized(authorized, authorized_line(key["public"], name, unison),
                                                              name), "mode": "0600"}
    return files


def missing_key(topology: Mapping[str, Any], node: str) -> str | None:
    """Why ``node`` cannot get its unison key files (the pillar path and the ext_pillar), or None."""
    section = topology.get("unison")
    if not section:
        return None
    key = section.get("ssh_key") or {}
    client = any(spec["client"] == node for spec in section["profiles"].values())
    server = any(spec["server"] == node for spec in section["profiles"].values())
    need = ["private", "public"] if client else ["public"] if server else []
    absent = [part for part in need if not key.get(part)]
    if not absent:
        return None
    return (f"{topology['path']}:unison:ssh_key:{'/'.join(absent)} did not reach {node}: add "
            "`ext_pillar: [{hapair_secrets: {}}]` to the master config (it makes the pair's key once) and "
            "refresh the pillar, or set the key in the pillar")


#: the ext_pillar's store: ``<cachedir>/hapair/secrets/<topology>/unison-ed25519`` (the private key;
#: the public key is derived from it on every read, so the pair can never be half-written)
KEY_STORE_FILE = "unison-ed25519"


def key_receivers(raw: Any, minion_id: str) -> str | None:
    """What of the pair's generated unison key ``minion_id`` gets for a *raw* (unvalidated) topology:
    ``"private"`` (a client of a profile: the private and the public key), ``"public"`` (a server
    only), or None (not a node, no ``unison`` section, or a key set in the pillar). Any shape tolerated.

    >>> raw = {"nodes": {"a": {}, "b": {"minion_id": "mb"}}, "unison": {"profiles": {"p": {"root": "/v"}}}}
    >>> key_receivers(raw, "a"), key_receivers(raw, "mb"), key_receivers(raw, "c")
    ('private', 'public', None)
    """
    if not isinstance(raw, Mapping):
        return None
    section, nodes = raw.get("unison"), raw.get("nodes")
    if not isinstance(section, Mapping) or not isinstance(nodes, Mapping) or not nodes:
        return None
    key = section.get("ssh_key")
    if isinstance(key, Mapping) and (key.get("private") is not None or key.get("public") is not None):
        return None  # the pillar's own key wins, whole: never mix a generated half in
    minions = {name: (spec.get("minion_id", name) if isinstance(spec, Mapping) else name) for name, spec in nodes.items()}
    me = [name for name, mid in minions.items() if mid == minion_id]
    if not me:
        return None
    profiles = section.get("profiles")
    first = next(iter(nodes))
    clients = {spec.get("client", first) if isinstance(spec, Mapping) else first
               for spec in (profiles.values() if isinstance(profiles, Mapping) else [])}
    return "private" if me[0] in clients else "public"


def key_pillar(keys: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The ext_pillar's unison part: ``hapair:topologies:<t>:unison:ssh_key: {public[, private]}``.

    >>> key_pillar({"t": {"public": "ssh-ed25519 AAAA"}})
    {'hapair': {'topologies': {'t': {'unison': {'ssh_key': {'public': 'ssh-ed25519 AAAA'}}}}}}
    """
    if not keys:
        return {}
    return {"hapair": {"topologies": {name: {"unison": {"ssh_key": dict(key)}} for name, key in sorted(keys.items())}}}
