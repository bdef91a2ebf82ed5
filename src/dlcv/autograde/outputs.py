"""What a student is shown of a cell: its errors as nbformat outputs, with hidden tests kept hidden.

- ``error_output``: an exception as an nbformat error output; for a hidden test, only its
  message and the student's own traceback, never a line of the test;
- ``remote_error``: an error reported by the student's process, rebuilt here as an exception of
  a known built-in kind (so a test's ``pytest.raises``-style checks work), never of the student's;
- ``redact``: lines of the hidden tests replaced wherever they appear in outputs.
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
HIDDEN = "[hidden test]"


def remote_error(reply: Reply) -> Exception:
    kind = grading.ForbiddenCallError if reply.ename == "ForbiddenCallError" else PASSTHROUGH_ERRORS.get(reply.ename)
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


def redact(outputs: list[dict], hidden_lines: set[str]) -> list[dict]:
    """``outputs`` with every line of the hidden tests replaced by a marker."""

    def clean(text: str) -> str:
        for line in hidden_lines:
            if line in text:
                text = text.replace(line, HIDDEN)
        return text

    cleaned = []
    for output in outputs:
        output = dict(output)
        for key in ("text", "evalue"):
            if isinstance(output.get(key), str):
                output[key] = clean(output[key])
        if isinstance(output.get("traceback"), list):
            output["traceback"] = [clean(str(line)) for line in output["traceback"]]
        cleaned.append(output)
    return cleaned
