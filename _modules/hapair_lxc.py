"""LXC containers on a DRBD filesystem (seed 003): facts, create once on the Primary, start, stop,
snapshots.

A container's lxcpath (``<mountpoint>/containers``) is on its group's DRBD filesystem, so it is
created only where that filesystem is mounted and its resource Primary (``hapair.lxc.plan_create``
refuses elsewhere), and its config and fstab move with the filesystem. The config keeps hapair's
lines (``hapair.lxc.render_config_overrides``: AppArmor unconfined, the network, no autostart at
boot). Every command runs without a shell and with a timeout; every value passes its whitelist in
``hapair.lxc`` first. Binaries from config::

    hapair:
      bin: {lxc-info: lxc-info, lxc-ls: lxc-ls, lxc-create: lxc-create, lxc-start: lxc-start,
            lxc-stop: lxc-stop, lxc-wait: lxc-wait, lxc-snapshot: lxc-snapshot}
      paths: {proc_mounts: /proc/mounts}
"""

from __future__ import annotations

import os

try:
    import hapair  # installed with pip, or tests put _utils on sys.path
    hapair.reload_changed()  # new core files synced into a running minion
    import hapair.lxc as core
except ImportError:  # synced by saltutil: <extmods>/modules/x.py -> <extmods>/utils/hapair
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "utils"))
    import hapair.lxc as core

from hapair import adapter, drbd_plan
from hapair.errors import HapairError
from salt.exceptions import CommandExecutionError, SaltInvocationError

__virtualname__ = "hapair_lxc"
__func_alias__ = {"list_": "list"}  # Salt's way to a function named like a builtin


def __virtual__():
    return adapter.virtual_if_binary(__salt__, __virtualname__, "lxc-info", "lxc")


def _bin(name):
    return adapter.binary(__salt__, name)


def _seconds(value, what):
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise SaltInvocationError(f"{what}: {value!r} is not a whole number of seconds") from None
    if seconds < 1 or isinstance(value, bool):
        raise SaltInvocationError(f"{what}: {value!r} is not a whole number of seconds (>= 1)")
    return seconds


def _container(name, lxcpath, template="busybox", backing="btrfs", link=None):
    """The container as ``hapair.lxc`` takes it, every field through its whitelist."""
    container = {"name": name, "lxcpath": lxcpath, "template": template, "backing": backing or "btrfs",
                 "link": link or None}
    try:
        core.config_path(container)  # name and lxcpath
        core.render_config_overrides(container)  # link
        if template is not None:
            core.create_argv(container)  # template and backing
    except HapairError as err:
        raise SaltInvocationError(str(err)) from None
    return container


