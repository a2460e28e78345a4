"""Functional-test fixtures (helpers live in drbd_helpers.py)."""

import os

import pytest
from drbd_helpers import SALT_CALL, new_cluster


@pytest.fixture
def cluster(tmp_path):
    """A fresh fake two-node cluster (tests/fakebin) and a salt-call --local per node."""
    if not os.access(SALT_CALL, os.X_OK):
        pytest.skip(f"salt-call not found at {SALT_CALL}")
    return new_cluster(str(tmp_path / "c"))
