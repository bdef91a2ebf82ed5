"""Benchmark: ``dlcv autograde`` one submission at a time, then on every core.

Grades N copies of honest submissions (the solution, and the solution with one wrong
answer) of an assignment twice, in two throw-away course folders: with ``--jobs 1`` and
with ``--jobs <cores>``. Prints both times and the speed-up, and fails if any grade differs.
With ``--cluster 1 2 4`` it also grades them on a Dask cluster of 1, 2 and 4 single-thread
workers on this machine (a scheduler and workers started with Dask's command-line tools) and
prints each throughput, failing if any grade differs from ``--jobs 1``.

    python -m benchmarks.autograde            # a1_single_layer, 8 submissions
    python -m benchmarks.autograde --copies 16 --assignment a2_losses
    python -m benchmarks.autograde --cluster 1 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers.course import environment_on_path
from tests.helpers.dask_cluster import local_cluster
from tests.helpers.grading import answer_sources, make_course, source_notebook


def make_batch(folder: Path, assignment: str, copies: int) -> None:
    """A course of ``copies`` honest submissions; every other one answers its first function wrongly."""
    course = make_course(folder, assignment)
    first = next(iter(answer_sources(source_notebook(assignment))))
    for number in range(copies):
        wrong = {first: f"def {first}(*args, **kwargs):\n    return None\n"} if number % 2 else {}
        course.submit(f"student{number:03d}", wrong)


def grade(folder: Path, assignment: str, jobs: int, scheduler: str | None = None) -> tuple[float, dict]:
    summary = folder / "summary.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    where = ["--scheduler", scheduler] if scheduler else []
    result = subprocess.run([sys.executable, "-m", "dlcv.cli", "autograde", assignment, "--jobs",
                             str(jobs), "--summary", str(summary), "--no-feedback", *where],
                            cwd=folder, env=environment_on_path(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # Busy cores well below --jobs means the machine was shared: the speed-up is then no measure.
    print(f"{scheduler and 'cluster' or f'--jobs {jobs}'}: {elapsed:.1f} s, {cpu:.1f} CPU s (of this process's "
          f"children; a cluster's workers are not counted), {cpu / elapsed:.2f} cores busy on average, "
          f"load average {os.getloadavg()[0]:.2f}")
    if result.returncode:
        raise SystemExit(result.stdout + result.stderr)
    return elapsed, {line["student"]: line["cells"] for line in json.loads(summary.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a1_single_layer")
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cluster", type=int, nargs="*", default=[], metavar="WORKERS",
                        help="also grade on a local Dask cluster of this many single-thread workers (each given)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        serial_course, parallel_course = Path(scratch, "serial"), Path(scratch, "parallel")
        for folder in (serial_course, parallel_course):
            make_batch(folder, arguments.assignment, arguments.copies)
        serial_time, serial = grade(serial_course, arguments.assignment, 1)
        parallel_time, parallel = grade(parallel_course, arguments.assignment, arguments.jobs)
    print(f"{arguments.copies} submissions of {arguments.assignment}")
    print(f"serial   (--jobs 1):  {serial_time:7.1f} s")
    print(f"parallel (--jobs {arguments.jobs}): {parallel_time:7.1f} s")
    print(f"speed-up: {serial_time / parallel_time:.2f}x on {os.cpu_count()} cores")
    assert serial == parallel, "the parallel grades differ from the serial ones"
    print("grades: identical")
    for workers in arguments.cluster:
        with tempfile.TemporaryDirectory() as scratch:
            make_batch(Path(scratch, "course"), arguments.assignment, arguments.copies)
            with local_cluster(Path(scratch, "dask"), workers) as cluster:
                elapsed, grades = grade(Path(scratch, "course"), arguments.assignment, 1, cluster["address"])
        print(f"cluster of {workers} worker(s): {elapsed:7.1f} s, {arguments.copies / elapsed * 60:.1f} submissions "
              "a minute")
        assert grades == serial, f"the grades on {workers} worker(s) differ from --jobs 1"


if __name__ == "__main__":
    main()
