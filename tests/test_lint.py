"""The code is clean by the linter's rules (ruff, configured in pyproject.toml): a finding fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.course import COURSE_ROOT

RUFF = Path(sys.executable).with_name("ruff")


def ruff(*args: str, cwd: Path = COURSE_ROOT) -> subprocess.CompletedProcess:
    command = [str(RUFF), "check", "--no-cache", "--output-format", "concise", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_course_has_no_lint_findings():
    result = ruff(".")
    assert result.returncode == 0, f"ruff found problems (fix them, or run `ruff check --fix .`):\n{result.stdout}"


def test_the_linter_reads_the_course_configuration_and_its_notebooks(tmp_path):
    """The check can fail: an unused import in a module and in a notebook are both found."""
    (tmp_path / "pyproject.toml").write_text((COURSE_ROOT / "pyproject.toml").read_text())
    (tmp_path / "module.py").write_text("import os\n")
    (tmp_path / "chapter.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {}, "outputs": [],'
        ' "source": ["import sys\\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    result = ruff(".", cwd=tmp_path)
    assert result.returncode == 1
    found = sorted(line.split(":")[0] for line in result.stdout.splitlines() if "F401" in line)
    assert found == ["chapter.ipynb", "module.py"], result.stdout
