"""The trusted side of grading one submission: runs the instructor's cells, calls the student's code.

Started by ``dlcv autograde`` as a process of its own for each submission, with a
``protocol.Job`` on stdin; writes one ``protocol.CellResult`` per cell as a JSON line, then a
``protocol.JudgeEnd``.

- Set-up cells (imports) run here and in both of the student's processes.
- Answer cells run only in the student's processes; each function they define is bound here to
  a ``proxies.RemoteFunction``, so the instructor's asserts meet plain data in this process,
  where the student's code never ran.
- Visible tests call the student's *visible* process, whose output the student sees. Hidden tests
  call the *hidden* one: nothing it prints reaches the feedback, and its errors show only their
  kind, so nothing a hidden test hands the student's code can be carried out of it.
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
from pathlib import Path

from dlcv.autograde.protocol import CellJob, CellResult, Exec, Job, JudgeEnd, Role
from dlcv.autograde.student import StudentCodeFailed, StudentProcess


class Route:
    """Which of the student's processes the current cell talks to, and what it printed there."""

    def __init__(self, visible: StudentProcess, hidden: StudentProcess):
        self.visible, self.hidden = visible, hidden
        self.process, self.in_hidden_test = visible, False
        self.captured: list[dict] = []
        self.deadline = 0.0

    def start_cell(self, hidden_test: bool, cell_timeout: float) -> None:
        self.in_hidden_test = hidden_test
        self.process = self.hidden if hidden_test else self.visible
        self.deadline = time.monotonic() + cell_timeout
        self.captured.clear()

    def collect_output(self) -> None:
        output = self.process.new_output()
        if not self.in_hidden_test:  # a hidden test shows nothing the student's code printed
            self.captured.extend(output)


class Judge:
    """Runs one submission's cells in order, in one namespace of the instructor's."""

    def __init__(self, job: Job, route: Route):
        from dlcv.autograde import outputs, proxies

        self.outputs, self.proxies = outputs, proxies
        self.limits = job.limits
        self.route = route
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.trusted_names: set[str] = set(dir(builtins))  # names a student's function may not take over

    def run_cell(self, cell: CellJob) -> CellResult:
        self.route.start_cell(cell.role is Role.TEST and cell.hidden, self.limits.cell_timeout)
        if cell.role is Role.ANSWER:
            return CellResult(cell.index, self.run_answer(cell))
        if cell.role is Role.SETUP:
            for process in (self.route.hidden, self.route.visible):
                with contextlib.suppress(StudentCodeFailed):
                    self.exec_in(process, cell)
            outputs, _ = self.run_here(cell)
            return CellResult(cell.index, outputs)
        outputs, unjudged = self.run_here(cell)
        if unjudged is None:
            return CellResult(cell.index, outputs)
        message = f"this test could not be judged, so it scores zero: {unjudged}"
        return CellResult(cell.index, [{"output_type": "error", "ename": "NotJudged", "evalue": message,
                                        "traceback": [message]}], unjudged=unjudged)

    def exec_in(self, process: StudentProcess, cell: CellJob):
        """Run a cell's code in one of the student's processes; its output is kept for the visible one."""
        try:
            reply = process.request(Exec(cell.source, cell.name), self.route.deadline)
        finally:
            output = process.new_output()
            if process is self.route.visible:
                self.route.captured.extend(output)
        if not reply.ok:
            raise self.outputs.remote_error(reply)
        return reply

    def run_answer(self, cell: CellJob) -> list[dict]:
        # The hidden process learns the answer first: what the student sees below comes from the visible one.
        with contextlib.suppress(Exception):
            self.exec_in(self.route.hidden, cell)
        try:
            reply = self.exec_in(self.route.visible, cell)
        except Exception as problem:  # noqa: BLE001 - the student's error, shown to them
            return [*self.route.captured, self.outputs.error_output(problem, hidden=False)]
        for name in reply.names:
            if name not in self.trusted_names:
                self.namespace[name] = self.proxies.RemoteFunction(name, self.proxies.calls_through(self.route))
        return list(self.route.captured)

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
        outputs += self.route.captured
        if stderr.getvalue():
            outputs.append({"output_type": "stream", "name": "stderr", "text": stderr.getvalue()})
        if error is not None:
            outputs.append(self.outputs.error_output(error, cell.hidden))
        return outputs, unjudged


def end_with_the_parent() -> None:
    """Ask Linux for SIGTERM when the process that started this judge dies (a Dask worker killed
    in mid-batch, say), so that no judge grades on for nobody."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def main() -> None:
    job = Job.from_json(sys.stdin.read())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the batch's time limit: end the sandbox too
    end_with_the_parent()
    report = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nothing else may write into the report
    logs = Path(job.logs)
    visible = StudentProcess(job.visible, job.limits, logs, "visible")
    hidden = StudentProcess(job.hidden, job.limits, logs, "hidden")
    try:
        # PyTorch is imported (by Judge) while the student's processes start, not after them.
        judge = Judge(job, Route(visible, hidden))
        visible.wait_until_ready()
        hidden.wait_until_ready()
        for cell in job.cells:
            report.write(judge.run_cell(cell).to_json() + "\n")
    finally:
        faulted = [process for process in (visible, hidden) if process.machine_fault]
        ended = faulted[0].gone if faulted else visible.gone or hidden.gone
        report.write(JudgeEnd(ended, bool(faulted)).to_json() + "\n")
        visible.close()
        hidden.close()


if __name__ == "__main__":
    main()
