"""What to grade: the instructor's source notebook, and the answers taken from a submission.

Only the answer cells' code is taken from a submission, matched by their nbgrader
``grade_id``. Everything else (instructions, imports, visible and hidden tests, points)
comes from the source notebook in ``solutions/``, so a submission that edits, deletes,
re-orders, re-tags or duplicates cells, or changes their metadata or checksums, changes
nothing but its own answers.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import nbformat

from dlcv.autograde.protocol import CellJob, CellResult, Role

HIDDEN_REGION = re.compile(r"^[^\n]*BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*(\n|$)", re.MULTILINE | re.DOTALL)


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_answer(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution")) and not nbgrader_meta(cell).get("grade")


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

    def hidden_lines(self) -> set[str]:
        """Lines of the hidden tests long enough to recognise, to strip from anything shown."""
        lines = set()
        for cell in self.nb.cells:
            for region in HIDDEN_REGION.finditer(cell.source):
                lines |= {line.strip() for line in region.group(0).splitlines() if len(line.strip()) >= 16}
        return {line for line in lines if "HIDDEN TESTS" not in line}

    def cells_to_run(self, answers: dict[str, str]) -> list[CellJob]:
        """The job for the judge: every code cell of the source, answers taken from ``answers``."""
        cells = []
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code":
                continue
            name = nbgrader_meta(cell).get("grade_id", f"cell{index}")
            if is_answer(cell):
                cells.append(CellJob(index, Role.ANSWER, name, answers.get(name, ""), hidden=False))
            elif is_test(cell):
                cells.append(CellJob(index, Role.TEST, name, cell.source, hidden="BEGIN HIDDEN TESTS" in cell.source))
            else:
                cells.append(CellJob(index, Role.SETUP, name, cell.source, hidden=False))
        return cells


@dataclasses.dataclass
class Submission:
    student: str
    answers: dict[str, str]
    problems: list[str]  # shown to the student and the instructor
    graded: bool  # False: nothing could be taken from it, every test scores zero


def read_submission(student: str, folder: Path, source: Source) -> Submission:
    """The answers in one student's folder, with a clear message for whatever is wrong with it."""
    expected = folder / f"{source.notebook}.ipynb"
    problems: list[str] = []
    if not folder.is_dir():
        return Submission(student, {}, [f"{folder.name} was submitted as a file, not as a folder holding "
                                        f"{expected.name}"], False)
    path = expected
    if not expected.is_file():
        others = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        if not others:
            return Submission(student, {}, [f"no notebook found: expected {expected.name}"], False)
        if len(others) > 1:
            names = ", ".join(str(p.relative_to(folder)) for p in others)
            return Submission(student, {}, [f"expected {expected.name}, found several other notebooks ({names}); "
                                            "submit the assignment's notebook under its own name"], False)
        path = others[0]
        problems.append(f"the notebook should be named {expected.name}, not {path.relative_to(folder)}; "
                        "it was graded all the same")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Submission(student, {}, problems + [f"{path.name} is not a text file (not UTF-8)"], False)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno} ({error.msg})"
        broken = f"{path.name} is not a valid notebook: its JSON is broken at {where}"
        return Submission(student, {}, problems + [broken], False)
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises several kinds
        return Submission(student, {}, problems + [f"{path.name} is not a notebook nbformat can read: {error}"], False)
    if isinstance(raw, dict) and raw.get("nbformat", 4) < 4:
        problems.append(f"the notebook was saved in the old format nbformat {raw.get('nbformat')}; it was converted")

    answers: dict[str, str] = {}
    duplicates, extra = set(), 0
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if grade_id in source.answer_ids and cell.cell_type == "code":
            if grade_id in answers:
                duplicates.add(grade_id)
                continue
            answers[grade_id] = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        elif cell.cell_type == "code" and not meta and cell.source.strip():
            extra += 1
    if not answers:
        found = sorted({nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c).get("grade_id")})
        hint = f" (its cells are {', '.join(map(str, found[:6]))})" if found else ""
        message = f"this notebook holds none of the answer cells of {source.assignment}{hint}"
        return Submission(student, {}, problems + [f"{message}: is it the notebook of another assignment?"], False)
    missing = [grade_id for grade_id in source.answer_ids if grade_id not in answers]
    if missing:
        problems.append(f"answer cells not found (deleted, or their nbgrader metadata changed): {', '.join(missing)}")
    if duplicates:
        names = ", ".join(sorted(duplicates))
        problems.append(f"answer cells found more than once, the first copy was graded: {names}")
    if extra:
        problems.append(f"{extra} code cell(s) you added were not run: only the answer cells are graded, so keep "
                        "helpers inside them")
    return Submission(student, answers, problems, True)


def graded_notebook(source: Source, submission: Submission, results: dict[int, CellResult]):
    """The notebook nbgrader's feedback and formgrader read: the source's cells, the student's answers,
    outputs from the grading run, no hidden test code, and the grader's notes (if any) first."""
    nb = nbformat.from_dict(json.loads(json.dumps(source.nb)))
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if is_answer(cell):
            cell.source = submission.answers.get(meta.get("grade_id"), "# (no answer found in the submission)")
        if cell.cell_type == "code":
            cell.source = without_hidden_tests(cell.source)
            result = results.get(index)
            cell.outputs = [nbformat.from_dict(o) for o in result.outputs] if result else []
            cell.execution_count = None
    if submission.problems:
        text = "**Notes from the grader**\n\n" + "\n".join(f"- {note}" for note in submission.problems)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    return nb
