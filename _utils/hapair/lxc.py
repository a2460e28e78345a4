"""LXC containers whose lxcpath lives on a DRBD filesystem (seed 003): parsers, argv, config, planners.

Seed 003 keeps each resource's containers under ``<mountpoint>/containers`` on its Btrfs
filesystem, so a container moves with its DRBD resource: created once (``lxc-create -B btrfs``)
on the node where the resource is Primary and mounted, started there, stopped before the
filesystem is unmounted, started again on the other node after a failover. Its config and fstab
are files in that lxcpath: they move with the filesystem (the seed's ``scp`` of them is not
needed). Every value comes from the normalised topology's ``groups[g]["containers"]``::

    {"name": "c1", "template": "busybox", "backing": "btrfs", "link": "br0" | None,
     "lxcpath": "/srv/store1/containers"}

and passes its whitelist again here (``hapair.fields.require``) before it reaches an argv or
the container's config.

- Parsers (LXC 5.0.2 captures in tests/fixtures/lxc): :func:`parse_info` (``lxc-info``, also its
  ``-s -p -H`` form), :func:`parse_ls` (``lxc-ls -f -F NAME,STATE,PID``),
  :func:`parse_snapshots` (``lxc-snapshot -L``); each raises only ``ParseError``.
- argv builders, every one with ``-P <lxcpath> -n <name>``: :func:`create_argv`,
  :func:`start_argv`, :func:`stop_argv`, :func:`wait_argv`, :func:`info_argv`, :func:`ls_argv`,
  :func:`snapshot_argv`, :func:`snapshot_list_argv`, :func:`snapshot_delete_argv`.
- The lines hapair keeps in a container's config (:func:`render_config_overrides`,
  :func:`apply_overrides`): AppArmor unconfined, the network (empty, or veth on ``link``), never
  autostarted by the system.
- Planners on facts (``hapair_lxc.facts``): :func:`plan_create`, :func:`plan_config`,
  :func:`plan_present`, :func:`plan_running`, :func:`plan_stopped`.

>>> create_argv({"name": "c1", "template": "busybox", "backing": "btrfs", "lxcpath": "/srv/store1/containers"})
['lxc-create', '-P', '/srv/store1/containers', '-n', 'c1', '-t', 'busybox', '-B', 'btrfs']
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Mapping

from hapair.errors import NotReadyError, ParseError, RefusedError, RenderError
from hapair.fields import require

#: The states lxc-info and lxc-ls print (LXC's ``lxc_state_t``).
STATES = ("STOPPED", "STARTING", "RUNNING", "STOPPING", "ABORTING", "FREEZING", "FROZEN", "THAWED")
#: The backing stores hapair creates containers on: Btrfs (snapshots and clones are subvolumes).
BACKINGS = ("btrfs",)
#: Seconds lxc-stop waits for a clean halt before it kills, and lxc-wait for RUNNING.
STOP_TIMEOUT = 30
WAIT_TIMEOUT = 30
#: The config keys hapair owns in a container's config; every other line is the template's.
MANAGED_KEYS = ("lxc.apparmor.profile", "lxc.net.0.type", "lxc.net.0.link", "lxc.net.0.flags", "lxc.start.auto")
#: The comment line above hapair's block in a container's config.
MARKER = "# hapair: kept by hapair_lxc.present (AppArmor, network, no autostart at boot)"
#: The word lxc-info and lxc-ls print for a container that is not defined in the lxcpath.
MISSING = "doesn't exist"

_INFO_LINE = re.compile(r"\s*([A-Za-z][A-Za-z0-9 ]*?):\s*(.*?)\s*")
_SNAPSHOT_LINE = re.compile(r"(\S+) \((/\S*)\) (\d{4}):(\d{2}):(\d{2}) (\d{2}:\d{2}:\d{2})")
_LS_HEADER = ["NAME", "STATE", "PID"]


# --------------------------------------------------------------------------- parsers
def _tokens(tool: str, text: str) -> list[tuple[int, str, str]]:
    """``lxc-info``'s ``Key:   value`` lines as ``(line_no, key, value)``; blank lines skipped."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _INFO_LINE.fullmatch(line)
        if match is None:
            raise ParseError(tool, number, line, "not a 'Key: value' line")
        out.append((number, match.group(1), match.group(2)))
    return out


