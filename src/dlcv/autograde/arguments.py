"""Encoding the judge's arguments for a call to a student's function (the judge's side of ``ArgKind``).

Each argument is encoded as plain data tagged with its ``protocol.ArgKind``; the student's
process rebuilds it (``worker.Inbound``). ``Outbound`` also keeps, for each kind listed in
``protocol.TAKEN_BACK``, the judge's own objects, in the order they were sent, so that
``takeback`` can copy their new state into them after the call.
"""

from __future__ import annotations

import types

import torch

from dlcv import grading
from dlcv.autograde.protocol import TAKEN_BACK, ArgKind

PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)
PLAIN_VALUES = (torch.dtype, torch.device, torch.Size, slice, range)
# Functions a test may hand the student's code (the ``f`` of a numerical gradient): they stay here.
TEST_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType)
MAX_DEPTH = 50


class NotPlainData(Exception):
    """An argument that cannot cross as plain data: the test that passes it cannot be judged."""


def whole_module_can_travel(module: torch.nn.Module) -> bool:
    """A model built only from PyTorch's own layers, without hooks, can be sent whole.

    Its forward pass then runs in the sandbox, and only its new state (parameters, gradients,
    buffers, training flags) comes back as plain data. A model whose class the instructor wrote
    (one that records what it sees, say) stays with the judge instead (``ArgKind.REMOTE_MODULE``).
    """
    for part in module.modules():
        if not type(part).__module__.startswith("torch.nn."):
            return False
        if part._forward_hooks or part._forward_pre_hooks or part._backward_hooks or part._backward_pre_hooks:
            return False
    return True


def compact(tensor: torch.Tensor) -> torch.Tensor:
    """A detached copy holding only the tensor's own elements (a view would carry its whole storage)."""
    return tensor.detach().clone()


def gradient_copy(tensor: torch.Tensor) -> torch.Tensor | None:
    return None if tensor.grad is None else tensor.grad.detach().clone()


class Outbound:
    """The arguments of one call, encoded; and the objects whose changes must be taken back after it.

    One object passed twice arrives as one object (``ArgKind.SAME``). Anything that is not
    plain data, a tensor, a generator, a model, a watched dict or a function the test wrote raises
    NotPlainData.
    """

    def __init__(self):
        self.sent: dict[ArgKind, list] = {kind: [] for kind in TAKEN_BACK}
        self.seen: dict[int, tuple[str, int]] = {}  # id of an object sent: its kind and position

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise NotPlainData("nested too deeply")
        kind = type(value)
        if kind in PLAIN_SCALARS or kind in PLAIN_VALUES:
            return value
        if id(value) in self.seen:
            return (ArgKind.SAME.value, self.seen[id(value)])
        if kind in (list, tuple):
            tag = ArgKind.LIST if kind is list else ArgKind.TUPLE
            return (tag.value, [self.encode(item, depth + 1) for item in value])
        if kind is dict:
            return (ArgKind.DICT.value, [(self.encode(k, depth + 1), self.encode(v, depth + 1))
                                         for k, v in value.items()])
        if kind is types.GeneratorType:
            return (ArgKind.ITERATOR.value, [self.encode(item, depth + 1) for item in value])
        if kind is grading.WatchedDict:
            position = self.register(value, ArgKind.STATE)  # before its items: they may refer to it
            return (ArgKind.STATE.value, position, [(self.encode(k, depth + 1), self.encode(v, depth + 1))
                                                    for k, v in value.items()])
        arg_kind, payload = self.encode_object(value, kind)
        return (arg_kind.value, self.register(value, arg_kind), *payload)

    def register(self, value, kind: ArgKind) -> int:
        """Keep ``value`` for taking back its changes; its position among the objects of its kind."""
        self.sent[kind].append(value)
        self.seen[id(value)] = (kind.value, len(self.sent[kind]) - 1)
        return len(self.sent[kind]) - 1

    def encode_object(self, value, kind) -> tuple[ArgKind, tuple]:
        """The kind of an object whose changes come back, and what travels of it."""
        if kind in (torch.Tensor, torch.nn.Parameter):
            if value.layout != torch.strided:
                raise NotPlainData("a sparse tensor")
            if value.requires_grad or value.grad is not None:
                if not value.is_leaf:
                    raise NotPlainData("a tensor that is the result of a computation that tracks gradients")
                return ArgKind.LEAF, (compact(value), gradient_copy(value), value.requires_grad,
                                      kind is torch.nn.Parameter)
            if kind is torch.nn.Parameter:
                raise NotPlainData("a parameter that does not require gradients")
            return (ArgKind.TENSOR if grading.is_watched(value) else ArgKind.VALUE), (compact(value),)
        if kind is torch.Generator:
            return ArgKind.GENERATOR, (value.get_state(),)
        if kind in TEST_FUNCTIONS:
            return ArgKind.REMOTE_FUNCTION, ()  # nothing of it travels, not even its name
        if isinstance(value, torch.nn.Module):
            return self.encode_module(value)
        raise NotPlainData(f"a {kind.__name__}")

    @staticmethod
    def encode_module(module: torch.nn.Module) -> tuple[ArgKind, tuple]:
        if any(not p.is_leaf for p in module.parameters()):
            raise NotPlainData("a model whose parameters are not leaves")
        if whole_module_can_travel(module):
            return ArgKind.MODULE, (module, [gradient_copy(p) for p in module.parameters()])
        owner = {id(p): name for name, p in module.named_parameters()}
        layout = {
            "modules": [name for name, _ in module.named_modules() if name],
            # (owning module's path, parameter name, values, gradient, requires_grad), in parameters() order
            "params": [(owner[id(p)].rpartition(".")[0], owner[id(p)].rpartition(".")[2], compact(p),
                        gradient_copy(p), p.requires_grad) for p in module.parameters()],
            "training": module.training,
        }
        return ArgKind.REMOTE_MODULE, (layout,)

    @property
    def remote_modules(self) -> list[torch.nn.Module]:
        return self.sent[ArgKind.REMOTE_MODULE]

    @property
    def remote_functions(self) -> list:
        return self.sent[ArgKind.REMOTE_FUNCTION]
