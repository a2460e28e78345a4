"""hapair's QEMU lab: two real DRBD nodes, a real salt-master, fault tools, captures and the demo.

Entry point: ``python -m lab <command>`` from the repository root (see lab/README.md).
Python API for tests::

    from lab.vm import Lab
    lab = Lab.current()           # the lab brought up by ``python -m lab up`` (or Lab().up())
    lab.ssh("node1", "cat /proc/drbd").stdout
    lab.salt("node1", "test.ping")  # -> {"node1": True}
    lab.cut_link(); lab.restore_link()
"""
