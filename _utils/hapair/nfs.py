"""NFS exports of a topology's mounted filesystems (seed 001): render the exports file, parse
``exportfs -s``, and plan; pure.

hapair owns one file per topology, ``/etc/exports.d/hapair-<topology>.exports`` (nfs-utils reads
``/etc/exports.d/*.exports``), so the operator's ``/etc/exports`` is never edited. An export whose
path is the mountpoint of one of the topology's filesystems is refused while that filesystem is not
mounted: clients would write into the directory underneath, on the root filesystem.
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


def plan_exported(topology: Mapping[str, Any], facts: Mapping[str, Any],
                  exports_dir: str = EXPORTS_DIR) -> dict[str, Any]:
    """What ``hapair_nfs.exported`` must do: ``{"write": bool, "content", "path", "reload": bool,
    "start": bool, "refused": [...]}``.

    ``facts``: ``{"current": exports file text or None, "exported": parse_exportfs(...),
    "mounted": [mountpoints mounted here], "running": bool (nfs-server active)}``.
    """
    content = render_exports(topology)
    mountpoints = {fs["mountpoint"] for fs in topology["filesystems"].values() if fs.get("mountpoint")}
    mounted = set(facts.get("mounted") or ())
    refused = [f"{exp['path']}: its filesystem is not mounted here, clients would write into the directory "
               "underneath (mount it first)"
               for exp in topology["nfs"]["exports"] if exp["path"] in mountpoints and exp["path"] not in mounted]
    write = facts.get("current") != content
    exported = facts.get("exported") or {}
    missing = [exp["path"] for exp in topology["nfs"]["exports"] if exp["path"] not in exported]
    return {"path": exports_path(topology, exports_dir), "content": content, "write": write,
            "reload": write or bool(missing), "start": not facts.get("running"), "missing": missing,
            "refused": refused}
