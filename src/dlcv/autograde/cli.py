"""``dlcv autograde <assignment>``: grade every submission, sandboxed and in parallel.

The batch: read the course through nbgrader's configuration (``config``), find the strongest
sandbox (``sandbox.probe``), read each submission (``plan``), run the judges side by side
(``runner``), and record each result as it arrives (``gradebook``): only this process writes
the gradebook and the graded notebooks, one submission at a time, so the grades do not depend
on ``--jobs``. nbgrader's own ``generate_feedback`` then makes the feedback pages and
``nbgrader export`` the CSV, as after ``nbgrader autograde``.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dlcv.autograde import gradebook, plan, sandbox
from dlcv.autograde.config import Course, load_course
from dlcv.autograde.protocol import Limits
from dlcv.autograde.runner import JudgeRunner, Outcome, make_scratch_root
from dlcv.autograde.submission import read_submission


def public_data_dir(source: plan.Source) -> Path | None:
    """The course's public data folder, read-only in the sandbox (MNIST decompressed first if used)."""
    from dlcv.data import default_data_dir, prepare_mnist

    data = default_data_dir()
    if "mnist" in json.dumps(source.nb).lower() and data.is_dir():
        prepare_mnist(data, download=False)
    return data if data.is_dir() else None


def check_in_gradebook(course: Course, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(course.db_url, course_id=course.course_id) as book:
        try:
            book.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"{assignment} is not in the gradebook: run "
                             f"`nbgrader generate_assignment {assignment}` first") from None


def grade_all(course: Course, assignment: str, limits: Limits, jobs: int, students: list[str] | None = None,
              require_sandbox: bool = False, log=print, scheduler: str | None = None) -> list[dict]:
    """Grade every submission of ``assignment`` (or only ``students``); return the summary, a line each.

    Here with ``jobs`` at once, or on the Dask cluster of ``scheduler``; either way this process
    alone records the results, one at a time, as they arrive.
    """
    source = plan.Source.load(course.source_folder(assignment), assignment)
    check_in_gradebook(course, assignment)
    data_dir = public_data_dir(source)
    names = [s for s in course.students_who_submitted(assignment) if not students or s in students]
    submissions = [read_submission(s, course.submitted_folder(s, assignment), source) for s in names]
    started, summary = time.monotonic(), []
    if scheduler:
        from dlcv.autograde.cluster import grade_on_cluster

        log(f"Grading {len(submissions)} submission(s) of {assignment} on a Dask cluster.")
        outcomes = grade_on_cluster(scheduler, source, limits, data_dir, submissions, log)
    else:
        outcomes = grade_here(source, limits, data_dir, jobs, submissions, require_sandbox, log)
    for submission, outcome in outcomes:
        line = needs_regrading(source, submission, outcome) if outcome.fault else record_or_report(
            course, source, submission, outcome)
        summary.append(line)
        problems = "; ".join(line["problems"])
        # repr(): a student's id or file name must not forge lines or colours in the console
        by_hand = f" ({len(line['pending'])} answer(s) to mark by hand)" if line.get("pending") else ""
        log(f"  {line['student']!r}: {line['score']:g} / {line['max_score']:g}{by_hand}"
            + (f"  [{problems!r}]" if problems else ""))
    log(f"Graded in {time.monotonic() - started:.1f} s.")
    return sorted(summary, key=lambda line: line["student"])


def grade_here(source: plan.Source, limits: Limits, data_dir: Path | None, jobs: int, submissions: list,
               require_sandbox: bool, log) -> Iterator[tuple]:
    """Grade on this machine, ``jobs`` submissions at once; yield each with its outcome as it is done."""
    scratch_root = make_scratch_root()
    try:
        confinement = sandbox.probe(scratch_root, jobs)
        if confinement.refusal:
            raise SystemExit(f"{confinement.refusal}\n{confinement.warning}")
        if confinement.warning:
            if require_sandbox:
                raise SystemExit(confinement.warning)
            log("\n" + "!" * 78 + f"\n{confinement.warning}\n" + "!" * 78 + "\n")
        else:
            log(f"Sandbox: {confinement.mechanism}.")
        runner = JudgeRunner(source, confinement, limits, data_dir, jobs, scratch_root)
        log(f"Grading {len(submissions)} submission(s) of {source.assignment} with {jobs} job(s).")
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            futures = {pool.submit(runner.grade, s): s for s in submissions}
            for future in concurrent.futures.as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001 - one broken run must not stop the batch
                    outcome = Outcome({}, fault=f"the grader failed on this submission ({type(error).__name__}: "
                                                f"{error}); please report it")
                yield futures[future], outcome
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)


