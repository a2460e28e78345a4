"""corosync 3 (knet, votequorum two_node): render corosync.conf, parse the corosync tools.

The topology part read by :func:`render_conf` (``topology["cluster"]``)::

    {"stack": "corosync", "name": "hardcore",
     "corosync": {"transport": "knet", "crypto_cipher": "none", "crypto_hash": "none",
                  "two_node": True, "totem": {"token": 3000}, "quorum": {}, "logging": {}}}

Nodes come from the topology: ``ring0_addr`` = ``cluster_address`` (default ``address``),
``name`` = ``hostname``, ``nodeid`` = ``cluster_node_id`` (default 1, 2 in ``node_order``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Mapping

from hapair import fencing
from hapair.errors import ParseError, RenderError, TopologyError
from hapair.fields import has_control
from hapair.parsing import to_int

# section and option names of corosync.conf and dlm.conf (used with fullmatch: '$' would pass "x\n")
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _key(key: Any, what: str) -> str:
    if not isinstance(key, str) or not _NAME.fullmatch(key):
        raise RenderError(f"{what} key {key!r} is not a plain word")
    return key


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if not text.strip() or has_control(text) or any(c in text for c in "{}"):  # ':' is fine: IPv6 ring0_addr
        raise RenderError(f"corosync.conf value {text!r} is empty or holds '{{', '}}' or a control character")
    return text


def nodes(topology: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return ``[{"node", "name", "nodeid", "ring0_addr"}]`` in node order.

    >>> nodes({"nodes": {"a": {"address": "10.0.0.1"}}, "node_order": ["a"]})
    [{'node': 'a', 'name': 'a', 'nodeid': 1, 'ring0_addr': '10.0.0.1'}]
    """
    order = topology.get("node_order") or list(topology.get("nodes", {}))
    out = []
    for index, key in enumerate(order, start=1):
        node = topology["nodes"][key]
        out.append({"node": key, "name": node.get("hostname") or key,
                    "nodeid": int(node.get("cluster_node_id") or index),
                    "ring0_addr": node.get("cluster_address") or node.get("address")})
    return out


def _section(lines: list[str], name: str, items: Mapping[str, Any], indent: int = 0) -> None:
    pad = "    " * indent
    lines.append(f"{pad}{name} {{")
    for key, value in items.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            _section(lines, _key(key, "corosync.conf section"), value, indent + 1)
        else:
            lines.append(f"{pad}    {_key(key, 'corosync.conf')}: {_value(value)}")
    lines.append(f"{pad}}}")


def render_conf(topology: Mapping[str, Any]) -> str:
    """Render corosync 3 ``corosync.conf`` (deterministic, ends with a newline).

    >>> text = render_conf({"nodes": {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}},
    ...                     "node_order": ["a", "b"], "cluster": {"name": "c", "corosync": {}}})
    >>> "two_node: 1" in text and "transport: knet" in text
    True
    """
    cluster = topology.get("cluster", {})
    conf = cluster.get("corosync", {}) or {}
    members = nodes(topology)
    totem: dict[str, Any] = {"version": 2, "cluster_name": cluster["name"],
                             "transport": conf.get("transport", "knet"),
                             "crypto_cipher": conf.get("crypto_cipher", "none"),
                             "crypto_hash": conf.get("crypto_hash", "none")}
    totem.update(conf.get("totem") or {})
    quorum: dict[str, Any] = {"provider": "corosync_votequorum"}
    if conf.get("two_node", len(members) == 2):
        quorum["two_node"] = 1
    quorum.update(conf.get("quorum") or {})
    logging: dict[str, Any] = {"to_logfile": "no", "to_syslog": "yes", "timestamp": "on"}
    logging.update(conf.get("logging") or {})
    lines = ["# Managed by hapair (Salt): local edits are overwritten."]
    _section(lines, "totem", totem)
    lines.append("nodelist {")
    for member in members:
        lines.append("    node {")
        for key in ("ring0_addr", "name", "nodeid"):
            lines.append(f"        {key}: {_value(member[key])}")
        lines.append("    }")
    lines.append("}")
    _section(lines, "quorum", quorum)
    _section(lines, "logging", logging)
    return "\n".join(lines) + "\n"


