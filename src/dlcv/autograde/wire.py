"""How messages cross between the judge and a student's sandboxed code: framing, and reading replies safely.

Requests (grader to sandbox) are pickles: the sandbox may trust the grader. Replies
(sandbox to grader) are read with ``torch.load(weights_only=True)``, which builds only
tensors and plain containers, and are then rebuilt from exact built-in types, so an
object with rigged comparison methods, a tensor subclass or a callable can never reach
the code that judges a result.
"""

from __future__ import annotations

import io
import os
import select
import struct
import time

HEADER = struct.Struct(">Q")
PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes)


class WireError(Exception):
    """A reply that is malformed, too large, or holds something other than plain data."""


class TooLate(Exception):
    """The deadline passed before a whole message arrived."""


def send(fd: int, payload) -> None:
    """Write one framed message (the payload is not copied: it may be hundreds of megabytes)."""
    for part in (HEADER.pack(len(payload)), payload):
        view = memoryview(part).cast("B")
        while view:
            written = os.write(fd, view)
            view = view[written:]


def read_exactly(fd: int, size: int, deadline: float | None = None) -> bytes:
    """``size`` bytes from ``fd``; with a deadline (``time.monotonic()``), TooLate once it passes."""
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TooLate(f"{size - remaining} of {size} bytes arrived in time")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, limit: int, deadline: float | None = None) -> bytes:
    """One framed message, refused when over ``limit`` bytes, all of it by ``deadline`` (if given)."""
    (size,) = HEADER.unpack(read_exactly(fd, HEADER.size, deadline))
    if size > limit:
        raise WireError(f"a reply of {size} bytes is larger than the limit of {limit} bytes")
    return read_exactly(fd, size, deadline)


def dump_reply(reply) -> memoryview:
    import torch  # here, not at the top: the judge starts the student's process before it imports PyTorch

    buffer = io.BytesIO()
    torch.save(reply, buffer)
    return buffer.getbuffer()


MAX_DEPTH = 50
MAX_OBJECTS = 200_000


class Budget:
    """What rebuilding one reply may cost the judge: objects visited, and bytes of tensor elements.

    A small reply can describe a lot: a tensor whose elements share memory (``expand``) or a list
    shared at every level of a deep structure would make the judge allocate gigabytes for a few
    bytes received. Both are counted here as if every element and object were real.
    """

    def __init__(self, element_bytes: int):
        self.objects, self.element_bytes = MAX_OBJECTS, element_bytes

    def spend(self, objects: int = 1, element_bytes: int = 0) -> None:
        self.objects -= objects
        self.element_bytes -= element_bytes
        if self.objects < 0:
            raise WireError(f"the reply holds more than {MAX_OBJECTS} objects")
        if self.element_bytes < 0:
            raise WireError("the reply's tensors hold more elements than the grader accepts")


def load_reply(payload, element_bytes: int | None = None):
    """Read a reply safely and rebuild it from exact plain types (tensor elements: at most
    ``element_bytes``, by default twice the payload's size)."""
    import torch

    try:
        loaded = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as error:  # the unpickler refuses anything but plain data
        raise WireError(f"the reply holds something other than plain data ({type(error).__name__})") from None
    return rebuild(loaded, Budget(2 * len(payload) if element_bytes is None else element_bytes))


def rebuild(value, budget: Budget, depth: int = 0):
    """A copy of ``value`` made only of exact built-in types and plain CPU tensors, within ``budget``."""
    import torch

    if depth > MAX_DEPTH:
        raise WireError("the reply is nested too deeply")
    budget.spend()
    kind = type(value)
    if kind in PLAIN_SCALARS or kind is torch.dtype:
        return value
    if isinstance(value, torch.Tensor):
        return plain_tensor(value, budget)
    if kind is torch.Size:
        return torch.Size(int(size) for size in value)
    if kind in (list, tuple):
        return kind(rebuild(item, budget, depth + 1) for item in value)
    if isinstance(value, dict):
        return {rebuild(key, budget, depth + 1): rebuild(item, budget, depth + 1) for key, item in value.items()}
    raise WireError(f"the reply holds a {kind.__name__}, which is not plain data")


def plain_tensor(value, budget: Budget):
    import torch

    if value.layout != torch.strided or value.device.type != "cpu":
        raise WireError("only dense CPU tensors can be returned")
    size = value.numel() * value.element_size()
    # Elements that share memory (expand, as_strided with a zero stride) cost nothing to send and
    # everything to use: each element must have bytes of its own in the storage.
    if size > value.untyped_storage().nbytes() - value.storage_offset() * value.element_size():
        raise WireError("a tensor whose elements share memory (made with expand or as_strided) cannot be "
                        "returned; return a tensor of its own, e.g. with .clone() or .contiguous()")
    budget.spend(element_bytes=size)
    plain = torch.Tensor._make_subclass(torch.Tensor, value.detach(), False)
    if type(plain) is not torch.Tensor:
        raise WireError("only plain tensors can be returned")
    return plain
