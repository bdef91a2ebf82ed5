"""The book builds with warnings as errors, and a notebook that fails breaks the build."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import COURSE_ROOT

JUPYTER_BOOK = [str(Path(sys.executable).with_name("jupyter-book")), "build"]
STRICT = ["-W", "-n", "--keep-going"]  # the README's build command


def build(book: Path, output: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*JUPYTER_BOOK, str(book), "--path-output", str(output), *STRICT],
        capture_output=True, text=True, timeout=1800,
    )


def toc_files(toc: dict) -> list[str]:
    files = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_the_book_builds_strictly(tmp_path):
    result = build(COURSE_ROOT, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    toc = yaml.safe_load((COURSE_ROOT / "_toc.yml").read_text())
    for page in toc_files(toc):
        assert (tmp_path / "_build" / "html" / f"{page}.html").is_file(), page


def one_page_book(folder: Path, *cells) -> Path:
    """A book with the course's configuration and one notebook of the given cells."""
    folder.mkdir()
    config = yaml.safe_load((COURSE_ROOT / "_config.yml").read_text())
    config.pop("bibtex_bibfiles", None)  # no references on this page, so no bibliography
    config.pop("sphinx", None)
    (folder / "_config.yml").write_text(yaml.safe_dump(config))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    notebook = new_notebook(cells=[new_markdown_cell("# A page"), *cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, folder / "page.ipynb")
    return folder


def test_a_cell_that_raises_fails_the_build(tmp_path):
    book = one_page_book(tmp_path / "book", new_code_cell("raise RuntimeError('this cell is broken')"))
    result = build(book, tmp_path / "out")
    assert result.returncode != 0
    assert "page.ipynb" in result.stdout + result.stderr


def test_a_warning_printed_by_a_cell_fails_the_build(tmp_path):
    book = one_page_book(tmp_path / "book", new_code_cell("import warnings\nwarnings.warn('deprecated thing')"))
    assert build(book, tmp_path / "out").returncode != 0


def test_a_healthy_one_page_book_builds(tmp_path):
    """The two tests above fail for the right reason: the same book without the fault builds."""
    book = one_page_book(tmp_path / "book", new_code_cell("print(1 + 1)"))
    result = build(book, tmp_path / "out")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
