"""The two-node bootstrap as data: a normalised topology in, the ordered steps out.

``steps(topology, options)`` is the whole orchestration: ``orch.hapair.bootstrap`` renders one
Salt step per entry, nothing else. ``node_states(topology, step, node, ...)`` is what one node
runs in a ``state`` step (``orch.hapair.node.step`` renders it); the ``hapair.drbd`` formula runs
``node_states(topology, "drbd", node)``, so the formula and the orchestration share one DRBD
bring-up with one set of state IDs. Both are pure and table-tested per example topology
(tests/unit/test_bootstrap_steps.py).

Step kinds (every step has ``id`` and ``require``, the id of the step before it, or None):

- ``state``: ``{"targets": [minion ids]}``: those nodes apply ``node_states(..., step id, ...)``;
  a step that waits on the nodes also has ``"timeouts"`` (``{"connect_timeout": s}`` for
  ``drbd-up``, ``{"sync_timeout": s}`` for :func:`sync_step`), passed on in the step's pillar
- ``gate``: ``{"condition", "timeout", "resources", "filesystems"}``: ``hapair.wait_for`` until
  the condition (``hapair.orchestrate.gate``) holds on both nodes, as observed
- ``function``: ``{"function", "targets"}``: one execution-module call on the nodes
- ``runner``: ``{"function"}``: one runner call on the master

Where DRBD shows the peer's state locally a node waits for it inside its own run instead of a
gate on the master (each Salt job costs seconds on a slow minion): ``drbd-up`` ends, per
resource, with ``drbd.connected`` (``connect_timeout``) and ``drbd.initial_sync``, and the first
step after it that changes roles (:func:`sync_step`) starts with ``drbd.synced``
(``sync_timeout``, firing ``hapair/drbd/<resource>/sync`` progress events). A wait that times out
fails its state saying what it waited for and what it saw, so the orchestration stops there like
at a gate. Gates remain where both nodes' state must be observed (roles, o2cb, quorum, mounts).

Example::

    >>> [s["id"] for s in steps(seed000)]
    ['drbd-up', 'roles', 'gate-roles', 'o2cb', 'gate-o2cb-online', 'mkfs', 'mount', 'gate-mounted', 'canary']
    >>> sync_step(seed000)
    'roles'
"""

from __future__ import annotations

from typing import Any, Mapping

from hapair.errors import HapairError, TopologyError, ValidationError
from hapair.fields import require
from hapair.topology import placed

Topology = Mapping[str, Any]

STEP_SLS = "orch.hapair.node.step"
ID_PREFIX = "hapair-bootstrap-"
CLUSTER_FS = ("ocfs2", "gfs2")
# stacks the bootstrap has steps for; any other is refused by ``errors`` before a minion job
STACKS = ("none", "o2cb", "corosync", "heartbeat")

OPTION_DEFAULTS: dict[str, Any] = {
    "connect_timeout": 300,   # drbd.connected at the end of drbd-up, on each node
    "sync_timeout": 86400,    # drbd.synced at the start of sync_step (a full initial sync of a large disk)
    "gate_timeout": 300,      # every other gate
    "packages": True,         # install packages and load the drbd module first
    "sync_modules": False,    # saltutil.sync_all on both nodes first
}
TIMEOUT_OF = {"connected": "connect_timeout", "synced": "sync_timeout"}

# what each node step is, for the docs and the orchestration's comments
NODE_STEPS = {
    "drbd-up": "packages + kernel module, host tuning (sysctl), partitions, LVM volumes, unison, DRBD config, metadata, up, then each "
               "resource Connected (waited for here) and its initial sync started on its initial primary "
               "(recorded, never forced twice)",
    "roles-demote": "Secondary where a resource's steady primary is not its initial primary",
    "roles": "each resource's steady role on this node",
    "o2cb": "o2cb cluster.conf + /etc/default/o2cb, cluster online",
    "corosync": "the authkey, corosync.conf, corosync running",
    "dlm": "dlm.conf, every fence device's status answered, dlm_controld running",
    "mkfs": "mkfs once, on each cluster filesystem's format node",
    "mount": "boot ordering, then each cluster filesystem mounted on its mount_on nodes",
    "nfs": "the topology's NFS exports",
    "prepare": "each service group's one-time preparation on its node: mkfs, relocated paths copied "
               "onto the filesystem, then Secondary (nothing once the cluster manager runs the group)",
    # the first of roles-demote / roles / prepare in a topology's steps (sync_step) starts on each of
    # its nodes with drbd.synced for every resource there: the sync is waited for inside that run
    "heartbeat": "DRBD up at boot (its init script, before heartbeat); ha.cf, haresources, authkeys and the "
                 "drbdlinks script; the groups' services off at boot; heartbeat enabled and running",
    "group-format": "stack none: each service group's filesystem formatted once, on its node (Primary there)",
    "group-start": "stack none: each service group started on its node: its filesystem mounted (not at "
                   "boot), its LXC containers created once and running",
    "group-stop": "stack none, hapair.failover on the node a group leaves: its containers stopped, its "
                  "filesystem unmounted, its resource Secondary",
    "group-takeover": "stack none, hapair.failover on the node a group moves to: its resource Primary, its "
                      "filesystem mounted, its containers running",
    "drbd": "the hapair.drbd formula: DRBD bring-up through its steady role, on one node",
}
#: the node steps ``hapair.failover`` runs on named groups (never part of the bootstrap)
FAILOVER_STEPS = ("group-stop", "group-takeover")


