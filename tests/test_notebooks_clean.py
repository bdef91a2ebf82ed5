"""Committed notebooks carry no outputs or execution counts: the book and nbgrader make those."""

from __future__ import annotations

import json
import subprocess

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tests.helpers.course import COURSE_ROOT


def tracked_notebooks() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ipynb"],
        cwd=COURSE_ROOT, capture_output=True, text=True, check=True,
    )
    return sorted(set(listing.stdout.split()))


def dirty_cells(notebook: dict) -> list[int]:
    """Indices of code cells that hold outputs or an execution count."""
    return [
        index
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def test_the_check_catches_outputs_and_counts():
    clean = new_code_cell("1 + 1")
    counted = new_code_cell("1 + 1", execution_count=3)
    with_output = new_code_cell("print(1)", outputs=[new_output("stream", name="stdout", text="1\n")])
    assert dirty_cells(new_notebook(cells=[clean, counted, with_output])) == [1, 2]


def test_there_are_notebooks_to_check():
    names = tracked_notebooks()
    assert any(name.startswith("book/") for name in names)
    assert any(name.startswith("solutions/") for name in names)
    assert any(name.startswith("assignments/") for name in names)


@pytest.mark.parametrize("name", tracked_notebooks())
def test_notebook_is_committed_clean(name):
    notebook = json.loads((COURSE_ROOT / name).read_text(encoding="utf-8"))
    nbformat.validate(nbformat.from_dict(notebook))
    assert dirty_cells(notebook) == [], (
        f"{name} holds outputs or execution counts in cells {dirty_cells(notebook)}: "
        f"clear them (JupyterLab: Edit > Clear Outputs of All Cells) or run "
        f"`jupyter nbconvert --clear-output --inplace {name}`"
    )
