"""Reading what a student handed in: the answer cells, and a clear message for whatever is wrong.

Only the answer cells are taken (code, and the text of manually graded answers), matched by
nbgrader ``grade_id`` and cell type. Everything about the
folder is the student's choice, so nothing is trusted: only regular files (no symbolic links,
FIFOs or devices) of a bounded size are read, deep or mistyped JSON is refused, and any fault
gives a message in the summary and the feedback instead of stopping the batch.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_FILES_LOOKED_AT = 1000


@dataclasses.dataclass
class Submission:
    student: str
    answers: dict[str, str]
    problems: list[str]  # shown to the student and the instructor
    graded: bool  # False: nothing could be taken from it, every test scores zero


def not_graded(student: str, problems: list[str], problem: str) -> Submission:
    return Submission(student, {}, [*problems, problem], False)


def is_regular_file(path: Path) -> bool:
    """A plain file, not followed through a link (a FIFO would hang a read; a link may point anywhere)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def is_real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def notebooks_in(folder: Path) -> list[Path]:
    """Regular ``.ipynb`` files below ``folder``, without following links or entering checkpoints."""
    found, looked_at = [], 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".ipynb_checkpoints")
        for name in sorted(files):
            looked_at += 1
            if looked_at > MAX_FILES_LOOKED_AT:
                return found
            path = Path(root) / name
            if name.endswith(".ipynb") and is_regular_file(path):
                found.append(path)
    return found


def read_text(path: Path) -> str:
    """A regular file's text, refused (ValueError) when it is a link, not a plain file, too large or not UTF-8."""
    if not is_regular_file(path):
        raise ValueError(f"{path.name} is not a plain file (a link, a folder or a device); submit the notebook itself")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    with os.fdopen(os.open(path, flags), "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # swapped for something else since lstat
            raise ValueError(f"{path.name} is not a plain file")
        data = stream.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB; clear its outputs "
                         "(Edit > Clear Outputs of All Cells) and submit it again")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a text file (not UTF-8)") from None


def find_notebook(folder: Path, expected_name: str, problems: list[str]) -> Path | str:
    """The notebook to grade, or a message saying why there is none (a misnamed one is noted and used)."""
    expected = folder / expected_name
    if is_regular_file(expected):
        return expected
    others = notebooks_in(folder)
    if not others:
        return f"no notebook found: expected {expected_name}"
    if len(others) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in others[:10])
        return (f"expected {expected_name}, found several other notebooks ({names}); "
                "submit the assignment's notebook under its own name")
    problems.append(f"the notebook should be named {expected_name}, not {others[0].relative_to(folder)}; "
                    "it was graded all the same")
    return others[0]


def read_submission(student: str, folder: Path, source) -> Submission:
    """The answers in one student's folder (``source``: the assignment's ``plan.Source``)."""
    try:
        return read_answers(student, folder, source)
    except Exception as error:  # noqa: BLE001 - whatever a submission holds, the batch goes on
        return not_graded(student, [], f"the submission could not be read ({type(error).__name__}: {error})")


def read_answers(student: str, folder: Path, source) -> Submission:
    expected_name = f"{source.notebook}.ipynb"
    problems: list[str] = []
    if not is_real_folder(folder):
        return not_graded(student, problems, f"{folder.name} was submitted as a file or a link, not as a folder "
                                             f"holding {expected_name}")
    path = find_notebook(folder, expected_name, problems)
    if isinstance(path, str):
        return not_graded(student, problems, path)
    try:
        text = read_text(path)
    except ValueError as problem:
        return not_graded(student, problems, str(problem))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno} ({error.msg})"
        return not_graded(student, problems, f"{path.name} is not a valid notebook: its JSON is broken at {where}")
    except RecursionError:
        return not_graded(student, problems, f"{path.name} is not a valid notebook: its JSON is nested too deeply")
    try:
        nb = nbformat.reads(text, as_version=4)
    except (Exception, RecursionError) as error:  # noqa: BLE001 - nbformat raises several kinds
        return not_graded(student, problems, f"{path.name} is not a notebook nbformat can read: {str(error)[:300]}")
    version = raw.get("nbformat") if isinstance(raw, dict) else None
    if type(version) is int and version < 4:
        problems.append(f"the notebook was saved in the old format nbformat {version}; it was converted")
    return take_answers(student, nb, source, problems)


def take_answers(student: str, nb, source, problems: list[str]) -> Submission:
    answers: dict[str, str] = {}
    duplicates, extra = set(), 0
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        meta = meta if isinstance(meta, dict) else {}
        grade_id = meta.get("grade_id")
        code = cell.get("cell_type") == "code" and isinstance(cell.get("source"), str)
        # an answer counts in a cell of the source's type: code for code, Markdown for a written answer
        wanted = source.answer_type(grade_id) if type(grade_id) is str else None
        if wanted is not None and cell.get("cell_type") == wanted and isinstance(cell.get("source"), str):
            if grade_id in answers:
                duplicates.add(grade_id)
                continue
            answers[grade_id] = cell.source
        elif code and not meta and cell.source.strip():
            extra += 1
    if not answers:
        found = sorted({str(c.get("metadata", {}).get("nbgrader", {}).get("grade_id"))[:40] for c in nb.cells
                        if isinstance(c.get("metadata", {}).get("nbgrader"), dict)
                        and c.metadata.nbgrader.get("grade_id")})
        hint = f" (its cells are {', '.join(found[:6])})" if found else ""
        message = f"this notebook holds none of the answer cells of {source.assignment}{hint}"
        return not_graded(student, problems, f"{message}: is it the notebook of another assignment?")
    missing = [grade_id for grade_id in [*source.answer_ids, *source.written_ids] if grade_id not in answers]
    if missing:
        problems.append(f"answer cells not found (deleted, or their nbgrader metadata changed): {', '.join(missing)}")
    if duplicates:
        names = ", ".join(sorted(duplicates))
        problems.append(f"answer cells found more than once, the first copy was graded: {names}")
    if extra:
        problems.append(f"{extra} code cell(s) you added were not run: only the answer cells are graded, so keep "
                        "helpers inside them")
    return Submission(student, answers, problems, True)
