"""Recording one submission: the graded notebook in ``autograded/``, and its scores in nbgrader's gradebook.

Only the process that started the batch calls this, one submission at a time, so the gradebook
sees one writer. Scores come from nbgrader's own ``determine_grade`` on the graded notebook's
test cells, as ``nbgrader autograde`` computes them; ``nbgrader generate_feedback`` and
``nbgrader export`` then read what is written here.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import nbformat

from dlcv.autograde import plan
from dlcv.autograde.config import Course
from dlcv.autograde.protocol import CellResult
from dlcv.autograde.submission import Submission, read_text


def error_result(index: int, ename: str, reason: str) -> CellResult:
    return CellResult(index, [{"output_type": "error", "ename": ename, "evalue": reason, "traceback": [reason]}])


def complete(source: plan.Source, submission: Submission, results: dict[int, CellResult],
             missing: str) -> dict[int, CellResult]:
    """Every test cell with a result: tests never reached say why they scored zero."""
    completed = dict(results)
    for index, cell in enumerate(source.nb.cells):
        if not plan.is_test(cell):
            continue
        if not submission.graded:
            completed[index] = error_result(index, "NotGraded", f"Not graded: {submission.problems[-1]}")
        elif index not in completed:
            completed[index] = error_result(index, "NotRun", missing or "not run")
    return completed


def scores(nb: nbformat.NotebookNode) -> dict[str, tuple[float | None, float]]:
    """(score, maximum) of each graded cell of a graded notebook, by grade_id, as nbgrader counts them.

    A manually graded answer scores 0 when it is the release's text unchanged (its checksum, which
    ``record`` copies from the gradebook, still matches), and None, to be marked by a person, otherwise.
    """
    from nbgrader.utils import determine_grade

    found = {}
    for cell in nb.cells:
        if plan.is_test(cell):
            score, maximum = determine_grade(cell)
            found[plan.nbgrader_meta(cell)["grade_id"]] = (float(score or 0), maximum)
        elif plan.is_written_answer(cell):
            score, maximum = determine_grade(cell)
            found[plan.nbgrader_meta(cell)["grade_id"]] = (None if score is None else float(score), maximum)
    return found


def pending(cell_scores: dict) -> list[str]:
    """The cells that wait for a person's mark."""
    return [grade_id for grade_id, (score, _) in cell_scores.items() if score is None]


def unchanged(cell) -> bool:
    """Whether an answer cell still holds the release's text (nbgrader's "No response.")."""
    from nbgrader.utils import compute_checksum

    return plan.nbgrader_meta(cell).get("checksum") == compute_checksum(cell)


# What nbgrader's exchange keeps beside a submission: ``release_feedback`` finds the feedback page
# of a submission by these, so they go to autograded/ as ``nbgrader autograde`` copies them.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def copy_exchange_files(submitted: Path, autograded: Path) -> None:
    """Copy the exchange's small files of a submission, if they are plain files (never a link or a FIFO)."""
    for name in EXCHANGE_FILES:
        with contextlib.suppress(ValueError, OSError):
            text = read_text(submitted / name)
            if len(text) <= 1000:
                (autograded / name).write_text(text)


def max_score(source: plan.Source) -> float:
    return sum(float(plan.nbgrader_meta(cell).get("points", 0)) for cell in source.nb.cells
               if plan.is_test(cell) or plan.is_written_answer(cell))


def record(course: Course, source: plan.Source, submission: Submission,
           results: dict[int, CellResult], missing: str) -> dict:
    """Write the graded notebook and the gradebook entries; return the summary line of this student."""
    from nbgrader.api import Gradebook
    from nbgrader.utils import parse_utc

    results = complete(source, submission, results, missing)
    nb = plan.graded_notebook(source, submission, results)
    timestamp = None
    with contextlib.suppress(Exception):  # no or an unreadable timestamp: nbgrader's default applies
        text = read_text(course.submitted_folder(submission.student, source.assignment) / "timestamp.txt")
        timestamp = parse_utc(text.strip()[:100])
    with Gradebook(course.db_url, course_id=course.course_id) as gradebook, warnings.catch_warnings():
        # nbgrader's own API warns about its SQLAlchemy session here, as during `nbgrader autograde`
        warnings.filterwarnings("ignore", message=".*not in session.*")
        answers = [cell for cell in nb.cells if plan.is_answer(cell) or plan.is_written_answer(cell)]
        for cell in answers:  # the release's checksums, as nbgrader autograde restores them
            found = gradebook.find_source_cell(plan.nbgrader_meta(cell)["grade_id"], source.notebook,
                                               source.assignment)
            cell.metadata.nbgrader["checksum"] = found.checksum
        cell_scores = scores(nb)
        folder = course.autograded_folder(submission.student, source.assignment)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{source.notebook}.ipynb")
        copy_exchange_files(course.submitted_folder(submission.student, source.assignment), folder)

        gradebook.update_or_create_student(submission.student)
        extra = {"timestamp": timestamp} if timestamp else {}
        gradebook.update_or_create_submission(source.assignment, submission.student, **extra)
        for grade_id, (score, _) in cell_scores.items():
            grade = gradebook.find_grade(grade_id, source.notebook, source.assignment, submission.student)
            grade.auto_score = score
            # nbgrader's rule: a person looks again at a cell they marked before, or one no machine can mark
            grade.needs_manual_grade = grade.manual_score is not None or score is None
        for cell in answers:
            comment = gradebook.find_comment(plan.nbgrader_meta(cell)["grade_id"], source.notebook,
                                             source.assignment, submission.student)
            comment.auto_comment = "No response." if unchanged(cell) else None
        gradebook.db.commit()
    return {"student": submission.student, "score": sum(s or 0 for s, _ in cell_scores.values()),
            "max_score": sum(m for _, m in cell_scores.values()), "cells": cell_scores,
            "pending": pending(cell_scores), "problems": submission.problems, "recorded": True,
            "unjudged": {plan.nbgrader_meta(source.nb.cells[index]).get("grade_id"): result.unjudged
                         for index, result in sorted(results.items()) if result.unjudged}}
