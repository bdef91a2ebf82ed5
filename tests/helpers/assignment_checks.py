"""The checks every assignment's grading must pass; each tests/test_<assignment>.py applies them.

One batch per assignment goes through nbgrader: the full solution, the untouched release, the
wrong answers of ``answer_variants`` (as few submissions as keep each one's marks its own:
``wrong_rounds``), and the correct alternatives.
"""

from __future__ import annotations

import ast
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.answer_variants import ALTERNATIVE, WRONG
from tests.helpers.grading import (
    answer_sources,
    grade_batch,
    make_course,
    source_notebook,
    without_cells,
    written_answers,
)

SOLUTION, UNANSWERED = "solution", "unanswered"


@dataclass
class GradedBatch:
    """An assignment's batch as nbgrader graded it: the grades of every submission, and each course
    folder it was graded in with the ``prepare`` that made that course (None: the source as it is)."""

    grades: dict[str, dict[str, tuple[float | None, float]]]
    courses: list[tuple[Path, Callable[[Path], None] | None]]


def variant_cases(table: dict, assignment: str) -> list[tuple[str, str]]:
    return [(function, label) for function, variants in table[assignment].items() for label in variants]


def alternative_round(assignment: str, function: str, label: str) -> int:
    """Which submission holds this correct alternative: the n-th alternative of every function shares one."""
    return list(ALTERNATIVE[assignment][function]).index(label)


def names_in(source: str) -> set[str]:
    try:
        return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    except SyntaxError:
        return set()


@functools.cache
def functions_used(assignment: str, function: str) -> frozenset[str]:
    """The other answered functions that ``function``'s own cells can reach: those its solution or its
    tests name, and theirs in turn (a1's ``mlp_forward`` reaches ``linear`` and ``relu``)."""
    notebook = source_notebook(assignment)
    answers = answer_sources(notebook)
    reached, todo = set(), [function]
    while todo:
        name = todo.pop()
        sources = [answers[name]] + [cell.source for cell in notebook.cells
                                     if is_own_cell(cell.metadata.get("nbgrader", {}).get("grade_id", ""), name)]
        found = set().union(*map(names_in, sources)) & (set(answers) - {function}) - reached
        reached |= found
        todo += found
    return frozenset(reached)


def independent(assignment: str, first: str, second: str) -> bool:
    return first != second and first not in functions_used(assignment, second) \
        and second not in functions_used(assignment, first)


@functools.cache
def wrong_rounds(assignment: str) -> tuple[dict[str, str], ...]:
    """The wrong answers, put together in as few submissions as keeps each one's marks its own.

    Two wrong answers share a submission only when they belong to different functions and neither
    function's cells reach the other (``functions_used``): then every mark a function's own cells
    lose is lost to its own wrong answer, and none can hide that another keeps its marks. Each
    submission is a nbgrader run (a kernel, PyTorch imported), so fewer cost less.
    """
    rounds: list[dict[str, str]] = []
    for function, label in variant_cases(WRONG, assignment):
        for answers in rounds:
            if all(independent(assignment, function, other) for other in answers):
                answers[function] = label
                break
        else:
            rounds.append({function: label})
    return tuple(rounds)


def wrong_round(assignment: str, function: str, label: str) -> str:
    """The student id of the submission holding this wrong answer."""
    number = next(n for n, answers in enumerate(wrong_rounds(assignment)) if answers.get(function) == label)
    return f"wrong-{number}"


def batch_for(assignment: str) -> dict[str, dict[str, str] | None]:
    """The solution, the blank release, the wrong answers (``wrong_rounds``), and the correct alternatives.

    Correct alternatives of different functions share a submission (which must keep full marks):
    nothing in it can fail for a reason of another's.
    """
    batch: dict[str, dict[str, str] | None] = {SOLUTION: {}, UNANSWERED: None}
    for number, answers in enumerate(wrong_rounds(assignment)):
        batch[f"wrong-{number}"] = {function: WRONG[assignment][function][label] for function, label in answers.items()}
    for function, label in variant_cases(ALTERNATIVE, assignment):
        answers = batch.setdefault(f"alternatives-{alternative_round(assignment, function, label)}", {})
        answers[function] = ALTERNATIVE[assignment][function][label]
    return batch


def total(cells: dict) -> tuple[float, float]:
    """Score and maximum of the cells graded so far (a written answer waiting for a person has the score None)."""
    scored = [(score, maximum) for score, maximum in cells.values() if score is not None]
    return sum(score for score, _ in scored), sum(maximum for _, maximum in scored)


def pending(cells: dict) -> set[str]:
    """The cells waiting for a person's mark: written answers the student wrote something in."""
    return {name for name, (score, _) in cells.items() if score is None}


def is_own_cell(name: str, function: str) -> bool:
    """``<function>_visible``, ``<function>_hidden``, or a hidden cell split off it (``<function>_hidden_<what>``)."""
    return name == f"{function}_visible" or name == f"{function}_hidden" or name.startswith(f"{function}_hidden_")


def own_cells(cells: dict, function: str) -> dict:
    return {name: grade for name, grade in cells.items() if is_own_cell(name, function)}


