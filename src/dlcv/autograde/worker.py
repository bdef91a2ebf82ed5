"""The untrusted side: runs one student's answers inside the sandbox, on the grader's request.

Nothing here is trusted. The student's code runs in this process and can change
anything in it, this module included; so the grader never takes a verdict from here,
only plain data (see ``wire``), and whatever it gets is treated as the student's answer.
"""

from __future__ import annotations

import argparse
import builtins
import collections.abc
import hashlib
import itertools
import pickle
import sys
import traceback

import torch

from dlcv.autograde import wire
from dlcv.autograde.protocol import TAKEN_BACK, ArgKind, Call, Exec, ModelAnswer
from dlcv.grading import forbid_calls

MAX_ITEMS = 100_000


class Unsendable(Exception):
    pass


class Channel:
    """The pipes to the grader: replies and requests for help go out, answers come in."""

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd

    def send(self, reply: dict) -> None:
        wire.send(self.write_fd, wire.dump_reply(reply))

    def receive(self):
        return pickle.loads(wire.receive(self.read_fd, 1 << 34))

    def ask(self, question: dict) -> dict:
        """Have the grader run its model (see GraderModel); raise what it raised."""
        self.send({"ok": True, "callback": question})
        answer: ModelAnswer = self.receive()
        if not answer.ok:
            kind = getattr(builtins, answer.ename, None)
            kind = kind if isinstance(kind, type) and issubclass(kind, Exception) else RuntimeError
            raise kind(answer.evalue)
        return answer.values


class ThroughGrader(torch.autograd.Function):
    """One forward pass of a GraderModel, and its backward pass, both run by the grader."""

    @staticmethod
    def forward(ctx, model, grad_enabled, x, *params):
        answer = model._channel.ask({
            "op": "forward", "model": model._index, "input": x.detach().clone(),
            "params": [p.detach().clone() for p in params], "training": bool(model.training),
            "grad": bool(grad_enabled), "input_grad": bool(grad_enabled and x.requires_grad)})
        ctx.model, ctx.graph = model, answer["graph"]
        return answer["output"]

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.graph is None:
            raise RuntimeError("this output was computed without gradients")
        answer = ctx.model._channel.ask({"op": "backward", "model": ctx.model._index, "graph": ctx.graph,
                                         "grad_output": grad_output.detach().clone()})
        return (None, None, answer["input_grad"], *answer["param_grads"])


class GraderPart(torch.nn.Module):
    """A sub-module of a GraderModel: it holds parameters but cannot be called on its own."""

    def forward(self, *args, **kwargs):
        raise TypeError("this model's layers run in the grader and can only be called as a whole: model(x)")


class GraderModel(torch.nn.Module):
    """Stands in for a model that the grader keeps (one the instructor wrote, which records what it sees).

    It has the same sub-modules and parameters, so ``model.train()``, ``model.eval()``,
    ``model.parameters()``, ``model.zero_grad()`` and an optimiser step work as usual; calling it
    sends the input and the current parameters to the grader, which runs the real forward pass
    (in the training mode and gradient mode set here) and, on ``backward()``, the backward pass.
    """

    def __init__(self, index: int, layout: dict, channel: Channel):
        super().__init__()
        for name in layout["modules"]:
            parent, _, child = name.rpartition(".")
            (self.get_submodule(parent) if parent else self).add_module(child, GraderPart())
        ordered = []
        for module_name, name, data, grad, requires_grad in layout["params"]:
            parameter = torch.nn.Parameter(data, requires_grad=requires_grad)
            parameter.grad = grad
            (self.get_submodule(module_name) if module_name else self).register_parameter(name, parameter)
            ordered.append(parameter)
        self.train(layout["training"])
        self._index, self._channel, self._ordered = index, channel, ordered

    def forward(self, *args, **kwargs):
        if len(args) != 1 or kwargs or not isinstance(args[0], torch.Tensor):
            raise TypeError("call the model on one batch of inputs: model(x)")
        return ThroughGrader.apply(self, torch.is_grad_enabled(), args[0], *self._ordered)


