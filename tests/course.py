"""Where the course's parts are, and how to run nbgrader on them, for the tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = COURSE_ROOT / "solutions"
ASSIGNMENTS = COURSE_ROOT / "assignments"
ASSIGNMENT_IDS = sorted(path.name for path in SOLUTIONS.iterdir() if path.is_dir())


def run_nbgrader(*args: str, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run this environment's nbgrader command line in ``cwd``, as an instructor would."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
