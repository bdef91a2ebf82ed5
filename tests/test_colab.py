"""Each chapter and assignment runs where only the notebook is, as in Colab.

One fresh environment stands for Colab: it holds what Colab preinstalls that the course
uses (PyTorch, torchvision, NumPy, Matplotlib, ipywidgets, ipykernel, and tqdm) and no course
package, MyST-NB or nbgrader. Each notebook runs alone in an empty folder, and its first cell
installs the course package from a freshly published student edition (``DLCV_COURSE_URL``,
offline). The environment is shared, so the install happens once, in the fixture, where it is
checked; the notebooks after it find ``dlcv`` and their first cell does nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import nbformat
import pytest
from nbclient import NotebookClient

from tests.helpers.course import ASSIGNMENT_IDS, ASSIGNMENTS, COURSE_ROOT
from tests.helpers.fresh_env import kernel_spec, make_environment, offline_pip_env

COLAB_PREINSTALLED = ["torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "ipykernel", "tqdm", "pip",
                      "setuptools"]
CHAPTERS = sorted((COURSE_ROOT / "book").glob("*.ipynb"))
KERNEL = "colab-like"


def importable(python, module: str) -> bool:
    code = f"import importlib.util as u; exit(u.find_spec({module!r}) is None)"
    found = subprocess.run([str(python), "-c", code], env={**os.environ, **offline_pip_env(python.parent)}, timeout=60)
    return found.returncode == 0


def alone_in_a_folder(notebook_path, folder):
    """A copy of the notebook in an otherwise empty folder, read as a notebook."""
    folder.mkdir()
    shutil.copy(notebook_path, folder / notebook_path.name)
    return nbformat.read(folder / notebook_path.name, as_version=4)


def execute(notebook, folder, allow_errors=False):
    NotebookClient(notebook, kernel_name=KERNEL, timeout=600, allow_errors=allow_errors,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


@pytest.fixture(scope="module")
def colab(student_edition, tmp_path_factory, monkeypatch_module):
    """The Colab-like kernel, after the first cell of a chapter installed ``dlcv`` into it."""
    root = tmp_path_factory.mktemp("colab")
    python = make_environment(root / "env", COLAB_PREINSTALLED)
    for module in ("dlcv", "myst_nb", "nbgrader"):
        assert not importable(python, module), f"{module} must not be in the Colab-like environment"
    env = {**offline_pip_env(root / "cache"), "DLCV_COURSE_URL": f"git+file://{student_edition}"}
    kernel_spec(root / "jupyter", KERNEL, python, env)
    monkeypatch_module.setenv("JUPYTER_PATH", str(root / "jupyter"))

    notebook = alone_in_a_folder(CHAPTERS[0], root / "first")
    first_code = next(index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    notebook.cells = notebook.cells[: first_code + 1]
    execute(notebook, root / "first")
    assert importable(python, "dlcv"), "the first cell did not install the course package"
    shown = subprocess.run([str(python), "-m", "pip", "show", "dlcv-course"], env={**os.environ, **env},
                           capture_output=True, text=True, timeout=60)
    assert "Location: " + str(root / "env") in shown.stdout, shown.stdout
    return python


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_chapter_runs_alone_top_to_bottom(colab, chapter, tmp_path):
    notebook = execute(alone_in_a_folder(chapter, tmp_path / "colab"), tmp_path / "colab")
    assert all(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_assignment_runs_alone_until_its_first_test_fails_for_want_of_an_answer(colab, assignment, tmp_path):
    notebook = alone_in_a_folder(ASSIGNMENTS / assignment / f"{assignment}.ipynb", tmp_path / "colab")
    roles = [cell.metadata.get("nbgrader", {}) for cell in notebook.cells]
    first_test = next(index for index, role in enumerate(roles) if role.get("grade") and not role.get("solution"))
    notebook.cells = notebook.cells[: first_test + 1]
    execute(notebook, tmp_path / "colab", allow_errors=True)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in code_cells[:-1]:
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"{assignment}: a cell before the first test fails:\n{cell.source}\n{errors}"
    errors = [output.ename for output in code_cells[-1].outputs if output.output_type == "error"]
    assert errors == ["NotImplementedError"], f"{assignment}'s first test should fail only for want of an answer"