def _core(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except HapairError as err:
        raise CommandExecutionError(str(err)) from err


def _drbd(resource):
    return adapter.drbd_model(__salt__, resource)


def _info(container):
    """``{"exists", "state", "pid"}`` from lxc-info (exit 1 with "<name> doesn't exist": missing)."""
    res = adapter.run(__salt__, core.info_argv(container, _bin("lxc-info")), ok_codes=(0, 1))
    if res["retcode"] == 1:
        if core.is_missing(f"{res['stdout']}\n{res['stderr']}", container["name"]):
            return {"exists": False, "state": None, "pid": None}
        raise CommandExecutionError(f"{' '.join(res['argv'])} failed (exit 1): "
                                    f"{(res['stderr'] or res['stdout']).strip()}")
    found = adapter.parsed(core.parse_info, res["stdout"])
    return {"exists": True, "state": found["state"], "pid": found["pid"]}


def _mounted(lxcpath, model):
    """``(mounted, mount)``: lxcpath on a mounted filesystem other than /, on the resource's
    device here when a DRBD model is given (its first volume's minor)."""
    rows = [dict(m, device=os.path.realpath(m["device"]) if m["device"].startswith("/") else m["device"])
            for m in adapter.mounts(__salt__)]
    device = None
    if model is not None:
        minor = drbd_plan.flatten(model).get("minor")
        if minor is None:
            return False, core.holding_mount(lxcpath, rows)
        device = os.path.realpath(f"/dev/drbd{minor}")
    return core.on_filesystem(lxcpath, rows, device), core.holding_mount(lxcpath, rows)


def _facts(container, resource=None):
    model = _drbd(resource)
    if resource and model is None:
        mounted, mount = False, None
    else:
        mounted, mount = _mounted(container["lxcpath"], model)
    out = {"node": __opts__.get("id"), "name": container["name"], "lxcpath": container["lxcpath"],
           "resource": resource or None, "role": drbd_plan.flatten(model)["role"] if resource else None,
           "mounted": mounted, "mount": mount, "exists": False, "state": None, "pid": None, "config": None}
    if mounted:  # elsewhere the lxcpath is a bare directory of the root filesystem: nothing to read
        out.update(_info(container))
        if out["exists"]:
            out["config"] = adapter.read_file(core.config_path(container))
    return out


def facts(name, lxcpath, resource=None):
    """Return what the planners read of container ``name`` in ``lxcpath`` on this node (reads only)::

        {"node": minion id, "name", "lxcpath", "resource", "role": DRBD role here | None,
         "mounted": bool (lxcpath on its filesystem, mounted here; on the resource's device when
         one is given), "mount": {"device", "mountpoint", "fstype", "options"} | None,
         "exists": bool, "state": "RUNNING" | "STOPPED" | ... | None, "pid": int | None,
         "config": the container's config text | None}

    Nothing is read of the container where its lxcpath is not mounted (``exists`` False).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.facts c1 /srv/store1/containers resource=r0
    """
    return _facts(_container(name, lxcpath, template=None), resource)


def info(name, lxcpath):
    """Return the state of container ``name`` (``lxc-info -P lxcpath -n name -s -p -H``):
    ``{"name", "lxcpath", "exists": bool, "state": "RUNNING" | "STOPPED" | ... | None, "pid": int | None}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.info c1 /srv/store1/containers
    """
    container = _container(name, lxcpath, template=None)
    return {"name": name, "lxcpath": lxcpath, **_info(container)}


def list_(lxcpath):
    """Return every container of ``lxcpath`` (``lxc-ls -P lxcpath -f -F NAME,STATE,PID``):
    ``{name: {"state": "RUNNING" | "STOPPED" | ..., "pid": int | None}}`` (``{}`` when none).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.list /srv/store1/containers
    """
    argv = _core(core.ls_argv, lxcpath, _bin("lxc-ls"))
    return adapter.parsed(core.parse_ls, adapter.run(__salt__, argv)["stdout"])


def _present(container, resource):
    return _core(core.plan_present, container, _facts(container, resource), _bin("lxc-create"))


def _result(container, plan, steps, test):
    return {"name": container["name"], "lxcpath": container["lxcpath"], "steps": list(steps),
            "reason": plan.reason, "test": test, "changes": core.changes(steps)}


def plan_present(name, lxcpath, template="busybox", backing="btrfs", link=None, resource=None):
    """Return the plan of ``hapair_lxc.present``: ``{"name", "lxcpath", "steps": [{"action": "create",
    "argv", "key", "old", "new"}, {"action": "config", "path", "key", "old": [lines], "new": [lines]}],
    "reason": why it is empty ("not here: ..." where lxcpath is not mounted), "test": True,
    "changes": hapair.lxc.changes(steps)}``. Raises when the planner refuses (``resource`` not
    Primary here).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.plan_present c1 /srv/store1/containers resource=r0
    """
    container = _container(name, lxcpath, template, backing, link)
    plan = _present(container, resource)
    return _result(container, plan, plan, True)


def _write_config(container):
    path = core.config_path(container)
    text = adapter.read_file(path)
    if text is None:
        raise CommandExecutionError(f"{path} is missing after lxc-create")
    return adapter.install_file(path, core.apply_overrides(text, container), adapter.file_mode(path) or "0644")


def create(name, lxcpath, template="busybox", backing="btrfs", link=None, resource=None, test=False):
    """Create container ``name`` once where ``lxcpath`` is mounted and ``resource`` Primary
    (``lxc-create -P lxcpath -n name -t template -B btrfs``), then keep hapair's lines in its
    config (AppArmor unconfined, network empty or veth on ``link``, ``lxc.start.auto = 0``).
    Nothing where lxcpath is not mounted (``reason`` says so); refused where ``resource`` is not
    Primary. ``test=True`` plans only. Returns ``plan_present``'s shape with the steps that ran.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.create c1 /srv/store1/containers resource=r0 test=True
        salt node1 hapair_lxc.create c1 /srv/store1/containers template=busybox link=br0 resource=r0
    """
    if adapter.flag(test, "test"):
        return plan_present(name, lxcpath, template, backing, link, resource)
    container = _container(name, lxcpath, template, backing, link)
    plan = _present(container, resource)
    for step in plan:
        if step["action"] == "create":
            os.makedirs(container["lxcpath"], exist_ok=True)  # on the mounted filesystem (planned so)
            adapter.run(__salt__, step["argv"], timeout=adapter.LONG_TIMEOUT)
        elif step["action"] == "config":
            _write_config(container)
    return _result(container, plan, plan, False)


def _state_plan(planner, name, lxcpath, timeout, resource):
    container = _container(name, lxcpath, template=None)
    binaries = {tool: _bin(tool) for tool in ("lxc-start", "lxc-stop", "lxc-wait")}
    found = _facts(container, resource)
    return container, found, _core(planner, container, found, timeout, binaries)


def plan_running(name, lxcpath, timeout=core.WAIT_TIMEOUT, resource=None):
    """Return the plan of ``hapair_lxc.running``: ``{"name", "lxcpath", "steps": [] | [{"action":
    "start", "argv", "wait", "key": "state", "old", "new"}], "reason", "test": True, "changes"}``.
    Raises (not ready) when the container does not exist or is neither STOPPED nor RUNNING.
    ``resource``: the DRBD resource under lxcpath (then "mounted" means on its device here).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.plan_running c1 /srv/store1/containers
    """
    container, _found, plan = _state_plan(core.plan_running, name, lxcpath, _seconds(timeout, "timeout"), resource)
    return _result(container, plan, plan, True)


def _status(container, changed_key, changed):
    return {"name": container["name"], "lxcpath": container["lxcpath"], changed_key: changed,
            **_info(container)}


def start(name, lxcpath, timeout=core.WAIT_TIMEOUT, resource=None):
    """Start container ``name`` where its lxcpath is mounted (``lxc-start -d``, then ``lxc-wait -s
    RUNNING -t timeout``); nothing when it runs already. Returns ``{"name", "lxcpath", "started":
    bool, "exists", "state", "pid"}``; raises where it is not mounted (on ``resource``'s device,
    when given) or does not exist.

    CLI Example:

    .. code-block:: bash

        salt node2 hapair_lxc.start c1 /srv/store1/containers
    """
    seconds = _seconds(timeout, "timeout")
    container, found, plan = _state_plan(core.plan_running, name, lxcpath, seconds, resource)
    if not found["mounted"]:
        raise CommandExecutionError(f"{name}: {plan.reason}")
    for step in plan:
        adapter.run(__salt__, step["argv"], timeout=adapter.ACTION_TIMEOUT)
        adapter.run(__salt__, step["wait"], timeout=seconds + adapter.DEFAULT_TIMEOUT)
    return _status(container, "started", bool(plan))


def plan_stopped(name, lxcpath, timeout=core.STOP_TIMEOUT, resource=None):
    """Return the plan of ``hapair_lxc.stopped``: ``{"name", "lxcpath", "steps": [] | [{"action":
    "stop", "argv", "key": "state", "old", "new"}], "reason", "test": True, "changes"}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.plan_stopped c1 /srv/store1/containers
    """
    container, _found, plan = _state_plan(core.plan_stopped, name, lxcpath, _seconds(timeout, "timeout"), resource)
    return _result(container, plan, plan, True)


def stop(name, lxcpath, timeout=core.STOP_TIMEOUT, resource=None):
    """Stop container ``name`` (``lxc-stop -t timeout``: a clean halt, killed after ``timeout``
    seconds); nothing when it is stopped, missing or its lxcpath not mounted here. Returns
    ``{"name", "lxcpath", "stopped": bool (this call stopped it), "exists", "state", "pid"}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.stop c1 /srv/store1/containers timeout=60
    """
    seconds = _seconds(timeout, "timeout")
    container, found, plan = _state_plan(core.plan_stopped, name, lxcpath, seconds, resource)
    if not found["mounted"]:
        return {"name": name, "lxcpath": lxcpath, "stopped": False, "exists": False, "state": None, "pid": None}
    for step in plan:  # exit 2: it was not running (stopped by someone else meanwhile)
        adapter.run(__salt__, step["argv"], ok_codes=(0, 2), timeout=seconds + adapter.DEFAULT_TIMEOUT)
    return _status(container, "stopped", bool(plan))


def _snapshots(container):
    res = adapter.run(__salt__, core.snapshot_list_argv(container, _bin("lxc-snapshot")))
    return adapter.parsed(core.parse_snapshots, res["stdout"])


def _here(container):
    found = _facts(container)
    if not found["mounted"]:
        raise CommandExecutionError(core.not_here(container, found))
    if not found["exists"]:
        raise CommandExecutionError(f"{container['name']} does not exist in {container['lxcpath']}")
    return found


def snapshots(name, lxcpath):
    """Return the snapshots of container ``name`` (``lxc-snapshot -L``): ``[{"name": "snap0",
    "path": "<lxcpath>/<name>/snaps", "time": "2026-12-03T10:29:46"}]`` (``[]`` when none).

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.snapshots c1 /srv/store1/containers
    """
    container = _container(name, lxcpath, template=None)
    _here(container)
    return _snapshots(container)


def snapshot(name, lxcpath):
    """Snapshot container ``name`` (``lxc-snapshot``: a Btrfs subvolume ``snap<N>``) where its
    lxcpath is mounted. Returns ``{"name", "lxcpath", "created": the new snapshot's name | None,
    "snapshots": [as ``snapshots``]}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.snapshot c1 /srv/store1/containers
    """
    container = _container(name, lxcpath, template=None)
    _here(container)
    before = {snap["name"] for snap in _snapshots(container)}
    adapter.run(__salt__, core.snapshot_argv(container, _bin("lxc-snapshot")), timeout=adapter.LONG_TIMEOUT)
    after = _snapshots(container)
    created = [snap["name"] for snap in after if snap["name"] not in before]
    return {"name": name, "lxcpath": lxcpath, "created": created[0] if created else None, "snapshots": after}


def delete_snapshot(name, lxcpath, snapshot):
    """Delete snapshot ``snapshot`` of container ``name`` (``lxc-snapshot -d``); nothing when it is
    not there. Returns ``{"name", "lxcpath", "deleted": bool, "snapshots": [what is left]}``.

    CLI Example:

    .. code-block:: bash

        salt node1 hapair_lxc.delete_snapshot c1 /srv/store1/containers snap0
    """
    container = _container(name, lxcpath, template=None)
    argv = _core(core.snapshot_delete_argv, container, snapshot, _bin("lxc-snapshot"))
    _here(container)
    before = _snapshots(container)
    if snapshot not in {snap["name"] for snap in before}:
        return {"name": name, "lxcpath": lxcpath, "deleted": False, "snapshots": before}
    adapter.run(__salt__, argv, timeout=adapter.ACTION_TIMEOUT)
    return {"name": name, "lxcpath": lxcpath, "deleted": True, "snapshots": _snapshots(container)}