class GraderFunction:
    """Stands in for a function the test wrote (the ``f`` of a numerical gradient), which the grader keeps.

    Calling it sends the arguments (plain data) to the grader, which runs the test's function and
    sends back what it returned: so what that function records, or computes from hidden data,
    stays where no student code runs.
    """

    def __init__(self, index: int, channel: Channel):
        self._index, self._channel = index, channel

    def __repr__(self):
        return "<a function of the test's>"

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("call this function with positional arguments only")
        try:
            sent = [encode(argument) for argument in args]
        except Unsendable as problem:
            raise TypeError(f"this function can only be given tensors, numbers, strings, lists, tuples or dicts, "
                            f"not {problem}") from None
        return self._channel.ask({"op": "call", "function": self._index, "args": sent})["value"]


def fingerprint(tensor: torch.Tensor) -> bytes | None:
    """A digest of a large tensor's bytes, so that an unchanged one need not travel back.

    From 64 KiB: a training loop hands the same watched weights (a5's 784 x 256, 0.8 MB) to a
    function that leaves them alone at every step, and hashing them costs far less than sending them.
    """
    if tensor.numel() * tensor.element_size() < 1 << 16:
        return None
    try:
        return hashlib.blake2b(tensor.detach().reshape(-1).view(torch.uint8).numpy()).digest()
    except (RuntimeError, TypeError, ValueError):
        return None


def parameter_state(p: torch.Tensor) -> tuple:
    return (p.detach().clone(), None if p.grad is None else p.grad.detach().clone(), bool(p.requires_grad))


