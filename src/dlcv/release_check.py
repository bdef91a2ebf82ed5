"""Is each released assignment exactly what nbgrader makes from its source today?

A release that lags its source hands students an old version (or, after a hidden test
was moved into a visible cell by mistake, a leak). The check regenerates every release
with ``nbgrader generate_assignment --no-db`` in a throw-away copy of the course (so the
course and its gradebook are untouched) and compares the files byte for byte.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

IGNORED = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and ".ipynb_checkpoints" not in path.parts and "__pycache__" not in path.parts}


def regenerate(course: Path, source: str, release: str, scratch: Path) -> Path:
    """Run ``nbgrader generate_assignment`` for every assignment at once in ``scratch``; return its release folder."""
    shutil.copytree(course / source, scratch / source, ignore=IGNORED)
    shutil.copy(course / "nbgrader_config.py", scratch / "nbgrader_config.py")
    scripts = str(Path(sys.executable).parent)  # nbgrader starts helpers by name
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force", "--no-db"],
        cwd=scratch, env=env, capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        raise SystemExit("nbgrader generate_assignment failed, so the releases cannot be checked; "
                         f"fix the sources first:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return scratch / release


def stale_releases(course: Path, source: str = "solutions", release: str = "assignments") -> list[str]:
    """The assignments whose committed release differs from what their source generates (or has none)."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise SystemExit("checking the releases needs nbgrader: `pip install -r requirements.txt` "
                         "in the instructor's course folder") from None
    with tempfile.TemporaryDirectory(prefix="dlcv-release-check-") as scratch:
        generated = regenerate(course, source, release, Path(scratch))
        names = {path.name for folder in (generated, course / release) if folder.is_dir()
                 for path in folder.iterdir() if path.is_dir()}
        return sorted(name for name in names
                      if files_under(generated / name) != files_under(course / release / name))
