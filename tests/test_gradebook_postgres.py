"""The course on a PostgreSQL gradebook: the same grades as on SQLite, from a real server.

Several graders, or graders on several machines, need a gradebook server rather than a SQLite
file on a shared disk. nbgrader takes any SQLAlchemy URL as ``CourseDirectory.db_url``; here two
throw-away courses get the same a1_single_layer submissions (right, wrong and unanswered), one
with the default SQLite gradebook and one with ``db_url`` pointing at a PostgreSQL server that the
test starts, and both go through generate_assignment, ``dlcv autograde --jobs 2``, nbgrader's
generate_feedback and export. Every grade cell must score the same on both.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.helpers.answer_variants import WRONG
from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path, run_nbgrader
from tests.helpers.grading import answer_sources, make_submission
from tests.helpers.missing import skip_or_fail
from tests.helpers.postgres import running_postgres, why_no_postgres

ASSIGNMENT = "a1_single_layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "dlcv"
# Students whose totals differ, so that equal gradebooks cannot come from a constant.
SUBMISSIONS = {
    "right": {},
    "unanswered": None,
    "wrong_linear_and_top_k": {"linear": WRONG[ASSIGNMENT]["linear"]["forgets the bias"],
                               "top_k_accuracy": WRONG[ASSIGNMENT]["top_k_accuracy"]["takes the k smallest logits"]},
}


@pytest.fixture(scope="module")
def postgres_server():
    """A PostgreSQL server for this module's tests, stopped (and its folder removed) afterwards."""
    if reason := why_no_postgres():
        skip_or_fail(f"PostgreSQL gradebook test: {reason}")
    with running_postgres() as server:
        yield server


def grade_course(course: Path, db_url: str | None) -> dict[str, dict[str, tuple[float, float]]]:
    """Release, submit, grade with ``dlcv autograde --jobs 2``, feed back and export, on ``db_url``.

    ``db_url`` goes into the course's own nbgrader_config.py, where an instructor puts it (None
    keeps nbgrader's default, ``gradebook.db`` in the course). Returns each student's grade cells
    as (score, max score), read back from that gradebook.
    """
    shutil.copytree(SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    # A course id, as on a hub: PostgreSQL, unlike SQLite, enforces the gradebook's foreign keys, and
    # nbgrader's default course id ("") leaves the assignment without the course row it refers to.
    config = (COURSE_ROOT / "nbgrader_config.py").read_text() + f"\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
    if db_url is not None:
        config += f"\nc.CourseDirectory.db_url = {db_url!r}\n"
    (course / "nbgrader_config.py").write_text(config)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")

    release = nbformat.read(course / "assignments" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solutions = answer_sources(nbformat.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK, as_version=4))
    for student, replaced in SUBMISSIONS.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(make_submission(release, solutions, replaced), folder / NOTEBOOK)

    graded = subprocess.run(
        [sys.executable, "-m", "dlcv.autograde.cli", "autograde", ASSIGNMENT, "--jobs", "2", "--no-feedback",
         "--course-dir", str(course)],
        cwd=course, env=environment_on_path(), capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, f"dlcv autograde failed:\n{graded.stdout[-3000:]}\n{graded.stderr[-3000:]}"
    nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    nbgrader(course, "export", "--to", "grades.csv")

    if db_url is not None:
        assert not (course / "gradebook.db").exists(), \
            "a SQLite gradebook appeared in the course although db_url names a PostgreSQL server"
    url = db_url or f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        grades = {student: {grade.name: (grade.score, grade.max_score)
                            for grade in gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades}
                  for student in SUBMISSIONS}
    with open(course / "grades.csv", newline="") as stream:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}
    for student, cells in grades.items():
        assert exported[student] == sum(score for score, _ in cells.values()), (student, exported)
        assert (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file(), student
    return grades


def graded_output(course: Path, student: str, grade_id: str) -> str:
    """What a grade cell printed in a student's graded notebook, and the first error of an answer cell.

    A test that fails for want of a function (NameError) is explained by the answer cell that should
    have defined it, so its error is shown too.
    """
    graded = nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
    shown, answer_error = "(cell not found)", ""
    for cell in graded.cells:
        nbgrader_meta = cell.metadata.get("nbgrader", {})
        if nbgrader_meta.get("grade_id") == grade_id:
            shown = repr(cell.get("outputs", []))[-600:]
        errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
        if nbgrader_meta.get("solution") and errors and not answer_error:
            answer_error = f"; answer cell {nbgrader_meta.get('grade_id')}: {repr(errors[0])[-600:]}"
    return shown + answer_error


def nbgrader(course: Path, *args: str) -> None:
    result = run_nbgrader(*args, cwd=course)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"


def test_postgresql_gradebook_grades_as_sqlite(postgres_server, tmp_path):
    on_sqlite = grade_course(tmp_path / "sqlite_course", None)
    url = postgres_server.create_database("dlcv_gradebook")
    on_postgres = grade_course(tmp_path / "postgres_course", url)

    differing = {(student, cell): (on_sqlite[student].get(cell), on_postgres[student].get(cell))
                 for student in SUBMISSIONS for cell in on_sqlite[student].keys() | on_postgres[student].keys()
                 if on_sqlite[student].get(cell) != on_postgres[student].get(cell)}
    assert not differing, "grades differ, (SQLite, PostgreSQL) per cell:\n" + "\n".join(
        f"{student} {cell}: {scores}\n  SQLite:     {graded_output(tmp_path / 'sqlite_course', student, cell)}"
        f"\n  PostgreSQL: {graded_output(tmp_path / 'postgres_course', student, cell)}"
        for (student, cell), scores in differing.items())

    totals = {student: sum(score for score, _ in cells.values()) for student, cells in on_postgres.items()}
    full = sum(maximum for _, maximum in on_postgres["right"].values())
    assert totals["right"] == full and totals["unanswered"] == 0, totals
    assert 0 < totals["wrong_linear_and_top_k"] < full, totals
    with postgres_server.connect("dlcv_gradebook") as connection:
        (rows,) = connection.execute("SELECT count(*) FROM grade").fetchone()
    assert rows == len(SUBMISSIONS) * len(on_postgres["right"]), "the server does not hold every grade"


def test_server_is_stopped_and_removed_when_a_test_fails():
    if reason := why_no_postgres():
        skip_or_fail(f"PostgreSQL gradebook test: {reason}")
    with pytest.raises(ZeroDivisionError), running_postgres() as server:
        folder = server.socket_dir
        pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        with server.connect() as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        1 / 0  # noqa: B018 (a test that fails while the server runs)
    assert not folder.exists(), "the server's folder was left behind"
    assert exits_within(pid, 30), f"the server (pid {pid}) still runs"


def exits_within(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` is gone (or a zombie left to init) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.2)
    return False


def test_a_missing_server_says_how_to_install_it_and_fails_in_ci(monkeypatch):
    import tests.helpers.postgres as postgres

    monkeypatch.setattr(postgres, "postgres_bindir", lambda: None)
    reason = postgres.why_no_postgres()
    assert reason is not None and "apt-get install postgresql" in reason, reason
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        skip_or_fail(reason)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI"):
        skip_or_fail(reason)