def pytest_generate_tests_for(metafunc) -> None:
    """Parametrise the variant tests of an ``AssignmentGrading`` subclass (called from conftest)."""
    for argument, table in (("wrong_variant", WRONG), ("alternative_variant", ALTERNATIVE)):
        if argument in metafunc.fixturenames:
            cases = variant_cases(table, metafunc.cls.assignment)
            metafunc.parametrize(argument, cases, ids=[f"{f}: {label}" for f, label in cases])


class AssignmentGrading:
    """Subclass as ``Test<Name>`` with ``assignment = "<id>"`` to grade that assignment's batch."""

    assignment: str
    # Cells (a graded training run and its text) left out where the wrong answers are graded: a run
    # costs a training per submission and tests none of a wrong answer's own cells. The solution,
    # the blank release and the alternatives are graded with them.
    cells_left_out_for_wrong_answers: frozenset[str] = frozenset()

    @pytest.fixture(scope="class")
    @classmethod
    def nbgrader_batch(cls, tmp_path_factory) -> GradedBatch:
        """The batch graded once by nbgrader (the wrong answers on their own course where some cells are
        left out for them)."""
        batch = batch_for(cls.assignment)
        left_out = cls.cells_left_out_for_wrong_answers
        groups = {cls.assignment: (batch, None)} if not left_out else {
            cls.assignment: ({s: a for s, a in batch.items() if not s.startswith("wrong-")}, None),
            f"{cls.assignment}-wrong": ({s: a for s, a in batch.items() if s.startswith("wrong-")},
                                        without_cells(cls.assignment, left_out)),
        }
        graded = GradedBatch({}, [])
        for name, (submissions, prepare) in groups.items():
            folder = tmp_path_factory.mktemp(name)
            graded.grades |= grade_batch(cls.assignment, submissions, folder, prepare)
            graded.courses.append((folder, prepare))
        return graded

    @pytest.fixture(scope="class")
    @classmethod
    def grades(cls, nbgrader_batch) -> dict:
        return nbgrader_batch.grades

    def check_dlcv_autograde_agrees(self, nbgrader_batch, tmp_path, students: set[str] | None = None) -> None:
        """``dlcv autograde`` gives the same submissions (all, or ``students``) the grades nbgrader gave them,
        cell by cell, each on a course prepared as nbgrader's was."""
        expected = {student: cells for student, cells in nbgrader_batch.grades.items()
                    if students is None or student in students}
        summary = {}
        for number, (graded_in, prepare) in enumerate(nbgrader_batch.courses):
            here = [student for student in expected if (graded_in / "submitted" / student).is_dir()]
            if not here:
                continue
            course = make_course(tmp_path / f"dlcv-{number}", self.assignment, prepare=prepare)
            for student in here:
                shutil.copytree(graded_in / "submitted" / student, course.root / "submitted" / student)
            summary |= course.dlcv_autograde("--no-feedback")[0]
        assert set(summary) == set(expected), sorted(summary)
        graded = {student: {name: tuple(grade) for name, grade in line["cells"].items()}
                  for student, line in summary.items()}
        differences = {student: {name: (graded[student][name], grade) for name, grade in cells.items()
                                 if graded[student][name] != grade}
                       for student, cells in expected.items()}
        assert not any(differences.values()), {s: d for s, d in differences.items() if d}
        assert all(line["unjudged"] == {} for line in summary.values())

    def test_solution_scores_full_marks(self, grades):
        """Every autograded cell full; every written answer (the model answer) waits for a person."""
        score, maximum = total(grades[SOLUTION])
        assert maximum > 0 and score == maximum, grades[SOLUTION]
        assert pending(grades[SOLUTION]) == written_answers(self.assignment), grades[SOLUTION]

    def test_unanswered_release_scores_zero(self, grades):
        """Written answers left as released score 0 at once, as nbgrader marks them ("No response")."""
        assert total(grades[UNANSWERED])[0] == 0, grades[UNANSWERED]
        assert pending(grades[UNANSWERED]) == set(), grades[UNANSWERED]

    def test_every_function_has_visible_and_hidden_tests(self, grades):
        for function in WRONG[self.assignment]:
            cells = set(own_cells(grades[SOLUTION], function))
            assert {f"{function}_visible", f"{function}_hidden"} <= cells, cells

    def test_every_hidden_test_catches_a_wrong_answer(self, grades):
        """Each hidden cell, split ones included, is failed by at least one wrong answer of its own function."""
        caught, hidden = set(), set()
        for function, label in variant_cases(WRONG, self.assignment):
            cells = own_cells(grades[wrong_round(self.assignment, function, label)], function)
            caught |= {name for name, (score, maximum) in cells.items() if score < maximum}
            hidden |= {name for name in cells if name != f"{function}_visible"}
        assert hidden and not hidden - caught, f"no wrong answer in answer_variants fails {sorted(hidden - caught)}"

    def test_wrong_answer_loses_marks(self, grades, wrong_variant):
        function, label = wrong_variant
        cells = grades[wrong_round(self.assignment, function, label)]
        lost = {name: grade for name, grade in own_cells(cells, function).items() if grade[0] < grade[1]}
        assert lost, f"{function} that {label} keeps every mark of its own tests: {own_cells(cells, function)}"

    def test_alternative_answer_keeps_full_marks(self, grades, alternative_variant):
        function, label = alternative_variant
        cells = grades[f"alternatives-{alternative_round(self.assignment, function, label)}"]
        score, maximum = total(cells)
        assert score == maximum, {name: grade for name, grade in cells.items() if grade[0] < grade[1]}
