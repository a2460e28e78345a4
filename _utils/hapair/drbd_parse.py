"""Parsers for DRBD's status tools: every output becomes one normalised resource model.

Each parser first tokenises the raw text (keeping line numbers), then converts the tokens into
typed values. Malformed input raises :class:`hapair.errors.ParseError` naming the line.

The normalised resource model (docs/DESIGN.md) that every status parser returns::

    {"name": "r0", "role": "Primary", "suspended": False,
     "volumes": [{"volume": 0, "minor": 0, "disk_state": "UpToDate"}],
     "peers": [{"name": "web2", "node_id": 1, "connection_state": "Connected", "role": "Secondary",
                "volumes": [{"volume": 0, "replication_state": "SyncSource",
                             "peer_disk_state": "Inconsistent", "percent_done": 12.5,
                             "eta_seconds": 654, "out_of_sync_kib": 261716}]}]}

Rules shared by all parsers:

* DRBD's own words are kept as printed ("Unknown" role, "DUnknown" disk, "WFConnection"); a value
  the output does not carry is ``None``, never guessed.
* DRBD 8.4 folds replication into the connection state; it is split like DRBD 9 does:
  ``cs:SyncSource`` -> connection "Connected" + replication "SyncSource", ``cs:Connected`` ->
  "Connected" + "Established", any other 8.4 state (StandAlone, WFConnection, ...) is a
  connection state with replication ``None``.
* Where drbd-utils prints a field only when it differs from a default (``drbdsetup status``
  omits ``volume:0`` of a single volume, ``connection:Connected``, ``replication:Established``
  on a connected peer and ``suspended:no``), the documented default is filled in.
* Connection names differ by tool on the 8.4 module: /proc/drbd and ``cstate`` say
  ``WFConnection`` where drbd-utils 9's ``status``/``events2`` say ``Connecting``; both are kept.

Parsers: ``parse_proc_drbd``, ``parse_drbd_overview``, ``parse_drbdadm_status`` (also
``drbdsetup status -vs``), ``parse_drbdsetup_status_json``, ``parse_events2`` +
``events2_to_resources``, ``parse_role``, ``parse_cstate``, ``parse_dstate``, ``parse_gi``,
``parse_version``, ``parse_dump_minors``; the DRBD config reader ``config_walk`` with
``config_minors`` and ``config_resources``; helpers ``is_synced`` and ``split_cstate_84``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Iterable, Iterator, Optional

from hapair.drbd_state import RESYNC_STATES, is_synced  # noqa: F401 - one owner; re-exported
from hapair.errors import ParseError
from hapair.parsing import load_json, to_int

Model = dict[str, Any]

# 8.4 connection states that are really replication states of a connected peer (DRBD 9 split).
REPLICATION_STATES_84 = frozenset({
    "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "SyncSource",
    "SyncTarget", "PausedSyncS", "PausedSyncT", "VerifyS", "VerifyT", "Ahead", "Behind",
})
GI_FLAGS_84 = ("consistent", "was_up_to_date", "primary", "connected", "full_sync",
               "peer_out_of_date", "crashed_primary")
GI_FLAGS_9 = ("consistent", "was_up_to_date", "primary", "crashed_primary", "al_clean", "al_disabled",
              "primary_lost_quorum", "connected", "peer_out_of_date", "fencing", "full_sync",
              "peer_device_seen")
UUID_JUST_CREATED = 0x4  # DRBD's current UUID of freshly created metadata (bit 0 is the primary bit)

EVENTS2_ACTIONS = frozenset({"exists", "create", "change", "destroy", "call", "response"})
EVENTS2_OBJECTS = frozenset({"resource", "connection", "device", "peer-device", "path", "helper", "-"})

_KV = re.compile(r"^([A-Za-z_][\w'/-]*):(.*)$")
_MINOR = re.compile(r"^(\d+):$")
_FLAGS = re.compile(r"^[rs][-a-z]{2,9}$")
_BAR = re.compile(r"^\[[=>.]*\]$")
_PROGRESS = re.compile(r"^\((\d+)/(\d+)\)([KMG])$")
_NUMBER = re.compile(r"^\(?[\d,]+\)?$")
_DETAIL = re.compile(r"^(?:\d+%|\d+/\d+|[\d,]+)$")
_SPEED_WORDS = frozenset({"want:", "K/sec", "--", "(stalled)"})
_API = re.compile(r"^\(api:(\d+)/proto:([\d-]+)\)$")
_HMS = re.compile(r"^(\d+):(\d\d):(\d\d)$")
_UUID = re.compile(r"^[0-9A-Fa-f]{16}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_NAN = re.compile(r"(:\s*)-?(?:nan|inf)\b")
_UNIT_KIB = {"K": 1, "M": 1024, "G": 1024 * 1024}


# --------------------------------------------------------------------------- model helpers
def _resource(name: str, role: Optional[str] = None, suspended: Optional[bool] = None) -> Model:
    return {"name": name, "role": role, "suspended": suspended, "volumes": [], "peers": []}


def _volume(volume: Optional[int], minor: Optional[int], disk: Optional[str]) -> Model:
    return {"volume": volume, "minor": minor, "disk_state": disk}


def _peer(name: Optional[str], node_id: Optional[int], cstate: Optional[str], role: Optional[str]) -> Model:
    return {"name": name, "node_id": node_id, "connection_state": cstate, "role": role, "volumes": []}


def _peer_volume(volume: Optional[int], repl: Optional[str], pdisk: Optional[str],
                 percent: Optional[float] = None, eta: Optional[int] = None,
                 oos: Optional[int] = None) -> Model:
    return {"volume": volume, "replication_state": repl, "peer_disk_state": pdisk,
            "percent_done": percent, "eta_seconds": eta, "out_of_sync_kib": oos}


def split_cstate_84(cstate: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """Split an 8.4 connection state into DRBD 9's (connection, replication).

    >>> split_cstate_84("SyncSource"), split_cstate_84("Connected"), split_cstate_84("WFConnection")
    (('Connected', 'SyncSource'), ('Connected', 'Established'), ('WFConnection', None))
    """
    if cstate == "Connected":
        return "Connected", "Established"
    if cstate in REPLICATION_STATES_84:
        return "Connected", cstate
    return cstate, None


# --------------------------------------------------------------------------- conversions
def _lines(text: Optional[str]) -> list[tuple[int, str]]:
    return list(enumerate((text or "").splitlines(), 1))


def _to_int(tool: str, line_no: int, line: str, value: str, what: str) -> int:
    return to_int(tool, line_no, line, value.replace(",", ""), what)


def _to_float(tool: str, line_no: int, line: str, value: str, what: str) -> Optional[float]:
    try:
        number = float(value.rstrip("%"))
    except ValueError:
        raise ParseError(tool, line_no, line, f"{what} is not a number ({value!r})")
    return None if math.isnan(number) or math.isinf(number) else number


def _seconds(value: Optional[float]) -> Optional[int]:
    return None if value is None else int(round(value))


def _finite(value: Any) -> Optional[float]:
    """A JSON number as a finite float; None for null, NaN, infinity and ints beyond a float."""
    try:
        number = float(value)
    except (OverflowError, TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


# --------------------------------------------------------------------------- /proc/drbd
_GLUED_PERCENT = re.compile(r"^((?:sync'ed|verified):)(\S+%)$")


def _words(line: str) -> list[str]:
    """Split a /proc/drbd line into words; at 100 % DRBD prints ``sync'ed:100.0%`` with no space."""
    words: list[str] = []
    for word in line.split():
        glued = _GLUED_PERCENT.match(word)
        words.extend(glued.groups() if glued else (word,))
    return words