class Inbound:
    """The call's arguments rebuilt here, and what goes back to the grader afterwards."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.received: dict[ArgKind, list] = {kind: [] for kind in TAKEN_BACK}
        self.fingerprints: list[bytes | None] = []  # one per plain tensor

    def decode(self, value):
        if type(value) is not tuple:
            return value
        kind = ArgKind(value[0])
        if kind is ArgKind.SAME:
            same_kind, position = value[1]
            return self.received[ArgKind(same_kind)][position]
        if kind in (ArgKind.LIST, ArgKind.TUPLE, ArgKind.ITERATOR):
            items = [self.decode(item) for item in value[1]]
            return items if kind is ArgKind.LIST else tuple(items) if kind is ArgKind.TUPLE else iter(items)
        if kind is ArgKind.DICT:
            return {self.decode(k): self.decode(v) for k, v in value[1]}
        if kind is ArgKind.STATE:
            state: dict = {}
            self.received[kind].append(state)  # before its items, in the order the judge kept them
            state.update({self.decode(k): self.decode(v) for k, v in value[2]})
            return state
        built = self.build(kind, value[1], value[2:])
        self.received[kind].append(built)
        return built

    def build(self, kind: ArgKind, index: int, payload: tuple):
        if kind is ArgKind.VALUE:
            return payload[0]
        if kind is ArgKind.TENSOR:
            (tensor,) = payload
            self.fingerprints.append(fingerprint(tensor))
            return tensor
        if kind is ArgKind.GENERATOR:
            generator = torch.Generator()
            generator.set_state(payload[0])
            return generator
        if kind is ArgKind.LEAF:
            data, grad, requires_grad, is_parameter = payload
            leaf = torch.nn.Parameter(data, requires_grad) if is_parameter else data.requires_grad_(requires_grad)
            leaf.grad = grad
            return leaf
        if kind is ArgKind.MODULE:
            module, grads = payload
            for p, grad in zip(module.parameters(), grads):
                p.grad = grad
            return module
        if kind is ArgKind.REMOTE_MODULE:
            return GraderModel(index, payload[0], self.channel)
        if kind is ArgKind.REMOTE_FUNCTION:
            return GraderFunction(index, self.channel)
        raise ValueError(f"cannot build an argument of kind {kind!r}")

    def report(self) -> dict:
        """The new state of every argument the grader must update (an unchanged large tensor as None)."""
        tensors = []
        for tensor, before in zip(self.received[ArgKind.TENSOR], self.fingerprints):
            same = before is not None and fingerprint(tensor) == before
            tensors.append(None if same else tensor.detach().clone())
        changed = {
            ArgKind.VALUE: [None] * len(self.received[ArgKind.VALUE]),  # never taken back
            ArgKind.TENSOR: tensors,
            ArgKind.GENERATOR: [g.get_state() for g in self.received[ArgKind.GENERATOR]],
            ArgKind.LEAF: [parameter_state(p) for p in self.received[ArgKind.LEAF]],
            ArgKind.MODULE: [{"params": [parameter_state(p) for p in m.parameters()],
                              "buffers": [None if b is None else b.detach().clone() for b in m.buffers()],
                              "training": [bool(part.training) for part in m.modules()]}
                             for m in self.received[ArgKind.MODULE]],
            ArgKind.REMOTE_MODULE: [{"params": [parameter_state(p) for p in m._ordered],
                                     "training": bool(m.training)} for m in self.received[ArgKind.REMOTE_MODULE]],
            ArgKind.STATE: [encode(state) for state in self.received[ArgKind.STATE]],  # may raise Unsendable
            ArgKind.REMOTE_FUNCTION: [None] * len(self.received[ArgKind.REMOTE_FUNCTION]),
        }
        # Plain str keys: the grader's safe reader refuses enum members.
        return {kind.value: states for kind, states in changed.items()}


def encode(value, depth: int = 0):
    """The student's result as plain data, or Unsendable with a message for them."""
    if depth > 50:
        raise Unsendable("the result is nested too deeply")
    if value is None or type(value) in (bool, int, float, complex, str, bytes, torch.dtype):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, torch.Tensor):
        if type(value) not in (torch.Tensor, torch.nn.Parameter):
            raise Unsendable(f"a tensor subclass ({type(value).__name__}); return a plain torch.Tensor")
        return value.detach().as_subclass(torch.Tensor).clone()
    if isinstance(value, torch.Size):
        return torch.Size(int(size) for size in value)
    if isinstance(value, (list, tuple)):
        items = [encode(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {encode(k, depth + 1): encode(v, depth + 1) for k, v in value.items()}
    raise Unsendable(f"an object of type {type(value).__name__}, which the grader cannot check; "
                     "return tensors, numbers, strings, lists, tuples or dicts of them")


def error_reply(error: BaseException) -> dict:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith("<")]
    lines = traceback.format_list(frames) + traceback.format_exception_only(type(error), error)
    text = "".join(lines)
    return {"ok": False, "ename": type(error).__name__, "evalue": str(error)[:4000], "traceback": text[-8000:]}


def defined_functions(namespace: dict, before: dict) -> list[str]:
    """Names a cell bound to something callable (not a module), for the grader to stand in for."""
    names = []
    for name, value in list(namespace.items())[:1000]:
        if name.startswith("__") or (name in before and before[name] is value):
            continue
        if callable(value) and not isinstance(value, type(sys)):
            names.append(name)
    return names


def serve(read_fd: int, write_fd: int) -> None:
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    channel = Channel(read_fd, write_fd)
    channel.send({"ok": True, "ready": True})  # imports done: the clock starts
    while True:
        try:
            request = channel.receive()
        except EOFError:
            return
        try:
            reply = handle(request, namespace, channel)
        except BaseException as error:  # noqa: BLE001 - the student's SystemExit included
            reply = error_reply(error)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            payload = wire.dump_reply(reply)
        except Exception as error:  # noqa: BLE001
            payload = wire.dump_reply({"ok": False, "ename": "TypeError", "evalue": f"unsendable result: {error}",
                                       "traceback": ""})
        wire.send(channel.write_fd, payload)


def handle(request: Exec | Call, namespace: dict, channel: Channel) -> dict:
    if type(request) is Exec:
        before = dict(namespace)
        code = compile(request.source, f"<cell {request.name}>", "exec")
        exec(code, namespace)  # noqa: S102 - this process exists to run the student's code
        return {"ok": True, "names": defined_functions(namespace, before)}
    if type(request) is Call:
        inbound = Inbound(channel)
        args = inbound.decode(request.args)
        kwargs = inbound.decode(request.kwargs)
        function = namespace.get(request.name)
        if function is None:
            raise NameError(f"name {request.name!r} is not defined")
        with forbid_calls(*request.forbidden):
            result = function(*args, **kwargs)
            is_iterator = isinstance(result, collections.abc.Iterator) and not isinstance(result, torch.Tensor)
            if is_iterator:
                result = list(itertools.islice(result, MAX_ITEMS))
        try:
            value = encode(result)
        except Unsendable as problem:
            raise TypeError(f"{request.name} returned {problem}") from None
        try:
            changed = inbound.report()
        except Unsendable as problem:
            raise TypeError(f"{request.name} kept in the dict it was given for its state {problem}") from None
        return {"ok": True, "value": value, "iterator": is_iterator, "changed": changed}
    raise ValueError(f"unknown request {type(request).__name__}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    arguments = parser.parse_args()
    serve(arguments.read_fd, arguments.write_fd)


if __name__ == "__main__":
    main()
