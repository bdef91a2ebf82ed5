"""What a student is shown of a cell: its errors as nbformat outputs, with hidden tests kept hidden.

- ``error_output``: an exception as an nbformat error output; for a hidden test, only its
  message and the student's own traceback, never a line of the test;
- ``remote_error``: an error reported by the student's process, rebuilt here as an exception of
  a known built-in kind (so a test's ``pytest.raises``-style checks work), never of the student's;
"""

from __future__ import annotations

import builtins
import traceback

from dlcv import grading
from dlcv.autograde.protocol import Reply
from dlcv.autograde.student import StudentCodeFailed

PASSTHROUGH_ERRORS = {
    name: getattr(builtins, name)
    for name in ("AssertionError", "ValueError", "TypeError", "IndexError", "KeyError", "RuntimeError",
                 "NotImplementedError", "ZeroDivisionError", "AttributeError", "NameError", "StopIteration")
}


def remote_error(reply: Reply, in_hidden_test: bool = False, forbidden: tuple[str, ...] = ()) -> Exception:
    """The student's error as an exception of a known kind; in a hidden test, its kind alone.

    What a hidden test hands the student's code could be carried out in an error's message, so
    there the message is the grader's own (and the student's traceback is not shown).
    """
    kind = grading.ForbiddenCallError if reply.ename == "ForbiddenCallError" else PASSTHROUGH_ERRORS.get(reply.ename)
    if in_hidden_test:
        if kind is grading.ForbiddenCallError:
            message = ("your answer calls one of the ready-made functions that this exercise asks you not to use: "
                       + ", ".join(forbidden))
        else:
            message = f"your code raised {reply.ename[:100]} in a hidden test"
        return (kind or StudentCodeFailed)(message)
    error = kind(reply.evalue) if kind else StudentCodeFailed(f"{reply.ename}: {reply.evalue}")
    error.remote_traceback = reply.traceback
    return error


def error_output(error: BaseException, hidden: bool) -> dict:
    """An nbformat error output; a hidden test's shows no line of the test, only its message."""
    lines = []
    if not hidden:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
        lines += traceback.format_list(frames)
    remote = getattr(error, "remote_traceback", "")
    if remote:
        lines.append("In your code:\n" + remote)
    lines += traceback.format_exception_only(type(error), error)
    return {"output_type": "error", "ename": type(error).__name__, "evalue": str(error), "traceback": lines}
