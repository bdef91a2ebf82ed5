"""``dlcv autograde <assignment>``: grade every submission, sandboxed and in parallel.

Each submission gets a trusted judge process and a sandboxed student process (see
``judge`` and ``sandbox``). The judges run side by side; only this process writes the
gradebook, the graded notebooks and the summary, one submission at a time, so the
grades do not depend on ``--jobs``. nbgrader's own ``generate_feedback`` then makes the
feedback pages and ``nbgrader export`` the CSV, as after ``nbgrader autograde``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import nbformat

from dlcv.autograde import plan, sandbox

NOTEBOOK_TIME_LIMIT = "not run: the whole notebook ran past its time limit of {:g} s"


def course_settings(course: Path) -> dict:
    """The nbgrader folders and gradebook this course uses (its nbgrader_config.py, else defaults)."""
    from traitlets.config.loader import PyFileConfigLoader

    settings = {"source": "source", "submitted": "submitted", "autograded": "autograded",
                "db_url": f"sqlite:///{course / 'gradebook.db'}"}
    if (course / "nbgrader_config.py").is_file():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        directories = config.get("CourseDirectory", {})
        for key, name in (("source", "source_directory"), ("submitted", "submitted_directory"),
                          ("autograded", "autograded_directory"), ("db_url", "db_url")):
            if name in directories:
                settings[key] = directories[name]
        if "timeout" in config.get("Execute", {}):
            settings["cell_timeout"] = float(config.Execute.timeout)
    return settings


def redact(outputs: list[dict], hidden_lines: set[str]) -> list[dict]:
    def clean(text: str) -> str:
        for line in hidden_lines:
            if line in text:
                text = text.replace(line, "[hidden test]")
        return text

    cleaned = []
    for output in outputs:
        output = dict(output)
        for key in ("text", "evalue"):
            if isinstance(output.get(key), str):
                output[key] = clean(output[key])
        if isinstance(output.get("traceback"), list):
            output["traceback"] = [clean(str(line)) for line in output["traceback"]]
        cleaned.append(output)
    return cleaned


class Grader:
    def __init__(self, course: Path, assignment: str, limits: sandbox.Limits, jobs: int, log=print):
        self.course, self.assignment, self.limits, self.jobs, self.log = course, assignment, limits, jobs, log
        self.settings = course_settings(course)
        self.source = plan.Source.load(course, self.settings["source"], assignment)
        self.hidden_lines = self.source.hidden_lines()
        self.scratch_root = Path(tempfile.mkdtemp(prefix="dlcv-autograde-"))
        os.chmod(self.scratch_root, 0o755)
        self.box = sandbox.probe(self.scratch_root)
        self.data_dir = self.prepare_data()
        self.slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            self.slots.put(slot)
        self.threads = max(1, (os.cpu_count() or 1) // jobs)

    def prepare_data(self) -> Path | None:
        """The course's public data folder, read-only in the sandbox (MNIST decompressed first if used)."""
        from dlcv.data import default_data_dir, prepare_mnist

        data = default_data_dir()
        if "mnist" in json.dumps(self.source.nb).lower() and data.is_dir():
            prepare_mnist(data, download=False)
        return data if data.is_dir() else None

    def submissions(self, students: list[str] | None) -> list[plan.Submission]:
        submitted = self.course / self.settings["submitted"]
        folders = sorted(p / self.assignment for p in submitted.iterdir() if p.is_dir()) if submitted.is_dir() else []
        folders = [f for f in folders if f.exists() and (not students or f.parent.name in students)]
        return [plan.read_submission(folder, self.source) for folder in folders]

    def grade_one(self, submission: plan.Submission) -> dict[int, dict]:
        """Run one submission's judge and sandbox; return the outputs of each code cell by index."""
        if not submission.graded:
            return {}
        slot = self.slots.get()
        scratch = self.scratch_root / f"{submission.student}-{slot}"
        try:
            shutil.copytree(self.source.path.parent, scratch,
                            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
            self.box.prepare_scratch(slot, scratch)
            job = {
                "cells": self.source.cells_to_run(submission.answers),
                "command": self.box.command(slot, scratch, self.limits, self.data_dir),
                "env": sandbox.environment(self.threads, self.data_dir, self.box.home(scratch)),
                "cwd": None if self.box.use_bwrap else str(scratch),
                "limits": {"cell_timeout": self.limits.cell_timeout, "output_chars": self.limits.output_chars,
                           "reply_bytes": self.limits.reply_mb * 2**20},
            }
            return self.run_judge(job)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self.slots.put(slot)

    def run_judge(self, job: dict) -> dict[int, dict]:
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        judge = subprocess.Popen([sys.executable, "-m", "dlcv.autograde.judge"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                                 start_new_session=True)
        timer = threading.Timer(self.limits.notebook_timeout, self.stop, [judge])
        timer.start()
        results: dict[int, dict] = {}
        try:
            judge.stdin.write(json.dumps(job))
            judge.stdin.close()
            for line in judge.stdout:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if "index" in record:
                        results[record["index"]] = record
            judge.wait()
        finally:
            timer.cancel()
            self.stop(judge)
        return results

    @staticmethod
    def stop(judge: subprocess.Popen) -> None:
        if judge.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(judge.pid, signal.SIGTERM)
            try:
                judge.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(judge.pid, signal.SIGKILL)

    def record(self, submission: plan.Submission, results: dict[int, dict]) -> dict:
        """Write the graded notebook and the gradebook entries; return the summary of this student."""
        from nbgrader.api import Gradebook
        from nbgrader.utils import determine_grade

        notes = list(submission.problems)
        sandbox_cells = sorted({r.get("index") for r in results.values() if r.get("mode") == "sandbox"
                                and r.get("why")})
        for index, result in results.items():
            result["outputs"] = redact(result.get("outputs", []), self.hidden_lines)
        nb = plan.graded_notebook(self.source, submission, results, notes)
        offset = 1 if notes else 0
        scores: dict[str, tuple[float, float]] = {}
        for index, cell in enumerate(self.source.nb.cells):
            if not plan.is_test(cell):
                continue
            graded_cell = nb.cells[index + offset]
            if not submission.graded:
                graded_cell.outputs = [nbformat.v4.new_output("error", ename="NotGraded", evalue=notes[-1],
                                                              traceback=[f"Not graded: {notes[-1]}"])]
            elif index not in results:
                reason = NOTEBOOK_TIME_LIMIT.format(self.limits.notebook_timeout)
                graded_cell.outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue=reason,
                                                              traceback=[reason])]
            score, maximum = determine_grade(graded_cell)
            scores[plan.nbgrader_meta(cell)["grade_id"]] = (float(score or 0), maximum)
        folder = self.course / self.settings["autograded"] / submission.student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{self.source.notebook}.ipynb")

        timestamp = None
        submitted = self.course / self.settings["submitted"] / submission.student / self.assignment
        with contextlib.suppress(Exception):
            from nbgrader.utils import parse_utc
            timestamp = parse_utc((submitted / "timestamp.txt").read_text().strip())
        with Gradebook(self.settings["db_url"]) as gradebook, warnings.catch_warnings():
            # nbgrader's own API warns about its SQLAlchemy session here, as during `nbgrader autograde`
            warnings.filterwarnings("ignore", message=".*not in session.*")
            gradebook.update_or_create_student(submission.student)
            if timestamp:
                gradebook.update_or_create_submission(self.assignment, submission.student, timestamp=timestamp)
            else:
                gradebook.update_or_create_submission(self.assignment, submission.student)
            for grade_id, (score, _) in scores.items():
                grade = gradebook.find_grade(grade_id, self.source.notebook, self.assignment, submission.student)
                grade.auto_score = score
                grade.needs_manual_grade = grade.manual_score is not None
            gradebook.db.commit()
        return {"student": submission.student, "score": sum(s for s, _ in scores.values()),
                "max_score": sum(m for _, m in scores.values()), "cells": scores, "problems": notes,
                "judged_in_sandbox": [plan.nbgrader_meta(self.source.nb.cells[i]).get("grade_id") for i in sandbox_cells]}

    def run(self, students: list[str] | None = None) -> list[dict]:
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.settings["db_url"]) as gradebook:
            try:
                gradebook.find_assignment(self.assignment)
            except MissingEntry:
                raise SystemExit(f"{self.assignment} is not in the gradebook: run "
                                 f"`nbgrader generate_assignment {self.assignment}` first") from None
        if self.box.warning:
            self.log("\n" + "!" * 78 + f"\n{self.box.warning}\n" + "!" * 78 + "\n")
        else:
            self.log(f"Sandbox: {self.box.mechanism}.")
        submissions = self.submissions(students)
        self.log(f"Grading {len(submissions)} submission(s) of {self.assignment} with {self.jobs} job(s).")
        summary = []
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(self.jobs) as pool:
            futures = {pool.submit(self.grade_one, s): s for s in submissions}
            for future in concurrent.futures.as_completed(futures):
                submission = futures[future]
                try:
                    results = future.result()
                except Exception as error:  # noqa: BLE001 - one broken run must not stop the batch
                    submission.problems.append(f"the grader failed on this submission ({error}); please report it")
                    submission.graded = False
                    results = {}
                line = self.record(submission, results)
                summary.append(line)
                problems = "; ".join(line["problems"])
                self.log(f"  {line['student']}: {line['score']:g} / {line['max_score']:g}"
                         + (f"  [{problems}]" if problems else ""))
        shutil.rmtree(self.scratch_root, ignore_errors=True)
        self.log(f"Graded in {time.monotonic() - started:.1f} s.")
        return sorted(summary, key=lambda line: line["student"])


