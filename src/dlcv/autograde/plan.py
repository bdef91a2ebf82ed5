"""What to grade and what the student gets back: the instructor's source notebook, and the graded notebook.

Everything but the answers (instructions, imports, visible and hidden tests, points) comes
from the source notebook in ``solutions/`` (see ``submission`` for how answers are taken), so
a submission that edits, deletes, re-orders, re-tags or duplicates cells, or changes their
metadata or checksums, changes nothing but its own answers.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import nbformat

from dlcv.autograde.protocol import CellJob, CellResult, Role
from dlcv.autograde.submission import Submission

HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*(\n|$)", re.MULTILINE | re.DOTALL)


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_answer(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution")) and not nbgrader_meta(cell).get("grade")


def is_written_answer(cell) -> bool:
    """A manually graded answer (nbgrader's solution and grade together): text or code that a person marks."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution")) and bool(meta.get("grade"))


def is_test(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def without_hidden_tests(source: str) -> str:
    return HIDDEN_REGION.sub("", source)


@dataclasses.dataclass
class Source:
    assignment: str
    notebook: str
    path: Path
    nb: nbformat.NotebookNode

    @classmethod
    def load(cls, folder: Path, assignment: str) -> Source:
        """The one notebook in the assignment's source folder."""
        notebooks = sorted(folder.glob("*.ipynb"))
        if len(notebooks) != 1:
            raise SystemExit(f"{folder} must hold exactly one notebook, found {len(notebooks)}")
        path = notebooks[0]
        return cls(assignment, path.stem, path, nbformat.read(path, as_version=4))

    @property
    def answer_ids(self) -> list[str]:
        return [nbgrader_meta(c)["grade_id"] for c in self.nb.cells if is_answer(c)]

    @property
    def written_ids(self) -> list[str]:
        """The manually graded answers: the student's own text (or code), marked in the formgrader."""
        return [nbgrader_meta(c)["grade_id"] for c in self.nb.cells if is_written_answer(c)]

    def answer_type(self, grade_id: str) -> str | None:
        """The cell type ("code" or "markdown") of an answer cell of the source, None for any other id."""
        for cell in self.nb.cells:
            if (is_answer(cell) or is_written_answer(cell)) and nbgrader_meta(cell).get("grade_id") == grade_id:
                return cell.cell_type
        return None

    def cells_to_run(self, answers: dict[str, str]) -> list[CellJob]:
        """The job for the judge: every code cell of the source, answers taken from ``answers``."""
        cells = []
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            name = nbgrader_meta(cell).get("grade_id", f"cell{index}")
            if is_answer(cell) or is_written_answer(cell):  # the student's code, never the instructor's
                cells.append(CellJob(index, Role.ANSWER, name, answers.get(name, ""), hidden=False))
            elif is_test(cell):
                cells.append(CellJob(index, Role.TEST, name, cell.source, hidden="BEGIN HIDDEN TESTS" in cell.source))
            else:
                cells.append(CellJob(index, Role.SETUP, name, cell.source, hidden=False))
        return cells


def graded_notebook(source: Source, submission: Submission, results: dict[int, CellResult]):
    """The notebook nbgrader's feedback and formgrader read: the source's cells, the student's answers,
    outputs from the grading run, no hidden test code, and the grader's notes (if any) first."""
    nb = nbformat.from_dict(json.loads(json.dumps(source.nb)))
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if is_answer(cell) or is_written_answer(cell):
            missing = "# (no answer found in the submission)" if cell.cell_type == "code" else \
                "(no answer found in the submission)"
            cell.source = submission.answers.get(meta.get("grade_id"), missing)
        if cell.cell_type == "code":
            cell.source = without_hidden_tests(cell.source)
            result = results.get(index)
            cell.outputs = [nbformat.from_dict(o) for o in result.outputs] if result else []
            cell.execution_count = None
    if submission.problems:
        notes = "\n".join(f"- {as_markdown_text(note)}" for note in submission.problems)
        text = "**Notes from the grader**\n\n" + notes
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    return nb


ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def as_markdown_text(text: str) -> str:
    """``text`` shown literally in a Markdown cell: no HTML, link or formatting it holds takes effect.

    Notes quote what a student chose (file names, cell ids), and nbgrader turns the cell into
    HTML for the feedback page and the formgrader. Markdown shows any ASCII punctuation after a
    backslash as itself, so escaping all of it leaves nothing to interpret; line breaks become spaces.
    """
    visible = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(text.split()))
    return ASCII_PUNCTUATION.sub(r"\\\1", visible)
