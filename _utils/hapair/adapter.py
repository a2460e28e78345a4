"""The one place that knows how hapair's Salt adapters run commands, read config and files.

Adapters pass their ``__salt__`` (and ``__pillar__``, ``__opts__``) mappings in; nothing here uses
Salt dunders. This is the only core file that imports Salt (lazily, inside the functions that
raise its exception types), so the rest stays Salt-free. Typical use in an execution module::

    topo, node = adapter.load_topology(__salt__, __pillar__, __opts__, topology, stack="o2cb")
    res = adapter.run(__salt__, [adapter.binary(__salt__, "o2cb"), "cluster-status"], ok_codes=(0, 1))
    status = adapter.parsed(core.parse_cluster_status, res["stdout"])
"""

from __future__ import annotations

import base64
import difflib
import glob
import logging
import os
import shutil
import tempfile
from typing import Any, Callable, Iterable, Mapping, TypeVar

from hapair import fields, parsing
from hapair import secrets as secrets_mod
from hapair.errors import HapairError
from hapair.secrets import mask

T = TypeVar("T")

log = logging.getLogger(__name__)

PATH_DEFAULTS = {
    "proc_drbd": "/proc/drbd",
    "drbd_conf": "/etc/drbd.conf",
    "drbd_conf_dir": "/etc/drbd.d",
    "o2cb_conf": "/etc/ocfs2/cluster.conf",
    "o2cb_defaults": "/etc/default/o2cb",
    "cman_conf": "/etc/cluster/cluster.conf",
    "corosync_conf": "/etc/corosync/corosync.conf",
    "ha_dir": "/etc/ha.d",
    "state_dir": "/var/lib/hapair",
    "run_dir": "/run/hapair",  # runtime state (tmpfs: empty after a reboot), e.g. the drbd beacon's
    "proc_mounts": "/proc/mounts",
    "systemd_dir": "/etc/systemd/system",
    "fstab": "/etc/fstab",
    "cman_schema": "/usr/share/cluster/cluster.rng",
    "exports_dir": "/etc/exports.d",
    "corosync_authkey": "/etc/corosync/authkey",
    "dlm_conf": "/etc/dlm/dlm.conf",
}
DEFAULT_TIMEOUT = 30  # seconds: a status probe; actions pass more (ACTION_TIMEOUT), waits their own
ACTION_TIMEOUT = 120  # seconds: create-md, up, adjust, mount, service start...
LONG_TIMEOUT = 900  # seconds: mkfs of a large device, an rgmanager relocation or live migration


