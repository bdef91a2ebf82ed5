"""Grade a batch of made-up submissions through the real nbgrader pipeline.

Each submission starts from the student release and fills every answer cell with the
instructor's solution, except the cells it replaces; ``generate_assignment``,
``autograde``, ``generate_feedback`` and ``export`` then run as an instructor runs them.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from tests.helpers.course import COURSE_ROOT, SOLUTIONS, run_nbgrader

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)


def answer_sources(notebook) -> dict[str, str]:
    """The instructor's answer for each answer cell, without the solution markers."""
    return {
        cell.metadata.nbgrader["grade_id"]: SOLUTION_MARKERS.sub("", cell.source)
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def make_submission(release, solutions: dict[str, str], replaced: dict[str, str] | None):
    """A copy of the release with answers filled in; ``replaced=None`` leaves it unanswered."""
    submission = nbformat.from_dict(release)
    if replaced is None:
        return submission
    for cell in submission.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = replaced.get(grade_id, solutions[grade_id])
    return submission


def grade_batch(assignment: str, submissions: dict[str, dict[str, str] | None], workdir: Path) -> dict:
    """Autograde every submission; return {student: {grade cell id: (score, max score)}}.

    Also checks that feedback and the CSV export are produced for every student, with
    the CSV's totals equal to the gradebook's.
    """
    shutil.copytree(SOLUTIONS / assignment, workdir / "solutions" / assignment)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", workdir)
    generated = run_nbgrader("generate_assignment", assignment, "--force", cwd=workdir)
    assert generated.returncode == 0, generated.stderr
    notebook_name = f"{assignment}.ipynb"
    release = nbformat.read(workdir / "assignments" / assignment / notebook_name, as_version=4)
    solutions = answer_sources(nbformat.read(SOLUTIONS / assignment / notebook_name, as_version=4))
    for student, replaced in submissions.items():
        folder = workdir / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(make_submission(release, solutions, replaced), folder / notebook_name)

    for step in (["autograde", assignment], ["generate_feedback", assignment], ["export", "--to", "grades.csv"]):
        result = run_nbgrader(*step, "--force" if step[0] != "export" else "--log-level=WARN", cwd=workdir)
        assert result.returncode == 0, f"nbgrader {step[0]} failed:\n{result.stdout}\n{result.stderr}"

    grades: dict[str, dict[str, tuple[float, float]]] = {}
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gradebook:
        for student in submissions:
            notebook = gradebook.find_submission_notebook(assignment, assignment, student)
            grades[student] = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
    with open(workdir / "grades.csv", newline="") as stream:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}
    for student, cells in grades.items():
        assert (workdir / "feedback" / student / assignment / f"{assignment}.html").is_file(), student
        assert exported[student] == sum(score for score, _ in cells.values()), student
    return grades