def parse_info(text: str) -> dict[str, Any]:
    """Parse ``lxc-info -P P -n N`` (or its ``-s -p -H`` form, which prints no ``Name``).

    Schema: ``{"name": str | None, "state": one of STATES, "pid": int | None}`` (``pid`` only
    while it runs; the statistics lines a running container may add, ``CPU use``, ``Link``...,
    are read and left out). A text without a ``State`` line, an unknown state or a PID that is
    not a number raise ParseError.

    >>> parse_info("Name:           c1\\nState:          RUNNING\\nPID:            978\\n")
    {'name': 'c1', 'state': 'RUNNING', 'pid': 978}
    >>> parse_info("State:          STOPPED\\n")
    {'name': None, 'state': 'STOPPED', 'pid': None}
    """
    out: dict[str, Any] = {"name": None, "state": None, "pid": None}
    for number, key, value in _tokens("lxc-info", text):
        if key == "Name":
            out["name"] = value
        elif key == "State":
            if value not in STATES:
                raise ParseError("lxc-info", number, f"{key}: {value}", f"unknown state (one of {', '.join(STATES)})")
            out["state"] = value
        elif key == "PID":
            if not value.isdigit():
                raise ParseError("lxc-info", number, f"{key}: {value}", "the PID is not a number")
            out["pid"] = int(value)
    if out["state"] is None:
        raise ParseError("lxc-info", 0, text[:80], "no State line")
    return out


def parse_ls(text: str) -> dict[str, dict[str, Any]]:
    """Parse ``lxc-ls -P P -f -F NAME,STATE,PID``: ``{name: {"state", "pid": int | None}}``.

    ``""`` (no container in the lxcpath: lxc-ls prints nothing) is ``{}``; a header other than
    ``NAME STATE PID``, a row of another width, an unknown state or a PID that is neither a number
    nor ``-`` raise ParseError.

    >>> parse_ls("NAME STATE   PID \\nc1   STOPPED -   \\n")
    {'c1': {'state': 'STOPPED', 'pid': None}}
    """
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        return {}
    number, header = lines[0]
    if header.split() != _LS_HEADER:
        raise ParseError("lxc-ls", number, header, f"expected the header {' '.join(_LS_HEADER)}")
    out: dict[str, dict[str, Any]] = {}
    for number, line in lines[1:]:
        fields = line.split()
        if len(fields) != len(_LS_HEADER):
            raise ParseError("lxc-ls", number, line, f"expected {len(_LS_HEADER)} columns")
        name, state, pid = fields
        if state not in STATES:
            raise ParseError("lxc-ls", number, line, f"unknown state {state!r}")
        if pid != "-" and not pid.isdigit():
            raise ParseError("lxc-ls", number, line, "the PID is neither a number nor '-'")
        out[name] = {"state": state, "pid": None if pid == "-" else int(pid)}
    return out


def parse_snapshots(text: str) -> list[dict[str, str]]:
    """Parse ``lxc-snapshot -P P -n N -L``: ``[{"name": "snap0", "path": "/srv/.../c1/snaps",
    "time": "2026-12-03T10:29:46"}]`` in the order printed (``No snapshots``: ``[]``).

    >>> parse_snapshots("snap0 (/srv/store1/containers/c1/snaps) 2026:12:03 10:29:46\\n")
    [{'name': 'snap0', 'path': '/srv/store1/containers/c1/snaps', 'time': '2026-12-03T10:29:46'}]
    >>> parse_snapshots("No snapshots\\n")
    []
    """
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if [line for _, line in lines] == ["No snapshots"]:
        return []
    if not lines:
        raise ParseError("lxc-snapshot", 0, text, "no output (it prints 'No snapshots' when there are none)")
    out = []
    for number, line in lines:
        match = _SNAPSHOT_LINE.fullmatch(line)
        if match is None:
            raise ParseError("lxc-snapshot", number, line, "not '<name> (<path>) <YYYY:MM:DD> <HH:MM:SS>'")
        name, path, year, month, day, clock = match.groups()
        out.append({"name": name, "path": path, "time": f"{year}-{month}-{day}T{clock}"})
    return out