def _proc_tokens(text: str) -> list[tuple[int, str, str]]:
    return [(no, line, tok) for no, line in _lines(text) for tok in _words(line)]


def parse_proc_drbd(text: str, names: Optional[dict[int, str]] = None) -> Model:
    """Parse ``/proc/drbd`` of DRBD 0.7 to 8.4 into the resource model.

    Schema::

        {"version": {"kernel": "8.4.11", "api": 1, "proto": "86-101"} | None,
         "resources": [model, ...]}

    Minor lines (``0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate C r-----``), the
    older ``st:`` roles and ``ld:`` local disk, the counters line (``oos:`` in KiB gives
    ``out_of_sync_kib``) and the resync lines (``sync'ed: 1.6% (261716/262100)K``, ``finish:
    0:10:54``, ``speed: ... want: ... K/sec [(stalled)]``, and with ``proc_details`` the ``sector
    pos:``, ``resync:`` and ``act_log:`` lines) are read. Tokens are read without regard to line
    breaks, so outputs quoted on one line (web pages) parse too. ``names`` maps minor -> resource
    name; minors it does not name are called ``minor-<N>``; minors of one name become volumes of
    one resource. /proc/drbd shows no volume numbers, peer names or node ids: those are ``None``.
    ``Unconfigured`` minors are left out. Empty input gives ``{"version": None, "resources": []}``.

    >>> out = parse_proc_drbd("version: 8.4.11 (api:1/proto:86-101)\\n"
    ...     " 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\\n"
    ...     "    ns:448 nr:0 dw:0 dr:448 al:8 bm:0 lo:0 pe:1 ua:0 ap:0 ep:1 wo:f oos:261716\\n"
    ...     "\\t[>....................] sync'ed:  1.6% (261716/262100)K\\n"
    ...     "\\tfinish: 0:10:54 speed: 384 (384) K/sec\\n", {0: "r0"})
    >>> out["resources"][0]["peers"][0]["volumes"][0]["percent_done"], out["resources"][0]["name"]
    (1.6, 'r0')
    """
    tool = "/proc/drbd"
    tokens = _proc_tokens(text)
    if not tokens:
        return {"version": None, "resources": []}
    no, line, first = tokens[0]
    if first != "version:" or len(tokens) < 2:
        raise ParseError(tool, no, line, "expected 'version:' first")
    version: Model = {"kernel": tokens[1][2], "api": None, "proto": None}
    i = 2
    minors: list[Model] = []
    while i < len(tokens):
        no, line, tok = tokens[i]
        is_minor = _MINOR.match(tok) and i + 1 < len(tokens) and tokens[i + 1][2].startswith("cs:")
        if is_minor:
            break
        match = _API.match(tok)
        if match and version["api"] is None:
            version["api"], version["proto"] = _to_int(tool, no, line, match.group(1), "api"), match.group(2)
        i += 1
    while i < len(tokens):
        no, line, tok = tokens[i]
        match = _MINOR.match(tok)
        if not match or i + 1 >= len(tokens) or not tokens[i + 1][2].startswith("cs:"):
            raise ParseError(tool, no, line, f"expected a minor ('N: cs:...'), got {tok!r}")
        raw: Model = {"minor": _to_int(tool, no, line, match.group(1), "minor"), "line_no": no, "line": line, "fields": {}}
        i = _proc_minor(tool, tokens, i + 1, raw)
        minors.append(raw)
    return {"version": version, "resources": _proc_models(minors, names or {})}


def _proc_minor(tool: str, tokens: list[tuple[int, str, str]], i: int, raw: Model) -> int:
    """Tokenise one minor's tokens into ``raw`` (strings only); return the index after them."""
    fields = raw["fields"]
    while i < len(tokens):
        no, line, tok = tokens[i]
        if _MINOR.match(tok) and i + 1 < len(tokens) and tokens[i + 1][2].startswith("cs:"):
            return i
        nxt = tokens[i + 1][2] if i + 1 < len(tokens) else None
        if tok in ("sync'ed:", "verified:"):
            if nxt is None or not nxt.endswith("%"):
                raise ParseError(tool, no, line, f"expected a percentage after {tok!r}")
            raw["percent"] = (no, line, nxt)
            i += 2
            if i < len(tokens) and _PROGRESS.match(tokens[i][2]):
                raw["progress"] = tokens[i]
                i += 1
            continue
        if tok == "finish:":
            if nxt is None or not _HMS.match(nxt):
                raise ParseError(tool, no, line, "expected h:mm:ss after 'finish:'")
            raw["finish"] = (no, line, nxt)
            i += 2
            continue
        if tok == "speed:":
            i += 1
            while i < len(tokens) and (_NUMBER.match(tokens[i][2]) or tokens[i][2] in _SPEED_WORDS):
                i += 1
            continue
        if tok in _SPEED_WORDS or tok in ("sector", "stop") or _BAR.match(tok) or _DETAIL.match(tok):
            i += 1  # progress bar, and the proc_details=1 line "  5% sector pos: 8/262144 stop sector: 9"
            continue
        if tok in ("A", "B", "C"):
            raw["protocol"] = tok
            i += 1
            continue
        if _FLAGS.match(tok):
            raw["flags"] = tok
            i += 1
            continue
        match = _KV.match(tok)
        if match:
            fields.setdefault(match.group(1), (no, line, match.group(2)))
            i += 1
            continue
        raise ParseError(tool, no, line, f"unexpected token {tok!r}")
    return i


