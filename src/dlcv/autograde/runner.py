"""Running judges: one process per submission, in a sandbox slot, under the notebook's time limit.

``JudgeRunner.grade`` is called from several threads at once (``--jobs``). Each call takes a
slot (slots give parallel submissions different user ids, and the hidden tests' process of a
submission another), makes each student process a scratch folder (its home in the sandbox) and
the judge a log folder the sandbox cannot see, runs the judge (``judge.py``) with a
``protocol.Job``, and removes them all whatever happens. A run that the machine broke (see
``protocol.JudgeEnd``) is run once more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from dlcv.autograde.plan import Source, Submission
from dlcv.autograde.protocol import CellResult, Job, JudgeEnd, Limits, StudentSpec
from dlcv.autograde.sandbox import HIDDEN_SLOTS, Confinement, environment

# Never copied into a submission's scratch folder: notebooks (the source's holds the solutions)
# and byte code that the instructor's tools may have left beside them.
NOT_COPIED = shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__", "*.pyc")


NOT_RUN = "not run: the whole notebook ran past its time limit of {:g} s"


@dataclasses.dataclass
class Outcome:
    """What became of one submission's grading run."""

    results: dict[int, CellResult]
    missing: str = ""  # why cells without a result did not run (the notebook's time limit)
    fault: str | None = None  # the machine's fault, not the student's: a judge that failed, a SIGKILL from outside
    attempts: int = 1


class JudgeRunner:
    def __init__(self, source: Source, confinement: Confinement, limits: Limits, data_dir: Path | None,
                 jobs: int, scratch_root: Path):
        self.source, self.confinement, self.limits = source, confinement, limits
        self.data_dir, self.scratch_root = data_dir, scratch_root
        self.slots: queue.Queue[int] = queue.Queue()
        for slot in range(jobs):
            self.slots.put(slot)
        self.threads = max(1, (os.cpu_count() or 1) // jobs)  # share the cores between parallel judges

    def grade(self, submission: Submission) -> Outcome:
        """Grade one submission; a run that the machine broke is run once more before it is given up."""
        if not submission.graded:
            return Outcome({})
        outcome = self.attempt(submission)
        if outcome.fault:
            outcome = self.attempt(submission)
            outcome.attempts = 2
        return outcome

    def attempt(self, submission: Submission) -> Outcome:
        """Run one submission's judge and its two student processes in a free slot, and clean up after them."""
        slot = self.slots.get()
        # Named by slot, never by the student's id: a folder name is no place for what a student chose.
        visible, hidden = self.scratch_root / f"slot{slot}", self.scratch_root / f"slot{slot}-hidden"
        logs = self.scratch_root / f"slot{slot}-logs"
        try:
            logs.mkdir(mode=0o700)
            job = Job(cells=self.source.cells_to_run(submission.answers),
                      visible=self.student_spec(slot, visible), hidden=self.student_spec(slot + HIDDEN_SLOTS, hidden),
                      limits=self.limits, logs=str(logs))
            return self.run_judge(job)
        finally:
            for used in (slot, slot + HIDDEN_SLOTS):
                self.confinement.end_slot(used)  # whatever the submission left running there
            for folder in (visible, hidden, logs):
                shutil.rmtree(folder, ignore_errors=True)
            self.slots.put(slot)

    def student_spec(self, slot: int, scratch: Path) -> StudentSpec:
        """One student's process: its own scratch folder (a copy of the assignment's other files) and user id."""
        shutil.copytree(self.source.path.parent, scratch, ignore=NOT_COPIED)
        self.confinement.prepare_scratch(slot, scratch)
        return StudentSpec(command=self.confinement.command(slot, scratch, self.limits, self.data_dir),
                           env=environment(self.threads, self.data_dir, self.confinement.home(scratch)),
                           cwd=None if self.confinement.use_bwrap else str(scratch))

    def judge_command(self) -> list[str]:
        judge = [sys.executable, "-m", "dlcv.autograde.judge"]
        if shutil.which("prlimit"):  # the trusted side is bounded too: what a reply makes it hold is limited
            return ["prlimit", f"--as={self.limits.judge_memory_mb * 2**20}", "--", *judge]
        return judge

    def run_judge(self, job: Job) -> Outcome:
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        judge = subprocess.Popen(self.judge_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, env=env, text=True, start_new_session=True)
        timed_out = threading.Event()
        timer = threading.Timer(self.limits.notebook_timeout, lambda: (timed_out.set(), stop(judge)))
        timer.start()
        outcome, end = Outcome({}), None
        try:
            judge.stdin.write(job.to_json())
            judge.stdin.close()
            for line in judge.stdout:
                with contextlib.suppress(ValueError):
                    if line.startswith('{"end"'):
                        end = JudgeEnd.from_json(line)
                    else:
                        result = CellResult.from_json(line)
                        outcome.results[result.index] = result
            judge.wait()
        finally:
            timer.cancel()
            stop(judge)
        if timed_out.is_set():
            outcome.missing = NOT_RUN.format(self.limits.notebook_timeout)
        elif end is None:
            outcome.fault = f"the grader's judge process failed (exit status {judge.returncode})"
        elif end.machine_fault:
            outcome.fault = end.student_process
        return outcome


SCRATCH_PREFIX = "dlcv-autograde-"


def make_scratch_root() -> Path:
    """A fresh temporary folder for one run's slots, named by this process's id; first, the folders that
    runs killed before they could clean up left behind (their process is gone) are removed."""
    temporary = Path(tempfile.gettempdir())
    for stale in temporary.glob(f"{SCRATCH_PREFIX}*"):
        pid = stale.name[len(SCRATCH_PREFIX):].split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    root.chmod(0o755)  # the slots' users must pass through to their own folders
    return root


def stop(judge: subprocess.Popen) -> None:
    """End a process started in a session of its own (a judge), and everything it started: politely, then for sure."""
    if judge.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(judge.pid, signal.SIGTERM)
        try:
            judge.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(judge.pid, signal.SIGKILL)
            judge.wait()
