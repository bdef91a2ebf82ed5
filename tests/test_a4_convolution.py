"""Assignment a4_convolution, graded through nbgrader: solution, blank release, wrong and alternative answers."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA4ConvolutionGrading(AssignmentGrading):
    assignment = "a4_convolution"