def options(raw: Any, path: str = "hapair:orchestration") -> dict[str, Any]:
    """``hapair:orchestration`` with defaults; raise ``ValidationError`` listing every bad key.

    >>> options({"gate_timeout": 60})["gate_timeout"], options(None)["packages"]
    (60, True)
    >>> options({"packages": "no", "gate_timout": 5})
    Traceback (most recent call last):
    ...
    hapair.errors.ValidationError: invalid hapair topology (2 error(s)):
      - hapair:orchestration:gate_timout: unknown key (known: connect_timeout, gate_timeout, packages, sync_modules, sync_timeout)
      - hapair:orchestration:packages: must be true or false, not 'no'
    """
    raw = {} if raw is None else raw
    if not isinstance(raw, Mapping):
        raise ValidationError([TopologyError(path, f"must be a mapping, not {type(raw).__name__}")])
    errors = []
    out = dict(OPTION_DEFAULTS)
    for key in sorted(raw, key=str):
        value = raw[key]
        where = f"{path}:{key}"
        if key not in OPTION_DEFAULTS:
            errors.append(TopologyError(where, f"unknown key (known: {', '.join(sorted(OPTION_DEFAULTS))})"))
        elif isinstance(OPTION_DEFAULTS[key], bool):
            if not isinstance(value, bool):
                errors.append(TopologyError(where, f"must be true or false, not {value!r}"))
            out[key] = value
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10 ** 7:
            errors.append(TopologyError(where, f"must be a whole number of seconds (1..10000000), not {value!r}"))
        else:
            out[key] = value
    if errors:
        raise ValidationError(errors)
    return out


def errors(topology: Topology) -> list[TopologyError]:
    """What the bootstrap cannot run, with the pillar path and what to use instead.

    >>> [e.path for e in errors({"path": "hapair:topologies:t", "cluster": {"stack": "cman"}})]
    ['hapair:topologies:t:cluster:stack']
    """
    stack = topology["cluster"]["stack"]
    if stack in STACKS:
        return []
    return [TopologyError(
        f"{topology['path']}:cluster:stack",
        f"the bootstrap has no step for stack {stack!r}: cman is packaged by no current distribution "
        "and modern Salt does not run on RHEL 6",
        "use stack: corosync (corosync 2+ with dlm_controld): `salt-run hapair.translate <topology>` prints "
        "this topology for it (docs/cman.md)")]


def check(topology: Topology) -> None:
    """Raise ``ValidationError`` when :func:`errors` finds anything."""
    found = errors(topology)
    if found:
        raise ValidationError(found)


def node_order(topology: Topology) -> list[str]:
    """The topology's nodes, in order."""
    return list(topology.get("node_order") or sorted(topology["nodes"]))


def minion_of(topology: Topology, node: str) -> str:
    """The checked minion id of ``node`` (a target is data: ``RenderError`` on anything else)."""
    return require("minion_id", topology["nodes"][node].get("minion_id", node), f"nodes:{node}:minion_id")


# the Debian packages of each part hapair sets up (one owner: the orchestration and the formulas)
PACKAGES: dict[str, list[str]] = {
    "drbd": ["drbd-utils"], "o2cb": ["ocfs2-tools"], "gfs2": ["gfs2-utils"], "corosync": ["corosync", "dlm-controld"],
    "heartbeat": ["heartbeat"], "btrfs": ["btrfs-progs"], "xfs": ["xfsprogs"], "relocate": ["rsync"],
    "lvm": ["lvm2"], "nfs": ["nfs-kernel-server"], "parted": ["parted"], "unison": ["unison"],
    # LXC and its offline busybox template (lxc-create -t busybox copies the static binary)
    "lxc": ["lxc"], "lxc-busybox": ["busybox-static"],
    # fence devices under corosync + dlm: the agents, and the IPMI tool the IPMI-based ones call
    "fence": ["fence-agents"], "fence-ipmi": ["ipmitool"],
}
#: where the RedHat family (EL9) names a part's packages otherwise; ``None``: not there at all
#: (hapair refuses the part on such a minion, saying why). Only rendered and table-tested: no lab
#: runs EL (README "RHEL family").
REDHAT_PACKAGES: dict[str, list[str] | None] = {
    "drbd": ["drbd9x-utils", "kmod-drbd9x"],   # ELRepo: the utilities and the kernel module
    "o2cb": None, "heartbeat": None, "btrfs": None,
    "corosync": ["corosync", "dlm"], "nfs": ["nfs-utils"], "fence": ["fence-agents-all"],
    "unison": None, "lxc": None, "lxc-busybox": None,
}
UNAVAILABLE = {
    "o2cb": "OCFS2 does not exist on the RedHat family (no ocfs2-tools, no kernel module): use GFS2 on corosync",
    "heartbeat": "heartbeat v1 is not packaged for the RedHat family",
    "btrfs": "the RedHat family dropped Btrfs",
    "unison": "unison is not in the RedHat family's base repositories",
    "lxc": "LXC is not in the RedHat family's base repositories",
    "lxc-busybox": "busybox is not in the RedHat family's base repositories",
}
#: fence agents that talk IPMI through ipmitool (fence-agents' fence_ipmilan and its aliases)
IPMI_AGENTS = ("fence_ipmilan", "fence_ipmilanplus", "fence_idrac", "fence_ilo3", "fence_ilo4", "fence_ilo5",
               "fence_imm")