def _pair(value: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    if not value:
        return None, None
    local, _, peer = value.partition("/")
    return local or None, peer or None


def _proc_models(minors: list[Model], names: dict[int, str]) -> list[Model]:
    tool = "/proc/drbd"
    out: dict[str, Model] = {}
    for raw in minors:
        fields = raw["fields"]
        cstate = fields["cs"][2]
        if cstate == "Unconfigured":
            continue
        roles = (fields.get("ro") or fields.get("st") or (0, "", ""))[2]
        local_role, peer_role = _pair(roles)
        if "ds" in fields:
            local_disk, peer_disk = _pair(fields["ds"][2])
        else:
            local_disk, peer_disk = (fields["ld"][2] if "ld" in fields else None), None
        connection, replication = split_cstate_84(cstate)
        oos = None
        if "oos" in fields:
            oos = _to_int(tool, fields["oos"][0], fields["oos"][1], fields["oos"][2], "oos")
        elif "progress" in raw:
            no, line, tok = raw["progress"]
            match = _PROGRESS.match(tok)
            assert match is not None
            oos = _to_int(tool, no, line, match.group(1), "out of sync") * _UNIT_KIB[match.group(3)]
        percent = None
        if "percent" in raw:
            percent = _to_float(tool, *raw["percent"], "sync'ed")
        eta = None
        if "finish" in raw:
            no, line, tok = raw["finish"]
            match = _HMS.match(tok)
            assert match is not None
            hours, minutes, secs = (_to_int(tool, no, line, g, "finish") for g in match.groups())
            eta = hours * 3600 + minutes * 60 + secs
        flags = raw.get("flags")
        suspended = None if flags is None else flags[0] == "s"
        name = names.get(raw["minor"], f"minor-{raw['minor']}")
        model = out.get(name)
        if model is None:
            model = out[name] = _resource(name, local_role, suspended)
            model["peers"].append(_peer(None, None, connection, peer_role))
        elif model["role"] != local_role:
            model["role"] = None
        model["volumes"].append(_volume(None, raw["minor"], local_disk))
        model["peers"][0]["volumes"].append(_peer_volume(None, replication, peer_disk, percent, eta, oos))
    return list(out.values())


# --------------------------------------------------------------------------- drbd-overview (8.3/8.4)
_OVERVIEW_MINOR = re.compile(r"^\s*(\d+):(\S*)")


def parse_drbd_overview(text: str) -> list[Model]:
    """Parse ``drbd-overview`` (and the same table in 8.3's ``/etc/init.d/drbd status``).

    One line per minor: ``MINOR:NAME[/VOLUME] cstate role/peer disk/peer [protocol] [flags]
    [mountpoint fstype sizes...]``, e.g. ``0:drbd0 WFConnection Primary/Unknown UpToDate/DUnknown
    C r----s``; a ``sync'ed: 12.5% (458848/520196)K`` line gives the resync progress of the minor
    above it. Headers (``m:res cs ro ds ...``), version lines and mount details are skipped. A
    name of ``??not-found??`` (no config for the minor) becomes ``minor-<N>``. States are split like
    ``/proc/drbd``'s. drbd-utils 9 no longer ships drbd-overview. Empty input gives ``[]``.

    >>> [r["peers"][0]["connection_state"] for r in parse_drbd_overview(
    ...     " 0:drbd0 WFConnection Primary/Unknown UpToDate/DUnknown C r----s\\n")]
    ['WFConnection']
    """
    tool = "drbd-overview"
    models: list[Model] = []
    last: Optional[Model] = None
    for no, line in _lines(text):
        tokens = _words(line)
        match = _OVERVIEW_MINOR.match(line)
        if match and not line.lstrip().startswith("m:"):
            if len(tokens) < 4 or "/" not in tokens[2] or "/" not in tokens[3]:
                raise ParseError(tool, no, line, "expected 'N:name cstate role/peer disk/peer'")
            minor = _to_int(tool, no, line, match.group(1), "minor")
            name, _, vol = match.group(2).partition("/")
            if not name or "not-found" in name:
                name = f"minor-{minor}"
            volume = _to_int(tool, no, line, vol, "volume") if vol else None
            local_role, peer_role = _pair(tokens[2])
            local_disk, peer_disk = _pair(tokens[3])
            connection, replication = split_cstate_84(tokens[1])
            flags = next((t for t in tokens[4:6] if _FLAGS.match(t)), None)
            last = _resource(name, local_role, None if flags is None else flags[0] == "s")
            last["volumes"].append(_volume(volume, minor, local_disk))
            peer = _peer(None, None, connection, peer_role)
            peer["volumes"].append(_peer_volume(volume, replication, peer_disk))
            last["peers"].append(peer)
            if tokens[1] != "Unconfigured":
                models.append(last)
        elif "sync'ed:" in tokens and last is not None:
            idx = tokens.index("sync'ed:")
            pvol = last["peers"][0]["volumes"][0]
            if idx + 1 >= len(tokens) or not tokens[idx + 1].endswith("%"):
                raise ParseError(tool, no, line, "expected a percentage after \"sync'ed:\"")
            pvol["percent_done"] = _to_float(tool, no, line, tokens[idx + 1], "sync'ed")
            progress = _PROGRESS.match(tokens[idx + 2]) if idx + 2 < len(tokens) else None
            if progress:
                pvol["out_of_sync_kib"] = (_to_int(tool, no, line, progress.group(1), "out of sync")
                                           * _UNIT_KIB[progress.group(3)])
    return models


# --------------------------------------------------------------------------- drbdadm status
def _kv_tokens(tool: str, no: int, line: str, tokens: Iterable[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for tok in tokens:
        key, sep, value = tok.partition(":")
        if not sep or not key:
            raise ParseError(tool, no, line, f"expected key:value, got {tok!r}")
        fields[key] = value
    return fields


def _tokenise_status(text: str) -> list[Model]:
    """Raw tokens of ``drbdadm status``: resources, volumes and peers with string fields only.

    Every entity is ``{"fields": {key: str}, "where": {key: (line_no, line)}, ...}``.
    """
    tool = "drbdadm status"
    resources: list[Model] = []
    res: Optional[Model] = None
    current: Optional[Model] = None  # entity that continuation lines extend
    peer: Optional[Model] = None

    def entity(no: int, line: str, tokens: list[str], **extra: Any) -> Model:
        fields = _kv_tokens(tool, no, line, tokens)
        return {"fields": fields, "where": dict.fromkeys(fields, (no, line)), **extra}

    for no, line in _lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        tokens = stripped.split()
        head = tokens[0]
        if indent == 0:
            if ":" in head:
                raise ParseError(tool, no, line, "expected a resource name first")
            res = entity(no, line, tokens[1:], name=head, volumes=[], peers=[])
            resources.append(res)
            current, peer = res, None
            continue
        if res is None:
            raise ParseError(tool, no, line, "indented line before any resource")
        if indent == 2 and (":" not in head or head.startswith("node-id:")):
            name = None if ":" in head else head
            peer = entity(no, line, tokens if name is None else tokens[1:], name=name, volumes=[])
            res["peers"].append(peer)
            current = peer
            continue
        new = entity(no, line, tokens)
        keys = set(new["fields"])
        if indent == 2 and peer is None and keys & {"disk", "volume"}:
            current = new
            res["volumes"].append(current)
        elif peer is not None and indent == 4 and keys & {"volume", "replication", "peer-disk", "disk"}:
            current = new
            peer["volumes"].append(current)
        else:
            assert current is not None
            current["fields"].update(new["fields"])
            current["where"].update(new["where"])
    return resources


def parse_drbdadm_status(text: str) -> list[Model]:
    """Parse ``drbdadm status`` / ``drbdsetup status [--verbose] [--statistics]`` (DRBD 9 wording).

    Works for DRBD 9 (single and multi-volume, several peers) and for what drbd-utils 9 prints on
    the 8.4 module (peer named ``peer``, ``replication:Established`` shown, no peer at all once
    StandAlone). Empty output or ``# No currently configured DRBD found.`` gives ``[]``.

    Schema: a list of resource models (module docstring). Example::

        r0 role:Primary
          disk:UpToDate
          peer role:Secondary
            replication:SyncSource peer-disk:Inconsistent done:0.24

    ->  ``[{"name": "r0", "role": "Primary", "suspended": False, "volumes": [{"volume": 0,
    "minor": None, "disk_state": "UpToDate"}], "peers": [{"name": "peer", "node_id": None,
    "connection_state": "Connected", "role": "Secondary", "volumes": [{"volume": 0,
    "replication_state": "SyncSource", "peer_disk_state": "Inconsistent", "percent_done": 0.24,
    "eta_seconds": None, "out_of_sync_kib": None}]}]}]``
    """
    return [_status_model(raw) for raw in _tokenise_status(text)]


def _field_int(tool: str, ent: Model, key: str, default: Optional[int] = None) -> Optional[int]:
    if key not in ent["fields"]:
        return default
    no, line = ent["where"][key]
    return _to_int(tool, no, line, ent["fields"][key], key)


def _field_float(tool: str, ent: Model, key: str) -> Optional[float]:
    if key not in ent["fields"]:
        return None
    no, line = ent["where"][key]
    return _to_float(tool, no, line, ent["fields"][key], key)


def _status_model(raw: Model) -> Model:
    tool = "drbdadm status"
    fields = raw["fields"]
    model = _resource(raw["name"], fields.get("role"), fields.get("suspended", "no") != "no")
    for vol in raw["volumes"]:
        model["volumes"].append(_volume(_field_int(tool, vol, "volume", 0), _field_int(tool, vol, "minor"),
                                        vol["fields"].get("disk")))
    for praw in raw["peers"]:
        f = praw["fields"]
        peer = _peer(praw["name"], _field_int(tool, praw, "node-id"), f.get("connection", "Connected"), f.get("role"))
        for pvol in praw["volumes"]:
            p = pvol["fields"]
            repl = p.get("replication")
            if repl is None and peer["connection_state"] == "Connected":
                repl = "Established"
            oos = _field_int(tool, pvol, "out-of-sync")
            if oos is None and "received" in p:  # statistics shown: out-of-sync is omitted when 0
                oos = 0
            peer["volumes"].append(_peer_volume(
                _field_int(tool, pvol, "volume", 0), repl, p.get("peer-disk", p.get("disk")),
                _field_float(tool, pvol, "done"), _seconds(_field_float(tool, pvol, "eta")), oos))
        model["peers"].append(peer)
    return model


# --------------------------------------------------------------------------- drbdsetup status --json
def parse_drbdsetup_status_json(text: str) -> list[Model]:
    """Parse DRBD 9 ``drbdsetup status --json`` into resource models.

    Tolerates the bare ``nan`` older drbd-utils print (e.g. ``"estimated-seconds-to-finish":
    nan``): it becomes ``None``, like infinities and numbers beyond a float. JSON nested deeper than
    ``hapair.parsing.MAX_JSON_DEPTH`` is refused before decoding (ParseError, never RecursionError). ``percent_done`` is ``percent-resync-done`` when the peer device
    has sync details, ``eta_seconds`` the rounded ``estimated-seconds-to-finish``,
    ``out_of_sync_kib`` is ``out-of-sync`` (KiB). Empty output gives ``[]``.

    >>> parse_drbdsetup_status_json('[{"name": "r0", "role": "Primary", "suspended": false, '
    ...     '"devices": [{"volume": 0, "minor": 0, "disk-state": "UpToDate"}], "connections": []}]')
    [{'name': 'r0', 'role': 'Primary', 'suspended': False, 'volumes': [{'volume': 0, 'minor': 0, 'disk_state': 'UpToDate'}], 'peers': []}]
    """
    tool = "drbdsetup status --json"
    if not (text or "").strip():
        return []
    lines = text.splitlines()
    data = load_json(tool, _NAN.sub(r"\1NaN", text), parse_constant=lambda _: None)
    if not isinstance(data, list):
        raise ParseError(tool, 1, lines[0], "expected a JSON list of resources")
    def objects(value: Any, what: str) -> list[dict]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ParseError(tool, 1, lines[0], f"{what} is not a list of objects")
        return value

    models = []
    for res in objects(data, "the resource list"):
        if not isinstance(res.get("name"), str):
            raise ParseError(tool, 1, lines[0], "a resource without a name")
        suspended = res.get("suspended")
        model = _resource(res["name"], res.get("role"), suspended if isinstance(suspended, bool) else None)
        for dev in objects(res.get("devices"), "devices"):
            model["volumes"].append(_volume(dev.get("volume"), dev.get("minor"), dev.get("disk-state")))
        for conn in objects(res.get("connections"), "connections"):
            peer = _peer(conn.get("name"), conn.get("peer-node-id"), conn.get("connection-state"),
                         conn.get("peer-role"))
            for pdev in objects(conn.get("peer_devices"), "peer_devices"):
                details = pdev.get("has-sync-details") is True
                percent = pdev.get("percent-resync-done") if details else None
                eta = pdev.get("estimated-seconds-to-finish") if details else None
                if not all(v is None or isinstance(v, (int, float)) for v in (percent, eta)):
                    raise ParseError(tool, 1, lines[0], "percent-resync-done/estimated-seconds-to-finish "
                                                        "are not numbers")
                peer["volumes"].append(_peer_volume(
                    pdev.get("volume"), pdev.get("replication-state"), pdev.get("peer-disk-state"),
                    _finite(percent), _seconds(_finite(eta)), pdev.get("out-of-sync")))
            model["peers"].append(peer)
        models.append(model)
    return models


# --------------------------------------------------------------------------- events2
def parse_events2(text: str) -> list[Model]:
    """Tokenise ``drbdsetup events2`` output: one dict per line, values kept as strings.

    Schema: ``[{"action": "exists"|"create"|"change"|"destroy"|"call"|"response",
    "object": "resource"|"connection"|"device"|"peer-device"|"path"|"helper"|"-",
    "fields": {key: str}}]`` (plus ``"timestamp"`` when run with ``--timestamps``).

    >>> parse_events2("exists resource name:r0 role:Secondary suspended:no\\nexists -\\n")
    [{'action': 'exists', 'object': 'resource', 'fields': {'name': 'r0', 'role': 'Secondary', 'suspended': 'no'}}, {'action': 'exists', 'object': '-', 'fields': {}}]
    """
    tool = "drbdsetup events2"
    events: list[Model] = []
    for no, line in _lines(text):
        tokens = line.split()
        if not tokens:
            continue
        timestamp = None
        if _TIMESTAMP.match(tokens[0]):
            timestamp, tokens = tokens[0], tokens[1:]
        if len(tokens) < 2 or tokens[0] not in EVENTS2_ACTIONS:
            raise ParseError(tool, no, line, "expected '<action> <object> key:value...'")
        if tokens[1] not in EVENTS2_OBJECTS:
            raise ParseError(tool, no, line, f"unknown object {tokens[1]!r}")
        event: Model = {"action": tokens[0], "object": tokens[1],
                        "fields": _kv_tokens(tool, no, line, tokens[2:])}
        if timestamp:
            event["timestamp"] = timestamp
        events.append(event)
    return events


def events2_to_resources(events: list[Model]) -> list[Model]:
    """Fold ``parse_events2`` events (a ``--now`` snapshot, then change lines) into resource models.

    ``exists``/``create``/``change`` merge their fields into the object, ``destroy`` removes it
    (a destroyed resource takes its devices and connections with it). A ``change`` of a peer
    device's replication state drops the ``done``/``eta`` of an earlier resync. ``--statistics``
    fields fill ``out_of_sync_kib`` (``out-of-sync``, KiB) and ``eta_seconds`` (``eta``). On the
    8.4 module drbd-utils 9 reports every peer as ``peer-node-id:0`` (kept as printed).

    >>> events2_to_resources(parse_events2(
    ...     "exists resource name:r0 role:Primary suspended:no\\n"
    ...     "exists device name:r0 volume:0 minor:0 disk:UpToDate\\nexists -\\n"))
    [{'name': 'r0', 'role': 'Primary', 'suspended': False, 'volumes': [{'volume': 0, 'minor': 0, 'disk_state': 'UpToDate'}], 'peers': []}]
    """
    tool = "drbdsetup events2"
    resources: dict[str, Model] = {}
    devices: dict[tuple[str, int], Model] = {}
    connections: dict[tuple[str, int], Model] = {}
    peer_devices: dict[tuple[str, int, int], Model] = {}
    for event in events:
        obj, fields = event["object"], event["fields"]
        if obj not in ("resource", "connection", "device", "peer-device"):
            continue
        if "name" not in fields:
            raise ParseError(tool, 0, _event_line(event), "event without a resource name")
        try:
            name = fields["name"]
            if obj == "resource":
                key: Any = name
                table: dict[Any, Model] = resources
            elif obj == "device":
                key, table = (name, int(fields["volume"])), devices
            elif obj == "connection":
                key, table = (name, int(fields["peer-node-id"])), connections
            else:
                key = (name, int(fields["peer-node-id"]), int(fields["volume"]))
                table = peer_devices
        except (KeyError, ValueError) as err:
            raise ParseError(tool, 0, _event_line(event), f"missing or bad key field {err}")
        if event["action"] == "destroy":
            table.pop(key, None)
            if obj == "resource":
                for other in (devices, connections, peer_devices):
                    for k in [k for k in other if k[0] == name]:
                        del other[k]
            continue
        if event["action"] not in ("exists", "create", "change"):
            continue
        stored = table.setdefault(key, {})
        if obj == "peer-device" and "replication" in fields:
            stored.pop("done", None)
            stored.pop("eta", None)
        stored.update(fields)
    names = list(dict.fromkeys([*resources, *(k[0] for k in devices), *(k[0] for k in connections)]))
    return [_events2_model(n, resources.get(n, {}), devices, connections, peer_devices) for n in names]


def _event_line(event: Model) -> str:
    return " ".join([event["action"], event["object"], *(f"{k}:{v}" for k, v in event["fields"].items())])


def _opt_int(value: Optional[str]) -> Optional[int]:
    return None if value is None else int(value)


def _float_or_none(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _events2_model(name: str, res: Model, devices: dict, connections: dict, peer_devices: dict) -> Model:
    tool = "drbdsetup events2"
    suspended = res.get("suspended")
    model = _resource(name, res.get("role"), None if suspended is None else suspended != "no")
    try:
        for (rname, vol), dev in sorted(devices.items()):
            if rname == name:
                model["volumes"].append(_volume(vol, _opt_int(dev.get("minor")), dev.get("disk")))
        node_ids = sorted({k[1] for k in connections if k[0] == name} | {k[1] for k in peer_devices if k[0] == name})
        for node_id in node_ids:
            conn = connections.get((name, node_id), {})
            peer = _peer(conn.get("conn-name"), node_id, conn.get("connection"), conn.get("role"))
            for (rname, nid, vol), pdev in sorted(peer_devices.items()):
                if rname == name and nid == node_id:
                    peer["volumes"].append(_peer_volume(
                        vol, pdev.get("replication"), pdev.get("peer-disk"), _float_or_none(pdev.get("done")),
                        _seconds(_float_or_none(pdev.get("eta"))), _opt_int(pdev.get("out-of-sync"))))
            model["peers"].append(peer)
    except ValueError as err:
        raise ParseError(tool, 0, name, f"bad number in resource {name!r}: {err}")
    return model


# --------------------------------------------------------------------------- role / cstate / dstate
def _slash_lines(tool: str, text: str) -> list[tuple[int, str, list[str]]]:
    out = []
    for no, line in _lines(text):
        if not line.strip():
            continue
        parts = line.strip().split("/")
        if len(line.split()) != 1 or not all(re.match(r"^[A-Za-z]+$", p) for p in parts):
            raise ParseError(tool, no, line, "expected State or State/PeerState")
        out.append((no, line, parts))
    if not out:
        raise ParseError(tool, 0, "", "no output")
    return out


def parse_role(text: str) -> Model:
    """Parse ``drbdadm role <res>``: 8.4 prints ``Primary/Secondary``, DRBD 9 just ``Primary``.

    Schema: ``{"local": str, "peers": [str], "lines": [{"local", "peers"}, ...]}``; ``local`` and
    ``peers`` come from the first line, ``lines`` keeps every line (``role all`` prints one per
    resource or volume). Empty output raises ParseError (the tool always prints a role).

    >>> parse_role("Primary/Secondary\\n")["peers"]
    ['Secondary']
    """
    lines = [{"local": parts[0], "peers": parts[1:]} for _, _, parts in _slash_lines("drbdadm role", text)]
    return {"local": lines[0]["local"], "peers": lines[0]["peers"], "lines": lines}


def parse_dstate(text: str) -> Model:
    """Parse ``drbdadm dstate <res>``: ``UpToDate/Inconsistent`` (one peer per ``/``), one line a volume.

    Schema: ``{"local": str, "peers": [str], "lines": [{"local", "peers"}, ...]}`` (first line on
    top). A resource that is down prints its on-disk state only (``Consistent``): ``peers == []``.

    >>> parse_dstate("UpToDate/Inconsistent\\n")["local"]
    'UpToDate'
    """
    lines = [{"local": parts[0], "peers": parts[1:]} for _, _, parts in _slash_lines("drbdadm dstate", text)]
    return {"local": lines[0]["local"], "peers": lines[0]["peers"], "lines": lines}


def parse_cstate(text: str) -> Model:
    """Parse ``drbdadm cstate <res>`` (8.4: one line a resource; 9: one line a connection).

    Schema: ``{"connection_state": str, "replication_state": str|None, "lines": [{...}, ...]}``.
    8.4 replication names are split as in the model (``SyncSource`` -> Connected + SyncSource).
    A bare ``Connected`` reads the same from 8.4 and 9, so its replication state is ``None``.

    >>> parse_cstate("SyncSource\\n")["replication_state"]
    'SyncSource'
    """
    lines = []
    for no, line, parts in _slash_lines("drbdadm cstate", text):
        if len(parts) != 1:
            raise ParseError("drbdadm cstate", no, line, "expected one connection state")
        conn, repl = split_cstate_84(parts[0])
        lines.append({"connection_state": conn, "replication_state": None if parts[0] == "Connected" else repl})
    return {**lines[0], "lines": lines}


# --------------------------------------------------------------------------- get-gi
def parse_gi(text: str) -> Model:
    """Parse ``drbdadm get-gi <res>`` (generation identifiers), one line per volume.

    8.4 (v08 metadata) prints 4 UUIDs and 7 flags, DRBD 9 (v09, per peer) 4 UUIDs and 12 flags::

        9F74E844602961A9:6A6F8714B4C1BC5E:0000000000000004:0000000000000000:1:1:1:1:0:1:0

    Schema: ``{"current_uuid": str, "bitmap_uuid": str, "history_uuids": [str, str],
    "flags": {name: bool}, "initial": bool, "lines": [{the same keys but lines}, ...]}``; the
    top level is the first line (volume), except ``initial``, which holds only when every line is
    initial. Flag names follow ``show-gi``'s legend (8.4: consistent, was_up_to_date, primary,
    connected, full_sync, peer_out_of_date, crashed_primary; 9: consistent, was_up_to_date,
    primary, crashed_primary, al_clean, al_disabled, primary_lost_quorum, then the peer flags
    connected, peer_out_of_date, fencing, full_sync, peer_device_seen).

    ``initial`` is True for metadata that never saw data: the real captures of a freshly created
    resource (stage 02, ``create-md`` not up, and stage 03, connected Secondary/Secondary
    Inconsistent) show the current UUID ``0000000000000004`` (DRBD's UUID_JUST_CREATED; bit 0 is
    the primary bit) with bitmap and history UUIDs all zero; the first ``primary --force`` or
    ``new-current-uuid`` replaces it (stage 04 shows ``...:0000000000000004:`` moved to history).

    >>> parse_gi("0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:1:0:1:0")["initial"]
    True
    """
    tool = "drbdadm get-gi"
    lines = [_gi_line(tool, no, line) for no, line in _lines(text) if line.strip()]
    if not lines:
        raise ParseError(tool, 0, "", "no output")
    return {**lines[0], "initial": all(line["initial"] for line in lines), "lines": lines}


def gi_uuids(gi: Any) -> Optional[Model]:
    """The identity of a node's data for comparing two nodes: ``get-gi`` text or ``parse_gi``'s dict
    (what ``drbd.get_gi`` returns) -> ``{"current": int, "bitmap": int, "history": [int, int]}``,
    the primary bit (bit 0) cleared; None when ``gi`` is None or not a GI. Built on ``parse_gi``.

    >>> gi_uuids("9F74E844602961A9:0000000000000000:6A6F8714B4C1BC5E:0000000000000004:1:1:1:1:0:0:0")["current"]
    11490063929697722792
    """
    if gi is None:
        return None
    if not isinstance(gi, dict):
        try:
            gi = parse_gi(str(gi))
        except ParseError:
            return None
    try:
        current, bitmap = int(gi["current_uuid"], 16), int(gi["bitmap_uuid"], 16)
        history = [int(h, 16) for h in gi["history_uuids"]]
    except (KeyError, TypeError, ValueError):
        return None
    return {"current": current & ~1, "bitmap": bitmap & ~1, "history": [h & ~1 for h in history]}


def _gi_line(tool: str, no: int, line: str) -> Model:
    parts = line.strip().split(":")
    uuids = [p for p in parts if _UUID.match(p)]
    flags = parts[len(uuids):]
    if len(uuids) != 4 or parts[:4] != uuids or not all(f in ("0", "1") for f in flags):
        raise ParseError(tool, no, line, "expected 4 UUIDs and 0/1 flags separated by ':'")
    names = {len(GI_FLAGS_84): GI_FLAGS_84, len(GI_FLAGS_9): GI_FLAGS_9}.get(len(flags))
    if names is None:
        raise ParseError(tool, no, line, f"expected 7 (8.4) or 12 (9) flags, got {len(flags)}")
    values = [int(u, 16) for u in uuids]
    return {
        "current_uuid": uuids[0].upper(),
        "bitmap_uuid": uuids[1].upper(),
        "history_uuids": [u.upper() for u in uuids[2:]],
        "flags": {name: flag == "1" for name, flag in zip(names, flags, strict=True)},
        "initial": values[0] & ~1 == UUID_JUST_CREATED and not any(values[1:]),
    }


# --------------------------------------------------------------------------- version
def parse_version(text: str) -> Model:
    """Parse ``drbdadm --version`` (``KEY=VALUE`` lines).

    Schema: ``{"utils": "9.22.0", "kernel": "8.4.11"|None, "api": 2|None}``. ``kernel`` is
    ``DRBD_KERNEL_VERSION``; it is None when the module is not loaded (drbd-utils prints ``0``
    or, for 8.4, no such line). Lines that are not drbdadm's (``modinfo: ERROR: Module drbd not
    found.`` on stderr when the module is missing) are skipped; a ``DRBD...`` line that is not
    ``KEY=VALUE`` is malformed.

    >>> parse_version("DRBDADM_API_VERSION=2\\nDRBD_KERNEL_VERSION=9.2.12\\nDRBDADM_VERSION=9.22.0\\n")
    {'utils': '9.22.0', 'kernel': '9.2.12', 'api': 2}
    """
    tool = "drbdadm --version"
    values: dict[str, tuple[int, str, str]] = {}
    for no, line in _lines(text):
        if not line.strip():
            continue
        key, sep, value = line.strip().partition("=")
        if not line.startswith("DRBD"):
            continue
        if not sep or not re.match(r"^[A-Z][A-Z0-9_]*$", key):
            raise ParseError(tool, no, line, "expected KEY=VALUE")
        values[key] = (no, line, value)
    if "DRBDADM_VERSION" not in values:
        raise ParseError(tool, 0, "", "no DRBDADM_VERSION line")
    kernel = values.get("DRBD_KERNEL_VERSION", (0, "", ""))[2]
    api = values.get("DRBDADM_API_VERSION")
    return {
        "utils": values["DRBDADM_VERSION"][2],
        "kernel": kernel if kernel not in ("", "0") else None,
        "api": None if api is None else _to_int(tool, api[0], api[1], api[2], "DRBDADM_API_VERSION"),
    }


# --------------------------------------------------------------------------- drbdadm dump
_DUMP_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


def config_walk(tool: str, text: str) -> Iterator[tuple[str, int, str, list[list[str]], list[str]]]:
    """Tokenise DRBD config text (``.res``, ``drbd.conf``, ``drbdadm dump``): the one reader of it.

    Yields ``("section", line_no, line, stack, header)`` when a section opens (``stack`` ends with
    its ``header``, e.g. ``["on", "node1"]``) and ``("statement", line_no, line, stack, words)`` at
    each ``;`` (``["device", "/dev/drbd0", "minor", "0"]``). Double-quoted words are unquoted;
    ``#`` comments are skipped. Raw tokenising only: no value is converted. ParseError on a section
    without a name, a missing ``;``, an unbalanced ``}`` or an unclosed section.

    >>> [(k, w) for k, _n, _l, _s, w in config_walk("t", 'resource "r0" { device minor 1; }')]
    [('section', ['resource', 'r0']), ('statement', ['device', 'minor', '1'])]
    """
    stack: list[list[str]] = []
    stmt: list[str] = []
    last = (0, "")
    for no, line in _lines(text):
        last = (no, line)
        code = line.split("#", 1)[0] if "#" in line else line
        for tok in _DUMP_TOKEN.findall(code):
            if tok == "{":
                if not stmt:
                    raise ParseError(tool, no, line, "section without a name")
                stack.append(stmt)
                yield "section", no, line, stack, stmt
                stmt = []
            elif tok == "}":
                if stmt:
                    raise ParseError(tool, no, line, f"missing ';' after {' '.join(stmt)!r}")
                if not stack:
                    raise ParseError(tool, no, line, "unbalanced '}'")
                stack.pop()
            elif tok == ";":
                if stmt:
                    yield "statement", no, line, stack, stmt
                stmt = []
            else:
                stmt.append(re.sub(r"\\(.)", r"\1", tok[1:-1]) if len(tok) > 1 and tok[0] == tok[-1] == '"' else tok)
    if stack or stmt:
        raise ParseError(tool, last[0], last[1], "unexpected end of input (unclosed section)")


_DRBD_DEVICE = re.compile(r"/dev/drbd(\d+)")


def _device_minor(tool: str, no: int, line: str, words: list[str]) -> Optional[int]:
    """The minor a ``device`` statement names: ``minor N`` (``device [PATH] minor N``), else the N of
    a ``/dev/drbdN`` path; None for a path without a number (``/dev/drbd_r0`` with no ``minor``)."""
    if "minor" in words:
        idx = words.index("minor")
        value = words[idx + 1] if idx + 1 < len(words) else ""
    else:
        match = _DRBD_DEVICE.fullmatch(words[1]) if len(words) > 1 else None
        if match is None:
            return None
        value = match.group(1)
    if not (value.isascii() and value.isdigit()) or len(value) > 7:  # minors have 20 bits
        raise ParseError(tool, no, line, "expected a minor number (at most 7 digits) after 'minor' / /dev/drbd")
    return to_int(tool, no, line, value, "minor")


def config_minors(texts: Iterable[str]) -> dict[int, str]:
    """Map DRBD minors to resource names from config texts (``.res``/``drbd.conf``/``drbdadm dump``).

    Built on ``config_walk``: every ``device`` statement inside a top-level ``resource`` section
    (at resource level, in ``on`` or ``volume`` sections) names a minor; the first resource to
    name a minor keeps it. Texts without resources give ``{}``; malformed text is a ParseError.
    This is what names the minors of /proc/drbd (DRBD 8.4) for ``drbd.status`` and the grains.

    >>> config_minors(['resource "r0" { on a { device /dev/drbd0; } }', 'resource r1 {\\n device minor 1;\\n}'])
    {0: 'r0', 1: 'r1'}
    """
    tool = "drbd config"
    out: dict[int, str] = {}
    for text in texts:
        for kind, no, line, stack, words in config_walk(tool, text):
            if kind != "statement" or words[0] != "device" or not stack or stack[0][0] != "resource" \
                    or len(stack[0]) < 2:
                continue
            minor = _device_minor(tool, no, line, words)
            if minor is not None:
                out.setdefault(minor, stack[0][1])
    return out


def config_resources(texts: Iterable[str]) -> list[str]:
    """Resource names declared in config texts (top-level ``resource NAME {``), in order, once each.

    >>> config_resources(["resource r0 {}", "# resource rX {\\nresource r1 {}"])
    ['r0', 'r1']
    """
    names: list[str] = []
    for text in texts:
        for kind, _no, _line, stack, header in config_walk("drbd config", text):
            if kind == "section" and len(stack) == 1 and header[0] == "resource" and len(header) > 1 \
                    and header[1] not in names:
                names.append(header[1])
    return names


def parse_dump_minors(text: str) -> dict[str, dict[str, int]]:
    """Parse ``drbdadm dump [all]`` (the canonical config) into ``{resource: {host: minor}}``.

    The minor comes from ``device ... minor N;``: in each ``on HOST`` section (8.4 dumps), or at
    resource level (DRBD 9 dumps keep the ``volume`` sections both hosts share there), which then
    holds for every ``on`` host without its own. With several volumes the lowest volume wins.
    Comments are ignored. Empty input gives ``{}``. Callers pick their host (``uname -n``).
    Read with ``config_walk``.

    >>> parse_dump_minors("resource r0 { on n1 { device /dev/drbd0 minor 0; } on n2 { device minor 3; } }")
    {'r0': {'n1': 0, 'n2': 3}}
    """
    tool = "drbdadm dump"
    out: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, Optional[str]], int] = {}  # (resource, host or None) -> lowest volume
    out_shared: dict[str, int] = {}  # resource-level minor
    for kind, no, line, stack, stmt in config_walk(tool, text):
        if kind == "section":
            if stmt[0] == "resource" and len(stack) == 1:
                if len(stmt) < 2:
                    raise ParseError(tool, no, line, "resource without a name")
                out.setdefault(stmt[1], {})
            if stmt[0] == "on" and len(stmt) > 1 and stack[0][0] == "resource" and len(stack) == 2:
                seen.setdefault((stack[0][1], stmt[1]), 1 << 30)
        elif stmt[0] == "device":
            _dump_device(tool, no, line, stack, stmt, out, seen, out_shared)
    for res, hosts in out.items():
        for host in [k[1] for k in seen if k[0] == res and k[1] is not None]:
            if (res, None) in seen and host not in hosts:
                hosts[host] = out_shared[res]
    return out


def _dump_device(tool: str, no: int, line: str, stack: list[list[str]], stmt: list[str],
                 out: dict[str, dict[str, int]], seen: dict[tuple[str, Optional[str]], int],
                 shared: dict[str, int]) -> None:
    if not stack or stack[0][0] != "resource" or "minor" not in stmt:
        return
    idx = stmt.index("minor")
    if idx + 1 >= len(stmt) or not stmt[idx + 1].isascii() or not stmt[idx + 1].isdigit():
        raise ParseError(tool, no, line, "expected a number after 'minor'")
    minor = to_int(tool, no, line, stmt[idx + 1], "minor")
    hosts = [sec[1] for sec in stack if sec[0] == "on" and len(sec) > 1]
    volumes = [sec for sec in stack if sec[0] == "volume"]
    number = volumes[-1][1] if volumes and len(volumes[-1]) > 1 else ""
    volume = to_int(tool, no, line, number, "volume") if number.isascii() and number.isdigit() else 0
    key = (stack[0][1], hosts[-1] if hosts else None)
    if key in seen and volume >= seen[key]:
        return
    seen[key] = volume
    if key[1] is None:
        shared[key[0]] = minor
    else:
        out[key[0]][key[1]] = minor


# --------------------------------------------------------------------------- the one state reader
#: ``run(argv) -> (retcode, stdout, stderr)``: how a caller runs a status command (no shell)
Runner = Callable[[list[str]], tuple[int, str, str]]


def kernel_version(proc_text: Optional[str]) -> Optional[str]:
    """The loaded module's version from the first line of /proc/drbd; None when DRBD is not loaded.

    >>> kernel_version("version: 8.4.11 (api:1/proto:86-101)\\n"), kernel_version(None)
    ('8.4.11', None)
    """
    first = (proc_text or "").split("\n", 1)[0].split()
    return first[1] if len(first) > 1 and first[0] == "version:" else None


def read_state(proc_text: Optional[str], config_texts: Callable[[], Iterable[str]], run: Runner, *,
               drbdsetup: str = "drbdsetup", drbdadm: Optional[str] = None,
               on_error: Optional[Callable[[str], None]] = None) -> Model:
    """Read DRBD's state the one way the module, the grains and (through ``drbd.status``) the
    beacon share: ``{"version": "8.4.11" | None, "resources": {name: model}}`` (the resource model
    of the module docstring; ``resources`` is empty when DRBD is not loaded).

    ``proc_text`` is /proc/drbd (None: not there). DRBD 8.4 runs no command: /proc/drbd, its
    minors named by ``config_minors(config_texts())``. DRBD 9 runs ``drbdsetup status --json``
    through ``run``; when that exits non-zero, ``drbdadm status all`` (only with ``drbdadm``
    given), else no resources; ``on_error`` hears why. A model without a name is named after its
    first minor. ParseError on malformed output; ``run``'s own exceptions pass through.
    """
    version = kernel_version(proc_text)
    if version is None:
        return {"version": None, "resources": {}}
    if version.startswith("8."):
        models = parse_proc_drbd(proc_text or "", config_minors(config_texts()))["resources"]
    else:
        code, out, err = run([drbdsetup, "status", "--json"])
        if code == 0:
            models = parse_drbdsetup_status_json(out)
        else:
            if on_error is not None:
                on_error(f"{drbdsetup} status --json exited {code}: {err.strip()[:200]}")
            models = []
            if drbdadm is not None:
                code, out, err = run([drbdadm, "status", "all"])
                models = parse_drbdadm_status(out) if code == 0 else []
    resources: dict[str, Model] = {}
    for model in models:
        name = model.get("name")
        if name is None:
            name = str((model.get("volumes") or [{}])[0].get("minor"))
            model = dict(model, name=name)
        resources[name] = model
    return {"version": version, "resources": resources}
