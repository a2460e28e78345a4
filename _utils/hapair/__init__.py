"""hapair's Salt-free core: topology model and validation, renderers, parsers and planners.

Nothing in this package imports Salt. Execution modules, states, grains, runners and beacons
call into it; tests import it straight from the tree (``_utils`` on ``sys.path``).
"""

import os
import sys
import time

# The one source of hapair's version: pyproject.toml reads it ([tool.setuptools.dynamic]), CHANGELOG.md
# has a section per release named by it.
__version__ = "0.1.0"
_IMPORTED_NS = time.time_ns()


def reload_changed() -> bool:
    """Forget every loaded ``hapair`` module when a file of this package changed after its import.

    A running minion keeps imported modules in ``sys.modules``: after ``saltutil.sync_all`` brings
    new core files, Salt reloads the adapters, but their ``import hapair.x`` would still get the
    old core until the minion restarts (seen in the lab: a new beacon against the old adapter).
    Every adapter calls this before its imports, so the next import reads the new files. Returns
    True when it forgot them.

    The package is imported again at once, from this same folder: the loader has the adapters'
    folders on ``sys.path``, and a plain ``import hapair`` afterwards would find the runner file
    ``_runners/hapair.py`` before this package (seen in the integration tests: "partially
    initialized module 'hapair'", the runner then missing from the master).
    """
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        newest = max(entry.stat().st_mtime_ns for entry in os.scandir(here) if entry.name.endswith(".py"))
    except (OSError, ValueError):
        return False
    if newest <= _IMPORTED_NS:
        return False
    for name in [n for n in sys.modules if n == "hapair" or n.startswith("hapair.")]:
        del sys.modules[name]
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.spec_from_file_location("hapair", os.path.join(here, "__init__.py"),
                                                  submodule_search_locations=[here])
    if spec is not None and spec.loader is not None:
        package = importlib.util.module_from_spec(spec)
        sys.modules["hapair"] = package
        spec.loader.exec_module(package)
    return True
