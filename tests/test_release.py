"""The student release: generated from the solutions, failing cleanly until answered, gradable."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.validator import Validator
from traitlets.config.loader import PyFileConfigLoader

from tests.helpers.course import ASSIGNMENT_IDS, ASSIGNMENTS, COURSE_ROOT, SOLUTIONS, run_nbgrader
from tests.helpers.grading import GRADED_RUNS, drop_cells


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".ipynb_checkpoints" not in path.parts and "__pycache__" not in path.parts
    }


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(COURSE_ROOT)).load_config()


def is_comment_only(source: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in source.splitlines())


def nbgrader_role(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "tests"
    return "other"


def test_every_solution_has_a_release_and_back():
    assert ASSIGNMENT_IDS, "solutions/ holds no assignment"
    assert sorted(path.name for path in ASSIGNMENTS.iterdir() if path.is_dir()) == ASSIGNMENT_IDS


def test_release_is_exactly_what_generate_assignment_makes(course_copy):
    for assignment in ASSIGNMENT_IDS:
        result = run_nbgrader("generate_assignment", assignment, "--force", cwd=course_copy)
        assert result.returncode == 0, result.stderr
    generated = files_under(course_copy / "assignments")
    committed = files_under(ASSIGNMENTS)
    assert sorted(generated) == sorted(committed)
    stale = [name for name in generated if generated[name] != committed[name]]
    assert not stale, (
        f"assignments/ is out of date for {stale}: regenerate it from the course root with "
        "`nbgrader generate_assignment <id> --force` for each assignment in solutions/"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_solution_passes_nbgrader_validate(assignment, tmp_path):
    """Every test of the source passes on its solutions. The graded MNIST run (``GRADED_RUNS``) is left out
    here: it trains for tens of seconds, and the solution's batch (tests/test_<assignment>.py) runs it and
    must score full marks in it."""
    folder = tmp_path / assignment
    shutil.copytree(SOLUTIONS / assignment, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    notebook = folder / f"{assignment}.ipynb"
    drop_cells(notebook, GRADED_RUNS.get(assignment, set()))
    assert Validator(config=course_config()).validate(str(notebook)) == {}


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_release_fails_validate_invert_only_where_tests_are_hidden(assignment):
    """``nbgrader validate --invert``: no test passes without answers, except hidden-test stubs."""
    notebook = ASSIGNMENTS / assignment / f"{assignment}.ipynb"
    results = Validator(invert=True, config=course_config()).validate(str(notebook))
    assert set(results) <= {"passed"}, results
    passing = [cell["source"] for cell in results.get("passed", [])]
    assert all(is_comment_only(source) for source in passing), (
        f"these test cells pass in the unanswered release: {passing}"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_release_runs_and_fails_only_for_want_of_answers(assignment):
    """Executed top to bottom, every visible test fails with NotImplementedError; nothing else errs.

    A tier of a graded run (a6's ``cnn_training_run_98``, named after the run's cell) checks what the
    run computed, so with the run failing for want of answers it fails with NameError."""
    notebook = nbformat.read(ASSIGNMENTS / assignment / f"{assignment}.ipynb", as_version=4)
    NotebookClient(notebook, timeout=300, allow_errors=True,
                   resources={"metadata": {"path": str(ASSIGNMENTS / assignment)}}).execute()
    visible_tests, failed_tests = 0, []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        errors = [output for output in cell.outputs if output.output_type == "error"]
        if nbgrader_role(cell) == "tests" and not is_comment_only(cell.source):
            visible_tests += 1
            name = cell.metadata.nbgrader["grade_id"]
            is_tier = any(name.startswith(f"{run}_") for run in failed_tests)
            assert [error.ename for error in errors] == ["NameError" if is_tier else "NotImplementedError"], cell.source
            failed_tests.append(name)
        else:
            assert not errors, f"cell fails in the release: {cell.source}\n{errors}"
        assert not any(output.get("name") == "stderr" for output in cell.outputs), cell.source
    assert visible_tests > 0
