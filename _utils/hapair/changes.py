"""Classify every change to a running pair, and the ordered steps each class needs (Salt-free).

A pillar change reaches a live pair as new config files. What applying them does depends on the
option, not on the file: ``drbdadm adjust`` changes some options in place, disconnects and
reconnects for others, detaches the disk for others; o2cb and corosync read their files only when
the stack starts. This module says which, for every difference, so that no state applies a
disruptive change one node at a time (issue 18: two Primaries that disconnect are a split brain in
the making).

The classes, mildest first (:data:`CLASSES`):

``online``
    ``drbdadm adjust`` applies it in place (``disk-options``, ``net-options``,
    ``resource-options``), or nothing runs it at all (handlers, startup, global): applied as today.
``reconnect``
    the resource disconnects and connects again, or both nodes must change together: addresses and
    ports (adjust runs ``disconnect`` + ``connect``), protocol, cram-hmac-alg and shared-secret
    (the handshake checks them: a node changed alone cannot reconnect after any link drop), and
    allow-two-primaries turned off (the kernel refuses it while both are Primary).
``down``
    the resource goes down or loses its disk: disk, meta-disk, device, minor, node-id (adjust runs
    ``detach``/``attach`` or ``del-minor``/``new-minor``), ``size``/``max-bio-bvecs``, a resource
    removed; and a filesystem's mountpoint or mount options (unmount, mount again).
``cluster-offline``
    the cluster stack must go offline on both nodes: o2cb's cluster.conf (node names, numbers,
    addresses, ports, cluster name) and /etc/default/o2cb (boot cluster, timeouts: o2net refuses a
    peer whose timeouts differ); corosync's cluster name, transport, crypto, nodelist and quorum.
``reformat``
    only a new filesystem would carry it (type, mkfs options, label, slots, a GFS2 lock table or an
    OCFS2 cluster name recorded at mkfs): never done by hapair.

Sources for the DRBD classes: drbd-utils' ``user/v84/drbdadm_adjust.c`` (``adm_adjust``: only a
changed address (``addr_equal``) schedules ``disconnect`` + ``connect``; other net options go by
``net-options``; ``compare_volume``: a changed minor or disk/meta-disk means ``detach`` +
``attach``, ``size`` a ``resize``, ``max-bio-bvecs`` a re-attach; other disk options
``disk-options``; ``resource-options`` for the options section), the DRBD 8.4/9 kernel's
``_check_net_options`` (``ERR_NEED_ALLOW_TWO_PRI``: "Can not clear allow_two_primaries as long as
there a primaries on both sides"; ``ERR_NOT_PROTO_C``: two primaries need protocol C), drbdadm(8)
(``-d``: "Just prints the calls of drbdsetup to stdout"), and the real dry runs in
``tests/fixtures/drbd_adjust`` (drbdadm-84 of drbd-utils 9.22.0 against a lab capture). DRBD 9's
``user/v9/adjust.c`` follows the same split (paths instead of addresses); not captured here yet.

A change: ``{"scope": "drbd"|"o2cb"|"corosync"|"filesystem", "what": "r0"|"common"|"cluster"|fs,
"key": "net:protocol", "old": str|None, "new": str|None, "class": "online"..., "why": str}``;
shared-secret values are always ``"********"``.

>>> old = 'resource r0 {\\n net { protocol C; }\\n on a { address ipv4 10.0.0.1:7789; } }'
>>> [(c["key"], c["class"]) for c in classify_drbd([old], [old.replace("10.0.0.1", "10.9.0.1")])]
[('on a:address', 'reconnect')]
"""

from __future__ import annotations

import re
import shlex
from typing import Any, Iterable, Mapping, Sequence

from hapair import corosync as corosync_mod
from hapair import drbd_render
from hapair import o2cb as o2cb_mod
from hapair.drbd_parse import config_walk
from hapair.errors import HapairError, ParseError, RefusedError
from hapair.secrets import mask

ONLINE, RECONNECT, DOWN, CLUSTER_OFFLINE, REFORMAT = "online", "reconnect", "down", "cluster-offline", "reformat"
#: Every class, mildest first.
CLASSES = (ONLINE, RECONNECT, DOWN, CLUSTER_OFFLINE, REFORMAT)
#: The classes a state refuses on a resource in use (mounted, or Primary on both nodes).
DISRUPTIVE = (RECONNECT, DOWN, CLUSTER_OFFLINE)
MASK = "********"
SECRET_KEYS = ("shared-secret",)
#: The override every refusal names.
RUNNER = "salt-run hapair.reconfigure {topology}"

Change = dict[str, Any]

