"""Assignment a5_backprop, graded through nbgrader: solution, blank release, wrong and alternative answers."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA5BackpropGrading(AssignmentGrading):
    assignment = "a5_backprop"