def is_missing(text: str, name: str) -> bool:
    """True when lxc-info's output (stdout and stderr) says container ``name`` is not defined:
    ``<name> doesn't exist`` (exit 1).

    >>> is_missing("nosuch doesn't exist\\n", "nosuch"), is_missing("State: RUNNING", "c1")
    (True, False)
    """
    return any(line.strip() == f"{name} {MISSING}" for line in text.splitlines())


# --------------------------------------------------------------------------- argv
def _checked(container: Mapping[str, Any]) -> tuple[str, str]:
    """``(lxcpath, name)`` of a container, both through their whitelists."""
    return (require("path", container["lxcpath"], "lxcpath"),
            require("hostname", container["name"], "container name"))


def _base(tool: str, container: Mapping[str, Any], binary: str | None) -> list[str]:
    lxcpath, name = _checked(container)
    return [binary or tool, "-P", lxcpath, "-n", name]


def create_argv(container: Mapping[str, Any], binary: str | None = None) -> list[str]:
    """``lxc-create -P P -n N -t <template> -B <backing>`` (``backing`` one of BACKINGS, default btrfs).

    >>> create_argv({"name": "c1", "template": "busybox", "backing": "lvm", "lxcpath": "/srv/s/containers"})
    Traceback (most recent call last):
    ...
    hapair.errors.RenderError: backing: 'lvm' is not one of btrfs
    """
    backing = container.get("backing") or "btrfs"
    if backing not in BACKINGS:
        raise RenderError(f"backing: {backing!r} is not one of {', '.join(BACKINGS)}")
    return [*_base("lxc-create", container, binary), "-t", require("token", container["template"], "template"),
            "-B", backing]


def start_argv(container: Mapping[str, Any], binary: str | None = None) -> list[str]:
    """``lxc-start -P P -n N -d`` (daemonised: returns once the container is started).

    >>> start_argv({"name": "c1", "lxcpath": "/srv/store1/containers"})
    ['lxc-start', '-P', '/srv/store1/containers', '-n', 'c1', '-d']
    """
    return [*_base("lxc-start", container, binary), "-d"]


