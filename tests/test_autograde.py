"""``dlcv autograde`` against hostile and broken submissions, graded in one batch with honest ones.

One batch of a1_single_layer goes through the real command (sandbox, judge, gradebook,
nbgrader feedback and export) in a throw-away course whose hidden tests, solutions, a
file and another student's answer each hold a secret marker. The tests then check that
no attack gained a mark, nothing secret reached any output, the course and the gradebook
changed only by the new grades, and every honest submission kept its grade.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path, require_bubblewrap
from tests.helpers.grading import answer_sources, make_course, make_submission, marks_without, source_notebook
from tests.helpers.hostile_submissions import CODE_ATTACKS, COST, ENDS_PROCESS
from tests.helpers.page_checks import external_addresses

ASSIGNMENT = "a1_single_layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MARKER_A, MARKER_B = "SECRET", uuid.uuid4().hex
MARKER = MARKER_A + MARKER_B
SECRETS = {name: f"{MARKER}-{name}" for name in ("hidden", "solution", "file", "other_student")}
# Honest submissions, right or wrong, and the cells each loses; relu_in_place shows that changes to
# arguments come back to the judge (the hidden test checks that relu leaves its input alone).
HONEST = {"honest": set(), "honest_twin": set(), "wrong_name": set(), "old_nbformat": set(),
          "wrong_relu": {"relu_visible", "relu_hidden", "relu_hidden_input", "mlp_forward_hidden"},
          "relu_in_place": {"relu_hidden_input"},
          "fifo_timestamp": set(), "markup_file_name": set()}
# Broken submissions, and what their message says. None of them may stop the batch or hang it.
BROKEN = {"empty_folder": "no notebook found", "broken_json": "not a valid notebook",
          "other_assignment": "none of the answer cells", "tampered_cells": None,
          "folder_named_like_the_notebook": "no notebook found", "fifo_notebook": "no notebook found",
          "deep_json": "nested too deeply", "mistyped_grade_ids": "none of the answer cells",
          "link_to_the_solutions": "no notebook found", "link_to_another_student": "no notebook found",
          "huge_notebook": "larger than 20 MB", "forged_console_lines": "none of the answer cells"}
MARKUP = "<img src=x onerror=alert(1)>"
FORGED = "\n  'honest': 0 / 14\x1b[2J"
UNANSWERED = "def {name}(*args, **kwargs):\n    raise NotImplementedError()\n"
PROTECTED_TABLES = ("assignment", "notebook", "base_cell", "grade_cells", "solution_cells", "source_cell",
                    "task_cells", "course")


def plant_secrets(course: Path) -> None:
    """Markers in a hidden test, a solution, a course file (and, later, another student's answer)."""
    path = course / "solutions" / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "relu_hidden":
            cell.source = cell.source.replace("### BEGIN HIDDEN TESTS\n",
                                              f"### BEGIN HIDDEN TESTS\nsecret = '{SECRETS['hidden']}'\n")
        if grade_id == "relu":
            planted = f"### BEGIN SOLUTION\n    # {SECRETS['solution']}\n"
            cell.source = cell.source.replace("### BEGIN SOLUTION\n", planted)
    nbformat.write(nb, path)
    (course / "secret.txt").write_text(SECRETS["file"])


def tampered(release, solutions) -> nbformat.NotebookNode:
    """Every trick on the notebook's structure at once, with no answer written."""
    nb = make_submission(release, solutions, {name: UNANSWERED.format(name=name) for name in solutions})
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and "HIDDEN" in cell.source:
            continue  # hidden tests deleted
        if meta.get("grade"):
            cell.source = "pass"
            meta["points"] = 100
            meta["checksum"] = "0" * 32
            copy = nbformat.from_dict(json.loads(json.dumps(cell)))
            copy.id = uuid.uuid4().hex[:8]
            cells.append(copy)  # duplicated
        if meta.get("solution"):
            meta["grade"], meta["points"] = True, 50  # re-tagged as a graded answer
        cells.append(cell)
    extra = nbformat.v4.new_code_cell("pass")
    extra.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 1000, "solution": False,
                                  "locked": True, "schema_version": 3}
    nb.cells = [extra] + cells[::-1]  # and re-ordered
    return nb


