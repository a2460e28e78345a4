"""Fail when a public function of an execution module or runner lacks a ``CLI Example:``.

Run by ``make lint``: ``python tests/check_cli_examples.py``.
"""

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def missing_examples(folders=("_modules", "_runners")):
    """Return ``["file:function", ...]`` for public functions without a CLI example."""
    missing = []
    for folder in folders:
        for path in sorted((ROOT / folder).glob("*.py")):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                    doc = ast.get_docstring(node) or ""
                    if "CLI Example" not in doc:
                        missing.append(f"{path.relative_to(ROOT)}:{node.name}")
    return missing


if __name__ == "__main__":
    bad = missing_examples()
    for item in bad:
        print(f"missing CLI Example: {item}")
    sys.exit(1 if bad else 0)
