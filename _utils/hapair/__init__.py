"""hapair's Salt-free core: topology model and validation, renderers, parsers and planners.

Nothing in this package imports Salt. Execution modules, states, grains, runners and beacons
call into it; tests import it straight from the tree (``_utils`` on ``sys.path``).
"""

__version__ = "0.1.0"
