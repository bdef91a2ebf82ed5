"""``dlcv autograde`` on a3_training, whose tests hand the student's code models and parameters.

Such cells are judged outside the sandbox too: a model built from PyTorch's layers travels
whole and only its new state comes back; a model the instructor wrote stays with the grader,
which runs its forward and backward passes for the student's code. The solution, answers
written differently and a wrong one (tests/answer_variants.py) get the grades nbgrader gives
them (tests/test_a3_training.py), the attacks (tests/hostile_submissions.py) gain nothing, and
no cell falls back to running inside the sandbox. A module of its own, so that pytest-xdist
can run it beside tests/test_autograde.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from tests.helpers.answer_variants import ALTERNATIVE, WRONG
from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path, require_bubblewrap, run_nbgrader
from tests.helpers.grading import answer_sources, make_submission
from tests.helpers.hostile_submissions import A3_ATTACKS

MODELS = "a3_training"

A3_HONEST = {
    "solution": ({}, 15),
    "sgd_step_on_data": ({"sgd_step": ALTERNATIVE[MODELS]["sgd_step"]["updates .data and zeroes the gradient"]}, 15),
    "accuracy_in_inference_mode": ({"accuracy": ALTERNATIVE[MODELS]["accuracy"]["uses inference_mode and counts"]}, 15),
    "accuracy_in_training_mode": ({"accuracy": WRONG[MODELS]["accuracy"]["stays in training mode"]}, 13),
}


@pytest.fixture(scope="module")
def model_batch(tmp_path_factory):
    course = tmp_path_factory.mktemp("models")
    shutil.copytree(SOLUTIONS / MODELS, course / "solutions" / MODELS)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    assert run_nbgrader("generate_assignment", MODELS, "--force", cwd=course).returncode == 0
    release = nbformat.read(course / "assignments" / MODELS / f"{MODELS}.ipynb", as_version=4)
    solutions = answer_sources(nbformat.read(SOLUTIONS / MODELS / f"{MODELS}.ipynb", as_version=4))
    submissions = {**{name: answers for name, (answers, _) in A3_HONEST.items()},
                   **{name: answers for name, (answers, _) in A3_ATTACKS.items()}}
    for student, answers in submissions.items():
        folder = course / "submitted" / student / MODELS
        folder.mkdir(parents=True)
        nbformat.write(make_submission(release, solutions, answers), folder / f"{MODELS}.ipynb")
    summary_path = course.parent / "models-summary.json"
    result = subprocess.run([sys.executable, "-m", "dlcv.autograde.cli", "autograde", MODELS, "--jobs", "2",
                             "--no-feedback", "--summary", str(summary_path)],
                            cwd=course, env=environment_on_path(), capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    require_bubblewrap(result.stdout + result.stderr)
    return {line["student"]: line for line in json.loads(summary_path.read_text())}


@pytest.mark.parametrize("student", sorted(A3_HONEST))
def test_models_and_parameters_are_judged_outside_the_sandbox(model_batch, student):
    line = model_batch[student]
    assert line["score"] == A3_HONEST[student][1], line
    assert line["judged_in_sandbox"] == [], line


@pytest.mark.parametrize("attack", sorted(A3_ATTACKS))
def test_no_attack_on_a_model_gains_a_mark(model_batch, attack):
    cells, lost = model_batch[attack]["cells"], A3_ATTACKS[attack][1]
    gained = {name: score for name, (score, _) in cells.items() if name in lost and score > 0}
    assert not gained, f"{attack} scored on cells its answer does not earn: {gained}"
    assert all(score == maximum for name, (score, maximum) in cells.items() if name not in lost), cells
    assert model_batch[attack]["judged_in_sandbox"] == []
