"""Stand-ins on the judge's side: the student's functions, and the server for the judge's own models.

- ``RemoteFunction`` stands in the judge's namespace for a function the student defined: calling it
  encodes the arguments (``arguments.Outbound``), runs the function in the student's process, takes
  back what the call changed (``takeback``) and returns the plain data it returned.
- ``ModelServer`` runs, in the judge, the forward and backward passes of the instructor's models
  that one call handed over (``ArgKind.REMOTE_MODULE``): the student's process holds only a
  stand-in that asks for them, so what such a model records is recorded here.
"""

from __future__ import annotations

import itertools

import torch

from dlcv import grading
from dlcv.autograde import takeback
from dlcv.autograde.arguments import NotPlainData, Outbound
from dlcv.autograde.outputs import remote_error
from dlcv.autograde.protocol import Call, ModelAnswer
from dlcv.autograde.student import StudentCodeFailed


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
        outbound = Outbound()
        try:
            request = Call(self.__name__, outbound.encode(list(args)), outbound.encode(dict(kwargs)),
                           grading.forbidden_now())
        except NotPlainData as problem:
            raise CannotJudge(f"the test passes {problem} to {self.__name__}, which cannot be sent to your "
                              "code as plain data") from None
        reply, in_hidden_test = self._call(request, ModelServer(outbound.remote_modules))
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
    """The instructor's models of one call, run here when the student's code calls their stand-ins."""

    def __init__(self, models: list[torch.nn.Module]):
        self.models = models
        self.graphs: dict[int, tuple] = {}  # forward passes kept for one backward pass each
        self.graph_ids = itertools.count(1)  # never reused: a spent graph's id must stay spent

    def answer(self, question: dict) -> ModelAnswer:
        try:
            return ModelAnswer(True, self.run(question))
        except Exception as problem:  # noqa: BLE001 - reported to the student's code as its own error
            return ModelAnswer(False, {}, type(problem).__name__, str(problem)[:2000])

    def run(self, question: dict) -> dict:
        if type(question.get("model")) is not int or not 0 <= question["model"] < len(self.models):
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
