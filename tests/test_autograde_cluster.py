"""``dlcv autograde --scheduler``: grading on a real Dask cluster (a scheduler and two workers, started
with Dask's own command-line tools), with the grades of ``--jobs 1``; a worker killed in mid-batch loses nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from tests.helpers.dask_cluster import DASK, is_grading, local_cluster
from tests.helpers.grading import answer_sources, make_course, marks_without, source_notebook

ASSIGNMENT = "a1_single_layer"
BATCH = {
    "solution": {},
    "wrong_relu": {"relu": "def relu(x):\n    return x\n"},
    "crashes": {"relu": "import ctypes\ndef relu(x):\n    ctypes.string_at(0)\n"},
    "loops": {"relu": "def relu(x):\n    while True:\n        pass\n"},
}


@pytest.fixture
def cluster(tmp_path):
    """A Dask scheduler and two single-thread workers on loopback, stopped afterwards whatever happens."""
    if not DASK.exists():
        message = "the dask command is missing: pip install distributed (requirements.txt installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with local_cluster(tmp_path / "dask", workers=2) as cluster:
        yield cluster


def cells(summary: dict) -> dict:
    return {student: {name: tuple(grade) for name, grade in line["cells"].items()} for student, line in summary.items()}


def test_the_cluster_gives_the_grades_of_one_job_cell_by_cell(cluster, tmp_path):
    courses = {}
    for where in ("here", "cluster"):
        courses[where] = make_course(tmp_path / where, ASSIGNMENT)
        for student, answers in BATCH.items():
            courses[where].submit(student, answers)
    here, _ = courses["here"].dlcv_autograde("--no-feedback", "--cell-timeout", "10", jobs=1)
    there, log = courses["cluster"].dlcv_autograde("--no-feedback", "--cell-timeout", "10",
                                                   "--scheduler", cluster["address"])
    assert "2 worker(s)" in log
    assert cells(there) == cells(here)
    assert there["solution"]["score"] == marks_without(ASSIGNMENT) > there["wrong_relu"]["score"] > 0
    assert there["crashes"]["score"] == there["loops"]["score"] == here["loops"]["score"]
    autograded = courses["cluster"].root / "autograded"
    assert sorted(p.name for p in autograded.iterdir()) == sorted(BATCH), "the starting process recorded them all"


def test_a_worker_killed_in_mid_batch_loses_nothing(cluster, tmp_path):
    course = make_course(tmp_path / "course", ASSIGNMENT)
    slow = "import time\ntime.sleep(10)\n" + answer_sources(source_notebook(ASSIGNMENT))["linear"]
    students = [f"student{number}" for number in range(4)]
    for student in students:
        course.submit(student, {"linear": slow})

    def kill_a_worker_once_it_grades():
        # Watched, not timed: on a loaded machine a fixed delay can fall before or after the submission.
        worker, deadline = cluster["workers"]["w1"], time.monotonic() + 300
        while not is_grading(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        worker.send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker_once_it_grades)
    killer.start()
    try:
        summary, _ = course.dlcv_autograde("--no-feedback", "--scheduler", cluster["address"])
    finally:
        killer.join()
    assert cluster["workers"]["w1"].poll() is not None, "the worker was killed"
    assert all(summary[s]["score"] == marks_without(ASSIGNMENT) and summary[s]["recorded"] for s in students), summary
    regraded = [s for s in students if any("worker of the cluster was lost" in p for p in summary[s]["problems"])]
    assert regraded, "the summary says which submission was graded again"