def _seconds(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RenderError(f"{what}: {value!r} is not a whole number of seconds (>= 1)")
    return str(value)


def stop_argv(container: Mapping[str, Any], timeout: int = STOP_TIMEOUT, binary: str | None = None) -> list[str]:
    """``lxc-stop -P P -n N -t <timeout>`` (a clean halt, killed after ``timeout`` seconds).

    >>> stop_argv({"name": "c1", "lxcpath": "/srv/store1/containers"}, 10)
    ['lxc-stop', '-P', '/srv/store1/containers', '-n', 'c1', '-t', '10']
    """
    return [*_base("lxc-stop", container, binary), "-t", _seconds(timeout, "timeout")]


def wait_argv(container: Mapping[str, Any], state: str = "RUNNING", timeout: int = WAIT_TIMEOUT,
              binary: str | None = None) -> list[str]:
    """``lxc-wait -P P -n N -s <state> -t <timeout>`` (exit 0 once in ``state``, 1 after ``timeout``).

    >>> wait_argv({"name": "c1", "lxcpath": "/srv/store1/containers"})[-4:]
    ['-s', 'RUNNING', '-t', '30']
    """
    if state not in STATES:
        raise RenderError(f"state: {state!r} is not one of {', '.join(STATES)}")
    return [*_base("lxc-wait", container, binary), "-s", state, "-t", _seconds(timeout, "timeout")]


def info_argv(container: Mapping[str, Any], binary: str | None = None) -> list[str]:
    """``lxc-info -P P -n N -s -p -H``: state and PID only (:func:`parse_info`).

    >>> info_argv({"name": "c1", "lxcpath": "/srv/store1/containers"})
    ['lxc-info', '-P', '/srv/store1/containers', '-n', 'c1', '-s', '-p', '-H']
    """
    return [*_base("lxc-info", container, binary), "-s", "-p", "-H"]


def ls_argv(lxcpath: str, binary: str | None = None) -> list[str]:
    """``lxc-ls -P P -f -F NAME,STATE,PID`` (:func:`parse_ls`; every container of an lxcpath).

    >>> ls_argv("/srv/store1/containers")
    ['lxc-ls', '-P', '/srv/store1/containers', '-f', '-F', 'NAME,STATE,PID']
    """
    return [binary or "lxc-ls", "-P", require("path", lxcpath, "lxcpath"), "-f", "-F", ",".join(_LS_HEADER)]


def snapshot_argv(container: Mapping[str, Any], binary: str | None = None) -> list[str]:
    """``lxc-snapshot -P P -n N``: a new snapshot ``snap<N>`` (a Btrfs subvolume under ``<N>/snaps``).

    >>> snapshot_argv({"name": "c1", "lxcpath": "/srv/store1/containers"})
    ['lxc-snapshot', '-P', '/srv/store1/containers', '-n', 'c1']
    """
    return _base("lxc-snapshot", container, binary)


def snapshot_list_argv(container: Mapping[str, Any], binary: str | None = None) -> list[str]:
    """``lxc-snapshot -P P -n N -L`` (:func:`parse_snapshots`)."""
    return [*_base("lxc-snapshot", container, binary), "-L"]


def snapshot_delete_argv(container: Mapping[str, Any], snapshot: str, binary: str | None = None) -> list[str]:
    """``lxc-snapshot -P P -n N -d <snapshot>``.

    >>> snapshot_delete_argv({"name": "c1", "lxcpath": "/srv/s/containers"}, "snap0")[-2:]
    ['-d', 'snap0']
    """
    return [*_base("lxc-snapshot", container, binary), "-d", require("name", snapshot, "snapshot")]


# --------------------------------------------------------------------------- config
def config_path(container: Mapping[str, Any]) -> str:
    """``<lxcpath>/<name>/config``: the container's config, on the DRBD filesystem with it.

    >>> config_path({"name": "c1", "lxcpath": "/srv/store1/containers"})
    '/srv/store1/containers/c1/config'
    """
    lxcpath, name = _checked(container)
    return os.path.join(lxcpath, name, "config")


def render_config_overrides(container: Mapping[str, Any]) -> list[str]:
    """The config lines hapair keeps (``MANAGED_KEYS``): AppArmor unconfined (the nodes have no
    ``apparmor_parser``), the network (``empty`` without a ``link``, else veth on that bridge,
    up), and ``lxc.start.auto = 0``: the system never starts it at boot, its group does.

    >>> render_config_overrides({"name": "c1", "link": None})
    ['lxc.apparmor.profile = unconfined', 'lxc.net.0.type = empty', 'lxc.start.auto = 0']
    >>> render_config_overrides({"name": "c1", "link": "br0"})[1:4]
    ['lxc.net.0.type = veth', 'lxc.net.0.link = br0', 'lxc.net.0.flags = up']
    """
    lines = ["lxc.apparmor.profile = unconfined"]
    link = container.get("link")
    if link is None:
        lines.append("lxc.net.0.type = empty")
    else:
        lines += ["lxc.net.0.type = veth", f"lxc.net.0.link = {require('interface', link, 'link')}",
                  "lxc.net.0.flags = up"]
    lines.append("lxc.start.auto = 0")
    return lines


def _key(line: str) -> str | None:
    """The key of an active ``key = value`` config line (None for comments and blank lines)."""
    text = line.strip()
    if not text or text.startswith("#") or "=" not in text:
        return None
    return text.split("=", 1)[0].strip()


def managed_lines(config_text: str) -> list[str]:
    """The active lines of ``config_text`` whose key hapair keeps, stripped, in file order.

    >>> managed_lines("lxc.net.0.type = empty\\n#lxc.start.auto = 1\\nlxc.uts.name = c1\\n")
    ['lxc.net.0.type = empty']
    """
    return [line.strip() for line in config_text.splitlines() if _key(line) in MANAGED_KEYS]


def apply_overrides(config_text: str, container: Mapping[str, Any]) -> str:
    """``config_text`` with every active line of a ``MANAGED_KEYS`` key (and hapair's marker)
    removed and hapair's block (:func:`render_config_overrides`, under ``MARKER``) appended;
    every other line (comments, the template's rootfs, mounts, caps...) kept as it was.
    Idempotent: ``apply_overrides(apply_overrides(t, c), c) == apply_overrides(t, c)``.

    >>> print(apply_overrides("lxc.net.0.type = veth\\nlxc.net.0.link = lxcbr0\\nlxc.uts.name = c1\\n",
    ...                       {"name": "c1", "link": None}), end="")
    lxc.uts.name = c1
    <BLANKLINE>
    # hapair: kept by hapair_lxc.present (AppArmor, network, no autostart at boot)
    lxc.apparmor.profile = unconfined
    lxc.net.0.type = empty
    lxc.start.auto = 0
    """
    block = render_config_overrides(container)
    kept = [line for line in config_text.splitlines() if line.strip() != MARKER and _key(line) not in MANAGED_KEYS]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, *([""] if kept else []), MARKER, *block]) + "\n"


