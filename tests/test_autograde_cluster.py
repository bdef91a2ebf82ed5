"""``dlcv autograde --scheduler``: grading on a real Dask cluster (a scheduler and two workers, started
with Dask's own command-line tools), with the grades of ``--jobs 1``; a worker killed in mid-batch loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers.course import environment_on_path
from tests.helpers.grading import answer_sources, make_course, marks_without, source_notebook

ASSIGNMENT = "a1_single_layer"
DASK = Path(sys.executable).with_name("dask")
BATCH = {
    "solution": {},
    "wrong_relu": {"relu": "def relu(x):\n    return x\n"},
    "crashes": {"relu": "import ctypes\ndef relu(x):\n    ctypes.string_at(0)\n"},
    "loops": {"relu": "def relu(x):\n    while True:\n        pass\n"},
}


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=environment_on_path(),
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def cluster(tmp_path):
    """A Dask scheduler and two single-thread workers on loopback, stopped afterwards whatever happens."""
    if not DASK.exists():
        message = "the dask command is missing: pip install distributed (requirements.txt installs it)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    scheduler_file = tmp_path / "scheduler.json"
    processes = [start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(scheduler_file)], tmp_path / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        workers = {}
        for name in ("w1", "w2"):
            workers[name] = start([str(DASK), "worker", address, "--name", name, "--nthreads", "1", "--nworkers", "1",
                                   "--no-nanny", "--no-dashboard", "--memory-limit", "0",
                                   "--local-directory", str(tmp_path / name)], tmp_path / f"{name}.log")
            processes.append(workers[name])
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield {"address": address, "workers": workers}
    finally:
        for process in reversed(processes):
            stop(process)


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

    def kill_a_worker_once_both_are_busy():
        time.sleep(12)  # both workers are then in their first submission's sleep
        cluster["workers"]["w1"].send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker_once_both_are_busy)
    killer.start()
    try:
        summary, _ = course.dlcv_autograde("--no-feedback", "--scheduler", cluster["address"])
    finally:
        killer.join()
    assert cluster["workers"]["w1"].poll() is not None, "the worker was killed"
    assert all(summary[s]["score"] == marks_without(ASSIGNMENT) and summary[s]["recorded"] for s in students), summary
    regraded = [s for s in students if any("worker of the cluster was lost" in p for p in summary[s]["problems"])]
    assert regraded, "the summary says which submission was graded again"
