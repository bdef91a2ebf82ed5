"""Every chapter has the same frame (issue 14): learning objectives near its start, then at its end a
summary, self-check questions in dropdowns, and at least six exercises of three kinds, each followed
by its worked solution. Reads the notebooks with nbformat and runs none of them, so it takes a second.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.helpers.course import COURSE_ROOT

OBJECTIVES = "**After this chapter you can**"
KINDS = ("Pen and paper", "Conceptual", "Code")
MIN_EXERCISES, MIN_SELF_CHECKS = 6, 2
DIRECTIVE = re.compile(r"^:::\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>.*)$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")


def chapter_paths() -> list[Path]:
    """The notebooks of the table of contents' "Chapters" part, in the book's order."""
    toc = yaml.safe_load((COURSE_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [COURSE_ROOT / f"{entry['file']}.ipynb"
            for part in toc["parts"] if part.get("caption") == "Chapters" for entry in part["chapters"]]


def directives(text: str) -> list[dict]:
    """The colon-fenced directives of a page, in order: name, argument, options and first line of body."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines):
        match = DIRECTIVE.match(line.strip())
        if not match:
            continue
        options, body = {}, ""
        for following in lines[number + 1:]:
            option = OPTION.match(following.strip())
            if option:
                options[option["key"]] = option["value"].strip()
            elif following.strip():
                body = following.strip()
                break
        found.append({"name": match["name"], "argument": match["argument"].strip(), "options": options,
                      "body": body, "line": number})
    return found


def sections(text: str) -> dict[str, str]:
    """The page's text under each second-level heading ("## Summary"), up to the next such heading."""
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.MULTILINE)
    return {heading: body for heading, body in zip(parts[1::2], parts[2::2])}


def markdown_of(notebook) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def exercise_labels(notebook) -> list[str]:
    return [d["options"].get("label", "") for d in directives(markdown_of(notebook)) if d["name"] == "exercise"]


def structure_problems(notebook) -> list[str]:
    """What the chapter lacks of the frame, in words; an empty list when it is complete."""
    problems = []
    opening = [cell.source for cell in notebook.cells[:3] if cell.cell_type == "markdown"]
    if not any(OBJECTIVES in source for source in opening):
        problems.append(f"no learning objectives ({OBJECTIVES!r} followed by a list) in the first cells")
    by_heading = sections(markdown_of(notebook))
    if not by_heading.get("Summary", "").strip():
        problems.append("no '## Summary' section")
    checks = [d for d in directives(by_heading.get("Self-check", ""))
              if d["name"] == "admonition" and d["options"].get("class") == "dropdown" and d["argument"]]
    if len(checks) < MIN_SELF_CHECKS:
        problems.append(f"'## Self-check' has {len(checks)} dropdown question(s), fewer than {MIN_SELF_CHECKS}")

    found = directives(by_heading.get("Exercises", ""))
    exercises = [d for d in found if d["name"] == "exercise"]
    solutions = {d["argument"]: d for d in found if d["name"] == "solution"}
    if len(exercises) < MIN_EXERCISES:
        problems.append(f"'## Exercises' has {len(exercises)} exercise(s), fewer than {MIN_EXERCISES}")
    kinds = Counter()
    for exercise in exercises:
        label = exercise["options"].get("label")
        if not label:
            problems.append(f"an exercise without a :label: (line {exercise['line']} of the Exercises section)")
            continue
        kind = next((kind for kind in KINDS if exercise["body"].startswith(f"({kind}")), None)
        if kind is None:
            problems.append(f"exercise {label!r} does not open with its kind, one of {KINDS}, in brackets")
        kinds[kind] += 1
        solution = solutions.get(label)
        if solution is None:
            problems.append(f"exercise {label!r} has no solution (':::{{solution}} {label}')")
        elif solution["line"] < exercise["line"]:
            problems.append(f"the solution of {label!r} comes before its exercise")
        elif solution["options"].get("class") != "dropdown":
            problems.append(f"the solution of {label!r} is not a collapsed dropdown (':class: dropdown')")
    missing_kinds = [kind for kind in KINDS if not kinds[kind]]
    if exercises and missing_kinds:
        problems.append(f"no exercise of the kind(s) {missing_kinds}")
    orphans = sorted(set(solutions) - {exercise["options"].get("label") for exercise in exercises})
    if orphans:
        problems.append(f"solution(s) without an exercise: {orphans}")
    return problems


def read(path: Path):
    return nbformat.read(path, as_version=4)


def test_the_table_of_contents_lists_chapters():
    assert len(chapter_paths()) >= 8 and all(path.exists() for path in chapter_paths())


@pytest.mark.parametrize("path", chapter_paths(), ids=lambda path: path.stem)
def test_chapter_has_objectives_summary_self_check_and_exercises(path):
    problems = structure_problems(read(path))
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_exercise_labels_are_unique_across_the_book():
    labels = Counter(label for path in chapter_paths() for label in exercise_labels(read(path)))
    assert not [label for label, count in labels.items() if count > 1]


# The check itself, on modified copies of a complete chapter.

def complete_chapter():
    return read(COURSE_ROOT / "book" / "06_backprop.ipynb")


def edited(notebook, old: str, new: str):
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and old in cell.source:
            cell.source = cell.source.replace(old, new, 1)
            return notebook
    raise AssertionError(f"{old!r} is in no markdown cell")


def test_a_complete_chapter_passes():
    assert structure_problems(complete_chapter()) == []


def test_a_missing_solution_is_caught():
    notebook = edited(complete_chapter(), ":::{solution} backprop-mse", ":::{note}")
    assert structure_problems(notebook) == ["exercise 'backprop-mse' has no solution (':::{solution} backprop-mse')"]


def test_a_solution_that_shows_open_or_misnamed_is_caught():
    shown = edited(complete_chapter(), ":::{solution} backprop-mse\n:class: dropdown", ":::{solution} backprop-mse")
    assert structure_problems(shown) == ["the solution of 'backprop-mse' is not a collapsed dropdown "
                                         "(':class: dropdown')"]
    misnamed = edited(complete_chapter(), ":::{solution} backprop-mse", ":::{solution} backprop-mes")
    assert structure_problems(misnamed) == ["exercise 'backprop-mse' has no solution (':::{solution} backprop-mse')",
                                            "solution(s) without an exercise: ['backprop-mes']"]


def test_missing_objectives_summary_and_self_checks_are_caught():
    notebook = complete_chapter()
    notebook = edited(notebook, OBJECTIVES, "You will learn")
    notebook = edited(notebook, "## Summary", "## In short")
    notebook = edited(notebook, ":::{admonition} Which gradient", "::: Which gradient")
    notebook = edited(notebook, ":::{admonition} The model is sure", "::: The model is sure")
    problems = structure_problems(notebook)
    assert len(problems) == 3 and "learning objectives" in problems[0] and "Summary" in problems[1]
    assert "1 dropdown question(s)" in problems[2]
