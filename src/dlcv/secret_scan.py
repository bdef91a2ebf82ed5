"""Find solution and hidden-test lines in files about to be published.

The student edition is public: one line of a solution region or of a hidden test in it
ends the autograding. ``secret_lines`` reads every such line from the assignments' sources
(``solutions/``); ``scan`` looks for them in the text of each published file (for
notebooks, in the source and outputs of every cell), and for nbgrader's region markers.

Some lines are too common to give anything away (``model.train()``, ``continue``): a line
counts only when it names at least ``MIN_NAMES`` identifiers and does not also appear
outside the secret regions of a source (a visible test's call, for example). Lines the
lecture itself teaches can be listed in ``edition/taught-lines.txt``, each under a
comment saying why; publishing then lets them through.
"""

from __future__ import annotations

import json
import keyword
import re
from dataclasses import dataclass
from pathlib import Path

MIN_NAMES = 3
BEGIN = re.compile(r"#+\s*BEGIN (SOLUTION|HIDDEN TESTS)")
END = re.compile(r"#+\s*END (SOLUTION|HIDDEN TESTS)")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours in tracebacks


@dataclass(frozen=True)
class Leak:
    """A secret line (or a region marker) found in a published file."""

    path: str
    line: str
    source: str  # the solutions notebook it comes from, or "nbgrader marker"

    def __str__(self) -> str:
        return f"{self.path}: {self.line!r} (from {self.source})"


def names_in(line: str) -> int:
    return sum(1 for name in NAME.findall(line) if not keyword.iskeyword(name))


def split_regions(source: str) -> tuple[list[str], list[str]]:
    """The stripped lines of a cell inside and outside its solution and hidden-test regions."""
    inside, outside, depth = [], [], 0
    for line in source.splitlines():
        text = line.strip()
        if BEGIN.search(text):
            depth += 1
        elif END.search(text):
            depth = max(0, depth - 1)
        elif text:
            (inside if depth else outside).append(text)
    return inside, outside


def secret_lines(solutions: Path, taught: set[str] = frozenset()) -> dict[str, str]:
    """Each distinctive line of a solution region or hidden test, with the notebook it is in."""
    secrets: dict[str, str] = {}
    public: set[str] = set()
    for notebook in sorted(solutions.glob("*/*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            source = "".join(cell.get("source", []))
            inside, outside = split_regions(source)
            public.update(outside)
            for line in inside:
                secrets.setdefault(line, str(notebook.relative_to(solutions.parent)))
    return {line: where for line, where in secrets.items()
            if line not in public and line not in taught and names_in(line) >= MIN_NAMES}


def read_taught_lines(path: Path) -> set[str]:
    """The lines of ``taught-lines.txt``: one published line a line; ``#`` starts a comment line."""
    if not path.is_file():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def published_text(path: Path) -> str | None:
    """The text a reader of ``path`` sees: a notebook's cell sources and outputs; None for binary files."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, ValueError):
        return None
    if path.suffix != ".ipynb":
        return text
    parts = []
    for cell in json.loads(text).get("cells", []):
        parts.append("".join(cell.get("source", [])))
        parts.extend(strings_in(cell.get("outputs", [])))
    return ANSI.sub("", "\n".join(parts))


def strings_in(value) -> list[str]:
    """Every string inside a notebook output (text, tracebacks, data of every type), joined per list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return ["".join(value), "\n".join(value)]
        return [text for item in value for text in strings_in(item)]
    return []


def scan(files: dict[str, Path], secrets: dict[str, str]) -> list[Leak]:
    """Every secret line and region marker in ``files`` (published name -> file on disk)."""
    leaks = []
    for name, path in sorted(files.items()):
        text = published_text(path)
        if text is None:
            continue
        for line in {line.strip() for line in text.splitlines()}:
            if line in secrets:
                leaks.append(Leak(name, line, secrets[line]))
            elif BEGIN.search(line) or END.search(line):
                leaks.append(Leak(name, line, "nbgrader marker"))
    return sorted(leaks, key=lambda leak: (leak.path, leak.line))