def add_broken_and_odd_submissions(graded, release, solutions) -> None:
    """Folders and files that once stopped or hung the batch, or put markup and forged lines in what it shows."""
    (graded.folder("folder_named_like_the_notebook") / NOTEBOOK).mkdir(parents=True)
    graded.folder("fifo_notebook").mkdir(parents=True)
    os.mkfifo(graded.folder("fifo_notebook") / NOTEBOOK)
    graded.submit("deep_json", text="[" * 100_000 + "]" * 100_000)
    mistyped = make_submission(release, solutions, {})
    for number, cell in enumerate(mistyped.cells):
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["grade_id"] = [cell.metadata.nbgrader["grade_id"]] if number % 2 else number
    graded.submit("mistyped_grade_ids", text=json.dumps(mistyped))
    graded.folder("link_to_the_solutions").mkdir(parents=True)
    (graded.folder("link_to_the_solutions") / NOTEBOOK).symlink_to(graded.root / "solutions" / ASSIGNMENT / NOTEBOOK)
    graded.folder("link_to_another_student").mkdir(parents=True)
    (graded.folder("link_to_another_student") / NOTEBOOK).symlink_to(graded.folder("honest") / NOTEBOOK)
    graded.submit("huge_notebook", text=" " * (21 * 2**20) + "{}")
    forged = make_submission(release, solutions, {})
    for cell in forged.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["grade_id"] = FORGED
    graded.submit("forged_console_lines", nb=forged)
    graded.submit("fifo_timestamp", {})
    os.mkfifo(graded.folder("fifo_timestamp") / "timestamp.txt")
    graded.submit("markup_file_name", {}, name=f"{MARKUP}.ipynb")


