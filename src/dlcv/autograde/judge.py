"""The trusted side of grading one submission: runs the instructor's cells, calls the student's.

Started by ``dlcv autograde`` as a process of its own for each submission. It reads a job
(JSON on stdin: the cells to run, in the source notebook's order, the sandbox command,
the limits) and writes one JSON line per cell with that cell's outputs.

- Set-up cells (imports) run here and in the sandbox.
- Answer cells run only in the sandbox; each function they define is bound here to a
  stand-in that sends the arguments across, runs the function there (with the names of any
  ``forbid_calls`` block in force) and brings back plain data, which then meets the
  instructor's asserts in this process, where the student's code never ran. In-place
  changes to tensor arguments and the state of random generators come back too.
- Parameters and models cross as well (``wire.Outbound``): their new values, gradients and
  training flags come back as plain data. A model the instructor wrote stays here, and the
  student's code gets a stand-in whose forward and backward passes this process runs
  (``ModelsHere``), so what such a model records is recorded here.
- A test cell that passes anything else cannot be judged here: it runs inside the sandbox
  instead, and its verdict is only as good as that process is untouched (the job's result
  says which).
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback

# PyTorch and what needs it are imported in main(), once the sandbox has started, so that the two
# processes import PyTorch at the same time instead of one after the other.
torch = grading = wire = None

def import_torch() -> None:
    global torch, grading, wire
    import torch

    from dlcv import grading
    from dlcv.autograde import wire


PASSTHROUGH_ERRORS = {
    name: getattr(builtins, name)
    for name in ("AssertionError", "ValueError", "TypeError", "IndexError", "KeyError", "RuntimeError",
                 "NotImplementedError", "ZeroDivisionError", "AttributeError", "NameError", "StopIteration")
}


STARTUP_TIMEOUT = 180


class NeedsSandbox(BaseException):
    """A test cell passed something that cannot cross: run the whole cell in the sandbox."""


class StudentCodeFailed(Exception):
    """The student's code raised, timed out or ended; the message says which."""


