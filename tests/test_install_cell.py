"""Every chapter and assignment starts by installing ``dlcv`` from the student edition named in _config.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest

from dlcv.install_cell import CELL_ID, install_address, write_install_cells
from tests.helpers.course import ASSIGNMENT_IDS, ASSIGNMENTS, COURSE_ROOT, SOLUTIONS

CHAPTERS = sorted((COURSE_ROOT / "book").glob("*.ipynb"))
NOTEBOOKS = CHAPTERS + [folder / assignment / f"{assignment}.ipynb"
                        for folder in (SOLUTIONS, ASSIGNMENTS) for assignment in ASSIGNMENT_IDS]


def first_code_cell(path):
    notebook = nbformat.read(path, as_version=4)
    return next(cell for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: str(path.relative_to(COURSE_ROOT)))
def test_first_code_cell_installs_from_the_edition_in_the_config(path):
    cell = first_code_cell(path)
    assert cell.get("id") == CELL_ID, f"{path} does not start with the install cell: run `dlcv install-cells`"
    assert f'"{install_address(COURSE_ROOT)}"' in cell.source, (
        f"{path}'s install cell disagrees with _config.yml's repository: run `dlcv install-cells`, "
        "then regenerate the releases"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_the_book_leaves_the_install_cell_out(path):
    assert "remove-cell" in first_code_cell(path).metadata.get("tags", [])


def test_the_address_follows_the_setting(tmp_path):
    """A changed repository.url reaches every notebook through `dlcv install-cells`, and only then."""
    for name in ("_config.yml", "book", "solutions"):
        source = COURSE_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    assert write_install_cells(tmp_path) == []
    config = tmp_path / "_config.yml"
    config.write_text(config.read_text().replace("url: https://github.com/", "url: https://gitlab.example.org/"))
    assert install_address(tmp_path).startswith("git+https://gitlab.example.org/")
    changed = write_install_cells(tmp_path)
    assert len(changed) == len(CHAPTERS) + len(ASSIGNMENT_IDS)
    assert install_address(tmp_path) in first_code_cell(changed[0]).source


def test_where_dlcv_is_importable_the_cell_does_nothing(tmp_path):
    """Run against an address pip cannot install from: any attempt to install would fail."""
    code = first_code_cell(CHAPTERS[0]).source
    env = {**os.environ, "DLCV_COURSE_URL": f"git+file://{tmp_path}/no-such-edition"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout and not result.stderr, result.stderr
    broken = code.replace('find_spec("dlcv") is None', "True")
    failed = subprocess.run([sys.executable, "-c", broken], env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode != 0, "pip should fail on the missing address, so the check above means something"
