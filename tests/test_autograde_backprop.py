"""``dlcv autograde`` on a5_backprop, whose tests hand the student's code dicts of tensors to update in place,
a dict to keep its state in, and functions of their own.

Each is judged outside the sandbox: a watched tensor's in-place changes come back (adam_step's update,
or relu_backward changing its argument), the state dict's contents come back (and are handed back at
the next call), and the test's function (the ``f`` of numerical_gradient) stays with the grader, which
runs it when the student's code calls its stand-in. The solution and the answers written differently
(with the graded MNIST run) and three wrong ones get the grades nbgrader gives them
(tests/test_a5_backprop.py), the attacks (tests/helpers/hostile_submissions.py) gain nothing, and no
cell is left unjudged.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.helpers.answer_variants import ALTERNATIVE, WRONG
from tests.helpers.course import require_bubblewrap
from tests.helpers.grading import GRADED_RUNS, make_course, marks_without, without_cells
from tests.helpers.hostile_submissions import A5_ATTACKS, LEAK

BACKPROP = "a5_backprop"

TRAINING = GRADED_RUNS[BACKPROP]
# Each honest submission: (answers replaced, the cells it loses). The first two are graded with the
# graded MNIST run; the rest, and the attacks, in a copy of the course without it (it would take a
# minute each through the grader and shows nothing more about them).
A5_HONEST = {
    "solution": ({}, set()),
    "alternatives": ({function: next(iter(variants.values())) for function, variants in ALTERNATIVE[BACKPROP].items()},
                     set()),
    "relu_backward_in_place": ({"relu_backward": WRONG[BACKPROP]["relu_backward"]["masks grad_y in place"]},
                               {"relu_backward_hidden_input"}),
    "adam_step_rebinds": ({"adam_step": WRONG[BACKPROP]["adam_step"]["puts new tensors in the dict"]},
                          {"adam_step_visible", "adam_step_hidden", "adam_step_hidden_steps"}),
    "numerical_gradient_rounds_x": ({"numerical_gradient": WRONG[BACKPROP]["numerical_gradient"][
        "restores x by subtracting eps"]}, {"numerical_gradient_hidden_input"}),
}
WITH_TRAINING = ("solution", "alternatives")


@pytest.fixture(scope="module")
def backprop_batch(tmp_path_factory):
    """Every submission's summary line, and the course folder that graded it."""
    graded = {}
    for name, students, prepare in (
            ("trained", WITH_TRAINING, None),
            ("untrained", [s for s in {**A5_HONEST, **A5_ATTACKS} if s not in WITH_TRAINING],
             without_cells(BACKPROP, TRAINING))):
        course = make_course(tmp_path_factory.mktemp(name), BACKPROP, prepare=prepare)
        for student in students:
            course.submit(student, {**A5_HONEST, **A5_ATTACKS}[student][0])
        summary, log = course.dlcv_autograde("--no-feedback")
        require_bubblewrap(log)
        graded |= {student: (course, line) for student, line in summary.items()}
    return graded


def outputs_text(course, student: str) -> str:
    """Every output of the student's graded notebook."""
    nb = nbformat.read(course.root / "autograded" / student / BACKPROP / f"{BACKPROP}.ipynb", as_version=4)
    return json.dumps([cell.get("outputs", []) for cell in nb.cells])


def lost_with_the_run(student: str, lost: set[str]) -> set[str]:
    """The cells a submission graded without the training run cannot score."""
    return lost if student in WITH_TRAINING else lost | {"mnist_training_run"}


@pytest.mark.parametrize("student", sorted(A5_HONEST))
def test_in_place_updates_state_and_functions_are_judged_outside_the_sandbox(backprop_batch, student):
    _, line = backprop_batch[student]
    lost = {name for name, (score, maximum) in line["cells"].items() if score < maximum}
    assert lost == A5_HONEST[student][1], line
    assert line["score"] == marks_without(BACKPROP, lost_with_the_run(student, A5_HONEST[student][1])), line
    assert line["unjudged"] == {}, line
    assert ("mnist_training_run" in line["cells"]) == (student in WITH_TRAINING)


@pytest.mark.parametrize("attack", sorted(A5_ATTACKS))
def test_no_attack_on_backprop_gains_a_mark(backprop_batch, attack):
    course, line = backprop_batch[attack]
    cells, lost = line["cells"], A5_ATTACKS[attack][1]
    gained = {name: score for name, (score, _) in cells.items() if name in lost and score > 0}
    assert not gained, f"{attack} scored on cells its answer does not earn: {gained}"
    assert all(score == maximum for name, (score, maximum) in cells.items() if name not in lost), cells
    assert line["unjudged"] == {}
    assert LEAK not in outputs_text(course, attack)


def test_the_tests_function_reaches_the_student_only_as_a_stand_in(backprop_batch):
    course, _ = backprop_batch["numerical_gradient_reads_the_tests_function"]
    shown = outputs_text(course, "numerical_gradient_reads_the_tests_function")
    assert "nothing" not in shown and LEAK not in shown, "no attribute of the test's function is there to read"
    course, _ = backprop_batch["numerical_gradient_calls_f_with_junk"]
    junk = outputs_text(course, "numerical_gradient_calls_f_with_junk")
    assert junk.count("refused:") == 5, f"each junk call (in the visible test) is refused: {junk[:3000]}"
