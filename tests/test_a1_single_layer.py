"""Assignment a1_single_layer, graded through nbgrader: solution, blank release, wrong and alternative answers."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA1SingleLayerGrading(AssignmentGrading):
    assignment = "a1_single_layer"