#: the cluster stacks that own a service group's DRBD roles (stack none: hapair's own runner)
ROLE_OWNERS = ("heartbeat",)


def unavailable(component: str, os_family: str | None = "Debian") -> str | None:
    """Why ``component`` cannot be installed on an ``os_family`` minion, or None.

    >>> unavailable("o2cb", "RedHat")[:20], unavailable("o2cb", "Debian")
    ('OCFS2 does not exist', None)
    """
    if os_family == "RedHat" and REDHAT_PACKAGES.get(component, []) is None:
        return UNAVAILABLE.get(component, f"{component} has no RedHat-family packages")
    return None


def component_packages(component: str, os_family: str | None = "Debian") -> list[str]:
    """The packages of one part on an ``os_family`` minion (Debian's unless the family names its
    own); a formula's default, ``hapair:lookup:<part>:packages`` overrides. HapairError when the
    family has none (:func:`unavailable`).

    >>> component_packages("corosync"), component_packages("corosync", "RedHat")
    (['corosync', 'dlm-controld'], ['corosync', 'dlm'])
    """
    if component not in PACKAGES:
        raise ValueError(f"unknown part {component!r}; expected one of {', '.join(PACKAGES)}")
    why = unavailable(component, os_family)
    if why:
        raise HapairError(f"{component} on a {os_family} minion: {why}")
    if os_family == "RedHat" and component in REDHAT_PACKAGES:
        return list(REDHAT_PACKAGES[component] or [])
    return list(PACKAGES[component])


def packages(topology: Topology, os_family: str | None = "Debian") -> list[str]:
    """The packages a node of ``topology`` needs on an ``os_family`` minion (one owner: the
    orchestration uses it); HapairError naming every part the family does not have.

    >>> packages(seed000)   # seed 000 partitions its disk with parted
    ['drbd-utils', 'ocfs2-tools', 'parted']
    >>> packages(seed004, "RedHat")
    ['drbd9x-utils', 'kmod-drbd9x', 'gfs2-utils']
    """
    types = {fs["type"] for fs in topology["filesystems"].values()}
    types |= {lv["filesystem"]["type"] for vg in (topology["lvm"] or {}).values()
              for lv in (vg.get("lvs") or {}).values() if lv.get("filesystem")}  # unreplicated volumes
    stack = topology["cluster"]["stack"]
    parts = ["drbd"]
    if stack == "o2cb" or "ocfs2" in types:
        parts.append("o2cb")
    if "gfs2" in types:
        parts.append("gfs2")
    if stack in ("corosync", "heartbeat"):
        parts.append(stack)
    parts += [fstype for fstype in ("btrfs", "xfs") if fstype in types]
    if any(group["relocate"] for group in topology["groups"].values()):
        parts.append("relocate")
    if topology.get("partitions"):
        parts.append("parted")
    if topology["lvm"]:
        parts.append("lvm")
    if topology.get("unison"):
        parts.append("unison")
    if topology["nfs"]["exports"]:
        parts.append("nfs")
    templates = {c["template"] for group in topology["groups"].values() for c in group.get("containers") or []}
    if templates:
        parts.append("lxc")
    if "busybox" in templates:
        parts.append("lxc-busybox")
    agents = fence_agents(topology)
    if agents:
        parts.append("fence")
    if set(agents) & set(IPMI_AGENTS):
        parts.append("fence-ipmi")
    missing = [f"{part}: {unavailable(part, os_family)}" for part in parts if unavailable(part, os_family)]
    if missing:
        raise HapairError(f"topology {topology['name']} needs what a {os_family} minion cannot install: "
                          + "; ".join(missing))
    return [pkg for part in parts for pkg in component_packages(part, os_family)]


