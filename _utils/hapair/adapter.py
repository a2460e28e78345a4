"""The one place that knows how hapair's Salt adapters run commands and read config.

Adapters pass their ``__salt__`` mapping in; nothing here uses Salt dunders. This is the only
core file that imports Salt (lazily, for its exception type), so the rest stays Salt-free.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from hapair.secrets import mask

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
    "proc_mounts": "/proc/mounts",
    "systemd_dir": "/etc/systemd/system",
    "fstab": "/etc/fstab",
    "cman_schema": "/usr/share/cluster/cluster.rng",
}


def binary(salt: Mapping[str, Any], name: str) -> str:
    """Return the binary configured under ``hapair:bin:<name>`` (default: ``name`` on PATH)."""
    return salt["config.get"](f"hapair:bin:{name}", name)


def path(salt: Mapping[str, Any], name: str) -> str:
    """Return the path configured under ``hapair:paths:<name>`` (defaults in ``PATH_DEFAULTS``)."""
    return salt["config.get"](f"hapair:paths:{name}", PATH_DEFAULTS[name])


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
    """
    from salt.exceptions import CommandExecutionError  # noqa: PLC0415 - Salt only where Salt runs

    secrets = list(secrets)
    shown = mask(list(argv), secrets)
    kwargs: dict[str, Any] = {"python_shell": False, "output_loglevel": "quiet", "ignore_retcode": True}
    if env:
        kwargs["env"] = dict(env)
    if stdin is not None:
        kwargs["stdin"] = stdin
    if timeout:
        kwargs["timeout"] = timeout
    log.debug("hapair: running %s", " ".join(shown))
    result = salt["cmd.run_all"](list(argv), **kwargs)
    out = {
        "argv": shown,
        "retcode": result.get("retcode"),
        "stdout": result.get("stdout", ""),
        "stderr": mask(result.get("stderr", ""), secrets),
    }
    if out["retcode"] not in tuple(ok_codes):
        detail = out["stderr"].strip() or mask(out["stdout"], secrets).strip()
        raise CommandExecutionError(f"{' '.join(shown)} failed (exit {out['retcode']}): {detail}")
    return out
