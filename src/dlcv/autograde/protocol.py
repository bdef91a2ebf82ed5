"""The grader's vocabulary: every message that passes between the three processes of a grading run.

Grading one submission involves three processes:

- the **command** (``dlcv autograde``) gives the **judge** a :class:`Job` (JSON on its stdin) and
  reads back one :class:`CellResult` per cell (JSON lines on its stdout);
- the **judge** (trusted) sends requests (:class:`Exec`, :class:`Call`, :class:`ModelAnswer`) to the
  **student's process** in the sandbox, as pickles: that process may trust the judge;
- the student's process (untrusted) answers with plain dicts, which the judge reads with
  ``wire.load_reply`` and then checks with :func:`parse_reply` before it uses any of them.

Adding a kind of argument that a student's function can be given is one member of
:class:`ArgKind` here, plus its encoding (``arguments``), decoding (``worker``) and, if its
changes come back, the taking back (``takeback``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any


class Role(enum.StrEnum):
    """What a code cell of the instructor's notebook is, for the grader."""

    SETUP = "setup"  # imports and helpers: run by the judge and in the student's process
    ANSWER = "answer"  # the student's code: run only in the student's process
    TEST = "test"  # the instructor's asserts: run only by the judge


class ArgKind(enum.StrEnum):
    """How one argument of a call to a student's function travels to the student's process."""

    SAME = "same"  # an object already sent in this call: arrives as that same object
    LIST = "list"
    TUPLE = "tuple"
    DICT = "dict"
    ITERATOR = "iterator"  # a generator such as model.parameters(): travels as the items it yields
    VALUE = "value"  # a plain tensor: a copy travels, and what the student's code does to it stays there
    TENSOR = "tensor"  # a tensor a test watches (grading.watch): a copy travels; in-place changes come back
    LEAF = "leaf"  # a tensor that tracks gradients: values, .grad and requires_grad come back
    GENERATOR = "generator"  # a random generator: its new state comes back
    MODULE = "module"  # a model built from PyTorch's own layers: travels whole, its new state comes back
    REMOTE_MODULE = "remote_module"  # a model the instructor wrote: stays with the judge (see proxies)
    STATE = "state"  # a dict a test watches (grading.watch) for the student's code to keep state in: it comes back
    REMOTE_FUNCTION = "remote_function"  # a function the test wrote: stays with the judge, which runs it (see proxies)


# The kinds whose new state a reply carries back, in this order, one list each (for VALUE and
# REMOTE_FUNCTION a list of None: listed so that an object passed twice can be found by position).
TAKEN_BACK = (ArgKind.VALUE, ArgKind.TENSOR, ArgKind.LEAF, ArgKind.GENERATOR, ArgKind.MODULE, ArgKind.REMOTE_MODULE,
              ArgKind.STATE, ArgKind.REMOTE_FUNCTION)


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds, sizes in MiB."""

    cell_timeout: float = 60.0
    notebook_timeout: float = 600.0
    memory_mb: int = 4096
    processes: int = 128
    output_chars: int = 20_000
    file_mb: int = 64
    reply_mb: int = 256
    tmp_mb: int = 256  # the private /tmp and the home folder in the sandbox, each (memory RLIMIT_AS does not count)
    judge_memory_mb: int = 8192  # the trusted judge's address space

    @property
    def reply_bytes(self) -> int:
        return self.reply_mb * 2**20


@dataclasses.dataclass(frozen=True)
class CellJob:
    """One code cell of the instructor's notebook, as the judge runs it (answers already swapped in)."""

    index: int  # the cell's position in the instructor's notebook
    role: Role
    name: str  # nbgrader's grade_id, or cell<index>
    source: str
    hidden: bool  # a test holding hidden tests: its failures show no line of it


@dataclasses.dataclass(frozen=True)
class StudentSpec:
    """How to start one student's process (confined; see sandbox)."""

    command: list[str]
    env: dict[str, str]
    cwd: str | None


@dataclasses.dataclass(frozen=True)
class Job:
    """Everything the judge needs to grade one submission.

    The student's answers run in two processes that cannot reach each other: one serves the
    answer cells and visible tests, whose outputs the student sees; the other serves the hidden
    tests, and nothing it prints or raises reaches the student beyond a verdict. So what a hidden
    test hands the student's code cannot be carried into anything the student is shown.
    """

    cells: list[CellJob]
    visible: StudentSpec
    hidden: StudentSpec
    limits: Limits
    logs: str  # a folder of the command's for the student's processes' output; the command removes it

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        raw = json.loads(text)
        return cls(cells=[CellJob(**{**cell, "role": Role(cell["role"])}) for cell in raw["cells"]],
                   visible=StudentSpec(**raw["visible"]), hidden=StudentSpec(**raw["hidden"]),
                   limits=Limits(**raw["limits"]), logs=raw["logs"])


