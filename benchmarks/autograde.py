"""Benchmark: ``dlcv autograde`` one submission at a time, then on every core.

Grades N copies of honest submissions (the solution, and the solution with one wrong
answer) of an assignment twice, in two throw-away course folders: with ``--jobs 1`` and
with ``--jobs <cores>``. Prints both times and the speed-up, and fails if any grade differs.

    python -m benchmarks.autograde            # a1_single_layer, 8 submissions
    python -m benchmarks.autograde --copies 16 --assignment a2_losses
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
from tests.helpers.grading import answer_sources, make_course, source_notebook


def make_batch(folder: Path, assignment: str, copies: int) -> None:
    """A course of ``copies`` honest submissions; every other one answers its first function wrongly."""
    course = make_course(folder, assignment)
    first = next(iter(answer_sources(source_notebook(assignment))))
    for number in range(copies):
        wrong = {first: f"def {first}(*args, **kwargs):\n    return None\n"} if number % 2 else {}
        course.submit(f"student{number:03d}", wrong)


def grade(folder: Path, assignment: str, jobs: int) -> tuple[float, dict]:
    summary = folder / "summary.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dlcv.cli", "autograde", assignment, "--jobs",
                             str(jobs), "--summary", str(summary), "--no-feedback"],
                            cwd=folder, env=environment_on_path(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # Busy cores well below --jobs means the machine was shared: the speed-up is then no measure.
    print(f"--jobs {jobs}: {elapsed:.1f} s, {cpu:.1f} CPU s, {cpu / elapsed:.2f} cores busy on average, "
          f"load average {os.getloadavg()[0]:.2f}")
    if result.returncode:
        raise SystemExit(result.stdout + result.stderr)
    return elapsed, {line["student"]: line["cells"] for line in json.loads(summary.read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a1_single_layer")
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
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


if __name__ == "__main__":
    main()
