"""The trusted side of grading one submission: runs the instructor's cells, calls the student's code.

Started by ``dlcv autograde`` as a process of its own for each submission, with a
``protocol.Job`` on stdin; writes one ``protocol.CellResult`` per cell as a JSON line.

- Set-up cells (imports) run here and in the student's process.
- Answer cells run only in the student's process; each function they define is bound here to
  a ``proxies.RemoteFunction``, so the instructor's asserts meet plain data in this process,
  where the student's code never ran.
- A test cell that hands the student's code something that cannot cross as plain data is
  not judged: it scores zero, and its result says why.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
import signal
import sys
import time

from dlcv.autograde.protocol import CellJob, CellResult, Exec, Job, Role
from dlcv.autograde.student import StudentCodeFailed, StudentProcess


class Judge:
    """Runs one submission's cells in order, in one namespace of the instructor's."""

    def __init__(self, job: Job, process: StudentProcess):
        from dlcv.autograde import outputs, proxies

        self.outputs, self.proxies = outputs, proxies
        self.limits = job.limits
        self.process = process
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.trusted_names: set[str] = set(dir(builtins))  # names a student's function may not take over
        self.deadline = 0.0
        self.captured: list[dict] = []  # what the student's process printed during this cell
        self.call = proxies.calls_through(process, lambda: self.deadline, self.captured)

    def run_cell(self, cell: CellJob) -> CellResult:
        self.deadline = time.monotonic() + self.limits.cell_timeout
        self.captured.clear()
        if cell.role is Role.ANSWER:
            return CellResult(cell.index, self.run_answer(cell))
        if cell.role is Role.SETUP:
            with contextlib.suppress(StudentCodeFailed):
                self.remote(Exec(cell.source, cell.name))
            outputs, _ = self.run_here(cell)
            return CellResult(cell.index, outputs)
        outputs, unjudged = self.run_here(cell)
        if unjudged is None:
            return CellResult(cell.index, outputs)
        message = f"this test could not be judged, so it scores zero: {unjudged}"
        return CellResult(cell.index, [{"output_type": "error", "ename": "NotJudged", "evalue": message,
                                        "traceback": [message]}], unjudged=unjudged)

    def remote(self, request: Exec):
        try:
            reply = self.process.request(request, self.deadline)
        finally:
            self.captured.extend(self.process.new_output())
        if not reply.ok:
            raise self.outputs.remote_error(reply)
        return reply

    def run_answer(self, cell: CellJob) -> list[dict]:
        try:
            reply = self.remote(Exec(cell.source, cell.name))
        except Exception as problem:  # noqa: BLE001 - the student's error, shown to them
            return [*self.captured, self.outputs.error_output(problem, hidden=False)]
        for name in reply.names:
            if name not in self.trusted_names:
                self.namespace[name] = self.proxies.RemoteFunction(name, self.call)
        return list(self.captured)

    def run_here(self, cell: CellJob) -> tuple[list[dict], str | None]:
        """Run an instructor's cell in this process: its outputs, and why it could not be judged (if so)."""
        stdout, stderr = io.StringIO(), io.StringIO()
        error, unjudged = None, None
        before = set(self.namespace)
        try:
            code = compile(cell.source, f"<cell {cell.name}>", "exec")
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                exec(code, self.namespace)  # noqa: S102 - the instructor's own cells
        except self.proxies.CannotJudge as reason:
            unjudged = str(reason)
        except Exception as problem:  # noqa: BLE001
            error = problem
        self.trusted_names |= set(self.namespace) - before
        outputs = []
        if stdout.getvalue():
            outputs.append({"output_type": "stream", "name": "stdout", "text": stdout.getvalue()})
        outputs += self.captured
        if stderr.getvalue():
            outputs.append({"output_type": "stream", "name": "stderr", "text": stderr.getvalue()})
        if error is not None:
            outputs.append(self.outputs.error_output(error, cell.hidden))
        return outputs, unjudged


def main() -> None:
    job = Job.from_json(sys.stdin.read())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the batch's time limit: end the sandbox too
    report = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing else may write into the report
    process = StudentProcess(job)
    try:
        # PyTorch is imported (by Judge) while the student's process starts, not after it.
        judge = Judge(job, process)
        process.wait_until_ready()
        for cell in job.cells:
            report.write(judge.run_cell(cell).to_json() + "\n")
    finally:
        process.close()


if __name__ == "__main__":
    main()