def binary(salt: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """Return the binary configured under ``hapair:bin:<name>`` (default: ``default``, else ``name``
    on PATH): ``binary(salt, "o2cb_init", "/etc/init.d/o2cb")``."""
    return salt["config.get"](f"hapair:bin:{name}", default or name)


def has_binary(salt: Mapping[str, Any], name: str) -> bool:
    """True when ``binary(salt, name)`` can run: an executable absolute path, or found on PATH.

    For ``__virtual__``: ``if not adapter.has_binary(__salt__, "o2cb"): return (False, "...")``.
    """
    found = binary(salt, name)
    return os.access(found, os.X_OK) if os.path.isabs(found) else shutil.which(found) is not None


def path(salt: Mapping[str, Any], name: str) -> str:
    """Return the path configured under ``hapair:paths:<name>`` (defaults in ``PATH_DEFAULTS``)."""
    return salt["config.get"](f"hapair:paths:{name}", PATH_DEFAULTS[name])


def drbd_config_paths(conf: str, conf_dir: str) -> list[str]:
    """The DRBD config files: ``conf``, then ``conf_dir``'s ``*.res`` and ``*.conf`` sorted by name.
    Salt-free, for the grains too: ``drbd_config_paths(path(salt, "drbd_conf"), path(salt, "drbd_conf_dir"))``."""
    return [conf, *sorted(glob.glob(os.path.join(conf_dir, "*.res")) + glob.glob(os.path.join(conf_dir, "*.conf")))]


def disk_secrets(salt: Mapping[str, Any]) -> list[str]:
    """Every secret in the files hapair writes on this node, read back from disk (never cached):
    DRBD shared-secrets (drbd.conf, ``drbd_conf_dir``/*.res, *.conf), heartbeat ``authkeys``, cman
    ``cluster.conf`` fence secrets and the corosync ``authkey`` (base64). Unreadable files are skipped.

    ``disk_secrets(__salt__) -> ["s3cr3t", ...]``: what ``run`` masks in every command's output.
    """
    paths = [*drbd_config_paths(path(salt, "drbd_conf"), path(salt, "drbd_conf_dir")),
             os.path.join(path(salt, "ha_dir"), "authkeys"), path(salt, "cman_conf")]
    found: list[str] = []
    for name in paths:
        try:
            with open(name, encoding="utf-8", errors="replace") as handle:
                found += secrets_mod.in_file(name, handle.read())
        except OSError:
            continue
    try:
        with open(path(salt, "corosync_authkey"), "rb") as handle:
            key = handle.read()
        if key:
            found.append(base64.b64encode(key).decode("ascii"))
    except OSError:
        pass
    return found


def _timed_out(result: Mapping[str, Any], timeout: float) -> bool:
    """Salt's ``cmd.run_all`` reports a killed command as exit 1 with ``<cmd> : Timed out after N seconds``."""
    stdout = str(result.get("stdout") or "")
    return result.get("retcode") == 1 and not result.get("stderr") and stdout.endswith(
        f" : Timed out after {timeout} seconds")


def run(
    salt: Mapping[str, Any],
    argv: list[str],
    *,
    secrets: Iterable[str] = (),
    ok_codes: Iterable[int] = (0,),
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: int | None = None,
) -> dict[str, Any]:
    """Run ``argv`` without a shell; raise CommandExecutionError (stderr, secrets masked) on failure.

    Returns ``{"retcode", "stdout", "stderr", "argv"}`` with secrets masked in stderr and argv.
    stdout is returned unmasked for parsers, but it is never logged by Salt (output_loglevel quiet).
    Masked: ``secrets``, every secret in the config files on disk (``disk_secrets``) and any
    ``--shared-secret=...``. Every command has a timeout (``DEFAULT_TIMEOUT`` seconds unless
    ``timeout`` is given); a command that runs out of it is killed and raises CommandExecutionError
    naming it, whatever ``ok_codes`` says.
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    secrets = list(secrets)
    shown = mask(list(argv), secrets)
    timeout = timeout or DEFAULT_TIMEOUT
    kwargs: dict[str, Any] = {"python_shell": False, "output_loglevel": "quiet", "ignore_retcode": True,
                              "timeout": timeout}
    if env:
        kwargs["env"] = dict(env)
    if stdin is not None:
        kwargs["stdin"] = stdin
    log.debug("hapair: running %s (timeout %ss)", " ".join(shown), timeout)
    result = salt["cmd.run_all"](list(argv), **kwargs)
    if _timed_out(result, timeout):
        raise CommandExecutionError(f"{' '.join(shown)} timed out after {timeout} s (killed)")
    stderr = result.get("stderr", "") or ""
    failed = result.get("retcode") not in tuple(ok_codes)
    if stderr or failed:  # only then is there output to show: read the secrets on disk
        secrets += disk_secrets(salt)
    out = {
        "argv": shown,
        "retcode": result.get("retcode"),
        "stdout": result.get("stdout", ""),
        "stderr": mask(stderr, secrets),
    }
    if failed:
        detail = out["stderr"].strip() or mask(out["stdout"] or "", secrets).strip()
        raise CommandExecutionError(f"{' '.join(shown)} failed (exit {out['retcode']}): {detail}")
    return out


def tool(salt: Mapping[str, Any], name: str, *args: str, parser: Callable[[str], T], **run_kwargs: Any) -> T:
    """Run binary ``name`` (``binary``) with ``args`` (``run``: no shell, masked errors; ``run_kwargs``
    such as ``ok_codes``, ``env``) and return its stdout through ``parser`` (``parsed``).

    ``tool(__salt__, "cman_tool", "status", parser=core.parse_status) -> {"quorate": True, ...}``
    """
    return parsed(parser, run(salt, [binary(salt, name), *args], **run_kwargs)["stdout"])


def virtual_if_binary(salt: Mapping[str, Any], virtualname: str, name: str, package: str) -> str | tuple[bool, str]:
    """``__virtual__`` of an execution module that needs binary ``name``: the virtualname, or
    ``(False, "<virtualname>: <binary> not found (install <package> or set hapair:bin:<name>)")``.

    ``def __virtual__(): return adapter.virtual_if_binary(__salt__, __virtualname__, "o2cb", "ocfs2-tools")``
    """
    if has_binary(salt, name):
        return virtualname
    return (False, f"{virtualname}: {binary(salt, name)} not found (install {package} or set hapair:bin:{name})")


def virtual_if_function(salt: Mapping[str, Any], virtualname: str, function: str) -> str | tuple[bool, str]:
    """``__virtual__`` of a state module that needs execution function ``function`` (``"o2cb.plan_config"``):
    the virtualname, or ``(False, "<virtualname>: the <module> execution module is not available")``."""
    if function in salt:
        return virtualname
    return (False, f"{virtualname}: the {function.split('.')[0]} execution module is not available")


def drbd_model(salt: Mapping[str, Any], resource: str | None, needed: str = "") -> dict[str, Any] | None:
    """This node's ``drbd.status`` model of ``resource`` (None: no resource, or not configured here);
    CommandExecutionError when the drbd execution module is missing (``needed`` says for what)."""
    if not resource:
        return None
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    if "hapair_drbd.status" not in salt:
        raise CommandExecutionError(f"the drbd execution module is {'needed ' + needed if needed else 'not available'}")
    return salt["hapair_drbd.status"](resource)["resources"].get(resource)


def flag(value: Any, what: str) -> bool:
    """An override argument parsed strictly (``hapair.fields.flag``): "no" and "false" mean no;
    anything that is not a flag is Salt's ``SaltInvocationError`` naming the argument.

    ``overwrite = adapter.flag(overwrite, "overwrite")``
    """
    from salt.exceptions import SaltInvocationError  # noqa: PLC0415 - Salt only where Salt runs

    try:
        return fields.flag(value, what)
    except HapairError as err:
        raise SaltInvocationError(str(err)) from None


def parsed(parser: Callable[[str], T], text: str, *, secrets: Iterable[str] = ()) -> T:
    """Return ``parser(text)``; a HapairError (ParseError...) becomes CommandExecutionError with
    ``secrets`` (and any ``shared-secret`` value in the quoted line) masked; when something was
    masked, without the original error attached.

    ``parsed(core.parse_status, res["stdout"])``
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    secrets = list(secrets)
    try:
        return parser(text)
    except HapairError as err:
        message = mask(str(err), secrets)
        if secrets or message != str(err):  # the unmasked original must not ride along as the cause
            raise CommandExecutionError(message) from None
        raise CommandExecutionError(message) from err


def read_file(path: str) -> str | None:
    r"""Return the text of ``path``, None when it does not exist; CommandExecutionError on other errors.

    ``read_file("/etc/ocfs2/cluster.conf") -> "cluster:\n\tname = web\n..." | None``
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CommandExecutionError(f"cannot read {path}: {err.strerror}")


def file_mode(path: str) -> str | None:
    """Return the permission bits of ``path`` as four octal digits (``"0644"``), None when it is missing."""
    try:
        return oct(os.stat(path).st_mode & 0o777)[2:].zfill(4)
    except FileNotFoundError:
        return None


def write_file(path: str, content: str | bytes, mode: str | int) -> None:
    r"""Write ``content`` (text, or bytes such as a key) to ``path`` atomically with ``mode``
    (``"0600"``, ``"0644"`` or an int).

    A temp file in the same directory gets the mode before the content is written (a secret is
    never readable by others), then replaces ``path``. Missing directories are created.
    CommandExecutionError (the temp file removed) on any OSError.
    ``write_file("/etc/ha.d/authkeys", "auth 1\n1 sha1 KEY\n", "0600")``
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    bits = int(mode, 8) if isinstance(mode, str) else int(mode)
    directory = os.path.dirname(path) or "."
    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".hapair-", dir=directory)
        os.fchmod(fd, bits)
        with (os.fdopen(fd, "wb") if isinstance(content, bytes) else os.fdopen(fd, "w", encoding="utf-8")) as handle:
            handle.write(content)
        os.replace(tmp, path)
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise CommandExecutionError(f"cannot write {path}: {err.strerror}")


