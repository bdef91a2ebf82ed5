"""Manually graded answers (nbgrader's "Manually graded answer" cells) in ``dlcv autograde``'s recording.

A small course with one code answer, one test and one written answer, released by nbgrader. The
same two submissions are recorded in-process by ``gradebook.record`` and graded by ``nbgrader
autograde``: the gradebook must hold the same scores and the same "needs manual grade" flags, and
the graded notebook must show the student's own text, never the instructor's model answer.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcv.autograde import gradebook, plan
from dlcv.autograde.config import load_course
from dlcv.autograde.protocol import CellResult
from dlcv.autograde.submission import read_submission
from tests.helpers.grading import make_course

FIXTURE = Path(__file__).parent / "files" / "autograde" / "instructor_written"
ASSIGNMENT = "explaining"
WRITTEN = "Adding a number to itself is the same as taking it twice."


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two students (one explains, one leaves the release's text) recorded by dlcv, and the same two by nbgrader."""
    course = make_course(tmp_path_factory.mktemp("written") / "course", ASSIGNMENT, source=FIXTURE)
    release = course.release()
    for student, text in {"ada": WRITTEN, "bob": None, "nb_ada": WRITTEN, "nb_bob": None}.items():
        nb = nbformat.from_dict(release)
        for cell in nb.cells:
            name = cell.metadata.get("nbgrader", {}).get("grade_id")
            if name == "double":
                cell.source = "def double(x):\n    return x + x\n"
            if name == "why" and text is not None:
                cell.source = text
        course.submit(student, nb=nb)
    course.nbgrader("autograde", ASSIGNMENT, "--force", "--student=nb_*")
    source = plan.Source.load(course.root / "solutions" / ASSIGNMENT, ASSIGNMENT)
    lines = {}
    for student in ("ada", "bob"):
        submission = read_submission(student, course.folder(student), source)
        test = next(index for index, cell in enumerate(source.nb.cells) if plan.is_test(cell))
        lines[student] = gradebook.record(load_course(course.root), source, submission, {test: CellResult(test, [])},
                                          missing="")
    return course, lines


def rows(course, student: str) -> dict:
    with Gradebook(f"sqlite:///{course.root / 'gradebook.db'}") as book:
        notebook = book.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        grades = {g.name: (g.auto_score, g.needs_manual_grade) for g in notebook.grades}
        comments = {c.name: c.auto_comment for c in notebook.comments}
    return {"grades": grades, "comments": comments}


def test_a_written_answer_waits_for_a_person_and_an_untouched_one_scores_zero(graded):
    _, lines = graded
    assert lines["ada"]["cells"]["why"] == (None, 2.0) and lines["ada"]["pending"] == ["why"]
    assert lines["bob"]["cells"]["why"] == (0.0, 2.0) and lines["bob"]["pending"] == []
    assert lines["ada"]["score"] == lines["bob"]["score"] == 1.0 and lines["ada"]["max_score"] == 3.0


def test_the_gradebook_holds_what_nbgrader_autograde_writes(graded):
    course, _ = graded
    assert rows(course, "ada") == rows(course, "nb_ada")
    assert rows(course, "bob") == rows(course, "nb_bob")
    assert rows(course, "ada")["grades"]["why"] == (None, True)
    assert rows(course, "bob")["comments"]["why"] == "No response."


def test_the_graded_notebook_shows_the_students_text_and_not_the_model_answer(graded):
    course, _ = graded
    text = (course.root / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert WRITTEN in text and "MODEL ANSWER" not in text
