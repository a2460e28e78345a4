"""NFS exports of a topology's mounted filesystems (seed 001): render the exports file, parse
``exportfs -s``, and plan; pure.

hapair owns one file per topology, ``/etc/exports.d/hapair-<topology>.exports`` (nfs-utils reads
``/etc/exports.d/*.exports``), so the operator's ``/etc/exports`` is never edited. An export whose
path is the mountpoint of one of the topology's filesystems is refused while that filesystem is not
mounted: clients would write into the directory underneath, on the root filesystem. The exports'
layout (seed 001's public names, ``/vol/home -> /vol/ocfs2-small/home``) is created first: each
``nfs:links`` target and each export under a mountpoint a directory, each link a symlink on each
node's root filesystem.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from hapair.fields import require

EXPORTS_DIR = "/etc/exports.d"
HEADER = "# Managed by hapair (topology {name}): do not edit, change the pillar instead.\n"


def exports_path(topology: Mapping[str, Any], exports_dir: str = EXPORTS_DIR) -> str:
    """``/etc/exports.d/hapair-<topology>.exports``."""
    return os.path.join(exports_dir, f"hapair-{topology['name']}.exports")


def render_exports(topology: Mapping[str, Any]) -> str:
    """The exports file for a normalised topology: ``<path> <clients>(<options>)`` per export.

    Every field passes its whitelist (``hapair.fields``): a space or newline would add a client or
    an export line, a parenthesis an option list.

    >>> render_exports({"name": "t", "nfs": {"exports": [{"path": "/srv", "clients": "10.0.0.0/24",
    ...                                                   "options": ["rw", "sync"]}]}}).splitlines()[1]
    '/srv 10.0.0.0/24(rw,sync)'
    """
    lines = [HEADER.format(name=require("name", topology["name"], "topology name"))]
    for index, exp in enumerate(topology["nfs"]["exports"]):
        what = f"nfs:exports:{index}"
        path = require("path", exp["path"], f"{what}:path")
        clients = require("export_client", exp["clients"], f"{what}:clients")
        options = ",".join(require("token", option, f"{what}:options") for option in exp["options"])
        lines.append(f"{path} {clients}({options})\n" if options else f"{path} {clients}\n")
    return "".join(lines)


def parse_exportfs(text: str) -> dict[str, list[dict[str, Any]]]:
    """``exportfs -s`` (or ``-v``) -> ``{path: [{"client": "*", "options": ["rw", ...]}]}``.

    A long path is printed alone with its clients on the next, indented line; both layouts parse.
    """
    exports: dict[str, list[dict[str, Any]]] = {}
    path = None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        tokens = raw.split()
        if not raw[0].isspace():
            path, tokens = tokens[0], tokens[1:]
            exports.setdefault(path, [])
        for token in tokens:
            if path is None:
                continue
            client, _, rest = token.partition("(")
            exports[path].append({"client": client, "options": [o for o in rest.rstrip(")").split(",") if o]})
    return exports


def mountpoints(topology: Mapping[str, Any]) -> list[str]:
    """Every mountpoint of a normalised topology: its filesystems and its LVM volumes' filesystems.

    >>> mountpoints({"filesystems": {"a": {"mountpoint": "/vol/a"}}, "lvm": {"vg0": {"lvs": {
    ...     "x": {"filesystem": {"mountpoint": "/vol/x"}}, "y": {"filesystem": None}}}}})
    ['/vol/a', '/vol/x']
    """
    found = [fs["mountpoint"] for fs in (topology.get("filesystems") or {}).values() if fs.get("mountpoint")]
    for vg in (topology.get("lvm") or {}).values():
        found += [lv["filesystem"]["mountpoint"] for lv in (vg.get("lvs") or {}).values()
                  if lv.get("filesystem") and lv["filesystem"].get("mountpoint")]
    return sorted(found)


def layout(topology: Mapping[str, Any]) -> dict[str, Any]:
    """The directories and links the exports need: ``{"directories": [...], "links": {link: target}}``.

    A directory is every ``nfs:links`` target and every export path strictly under a mountpoint
    (seed 001: ``mkdir /vol/ocfs2-small/home; ln -s /vol/ocfs2-small/home /vol/home``).

    >>> layout({"filesystems": {"s": {"mountpoint": "/vol/s"}}, "lvm": {}, "nfs": {
    ...     "links": {"/vol/home": "/vol/s/home"}, "exports": [{"path": "/vol/home"}, {"path": "/vol/s/www"}]}})
    {'directories': ['/vol/s/home', '/vol/s/www'], 'links': {'/vol/home': '/vol/s/home'}}
    """
    mps = mountpoints(topology)
    links = dict((topology.get("nfs") or {}).get("links") or {})
    under = [exp["path"] for exp in topology["nfs"]["exports"]
             if exp["path"] not in links and any(exp["path"].startswith(m.rstrip("/") + "/") for m in mps)]
    return {"directories": sorted(set(links.values()) | set(under)), "links": links}


def _mountpoint_of(path: str, mps: list[str]) -> str | None:
    inside = [m for m in mps if path == m or path.startswith(m.rstrip("/") + "/")]
    return max(inside, key=len) if inside else None


def boot_dropin_path(topology: Mapping[str, Any], service: str = "nfs-server",
                     systemd_dir: str = "/etc/systemd/system") -> str:
    """The nfs-server drop-in that orders it after the exported mounts at boot.

    >>> boot_dropin_path({"name": "fileserver"})
    '/etc/systemd/system/nfs-server.service.d/hapair-fileserver.conf'
    """
    return os.path.join(systemd_dir, f"{require('name', service, 'nfs service')}.service.d",
                        f"hapair-{require('name', topology['name'], 'topology name')}.conf")


def render_boot_dropin(topology: Mapping[str, Any]) -> str | None:
    """``RequiresMountsFor=`` the mountpoints the exports live on (through their links), or None.

    At boot nfs-server then starts only once those filesystems are mounted (hapair's promote-
    before-mount units), and not at all when one of them fails: never an export of the empty
    directory underneath (seed 001's boot script exists for this).

    >>> print(render_boot_dropin({"name": "t", "filesystems": {"s": {"mountpoint": "/vol/s"}}, "lvm": {},
    ...     "nfs": {"links": {"/vol/home": "/vol/s/home"}, "exports": [{"path": "/vol/home"}, {"path": "/vol/s"}]}}))
    # Managed by hapair (topology t): nfs-server waits for the exported filesystems.
    [Unit]
    RequiresMountsFor=/vol/s
    <BLANKLINE>
    """
    mps = mountpoints(topology)
    links = (topology.get("nfs") or {}).get("links") or {}
    needed = sorted({m for exp in topology["nfs"]["exports"]
                     if (m := _mountpoint_of(links.get(exp["path"], exp["path"]), mps))})
    if not needed:
        return None
    paths = " ".join(require("path", m, "mountpoint") for m in needed)
    return (f"# Managed by hapair (topology {require('name', topology['name'], 'topology name')}): nfs-server "
            f"waits for the exported filesystems.\n[Unit]\nRequiresMountsFor={paths}\n")


def plan_exported(topology: Mapping[str, Any], facts: Mapping[str, Any],
                  exports_dir: str = EXPORTS_DIR) -> dict[str, Any]:
    """What ``hapair_nfs.exported`` must do: ``{"write": bool, "content", "path", "reload": bool,
    "start": bool, "mkdir": [...], "link": {link: target}, "missing": [...], "refused": [...],
    "boot": {"content": the nfs-server drop-in or None, "write": bool}}``.

    ``facts``: ``{"current": exports file text or None, "exported": parse_exportfs(...),
    "mounted": [mountpoints mounted here], "running": bool (nfs-server active), "paths": {path:
    {"kind": "missing"|"dir"|"link"|"other", "target": readlink or None}} for the layout's
    directories and links, "resolved": {export path: its real path}, "dropin": the drop-in's text
    or None}``. Refused, changing nothing:
    an export, a directory or a link target whose filesystem is not mounted here (clients, or
    mkdir, would write into the directory underneath), and a link path that is something else
    already (hapair never replaces a file or a directory, nor re-points another link).
    """
    content = render_exports(topology)
    mps = mountpoints(topology)
    mounted = set(facts.get("mounted") or ())
    paths = facts.get("paths") or {}
    plan = layout(topology)
    refused = []
    for exp in topology["nfs"]["exports"]:
        where = _mountpoint_of(plan["links"].get(exp["path"], exp["path"]), mps)
        if where is not None and where not in mounted:
            refused.append(f"{exp['path']}: its filesystem {where} is not mounted here, clients would write into the "
                           "directory underneath (mount it first)")
    mkdir = []
    for directory in plan["directories"]:
        where = _mountpoint_of(directory, mps)
        kind = (paths.get(directory) or {}).get("kind", "missing")
        if kind == "dir":
            continue
        if kind != "missing":
            refused.append(f"{directory}: is {'a link' if kind == 'link' else 'a file'}, not a directory (move it aside)")
        elif where is not None and where not in mounted:
            refused.append(f"{directory}: {where} is not mounted here; mkdir would write underneath it")
        else:
            mkdir.append(directory)
    link = {}
    for path, target in sorted(plan["links"].items()):
        seen = paths.get(path) or {}
        if seen.get("kind") == "link" and seen.get("target") == target:
            continue
        if seen.get("kind", "missing") != "missing":
            what = {"link": f"a link to {seen.get('target')}", "dir": "a directory"}.get(seen.get("kind"), "a file")
            refused.append(f"{path}: is {what} already; hapair never replaces it (move it aside)")
        else:
            link[path] = target
    dropin = render_boot_dropin(topology)
    write = facts.get("current") != content
    exported = facts.get("exported") or {}
    resolved = facts.get("resolved") or {}
    missing = [exp["path"] for exp in topology["nfs"]["exports"]
               if exp["path"] not in exported and resolved.get(exp["path"]) not in exported]
    return {"path": exports_path(topology, exports_dir), "content": content, "write": write,
            "reload": write or bool(missing) or bool(link), "start": not facts.get("running"), "missing": missing,
            "mkdir": mkdir, "link": link, "refused": refused,
            "boot": {"content": dropin, "write": dropin is not None and facts.get("dropin") != dropin}}