# --------------------------------------------------------------------------- DRBD options
#: net options the handshake compares or authenticates with: both nodes change together.
NET_TOGETHER = {
    "protocol": "the peers compare the protocol at the handshake (and two primaries need protocol C)",
    "cram-hmac-alg": "the peers authenticate with it at every connect: a node changed alone cannot reconnect",
    "shared-secret": "the peers authenticate with it at every connect: a node changed alone cannot reconnect",
    "transport": "DRBD 9's transport is chosen when the connection is made",
}
#: disk options adjust cannot change on an attached disk (drbdadm_adjust.c compare_size/compare_max_bio_bvecs).
DISK_REATTACH = {
    "size": "adjust runs resize (a smaller size cuts the device)",
    "max-bio-bvecs": "adjust detaches and re-attaches the disk",
}
#: statements of an ``on HOST``/``volume`` section, and what changing them does.
HOST_KEYS = {
    "address": (RECONNECT, "adjust disconnects the old endpoints and connects the new (drbdadm_adjust.c addr_equal)"),
    "device": (DOWN, "adjust runs del-minor/new-minor: the device goes away under its users"),
    "minor": (DOWN, "adjust runs del-minor/new-minor: the device goes away under its users"),
    "disk": (DOWN, "adjust detaches and attaches: a new disk needs metadata and a full resync"),
    "meta-disk": (DOWN, "adjust detaches and attaches the disk with the new metadata"),
    "flexible-meta-disk": (DOWN, "adjust detaches and attaches the disk with the new metadata"),
    "node-id": (DOWN, "DRBD 9 node ids are fixed while the resource is up"),
}
SECTIONS_ONLINE = {
    "options": "adjust runs resource-options",
    "startup": "read only by drbdadm at boot (wait-connect, become-primary-on): nothing runs",
    "handlers": "read by drbdadm when the kernel calls a handler: nothing runs",
    "global": "read by drbdadm only: nothing runs",
}


def config_options(text: str, tool: str = "drbd config") -> dict[str, str]:
    """Flatten DRBD config text into ``{"<top>|<section:...:option>": value}``.

    ``<top>`` is ``resource NAME``, ``common`` or ``global``; inner section headers are joined with
    ``:`` (``on node1:address``, ``net:protocol``, ``on a:volume 0:disk``); a value is the words
    after the option (``ipv4 10.0.0.1:7789``, ``/dev/drbd0 minor 0``), ``yes`` for a bare flag.
    Top-level statements (``include``) are left out. ParseError on malformed text.

    >>> config_options('resource r0 { net { allow-two-primaries; } on a { device /dev/drbd0 minor 0; } }')
    {'resource r0|net:allow-two-primaries': 'yes', 'resource r0|on a:device': '/dev/drbd0 minor 0'}
    """
    out: dict[str, str] = {}
    for kind, _no, _line, stack, words in config_walk(tool, text):
        if kind != "statement" or not stack:
            continue
        top = " ".join(stack[0])
        inner = [" ".join(h) for h in stack[1:]]
        out[f"{top}|{':'.join([*inner, words[0]])}"] = " ".join(words[1:]) or "yes"
    return out


def _bool(value: str | None) -> bool:
    return value not in (None, "no", "false", "0")


def classify_drbd_key(key: str, old: str | None, new: str | None) -> tuple[str, str]:
    """``(class, why)`` of one changed option (``key`` as :func:`config_options` names it, without
    its top). ``None`` is "not set". Unknown sections are ``down`` (never guessed online).

    >>> classify_drbd_key("disk:resync-rate", "10M", "40M")[0], classify_drbd_key("on a:disk", "/dev/vdb", "/dev/vdc")[0]
    ('online', 'down')
    >>> classify_drbd_key("net:allow-two-primaries", "yes", None)[0], classify_drbd_key("net:allow-two-primaries", None, "yes")[0]
    ('reconnect', 'online')
    """
    parts = key.split(":")
    option, sections = parts[-1], parts[:-1]
    section = sections[-1].split()[0] if sections else ""
    if section == "net":
        if option in NET_TOGETHER:
            return RECONNECT, NET_TOGETHER[option]
        if option == "allow-two-primaries" and _bool(old) and not _bool(new):
            return RECONNECT, ("the kernel refuses to clear allow-two-primaries while both nodes are Primary "
                               "(ERR_NEED_ALLOW_TWO_PRI): one node must demote first")
        return ONLINE, "adjust runs net-options on the live connection"
    if section == "disk":
        if option in DISK_REATTACH:
            return DOWN, DISK_REATTACH[option]
        return ONLINE, "adjust runs disk-options on the attached disk"
    if section in SECTIONS_ONLINE:
        return ONLINE, SECTIONS_ONLINE[section]
    if section in ("on", "volume", "") or not sections:
        if option in HOST_KEYS:
            return HOST_KEYS[option]
        return DOWN, f"{option} of a host or volume: not known to be changeable while up"
    if section == "connection-mesh" or section == "connection":
        return RECONNECT, "the connections are made again"
    return DOWN, f"section {section!r}: not known to be changeable while up"


def _shown(key: str, value: str | None, secrets: Sequence[str]) -> str | None:
    if value is None:
        return None
    if key.split(":")[-1] in SECRET_KEYS:
        return MASK
    return mask(value, list(secrets))


def change(scope: str, what: str, key: str, old: Any, new: Any, cls: str, why: str) -> Change:
    """One change record (see the module docstring).

    >>> change("o2cb", "cluster", "name", "a", "b", "cluster-offline", "x")["class"]
    'cluster-offline'
    """
    return {"scope": scope, "what": what, "key": key, "old": old, "new": new, "class": cls, "why": why}


