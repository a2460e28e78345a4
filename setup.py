"""A shim for tools that still call ``setup.py``: the packaging lives in ``pyproject.toml``.

``pip install .`` (or ``pip install -e .``) installs the Salt-free core as the ``hapair`` package and
the loader folders (``_modules``, ``_states``, ``_grains``, ``_runners``, ``_beacons``) as its
sub-packages, and registers them with Salt through the ``salt.loader`` entry point; the version is
``hapair.__version__``.
"""

from setuptools import setup

setup()
