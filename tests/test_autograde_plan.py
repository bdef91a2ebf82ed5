"""Reading submissions and building the graded notebook, in-process on the fixture notebooks of tests/files/.

No sandbox and no nbgrader run: each part of ``dlcv autograde`` that decides what is graded
is checked here in well under a second.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from dlcv.autograde import gradebook, plan
from dlcv.autograde.outputs import error_output, remote_error
from dlcv.autograde.protocol import CellResult, Role
from dlcv.autograde.runner import NOT_RUN
from dlcv.autograde.submission import read_submission

FILES = Path(__file__).parent / "files" / "autograde"  # instructor/doubling.ipynb and submissions/*


@pytest.fixture
def source() -> plan.Source:
    return plan.Source.load(FILES / "instructor", "doubling")


def submitted(tmp_path: Path, fixture: str, name: str = "doubling.ipynb") -> Path:
    """A student's folder holding one fixture file under ``name`` (the source's notebook name by default)."""
    folder = tmp_path / "submitted" / "student" / "doubling"
    folder.mkdir(parents=True)
    shutil.copy(FILES / "submissions" / fixture, folder / name)
    return folder


def test_the_source_knows_its_answers_and_tests(source):
    assert source.notebook == "doubling" and source.answer_ids == ["double"]
    roles = [(cell.role, cell.name, cell.hidden) for cell in source.cells_to_run({"double": "ANSWER"})]
    assert roles == [(Role.SETUP, "setup", False), (Role.ANSWER, "double", False),
                     (Role.TEST, "double_visible", False), (Role.TEST, "double_hidden", True)]
    assert source.cells_to_run({"double": "ANSWER"})[1].source == "ANSWER"


def test_an_answered_notebook_gives_its_answer(tmp_path, source):
    submission = read_submission("student", submitted(tmp_path, "answered.ipynb"), source)
    assert submission.graded and submission.problems == []
    assert submission.answers == {"double": "def double(x):\n    return x + x\n"}


@pytest.mark.parametrize(("fixture", "name", "graded", "problem"), [
    ("answered.ipynb", "my_homework.ipynb", True, "should be named doubling.ipynb"),
    ("old_format_v3.json", "doubling.ipynb", True, "old format nbformat 3"),
    ("duplicated.ipynb", "doubling.ipynb", True, "found more than once, the first copy was graded: double"),
    ("broken_json.txt", "doubling.ipynb", False, "its JSON is broken at line 1"),
    ("other_assignment.ipynb", "doubling.ipynb", False, "none of the answer cells of doubling (its cells are triple)"),
])
def test_each_fault_of_a_submission_gets_its_message(tmp_path, source, fixture, name, graded, problem):
    submission = read_submission("student", submitted(tmp_path, fixture, name), source)
    assert submission.graded is graded
    assert any(problem in text for text in submission.problems), submission.problems


def test_a_duplicated_answer_counts_once_and_added_cells_are_reported(tmp_path, source):
    submission = read_submission("student", submitted(tmp_path, "duplicated.ipynb"), source)
    assert submission.answers["double"] == "def double(x):\n    return x + x\n"
    assert any("1 code cell(s) you added were not run" in text for text in submission.problems)


def test_an_empty_folder_and_a_file_in_place_of_the_folder_are_not_graded(tmp_path, source):
    empty = tmp_path / "empty" / "doubling"
    empty.mkdir(parents=True)
    assert read_submission("empty", empty, source).problems == ["no notebook found: expected doubling.ipynb"]
    as_file = tmp_path / "file" / "doubling"
    as_file.parent.mkdir()
    as_file.write_text("{}")
    submission = read_submission("file", as_file, source)
    assert not submission.graded and "submitted as a file" in submission.problems[0]


def test_the_graded_notebook_holds_answers_and_outputs_and_no_hidden_test(tmp_path, source):
    submission = read_submission("student", submitted(tmp_path, "duplicated.ipynb"), source)
    failed = error_output(AssertionError("double keeps fractions"), hidden=True)
    results = {3: CellResult(3, []), 4: CellResult(4, [failed])}
    nb = plan.graded_notebook(source, submission, gradebook.complete(source, submission, results, ""))
    assert nb.cells[0].cell_type == "markdown" and "Notes from the grader" in nb.cells[0].source
    text = nbformat.writes(nb)
    assert "double(0.25)" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "return x + x" in text and "return 2 * x" not in text
    assert gradebook.scores(nb) == {"double_visible": (1.0, 1), "double_hidden": (0.0, 2)}


def test_tests_that_never_ran_score_zero_and_say_why(tmp_path, source):
    submission = read_submission("student", submitted(tmp_path, "answered.ipynb"), source)
    completed = gradebook.complete(source, submission, {3: CellResult(3, [])}, NOT_RUN.format(42))
    assert "time limit of 42 s" in completed[4].outputs[0]["evalue"]
    nb = plan.graded_notebook(source, submission, completed)
    assert gradebook.scores(nb) == {"double_visible": (1.0, 1), "double_hidden": (0.0, 2)}

    broken = read_submission("student", submitted(tmp_path / "b", "broken_json.txt"), source)
    completed = gradebook.complete(source, broken, {}, NOT_RUN.format(42))
    assert all("Not graded" in completed[i].outputs[0]["evalue"] for i in (3, 4))


def test_a_hidden_tests_failure_shows_its_message_and_no_line_of_it():
    code = compile("x = 1\nassert x == 2, 'double keeps fractions'\n", "<cell double_hidden>", "exec")
    try:
        exec(code, {})
    except AssertionError as error:
        shown, visible = error_output(error, hidden=True), error_output(error, hidden=False)
    assert shown["evalue"] == visible["evalue"] == "double keeps fractions"
    assert not any("<cell double_hidden>" in line for line in shown["traceback"])
    assert any("<cell double_hidden>" in line for line in visible["traceback"]), "a visible test shows its line"


def test_in_a_hidden_test_the_students_error_shows_its_kind_and_nothing_it_chose():
    from dlcv import grading
    from dlcv.autograde.protocol import Reply

    smuggled = Reply(False, ename="ValueError", evalue="inputs were 0.25, 3.5", traceback="  print(secret)")
    visible, hidden = remote_error(smuggled), remote_error(smuggled, in_hidden_test=True)
    assert str(visible) == "inputs were 0.25, 3.5" and visible.remote_traceback
    assert type(hidden) is ValueError and str(hidden) == "your code raised ValueError in a hidden test"
    assert "remote_traceback" not in vars(hidden) and "0.25" not in error_output(hidden, hidden=True)["evalue"]
    forbidden = Reply(False, ename="ForbiddenCallError", evalue="anything at all")
    error = remote_error(forbidden, in_hidden_test=True, forbidden=("torch.relu",))
    assert type(error) is grading.ForbiddenCallError and "torch.relu" in str(error) and "anything" not in str(error)


def test_what_is_not_a_plain_notebook_file_is_not_followed_or_read(tmp_path, source):
    """A link (to the solutions, say), a FIFO (a read would hang) and a folder named like the notebook."""
    solutions = FILES / "instructor" / "doubling.ipynb"
    linked = tmp_path / "linked" / "doubling"
    linked.mkdir(parents=True)
    (linked / "doubling.ipynb").symlink_to(solutions)
    assert not read_submission("linked", linked, source).graded
    fifo = tmp_path / "fifo" / "doubling"
    fifo.mkdir(parents=True)
    os.mkfifo(fifo / "doubling.ipynb")
    assert "no notebook found" in read_submission("fifo", fifo, source).problems[-1]
    folder_named = tmp_path / "folder" / "doubling"
    (folder_named / "doubling.ipynb").mkdir(parents=True)
    assert "no notebook found" in read_submission("folder", folder_named, source).problems[-1]
    link_to_folder = tmp_path / "linked_folder" / "doubling"
    link_to_folder.parent.mkdir()
    link_to_folder.symlink_to(solutions.parent, target_is_directory=True)
    assert "not as a folder" in read_submission("linked_folder", link_to_folder, source).problems[-1]


def test_deep_huge_and_mistyped_notebooks_get_a_message(tmp_path, source):
    deep = submitted(tmp_path / "deep", "answered.ipynb")
    (deep / "doubling.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested too deeply" in read_submission("deep", deep, source).problems[-1]
    huge = submitted(tmp_path / "huge", "answered.ipynb")
    (huge / "doubling.ipynb").write_text(" " * (21 * 2**20) + "{}")
    assert "larger than 20 MB" in read_submission("huge", huge, source).problems[-1]
    mistyped = submitted(tmp_path / "mistyped", "answered.ipynb")
    nb = nbformat.read(mistyped / "doubling.ipynb", as_version=4)
    nb.cells[2].metadata.nbgrader["grade_id"] = ["double"]  # a list: unhashable
    nb.cells[3].metadata.nbgrader["grade_id"] = 7
    (mistyped / "doubling.ipynb").write_text(json.dumps(nb))  # nbformat.write would refuse it
    submission = read_submission("mistyped", mistyped, source)
    assert not submission.graded and "none of the answer cells" in submission.problems[-1]


def test_notes_quote_what_a_student_chose_as_plain_text(tmp_path, source):
    """A file name holding HTML or a link shows as text in the feedback page, never as markup."""
    from nbconvert.filters.markdown import markdown2html

    name = "<img src=x onerror=alert(1)>[click](javascript:alert(2))\n- forged note.ipynb"
    folder = submitted(tmp_path, "answered.ipynb", name.replace("/", "_"))
    submission = read_submission("student", folder, source)
    nb = plan.graded_notebook(source, submission, gradebook.complete(source, submission, {}, ""))
    page = markdown2html(nb.cells[0].source)
    assert "<img" not in page and "<a " not in page and page.count("<li>") == 1, page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
