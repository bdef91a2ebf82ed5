"""The judge's end of the channel to the student's process: start it, talk to it, end it.

The student's process (``worker``) runs in the sandbox and reads requests from one pipe and
writes replies to another. Its stdout and stderr go to files in the job's log folder, and what
they gained since the last look becomes the cell's output. Every wait has a deadline; a process
that ends, stalls or sends something malformed is ended, and the reason is kept for the student.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from dlcv.autograde import wire
from dlcv.autograde.protocol import Limits, MalformedReply, ModelAnswer, Reply, StudentSpec, parse_reply

STARTUP_TIMEOUT = 180
EXIT_HINTS = {"SIGKILL": " (from outside: the machine may have run out of memory)", "SIGXCPU": " (CPU time limit)",
              "SIGSEGV": " (the interpreter crashed)", "SIGXFSZ": " (file or output size limit)"}


class StudentCodeFailed(Exception):
    """The student's code raised, timed out or ended; the message says which."""


def no_models(question: dict) -> ModelAnswer:
    return ModelAnswer(False, {}, "RuntimeError", "no model of the grader's is in use")


class StudentProcess:
    def __init__(self, spec: StudentSpec, limits: Limits, logs: Path, name: str):
        self.limits = limits
        self.streams = {stream: open(logs / f"{name}-{stream}", "w+b")  # noqa: SIM115 - closed in close()
                        for stream in ("stdout", "stderr")}
        self.offsets = {"stdout": 0, "stderr": 0}
        request_read, self.request_write = os.pipe()
        self.reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [*spec.command, "--read-fd", str(request_read), "--write-fd", str(reply_write)],
            stdin=subprocess.DEVNULL, stdout=self.streams["stdout"], stderr=self.streams["stderr"], env=spec.env,
            pass_fds=(request_read, reply_write), start_new_session=True, cwd=spec.cwd,
        )
        os.close(request_read)
        os.close(reply_write)
        self.gone: str | None = None  # why the process ended, once it has
        self.machine_fault = False  # it was killed by something other than its limits or the judge

    def wait_until_ready(self) -> None:
        """Starting Python and PyTorch in the sandbox is not the student's time: it has its own limit."""
        with contextlib.suppress(StudentCodeFailed):
            self.wait_for_reply(time.monotonic() + STARTUP_TIMEOUT,
                                f"the sandbox did not start in {STARTUP_TIMEOUT} s", no_models)

    def request(self, message, deadline: float, on_callback: Callable[[dict], ModelAnswer] = no_models) -> Reply:
        """Send one request; answer the callbacks it causes; return its reply (checked, not yet trusted)."""
        if self.gone:
            raise StudentCodeFailed(f"not run: {self.gone}")
        self.send(message)
        return self.wait_for_reply(deadline, f"your code was stopped after running longer than the "
                                             f"{self.limits.cell_timeout:g} s allowed per cell (an endless loop?)",
                                   on_callback)

    def send(self, message) -> None:
        try:
            wire.send(self.request_write, pickle.dumps(message))
        except OSError:
            self.end(self.exit_reason())
            raise StudentCodeFailed(self.gone) from None

    def wait_for_reply(self, deadline: float, too_late: str, on_callback: Callable[[dict], ModelAnswer]) -> Reply:
        while True:
            reply = self.next_reply(deadline, too_late)
            if reply.callback is None:
                return reply
            self.send(on_callback(reply.callback))

    def next_reply(self, deadline: float, too_late: str) -> Reply:
        try:
            return parse_reply(wire.load_reply(wire.receive(self.reply_read, self.limits.reply_bytes, deadline)))
        except wire.TooLate:
            self.end(too_late)
        except EOFError:
            self.end(self.exit_reason())
        except (wire.WireError, MalformedReply) as problem:
            self.end(f"the grader could not read what your code sent back: {problem}")
        raise StudentCodeFailed(self.gone)

    def exit_reason(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "your code's process stopped answering"
        # Ended by a signal: seen directly, or as 128 + its number from the sandbox's launcher.
        number = -code if code < 0 else code - 128 if code > 128 else 0
        if number in signal.Signals._value2member_map_:
            name = signal.Signals(number).name
            # The student's own limits end it with MemoryError, SIGXCPU or SIGXFSZ, and the judge
            # ends it only after saying why (``end``); a SIGKILL from elsewhere is the machine's doing.
            self.machine_fault = self.machine_fault or name == "SIGKILL"
            return f"your code's process was ended by {name}{EXIT_HINTS.get(name, '')}"
        if code in (126, 127):
            return "the sandbox could not start your code"
        return f"your code's process exited (status {code}), for example through os._exit or a crash"

    def end(self, reason: str) -> None:
        self.gone = self.gone or reason
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.end("the grading finished")
        for stream in self.streams.values():
            stream.close()
        for fd in (self.request_write, self.reply_read):
            with contextlib.suppress(OSError):
                os.close(fd)

    def new_output(self) -> list[dict]:
        """What the process printed since the last call, as nbformat stream outputs (cut at the limit)."""
        outputs = []
        for name, stream in self.streams.items():
            stream.flush()
            size = os.fstat(stream.fileno()).st_size
            start = self.offsets[name]
            self.offsets[name] = size
            if size <= start:
                continue
            stream.seek(start)
            limit = self.limits.output_chars
            text = stream.read(limit).decode("utf-8", "replace")
            if size - start > limit:
                text += f"\n[output cut: {size - start - limit} more bytes not shown]\n"
            outputs.append({"output_type": "stream", "name": name, "text": text})
        return outputs
