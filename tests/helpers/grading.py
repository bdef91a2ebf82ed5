"""One way to build a throw-away course, fill in submissions and grade them, for every test that grades.

``make_course`` copies an assignment's source and the course's ``nbgrader_config.py`` into a
folder and releases it with ``nbgrader generate_assignment``; ``Course.submit`` writes a
student's notebook (the release, with the instructor's answers except those replaced);
``Course.dlcv_autograde`` and ``Course.nbgrader_autograde`` grade them. Expected marks are
read from the source notebook's nbgrader metadata (``points``, ``marks_without``), never written
into a test by hand.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path, run_nbgrader

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*\n", re.MULTILINE)
# Each assignment's graded MNIST run: the cells that train a network on the whole of MNIST and grade
# it, and the text that introduces them. A run costs a training of tens of seconds, so a check that is
# about other cells grades or runs the notebook without them (``without_cells``); the solution's
# batch (tests/helpers/assignment_checks.py) runs them, and must score full marks in them.
GRADED_RUNS = {
    "a3_training": frozenset({"mnist_text", "mnist_training_run"}),
    "a5_backprop": frozenset({"mnist_text", "mnist_training_run"}),
    "a6_cnn": frozenset({"mnist_text", "cnn_training_run", "cnn_training_run_98", "cnn_training_run_985"}),
}


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def points(assignment: str) -> dict[str, float]:
    """Each graded cell's points, by grade_id, as the instructor set them in the source notebook."""
    return {cell.metadata.nbgrader["grade_id"]: float(cell.metadata.nbgrader["points"])
            for cell in source_notebook(assignment).cells if cell.metadata.get("nbgrader", {}).get("grade")}


def written_answers(assignment: str) -> set[str]:
    """The manually graded answers (nbgrader's "Manually graded answer": solution and grade), marked by a person."""
    return {cell.metadata.nbgrader["grade_id"] for cell in source_notebook(assignment).cells
            if cell.metadata.get("nbgrader", {}).get("grade") and cell.metadata.nbgrader.get("solution")}


def marks_without(assignment: str, lost: set[str] = frozenset()) -> float:
    """Full marks of ``assignment`` less the points of the ``lost`` cells."""
    cells = points(assignment)
    assert lost <= set(cells), f"no such cells in {assignment}: {lost - set(cells)}"
    return sum(value for name, value in cells.items() if name not in lost)


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


