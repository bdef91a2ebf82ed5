"""``dlcv autograde`` on a3_training, whose tests hand the student's code models and parameters.

Such cells are judged outside the sandbox too: a model built from PyTorch's layers travels
whole and only its new state comes back; a model the instructor wrote stays with the grader,
which runs its forward and backward passes for the student's code. The solution, answers
written differently and a wrong one (tests/helpers/answer_variants.py) get the grades nbgrader
gives them (tests/test_a3_training.py), the attacks (tests/helpers/hostile_submissions.py) gain
nothing, and no cell is left unjudged. A module of its own, so that pytest-xdist can run it
beside tests/test_autograde.py.
"""

from __future__ import annotations

import pytest

from tests.helpers.answer_variants import ALTERNATIVE, WRONG
from tests.helpers.course import require_bubblewrap
from tests.helpers.grading import make_course, marks_without
from tests.helpers.hostile_submissions import A3_ATTACKS

MODELS = "a3_training"

# Each honest submission: (answers replaced, the cells it loses). The two answers written differently
# share a submission (each graded run is a training): they change different functions, and a mark
# that either lost would show.
A3_HONEST = {
    "solution": ({}, set()),
    "sgd_step_on_data_and_accuracy_in_inference_mode": (
        {"sgd_step": ALTERNATIVE[MODELS]["sgd_step"]["updates .data and zeroes the gradient"],
         "accuracy": ALTERNATIVE[MODELS]["accuracy"]["uses inference_mode and counts"]}, set()),
    "accuracy_in_training_mode": ({"accuracy": WRONG[MODELS]["accuracy"]["stays in training mode"]},
                                  {"accuracy_hidden", "accuracy_hidden_modes"}),
}


@pytest.fixture(scope="module")
def model_batch(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("models"), MODELS)
    for student, (answers, _) in {**A3_HONEST, **A3_ATTACKS}.items():
        course.submit(student, answers)
    summary, log = course.dlcv_autograde("--no-feedback")
    require_bubblewrap(log)
    return summary


@pytest.mark.parametrize("student", sorted(A3_HONEST))
def test_models_and_parameters_are_judged_outside_the_sandbox(model_batch, student):
    line = model_batch[student]
    assert line["score"] == marks_without(MODELS, A3_HONEST[student][1]), line
    assert line["unjudged"] == {}, line


@pytest.mark.parametrize("attack", sorted(A3_ATTACKS))
def test_no_attack_on_a_model_gains_a_mark(model_batch, attack):
    cells, lost = model_batch[attack]["cells"], A3_ATTACKS[attack][1]
    gained = {name: score for name, (score, _) in cells.items() if name in lost and score > 0}
    assert not gained, f"{attack} scored on cells its answer does not earn: {gained}"
    assert all(score == maximum for name, (score, maximum) in cells.items() if name not in lost), cells
    assert model_batch[attack]["unjudged"] == {}
