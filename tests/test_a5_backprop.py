"""Assignment a5_backprop, graded through nbgrader: solution, blank release, wrong and alternative answers.

The wrong answers are graded without the MNIST run (each would train the network for nothing); the
solution and the alternatives are graded with it.
"""

from tests.helpers.assignment_checks import AssignmentGrading
from tests.helpers.grading import GRADED_RUNS


class TestA5BackpropGrading(AssignmentGrading):
    assignment = "a5_backprop"
    cells_left_out_for_wrong_answers = GRADED_RUNS["a5_backprop"]
