"""The first code cell of every chapter and assignment: install ``dlcv`` where it is missing.

A notebook opened in Colab, on a JupyterHub or handed out alone has no course package.
Its first code cell installs it with pip from the student edition, whose address is the
book's one setting, ``repository.url`` (and ``repository.branch``) in ``_config.yml``; the
environment variable ``DLCV_COURSE_URL`` overrides it with any address pip accepts. Where
``dlcv`` is importable the cell does nothing. ``dlcv install-cells`` writes the cell into
the chapters and the assignments' sources, so changing the setting is one command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CELL_ID = "install-dlcv"
GRADE_ID = "install_dlcv"  # nbgrader keeps the cell locked in the assignments
CELL_TEMPLATE = '''\
# Colab, a JupyterHub or this notebook alone: install the course's helper package `dlcv` if it is missing.
import importlib.util
import os
import subprocess
import sys

STUDENT_EDITION = "{address}"
if importlib.util.find_spec("dlcv") is None:
    course = os.environ.get("DLCV_COURSE_URL", STUDENT_EDITION)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", course], check=True)
    importlib.invalidate_caches()'''


def book_config(course: Path) -> dict:
    import yaml

    return yaml.safe_load((course / "_config.yml").read_text(encoding="utf-8"))


def edition_url(course: Path) -> str:
    """The student edition's public git address: ``repository.url`` in ``_config.yml``."""
    repository = book_config(course).get("repository") or {}
    url = str(repository.get("url") or "").rstrip("/")
    if not url:
        raise SystemExit(f"{course / '_config.yml'} names no student edition: set `repository: url:` to its address")
    return url


def install_address(course: Path) -> str:
    """What pip installs the course from: the edition's address and branch, as a ``git+`` URL."""
    repository = book_config(course).get("repository") or {}
    branch = repository.get("branch") or "main"
    return f"git+{edition_url(course)}@{branch}"


def cell_source(address: str) -> str:
    return CELL_TEMPLATE.format(address=address)


def notebooks(course: Path) -> list[Path]:
    """The notebooks that need the cell: the chapters and the assignments' sources."""
    return sorted((course / "book").glob("*.ipynb")) + sorted((course / "solutions").glob("*/*.ipynb"))


def install_cell_index(notebook) -> int | None:
    return next((index for index, cell in enumerate(notebook.cells) if cell.get("id") == CELL_ID), None)


def with_install_cell(notebook, address: str, assignment: bool):
    """The notebook with the cell before its first code cell (or the existing one brought up to date)."""
    import nbformat

    index = install_cell_index(notebook)
    if index is None:
        metadata = {"tags": ["remove-cell"]}  # the book's pages leave it out
        if assignment:
            metadata = {"nbgrader": {"grade": False, "grade_id": GRADE_ID, "locked": True,
                                     "schema_version": 3, "solution": False, "task": False}}
        cell = nbformat.v4.new_code_cell(cell_source(address), metadata=metadata)
        cell.id = CELL_ID
        first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
        notebook.cells.insert(first_code, cell)
    else:
        notebook.cells[index].source = cell_source(address)
    return notebook


def write_install_cells(course: Path) -> list[Path]:
    """Put the cell, with the address from ``_config.yml``, into every notebook; return those changed."""
    import nbformat

    address = install_address(course)
    changed = []
    for path in notebooks(course):
        before = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(before, as_version=4)
        after = nbformat.writes(with_install_cell(notebook, address, "solutions" in path.parts)) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


def run(arguments: argparse.Namespace) -> None:
    course = Path(arguments.course).resolve()
    changed = write_install_cells(course)
    for path in changed:
        print(f"updated {path.relative_to(course)}")
    if any("solutions" in path.parts for path in changed):
        print("Now regenerate the releases: nbgrader generate_assignment <id> --force, for each one changed.")
    if not changed:
        print(f"every notebook already installs from {install_address(course)}")


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "install-cells",
        help="write the first cell that installs dlcv into every chapter and assignment source",
        description="Write (or bring up to date) the first code cell of book/*.ipynb and solutions/*/*.ipynb, "
                    "which installs the course package from the student edition named in _config.yml.",
    )
    parser.add_argument("--course", default=".", help="the course folder (default: here)")
    parser.set_defaults(run=run)
