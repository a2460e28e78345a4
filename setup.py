"""hapair: declarative two-node DRBD high availability for SaltStack.

``pip install .`` installs the Salt-free core as the ``hapair`` package and the loader folders
(``_modules``, ``_states``, ``_grains``, ``_runners``, ``_beacons``) as its sub-packages, and
registers them with Salt through the ``salt.loader`` entry point.
"""

from setuptools import setup

PACKAGE_DIRS = {
    "hapair": "_utils/hapair",
    "hapair._modules": "_modules",
    "hapair._states": "_states",
    "hapair._grains": "_grains",
    "hapair._runners": "_runners",
    "hapair._beacons": "_beacons",
}

setup(
    name="hapair",
    version="0.1.0",
    description="Declarative two-node DRBD HA storage (DRBD, OCFS2, GFS2, cman, heartbeat) for SaltStack",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=list(PACKAGE_DIRS),
    package_dir=PACKAGE_DIRS,
    install_requires=["salt>=3006", "jinja2", "pyyaml"],
    entry_points={"salt.loader": ["hapair = hapair.saltext:loader_dirs"]},
)
