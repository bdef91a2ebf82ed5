"""Assignment a2_losses, graded through nbgrader: solution, blank release, wrong and alternative answers."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA2LossesGrading(AssignmentGrading):
    assignment = "a2_losses"
