"""Assignment a2_losses, graded through nbgrader: solution, blank release, wrong and alternative answers;
and the same batch through ``dlcv autograde``, which must give nbgrader's grades cell by cell."""

from tests.helpers.assignment_checks import AssignmentGrading


class TestA2LossesGrading(AssignmentGrading):
    assignment = "a2_losses"

    def test_dlcv_autograde_gives_nbgraders_grades(self, nbgrader_batch, tmp_path):
        self.check_dlcv_autograde_agrees(nbgrader_batch, tmp_path)