@dataclasses.dataclass
class CellResult:
    """What became of one cell: its outputs (nbformat dicts), and why it could not be judged, if so.

    A test that hands the student's code something that cannot cross as plain data is not
    judged at all (it scores zero); ``unjudged`` says why, for the instructor's summary.
    """

    index: int
    outputs: list[dict]
    unjudged: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CellResult:
        raw = json.loads(text)
        if type(raw) is not dict or type(raw.get("index")) is not int or type(raw.get("outputs")) is not list:
            raise ValueError("not a cell result")
        unjudged = raw.get("unjudged")
        return cls(index=raw["index"], outputs=raw["outputs"], unjudged=None if unjudged is None else str(unjudged))


@dataclasses.dataclass
class JudgeEnd:
    """The judge's last line: how the student's process ended, and whether the machine ended it.

    ``machine_fault``: the student's process was killed by a signal that none of its own limits
    sends (SIGKILL from the system's out-of-memory killer, or from another process). That is not
    the student's fault: the command grades the submission again, once.
    """

    student_process: str | None  # why it ended early, if it did
    machine_fault: bool

    def to_json(self) -> str:
        return json.dumps({"end": dataclasses.asdict(self)})

    @classmethod
    def from_json(cls, text: str) -> JudgeEnd:
        raw = json.loads(text)
        if type(raw) is not dict or type(raw.get("end")) is not dict:
            raise ValueError("not the judge's last line")
        end = raw["end"]
        return cls(None if end.get("student_process") is None else str(end["student_process"]),
                   end.get("machine_fault") is True)


# Requests: judge to the student's process.

@dataclasses.dataclass(frozen=True)
class Exec:
    """Run a cell's code in the student's process; the reply names the functions it defined."""

    source: str
    name: str


@dataclasses.dataclass(frozen=True)
class Call:
    """Call the student's function ``name``; arguments are encoded by ``arguments.Outbound``."""

    name: str
    args: Any
    kwargs: Any
    forbidden: tuple[str, ...]  # qualified names that raise while the function runs (grading.forbid_calls)


@dataclasses.dataclass(frozen=True)
class ModelAnswer:
    """The judge's answer to a callback (a forward or backward pass of one of its models)."""

    ok: bool
    values: dict  # output and graph, or input_grad and param_grads
    ename: str = ""
    evalue: str = ""


# Replies: the student's process to the judge. They arrive as plain dicts and are checked here.

class MalformedReply(Exception):
    """A reply that does not have the form the protocol gives it."""


@dataclasses.dataclass
class Reply:
    """A checked reply. ``ok`` False: the student's code raised ``ename: evalue``."""

    ok: bool
    ready: bool = False  # the process has started and is waiting for requests
    names: list[str] = dataclasses.field(default_factory=list)  # functions an Exec defined
    value: Any = None  # what a Call returned (plain data)
    iterator: bool = False  # ... and it was an iterator, sent as a list of its items
    changed: dict[ArgKind, list] = dataclasses.field(default_factory=dict)  # new state, per TAKEN_BACK kind
    callback: dict | None = None  # a question for one of the judge's models (see proxies.ModelServer)
    ename: str = ""
    evalue: str = ""
    traceback: str = ""


def parse_reply(raw) -> Reply:
    """Check a reply's form (its values are checked where they are used) and make it a Reply."""
    if type(raw) is not dict or type(raw.get("ok")) is not bool:
        raise MalformedReply("a reply must be a dict with a bool 'ok'")
    if not raw["ok"]:
        return Reply(False, ename=str(raw.get("ename", "Error"))[:200], evalue=str(raw.get("evalue", ""))[:4000],
                     traceback=str(raw.get("traceback", ""))[-8000:])
    if "callback" in raw:
        if type(raw["callback"]) is not dict:
            raise MalformedReply("a callback must be a dict")
        return Reply(True, callback=raw["callback"])
    if raw.get("ready") is True:
        return Reply(True, ready=True)
    if "names" in raw:
        names = raw["names"]
        if type(names) is not list or any(type(name) is not str for name in names):
            raise MalformedReply("names must be a list of strings")
        return Reply(True, names=[name for name in names if name.isidentifier()])
    changed = raw.get("changed")
    if type(changed) is not dict or set(changed) != {kind.value for kind in TAKEN_BACK}:
        raise MalformedReply("a call's reply must say what changed, for every kind that comes back")
    if any(type(states) is not list for states in changed.values()):
        raise MalformedReply("what changed must be lists")
    if type(raw.get("iterator")) is not bool:
        raise MalformedReply("a call's reply must say whether it returned an iterator")
    return Reply(True, value=raw.get("value"), iterator=raw["iterator"],
                 changed={ArgKind(kind): states for kind, states in changed.items()})