@dataclass
class Course:
    """A throw-away course holding one released assignment."""

    root: Path
    assignment: str

    @property
    def notebook(self) -> str:
        return f"{self.assignment}.ipynb"

    def release(self) -> nbformat.NotebookNode:
        return nbformat.read(self.root / "assignments" / self.assignment / self.notebook, as_version=4)

    def folder(self, student: str) -> Path:
        return self.root / "submitted" / student / self.assignment

    def submit(self, student: str, replaced: dict[str, str] | None = None, *, nb=None, name: str | None = None,
               text: str | None = None) -> Path:
        """Hand in a notebook: the release answered with the solutions except ``replaced`` (None: unanswered),
        or ``nb`` as it is, or the raw ``text``; under the assignment's name unless ``name`` is given."""
        folder = self.folder(student)
        folder.mkdir(parents=True)
        path = folder / (name or self.notebook)
        if text is not None:
            path.write_text(text)
        elif nb is not None:
            nbformat.write(nb, path)
        else:
            solutions = answer_sources(source_notebook(self.assignment))
            nbformat.write(make_submission(self.release(), solutions, replaced), path)
        return path

    def nbgrader(self, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        result = run_nbgrader(*args, cwd=self.root, env=env)
        assert result.returncode == 0, f"nbgrader {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result

    def dlcv_autograde(self, *options: str, jobs: int = 2, env: dict | None = None) -> tuple[dict, str]:
        """Run the ``dlcv autograde`` command; return its summary by student, and its log."""
        summary = self.root.parent / f"{self.root.name}-summary.json"
        command = [sys.executable, "-m", "dlcv.cli", "autograde", self.assignment, "--jobs", str(jobs),
                   "--summary", str(summary), *options]
        result = subprocess.run(command, cwd=self.root, env=env or environment_on_path(), capture_output=True,
                                text=True, timeout=1800)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log
        return {line["student"]: line for line in json.loads(summary.read_text())}, log

    def gradebook_grades(self, db_url: str | None = None) -> dict[str, dict[str, tuple[float, float]]]:
        """{student: {grade cell id: (score, max score)}} as nbgrader's gradebook holds them."""
        grades = {}
        with Gradebook(db_url or f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            for student in gradebook.students:
                try:
                    notebook = gradebook.find_submission_notebook(self.assignment, self.assignment, student.id)
                except Exception:  # noqa: BLE001 - a student without this assignment
                    continue
                grades[student.id] = {grade.name: (pending_or_score(grade), grade.max_score)
                                      for grade in notebook.grades}
        return grades

    def exported(self, env: dict | None = None) -> dict[str, float]:
        """``nbgrader export``'s total per student."""
        self.nbgrader("export", "--to", "grades.csv", "--log-level=WARN", env=env)
        with open(self.root / "grades.csv", newline="") as stream:
            return {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}

    def feedback(self, student: str) -> str:
        return (self.root / "feedback" / student / self.assignment / f"{self.assignment}.html").read_text()


def pending_or_score(grade) -> float | None:
    """A grade's score, or None for a written answer still waiting for a person (as ``dlcv autograde``'s
    summary has it; nbgrader's ``Grade.score`` counts it as 0 until then)."""
    if grade.needs_manual_grade and grade.auto_score is None and grade.manual_score is None:
        return None
    return grade.score


def without_cells(assignment: str, grade_ids: set[str]) -> Callable[[Path], None]:
    """A ``prepare`` for ``make_course`` that removes these cells from the copied source."""

    def prepare(folder: Path) -> None:
        drop_cells(folder / "solutions" / assignment / f"{assignment}.ipynb", grade_ids)

    return prepare


def drop_cells(path: Path, grade_ids: set[str]) -> None:
    """Remove the cells with these grade ids from the notebook at ``path``."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
    nbformat.write(nb, path)


def make_course(folder: Path, assignment: str, prepare: Callable[[Path], None] | None = None,
                source: Path | None = None) -> Course:
    """Copy ``assignment``'s source (from ``solutions/``, or the folder ``source``) and the course's
    configuration into ``folder`` and release it.

    ``prepare`` may change the copied source first (plant a secret in a hidden test, say).
    """
    shutil.copytree(source or SOLUTIONS / assignment, folder / "solutions" / assignment,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", folder)
    if prepare:
        prepare(folder)
    course = Course(folder, assignment)
    course.nbgrader("generate_assignment", assignment, "--force")
    return course


def grade_batch(assignment: str, submissions: dict[str, dict[str, str] | None], workdir: Path,
                prepare: Callable[[Path], None] | None = None) -> dict:
    """Grade every submission with nbgrader itself; return {student: {grade cell id: (score, max score)}}.

    Also checks that feedback and the CSV export are produced for every student, with the CSV's
    totals equal to the gradebook's. ``prepare`` may change the source first (see ``make_course``).
    """
    course = make_course(workdir, assignment, prepare)
    for student, replaced in submissions.items():
        course.submit(student, replaced)
    course.nbgrader("autograde", assignment, "--force")
    course.nbgrader("generate_feedback", assignment, "--force")
    grades = course.gradebook_grades()
    exported = course.exported()
    for student, cells in grades.items():
        assert (workdir / "feedback" / student / assignment / f"{assignment}.html").is_file(), student
        # A written answer waiting for a person has no score yet (None): the export counts it as 0.
        assert exported[student] == sum(score or 0 for score, _ in cells.values()), student
    assert set(grades) == set(submissions)
    return grades
