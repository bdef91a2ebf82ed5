"""Shared fixtures for the course's tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from course import COURSE_ROOT, SOLUTIONS


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A throw-away course folder holding the nbgrader source and configuration."""
    shutil.copytree(SOLUTIONS, tmp_path / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    return tmp_path


def pytest_generate_tests(metafunc):
    from assignment_checks import pytest_generate_tests_for

    pytest_generate_tests_for(metafunc)


def pytest_configure(config):
    """Share the cores between pytest-xdist workers instead of oversubscribing them.

    Each worker (and every notebook kernel it starts, which inherits the environment)
    would otherwise run PyTorch on all cores, and the threads of different workers then
    wait on each other: training slows several-fold.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, threads)