# --------------------------------------------------------------------------- planners
class Plan(list):
    """A planner's steps (a plain list) with ``reason``: why it is empty, when it is.

    >>> p = Plan([], reason="not here: /srv/store1/containers is not mounted on node2")
    >>> p == [], p.reason
    (True, 'not here: /srv/store1/containers is not mounted on node2')
    """

    def __init__(self, steps: Iterable[dict[str, Any]] = (), reason: str = ""):
        super().__init__(steps)
        self.reason = reason


def holding_mount(path: str, mounts: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The mount ``path`` lies in: the one with the longest mountpoint that is ``path`` or one of
    its parents (``hapair.parsing.parse_proc_mounts`` rows); None when nothing is (no ``/``).

    >>> holding_mount("/srv/store1/containers", [{"device": "/dev/vda1", "mountpoint": "/"},
    ...                {"device": "/dev/drbd0", "mountpoint": "/srv/store1"}])["device"]
    '/dev/drbd0'
    """
    best: dict[str, Any] | None = None
    for mount in mounts:
        point = mount["mountpoint"].rstrip("/") or "/"
        inside = path == point or path.startswith(point if point == "/" else point + "/")
        if inside and (best is None or len(point) > len(best["mountpoint"].rstrip("/") or "/")):
            best = dict(mount)
    return best


def on_filesystem(lxcpath: str, mounts: Iterable[Mapping[str, Any]], device: str | None = None) -> bool:
    """True when ``lxcpath`` lies in a mounted filesystem other than ``/`` (:func:`holding_mount`)
    and, with ``device`` (the DRBD resource's device here, resolved as the mounts' are), that
    filesystem is on ``device``: the ``mounted`` fact of the planners.

    >>> rows = [{"device": "/dev/vda1", "mountpoint": "/"}, {"device": "/dev/drbd0", "mountpoint": "/srv/store1"}]
    >>> on_filesystem("/srv/store1/containers", rows, "/dev/drbd0"), on_filesystem("/srv/store2/containers", rows)
    (True, False)
    """
    mount = holding_mount(lxcpath, mounts)
    if mount is None or (mount["mountpoint"].rstrip("/") or "/") == "/":
        return False
    return device is None or mount["device"] == device


def not_here(container: Mapping[str, Any], facts: Mapping[str, Any]) -> str:
    """``"not here: ..."`` when the container's lxcpath is not on its mounted filesystem on this
    node (it lives where its resource is Primary and mounted), else ``""``.

    >>> not_here({"name": "c1", "lxcpath": "/srv/s/containers"}, {"node": "node2", "mounted": False})
    'not here: /srv/s/containers is not on its filesystem mounted on node2 (c1 runs where it is)'
    """
    if facts.get("mounted"):
        return ""
    where = facts.get("node") or "this node"
    return (f"not here: {container['lxcpath']} is not on its filesystem mounted on {where} "
            f"({container['name']} runs where it is)")


def plan_create(container: Mapping[str, Any], facts: Mapping[str, Any], binary: str | None = None
                ) -> list[dict[str, Any]]:
    """Plan creating a container once; pure.

    ``facts``: ``{"mounted": bool (lxcpath on its filesystem, mounted here), "role": DRBD role
    here | None (no resource), "exists": bool, "resource": name | None, "node": str}``.

    - Exists: ``[]``.
    - Not mounted: NotReadyError (waits for the filesystem mounted here).
    - A resource that is not Primary here: RefusedError (never created on the Secondary: the
      Primary's copy would be another container of the same name).
    - Else ``[{"action": "create", "argv": create_argv, "key": "container", "old": "absent",
      "new": "created"}]``.

    >>> plan_create({"name": "c1", "lxcpath": "/srv/s/containers", "template": "busybox"},
    ...             {"mounted": True, "role": "Primary", "exists": True})
    []
    """
    if facts.get("exists"):
        return []
    lxcpath, name = _checked(container)
    if not facts.get("mounted"):
        raise NotReadyError(name, f"{lxcpath}'s filesystem mounted on {facts.get('node') or 'this node'}")
    resource = facts.get("resource")
    if resource and facts.get("role") != "Primary":
        raise RefusedError(name, f"resource {resource} is {facts.get('role') or 'not up'} here: containers are "
                                 "created on its Primary only", f"nothing: create {name} where {resource} is Primary")
    return [{"action": "create", "argv": create_argv(container, binary), "key": "container", "old": "absent",
             "new": "created"}]


def plan_config(container: Mapping[str, Any], facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Plan the config overrides; pure. ``facts["config"]``: the config's text (None: not there,
    or the container is about to be created: then the lines are planned from nothing).

    ``[]`` when the text holds hapair's block as :func:`apply_overrides` writes it, else
    ``[{"action": "config", "path", "key": "config", "old": [managed lines now], "new": [wanted]}]``.

    >>> plan_config({"name": "c1", "lxcpath": "/srv/s/containers", "link": None},
    ...             {"config": "lxc.net.0.type = veth\\n"})[0]["old"]
    ['lxc.net.0.type = veth']
    """
    text = facts.get("config")
    if text is not None and apply_overrides(text, container) == text:
        return []
    return [{"action": "config", "path": config_path(container), "key": "config",
             "old": managed_lines(text or ""), "new": render_config_overrides(container)}]


def plan_present(container: Mapping[str, Any], facts: Mapping[str, Any], binary: str | None = None) -> Plan:
    """Plan ``hapair_lxc.present``: :func:`not_here` as the reason of an empty plan, else
    :func:`plan_create` then :func:`plan_config` (after a create, from the template's config).

    >>> c = {"name": "c1", "lxcpath": "/srv/s/containers", "template": "busybox", "link": None}
    >>> [s["action"] for s in plan_present(c, {"mounted": True, "role": "Primary", "exists": False})]
    ['create', 'config']
    """
    reason = not_here(container, facts)
    if reason:
        return Plan(reason=reason)
    create = plan_create(container, facts, binary)
    config = plan_config(container, {**facts, "config": None} if create else facts)
    steps = create + config
    return Plan(steps, reason="" if steps else f"{container['name']} exists in {container['lxcpath']}, "
                                               "its config kept")


def _state_of(container: Mapping[str, Any], facts: Mapping[str, Any]) -> str | None:
    if not facts.get("exists"):
        raise NotReadyError(container["name"], f"{container['name']} created in {container['lxcpath']} "
                                               "(hapair_lxc.present)")
    return facts.get("state")


def plan_running(container: Mapping[str, Any], facts: Mapping[str, Any], timeout: int = WAIT_TIMEOUT,
                 binaries: Mapping[str, str] | None = None) -> Plan:
    """Plan ``hapair_lxc.running``; pure. ``facts``: ``{"mounted", "exists", "state", "node"}``.

    Not here (:func:`not_here`): ``[]`` with the reason. Missing: NotReadyError (``present``
    first). RUNNING: ``[]``. STOPPED: ``[{"action": "start", "argv": start_argv, "wait": wait_argv
    (RUNNING, ``timeout``), "key": "state", "old": "STOPPED", "new": "RUNNING"}]``. Any other
    state (STARTING, STOPPING, FROZEN...): NotReadyError (someone else is changing it).
    """
    tools = dict(binaries or {})
    reason = not_here(container, facts)
    if reason:
        return Plan(reason=reason)
    state = _state_of(container, facts)
    if state == "RUNNING":
        return Plan(reason=f"{container['name']} is running")
    if state != "STOPPED":
        raise NotReadyError(container["name"], f"{container['name']} STOPPED or RUNNING (it is {state})")
    return Plan([{"action": "start", "argv": start_argv(container, tools.get("lxc-start")),
                  "wait": wait_argv(container, "RUNNING", timeout, tools.get("lxc-wait")),
                  "key": "state", "old": state, "new": "RUNNING"}])


def plan_stopped(container: Mapping[str, Any], facts: Mapping[str, Any], timeout: int = STOP_TIMEOUT,
                 binaries: Mapping[str, str] | None = None) -> Plan:
    """Plan ``hapair_lxc.stopped``; pure. Not here, missing or STOPPED: ``[]`` with the reason;
    else ``[{"action": "stop", "argv": stop_argv(timeout), "key": "state", "old": <state>,
    "new": "STOPPED"}]``.

    >>> plan_stopped({"name": "c1", "lxcpath": "/srv/s/containers"}, {"mounted": True, "exists": False}).reason
    'c1 does not exist in /srv/s/containers'
    """
    tools = dict(binaries or {})
    reason = not_here(container, facts)
    if reason:
        return Plan(reason=reason)
    if not facts.get("exists"):
        return Plan(reason=f"{container['name']} does not exist in {container['lxcpath']}")
    if facts.get("state") == "STOPPED":
        return Plan(reason=f"{container['name']} is stopped")
    return Plan([{"action": "stop", "argv": stop_argv(container, timeout, tools.get("lxc-stop")), "key": "state",
                  "old": facts.get("state"), "new": "STOPPED"}])


def changes(steps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What a plan changes, the same under test and after apply: ``{"container": {"old": "absent",
    "new": "created", "argv": lxc-create argv}, "config": {"path", "old": [lines], "new": [lines]},
    "state": {"old", "new"}}`` (only the keys of the steps present).

    >>> changes([{"action": "start", "key": "state", "old": "STOPPED", "new": "RUNNING", "argv": []}])
    {'state': {'old': 'STOPPED', 'new': 'RUNNING'}}
    """
    out: dict[str, Any] = {}
    for step in steps:
        if step["action"] == "create":
            out["container"] = {"old": step["old"], "new": step["new"], "argv": list(step["argv"])}
        elif step["action"] == "config":
            out["config"] = {"path": step["path"], "old": list(step["old"]), "new": list(step["new"])}
        else:
            out["state"] = {"old": step["old"], "new": step["new"]}
    return out
