"""Taking back what a student's call changed: new state copied into the judge's own objects.

After a call, the student's process reports the new state of every argument whose kind is in
``protocol.TAKEN_BACK``. Each piece is checked (exact types, shapes) before it is copied into
the object the judge sent; the judge's objects stay its own (a parameter stays a leaf, a model
keeps its class), so nothing of the student's process is ever kept.
"""

from __future__ import annotations

import torch

from dlcv.autograde.protocol import TAKEN_BACK, ArgKind


class StateRefused(Exception):
    """What came back cannot be taken: the message says why, for the student."""


def malformed() -> StateRefused:
    return StateRefused("your code's process sent back a malformed reply")


def take_back(sent: dict[ArgKind, list], changed: dict[ArgKind, list]) -> None:
    """Copy ``changed`` (one list of states per kind) into the objects of ``sent``, checking every piece."""
    if any(len(changed.get(kind, ())) != len(sent[kind]) for kind in TAKEN_BACK):
        raise malformed()
    # ArgKind.VALUE: copies whose changes stay with the student's code, whatever the reply says.
    for original, state in zip(sent[ArgKind.TENSOR], changed[ArgKind.TENSOR]):
        set_tensor(original, state)
    for generator, state in zip(sent[ArgKind.GENERATOR], changed[ArgKind.GENERATOR]):
        if type(state) is not torch.Tensor or state.dtype != torch.uint8:
            raise malformed()
        generator.set_state(state)
    for leaf, state in zip(sent[ArgKind.LEAF], changed[ArgKind.LEAF]):
        set_parameter(leaf, state)
    for module, state in zip(sent[ArgKind.MODULE], changed[ArgKind.MODULE]):
        set_module(module, state)
    for module, state in zip(sent[ArgKind.REMOTE_MODULE], changed[ArgKind.REMOTE_MODULE]):
        if type(state) is not dict or type(state.get("training")) is not bool:
            raise malformed()
        set_parameters(list(module.parameters()), state.get("params"))
        if module.training != state["training"]:
            module.train(state["training"])
    for kept, contents in zip(sent[ArgKind.STATE], changed[ArgKind.STATE]):
        # The student's code keeps its own things here: plain data (the safe reader made sure of
        # it), which the judge only hands back to the student's code at the next call.
        if type(contents) is not dict:
            raise malformed()
        kept.clear()
        kept.update(contents)
    # ArgKind.REMOTE_FUNCTION: the test's function never left the judge.


def set_tensor(original: torch.Tensor, state) -> None:
    """A watched tensor's new values (None: a large tensor that the call left as it was).

    Only its values change here: a new shape or dtype (``x.data = ...``) is refused, so that what
    comes back can never make the judge's tensor larger than the judge made it.
    """
    if state is None:
        return
    if type(state) is not torch.Tensor:
        raise malformed()
    if state.shape != original.shape or state.dtype != original.dtype:
        raise StateRefused(f"your code changed an argument of shape {tuple(original.shape)} and dtype "
                           f"{original.dtype} into one of shape {tuple(state.shape)} and dtype {state.dtype}; "
                           "change values in place, or return a new tensor")
    if not torch.equal(state, original):
        with torch.no_grad():
            original.copy_(state)


def set_parameter(parameter: torch.Tensor, state) -> None:
    """A parameter's new values, gradient and requires_grad, copied in; it stays a leaf here."""
    if type(state) is not tuple or len(state) != 3 or type(state[2]) is not bool:
        raise malformed()
    data, grad, requires_grad = state
    if type(data) is not torch.Tensor or (grad is not None and type(grad) is not torch.Tensor):
        raise malformed()
    if data.shape != parameter.shape or (grad is not None and grad.shape != parameter.shape):
        raise StateRefused(f"your code changed the shape of a parameter from {tuple(parameter.shape)} to "
                           f"{tuple(data.shape)}; update parameters in place")
    with torch.no_grad():
        parameter.copy_(data)
    parameter.requires_grad_(requires_grad)
    parameter.grad = None if grad is None else grad.to(parameter.dtype)


def set_parameters(parameters: list, states) -> None:
    if type(states) is not list:
        raise malformed()
    if len(states) != len(parameters):
        raise StateRefused(f"the model had {len(parameters)} parameters and came back with {len(states)}; "
                           "train the model you are given without adding or removing layers")
    for parameter, state in zip(parameters, states):
        set_parameter(parameter, state)


def set_module(module: torch.nn.Module, state) -> None:
    """A whole model's new parameters, buffers and training flags, copied into the judge's model."""
    if type(state) is not dict or type(state.get("buffers")) is not list or type(state.get("training")) is not list:
        raise malformed()
    set_parameters(list(module.parameters()), state.get("params"))
    buffers, parts = list(module.buffers()), list(module.modules())
    if len(state["buffers"]) != len(buffers) or len(state["training"]) != len(parts):
        raise StateRefused("the model came back with a different structure; train the model you are given "
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