def unified_diff(old: str | None, new: str, path: str) -> str:
    r"""Unified diff from ``old`` (None: no file yet) to ``new``, labelled ``<path> (current)`` and
    ``<path> (hapair)``; ``""`` when they are equal. Mask secrets before or after, as the caller needs.

    ``unified_diff("a\n", "b\n", "/f") == "--- /f (current)\n+++ /f (hapair)\n@@ -1 +1 @@\n-a\n+b\n"``
    """
    return "".join(difflib.unified_diff((old or "").splitlines(True), new.splitlines(True),
                                        f"{path} (current)", f"{path} (hapair)"))


def _mode(mode: str | int) -> str:
    """``"0644"`` for ``"0644"``, ``"644"``, ``0o644`` or ``420``."""
    return oct(int(mode, 8) if isinstance(mode, str) else int(mode))[2:].zfill(4)


def file_state(path: str, *, binary: bool = False) -> dict[str, Any] | None:
    """``{"content": str (bytes with ``binary``), "mode": "0644"}`` of ``path``, None when it is missing;
    CommandExecutionError on other read errors. Internal: the content may hold secrets."""
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    if not binary:
        text = read_file(path)
        return None if text is None else {"content": text, "mode": file_mode(path)}
    try:
        with open(path, "rb") as handle:
            return {"content": handle.read(), "mode": file_mode(path)}
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CommandExecutionError(f"cannot read {path}: {err.strerror}")