def fence_agents(topology: Topology) -> list[str]:
    """The agents of the topology's corosync fence devices (``cluster:corosync:fencing``), sorted.

    >>> fence_agents({"cluster": {"stack": "corosync", "corosync": {"fencing": {"fence_devices": {
    ...     "n1_ipmi": {"agent": "fence_ipmilan"}, "n2_ipmi": {"agent": "fence_ipmilan"}}}}}})
    ['fence_ipmilan']
    """
    cluster = topology.get("cluster") or {}
    if cluster.get("stack") != "corosync":
        return []
    fencing = (cluster.get("corosync") or {}).get("fencing") or {}
    return sorted({dev["agent"] for dev in (fencing.get("fence_devices") or {}).values() if dev.get("agent")})


def managed_resources(topology: Topology) -> list[str]:
    """The DRBD resources whose roles a cluster manager owns (each service group's resource, under
    a stack of ``ROLE_OWNERS``): after the initial sync hapair never promotes or demotes them, the
    manager does. Under stack none the bootstrap sets every role (seed 003) and the operator's
    ``hapair.failover`` moves them.

    >>> managed_resources(seed000)
    []
    """
    if topology["cluster"]["stack"] not in ROLE_OWNERS:
        return []
    return sorted({group["resource"] for group in topology["groups"].values()})


def moving_resources(topology: Topology) -> list[str]:
    """Single-primary resources whose steady primary is not their initial primary (seed 003's r1).

    After the initial sync such a resource is Primary on the wrong node: it must be demoted
    there, seen Secondary, and only then promoted on its steady primary (DRBD refuses a second
    Primary on a single-primary resource).
    """
    return sorted(name for name, res in topology["drbd"]["resources"].items()
                  if res["mode"] != "dual-primary" and res["primary"] != res["initial_primary"])


def cluster_filesystems(topology: Topology) -> list[str]:
    """The OCFS2/GFS2 filesystems the bootstrap formats and mounts."""
    return sorted(name for name, fs in topology["filesystems"].items() if fs["type"] in CLUSTER_FS)


def _unowned(topology: Topology) -> list[str]:
    """The resources whose steady roles the bootstrap sets (every one a cluster manager does not own)."""
    owned = managed_resources(topology)
    return [res for res in sorted(topology["drbd"]["resources"]) if res not in owned]


def sync_step(topology: Topology) -> str | None:
    """The node step that waits for the sync: the first step after ``drbd-up`` that changes roles.

    ``roles-demote`` when a resource moves (:func:`moving_resources`), else ``roles`` when the
    bootstrap sets any role, else (heartbeat owns every role) ``prepare``. On each node it runs
    on it starts with ``drbd.synced`` for every resource there (the sync is symmetric: one node
    sees both disks) and its other states require those; every later step runs after it.
    None: no step follows the sync.

    >>> sync_step(seed000), sync_step(seed002), sync_step(seed003)
    ('roles', 'prepare', 'roles-demote')
    """
    if moving_resources(topology):
        return "roles-demote"
    if _unowned(topology):
        return "roles"
    if topology["cluster"]["stack"] == "heartbeat" and topology["groups"]:
        return "prepare"
    return None


