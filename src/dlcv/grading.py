"""Helpers for the assignments' test cells.

Students write layers from tensor operations; these helpers let a test check that
an answer did not simply call the ready-made PyTorch layer it is meant to replace.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
from collections.abc import Iterator


class ForbiddenCallError(AssertionError):
    """An answer called a function the assignment asks students to write themselves."""


# The names forbidden where the code runs now (a context variable: blocks nest, threads do not mix).
_forbidden: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("forbidden", default=())


def forbidden_now() -> tuple[str, ...]:
    """The names that ``forbid_calls`` blocks forbid at this point, innermost last.

    The course's grader (dlcv.autograde) runs answers in another process and forwards
    these names with every call, so the block holds there too.
    """
    return _forbidden.get()


@contextlib.contextmanager
def forbid_calls(*qualified_names: str) -> Iterator[None]:
    """Make the named functions raise while the block runs, then restore them.

    Names are dotted paths such as ``"torch.nn.functional.relu"`` or
    ``"torch.Tensor.relu"``. An answer that calls one fails with a message naming it.
    """
    saved = []
    token = _forbidden.set(_forbidden.get() + qualified_names)
    try:
        for name in qualified_names:
            module_name, _, attribute = name.rpartition(".")
            owner = _resolve(module_name)
            original = getattr(owner, attribute)
            saved.append((owner, attribute, original))
            setattr(owner, attribute, _raiser(name))
        yield
    finally:
        for owner, attribute, original in reversed(saved):
            setattr(owner, attribute, original)
        _forbidden.reset(token)


def _resolve(dotted: str):
    """Import a module, or walk attributes for names like ``torch.Tensor``."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            owner = getattr(owner, attribute)
        return owner
    raise ImportError(f"cannot find {dotted}")


def _raiser(name: str):
    def forbidden(*args, **kwargs):
        raise ForbiddenCallError(
            f"your answer calls {name}, the ready-made version of what this exercise asks "
            "you to write; use tensor operations instead."
        )

    return forbidden


WATCHED = "_dlcv_watched"  # set on a tensor by watch(); a clone does not carry it


class WatchedDict(dict):
    """A dict that a test hands to the student's code for it to keep things in between calls (see watch)."""


def watch(value):
    """Hand ``value`` to the student's code so that the test sees what it changes; returns it.

    In a plain notebook this changes nothing: every call shares its arguments. The course's grader
    (dlcv.autograde) runs the student's code in another process and hands it copies, so that an
    answer cannot change the values a test compares it with. A test that checks that an answer
    leaves its input alone, or that it updates a tensor in place, watches that tensor, and then
    sees the change as nbgrader would. A dict is watched as a whole: ``watch({})`` returns a
    ``WatchedDict``, in which the student's code may keep what it needs at its next call (an
    optimiser's moments, say); what it holds after each call comes back, as plain data.
    """
    if type(value) is dict:
        return WatchedDict(value)
    if type(value) is WatchedDict:
        return value
    setattr(value, WATCHED, True)
    return value


def is_watched(tensor) -> bool:
    return getattr(tensor, WATCHED, False) is True