def tree_hashes(course: Path) -> dict[str, str]:
    skip = {"autograded", "feedback", "gradebook.db", "grades.csv"}
    return {str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*")) if p.is_file() and p.relative_to(course).parts[0] not in skip}


def protected_rows(course: Path) -> dict:
    with sqlite3.connect(course / "gradebook.db") as db:
        return {table: sorted(db.execute(f"select * from {table}").fetchall()) for table in PROTECTED_TABLES}


class Listener:
    """A loopback server that the sandboxed code must not be able to reach."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.received, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.received.append(connection.recv(100))
            connection.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    graded = make_course(tmp_path_factory.mktemp("hostile"), ASSIGNMENT, prepare=plant_secrets)
    course = graded.root
    release, solutions = graded.release(), answer_sources(source_notebook(ASSIGNMENT))
    listener = Listener()

    graded.submit("honest", {"linear": solutions["linear"] + f"\n# {SECRETS['other_student']}\n"})
    graded.submit("honest_twin", {})
    graded.submit("wrong_name", {}, name="my_homework.ipynb")
    graded.submit("old_nbformat", text=nbformat.writes(nbformat.convert(make_submission(release, solutions, {}), 3),
                                                       version=3))
    graded.submit("wrong_relu", {"relu": "def relu(x):\n    return x\n"})
    graded.submit("relu_in_place", {"relu": "def relu(x):\n    return x.clamp_(min=0)\n"})
    graded.folder("empty_folder").mkdir(parents=True)
    graded.submit("broken_json", text='{"cells": [{"cell_type": "code", "source": ')
    graded.submit("other_assignment", nb=nbformat.read(COURSE_ROOT / "assignments" / "a2_losses" / "a2_losses.ipynb",
                                                        as_version=4))
    graded.submit("tampered_cells", nb=tampered(release, solutions))
    add_broken_and_odd_submissions(graded, release, solutions)
    for attack, (function, code) in CODE_ATTACKS.items():
        code = (code.replace("{course}", str(course)).replace("{port}", str(listener.port))
                .replace("{marker_a}", MARKER_A).replace("{marker_b}", MARKER_B))
        graded.submit(attack, {function: code})

    hashes, rows = tree_hashes(course), protected_rows(course)
    try:
        summary, log = graded.dlcv_autograde("--cell-timeout", "15", "--notebook-timeout", "240")
    finally:
        listener.close()
    require_bubblewrap(log)
    return {"course": course, "summary": summary, "log": log, "hashes": hashes, "rows": rows,
            "received": listener.received, "exported": graded.exported()}


def cell_order() -> list[str]:
    nb = nbformat.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK, as_version=4)
    return [c.metadata.nbgrader["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def expected_losses(attack: str) -> set[str]:
    function, _ = CODE_ATTACKS[attack]
    lost = set(COST[function])
    if attack in ENDS_PROCESS:
        order = cell_order()
        lost |= set(order[order.index(function) + 1:])
    return lost


def outputs_text(course: Path, student: str) -> str:
    """Every output of the student's graded notebook (not the code, which is theirs)."""
    nb = nbformat.read(course / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
    return json.dumps([cell.get("outputs", []) for cell in nb.cells])


def feedback(course: Path, student: str) -> str:
    return (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()


def test_the_sandbox_is_bubblewrap_or_says_loudly_that_it_is_not(batch):
    assert "Sandbox: bubblewrap namespaces" in batch["log"]


@pytest.mark.parametrize("student", sorted(HONEST))
def test_honest_submissions_keep_their_grades(batch, student):
    cells = batch["summary"][student]["cells"]
    assert {name for name, (score, maximum) in cells.items() if score < maximum} == HONEST[student], cells
    assert batch["summary"][student]["score"] == marks_without(ASSIGNMENT, HONEST[student])


@pytest.mark.parametrize("attack", sorted(CODE_ATTACKS))
def test_no_attack_gains_a_mark(batch, attack):
    cells = batch["summary"][attack]["cells"]
    lost = expected_losses(attack)
    gained = {name: score for name, (score, _) in cells.items() if name in lost and score > 0}
    assert not gained, f"{attack} scored on cells its answer does not earn: {gained}"
    # and it loses nothing else: the honest rest of the notebook keeps its marks
    assert all(score == maximum for name, (score, maximum) in cells.items() if name not in lost), cells


@pytest.mark.parametrize("student", sorted(BROKEN))
def test_broken_submissions_score_zero_with_a_clear_message(batch, student):
    line = batch["summary"][student]
    assert line["score"] == 0, line
    if BROKEN[student]:
        assert any(BROKEN[student] in problem for problem in line["problems"]), line["problems"]
        assert BROKEN[student] in feedback(batch["course"], student)


def test_nothing_a_student_chose_becomes_markup_or_a_console_line(batch):
    assert "should be named" in " ".join(batch["summary"]["markup_file_name"]["problems"])
    page = feedback(batch["course"], "markup_file_name")
    assert MARKUP not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\n  'honest': 0 / 14" not in batch["log"] and "\x1b[2J" not in batch["log"]
    assert "forged_console_lines" in batch["log"]


def test_misnamed_and_old_notebooks_are_graded_with_a_note(batch):
    assert "should be named" in " ".join(batch["summary"]["wrong_name"]["problems"])
    assert "old format" in " ".join(batch["summary"]["old_nbformat"]["problems"])


def test_no_output_or_feedback_holds_a_secret(batch):
    course = batch["course"]
    assert MARKER not in batch["log"]
    for student in batch["summary"]:
        shown = outputs_text(course, student) + feedback(course, student)
        for name, secret in SECRETS.items():
            if name == "other_student" and student == "honest":
                continue  # the honest student's own answer holds it
            assert secret not in shown, f"{student}'s outputs or feedback show the {name} secret"
        assert "LEAKED" not in outputs_text(course, student), f"{student}: {outputs_text(course, student)[:2000]}"


def test_feedback_never_shows_hidden_test_code(batch):
    course = batch["course"]
    for student in batch["summary"]:
        page = feedback(course, student)
        assert "x_before" not in page and "manual_seed(202)" not in page, student
    page = feedback(course, "wrong_relu")
    assert "relu gives wrong values on a random 3-D tensor" in page, "a failed hidden test shows its message"


def test_feedback_pages_carry_the_books_mathjax_and_load_nothing_from_the_network(batch):
    """The batch's feedback goes through the course's nbgrader configuration (tests/test_feedback_offline.py)."""
    for student in sorted(HONEST):
        page = feedback(batch["course"], student)
        assert external_addresses(page) == [] and "window.MathJax" in page, student


def test_the_sandbox_has_no_network(batch):
    assert batch["received"] == []
    assert "no network" in outputs_text(batch["course"], "read_secrets")


def test_limits_stop_runaway_code_with_a_reason(batch):
    course = batch["course"]
    assert "longer than the 15 s allowed per cell" in outputs_text(course, "loop_forever")
    assert "output cut" in outputs_text(course, "flood_stdout") or "SIGXFSZ" in outputs_text(course, "flood_stdout")
    assert "MemoryError" in outputs_text(course, "allocate_without_end")
    assert "SIGSEGV" in outputs_text(course, "segfault")
    children = int(outputs_text(course, "fork_bomb").split("children: ")[1].split("\\n")[0])
    if os.geteuid() == 0:  # a user id of its own per slot: the process limit holds the submission alone
        assert children < 128, children
    assert len(outputs_text(course, "huge_exception_message")) < 200_000
    assert "share memory" in outputs_text(course, "stride_zero_reply")
    filled = outputs_text(course, "fills_tmp_and_home").split("filled: tmp ")[1].split(" MB.")[0]
    tmp, home = (int(number) for number in filled.split(" MB, home "))
    assert tmp <= 256 and home <= 256, filled


def test_course_files_and_gradebook_change_only_by_the_grades(batch):
    course = batch["course"]
    assert tree_hashes(course) == batch["hashes"]
    assert protected_rows(course) == batch["rows"]
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("select count(*) from grade where manual_score is not null").fetchone()[0] == 0
        names = {row[0] for row in db.execute("select name from base_cell")}
    assert "bonus" not in names


def test_export_matches_the_summary(batch):
    assert batch["exported"] == {student: line["score"] for student, line in batch["summary"].items()}


def test_without_bubblewrap_the_grader_warns_loudly_and_grades_or_refuses_to_run_students_as_root(
        tmp_path, monkeypatch, capsys):
    """Without bubblewrap it falls back to a user id of its own; where that user cannot run Python (an
    environment under /root, as on the course's CI machines) it refuses, rather than run students as root."""
    from dlcv.autograde import cli, sandbox

    real_which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    fallback = sandbox.probe(tmp_path / "probe", 2)
    course = make_course(tmp_path / "course", ASSIGNMENT)
    course.submit("honest", {})
    course.submit("wrong_relu", {"relu": "def relu(x):\n    return x\n"})
    monkeypatch.setenv("PATH", environment_on_path()["PATH"])
    arguments = ["autograde", ASSIGNMENT, "--course-dir", str(course.root), "--jobs", "2", "--no-feedback",
                 "--summary", str(tmp_path / "summary.json")]
    if fallback.refusal:
        assert os.geteuid() == 0
        with pytest.raises(SystemExit, match="refusing to run students' code as root"):
            cli.main(arguments)
        assert not (course.root / "autograded").exists()
        return
    cli.main(arguments)
    assert "WARNING: the strongest isolation is unavailable" in capsys.readouterr().out
    scores = {line["student"]: line["score"] for line in json.loads((tmp_path / "summary.json").read_text())}
    assert scores == {"honest": marks_without(ASSIGNMENT),
                      "wrong_relu": marks_without(ASSIGNMENT, HONEST["wrong_relu"])}
    with pytest.raises(SystemExit, match="bubblewrap"):
        cli.main(["autograde", ASSIGNMENT, "--course-dir", str(course.root), "--require-sandbox"])
