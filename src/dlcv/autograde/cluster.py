"""Grading on a Dask cluster (``dlcv autograde --scheduler ADDRESS``): one task per submission.

The process that starts the batch reads the submissions and records every result, as it does
locally; only the grading of one submission (``runner.JudgeRunner.grade``: its judge and its
sandboxed processes) runs on a Dask worker. The course folder must be at the same path on every
worker (a hub's NFS, a cluster file system), since a worker reads the instructor's source notebook
and the public data from there. Each worker finds its own sandbox (bubblewrap, user ids) once,
grades as many submissions at once as it has threads, and runs each exactly as ``--jobs`` does
on one machine.

A worker that dies in mid-batch loses nothing: Dask gives its submissions to another worker, and
the summary says which submissions were graded again. A submission whose task failed on three
workers is marked as needing regrading, like any other fault of the machine.
"""

from __future__ import annotations

import atexit
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from dlcv.autograde.plan import Source
from dlcv.autograde.protocol import Limits
from dlcv.autograde.runner import JudgeRunner, Outcome, make_scratch_root
from dlcv.autograde.submission import Submission

# One runner per worker process and assignment: the sandbox is probed once, the slots are shared
# by the worker's threads. Built on first use on the worker, never sent over the network.
_runners: dict[tuple, JudgeRunner] = {}
_lock = threading.Lock()


def runner_on_this_worker(source_folder: str, assignment: str, limits: Limits, data_dir: str | None) -> JudgeRunner:
    from distributed import get_worker

    from dlcv.autograde import sandbox

    key = (source_folder, assignment, limits, data_dir)
    with _lock:
        if key not in _runners:
            slots = max(1, get_worker().state.nthreads)
            scratch = make_scratch_root()
            atexit.register(shutil.rmtree, scratch, True)
            confinement = sandbox.probe(scratch, slots)
            if confinement.refusal:
                raise RuntimeError(confinement.refusal)
            source = Source.load(Path(source_folder), assignment)
            _runners[key] = JudgeRunner(source, confinement, limits, None if data_dir is None else Path(data_dir),
                                        slots, scratch)
        return _runners[key]


def grade_on_a_worker(source_folder: str, assignment: str, limits: Limits, data_dir: str | None,
                      submission: Submission) -> tuple[Outcome, str]:
    """The Dask task: grade one submission on this worker; return the outcome and the worker's address."""
    from distributed import get_worker

    runner = runner_on_this_worker(source_folder, assignment, limits, data_dir)
    return runner.grade(submission), get_worker().address


def grade_on_cluster(scheduler: str, source: Source, limits: Limits, data_dir: Path | None,
                     submissions: list[Submission], log: Callable[[str], None]) -> Iterator[tuple[Submission, Outcome]]:
    """Send every gradable submission to the cluster; yield each with its outcome as it comes back."""
    from distributed import Client, as_completed

    with Client(scheduler) as client:
        workers = client.scheduler_info()["workers"]
        log(f"Dask scheduler {scheduler}: {len(workers)} worker(s), "
            f"{sum(w['nthreads'] for w in workers.values())} thread(s).")
        futures = {}
        for submission in submissions:
            if not submission.graded:
                yield submission, Outcome({})
                continue
            future = client.submit(grade_on_a_worker, str(source.path.parent), source.assignment, limits,
                                   None if data_dir is None else str(data_dir), submission, pure=False,
                                   key=f"dlcv-autograde-{source.assignment}-{len(futures)}")
            futures[future] = submission
        for future in as_completed(futures):
            submission = futures[future]
            try:
                outcome, worker = future.result()
            except Exception as error:  # noqa: BLE001 - KilledWorker and the like: the machine's fault
                yield submission, Outcome({}, fault=f"no worker could grade it ({type(error).__name__}: {error})")
                continue
            lost = workers_lost_while_grading(client, future.key)
            if lost:
                submission.problems.append(f"a worker of the cluster was lost while grading this submission; it was "
                                           f"graded again on {worker}")
            yield submission, outcome


def workers_lost_while_grading(client, key: str) -> int:
    """How many workers died while they held this task (the scheduler counts them)."""

    def suspicious(dask_scheduler, key=key):
        task = dask_scheduler.tasks.get(key)
        return 0 if task is None else task.suspicious

    return int(client.run_on_scheduler(suspicious))
