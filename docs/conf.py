"""Sphinx configuration of hapair's docs site (``make docs``; CI builds it with ``-W``).

The reference pages are the loader modules' own docstrings (execution modules, states, runner,
beacon, grains, ext_pillar), pulled in by the ``hapair-loader`` directive below, which lists
every module of one loader folder so a new module needs no docs edit; the guides are the Markdown
pages beside this file (MyST).
"""

from __future__ import annotations

import glob
import os
import sys

from docutils.parsers.rst import Directive, directives

DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
sys.path[:0] = [ROOT, os.path.join(ROOT, "_utils")]  # _modules.drbd, ...; the core as ``hapair``

import hapair  # noqa: E402

project = "hapair"
author = "the hapair authors"
copyright = "2026, the hapair authors"  # noqa: A001 - Sphinx's name
release = version = hapair.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.doctest", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3
# links to repository files outside docs/ (README.md, salt/...); pillar.md's "### " under its "# "
suppress_warnings = ["myst.xref_missing", "myst.header"]
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the loader functions are untyped; the core's hints are in the code
html_theme = "alabaster"
html_title = f"hapair {release}"
html_static_path: list[str] = []


class LoaderFolder(Directive):
    """``.. hapair-loader:: _modules``: one section per module of that folder, its docstrings."""

    required_arguments = 1
    option_spec = {"kind": directives.unchanged}

    def run(self):
        folder = self.arguments[0]
        kind = self.options.get("kind", "module")
        lines = []
        for path in sorted(glob.glob(os.path.join(ROOT, folder, "*.py"))):
            name = os.path.splitext(os.path.basename(path))[0]
            if name == "__init__":
                continue
            title = f"{name} ({kind})"
            lines += [title, "-" * len(title), "", f".. automodule:: {folder}.{name}", ""]
        self.state_machine.insert_input(lines, os.path.join(ROOT, folder))
        return []


def setup(app):
    app.add_directive("hapair-loader", LoaderFolder)
    return {"parallel_read_safe": True}