def classify_drbd(old_texts: Iterable[str], new_texts: Iterable[str], secrets: Sequence[str] = ()) -> list[Change]:
    """Every difference between two DRBD configs (the files on disk and the rendered ones), classified.

    Each text is one file (drbd.conf, global_common.conf, a .res); the options of all of them are
    compared. ``what`` is the resource (``r0``), ``common`` or ``global``; a resource present on
    one side only is one change ``key: "resource"`` (added: ``online``, ``drbd.up`` brings it;
    removed: ``down``). Secrets are masked (shared-secret always). ParseError on malformed text.

    >>> old = 'resource r0 { disk { resync-rate 10M; } on a { disk /dev/vdb; } }'
    >>> [(c["key"], c["class"]) for c in classify_drbd([old], [old.replace("10M", "40M")])]
    [('disk:resync-rate', 'online')]
    """
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for texts, into in ((old_texts, before), (new_texts, after)):
        for text in texts:
            into.update(config_options(text or ""))
    out: list[Change] = []
    tops_before = {k.split("|", 1)[0] for k in before}
    tops_after = {k.split("|", 1)[0] for k in after}
    for top in sorted(tops_before ^ tops_after):
        if not top.startswith("resource "):
            continue
        name = top.split(" ", 1)[1]
        added = top in tops_after
        out.append(change("drbd", name, "resource", None if added else "defined", "defined" if added else None,
                          ONLINE if added else DOWN,
                          "a new resource: drbd.up brings it" if added else "a resource removed: it goes down"))
    for key in sorted(set(before) | set(after)):
        top, option = key.split("|", 1)
        if top.startswith("resource ") and (top not in tops_before or top not in tops_after):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        cls, why = classify_drbd_key(option, old, new)
        if top == "global":
            cls, why = ONLINE, SECTIONS_ONLINE["global"]
        what = top.split(" ", 1)[1] if top.startswith("resource ") else top
        out.append(change("drbd", what, option, _shown(option, old, secrets), _shown(option, new, secrets), cls, why))
    return out


def for_resource(changes: Iterable[Change], resource: str) -> list[Change]:
    """The changes that touch ``resource``: its own and ``common``'s (common applies to every resource).

    >>> [c["what"] for c in for_resource([change("drbd", "r0", "k", 1, 2, "online", ""),
    ...     change("drbd", "common", "k", 1, 2, "online", ""), change("drbd", "r1", "k", 1, 2, "online", "")], "r0")]
    ['r0', 'common']
    """
    return [c for c in changes if c["scope"] == "drbd" and c["what"] in (resource, "common")]


# --------------------------------------------------------------------------- o2cb
def _defaults(text: str | None) -> dict[str, str]:
    out = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"')
    return out


O2CB_ONLINE_KEYS = {"O2CB_ENABLED": "read at boot only"}


def classify_o2cb(old_conf: str | None, new_conf: str | None, old_defaults: str | None = None,
                  new_defaults: str | None = None) -> list[Change]:
    """Classify the differences of o2cb's cluster.conf and /etc/default/o2cb (old on disk, new rendered).

    o2cb reads both only when the cluster goes online (the init script's ``online`` registers nodes
    and timeouts in configfs), so every cluster.conf change and every timeout is
    ``cluster-offline``: a node taken offline/online alone would come back with nodes its peer
    does not know, or timeouts o2net refuses. ``O2CB_ENABLED`` is ``online`` (boot only). A file
    missing on disk (``None``) is a first install: no change.

    >>> conf = "node:\\n\\tip_port = 7777\\n\\tip_address = 10.0.0.1\\n\\tnumber = 1\\n\\tname = a\\n\\tcluster = c\\n"
    >>> [(c["key"], c["class"]) for c in classify_o2cb(conf, conf.replace("10.0.0.1", "10.9.0.1"))]
    [('node a:ip_address', 'cluster-offline')]
    """
    out: list[Change] = []
    if old_conf is not None and new_conf is not None:
        flat = []
        for text in (old_conf, new_conf):
            parsed = o2cb_mod.parse_cluster_conf(text, "cluster.conf")
            items: dict[str, Any] = {}
            for cl in parsed["clusters"]:
                items[f"cluster {cl['name']}:node_count"] = cl["node_count"]
            items["cluster:name"] = ",".join(sorted(str(c["name"]) for c in parsed["clusters"]))
            for node in parsed["nodes"]:
                for field in ("number", "ip_address", "ip_port", "cluster"):
                    items[f"node {node['name']}:{field}"] = node[field]
            flat.append(items)
        for key in sorted(set(flat[0]) | set(flat[1])):
            old, new = flat[0].get(key), flat[1].get(key)
            if old != new:
                out.append(change("o2cb", "cluster", key, old, new, CLUSTER_OFFLINE,
                                  "o2cb reads cluster.conf only at online: offline on both nodes, then online"))
    if old_defaults is not None and new_defaults is not None:
        before, after = _defaults(old_defaults), _defaults(new_defaults)
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if old == new:
                continue
            if key in O2CB_ONLINE_KEYS:
                out.append(change("o2cb", "defaults", key, old, new, ONLINE, O2CB_ONLINE_KEYS[key]))
            else:
                out.append(change("o2cb", "defaults", key, old, new, CLUSTER_OFFLINE,
                                  "set at online; o2net refuses a peer whose timeouts differ: both nodes together"))
    return out


# --------------------------------------------------------------------------- corosync
_CS_OPEN = re.compile(r"^([A-Za-z0-9_.-]+)\s*\{$")
_CS_KV = re.compile(r"^([A-Za-z0-9_.-]+)\s*:\s*(.*)$")