def steps(topology: Topology, opts: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The ordered bootstrap steps of a valid topology (see the module docstring for the kinds).

    Raises ``ValidationError`` for a topology the bootstrap cannot run (:func:`errors`).
    """
    check(topology)
    opts = options(opts)
    out: list[dict[str, Any]] = []

    def add(step_id: str, kind: str, **spec: Any) -> None:
        out.append({"id": step_id, "kind": kind, "require": out[-1]["id"] if out else None, **spec})

    def state(step_id: str) -> None:
        targets = [minion_of(topology, node) for node in node_order(topology)
                   if node_states(topology, step_id, node, with_packages=opts["packages"])]
        timeouts = {}
        if step_id == "drbd-up":
            timeouts["connect_timeout"] = opts["connect_timeout"]
        if step_id == sync_step(topology):
            timeouts["sync_timeout"] = opts["sync_timeout"]
        if targets:
            add(step_id, "state", targets=targets, **({"timeouts": timeouts} if timeouts else {}))

    def gate(condition: str, resources: list[str] | None = None, filesystems: list[str] | None = None) -> None:
        timeout = opts[TIMEOUT_OF.get(condition, "gate_timeout")]
        add(f"gate-{condition.replace('_', '-')}", "gate", condition=condition, timeout=timeout,
            resources=resources, filesystems=filesystems)

    everyone = [minion_of(topology, node) for node in node_order(topology)]
    if opts["sync_modules"]:
        add("sync-modules", "function", function="saltutil.sync_all", targets=everyone)
    state("drbd-up")  # ends with each resource Connected and its initial sync started
    moving = moving_resources(topology)
    if moving:  # sync_step: waits for the sync first
        state("roles-demote")
        gate("demoted", resources=moving)
    owned = managed_resources(topology)
    unowned = _unowned(topology)
    if unowned:
        state("roles")
        gate("roles", resources=unowned if owned else None)
    stack = topology["cluster"]["stack"]
    if stack == "o2cb":
        state("o2cb")
        gate("o2cb_online")
    elif stack == "corosync":
        state("corosync")
        gate("quorate")
        state("dlm")
        gate("dlm_up")
    if stack == "heartbeat" and topology["groups"]:
        state("prepare")
        state("heartbeat")
        gate("groups_running")
        if any(group["canary"] for group in topology["groups"].values()):
            add("canary", "runner", function="hapair.canary")
    if stack == "none" and topology["groups"]:
        state("group-format")
        state("group-start")
        gate("groups_started")
    cluster_fs = cluster_filesystems(topology)
    if cluster_fs:
        state("mkfs")
        state("mount")
        gate("mounted", filesystems=cluster_fs)
        if topology["nfs"]["exports"]:
            state("nfs")
        add("canary", "runner", function="hapair.canary")
    return out


def _group_states(topology: Topology, step: str, group: Mapping[str, Any], node: str,
                  before: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    """Stack none: a group's format (``hapair_fs.formatted``), its stop (containers stopped,
    filesystem unmounted, resource Secondary), or its start: the filesystem mounted on ``node``
    (never in fstab: a failover moves it) and each container present and running."""
    fs = topology["filesystems"][group["filesystem"]]
    gname = group["name"]
    if step == "group-format":
        return [_state(f"hapair-orch-group-{gname}-formatted", "hapair_fs.formatted", {"name": fs["name"]},
                       {"topology": topology["name"]})]
    if step == "group-stop":
        stopped = []
        out = []
        for container in group.get("containers") or []:
            cid = f"hapair-orch-group-{gname}-lxc-{container['name']}-stopped"
            out.append(_state(cid, "hapair_lxc.stopped", {"name": container["name"]},
                              {"lxcpath": container["lxcpath"]}, {"resource": group["resource"]}))
            stopped.append({"hapair_lxc": cid})
        unmounted = f"hapair-orch-group-{gname}-unmounted"
        out.append(_state(unmounted, "mount.unmounted", {"name": fs["mountpoint"]}, {"device": fs["devices"][node]},
                          {"persist": False}, require=stopped or None))
        out.append(_state(f"hapair-drbd-{group['resource']}-secondary", "drbd.secondary",
                          *_on(topology, group["resource"]), require=[{"mount": unmounted}]))
        return out
    mounted = f"hapair-orch-group-{gname}-mounted"
    out = [_state(mounted, "mount.mounted", {"name": fs["mountpoint"]}, {"device": fs["devices"][node]},
                  {"fstype": fs["type"]}, {"mkmnt": True}, {"persist": False},
                  *([{"opts": list(fs["mount_options"])}] if fs["mount_options"] else []), require=before)]
    for container in group.get("containers") or []:
        cid = f"hapair-orch-group-{gname}-lxc-{container['name']}"
        spec = [{"name": container["name"]}, {"lxcpath": container["lxcpath"]}, {"template": container["template"]},
                {"backing": container["backing"]}, {"link": container["link"]}, {"resource": group["resource"]}]
        out.append(_state(f"{cid}-present", "hapair_lxc.present", *spec, require=[{"mount": mounted}]))
        out.append(_state(f"{cid}-running", "hapair_lxc.running", {"name": container["name"]},
                          {"lxcpath": container["lxcpath"]}, {"resource": group["resource"]},
                          require=[{"hapair_lxc": f"{cid}-present"}]))
    return out


def _failover_groups(topology: Topology, groups: list[str] | None) -> list[str]:
    """The groups a failover step moves: named, known, under stack none, each with a filesystem."""
    if topology["cluster"]["stack"] != "none":
        raise ValueError(f"topology {topology['name']} runs stack {topology['cluster']['stack']}: its cluster "
                         "manager moves its groups (hapair.failover asks it), not a failover step")
    if not groups:
        raise ValueError("a failover step needs the groups it moves (groups=[...])")
    unknown = [g for g in groups if g not in topology["groups"] or not topology["groups"][g]["filesystem"]]
    if unknown:
        raise ValueError(f"not a service group with a filesystem in topology {topology['name']}: "
                         f"{', '.join(map(str, unknown))}")
    return sorted(set(groups))


def _state(state_id: str, function: str, *args: dict[str, Any], require: list[dict[str, str]] | None = None
           ) -> dict[str, Any]:
    """One state of a node step: ``{"id", "function", "args": [{key: value}, ...]}``."""
    out = [dict(arg) for arg in args]
    if require:
        out.append({"require": require})
    return {"id": state_id, "function": function, "args": out}


def _on(topology: Topology, name: str) -> list[dict[str, Any]]:
    return [{"name": name}, {"topology": topology["name"]}]


def sysctl_file(topology: Topology) -> str:
    """Where a topology's ``tuning: sysctl`` persists on each node (read again at every boot).

    >>> sysctl_file({"name": "fileserver"})
    '/etc/sysctl.d/60-hapair-fileserver.conf'
    """
    return f"/etc/sysctl.d/60-hapair-{topology['name']}.conf"


def _drbd_bringup(topology: Topology, node: str, before: list[dict[str, str]], overwrite_data: bool | None
                  ) -> list[dict[str, Any]]:
    """Partitions, LVM volumes (and the unreplicated ones' filesystems), unison, every resource
    configured, then each one's metadata and up (one shape, both users)."""
    out = []
    tname = topology["name"]
    for key, value in sorted(((topology.get("tuning") or {}).get("sysctl") or {}).items()):
        out.append(_state(f"hapair-sysctl-{key}", "sysctl.present", {"name": key}, {"value": value},
                          {"config": sysctl_file(topology)}, require=before))
    if any(node in spec["nodes"] for spec in (topology.get("partitions") or {}).values()):
        out.append(_state("hapair-disk-partitioned", "hapair_disk.partitioned", {"name": tname}, require=before))
        before = [{"hapair_disk": "hapair-disk-partitioned"}]
    if topology["lvm"]:
        out.append(_state("hapair-drbd-lvm-present", "hapair_lvm.present", {"name": tname}, require=before))
        before = [{"hapair_lvm": "hapair-drbd-lvm-present"}]
    if topology.get("unison"):  # after the volume it syncs is mounted
        out.append(_state("hapair-unison-configured", "hapair_unison.configured", {"name": tname}, require=before))
    resources = [r for r in sorted(topology["drbd"]["resources"]) if node in topology["drbd"]["resources"][r]["nodes"]]
    configured = []
    for res in resources:
        out.append(_state(f"hapair-drbd-{res}-configured", "drbd.configured", *_on(topology, res), require=before))
        configured.append({"drbd": f"hapair-drbd-{res}-configured"})
    for res in resources:
        extra = [] if overwrite_data is None else [{"overwrite_data": overwrite_data}]
        out.append(_state(f"hapair-drbd-{res}-metadata-created", "drbd.metadata_created", *_on(topology, res),
                          *extra, require=configured))
        out.append(_state(f"hapair-drbd-{res}-up", "drbd.up", *_on(topology, res),
                          require=[{"drbd": f"hapair-drbd-{res}-metadata-created"}]))
    return out


def _role_state(topology: Topology, res: str, node: str) -> str:
    spec = topology["drbd"]["resources"][res]
    if spec["mode"] == "dual-primary":
        return "dual_primary"
    return "primary" if spec["roles"][node] == "Primary" else "secondary"


def _role(topology: Topology, res: str, node: str, require: list[dict[str, str]] | None = None) -> dict[str, Any]:
    role = _role_state(topology, res, node)
    return _state(f"hapair-drbd-{res}-{role.replace('_', '-')}", f"drbd.{role}", *_on(topology, res), require=require)


#: the DRBD chain after ``drbd.up``, in order (each link requires the one before it)
CHAIN = ("connected", "initial-sync", "synced", "role")


def _drbd_chain(topology: Topology, res: str, node: str, links: tuple[str, ...], *,
                connect_timeout: int | None = None, sync_timeout: int | None = None) -> list[dict[str, Any]]:
    """Resource ``res``'s ``links`` of :data:`CHAIN` on ``node`` (one shape: the formula runs them all,
    ``drbd-up`` connected + initial-sync, :func:`sync_step` synced). Each state requires the one
    before it, the first ``drbd.up`` when it is ``connected``; a timeout left None is the state's
    own default."""
    if not links or [link for link in CHAIN if link in links] != list(links):
        raise ValueError(f"links {links!r} are not in the order of {CHAIN!r}")
    out: list[dict[str, Any]] = []
    require = [{"drbd": f"hapair-drbd-{res}-up"}] if links[:1] == ("connected",) else None
    for link in links:
        if link == "role":
            out.append(_role(topology, res, node, require=require))
        else:
            timeout = {"connected": connect_timeout, "synced": sync_timeout}.get(link)
            out.append(_state(f"hapair-drbd-{res}-{link}", f"drbd.{link.replace('-', '_')}", *_on(topology, res),
                              *([{"timeout": timeout}] if timeout is not None else []), require=require))
        require = [{"drbd": out[-1]["id"]}]
    return out


def _requiring(states: list[dict[str, Any]], extra: list[dict[str, str]]) -> list[dict[str, Any]]:
    """``states`` with ``extra`` added to each one's requisites (a failed wait stops them all)."""
    out = []
    for spec in states:
        args = [dict(arg) for arg in spec["args"]]
        held = next((arg for arg in args if "require" in arg), None)
        if held is None:
            args.append({"require": list(extra)})
        else:
            held["require"] = [*held["require"], *extra]
        out.append({**spec, "args": args})
    return out


def node_states(
    topology: Topology,
    step: str,
    node: str,
    *,
    with_packages: bool = True,
    paths: Mapping[str, str] | None = None,
    overwrite_data: bool | None = None,
    connect_timeout: int | None = None,
    sync_timeout: int | None = None,
    placement: Mapping[str, str] | None = None,
    groups: list[str] | None = None,
    os_family: str | None = "Debian",
) -> list[dict[str, Any]]:
    """The states ``node`` applies in bootstrap step ``step`` (empty: the node has nothing to do).

    ``os_family`` (the node's grain) picks the package names; a part its family does not have
    makes drbd-up one failing state naming it (``hapair-orch-packages-unavailable``).

    ``placement`` (stack none, ``hapair.orchestrate.placement``): ``{group: node}`` where groups
    run now; the states follow it (``hapair.topology.placed``) instead of the pillar's node, so a
    re-run after ``hapair.failover`` leaves a moved group where it runs. ``groups``: the groups a
    failover step (``group-stop``, ``group-takeover``) moves, on this node; required there.

    Each is ``{"id", "function", "args"}`` (``args`` a list of one-key mappings, the SLS list
    form, requisites included); ``orch.hapair.node.step`` and the ``hapair.drbd`` formula render
    them as data. ``paths`` are the node's ``hapair:paths`` (corosync_conf, corosync_authkey,
    dlm_conf). The ``drbd`` step is the formula's (``overwrite_data`` and the timeouts are its).

    ``drbd-up`` ends with each resource's ``drbd.connected`` (``connect_timeout``) and
    ``drbd.initial_sync``; the :func:`sync_step` starts with each resource's ``drbd.synced``
    (``sync_timeout``) wherever it has states; both timeouts default to the orchestration's
    (:data:`OPTION_DEFAULTS`) there, and to the states' own in the formula's ``drbd`` step.

    >>> [s["id"] for s in node_states(seed000, "roles", "web1")]
    ['hapair-drbd-r0-synced', 'hapair-drbd-r0-dual-primary', 'hapair-orch-roles-node-done']
    """
    if step not in NODE_STEPS:
        raise ValueError(f"unknown bootstrap step {step!r}; expected one of {', '.join(NODE_STEPS)}")
    waits_sync = step == sync_step(topology)  # of the pillar's topology: the steps() were planned from it
    if step != "drbd":
        connect_timeout = OPTION_DEFAULTS["connect_timeout"] if connect_timeout is None else connect_timeout
        sync_timeout = OPTION_DEFAULTS["sync_timeout"] if sync_timeout is None else sync_timeout
    if placement:
        topology = placed(topology, dict(placement))
    paths = paths or {}
    tname = topology["name"]
    resources = sorted(r for r, spec in topology["drbd"]["resources"].items() if node in spec["nodes"])
    out: list[dict[str, Any]] = []
    if step == "drbd-up":
        before: list[dict[str, str]] = []
        if with_packages:
            try:
                pkgs = packages(topology, os_family)
            except HapairError as err:  # an actionable state error on that node, before anything runs
                return [_state("hapair-orch-packages-unavailable", "test.fail_without_changes", {"name": str(err)})]
            out.append(_state("hapair-orch-packages-installed", "pkg.installed", {"pkgs": pkgs}))
            out.append(_state("hapair-orch-kmod-drbd-present", "kmod.present", {"name": "drbd"}, {"persist": True},
                              require=[{"pkg": "hapair-orch-packages-installed"}]))
            before = [{"kmod": "hapair-orch-kmod-drbd-present"}]
        out += _drbd_bringup(topology, node, before, None)
        for res in resources:  # the peer's connection is seen locally: waited for here, not by a gate
            out += _drbd_chain(topology, res, node, ("connected", "initial-sync"), connect_timeout=connect_timeout)
    elif step == "drbd":
        out += _drbd_bringup(topology, node, [], overwrite_data)
        owned = managed_resources(topology)  # a cluster manager's roles: never set by the formula
        for res in resources:
            out += _drbd_chain(topology, res, node, CHAIN if res not in owned else CHAIN[:-1],
                               connect_timeout=connect_timeout, sync_timeout=sync_timeout)
        return out  # the formula: no orchestration marker
    elif step == "roles-demote":
        out += [_role(topology, res, node) for res in moving_resources(topology)
                if res in resources and _role_state(topology, res, node) == "secondary"]
    elif step == "roles":
        owned = managed_resources(topology)
        out += [_role(topology, res, node) for res in resources if res not in owned]
    elif step == "prepare":
        out += [_state(f"hapair-orch-group-{name}-prepared", "hapair_fs.prepared", *_on(topology, name))
                for name, group in sorted(topology["groups"].items()) if group["node"] == node]
    elif step == "heartbeat" and topology["cluster"]["stack"] == "heartbeat":
        # DRBD's own init script brings every resource up at boot, before heartbeat (its LSB header:
        # X-Start-Before: heartbeat): drbddisk only promotes, a resource left down cannot take over
        out.append(_state("hapair-orch-drbd-up-at-boot", "service.enabled", {"name": "drbd"}))
        out.append(_state("hapair-orch-heartbeat-configured", "heartbeat.configured", {"name": tname},
                          {"topology": tname}))
        out.append(_state("hapair-orch-heartbeat-services-off-at-boot", "heartbeat.group_services_disabled",
                          {"name": tname}))
        out.append(_state("hapair-orch-heartbeat-running", "heartbeat.running", {"name": "heartbeat"},
                          require=[{"service": "hapair-orch-drbd-up-at-boot"},
                                   {"heartbeat": "hapair-orch-heartbeat-configured"},
                                   {"heartbeat": "hapair-orch-heartbeat-services-off-at-boot"}]))
    elif step == "o2cb" and topology["cluster"]["stack"] == "o2cb":
        out.append(_state("hapair-orch-o2cb-cluster-configured", "o2cb.cluster_configured", {"name": tname}))
        out.append(_state("hapair-orch-o2cb-online", "o2cb.online", {"name": tname},
                          require=[{"o2cb": "hapair-orch-o2cb-cluster-configured"}]))
    elif step == "corosync" and topology["cluster"]["stack"] == "corosync":
        out.append(_state("hapair-orch-corosync-authkey-managed", "corosync.authkey_managed",
                          {"name": paths.get("corosync_authkey", "/etc/corosync/authkey")}, {"topology": tname}))
        out.append(_state("hapair-orch-corosync-configured", "corosync.configured",
                          {"name": paths.get("corosync_conf", "/etc/corosync/corosync.conf")}, {"topology": tname}))
        out.append(_state("hapair-orch-corosync-running", "service.running", {"name": "corosync"}, {"enable": True},
                          require=[{"corosync": "hapair-orch-corosync-authkey-managed"},
                                   {"corosync": "hapair-orch-corosync-configured"}]))
    elif step == "dlm" and topology["cluster"]["stack"] == "corosync":
        out.append(_state("hapair-orch-dlm-configured", "corosync.dlm_configured",
                          {"name": paths.get("dlm_conf", "/etc/dlm/dlm.conf")}, {"topology": tname}))
        before = [{"corosync": "hapair-orch-dlm-configured"}]
        if fence_agents(topology):  # every device answers its own status before dlm may rely on it
            out.append(_state("hapair-orch-fence-checked", "hapair_fence.checked", {"name": tname}, require=before))
            before = [*before, {"hapair_fence": "hapair-orch-fence-checked"}]
        out.append(_state("hapair-orch-dlm-running", "service.running", {"name": "dlm"}, {"enable": True},
                          require=before))
    elif step == "mkfs":
        for name in cluster_filesystems(topology):
            fs = topology["filesystems"][name]
            if fs["format_on"] == node:
                out.append(_state(f"hapair-orch-{fs['type']}-{name}-formatted", f"{fs['type']}.formatted",
                                  *_on(topology, name)))
    elif step == "mount":
        mine = [name for name in cluster_filesystems(topology) if node in topology["filesystems"][name]["mount_on"]]
        ordered = []
        if any(topology["filesystems"][name]["type"] == "ocfs2" for name in mine):
            out.append(_state("hapair-orch-ocfs2-boot-ordered", "ocfs2.boot_ordered", {"name": tname}))
            ordered = [{"ocfs2": "hapair-orch-ocfs2-boot-ordered"}]
        for name in mine:
            fstype = topology["filesystems"][name]["type"]
            out.append(_state(f"hapair-orch-{fstype}-{name}-mounted", f"{fstype}.mounted", *_on(topology, name),
                              require=ordered if fstype == "ocfs2" else None))
    elif step in ("group-format", "group-start") and topology["cluster"]["stack"] == "none":
        for _name, group in sorted(topology["groups"].items()):
            if group["node"] == node and group["filesystem"]:
                out += _group_states(topology, step, group, node)
    elif step in FAILOVER_STEPS:
        for gname in _failover_groups(topology, groups):
            group = topology["groups"][gname]
            if step == "group-stop":
                out += _group_states(topology, step, group, node)
                continue
            promoted = f"hapair-drbd-{group['resource']}-primary"
            out.append(_state(promoted, "drbd.primary", *_on(topology, group["resource"])))
            out += _group_states(topology, "group-start", group, node, before=[{"drbd": promoted}])
    elif step == "nfs" and topology["nfs"]["exports"]:
        out.append(_state("hapair-orch-nfs-exported", "hapair_nfs.exported", {"name": tname}))
    if waits_sync and (out or placement):  # both disks UpToDate (seen locally) before any role changes
        synced = [s for res in resources for s in _drbd_chain(topology, res, node, ("synced",),
                                                              sync_timeout=sync_timeout)]
        out = synced + _requiring(out, [{"drbd": s["id"]} for s in synced])
    if not out and not placement:
        return []
    minion = minion_of(topology, node)
    out.append(_state(f"hapair-orch-{step}-node-done", "test.nop", {"name": f"{tname} {step} on {minion}"}))
    return out
