"""What the batch does with one submission's trouble, in-process: it is confined to that submission."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import nbformat
import pytest

from dlcv.autograde import cli, gradebook, plan
from dlcv.autograde.config import load_course
from dlcv.autograde.runner import Outcome
from dlcv.autograde.submission import read_submission

FILES = Path(__file__).parent / "files" / "autograde"


@pytest.fixture
def source() -> plan.Source:
    return plan.Source.load(FILES / "instructor", "doubling")


def test_a_full_disk_while_recording_is_reported_and_the_batch_goes_on(tmp_path, source, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(gradebook, "record", disk_full)
    submission = read_submission("ada", FILES / "submissions", source)  # any folder: only its fate matters here
    line = cli.record_or_report(load_course(tmp_path), source, submission, Outcome({}))
    assert line["recorded"] is False and line["score"] == 0 and line["max_score"] == 3
    assert "NOT RECORDED" in line["problems"][-1] and "No space left on device" in line["problems"][-1]


def test_a_machine_fault_is_not_recorded_and_says_so(source):
    submission = read_submission("ada", FILES / "submissions", source)
    line = cli.needs_regrading(source, submission, Outcome({}, fault="your code's process was ended by SIGKILL",
                                                           attempts=2))
    assert line["recorded"] is False and line["needs_regrading"].endswith("SIGKILL")
    assert "tried 2 time(s)" in line["problems"][-1]


def test_a_test_that_cannot_be_judged_outside_scores_zero_and_never_runs_in_the_sandbox():
    """No test cell is ever handed to the student's process: one that passes what cannot cross is not judged."""
    from nbgrader.utils import determine_grade

    from dlcv.autograde.judge import Judge
    from dlcv.autograde.protocol import CellJob, Job, Limits, Role, StudentSpec
    from dlcv.autograde.proxies import RemoteFunction

    class NoProcess:  # any request to the student's side would fail this test
        def request(self, *args, **kwargs):
            raise AssertionError("the test cell reached the student's process")

    class Route:
        process = visible = hidden = NoProcess()
        in_hidden_test, captured, deadline = False, [], 0.0

        def start_cell(self, hidden_test, cell_timeout):
            self.captured.clear()

    spec = StudentSpec([], {}, None)
    judge = Judge(Job([], spec, spec, Limits(), "/nonexistent"), Route())
    judge.namespace["double"] = RemoteFunction("double", lambda request, models: NoProcess().request())
    result = judge.run_cell(CellJob(4, Role.TEST, "double_hidden", "class Odd: pass\nassert double(Odd()) == 0", True))
    assert result.unjudged and "cannot be sent to your code as plain data" in result.unjudged
    assert result.outputs[0]["ename"] == "NotJudged"
    nb_cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "points": 2, "grade_id": "t"}},
               "outputs": result.outputs, "source": ""}
    assert determine_grade(nbformat.from_dict(nb_cell))[0] == 0, "nbgrader counts it as a failed test"


def test_the_exchanges_files_go_with_the_graded_notebook_and_links_do_not(tmp_path):
    """nbgrader's release_feedback finds a submission's feedback by its timestamp and secret."""
    import os

    submitted, autograded = tmp_path / "submitted", tmp_path / "autograded"
    submitted.mkdir()
    autograded.mkdir()
    (submitted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (tmp_path / "secret").write_text("another student's secret")
    (submitted / "submission_secret.txt").symlink_to(tmp_path / "secret")
    gradebook.copy_exchange_files(submitted, autograded)
    assert (autograded / "timestamp.txt").read_text() == "2026-12-01 10:00:00.000000 UTC"
    assert not (autograded / "submission_secret.txt").exists()
    (submitted / "submission_secret.txt").unlink()
    os.mkfifo(submitted / "submission_secret.txt")
    gradebook.copy_exchange_files(submitted, autograded)  # a FIFO would hang a plain read
    assert not (autograded / "submission_secret.txt").exists()
    (submitted / "submission_secret.txt").unlink()
    (submitted / "submission_secret.txt").write_text("0123abcd")
    gradebook.copy_exchange_files(submitted, autograded)
    assert (autograded / "submission_secret.txt").read_text() == "0123abcd"


def test_a_run_removes_what_runs_killed_before_cleaning_up_left_behind(tmp_path, monkeypatch):
    import subprocess
    import tempfile

    from dlcv.autograde import runner

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"dlcv-autograde-{gone.pid}-abc"
    (stale / "slot0").mkdir(parents=True)
    alive = tmp_path / f"dlcv-autograde-{os.getpid()}-def"  # a run still going (this very process)
    alive.mkdir()
    fresh = runner.make_scratch_root()
    assert not stale.exists() and alive.exists() and fresh.parent == tmp_path
    assert fresh.name.startswith(f"dlcv-autograde-{os.getpid()}-") and oct(fresh.stat().st_mode)[-3:] == "755"
