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


def load_reply(payload):
    """Read a reply safely and rebuild it from exact plain types."""
    import torch

    try:
        loaded = torch.load(io.BytesIO(payload), weights_only=True, map_location="cpu")
    except Exception as error:  # the unpickler refuses anything but plain data
        raise WireError(f"the reply holds something other than plain data ({type(error).__name__})") from None
    return rebuild(loaded)


def rebuild(value, depth: int = 0):
    """A copy of ``value`` made only of exact built-in types and plain CPU tensors."""
    import torch

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
