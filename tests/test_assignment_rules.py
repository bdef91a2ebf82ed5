"""The assignments keep the promises of the README's section "The assignments", read from the notebooks.

Points: each function has a visible test cell of 1 point and hidden tests of 2 points (one cell of 2,
or two cells of 1); a graded training run is worth 3 (one cell, or one cell per accuracy tier, named
after the first); a written answer marked by hand is worth 2; the README's table gives each
assignment's total. Hidden messages: a failed hidden test shows its assert message, so a message may
show a shape, a type's name or a count, but never a value the student's code returned (or one derived
from it, or from an argument it was handed) nor a value the test expected.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from tests.helpers.course import ASSIGNMENT_IDS, COURSE_ROOT, SOLUTIONS

README_ROW = re.compile(r"^\| `(?P<id>\w+)` \|(?P<text>.*)\| (?P<points>\d+) \|$", re.MULTILINE)
TRAINING_RUN_POINTS = 3
WRITTEN_ANSWER_POINTS = 2


def source(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)


def functions(assignment: str) -> list[str]:
    """The autograded answer cells' grade ids, which are the names of the functions students write."""
    return [cell.metadata.nbgrader["grade_id"] for cell in source(assignment).cells
            if cell.metadata.get("nbgrader", {}).get("solution") and not cell.metadata.nbgrader.get("grade")]


def written(assignment: str) -> list[str]:
    """The manually graded answers (solution and grade): text a person marks in the formgrader."""
    return [cell.metadata.nbgrader["grade_id"] for cell in source(assignment).cells
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.metadata.nbgrader.get("grade")]


def graded(assignment: str) -> dict[str, float]:
    return {cell.metadata.nbgrader["grade_id"]: float(cell.metadata.nbgrader["points"])
            for cell in source(assignment).cells if cell.metadata.get("nbgrader", {}).get("grade")}


def hidden_cells(assignment: str) -> dict[str, str]:
    return {cell.metadata.nbgrader["grade_id"]: cell.source for cell in source(assignment).cells
            if cell.metadata.get("nbgrader", {}).get("grade") and "### BEGIN HIDDEN TESTS" in cell.source}


def readme_rows() -> dict[str, tuple[str, int]]:
    readme = (COURSE_ROOT / "README.md").read_text()
    section = readme[readme.index("## The assignments"):readme.index("## For instructors")]
    return {row["id"]: (row["text"], int(row["points"])) for row in README_ROW.finditer(section)}