def corosync_options(text: str) -> dict[str, str]:
    """Flatten corosync.conf into ``{"totem:token": "3000", "nodelist:node 1:ring0_addr": ...}``.

    Nodes of the nodelist are keyed by their ``nodeid`` (``node <nodeid>``; in order when none).
    ParseError on a line that is neither ``name {``, ``}``, ``key: value`` nor a comment.

    >>> corosync_options("totem {\\n cluster_name: c\\n}\\nnodelist {\\n node {\\n  nodeid: 2\\n  ring0_addr: 10.0.0.2\\n }\\n}\\n")
    {'nodelist:node 2:nodeid': '2', 'nodelist:node 2:ring0_addr': '10.0.0.2', 'totem:cluster_name': 'c'}
    """
    out: dict[str, str] = {}
    stack: list[list[Any]] = []  # [name, {key: value}] per open section
    count = 0
    for no, raw in enumerate((text or "").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        opened = _CS_OPEN.match(line)
        if opened:
            stack.append([opened.group(1), {}])
            continue
        if line == "}":
            if not stack:
                raise ParseError("corosync.conf", no, raw, "unbalanced '}'")
            name, items = stack.pop()
            if name == "node" and stack and stack[-1][0] == "nodelist":
                count += 1
                name = f"node {items.get('nodeid', count)}"
            prefix = ":".join([s[0] for s in stack] + [name])
            for key, value in items.items():
                if isinstance(value, str):
                    out[f"{prefix}:{key}"] = value
            continue
        pair = _CS_KV.match(line)
        if not pair or not stack:
            raise ParseError("corosync.conf", no, raw, "expected 'section {', '}' or 'key: value' in a section")
        stack[-1][1][pair.group(1)] = pair.group(2).strip()
    if stack:
        raise ParseError("corosync.conf", 0, "", "unclosed section")
    return dict(sorted(out.items()))


COROSYNC_ONLINE = ("logging", "totem:token", "totem:token_retransmits_before_loss_const", "totem:join",
                   "totem:consensus", "totem:max_messages")


def classify_corosync(old: str | None, new: str | None) -> list[Change]:
    """Classify corosync.conf differences (old on disk, new rendered).

    ``online``: logging and the totem timers ``corosync-cfgtool -R`` reloads (corosync.conf(5):
    token, consensus, join... are reloadable); everything else (cluster_name, transport,
    crypto_*, the nodelist's addresses and ids, quorum) is ``cluster-offline``: corosync and
    dlm_controld stop on both nodes, which needs every GFS2 filesystem unmounted.

    >>> [(c["key"], c["class"]) for c in classify_corosync("totem {\\n token: 3000\\n}\\n", "totem {\\n token: 5000\\n}\\n")]
    [('totem:token', 'online')]
    """
    if old is None or new is None:
        return []
    before, after = corosync_options(old), corosync_options(new)
    out = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) == after.get(key):
            continue
        online = any(key == k or key.startswith(k + ":") for k in COROSYNC_ONLINE)
        out.append(change("corosync", "cluster", key, before.get(key), after.get(key),
                          ONLINE if online else CLUSTER_OFFLINE,
                          "corosync-cfgtool -R reloads it" if online else
                          "read when corosync starts: stop corosync and dlm on both nodes, then start"))
    return out


# --------------------------------------------------------------------------- filesystems
FS_REFORMAT = ("type", "mkfs_type", "feature_level", "mkfs_options", "label", "slots", "journals", "lock_table",
               "resource", "device")
FS_DOWN = ("mountpoint", "mount_options", "mount_on")


