"""What a test does when something it needs from the machine is missing.

Locally it is skipped, with a message that says how to install what is missing. In CI (``CI``
set), where .ci/run installs everything the tests need, it fails instead: a green run must not
hide tests that never ran. The same rule as the browser tests' (tests/conftest.py).
"""

from __future__ import annotations

import os

import pytest


def skip_or_fail(reason: str) -> None:
    """Skip the test saying ``reason``, or fail it when running in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)