def needs_regrading(source: plan.Source, submission, outcome: Outcome) -> dict:
    """A submission the machine kept from grading: nothing goes into the gradebook, and the summary says so."""
    problem = (f"NEEDS REGRADING: {outcome.fault} (tried {outcome.attempts} time(s)); nothing was recorded: "
               "grade this student again with --student")
    return {"student": submission.student, "score": 0, "max_score": gradebook.max_score(source), "cells": {},
            "problems": [*submission.problems, problem], "unjudged": {}, "recorded": False,
            "needs_regrading": outcome.fault}


def record_or_report(course: Course, source: plan.Source, submission, outcome: Outcome) -> dict:
    """Record one submission; if that fails (a full disk, a gradebook gone), say so and go on with the next."""
    try:
        line = gradebook.record(course, source, submission, outcome.results, outcome.missing)
        if outcome.attempts > 1:
            line["problems"].append("the machine interrupted the first grading run; this is the second")
        return line
    except Exception as error:  # noqa: BLE001 - the others must still be graded and recorded
        problem = (f"NOT RECORDED: the grades could not be written ({type(error).__name__}: {error}); "
                   "fix the cause and grade this student again with --student")
        return {"student": submission.student, "score": 0, "max_score": gradebook.max_score(source), "cells": {},
                "problems": [*submission.problems, problem], "unjudged": {}, "recorded": False}


def generate_feedback(course: Course, assignment: str) -> None:
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment, "--force"],
                            cwd=course.root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader generate_feedback failed:\n{result.stdout}\n{result.stderr}")


def add_command(commands) -> None:
    """``dlcv autograde``: its options, and ``run`` as what it does."""
    grade = commands.add_parser("autograde", help="grade every submission of an assignment, sandboxed and in parallel")
    defaults = Limits()
    grade.add_argument("assignment")
    grade.add_argument("--course-dir", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--cell-timeout", type=float, help="seconds per cell (default: nbgrader's Execute.timeout "
                                                          f"if configured, else {defaults.cell_timeout:g})")
    grade.add_argument("--notebook-timeout", type=float, default=defaults.notebook_timeout, help="seconds per notebook")
    grade.add_argument("--memory-mb", type=int, default=defaults.memory_mb,
                       help="address space of the student's process")
    grade.add_argument("--max-processes", type=int, default=defaults.processes, help="processes and threads")
    grade.add_argument("--max-output-chars", type=int, default=defaults.output_chars, help="output kept per cell")
    grade.add_argument("--tmp-mb", type=int, default=defaults.tmp_mb,
                       help="size of the sandbox's /tmp and of its home folder, each (memory)")
    grade.add_argument("--judge-memory-mb", type=int, default=defaults.judge_memory_mb,
                       help="address space of the trusted judge")
    grade.add_argument("--summary", type=Path, help="also write the summary as JSON to this file")
    grade.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    grade.add_argument("--require-sandbox", action="store_true", help="stop if bubblewrap is unavailable")
    grade.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on this Dask cluster (e.g. tcp://10.0.0.5:8786); the course folder must be at "
                            "the same path on every worker")
    grade.set_defaults(run=run)


def run(arguments) -> None:
    course = load_course(arguments.course_dir.resolve())
    limits = Limits(cell_timeout=arguments.cell_timeout or course.cell_timeout or Limits.cell_timeout,
                    notebook_timeout=arguments.notebook_timeout, memory_mb=arguments.memory_mb,
                    processes=arguments.max_processes, output_chars=arguments.max_output_chars,
                    tmp_mb=arguments.tmp_mb, judge_memory_mb=arguments.judge_memory_mb)
    summary = grade_all(course, arguments.assignment, limits, max(1, arguments.jobs), arguments.student,
                        arguments.require_sandbox, scheduler=arguments.scheduler)
    if arguments.summary:
        arguments.summary.write_text(json.dumps(summary, indent=1))
    if not arguments.no_feedback:
        generate_feedback(course, arguments.assignment)
        print(f"Feedback in {course.root / 'feedback'}; export the grades with `nbgrader export`.")


def main(argv: list[str] | None = None) -> None:
    """``python -m dlcv.autograde.cli``: the same as the ``dlcv`` command."""
    from dlcv.cli import main as dlcv_main

    dlcv_main(argv)


if __name__ == "__main__":
    main()