def generate_feedback(course: Path, assignment: str) -> None:
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", assignment, "--force"],
                            cwd=course, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader generate_feedback failed:\n{result.stdout}\n{result.stderr}")


def add_command(commands) -> None:
    """``dlcv autograde``: its options, and ``run`` as what it does."""
    grade = commands.add_parser("autograde", help="grade every submission of an assignment, sandboxed and in parallel")
    defaults = sandbox.Limits()
    grade.add_argument("assignment")
    grade.add_argument("--course-dir", type=Path, default=Path.cwd(), help="the course folder (default: here)")
    grade.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--cell-timeout", type=float,
                       help=f"seconds per cell (default: Execute.timeout of nbgrader_config.py, else {defaults.cell_timeout:g})")
    grade.add_argument("--notebook-timeout", type=float, default=defaults.notebook_timeout, help="seconds per notebook")
    grade.add_argument("--memory-mb", type=int, default=defaults.memory_mb, help="address space of the student's process")
    grade.add_argument("--max-processes", type=int, default=defaults.processes, help="processes and threads")
    grade.add_argument("--max-output-chars", type=int, default=defaults.output_chars, help="output kept per cell")
    grade.add_argument("--summary", type=Path, help="also write the summary as JSON to this file")
    grade.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    grade.add_argument("--require-sandbox", action="store_true", help="stop if bubblewrap is unavailable")
    grade.set_defaults(run=run)


def run(arguments) -> None:
    defaults = sandbox.Limits()
    course = arguments.course_dir.resolve()
    cell_timeout = arguments.cell_timeout or course_settings(course).get("cell_timeout", defaults.cell_timeout)
    limits = sandbox.Limits(cell_timeout=cell_timeout, notebook_timeout=arguments.notebook_timeout,
                            memory_mb=arguments.memory_mb, processes=arguments.max_processes,
                            output_chars=arguments.max_output_chars)
    grader = Grader(course, arguments.assignment, limits, max(1, arguments.jobs))
    if arguments.require_sandbox and grader.box.warning:
        raise SystemExit(grader.box.warning)
    summary = grader.run(arguments.student)
    if arguments.summary:
        arguments.summary.write_text(json.dumps(summary, indent=1))
    if not arguments.no_feedback:
        generate_feedback(course, arguments.assignment)
        print(f"Feedback in {course / 'feedback'}; export the grades with `nbgrader export`.")


def main(argv: list[str] | None = None) -> None:
    """``python -m dlcv.autograde.cli``: the same as the ``dlcv`` command."""
    from dlcv.cli import main as dlcv_main

    dlcv_main(argv)


if __name__ == "__main__":
    main()
