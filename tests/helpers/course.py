"""Where the course's parts are, and how to run nbgrader on them, for the tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

COURSE_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = COURSE_ROOT / "solutions"
ASSIGNMENTS = COURSE_ROOT / "assignments"
ASSIGNMENT_IDS = sorted(path.name for path in SOLUTIONS.iterdir() if path.is_dir())


def environment_on_path() -> dict[str, str]:
    """The environment with this interpreter's scripts first on PATH, as after ``activate``.

    nbgrader starts helper programs by name (``alembic``, to create the gradebook), so a
    virtual environment that was not activated must still be found on the PATH.
    """
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}


def run_nbgrader(*args: str, cwd: Path, timeout: float = 900, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run this environment's nbgrader command line in ``cwd``, as an instructor would (``env``: instead of
    this environment with its scripts on PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env or environment_on_path(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def load_book_extension(name: str):
    """One of the book's local Sphinx extensions in _ext/, imported from its file."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, COURSE_ROOT / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def sphinx_source(folder: Path, extensions: list[str], settings: str = "") -> Path:
    """A Sphinx project in ``folder/source`` whose ``conf.py`` loads ``extensions`` (the book's own from
    _ext/ among them) with these further ``settings`` (lines of Python); its source folder."""
    source = folder / "source"
    source.mkdir()
    (source / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(COURSE_ROOT / '_ext')!r})\n"
                                    f"extensions = {extensions!r}\n{settings}")
    return source


def sphinx_html(source: Path, html: Path) -> None:
    """Build ``source`` to HTML in a process of its own (an extension may leave nodes registered in docutils)."""
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source), str(html)],
                   check=True, capture_output=True, timeout=300)


JUPYTER_BOOK = [str(Path(sys.executable).with_name("jupyter-book")), "build"]
STRICT = ["-W", "-n", "--keep-going"]  # the README's build command


def build_book(book: Path, output: Path) -> subprocess.CompletedProcess:
    """Build ``book`` strictly, as the README's build command does, into ``output/_build/html``."""
    return subprocess.run(
        [*JUPYTER_BOOK, str(book), "--path-output", str(output), *STRICT],
        capture_output=True, text=True, timeout=1800,
    )


def book_pages() -> list[str]:
    """The book's pages in reading order (``_toc.yml``), as paths without a suffix."""
    import yaml

    toc = yaml.safe_load((COURSE_ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", [{"chapters": toc.get("chapters", [])}]):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def require_bubblewrap(log: str) -> None:
    """Every check of a batch assumes the real sandbox; without it the grader falls back (and says so).

    Students' code can then change the gradebook and the course, so the batch's checks would fail
    for want of a sandbox, not for a fault of the grader: they are skipped with the grader's own
    warning. In CI (``CI`` set), where .ci/run installs bubblewrap, a fallback fails them instead.
    """
    if "WARNING: the strongest isolation is unavailable" in log:
        message = "BUBBLEWRAP UNAVAILABLE: the grader fell back to weaker isolation, as its log says:\n" + log[:2000]
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
