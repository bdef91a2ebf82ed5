"""Stand-ins on the judge's side: the student's functions, and the server for the judge's own models.

- ``RemoteFunction`` stands in the judge's namespace for a function the student defined: calling it
  encodes the arguments (``arguments.Outbound``), runs the function in the student's process, takes
  back what the call changed (``takeback``) and returns the plain data it returned.
- ``ModelServer`` runs, in the judge, the forward and backward passes of the instructor's models
  that one call handed over (``ArgKind.REMOTE_MODULE``), and the functions the test wrote that it
  handed over (``ArgKind.REMOTE_FUNCTION``, such as the ``f`` of a numerical gradient): the
  student's process holds only stand-ins that ask for them, so what they record is recorded here.
"""

from __future__ import annotations

import contextvars
import itertools

import torch

from dlcv import grading
from dlcv.autograde import takeback
from dlcv.autograde.arguments import NotPlainData, Outbound
from dlcv.autograde.outputs import remote_error
from dlcv.autograde.protocol import Call, ModelAnswer
from dlcv.autograde.student import StudentCodeFailed

# True while the judge runs a function of the test's for the student's code: that code is waiting for the
# answer, so the function cannot call the student's functions in turn.
SERVING: contextvars.ContextVar[bool] = contextvars.ContextVar("serving", default=False)


class CannotJudge(BaseException):
    """A test handed the student's code something that cannot cross as plain data.

    A BaseException, so that a test's own ``except Exception`` cannot swallow it: the cell
    then cannot be judged at all, and scores zero.
    """


class RemoteFunction:
    """Stands in, on the trusted side, for a function the student defined in the sandbox."""

    def __init__(self, name: str, call: callable):
        self.__name__ = self.__qualname__ = name
        self._call = call  # (Call, ModelServer) -> (Reply, in a hidden test?): see calls_through

    def __repr__(self):
        return f"<student function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        if SERVING.get():
            raise CannotJudge(f"a function the test hands to the student's code calls {self.__name__}, which "
                              "would need the student's process while it waits; test them separately")
        outbound = Outbound()
        try:
            request = Call(self.__name__, outbound.encode(list(args)), outbound.encode(dict(kwargs)),
                           grading.forbidden_now())
        except NotPlainData as problem:
            raise CannotJudge(f"the test passes {problem} to {self.__name__}, which cannot be sent to your "
                              "code as plain data") from None
        reply, in_hidden_test = self._call(request, ModelServer(outbound.remote_modules, outbound.remote_functions))
        if not reply.ok:  # the student's own error, as the test would see it in nbgrader
            raise remote_error(reply, in_hidden_test, request.forbidden)
        try:
            takeback.take_back(outbound.sent, reply.changed)
        except takeback.StateRefused as problem:
            raise StudentCodeFailed(str(problem)) from None
        return iter(reply.value) if reply.iterator and type(reply.value) is list else reply.value


def calls_through(route):
    """The ``call`` of a RemoteFunction: one request to the process ``route`` names for the current cell
    (``judge.Route``), under the cell's deadline; returns the reply and whether a hidden test made it."""

    def call(request: Call, models: ModelServer):
        try:
            return route.process.request(request, route.deadline, models.answer), route.in_hidden_test
        finally:
            route.collect_output()

    return call


class ModelServer:
    """The instructor's models and functions of one call, run here when the student's code calls their stand-ins."""

    def __init__(self, models: list[torch.nn.Module], functions: list = ()):
        self.models, self.functions = models, list(functions)
        self.graphs: dict[int, tuple] = {}  # forward passes kept for one backward pass each
        self.graph_ids = itertools.count(1)  # never reused: a spent graph's id must stay spent

    def answer(self, question: dict) -> ModelAnswer:
        try:
            return ModelAnswer(True, self.run(question))
        except Exception as problem:  # noqa: BLE001 - reported to the student's code as its own error
            return ModelAnswer(False, {}, type(problem).__name__, str(problem)[:2000])

    def run(self, question: dict) -> dict:
        if question.get("op") == "call":
            return self.call(question)
        if type(question.get("model")) is not int or not 0 <= question["model"] < len(self.models):
            raise TypeError("malformed request for the model")
        model = self.models[question["model"]]
        parameters = list(model.parameters())
        if question.get("op") == "forward":
            return self.forward(model, parameters, question)
        if question.get("op") == "backward":
            return self.backward(parameters, question)
        raise TypeError("malformed request for the model")

    def call(self, question: dict) -> dict:
        """Run a function of the test's on the arguments the student's code sent (plain data, already checked)."""
        index, arguments = question.get("function"), question.get("args")
        if type(index) is not int or not 0 <= index < len(self.functions) or type(arguments) is not list:
            raise TypeError("malformed call of the test's function")
        token = SERVING.set(True)
        try:
            value = self.functions[index](*arguments)
        finally:
            SERVING.reset(token)
        return {"value": value.detach() if isinstance(value, torch.Tensor) else value}

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
            graph = next(self.graph_ids)
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