class Sandbox:
    def __init__(self, command: list[str], env: dict, limits: dict, cwd: str | None = None):
        self.limits = limits
        self.logs = tempfile.mkdtemp(prefix="dlcv-judge-")
        self.stdout = open(os.path.join(self.logs, "stdout"), "w+b")  # noqa: SIM115
        self.stderr = open(os.path.join(self.logs, "stderr"), "w+b")  # noqa: SIM115
        self.offsets = {"stdout": 0, "stderr": 0}
        request_read, self.request_write = os.pipe()
        self.reply_read, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [*command, "--read-fd", str(request_read), "--write-fd", str(reply_write)],
            stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=self.stderr, env=env,
            pass_fds=(request_read, reply_write), start_new_session=True, cwd=cwd,
        )
        os.close(request_read)
        os.close(reply_write)
        self.gone: str | None = None
        self.on_callback = lambda question: {"ok": False, "ename": "RuntimeError", "evalue": "not ready"}
        import_torch()
        # Starting Python and PyTorch in the sandbox is not the student's time: it has its own limit.
        with contextlib.suppress(StudentCodeFailed):
            self.wait_for_reply(time.monotonic() + STARTUP_TIMEOUT, "the sandbox did not start in "
                                f"{STARTUP_TIMEOUT} s")

    def request(self, message: dict, deadline: float) -> dict:
        if self.gone:
            raise StudentCodeFailed(f"not run: {self.gone}")
        try:
            wire.send(self.request_write, pickle.dumps(message))
        except OSError:
            self.end(self.exit_reason())
            raise StudentCodeFailed(self.gone) from None
        return self.wait_for_reply(deadline, f"your code was stopped after running longer than the "
                                             f"{self.limits['cell_timeout']:g} s allowed per cell (an endless loop?)")

    def wait_for_reply(self, deadline: float, too_late: str) -> dict:
        """The reply to the last request; requests for the grader's models are answered meanwhile."""
        while True:
            reply = self.next_message(deadline, too_late)
            if "callback" not in reply:
                return reply
            try:
                wire.send(self.request_write, pickle.dumps(self.on_callback(reply["callback"])))
            except OSError:
                self.end(self.exit_reason())
                raise StudentCodeFailed(self.gone) from None

    def next_message(self, deadline: float, too_late: str) -> dict:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([self.reply_read], [], [], max(0.0, remaining))
        if not ready:
            self.end(too_late)
            raise StudentCodeFailed(self.gone)
        try:
            reply = wire.load_reply(wire.receive(self.reply_read, self.limits["reply_bytes"]))
        except EOFError:
            self.end(self.exit_reason())
            raise StudentCodeFailed(self.gone) from None
        except wire.WireError as problem:
            self.end(f"the grader could not read what your code sent back: {problem}")
            raise StudentCodeFailed(self.gone) from None
        if not isinstance(reply, dict) or type(reply.get("ok")) is not bool:
            self.end("your code's process sent back something unexpected")
            raise StudentCodeFailed(self.gone)
        return reply

    def exit_reason(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "your code's process stopped answering"
        # Ended by a signal: seen directly, or as 128 + its number from the sandbox's launcher.
        number = -code if code < 0 else code - 128 if code > 128 else 0
        if number in signal.Signals._value2member_map_:
            name = signal.Signals(number).name
            hint = {"SIGKILL": " (out of memory or time?)", "SIGXCPU": " (CPU time limit)",
                    "SIGSEGV": " (the interpreter crashed)", "SIGXFSZ": " (file or output size limit)"}.get(name, "")
            return f"your code's process was ended by {name}{hint}"
        if code == 126 or code == 127:
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

    def new_output(self) -> list[dict]:
        outputs = []
        for name, stream in (("stdout", self.stdout), ("stderr", self.stderr)):
            stream.flush()
            size = os.fstat(stream.fileno()).st_size
            start = self.offsets[name]
            if size <= start:
                self.offsets[name] = size
                continue
            stream.seek(start)
            limit = self.limits["output_chars"]
            text = stream.read(limit).decode("utf-8", "replace")
            if size - start > limit:
                text += f"\n[output cut: {size - start - limit} more bytes not shown]\n"
            self.offsets[name] = size
            outputs.append({"output_type": "stream", "name": name, "text": text})
        return outputs


class RemoteFunction:
    """Stands in, on the trusted side, for a function the student defined in the sandbox."""

    def __init__(self, name: str, runner: Judge):
        self.__name__ = self.__qualname__ = name
        self._runner = runner

    def __repr__(self):
        return f"<student function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        outbound = wire.Outbound()
        try:
            plain_args = outbound.encode(list(args))
            plain_kwargs = outbound.encode(dict(kwargs))
        except wire.NotPlainData as problem:
            raise NeedsSandbox(str(problem)) from None
        self._runner.models = ModelsHere(outbound.remote_modules)
        try:
            reply = self._runner.remote({"op": "call", "name": self.__name__, "args": plain_args,
                                         "kwargs": plain_kwargs, "forbidden": list(grading.active_forbidden)})
        finally:
            self._runner.models = None
        take_back(outbound, reply)
        value = reply.get("value")
        return iter(value) if reply.get("iterator") is True and type(value) is list else value


def malformed() -> StudentCodeFailed:
    return StudentCodeFailed("your code's process sent back a malformed reply")


def take_back(outbound, reply: dict) -> None:
    """Copy into the grader's own objects what the student's call changed, checking every piece."""
    parts = {name: reply.get(name) for name in ("tensors", "generators", "leaves", "modules", "remote_modules")}
    expected = {"tensors": outbound.tensors, "generators": outbound.generators, "leaves": outbound.leaves,
                "modules": outbound.modules, "remote_modules": outbound.remote_modules}
    if any(type(parts[name]) is not list or len(parts[name]) != len(expected[name]) for name in parts):
        raise malformed()
    for original, changed in zip(outbound.tensors, parts["tensors"]):
        if changed is None:
            continue  # a large tensor that the call left as it was
        if type(changed) is not torch.Tensor:
            raise malformed()
        if changed.shape == original.shape and changed.dtype == original.dtype:
            if not torch.equal(changed, original):
                with torch.no_grad():
                    original.copy_(changed)
        else:
            original.data = changed
    for generator, state in zip(outbound.generators, parts["generators"]):
        if type(state) is not torch.Tensor or state.dtype != torch.uint8:
            raise malformed()
        generator.set_state(state)
    for leaf, state in zip(outbound.leaves, parts["leaves"]):
        set_parameter(leaf, state)
    for module, state in zip(outbound.modules, parts["modules"]):
        set_module(module, state)
    for module, state in zip(outbound.remote_modules, parts["remote_modules"]):
        if type(state) is not dict or type(state.get("training")) is not bool:
            raise malformed()
        set_parameters(list(module.parameters()), state.get("params"))
        if module.training != state["training"]:
            module.train(state["training"])


def set_parameter(parameter: torch.Tensor, state) -> None:
    """A parameter's new values, gradient and requires_grad, copied in; it stays a leaf here."""
    if type(state) is not tuple or len(state) != 3 or type(state[2]) is not bool:
        raise malformed()
    data, grad, requires_grad = state
    if type(data) is not torch.Tensor or (grad is not None and type(grad) is not torch.Tensor):
        raise malformed()
    if data.shape != parameter.shape or (grad is not None and grad.shape != parameter.shape):
        raise StudentCodeFailed(f"your code changed the shape of a parameter from {tuple(parameter.shape)} to "
                                f"{tuple(data.shape)}; update parameters in place")
    with torch.no_grad():
        parameter.copy_(data)
    parameter.requires_grad_(requires_grad)
    parameter.grad = None if grad is None else grad.to(parameter.dtype)


def set_parameters(parameters: list, states) -> None:
    if type(states) is not list:
        raise malformed()
    if len(states) != len(parameters):
        raise StudentCodeFailed(f"the model had {len(parameters)} parameters and came back with {len(states)}; "
                                "train the model you are given without adding or removing layers")
    for parameter, state in zip(parameters, states):
        set_parameter(parameter, state)


def set_module(module: torch.nn.Module, state) -> None:
    """A whole model's new parameters, buffers and training flags, copied into the grader's model."""
    if type(state) is not dict or type(state.get("buffers")) is not list or type(state.get("training")) is not list:
        raise malformed()
    set_parameters(list(module.parameters()), state.get("params"))
    buffers, parts = list(module.buffers()), list(module.modules())
    if len(state["buffers"]) != len(buffers) or len(state["training"]) != len(parts):
        raise StudentCodeFailed("the model came back with a different structure; train the model you are given "
                                "without adding or removing layers")
    for buffer, value in zip(buffers, state["buffers"]):
        if type(value) is not torch.Tensor or value.shape != buffer.shape:
            raise malformed()
        with torch.no_grad():
            buffer.copy_(value)
    for part, training in zip(parts, state["training"]):
        if type(training) is not bool:
            raise malformed()
        part.training = training


class ModelsHere:
    """The instructor's models of one call, run here when the student's code calls their stand-ins."""

    def __init__(self, models: list):
        self.models = models
        self.graphs: dict[int, tuple] = {}

    def answer(self, question) -> dict:
        try:
            return {"ok": True, **self.run(question)}
        except Exception as problem:  # noqa: BLE001 - reported to the student's code as its own error
            return {"ok": False, "ename": type(problem).__name__, "evalue": str(problem)[:2000]}

    def run(self, question) -> dict:
        if type(question) is not dict or type(question.get("model")) is not int:
            raise TypeError("malformed request for the model")
        if not 0 <= question["model"] < len(self.models):
            raise TypeError("malformed request for the model")
        model = self.models[question["model"]]
        parameters = list(model.parameters())
        if question.get("op") == "forward":
            return self.forward(model, parameters, question)
        if question.get("op") == "backward":
            return self.backward(parameters, question)
        raise TypeError("malformed request for the model")

    def forward(self, model, parameters: list, question: dict) -> dict:
        x, values = question.get("input"), question.get("params")
        flags = [question.get(name) for name in ("training", "grad", "input_grad")]
        if type(x) is not torch.Tensor or type(values) is not list or any(type(f) is not bool for f in flags):
            raise TypeError("malformed request for the model")
        training, grad, input_grad = flags
        if len(values) != len(parameters) or any(type(v) is not torch.Tensor or v.shape != p.shape
                                                 for v, p in zip(values, parameters)):
            raise RuntimeError("the model's parameters changed shape; update them in place")
        with torch.no_grad():
            for parameter, value in zip(parameters, values):
                parameter.copy_(value)
        if model.training != training:
            model.train(training)
        with torch.set_grad_enabled(grad):
            x.requires_grad_(input_grad)
            output = model(x)
        if type(output) is not torch.Tensor:
            raise TypeError("the model did not return a tensor")
        graph = None
        if grad and output.requires_grad:
            graph = len(self.graphs) + 1
            while graph in self.graphs:
                graph += 1
            self.graphs[graph] = (x, output)
        return {"output": output.detach(), "graph": graph}

    def backward(self, parameters: list, question: dict) -> dict:
        stored = self.graphs.pop(question.get("graph"), None) if type(question.get("graph")) is int else None
        if stored is None:
            raise RuntimeError("Trying to backward through the graph a second time (or a graph that does not exist)")
        x, output = stored
        grad_output = question.get("grad_output")
        if type(grad_output) is not torch.Tensor or grad_output.shape != output.shape:
            raise RuntimeError("malformed gradient for the model's output")
        wanted = ([x] if x.requires_grad else []) + [p for p in parameters if p.requires_grad]
        grads = iter(torch.autograd.grad(output, wanted, grad_output.to(output.dtype), allow_unused=True))
        input_grad = next(grads) if x.requires_grad else None
        param_grads = [next(grads) if p.requires_grad else None for p in parameters]
        return {"input_grad": input_grad, "param_grads": param_grads}


class Judge:
    def __init__(self, job: dict):
        self.job = job
        self.limits = job["limits"]
        self.sandbox = Sandbox(job["command"], job["env"], self.limits, job.get("cwd"))
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.trusted_names: set[str] = set(dir(builtins))
        self.deadline = 0.0
        self.captured: list[dict] = []
        self.models: ModelsHere | None = None
        self.sandbox.on_callback = lambda question: (self.models.answer(question) if self.models
                                                     else {"ok": False, "ename": "RuntimeError",
                                                           "evalue": "no model of the grader's is in use"})

    def remote(self, message: dict) -> dict:
        try:
            reply = self.sandbox.request(message, self.deadline)
        finally:
            self.captured.extend(self.sandbox.new_output())
        if not reply["ok"]:
            raise remote_error(reply)
        return reply

    def run_cell(self, cell: dict) -> dict:
        self.deadline = time.monotonic() + self.limits["cell_timeout"]
        self.captured = []
        role = cell["role"]
        if role == "answer":
            return self.run_answer(cell)
        if role == "setup":
            with contextlib.suppress(StudentCodeFailed):
                self.remote({"op": "exec", "source": cell["source"], "name": cell["name"]})
            outputs, _ = self.run_here(cell)
            return {"outputs": outputs, "mode": "trusted"}
        outputs, fallback = self.run_here(cell)
        if fallback is None:
            return {"outputs": outputs, "mode": "trusted"}
        self.captured = []
        try:
            self.remote({"op": "run_test", "source": cell["source"], "name": cell["name"]})
            error = None
        except (StudentCodeFailed, Exception) as problem:  # noqa: BLE001
            error = problem
        outputs = self.captured + ([error_output(error, cell["hidden"])] if error else [])
        return {"outputs": outputs, "mode": "sandbox", "why": fallback}

    def run_answer(self, cell: dict) -> dict:
        try:
            reply = self.remote({"op": "exec", "source": cell["source"], "name": cell["name"]})
        except (StudentCodeFailed, Exception) as problem:  # noqa: BLE001
            return {"outputs": self.captured + [error_output(problem, hidden=False)], "mode": "sandbox"}
        names = reply.get("names") if isinstance(reply.get("names"), dict) else {}
        for name, kind in names.items():
            if type(name) is str and name.isidentifier() and name not in self.trusted_names and kind == "function":
                self.namespace[name] = RemoteFunction(name, self)
        return {"outputs": self.captured, "mode": "sandbox"}

    def run_here(self, cell: dict) -> tuple[list[dict], str | None]:
        stdout, stderr = io.StringIO(), io.StringIO()
        error, fallback = None, None
        before = set(self.namespace)
        try:
            code = compile(cell["source"], f"<cell {cell['name']}>", "exec")
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                exec(code, self.namespace)  # noqa: S102 - the instructor's own cells
        except NeedsSandbox as reason:
            fallback = str(reason)
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
            outputs.append(error_output(error, cell["hidden"]))
        return outputs, fallback


def remote_error(reply: dict) -> Exception:
    ename, evalue = str(reply.get("ename", "Error"))[:200], str(reply.get("evalue", ""))[:4000]
    kind = grading.ForbiddenCallError if ename == "ForbiddenCallError" else PASSTHROUGH_ERRORS.get(ename)
    error = kind(evalue) if kind else StudentCodeFailed(f"{ename}: {evalue}")
    error.remote_traceback = str(reply.get("traceback", ""))[-8000:]
    return error


def error_output(error: BaseException, hidden: bool) -> dict:
    """An nbformat error output; a hidden test's shows no line of the test, only its message."""
    lines = []
    if not hidden:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
        lines += traceback.format_list(frames)
    remote = getattr(error, "remote_traceback", "")
    if remote:
        lines.append("In your code:\n" + remote)
    lines += traceback.format_exception_only(type(error), error)
    return {"output_type": "error", "ename": type(error).__name__, "evalue": str(error), "traceback": lines}


def main() -> None:
    job = json.load(sys.stdin)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # the batch's time limit: end the sandbox too
    report = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    judge = Judge(job)
    try:
        for cell in job["cells"]:
            result = judge.run_cell(cell)
            result["index"] = cell["index"]
            report.write(json.dumps(result) + "\n")
    finally:
        report.write(json.dumps({"done": True, "sandbox_ended": judge.sandbox.gone}) + "\n")
        judge.sandbox.end("the grading finished")


if __name__ == "__main__":
    main()