def plan_file(
    path: str,
    content: str | bytes,
    mode: str | int,
    *,
    secrets: Iterable[str] = (),
    redact: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    r"""Compare the file hapair would write with the one on disk; reads only. The one shape of a
    config file's changes, used by every module (``install_file`` returns the same)::

        {"path": "/etc/ha.d/authkeys", "changed": True,
         "action": "created" | "updated" | "mode" | "unchanged",
         "mode": "0600", "old_mode": "0644" | None (no file), "diff": "--- ... (masked)"}

    ``diff`` is a unified diff (``unified_diff``) of a content change, ``""`` otherwise and always
    for bytes (a key). It never shows a secret: ``secrets``, and those both the old and the new
    text hold (``hapair.secrets.in_file``: a rotated-out shared-secret, authkeys, fence passwords)
    are masked; ``redact`` (e.g. ``hapair.cman.mask_xml``) is applied to both texts before diffing.
    """
    want_mode = _mode(mode)
    binary_content = isinstance(content, bytes)
    cur = file_state(path, binary=binary_content)
    old = None if cur is None else cur["content"]
    if cur is None:
        action = "created"
    elif old != content:
        action = "updated"
    elif cur["mode"] != want_mode:
        action = "mode"
    else:
        action = "unchanged"
    diff = ""
    if action in ("created", "updated") and not binary_content:
        view = redact or (lambda text: text)
        hidden = [*secrets, *secrets_mod.in_file(path, old), *secrets_mod.in_file(path, content)]
        diff = mask(unified_diff(None if old is None else view(old), view(content), path), hidden)
    return {"path": path, "changed": action != "unchanged", "action": action, "mode": want_mode,
            "old_mode": None if cur is None else cur["mode"], "diff": diff}


def install_file(
    path: str,
    content: str | bytes,
    mode: str | int,
    *,
    secrets: Iterable[str] = (),
    redact: Callable[[str], str] | None = None,
    test: bool = False,
) -> dict[str, Any]:
    r"""Render, diff, write: install ``content`` at ``path`` with ``mode`` when it differs.

    Returns ``plan_file``'s dict (secrets masked in ``diff``). A content change is written
    atomically by ``write_file`` (the mode set before the content: a secret is never readable by
    others), a mode-only change is a chmod; with ``test=True`` nothing is written. Validate the
    content with the real tool before calling this. CommandExecutionError on any OSError.

    ``install_file("/etc/dlm/dlm.conf", "enable_fencing=1
", "0644")["action"] -> "created"``
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    out = plan_file(path, content, mode, secrets=secrets, redact=redact)
    if test or not out["changed"]:
        return out
    if out["action"] == "mode":
        try:
            os.chmod(path, int(out["mode"], 8))
        except OSError as err:
            raise CommandExecutionError(f"cannot chmod {path}: {err.strerror}")
    else:
        write_file(path, content, out["mode"])
    return out


def install_files(
    files: Mapping[str, Mapping[str, Any]],
    *,
    secrets: Iterable[str] = (),
    test: bool = False,
) -> dict[str, dict[str, Any]]:
    """``install_file`` for each of ``{path: {"content", "mode"}}`` in path order:
    ``{path: plan_file dict}`` for every path, unchanged ones included (filter on ``changed``).

    ``install_files(render(topology), secrets=topo_secrets, test=True)`` plans without writing.
    """
    return {path: install_file(path, files[path]["content"], files[path]["mode"], secrets=secrets, test=test)
            for path in sorted(files)}


def replace_lines(path: str, old: Iterable[str], line: str, mode: str | int = "0644") -> dict[str, Any]:
    r"""Drop every line of ``path`` that is one of ``old`` and append ``line`` (an fstab entry), then
    ``install_file``; a missing file is created. Returns ``install_file``'s dict.

    ``replace_lines("/etc/fstab", ["/dev/drbd0 /srv ocfs2 defaults 0 0"], "/dev/drbd0 /srv ocfs2 _netdev 0 0")``
    """
    drop = set(old)
    kept = [text for text in (read_file(path) or "").splitlines() if text not in drop]
    return install_file(path, "\n".join([*kept, line]) + "\n", mode)


def mounts(salt: Mapping[str, Any], fstype: str | None = None) -> list[dict[str, Any]]:
    """What is mounted (``hapair:paths:proc_mounts`` read with ``hapair.parsing.parse_proc_mounts``),
    only ``fstype`` mounts when given: ``[{"device", "mountpoint", "fstype", "options": [...]}]``.

    ``mounts(__salt__, "gfs2") -> [{"device": "/dev/drbd0", "mountpoint": "/srv/gfs2", ...}]``
    """
    found = parsed(parsing.parse_proc_mounts, read_file(path(salt, "proc_mounts")) or "")
    return [m for m in found if fstype is None or m["fstype"] == fstype]


def boot_units(salt: Mapping[str, Any], topo: Mapping[str, Any], node: str | None) -> dict[str, dict[str, Any]]:
    """The promote-before-mount systemd units of ``node`` (``hapair.ocfs2.render_boot_units``, for
    OCFS2 and GFS2 alike): ``{path: {"content", "mode"}}`` under ``hapair:paths:systemd_dir``."""
    from hapair.ocfs2 import render_boot_units  # noqa: PLC0415 - only the cluster filesystems need it

    return render_boot_units(topo, node, drbdadm=binary(salt, "drbdadm", "/usr/sbin/drbdadm"),
                             systemd_dir=path(salt, "systemd_dir"))


def blkid(salt: Mapping[str, Any], device: str) -> dict[str, str]:
    """The signature on ``device``: ``blkid -p -o export`` parsed (``hapair.parsing.parse_blkid``,
    lower-case keys), ``{}`` when blkid finds nothing (exit 2, which a device that cannot be opened
    gives too: a guard opens it first). The one blkid probe of every module.

    ``blkid(__salt__, "/dev/drbd0") -> {"type": "gfs2", "label": "hardcore:gfs2-00", ...}``
    """
    res = run(salt, parsing.blkid_argv(binary(salt, "blkid"), device), ok_codes=(0, parsing.BLKID_NOTHING_FOUND))
    return {} if res["retcode"] == parsing.BLKID_NOTHING_FOUND else parsed(parsing.parse_blkid, res["stdout"])


def pillar_data(salt: Mapping[str, Any], pillar: Mapping[str, Any] | None) -> dict:
    """The minion's pillar as a plain dict (Salt's ``__pillar__`` is a loader proxy, not a dict):
    ``pillar`` when it is non-empty, else ``salt["pillar.items"]()``.

    ``pillar_data(__salt__, __pillar__) -> {"hapair": {"topologies": {...}}, ...}``
    """
    return dict(pillar if pillar else salt["pillar.items"]())


def load_topology(
    salt: Mapping[str, Any],
    pillar: Mapping[str, Any] | None,
    opts: Mapping[str, Any],
    name: str,
    *,
    stack: str | None = None,
    require_node: bool = True,
) -> tuple[dict, str | None]:
    """Load topology ``name`` (``hapair.topology.load``) and find this minion's node in it.

    The pillar is ``pillar`` when it is non-empty, else ``salt["pillar.items"]()``. Returns
    ``(normalised topology, node name)``; the node is the one whose ``minion_id`` is
    ``opts["id"]``. Raises CommandExecutionError listing every validation error, or naming the
    minion and the topology when the minion is not a node (with ``require_node=False`` the node is
    None instead); SaltInvocationError when ``stack`` is given and the topology uses another.
    ``load_topology(__salt__, __pillar__, __opts__, "web", stack="o2cb") -> ({"name": "web", ...}, "web1")``
    """
    from salt.exceptions import CommandExecutionError, SaltInvocationError  # noqa: PLC0415

    try:
        import hapair.topology as topo_mod  # noqa: PLC0415 - import errors reported as Salt errors
    except ImportError as err:
        raise CommandExecutionError(f"hapair.topology is not available: {err}")
    try:
        topo = topo_mod.load(pillar_data(salt, pillar), name)
    except HapairError as err:
        raise CommandExecutionError(str(err))
    if stack is not None and topo["cluster"]["stack"] != stack:
        raise SaltInvocationError(f"topology {name} uses cluster stack {topo['cluster']['stack']!r}, not {stack}")
    minion = opts.get("id")
    nodes = [node for node, spec in topo["nodes"].items() if spec.get("minion_id") == minion]
    if not nodes and require_node:
        raise CommandExecutionError(f"minion {minion} is not a node of topology {name}")
    return topo, (nodes[0] if nodes else None)


def load_filesystem(
    salt: Mapping[str, Any],
    pillar: Mapping[str, Any] | None,
    opts: Mapping[str, Any],
    topology: str,
    fstype: str,
    name: str | None = None,
) -> tuple[dict, dict | None, str | None]:
    """``(topology, filesystem, node)``: ``load_topology``, then the ``fstype`` filesystem ``name``
    with ``device`` set to this node's (``devices[node]``, else ``device``); None without ``name``.
    SaltInvocationError when the topology has no such filesystem of that type.

    ``load_filesystem(__salt__, __pillar__, __opts__, "web", "ocfs2", "www") -> (topo, {"device": "/dev/drbd0", ...}, "web1")``
    """
    from salt.exceptions import SaltInvocationError  # noqa: PLC0415 - Salt only where Salt runs

    topo, node = load_topology(salt, pillar, opts, topology)
    if name is None:
        return topo, None, node
    fs = topo["filesystems"].get(name)
    if fs is None or fs["type"] != fstype:
        raise SaltInvocationError(f"topology {topology} has no {fstype} filesystem {name!r}")
    return topo, dict(fs, device=(fs.get("devices") or {}).get(node) or fs["device"]), node


def node_filesystems(topo: Mapping[str, Any], node: str | None, fstype: str) -> list[dict[str, Any]]:
    """The ``fstype`` filesystems of a topology as the formula loops over them on ``node``:
    ``[{"name", "device" (this node's), "mountpoint", "format": node formats it, "mount": node mounts it}]``."""
    out = []
    for name, fs in sorted(topo["filesystems"].items()):
        if fs["type"] == fstype:
            out.append({"name": name, "device": (fs.get("devices") or {}).get(node) or fs["device"],
                        "mountpoint": fs.get("mountpoint"), "format": fs["format_on"] == node,
                        "mount": node in (fs.get("mount_on") or [])})
    return out


def state_result(name: str) -> dict[str, Any]:
    """The return of a state before it looks at anything: ``{"name", "result": True, "changes": {}, "comment": ""}``."""
    return {"name": name, "result": True, "changes": {}, "comment": ""}


# --------------------------------------------------------------------------- grains
def opts_value(opts: Any, key: str, default: Any) -> Any:
    """``key`` (colon-separated) of a minion config mapping, else ``default``: what grains read
    (they get ``__opts__``, not ``config.get``).

    >>> opts_value({"hapair": {"bin": {"cl_status": "/x"}}}, "hapair:bin:cl_status", "cl_status")
    '/x'
    """
    node = opts or {}
    for part in key.split(":"):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def bounded_runner(timeout: float) -> Callable[[list[str]], tuple[int, str, str]]:
    """A ``run(argv) -> (code, stdout, stderr)`` for grains: no shell, ``timeout`` seconds at most
    (a hung tool raises ``subprocess.TimeoutExpired``, which the grain logs once)."""
    import subprocess  # noqa: PLC0415 - only grains need it

    def run(argv: list[str]) -> tuple[int, str, str]:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        return res.returncode, res.stdout, res.stderr

    return run


class WarnOnce:
    """Log each cause at warning the first time it is seen, at debug after that; never raises.
    A grains refresh repeats the same failure: the log says it once. At most ``limit`` causes
    are remembered.

    >>> warn = WarnOnce(logging.getLogger("doc"), "hapair doc grains")
    >>> warn("boom"); warn("boom"); sorted(warn.seen)
    ['boom']
    """

    def __init__(self, logger: logging.Logger, what: str, limit: int = 64):
        self.logger, self.what, self.limit = logger, what, limit
        self.seen: set[str] = set()

    def __call__(self, cause: str) -> None:
        if cause in self.seen:
            self.logger.debug("%s: %s", self.what, cause)
            return
        if len(self.seen) < self.limit:
            self.seen.add(cause)
        self.logger.warning("%s: %s", self.what, cause)