def is_own_hidden(name: str, function: str) -> bool:
    return name == f"{function}_hidden" or name.startswith(f"{function}_hidden_")


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_the_readme_gives_each_assignments_points(assignment):
    rows = readme_rows()
    assert assignment in rows, f"the README's table of assignments has no row for {assignment}"
    assert rows[assignment][1] == sum(graded(assignment).values()), (assignment, graded(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_each_function_has_one_visible_point_and_two_hidden(assignment):
    cells = graded(assignment)
    for function in functions(assignment):
        assert cells.get(f"{function}_visible") == 1, f"{assignment}: {function}_visible must be worth 1 point"
        hidden = sorted(points for name, points in cells.items() if is_own_hidden(name, function))
        assert hidden in ([2], [1, 1]), f"{assignment}: the hidden tests of {function} are worth {hidden}"
    for name in written(assignment):
        assert cells[name] == WRITTEN_ANSWER_POINTS, f"{assignment}: the written answer {name} is worth {cells[name]}"
    if written(assignment):
        marked = f"{WRITTEN_ANSWER_POINTS * len(written(assignment))} points"
        assert f"graded by hand ({marked})" in readme_rows()[assignment][0], f"the README names {marked} by hand"
    runs = {name: points for name, points in cells.items() if name not in written(assignment)
            and not any(name == f"{f}_visible" or is_own_hidden(name, f) for f in functions(assignment))}
    if runs:
        first = next(iter(runs))
        assert all(name == first or name.startswith(f"{first}_") for name in runs), f"{assignment}: {sorted(runs)}"
        assert sum(runs.values()) == TRAINING_RUN_POINTS, f"{assignment}: the run is worth {sum(runs.values())}"
        assert f"{TRAINING_RUN_POINTS} points" in readme_rows()[assignment][0], "the README names the run's points"


SHOWN_AS_IS = {"shape", "dtype", "__name__"}  # x.shape, x.dtype, type(x).__name__: no values


def names_in(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def calls_to(node: ast.AST, names: set[str]) -> list[ast.Call]:
    return [child for child in ast.walk(node)
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in names]


def is_literal(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def constants(tree: ast.AST) -> set[str]:
    """Names bound to literals (``n = 1000``, ``for k, s in [(3, 1), (5, 2)]``, or a loop over such a name):
    no student's code can change them."""
    bound: set[str] = set()
    while True:
        grown = set(bound)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and is_literal(node.value):
                grown |= set().union(*(names_in(target) for target in node.targets))
            elif isinstance(node, (ast.For, ast.comprehension)) and (
                    is_literal(node.iter) or isinstance(node.iter, ast.Name) and node.iter.id in bound):
                grown |= names_in(node.target)
        if grown == bound:
            return bound
        bound = grown


def tainted_names(tree: ast.AST, students: set[str]) -> set[str]:
    """Names bound to what a student's function returned or was handed, or to anything computed from those."""
    tainted: set[str] = set()
    for call in calls_to(tree, students):
        tainted |= set().union(*(names_in(argument) for argument in [*call.args, *(k.value for k in call.keywords)]))
    tainted -= constants(tree) | students
    while True:
        grown = set(tainted)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if calls_to(node.value, students) or names_in(node.value) & tainted:
                    grown |= set().union(*(names_in(target) for target in targets))
            elif isinstance(node, (ast.For, ast.comprehension)):
                if calls_to(node.iter, students) or names_in(node.iter) & tainted:
                    grown |= names_in(node.target)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("append", "extend", "update", "add")
                  and isinstance(node.func.value, ast.Name)
                  and (calls_to(node, students) or set().union(*map(names_in, node.args), set()) & tainted)):
                grown.add(node.func.value.id)
        if grown == tainted:
            return tainted
        tainted = grown


def shows_a_value(expression: ast.AST, tainted: set[str]) -> bool:
    """Whether a formatted value may show a number the student's code chose or the test expected."""
    if isinstance(expression, ast.Attribute) and expression.attr in SHOWN_AS_IS:
        return False
    if isinstance(expression, ast.Call) and isinstance(expression.func, ast.Name):
        if expression.func.id == "len":
            return False
        if expression.func.id == "tuple" and all(not shows_a_value(a, tainted) for a in expression.args):
            return False
    if isinstance(expression, (ast.Tuple, ast.List)):
        return any(shows_a_value(item, tainted) for item in expression.elts)
    return any(name in tainted or "expected" in name for name in names_in(expression))


def revealing_messages(code: str, students: set[str]) -> list[str]:
    """The assert messages of ``code`` that format a value it must not show."""
    tree = ast.parse(code)
    tainted = tainted_names(tree, students)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and isinstance(node.msg, ast.JoinedStr):
            shown = [part.value for part in node.msg.values if isinstance(part, ast.FormattedValue)]
            if any(shows_a_value(expression, tainted) for expression in shown):
                found.append(ast.unparse(node.msg))
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENT_IDS)
def test_no_hidden_message_shows_a_returned_or_expected_value(assignment):
    students = set(functions(assignment))
    found = {name: revealing_messages(code, students) for name, code in hidden_cells(assignment).items()}
    assert not any(found.values()), {name: messages for name, messages in found.items() if messages}


def test_the_message_check_catches_a_quoted_answer():
    """Messages of the kind a1 and a3 once had are found; shapes, types and counts are not."""
    quoted = [
        'results = {k: top_k_accuracy(logits, targets, k=k) for k in (1, 3)}\n'
        'for k, result in results.items():\n'
        '    assert result == 0.5, f"wrong top-{k} accuracy: got {result:.3f}"\n',
        'expected = (order == targets).float().mean().item()\n'
        'assert top_k_accuracy(logits, targets) == expected, f"expected {expected:.3f}"\n',
        'train_epoch(model, x, y)\nbatch_mean = sum(model.losses) / 10\n'
        'assert True, f"return the mean of the mini-batch losses ({batch_mean:.4f})"\n',
        'got = top_k_accuracy(logits, targets)\nmismatches = []\nmismatches.append((k, got))\n'
        'assert not mismatches, f"wrong for {mismatches[:4]}"\n',
    ]
    for code in quoted:
        assert revealing_messages(code, {"top_k_accuracy", "train_epoch"}), code
    fine = ('out = linear(x, W, b)\n'
            'assert out.shape == (S, N), f"for x of shape {(S, M)}: got {tuple(out.shape)}, {type(out).__name__}"\n'
            'assert len(model.losses) == 10, f"the model saw {len(model.losses)} batches"\n')
    assert revealing_messages(fine, {"linear"}) == []
