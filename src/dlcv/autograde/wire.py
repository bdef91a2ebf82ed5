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

import torch

HEADER = struct.Struct(">Q")
PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


class WireError(Exception):
    """A reply that is malformed, too large, or holds something other than plain data."""


class NotPlainData(Exception):
    """A value that cannot be sent as plain data (the grader then runs the cell in the sandbox)."""


def send(fd: int, payload: bytes) -> None:
    data = HEADER.pack(len(payload)) + payload
    view = memoryview(data)
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


def dump_reply(reply) -> bytes:
    buffer = io.BytesIO()
    torch.save(reply, buffer)
    return buffer.getvalue()


def load_reply(payload: bytes):
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


def to_plain(value, tensors: list, generators: list, depth: int = 0):
    """Arguments for the sandbox: plain data, with tensors and generators numbered.

    The numbering lets the grader copy back what the student's code changed in place
    (a tensor's values, a random generator's state). Anything else raises NotPlainData.
    """
    if depth > 50:
        raise NotPlainData("nested too deeply")
    kind = type(value)
    if kind in PLAIN_SCALARS or kind in (torch.dtype, torch.device, torch.Size, slice, range):
        return value
    if kind is torch.Tensor:
        if value.requires_grad or value.grad is not None or value.layout != torch.strided:
            raise NotPlainData("a tensor that tracks gradients")
        tensors.append(value)
        return ("__tensor__", len(tensors) - 1, value.detach().clone())
    if kind is torch.Generator:
        generators.append(value)
        return ("__generator__", len(generators) - 1, value.get_state())
    if kind in (list, tuple):
        return (kind.__name__, [to_plain(item, tensors, generators, depth + 1) for item in value])
    if kind is dict:
        return ("dict", [(to_plain(k, tensors, generators, depth + 1), to_plain(v, tensors, generators, depth + 1))
                         for k, v in value.items()])
    raise NotPlainData(f"a {kind.__name__}")