def check_conf(topology: Mapping[str, Any]) -> list[TopologyError]:
    """What ``corosync -t`` accepts but should not: two_node with other than two nodes, duplicate
    ring0 addresses, duplicate node ids or names, a missing ring0 address."""
    errors: list[TopologyError] = []
    members = nodes(topology)
    path = f"{topology.get('path', 'hapair:topologies')}:cluster:corosync"
    conf = topology.get("cluster", {}).get("corosync", {}) or {}
    if conf.get("two_node", len(members) == 2) and len(members) != 2:
        errors.append(TopologyError(path, f"two_node with {len(members)} node(s)", "two_node is for exactly two"))
    for key in ("ring0_addr", "nodeid", "name"):
        values = [m[key] for m in members]
        for value in sorted({str(v) for v in values if v is not None and values.count(v) > 1}):
            errors.append(TopologyError(path, f"duplicate {key} {value!r}"))
    for member in members:
        if not member["ring0_addr"]:
            errors.append(TopologyError(f"{path}:{member['node']}", "no cluster_address/address for ring0_addr"))
    return errors


# --------------------------------------------------------------------------- parsers


def _lines(text: str) -> list[tuple[int, str]]:
    return [(no, line.rstrip()) for no, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _snake(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.strip().lower()).strip("_")


_INTS = {"nodes", "expected_votes", "highest_expected", "total_votes"}


def _int(tool: str, no: int, line: str, value: str) -> int:
    """A decimal or ``0x`` hexadecimal integer (node ids print either way), else ParseError."""
    base = 16 if value.lower().lstrip("-").startswith("0x") else 10
    return to_int(tool, no, line, value, "integer", base)


_TAIL = re.compile(r"\s+\((local|votes (\d+))\)$")


def _members(tool: str, rows: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Rows under ``Nodeid Votes [Qdevice] Name``; a name may end in ``(local)`` or ``(votes N)``."""
    out = []
    header = None
    for no, line in rows:
        words = line.split()
        if words[:2] == ["Nodeid", "Votes"]:
            header = words
            continue
        if header is None:
            raise ParseError(tool, no, line, "member row before the 'Nodeid Votes Name' header")
        text = line.rstrip()
        tail = _TAIL.search(text)
        if tail:
            text = text[: tail.start()]
        parts = text.split()
        qdevice = None
        if "Qdevice" in header and len(parts) == 4:
            qdevice = parts.pop(2)
        if len(parts) != 3:
            raise ParseError(tool, no, line, "expected 'nodeid votes [qdevice] name [(local)]'")
        out.append({"node_id": _int(tool, no, line, parts[0]), "votes": _int(tool, no, line, parts[1]),
                    "name": parts[2], "local": bool(tail and tail.group(1) == "local"), "qdevice": qdevice,
                    "qdevice_votes": _int(tool, no, line, tail.group(2)) if tail and tail.group(2) else None})
    return out


def parse_quorumtool(text: str) -> dict[str, Any]:
    """Parse ``corosync-quorumtool -s`` (also ``-l``, which prints only the membership part: then
    everything but ``members`` is None).

    Schema: ``{"quorum_provider": str|None, "nodes": int|None, "node_id": int|None,
    "ring_id": str|None, "quorate": bool|None, "expected_votes": int|None, "highest_expected":
    int|None, "total_votes": int|None, "quorum": int|None, "activity_blocked": bool|None,
    "flags": [str]|None, "two_node": bool|None, "wait_for_all": bool|None, "members": [{"node_id": int, "votes": int, "name": str,
    "local": bool, "qdevice": str|None (the Qdevice column, e.g. "A,V,NMW"), "qdevice_votes": int|None
    (a quorum device row's "(votes N)")}]}``.

    Example: ``Flags: 2Node Quorate WaitForAll`` -> ``{"flags": ["2Node", "Quorate", "WaitForAll"],
    "two_node": True, "wait_for_all": True}``.
    """
    tool = "corosync-quorumtool"
    out: dict[str, Any] = {k: None for k in ("date", "quorum_provider", "nodes", "node_id", "ring_id", "quorate",
                                             "expected_votes", "highest_expected", "total_votes", "quorum")}
    out.update(activity_blocked=None, flags=None, members=[])
    section = None
    member_rows: list[tuple[int, str]] = []
    rows = _lines(text)
    if not rows:
        raise ParseError(tool, 0, "", "empty output")
    for no, line in rows:
        stripped = line.strip()
        if stripped.endswith(" information") and ":" not in stripped:
            section = stripped
            continue
        if set(stripped) <= {"-"}:
            continue
        if section == "Membership information":
            member_rows.append((no, line))
            continue
        if ":" not in stripped or section is None:
            raise ParseError(tool, no, line, "expected 'Key: value' inside a section")
        key, _, value = stripped.partition(":")
        key, value = _snake(key), value.strip()
        if key in _INTS:
            out[key] = _int(tool, no, line, value)
        elif key == "node_id":
            out[key] = _int(tool, no, line, value)
        elif key == "quorum":
            number, _, rest = value.partition(" ")
            out["quorum"] = _int(tool, no, line, number)
            out["activity_blocked"] = "activity blocked" in rest.lower()
        elif key == "quorate":
            out["quorate"] = value == "Yes"
        elif key == "flags":
            out["flags"] = value.split()
        else:
            out[key] = value
    out["members"] = _members(tool, member_rows)
    known = out["flags"] is not None  # -l prints no votequorum section: flags unknown, not empty
    out["two_node"] = "2Node" in out["flags"] if known else None
    out["wait_for_all"] = "WaitForAll" in out["flags"] if known else None
    if out["quorum"] is not None and out["activity_blocked"] is None:
        out["activity_blocked"] = False
    return out


def parse_cfgtool(text: str) -> dict[str, Any]:
    """Parse ``corosync-cfgtool -s`` (corosync 3, knet).

    Schema: ``{"node_id": int, "transport": str, "links": [{"link_id": int, "transport": str,
    "addr": str, "peers": [{"node_id": int, "status": "localhost"|"connected"|"disconnected"|...}]}]}``.
    """
    tool = "corosync-cfgtool -s"
    rows = _lines(text)
    out: dict[str, Any] = {"node_id": None, "transport": None, "links": []}
    for no, line in rows:
        stripped = line.strip()
        match = re.match(r"^Local node ID (\d+), transport (\S+)$", stripped)
        if match:
            out["node_id"], out["transport"] = _int(tool, no, line, match.group(1)), match.group(2)
            continue
        match = re.match(r"^LINK ID (\d+)(?:\s+(\S+))?$", stripped)
        if match:
            out["links"].append({"link_id": _int(tool, no, line, match.group(1)), "transport": match.group(2),
                                 "addr": None,
                                 "peers": []})
            continue
        if not out["links"]:
            if stripped.startswith("Printing link status"):
                continue
            raise ParseError(tool, no, line, "unexpected line before the first LINK ID")
        link = out["links"][-1]
        match = re.match(r"^addr\s*=\s*(\S+)$", stripped)
        if match:
            link["addr"] = match.group(1)
            continue
        if stripped == "status:":
            continue
        match = re.match(r"^nodeid:?\s+(\d+):\s*(.+)$", stripped)
        if match:
            link["peers"].append({"node_id": _int(tool, no, line, match.group(1)), "status": match.group(2).strip()})
            continue
        raise ParseError(tool, no, line, "unknown line")
    if out["node_id"] is None:
        raise ParseError(tool, 0, "", "no 'Local node ID' line: not corosync-cfgtool -s output")
    return out


# --------------------------------------------------------------------------- dlm_controld

DLM_CONF_HEADER = "# Managed by hapair (Salt): local edits are overwritten."
# dlm_controld's own default; the topology key is cluster:corosync:dlm:enable_fencing
DLM_ENABLE_FENCING_DEFAULT = True


def dlm_options(topology: Mapping[str, Any]) -> dict[str, Any]:
    """The dlm.conf options of a corosync topology, ``enable_fencing`` filled in (default true).

    >>> dlm_options({"cluster": {"corosync": {"dlm": {"enable_fencing": False}}}})
    {'enable_fencing': False}
    """
    conf = (topology.get("cluster") or {}).get("corosync") or {}
    options = dict(conf.get("dlm") or {})
    options.setdefault("enable_fencing", DLM_ENABLE_FENCING_DEFAULT)
    return {"enable_fencing": options.pop("enable_fencing"), **dict(sorted(options.items()))}


#: dlm.conf's mode: its ``device`` lines carry fence passwords, and only dlm_controld (root) reads it
DLM_CONF_MODE = "0600"


def render_dlm_conf(topology: Mapping[str, Any]) -> str:
    """Render ``/etc/dlm/dlm.conf`` (``key=value`` lines, booleans as 1/0, deterministic).

    >>> render_dlm_conf({"cluster": {"corosync": {"dlm": {"enable_fencing": False}}}}).splitlines()[1]
    'enable_fencing=0'
    """
    lines = [DLM_CONF_HEADER]
    for key, value in dlm_options(topology).items():
        lines.append(f"{_key(key, 'dlm.conf')}={_value(value)}")
    lines += fencing.dlm_lines(topology)  # device / connect lines of cluster:corosync:fencing
    return "\n".join(lines) + "\n"


def check_dlm(topology: Mapping[str, Any]) -> list[TopologyError]:
    """What dlm_controld starts with but then hangs on: fencing on with no fence method.

    With ``enable_fencing`` true and no fence devices (``cluster:corosync:fencing``, rendered as
    dlm.conf ``device``/``connect`` lines by ``hapair.fencing``), the first GFS2 mount waits for a
    fence that can never happen (a two-node lab without fence devices).
    """
    options = dlm_options(topology)
    path = f"{topology.get('path', 'hapair:topologies')}:cluster:corosync:dlm"
    if options["enable_fencing"] in (True, 1, "1", "yes") and not fencing.configured(topology):
        return [TopologyError(f"{path}:enable_fencing", "fencing is on but no fence method is configured "
                              "(cluster:corosync:fencing): the first GFS2 mount would block",
                              "add fence devices and each node's method under cluster:corosync:fencing "
                              "(docs/fencing.md), or set enable_fencing: false where losing a node cannot "
                              "corrupt shared data (a lab)")]
    return []


def authkey_bytes(topology: Mapping[str, Any]) -> bytes | None:
    """The corosync authkey from the topology's base64 ``authkey`` (None when there is none).

    Raises ValueError (never quoting the key) when it is not base64 or not 128..512 bytes, the
    range ``corosync-keygen -l`` makes.
    """
    conf = (topology.get("cluster") or {}).get("corosync") or {}
    text = conf.get("authkey")
    if text is None:
        return None
    try:
        key = base64.b64decode(str(text).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("cluster:corosync:authkey is not valid base64") from None
    if not 128 <= len(key) <= 512:
        raise ValueError(f"cluster:corosync:authkey decodes to {len(key)} bytes; corosync wants 128 to 512")
    return key


def parse_dlm_status(text: str) -> dict[str, Any]:
    """Parse ``dlm_tool status`` (dlm 4.x).

    Schema: ``{"cluster_node_id": int|None, "quorate": bool|None, "ring_seq": [int]|None,
    "daemon_now": int|None, "fence_pid": int|None, "nodes": [{"node_id": int, "member": bool,
    "add": int, "rem": int, "fail": int, "fence": int, "at": [int, int]}], "extra": [str]}``.

    Example: ``node 2 M add 1140 rem 0 fail 0 fence 0 at 0 0`` -> ``{"node_id": 2, "member": True,
    "add": 1140, "rem": 0, "fail": 0, "fence": 0, "at": [0, 0]}``.
    """
    tool = "dlm_tool status"
    rows = _lines(text)
    if not rows:
        raise ParseError(tool, 0, "", "empty output")
    out: dict[str, Any] = {"cluster_node_id": None, "quorate": None, "ring_seq": None, "daemon_now": None,
                           "fence_pid": None, "nodes": [], "extra": []}
    for no, line in rows:
        words = line.split()
        if words[0] == "cluster":
            pairs = _pairs(tool, no, line, words[1:])
            out["cluster_node_id"] = pairs.get("nodeid")
            out["quorate"] = None if pairs.get("quorate") is None else bool(pairs["quorate"])
            out["ring_seq"] = pairs.get("ring seq")
        elif words[0] == "daemon":
            pairs = _pairs(tool, no, line, words[1:])
            out["daemon_now"], out["fence_pid"] = pairs.get("now"), pairs.get("fence_pid")
        elif words[0] == "node":
            if len(words) < 3:
                raise ParseError(tool, no, line, "expected 'node <id> <M|X> ...'")
            entry: dict[str, Any] = {"node_id": _int(tool, no, line, words[1]), "member": words[2] == "M"}
            for key, value in _pairs(tool, no, line, words[3:]).items():
                entry[key] = value
            out["nodes"].append(entry)
        else:
            out["extra"].append(line.strip())  # fence/startup lines ("fence ... wait ..."): kept verbatim
    if out["cluster_node_id"] is None:
        raise ParseError(tool, 0, "", "no 'cluster nodeid N' line: not dlm_tool status output")
    return out


def _pairs(tool: str, no: int, line: str, words: list[str]) -> dict[str, Any]:
    """``nodeid 1 quorate 1 ring seq 8 8`` -> ``{"nodeid": 1, "quorate": 1, "ring seq": [8, 8]}``:
    a key is the words before a run of integers; two or more integers make a list."""
    out: dict[str, Any] = {}
    key: list[str] = []
    values: list[int] = []

    def flush() -> None:
        if key and not values:
            raise ParseError(tool, no, line, f"no value after {' '.join(key)!r}")
        if key:
            out[" ".join(key)] = values[0] if len(values) == 1 else list(values)

    for word in words:
        if re.fullmatch(r"-?\d+|0x[0-9a-fA-F]+", word):
            values.append(_int(tool, no, line, word))
        else:
            if values:
                flush()
                key, values = [], []
            key.append(word)
    flush()
    return out


def parse_dlm_ls(text: str) -> list[dict[str, Any]]:
    """Parse ``dlm_tool ls``: one entry per lockspace.

    Schema: ``[{"name": str, "id": int, "flags": int, "change": {"member": int, "joined": int,
    "remove": int, "failed": int, "seq": [int, int]}, "members": [int], "new_change": str|None}]``
    (``new_change``: the pending change line while a node joins or leaves, verbatim).
    dlm 4.2.0 prints nothing at all (not even the header) when there is no lockspace: ``[]``.
    """
    tool = "dlm_tool ls"
    rows = _lines(text)
    if not rows:
        return []
    if rows[0][1].strip() != "dlm lockspaces":
        raise ParseError(tool, rows[0][0] if rows else 0, rows[0][1] if rows else "",
                         "expected the 'dlm lockspaces' header")
    out: list[dict[str, Any]] = []
    for no, line in rows[1:]:
        key, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if key == "name":
            out.append({"name": rest, "id": None, "flags": None, "change": None, "members": [],
                        "new_change": None})
            continue
        if not out:
            raise ParseError(tool, no, line, "a lockspace field before its 'name' line")
        space = out[-1]
        if key in ("id", "flags"):
            if len(rest.split()) != 1:
                raise ParseError(tool, no, line, f"expected one number after {key!r}")
            space[key] = _int(tool, no, line, rest)
        elif key == "change":
            change = {}
            for k, v in _pairs(tool, no, line, rest.replace(",", " ").split()).items():
                change[k] = v
            space["change"] = change
        elif key == "members":
            space["members"] = [_int(tool, no, line, w) for w in rest.split()]
        elif key == "new":
            space["new_change"] = rest
        else:
            space.setdefault("other", {})[key] = rest
    return out
