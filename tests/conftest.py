"""Shared fixtures for the course's tests."""

from __future__ import annotations

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
