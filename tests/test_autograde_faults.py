"""Faults of the machine are not the student's: a run killed from outside is graded again, once.

The test plays the machine: it SIGKILLs the student's process from outside while an honest
submission runs (as the system's out-of-memory killer would). Killed once, the submission is
graded again and keeps full marks, with a note; killed every time, it is marked as needing
regrading and nothing of it enters the gradebook. Honest bystanders in the same batch are graded
as usual.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.course import environment_on_path
from tests.helpers.grading import answer_sources, make_course, marks_without, source_notebook

ASSIGNMENT = "a1_single_layer"


RUN = f"DLCV_FAULTS_TEST={os.getpid()}".encode()  # marks this test's grading runs, and no other test's


def started_by_this_test(pid: int) -> bool:
    """Whether an ancestor of ``pid`` (its judge) carries this test's mark: other tests grade at the same time."""
    for _ in range(8):
        try:
            if RUN in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                return True
            pid = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid <= 1:
            return False
    return False


def student_processes() -> list[int]:
    """The pids of this test's students' Python processes (not their bubblewrap launchers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dlcv.autograde.worker" in argv and b"bwrap" not in argv[0] and b"prlimit" not in argv[0] \
                and b"setpriv" not in argv[0] and started_by_this_test(int(entry.name)):
            found.append(int(entry.name))
    return found


class Machine(threading.Thread):
    """Kills a student's process from outside in ``times`` grading runs, once it has run ``after`` seconds.

    One kill per run: after a kill it waits until the run's processes are gone (each submission's
    run has two, one for the hidden tests).
    """

    def __init__(self, times: int, after: float = 2.0):
        super().__init__(daemon=True)
        self.times, self.after, self.killed, self.stop = times, after, 0, threading.Event()

    def run(self):
        first_seen: dict[int, float] = {}
        waiting_for_the_run_to_end = False
        while not self.stop.is_set() and self.killed < self.times:
            now, running = time.monotonic(), student_processes()
            if waiting_for_the_run_to_end:
                waiting_for_the_run_to_end = bool(running)
                first_seen.clear()
            for pid in [] if waiting_for_the_run_to_end else running:
                if now - first_seen.setdefault(pid, now) > self.after:
                    os.kill(pid, signal.SIGKILL)
                    self.killed += 1
                    waiting_for_the_run_to_end = True
                    break
            time.sleep(0.1)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("faults"), ASSIGNMENT)
    slow = "import time\ntime.sleep(8)  # time for the machine to strike\n" + answer_sources(
        source_notebook(ASSIGNMENT))["linear"]
    course.submit("a_killed_once", {"linear": slow})
    course.submit("b_bystander", {})
    course.submit("c_killed_every_time", {"linear": slow})
    return course


def grade(course, students: list[str], kills: int) -> tuple[dict, int]:
    machine = Machine(kills)
    machine.start()
    try:
        options = [item for student in students for item in ("--student", student)]
        env = {**environment_on_path(), RUN.decode().split("=")[0]: RUN.decode().split("=")[1]}
        summary, _ = course.dlcv_autograde(*options, "--no-feedback", jobs=1, env=env)
    finally:
        machine.stop.set()
        machine.join()
    return summary, machine.killed


def test_a_run_killed_once_is_graded_again_and_keeps_its_marks(course):
    summary, killed = grade(course, ["a_killed_once", "b_bystander"], kills=1)
    assert killed == 1
    for student in ("a_killed_once", "b_bystander"):
        assert summary[student]["score"] == marks_without(ASSIGNMENT), summary[student]
        assert summary[student]["recorded"] is True
    assert any("interrupted the first grading run" in p for p in summary["a_killed_once"]["problems"])
    assert course.gradebook_grades()["a_killed_once"]["linear_visible"] == (1.0, 1.0)


def test_a_run_killed_every_time_needs_regrading_and_is_not_recorded(course):
    summary, killed = grade(course, ["c_killed_every_time"], kills=2)
    assert killed == 2
    line = summary["c_killed_every_time"]
    assert line["recorded"] is False and "SIGKILL" in line["needs_regrading"], line
    assert any(p.startswith("NEEDS REGRADING") for p in line["problems"])
    assert "c_killed_every_time" not in course.gradebook_grades()