def classify_filesystems(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Classify the differences of two normalised topologies' ``filesystems`` (and the cluster name
    a made filesystem records: a GFS2 lock table, an OCFS2 cluster stack).

    What mkfs wrote (type, label, slots/journals, lock table, mkfs options, the device it is on) is
    ``reformat``: never done. Where and how it is mounted is ``down`` (unmount, mount again).

    >>> old = {"cluster": {"name": "c"}, "filesystems": {"www": {"type": "ocfs2", "mountpoint": "/a"}}}
    >>> new = {"cluster": {"name": "c"}, "filesystems": {"www": {"type": "gfs2", "mountpoint": "/b"}}}
    >>> [(c["key"], c["class"]) for c in classify_filesystems(old, new)]
    [('mountpoint', 'down'), ('type', 'reformat')]
    """
    out = []
    ofs, nfs = old.get("filesystems") or {}, new.get("filesystems") or {}
    for name in sorted(set(ofs) | set(nfs)):
        before, after = ofs.get(name), nfs.get(name)
        if before is None or after is None:
            out.append(change("filesystem", name, "filesystem", None if before is None else "defined",
                              None if after is None else "defined", ONLINE if before is None else DOWN,
                              "a new filesystem: made and mounted by the bootstrap" if before is None else
                              "a filesystem removed from pillar: unmount it by hand (its data stays)"))
            continue
        for key in sorted(set(before) | set(after)):
            if before.get(key) == after.get(key) or key not in FS_REFORMAT + FS_DOWN:
                continue
            cls = REFORMAT if key in FS_REFORMAT else DOWN
            why = ("only mkfs writes it: hapair never re-formats a filesystem holding data" if cls == REFORMAT
                   else "unmount and mount again")
            out.append(change("filesystem", name, key, before.get(key), after.get(key), cls, why))
        old_cluster = (old.get("cluster") or {}).get("name")
        new_cluster = (new.get("cluster") or {}).get("name")
        if old_cluster != new_cluster and after.get("type") in ("gfs2", "ocfs2") and "lock_table" not in [
                c["key"] for c in out if c["what"] == name]:
            out.append(change("filesystem", name, "cluster_name", old_cluster, new_cluster, REFORMAT,
                              "the filesystem records its cluster (GFS2 lock table, OCFS2 cluster stack): "
                              "tunegfs2/tunefs.ocfs2 by hand on the unmounted filesystem, never by hapair"))
    return out


# --------------------------------------------------------------------------- whole topologies
def classify_topology(old: Mapping[str, Any], new: Mapping[str, Any], dialect: str = "8.4",
                      handler_path: str | None = None) -> list[Change]:
    """Classify every change between two normalised topologies of one pair (the runner's dry run).

    Renders both for each node (``drbd_render``, ``o2cb``, ``corosync``) and compares the files
    with :func:`classify_drbd`, :func:`classify_o2cb`, :func:`classify_corosync`, plus
    :func:`classify_filesystems`. Each change carries ``nodes``: the nodes it differs on. Secrets
    of both topologies are masked.
    """
    secrets = [s for s in [*(old.get("secrets") or []), *(new.get("secrets") or [])] if s]
    merged: dict[tuple[str, str, str], Change] = {}
    nodes = [n for n in (new.get("node_order") or sorted(new.get("nodes") or {}))]
    for node in nodes:
        found: list[Change] = []
        if node in (old.get("nodes") or {}):
            before = drbd_render.render(dict(old), node, dialect, handler_path=handler_path)
            after = drbd_render.render(dict(new), node, dialect, handler_path=handler_path)
            found += classify_drbd([f["content"] for f in before.values()], [f["content"] for f in after.values()],
                                   secrets)
        else:
            found.append(change("topology", node, "node", None, "defined", DOWN, "a node replaced: rebuild the pair"))
        for item in found:
            key = (item["scope"], item["what"], item["key"])
            merged.setdefault(key, dict(item, nodes=[]))["nodes"].append(node)
    extra: list[Change] = []
    ostack, nstack = (old.get("cluster") or {}).get("stack"), (new.get("cluster") or {}).get("stack")
    if ostack != nstack:
        extra.append(change("cluster", "cluster", "stack", ostack, nstack, REFORMAT,
                            "another cluster stack: a new pair, never changed in place"))
    elif nstack == "o2cb":
        extra += classify_o2cb(o2cb_mod.render_cluster_conf(old), o2cb_mod.render_cluster_conf(new),
                               o2cb_mod.render_defaults(old), o2cb_mod.render_defaults(new))
    elif nstack == "corosync":
        extra += classify_corosync(corosync_mod.render_conf(old), corosync_mod.render_conf(new))
    extra += classify_filesystems(old, new)
    return [*merged.values(), *(dict(c, nodes=list(nodes)) for c in extra)]


# --------------------------------------------------------------------------- classes -> steps
def worst(changes: Iterable[Mapping[str, Any]]) -> str | None:
    """The most disruptive class among ``changes`` (None for no change).

    >>> worst([{"class": "online"}, {"class": "down"}, {"class": "reconnect"}]), worst([])
    ('down', None)
    """
    ranks = [CLASSES.index(c["class"]) for c in changes]
    return CLASSES[max(ranks)] if ranks else None


def summary(changes: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """``{class: ["<what> <key>", ...]}`` for the classes present, mildest first.

    >>> summary([change("drbd", "r0", "on a:address", "x", "y", "reconnect", "")])
    {'reconnect': ['r0 on a:address']}
    """
    out: dict[str, list[str]] = {}
    for cls in CLASSES:
        keys = [f"{c['what']} {c['key']}" for c in changes if c["class"] == cls]
        if keys:
            out[cls] = keys
    return out


#: The ordered steps of each class, on both nodes unless ``where`` says otherwise. ``action`` is the
#: runner's vocabulary (hapair.reconfigure); ``what`` says it in an operator's words.
STEPS: dict[str, list[dict[str, str]]] = {
    ONLINE: [
        {"action": "write_config", "where": "both", "what": "write the new DRBD config files"},
        {"action": "adjust", "where": "both", "what": "drbdadm adjust <resource> (disk-options/net-options in place)"},
    ],
    RECONNECT: [
        {"action": "stop_groups", "where": "both", "what": "stop the service groups that use the resource"},
        {"action": "unmount", "where": "both", "what": "unmount the resource's filesystems on both nodes"},
        {"action": "demote", "where": "both", "what": "drbdadm secondary <resource> on both nodes"},
        {"action": "write_config", "where": "both", "what": "write the new DRBD config files on both nodes"},
        {"action": "check_peer", "where": "both", "what": "check the new peer address answers from each node"},
        {"action": "adjust", "where": "both", "what": "drbdadm adjust <resource> (disconnect, connect anew)"},
        {"action": "wait_connected", "where": "both", "what": "wait until Connected (and UpToDate/UpToDate)"},
        {"action": "promote", "where": "roles", "what": "promote each node to its steady role"},
        {"action": "mount", "where": "mount_on", "what": "mount the filesystems"},
        {"action": "start_groups", "where": "groups", "what": "start the service groups"},
        {"action": "canary", "where": "both", "what": "check the canary file on every mount"},
    ],
    DOWN: [
        {"action": "stop_groups", "where": "both", "what": "stop the service groups that use the resource"},
        {"action": "unmount", "where": "both", "what": "unmount the resource's filesystems on both nodes"},
        {"action": "demote", "where": "both", "what": "drbdadm secondary <resource> on both nodes"},
        {"action": "down", "where": "both", "what": "drbdadm down <resource> on both nodes"},
        {"action": "write_config", "where": "both", "what": "write the new DRBD config files on both nodes"},
        {"action": "check_peer", "where": "both", "what": "check the peer address answers from each node"},
        {"action": "up", "where": "both", "what": "drbdadm up <resource> (a new disk: create-md first, and it "
                                                  "resyncs in full from the peer: one node at a time)"},
        {"action": "wait_connected", "where": "both", "what": "wait until Connected and UpToDate/UpToDate"},
        {"action": "promote", "where": "roles", "what": "promote each node to its steady role"},
        {"action": "mount", "where": "mount_on", "what": "mount the filesystems"},
        {"action": "start_groups", "where": "groups", "what": "start the service groups"},
        {"action": "canary", "where": "both", "what": "check the canary file on every mount"},
    ],
    CLUSTER_OFFLINE: [
        {"action": "stop_groups", "where": "both", "what": "stop the service groups on the cluster filesystems"},
        {"action": "unmount", "where": "both", "what": "unmount every OCFS2/GFS2 filesystem on both nodes"},
        {"action": "cluster_offline", "where": "both", "what": "o2cb offline <cluster> (or stop dlm, corosync)"},
        {"action": "write_cluster_config", "where": "both", "what": "write cluster.conf/o2cb defaults "
                                                                     "(or corosync.conf) on both nodes"},
        {"action": "cluster_online", "where": "both", "what": "o2cb online <cluster> (or start corosync, dlm); "
                                                               "wait until both are members (quorate)"},
        {"action": "mount", "where": "mount_on", "what": "mount the filesystems"},
        {"action": "start_groups", "where": "groups", "what": "start the service groups"},
        {"action": "canary", "where": "both", "what": "check the canary file on every mount"},
    ],
    REFORMAT: [
        {"action": "refused", "where": "none", "what": "never done by hapair: keep the old value in pillar, or "
                                                        "back up, re-create the filesystem by hand and restore"},
    ],
}

#: One order for a reconfigure that combines classes: each action once, in this order.
ORDER = ("stop_groups", "unmount", "demote", "cluster_offline", "down", "write_config", "write_cluster_config",
         "check_peer", "up", "adjust", "wait_connected", "promote", "cluster_online", "mount", "start_groups",
         "canary")


def steps(changes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ordered steps that apply ``changes`` safely on both nodes (one list, each action once).

    A ``reformat`` change makes the whole plan one ``refused`` step: nothing is done. Each step
    carries ``classes``: which classes need it. Online-only changes are ``write_config`` +
    ``adjust``, as ``state.apply`` does them.

    >>> [s["action"] for s in steps([change("drbd", "r0", "disk:resync-rate", "1", "2", "online", "")])]
    ['write_config', 'adjust']
    >>> [s["action"] for s in steps([change("o2cb", "cluster", "node a:ip_address", "1", "2", "cluster-offline", "")])]
    ['stop_groups', 'unmount', 'cluster_offline', 'write_cluster_config', 'cluster_online', 'mount', 'start_groups', 'canary']
    """
    changes = list(changes)
    classes = [c for c in CLASSES if any(ch["class"] == c for ch in changes)]
    if REFORMAT in classes:
        return [dict(STEPS[REFORMAT][0], classes=[REFORMAT])]
    wanted: dict[str, dict[str, Any]] = {}
    for cls in classes:
        for item in STEPS[cls]:
            # a reconnect/down plan adjusts through its own (down/up or disconnect/connect) steps
            if cls == ONLINE and item["action"] == "adjust" and (RECONNECT in classes or DOWN in classes):
                wanted.setdefault("adjust", dict(item, classes=[]))["classes"].append(cls)
                continue
            wanted.setdefault(item["action"], dict(item, classes=[]))["classes"].append(cls)
    if DOWN in classes:
        wanted.pop("adjust", None)  # up reads the new config: nothing is left to adjust
    return [wanted[a] for a in ORDER if a in wanted]


# --------------------------------------------------------------------------- the node-side guard
def in_use(model: Mapping[str, Any] | None, mounted: Sequence[str] | None) -> dict[str, Any]:
    """The facts the guard reads of one resource on this node: ``{"role", "peer_role", "mounted",
    "dual_primary"}`` from a normalised status model (or None: not up) and its mountpoints.

    >>> in_use({"role": "Primary", "peers": [{"role": "Primary"}]}, ["/srv"])["dual_primary"]
    True
    """
    role = (model or {}).get("role")
    peers = (model or {}).get("peers") or []
    peer_role = peers[0].get("role") if peers else None
    return {"up": model is not None, "role": role, "peer_role": peer_role, "mounted": list(mounted or []),
            "dual_primary": role == "Primary" and peer_role == "Primary"}


def guard(changes: Iterable[Mapping[str, Any]], facts: Mapping[str, Any], device: str, topology: str) -> None:
    """Refuse a disruptive change (``reconnect``/``down``/``cluster-offline``) on a resource in use.

    ``facts``: :func:`in_use`'s (or any ``{"mounted": [...], "dual_primary": bool}``). In use
    means a mounted filesystem on this node or Primary on both nodes. ``reformat`` changes are
    always refused (never done). The refusal names ``device`` and the runner as the override.

    >>> guard([change("drbd", "r0", "disk:resync-rate", "1", "2", "online", "")], {"mounted": ["/srv"]}, "/dev/drbd0", "web")
    >>> try:
    ...     guard([change("drbd", "r0", "on a:address", "1", "2", "reconnect", "x")], {"mounted": ["/srv"]}, "/dev/drbd0", "web")
    ... except RefusedError as err:
    ...     print(err.override)
    salt-run hapair.reconfigure web
    """
    changes = list(changes)
    override = RUNNER.format(topology=topology)
    never = [c for c in changes if c["class"] == REFORMAT]
    if never:
        raise RefusedError(device, "a change only a new filesystem can carry (" + _listed(never) + "): hapair never "
                                   "re-formats", "nothing: keep the old value in pillar")
    bad = [c for c in changes if c["class"] in DISRUPTIVE]
    if not bad:
        return
    why = []
    if facts.get("mounted"):
        why.append(f"mounted at {', '.join(facts['mounted'])}")
    if facts.get("dual_primary"):
        why.append("Primary on both nodes")
    if facts.get("cluster_mounted"):
        why.append(f"cluster filesystems mounted at {', '.join(facts['cluster_mounted'])}")
    if not why:
        return
    cls = worst(bad)
    raise RefusedError(device, f"{' and '.join(why)}: the change is {cls} ({_listed(bad)}); applied one node at a "
                               f"time it would disconnect a live pair", override)


def _listed(changes: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{c['what']} {c['key']}: {c['class']}" for c in changes)


def describe(changes: Sequence[Mapping[str, Any]]) -> str:
    """One comment for ``test=True``: each class with its changes, then the steps.

    >>> print(describe([change("drbd", "r0", "on a:address", "1", "2", "reconnect", "x")]).splitlines()[0])
    reconnect: r0 on a:address
    """
    lines = [f"{cls}: {', '.join(keys)}" for cls, keys in summary(changes).items()]
    lines += [f"  {i}. {s['what']} ({s['where']})" for i, s in enumerate(steps(changes), 1)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- drbdadm -d adjust
_TOOLS = re.compile(r"^(?:.*/)?(?:[\w.]+-)?(drbdsetup|drbdmeta|drbdadm|drbd-proxy-ctl)(?:-8[34])?$")
#: What each command a dry run prints does to a live resource (drbdadm_adjust.c's scheduling).
COMMAND_CLASS = {
    "disk-options": ONLINE, "net-options": ONLINE, "resource-options": ONLINE, "peer-device-options": ONLINE,
    "resize": DOWN, "disconnect": RECONNECT, "connect": RECONNECT, "new-path": RECONNECT, "del-path": RECONNECT,
    "new-peer": RECONNECT, "del-peer": RECONNECT, "detach": DOWN, "attach": DOWN, "del-minor": DOWN,
    "new-minor": DOWN, "apply-al": DOWN, "new-resource": ONLINE, "down": DOWN, "up": ONLINE,
}


def parse_adjust_dry_run(text: str, secrets: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Parse ``drbdadm -d adjust <res>`` (what adjust would run) into commands, secrets masked.

    Schema: ``[{"tool": "drbdsetup"|"drbdmeta"|..., "command": "net-options", "args": [positional
    words], "options": {"protocol": "C", "set-defaults": True}, "class": "online"|...}]``.
    ``drbdsetup-84``, a path and a prefixed name (``hapair:bin:drbdsetup`` may be any, and a
    dry run prints what drbdadm would call) count as ``drbdsetup``; drbdmeta lines
    (``drbdmeta 0 v08 /dev/vdc internal apply-al``) name their command last. ``--shared-secret``
    is always masked. Empty output (nothing to adjust) is ``[]``; a line that is not a tool call is
    a ParseError. Real outputs: tests/fixtures/drbd_adjust (drbdadm-84, drbd-utils 9.22.0).

    >>> parse_adjust_dry_run("drbdsetup-84 disk-options 0 --set-defaults --resync-rate=40M\\n")[0]["options"]
    {'set-defaults': True, 'resync-rate': '40M'}
    """
    out = []
    for no, line in enumerate((text or "").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            words = shlex.split(line)
        except ValueError as err:
            raise ParseError("drbdadm -d adjust", no, mask(line, list(secrets)), str(err)) from None
        tool = _TOOLS.match(words[0]) if words else None
        if tool is None or len(words) < 2:
            raise ParseError("drbdadm -d adjust", no, mask(line, list(secrets)), "expected a drbdsetup/drbdmeta call")
        options: dict[str, Any] = {}
        args: list[str] = []
        for word in words[1:]:
            if word.startswith("--"):
                key, sep, value = word[2:].partition("=")
                options[key] = (MASK if key in SECRET_KEYS else mask(value, list(secrets))) if sep else True
            else:
                args.append(mask(word, list(secrets)))
        if tool.group(1) == "drbdmeta":
            command, args = args[-1], args[:-1]
        else:
            command, args = args[0], args[1:]
        out.append({"tool": tool.group(1), "command": command, "args": args, "options": options,
                    "class": COMMAND_CLASS.get(command, DOWN)})
    return out


def check_class(value: str) -> str:
    """``value`` if it is a class name, else HapairError (for runner arguments).

    >>> check_class("down")
    'down'
    """
    if value not in CLASSES:
        raise HapairError(f"unknown change class {value!r}; expected one of {', '.join(CLASSES)}")
    return value


# --------------------------------------------------------------------------- hapair.reconfigure's plan
#: statements whose change means a new backing disk: both nodes at once would start both empty,
#: so hapair.reconfigure refuses them (one node at a time: docs/disk-failure.md, ``drbd.attached``).
NEW_DISK_KEYS = ("disk", "meta-disk", "flexible-meta-disk")
#: What hapair.reconfigure runs for a disruptive plan, in order (``phases`` of its plan).
PHASES = (
    {"phase": "check_peer", "what": "each node reaches its peer's replication address of the new config"},
    {"phase": "pause", "what": "pause auto-remediation of the topology (hapair.pause), unless already paused"},
    {"phase": "stop_groups", "what": "stop the service groups where they run (stack none: group-stop)"},
    {"phase": "quiesce", "what": "hapair.clean on both nodes: heartbeat or NFS exports, the filesystems "
                                 "unmounted, the cluster stack offline, DRBD demoted and down, its .res removed "
                                 "(never data or metadata)"},
    {"phase": "bootstrap", "what": "orch.hapair.bootstrap: the new configs written, DRBD up and Connected, "
                                   "roles, the cluster stack online, mounts, groups, canary"},
    {"phase": "resume", "what": "resume auto-remediation (only when this run paused it)"},
)
_RESYNCING = ("SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "WFBitMapS", "WFBitMapT",
              "WFSyncUUID", "StartingSyncS", "StartingSyncT", "VerifyS", "VerifyT")


def drift_changes(drift: Mapping[str, Any] | None) -> list[Change]:
    """The changes one node's ``drbd.drift`` reports: pillar vs file, and kernel vs file (each
    ``drbdadm -d adjust`` command as a change of its class, key ``kernel:<command>``).

    >>> drift_changes({"resources": {"r0": {"pillar_vs_file": [], "file_vs_kernel": [
    ...     {"tool": "drbdsetup", "command": "connect", "class": "reconnect"}]}}})[0]["key"]
    'kernel:connect'
    """
    out: list[Change] = []
    for res, seen in sorted(((drift or {}).get("resources") or {}).items()):
        out += [dict(c) for c in seen.get("pillar_vs_file") or []]
        out += [change("drbd", res, f"kernel:{cmd.get('command')}", None, None, cmd.get("class") or ONLINE,
                       "the running kernel differs from the file (drbdadm -d adjust)")
                for cmd in seen.get("file_vs_kernel") or []]
    return out


def reconfigure_plan(topology: str, found: Mapping[str, list[Change] | None],
                     observed: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     resuming: str | None = None) -> dict[str, Any]:
    """What ``salt-run hapair.reconfigure`` does (pure): nothing, the bootstrap, or every phase.

    ``found``: ``{node: [change, ...]}`` (DRBD drift and the cluster stack's classified changes),
    None for a node that did not answer; ``observed``: ``{resource: {node: {"up", "disk",
    "connection", "split_brain"}}}``; ``resuming``: the phase an earlier run stopped in (its
    record on the master): ``"quiesced"`` (the bootstrap must finish whatever the files say now)
    or ``"quiescing"`` (every phase runs again, whatever the files say: half the pair may be
    stopped already).

    Returns ``{"action": "none"|"bootstrap"|"reconfigure"|"refused", "class", "changes" (each with
    its ``node``), "steps" (``steps``), "phases", "refused": [why, ...]}``. Refused, before anything
    runs: a node that did not answer, a ``reformat`` change, a new backing disk, a split brain, a
    resync not finished, a resource up but not Connected.

    >>> addr = change("drbd", "r0", "on a:address", "ipv4 10.0.0.1:7789", "ipv4 10.9.0.1:7789", "reconnect", "")
    >>> seen = {"r0": {n: {"up": True, "disk": "UpToDate", "connection": "Connected"} for n in "ab"}}
    >>> p = reconfigure_plan("web", {"a": [addr], "b": [addr]}, seen)
    >>> p["action"], p["class"], [x["phase"] for x in p["phases"]][:2]
    ('reconfigure', 'reconnect', ['check_peer', 'pause'])
    >>> reconfigure_plan("web", {"a": [], "b": None}, seen)["refused"]
    ['b did not answer: nothing is planned on half the facts']
    """
    refused = [f"{node} did not answer: nothing is planned on half the facts"
               for node, value in sorted(found.items()) if value is None]
    every = [dict(c, node=node) for node, value in sorted(found.items()) for c in value or []]
    for res, nodes in sorted(observed.items()):
        for node, seen in sorted(nodes.items()):
            if seen.get("split_brain"):
                refused.append(f"{res} has a split-brain record on {node}: resolve it first (docs/day2.md)")
            elif seen.get("up") and (seen.get("connection") in _RESYNCING or seen.get("disk") != "UpToDate"):
                refused.append(f"{res} on {node} is {seen.get('disk')}/{seen.get('connection')}: let the resync "
                               f"finish first (salt-run hapair.wait_for {topology} synced)")
            elif seen.get("up") and seen.get("connection") != "Connected" and not resuming:
                # (resuming: this runner took the peer down itself)
                refused.append(f"{res} on {node} is {seen.get('connection')}: both nodes' writes since the link "
                               "went would meet as a split brain; connect the pair first (drbdadm connect)")
    for c in every:
        if c["class"] == REFORMAT:
            refused.append(f"{c['what']} {c['key']} on {c['node']}: only a new filesystem carries it; hapair never "
                           "re-formats (keep the old value in pillar)")
        elif c["scope"] == "drbd" and c["key"].rsplit(":", 1)[-1] in NEW_DISK_KEYS:
            refused.append(f"{c['what']} {c['key']} on {c['node']}: a new backing disk; on both nodes at once both "
                           "would start empty: replace it one node at a time (docs/disk-failure.md)")
    cls = worst(every)
    out = {"topology": topology, "class": cls, "changes": every, "steps": steps(every) if every else [],
           "phases": [], "refused": refused}
    if refused:
        return dict(out, action="refused")
    if cls in DISRUPTIVE or resuming:
        phases = [dict(p) for p in PHASES]
        if resuming == "quiesced":  # the quiesce ran: the bootstrap finishes (the peer check still runs first)
            phases = [p for p in phases if p["phase"] not in ("stop_groups", "quiesce")]
        return dict(out, action="reconfigure", phases=phases)
    if cls == ONLINE:
        return dict(out, action="bootstrap", phases=[p for p in PHASES if p["phase"] == "bootstrap"])
    return dict(out, action="none")
