"""Assignment a6_cnn, graded through nbgrader and through ``dlcv autograde``: solution, blank release, wrong
and alternative answers, and written answers left for a person.

The wrong answers are graded without the graded MNIST run (each would train a network for nothing; a
network over budget or without convolutions already fails its own hidden cells); the solution and the
alternatives are graded with it. ``dlcv autograde`` grades the solution (with the run, so the judge builds
the student's network from its plain-data description, hands it to the student's ``train_cnn`` and counts
the test digits itself), the blank release and two wrong answers (a split and a training recipe), outside the sandbox,
and must give every cell the grade nbgrader gives it, the written answers included (waiting for a person,
or 0 when left blank).
"""

from tests.helpers.assignment_checks import SOLUTION, UNANSWERED, AssignmentGrading, wrong_round
from tests.helpers.grading import GRADED_RUNS


class TestA6CnnGrading(AssignmentGrading):
    assignment = "a6_cnn"
    cells_left_out_for_wrong_answers = GRADED_RUNS["a6_cnn"]

    def test_dlcv_autograde_agrees_with_nbgrader(self, nbgrader_batch, tmp_path):
        self.check_dlcv_autograde_agrees(nbgrader_batch, tmp_path, students={
            SOLUTION, UNANSWERED,
            wrong_round(self.assignment, "split_validation", "ignores the generator"),
            wrong_round(self.assignment, "train_cnn", "measures validation in training mode"),
        })
