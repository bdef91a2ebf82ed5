"""Assignment a3_training, graded through nbgrader: solution, blank release, wrong and alternative answers.

The wrong answers are graded without the MNIST run (each would train the network for nothing: every
one of them loses marks on its own function's cells, which is what their tests check); the solution,
the blank release and the alternatives are graded with it.
"""

from tests.helpers.assignment_checks import AssignmentGrading
from tests.helpers.grading import GRADED_RUNS


class TestA3TrainingGrading(AssignmentGrading):
    assignment = "a3_training"
    cells_left_out_for_wrong_answers = GRADED_RUNS["a3_training"]
