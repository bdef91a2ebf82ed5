"""Assignment a3_training, graded through nbgrader: solution, blank release, wrong and alternative answers."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA3TrainingGrading(AssignmentGrading):
    assignment = "a3_training"
