"""What crosses between the trusted grader and a student's sandboxed code.

Requests (grader to sandbox) are pickles: the sandbox may trust the grader. Replies
(sandbox to grader) are read with ``torch.load(weights_only=True)``, which builds only
tensors and plain containers, and are then rebuilt from exact built-in types, so an
object with rigged comparison methods, a tensor subclass or a callable can never reach
the code that judges a result.
"""

from __future__ import annotations

import io
import os
import struct
import types

import torch

HEADER = struct.Struct(">Q")
PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


class WireError(Exception):
    """A reply that is malformed, too large, or holds something other than plain data."""


class NotPlainData(Exception):
    """A value that cannot be sent as plain data (the grader then runs the cell in the sandbox)."""


def send(fd: int, payload) -> None:
    """Write one framed message (the payload is not copied: it may be hundreds of megabytes)."""
    for part in (HEADER.pack(len(payload)), payload):
        view = memoryview(part).cast("B")
        while view:
            written = os.write(fd, view)
            view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, limit: int) -> bytes:
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size))
    if size > limit:
        raise WireError(f"a reply of {size} bytes is larger than the limit of {limit} bytes")
    return read_exactly(fd, size)


def dump_reply(reply) -> memoryview:
    buffer = io.BytesIO()
    torch.save(reply, buffer)
    return buffer.getbuffer()


def load_reply(payload):
    """Read a reply safely and rebuild it from exact plain types."""
    try:
        loaded = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as error:  # the unpickler refuses anything but plain data
        raise WireError(f"the reply holds something other than plain data ({type(error).__name__})") from None
    return rebuild(loaded)


def rebuild(value, depth: int = 0):
    """A copy of ``value`` made only of exact built-in types and plain CPU tensors."""
    if depth > 50:
        raise WireError("the reply is nested too deeply")
    kind = type(value)
    if kind in PLAIN_SCALARS:
        return value
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided or value.device.type != "cpu":
            raise WireError("only dense CPU tensors can be returned")
        plain = torch.Tensor._make_subclass(torch.Tensor, value.detach(), False)
        if type(plain) is not torch.Tensor:
            raise WireError("only plain tensors can be returned")
        return plain
    if kind is torch.dtype:
        return value
    if kind is torch.Size:
        return torch.Size(int(size) for size in value)
    if kind in (list, tuple):
        return kind(rebuild(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return {rebuild(key, depth + 1): rebuild(item, depth + 1) for key, item in value.items()}
    raise WireError(f"the reply holds a {kind.__name__}, which is not plain data")


def whole_module_can_travel(module: torch.nn.Module) -> bool:
    """A model built only from PyTorch's own layers, without hooks, can be sent whole.

    Its forward pass then runs in the sandbox, and only its new state (parameters, gradients,
    buffers, training flags) comes back as plain data. A model whose class the instructor wrote
    (one that records what it sees, say) stays with the grader instead: see ``Outbound``.
    """
    for part in module.modules():
        if not type(part).__module__.startswith("torch.nn."):
            return False
        if part._forward_hooks or part._forward_pre_hooks or part._backward_hooks or part._backward_pre_hooks:
            return False
    return True


class Outbound:
    """Arguments for the sandbox, and a note of everything the grader must take back after the call.

    - plain tensors and random generators travel as copies; in-place changes come back;
    - tensors that track gradients (parameters) travel with their ``.grad``; their new values,
      gradients and ``requires_grad`` come back and are copied into the grader's own tensors,
      which stay leaves;
    - a model built from PyTorch's layers travels whole (``whole_module_can_travel``);
    - any other model stays here: the sandbox gets a stand-in with the same parameters whose
      forward pass (and backward pass) is run by the grader, so the instructor's model code,
      and whatever it records, never runs in the student's process;
    - a generator such as ``model.parameters()`` travels as the items it yields.

    One object passed twice arrives as one object. Anything else raises NotPlainData.
    """

    def __init__(self):
        self.tensors: list[torch.Tensor] = []
        self.generators: list[torch.Generator] = []
        self.leaves: list[torch.Tensor] = []
        self.modules: list[torch.nn.Module] = []
        self.remote_modules: list[torch.nn.Module] = []
        self.seen: dict[int, tuple] = {}

    def encode(self, value, depth: int = 0):
        if depth > 50:
            raise NotPlainData("nested too deeply")
        kind = type(value)
        if kind in PLAIN_SCALARS or kind in (torch.dtype, torch.device, torch.Size, slice, range):
            return value
        if id(value) in self.seen:
            return ("__same__", self.seen[id(value)])
        tag = self.encode_object(value, kind, depth)
        if tag[0] in ("__tensor__", "__leaf__", "__generator__", "__module__", "__remote_module__"):
            self.seen[id(value)] = (tag[0], tag[1])
        return tag

    def encode_object(self, value, kind, depth: int):
        if kind in (torch.Tensor, torch.nn.Parameter):
            if value.layout != torch.strided:
                raise NotPlainData("a sparse tensor")
            if value.requires_grad or value.grad is not None:
                if not value.is_leaf:
                    raise NotPlainData("a tensor that is the result of a computation that tracks gradients")
                self.leaves.append(value)
                grad = None if value.grad is None else value.grad.detach().clone()
                return ("__leaf__", len(self.leaves) - 1, compact(value), grad, value.requires_grad,
                        kind is torch.nn.Parameter)
            if kind is torch.nn.Parameter:
                raise NotPlainData("a parameter that does not require gradients")
            self.tensors.append(value)
            return ("__tensor__", len(self.tensors) - 1, compact(value))
        if kind is torch.Generator:
            self.generators.append(value)
            return ("__generator__", len(self.generators) - 1, value.get_state())
        if isinstance(value, torch.nn.Module):
            return self.encode_module(value)
        if kind in (list, tuple):
            return (kind.__name__, [self.encode(item, depth + 1) for item in value])
        if kind is dict:
            return ("dict", [(self.encode(k, depth + 1), self.encode(v, depth + 1)) for k, v in value.items()])
        if kind is types.GeneratorType:
            return ("__iter__", [self.encode(item, depth + 1) for item in value])
        raise NotPlainData(f"a {kind.__name__}")

    def encode_module(self, module: torch.nn.Module) -> tuple:
        if any(not p.is_leaf for p in module.parameters()):
            raise NotPlainData("a model whose parameters are not leaves")
        if whole_module_can_travel(module):
            self.modules.append(module)
            grads = [None if p.grad is None else p.grad.detach().clone() for p in module.parameters()]
            return ("__module__", len(self.modules) - 1, module, grads)
        self.remote_modules.append(module)
        owner = {id(p): name for name, p in module.named_parameters()}
        layout = {
            "modules": [name for name, _ in module.named_modules() if name],
            "params": [(owner[id(p)].rpartition(".")[0], owner[id(p)].rpartition(".")[2], compact(p),
                        None if p.grad is None else p.grad.detach().clone(), p.requires_grad)
                       for p in module.parameters()],
            "training": module.training,
        }
        return ("__remote_module__", len(self.remote_modules) - 1, layout)


def compact(tensor: torch.Tensor) -> torch.Tensor:
    """A detached copy holding only the tensor's own elements (a view would carry its whole storage)."""
    return tensor.detach().clone()
