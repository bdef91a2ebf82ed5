"""``dlcv autograde`` against hostile and broken submissions, graded in one batch with honest ones.

One batch of a1_single_layer goes through the real command (sandbox, judge, gradebook,
nbgrader feedback and export) in a throw-away course whose hidden tests, solutions, a
file and another student's answer each hold a secret marker. The tests then check that
no attack gained a mark, nothing secret reached any output, the course and the gradebook
changed only by the new grades, and every honest submission kept its grade.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path, require_bubblewrap, run_nbgrader
from tests.helpers.grading import answer_sources, make_submission
from tests.helpers.hostile_submissions import CODE_ATTACKS, COST, ENDS_PROCESS

ASSIGNMENT = "a1_single_layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MARKER_A, MARKER_B = "SECRET", uuid.uuid4().hex
MARKER = MARKER_A + MARKER_B
SECRETS = {name: f"{MARKER}-{name}" for name in ("hidden", "solution", "file", "other_student")}
# Honest submissions, right or wrong; relu_in_place shows that changes to arguments come back to the judge.
HONEST = {"honest": 14, "honest_twin": 14, "wrong_name": 14, "old_nbformat": 14, "wrong_relu": 10,
          "relu_in_place": 13}
BROKEN = {"empty_folder": "no notebook found", "broken_json": "not a valid notebook",
          "other_assignment": "none of the answer cells", "tampered_cells": None}
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
    course = tmp_path_factory.mktemp("hostile")
    shutil.copytree(SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    plant_secrets(course)
    generated = run_nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=course)
    assert generated.returncode == 0, generated.stderr
    release = nbformat.read(course / "assignments" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solutions = answer_sources(nbformat.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK, as_version=4))
    listener = Listener()

    def submit(student: str, nb=None, name: str = NOTEBOOK, text: str | None = None):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        if text is not None:
            (folder / name).write_text(text)
        elif nb is not None:
            nbformat.write(nb, folder / name)

    honest = make_submission(release, solutions, {"linear": solutions["linear"] + f"\n# {SECRETS['other_student']}\n"})
    submit("honest", honest)
    submit("honest_twin", make_submission(release, solutions, {}))
    submit("wrong_name", make_submission(release, solutions, {}), name="my_homework.ipynb")
    (course / "submitted" / "old_nbformat" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nbformat.convert(make_submission(release, solutions, {}), 3),
                   course / "submitted" / "old_nbformat" / ASSIGNMENT / NOTEBOOK, version=3)
    submit("wrong_relu", make_submission(release, solutions, {"relu": "def relu(x):\n    return x\n"}))
    in_place = "def relu(x):\n    return x.clamp_(min=0)\n"
    submit("relu_in_place", make_submission(release, solutions, {"relu": in_place}))
    submit("empty_folder")
    submit("broken_json", text='{"cells": [{"cell_type": "code", "source": ')
    other = nbformat.read(COURSE_ROOT / "assignments" / "a2_losses" / "a2_losses.ipynb", as_version=4)
    submit("other_assignment", other)
    submit("tampered_cells", tampered(release, solutions))
    for attack, (function, code) in CODE_ATTACKS.items():
        code = (code.replace("{course}", str(course)).replace("{port}", str(listener.port))
                .replace("{marker_a}", MARKER_A).replace("{marker_b}", MARKER_B))
        submit(attack, make_submission(release, solutions, {function: code}))

    hashes, rows = tree_hashes(course), protected_rows(course)
    summary_path = course.parent / "summary.json"
    command = [sys.executable, "-m", "dlcv.autograde.cli", "autograde", ASSIGNMENT, "--jobs", "2",
               "--cell-timeout", "15", "--notebook-timeout", "240", "--summary", str(summary_path)]
    result = subprocess.run(command, cwd=course, env=environment_on_path(), capture_output=True, text=True,
                            timeout=1800)
    listener.close()
    assert result.returncode == 0, result.stdout + result.stderr
    require_bubblewrap(result.stdout + result.stderr)
    exported = run_nbgrader("export", "--to", "grades.csv", cwd=course)
    assert exported.returncode == 0, exported.stderr
    summary = {line["student"]: line for line in json.loads(summary_path.read_text())}
    return {"course": course, "summary": summary, "log": result.stdout + result.stderr, "hashes": hashes,
            "rows": rows, "received": listener.received}


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
    assert batch["summary"][student]["score"] == HONEST[student], batch["summary"][student]


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


def test_course_files_and_gradebook_change_only_by_the_grades(batch):
    course = batch["course"]
    assert tree_hashes(course) == batch["hashes"]
    assert protected_rows(course) == batch["rows"]
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("select count(*) from grade where manual_score is not null").fetchone()[0] == 0
        names = {row[0] for row in db.execute("select name from base_cell")}
    assert "bonus" not in names


def test_export_matches_the_summary(batch):
    with open(batch["course"] / "grades.csv", newline="") as stream:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(stream)}
    assert exported == {student: line["score"] for student, line in batch["summary"].items()}


class Rigged:
    def __eq__(self, other):
        return True


def test_replies_are_read_as_plain_data_only():
    import io
    import pickle

    import torch

    from dlcv.autograde import wire

    for hostile in (Rigged(), [1.0, Rigged()], {"value": Rigged()}):
        with pytest.raises(wire.WireError):
            wire.load_reply(pickle.dumps(hostile, protocol=2))
        buffer = io.BytesIO()
        torch.save(hostile, buffer)
        with pytest.raises(wire.WireError):
            wire.load_reply(buffer.getvalue())
    plain = wire.load_reply(wire.dump_reply({"value": [torch.ones(2), 3.5, (1, "a")]}))
    assert type(plain["value"][0]) is torch.Tensor and plain["value"][1:] == [3.5, (1, "a")]


@pytest.mark.parametrize("assignment", ["a2_losses"])
def test_same_grades_as_nbgrader_for_right_wrong_and_alternative_answers(assignment, tmp_path):
    """The course's batches of answers (tests/answer_variants.py) get nbgrader's grades, cell by cell."""
    from tests.helpers.assignment_checks import batch_for
    from tests.helpers.grading import grade_batch

    batch = batch_for(assignment)
    expected = grade_batch(assignment, batch, tmp_path / "nbgrader")
    course = tmp_path / "dlcv"
    shutil.copytree(tmp_path / "nbgrader" / "solutions", course / "solutions")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    shutil.copytree(tmp_path / "nbgrader" / "submitted", course / "submitted")
    assert run_nbgrader("generate_assignment", assignment, "--force", cwd=course).returncode == 0
    result = subprocess.run([sys.executable, "-m", "dlcv.autograde.cli", "autograde", assignment, "--jobs", "2",
                             "--summary", str(tmp_path / "summary.json"), "--no-feedback"],
                            cwd=course, env=environment_on_path(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    graded = {line["student"]: {name: tuple(grade) for name, grade in line["cells"].items()}
              for line in json.loads((tmp_path / "summary.json").read_text())}
    differences = {student: {name: (graded[student][name], grade) for name, grade in cells.items()
                             if graded[student][name] != grade}
                   for student, cells in expected.items()}
    assert not any(differences.values()), {s: d for s, d in differences.items() if d}


def test_without_bubblewrap_the_grader_warns_loudly_and_still_grades(tmp_path, monkeypatch, capsys):
    from dlcv.autograde import cli, sandbox

    real_which = shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    shutil.copytree(SOLUTIONS / ASSIGNMENT, tmp_path / "solutions" / ASSIGNMENT)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path)
    assert run_nbgrader("generate_assignment", ASSIGNMENT, "--force", cwd=tmp_path).returncode == 0
    release = nbformat.read(tmp_path / "assignments" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solutions = answer_sources(nbformat.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK, as_version=4))
    for student, replaced in {"honest": {}, "wrong_relu": {"relu": "def relu(x):\n    return x\n"}}.items():
        (tmp_path / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        nbformat.write(make_submission(release, solutions, replaced),
                       tmp_path / "submitted" / student / ASSIGNMENT / NOTEBOOK)
    monkeypatch.setenv("PATH", environment_on_path()["PATH"])
    cli.main(["autograde", ASSIGNMENT, "--course-dir", str(tmp_path), "--jobs", "2", "--no-feedback",
              "--summary", str(tmp_path / "summary.json")])
    assert "WARNING: the strongest isolation is unavailable" in capsys.readouterr().out
    scores = {line["student"]: line["score"] for line in json.loads((tmp_path / "summary.json").read_text())}
    assert scores == {"honest": 14, "wrong_relu": 10}
    with pytest.raises(SystemExit, match="bubblewrap"):
        cli.main(["autograde", ASSIGNMENT, "--course-dir", str(tmp_path), "--require-sandbox"])

