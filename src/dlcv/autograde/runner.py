"""Running judges: one process per submission, in a sandbox slot, under the notebook's time limit.

``JudgeRunner.grade`` is called from several threads at once (``--jobs``). Each call takes a
slot (slots give parallel submissions different user ids), makes the submission a scratch
folder (its home in the sandbox) and a log folder the sandbox cannot see, runs the judge
(``judge.py``) with a ``protocol.Job``, and removes both folders whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from dlcv.autograde.plan import Source, Submission
from dlcv.autograde.protocol import CellResult, Job, Limits
from dlcv.autograde.sandbox import Confinement, environment

# Never copied into a submission's scratch folder: notebooks (the source's holds the solutions)
# and byte code that the instructor's tools may have left beside them.
NOT_COPIED = shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "*.pyc")


class JudgeRunner:
    def __init__(self, source: Source, confinement: Confinement, limits: Limits, data_dir: Path | None,
                 jobs: int, scratch_root: Path):
        self.source, self.confinement, self.limits = source, confinement, limits
        self.data_dir, self.scratch_root = data_dir, scratch_root
        self.slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            self.slots.put(slot)
        self.threads = max(1, (os.cpu_count() or 1) // jobs)  # share the cores between parallel judges

    def grade(self, submission: Submission) -> dict[int, CellResult]:
        """Run one submission's judge and sandbox; return each code cell's result by its index."""
        if not submission.graded:
            return {}
        slot = self.slots.get()
        # Named by slot, never by the student's id: a folder name is no place for what a student chose.
        scratch, logs = self.scratch_root / f"slot{slot}", self.scratch_root / f"slot{slot}-logs"
        try:
            shutil.copytree(self.source.path.parent, scratch, ignore=NOT_COPIED)
            logs.mkdir(mode=0o700)
            self.confinement.prepare_scratch(slot, scratch)
            job = Job(
                cells=self.source.cells_to_run(submission.answers),
                command=self.confinement.command(slot, scratch, self.limits, self.data_dir),
                env=environment(self.threads, self.data_dir, self.confinement.home(scratch)),
                cwd=None if self.confinement.use_bwrap else str(scratch),
                limits=self.limits,
                logs=str(logs),
            )
            return self.run_judge(job)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            shutil.rmtree(logs, ignore_errors=True)
            self.slots.put(slot)

    def run_judge(self, job: Job) -> dict[int, CellResult]:
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        judge = subprocess.Popen([sys.executable, "-m", "dlcv.autograde.judge"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                                 start_new_session=True)
        timer = threading.Timer(self.limits.notebook_timeout, stop, [judge])
        timer.start()
        results: dict[int, CellResult] = {}
        try:
            judge.stdin.write(job.to_json())
            judge.stdin.close()
            for line in judge.stdout:
                with contextlib.suppress(ValueError):
                    result = CellResult.from_json(line)
                    results[result.index] = result
            judge.wait()
        finally:
            timer.cancel()
            stop(judge)
        return results


def stop(judge: subprocess.Popen) -> None:
    """End a judge and everything it started (its process group): politely, then for sure."""
    if judge.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(judge.pid, signal.SIGTERM)
        try:
            judge.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(judge.pid, signal.SIGKILL)
            judge.wait()
