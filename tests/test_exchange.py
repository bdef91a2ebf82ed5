"""The Assignment List panel's whole round trip through a real nbgrader exchange.

The exchange is what a shared JupyterHub sets up: a folder every user can reach, named
with the course id in a system-wide ``nbgrader_config.py``. Here that file lives in a
temporary folder put on ``JUPYTER_CONFIG_PATH``, for the instructor's commands and the
student's JupyterLab alike. The student's side calls the endpoints that the panel's
buttons call (list, fetch, submit, fetch feedback), on a real JupyterLab server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path
from tests.helpers.grading import marks_without
from tests.helpers.lab_server import running_lab

ASSIGNMENT = "a1_single_layer"
COURSE_ID = "dlcv"
FULL_MARKS = marks_without(ASSIGNMENT)  # read from the notebook's points


@pytest.fixture(scope="module")
def exchange_course(tmp_path_factory):
    """Folders of an instructor, a student and an exchange, and the environment that joins them."""
    base = tmp_path_factory.mktemp("exchange_course")
    exchange, system_config = base / "exchange", base / "etc_jupyter"
    exchange.mkdir(mode=0o777)
    system_config.mkdir()
    (system_config / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
    )
    instructor, student = base / "instructor", base / "student"
    shutil.copytree(SOLUTIONS, instructor / "solutions")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", instructor)
    student.mkdir()
    environment = {**environment_on_path(), "JUPYTER_CONFIG_PATH": str(system_config)}
    return {"instructor": instructor, "student": student, "exchange": exchange,
            "environment": environment}


def instructor_runs(course, *args):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course["instructor"],
                            env=course["environment"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


def listed(call):
    answer = json.loads(call(f"/assignments?course_id={COURSE_ID}"))
    assert answer["success"] is True, answer
    return {(item["assignment_id"], item["status"]): item for item in answer["value"]}


def test_release_fetch_submit_collect_grade_and_return_feedback(exchange_course):
    course = exchange_course
    instructor_runs(course, "generate_assignment", ASSIGNMENT)
    instructor_runs(course, "release_assignment", ASSIGNMENT)

    config_path = {"JUPYTER_CONFIG_PATH": course["environment"]["JUPYTER_CONFIG_PATH"]}
    with running_lab(course["student"], course["instructor"].parent / "lab_state", extra_env=config_path) as server:
        call = server.call
        assert COURSE_ID in json.loads(call("/courses"))["value"]
        assert (ASSIGNMENT, "released") in listed(call), "the released assignment is not listed"

        form = {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}
        call("/assignments/fetch", form)
        fetched = course["student"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file(), "Fetch did not put the notebook in the student's folder"
        assert (ASSIGNMENT, "fetched") in listed(call)

        # The student finishes the work (here: the instructor's answers) and presses Submit.
        shutil.copy(SOLUTIONS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", fetched)
        answer = json.loads(call("/assignments/submit", form))
        assert not (isinstance(answer, dict) and answer.get("success") is False), answer
        assert (ASSIGNMENT, "submitted") in listed(call), "Submit left nothing in the exchange"

        instructor_runs(course, "collect", ASSIGNMENT)
        student_id = os.listdir(course["instructor"] / "submitted")
        assert len(student_id) == 1, student_id
        instructor_runs(course, "autograde", ASSIGNMENT)
        instructor_runs(course, "generate_feedback", ASSIGNMENT)
        instructor_runs(course, "release_feedback", ASSIGNMENT)
        export = instructor_runs(course, "export", "--to", "grades.csv")
        grades = (course["instructor"] / "grades.csv").read_text().splitlines()
        header, row = grades[0].split(","), grades[1].split(",")
        assert float(row[header.index("score")]) == FULL_MARKS, (grades, export.stdout)

        call("/assignments/fetch_feedback", form)
        feedback = list((course["student"] / ASSIGNMENT / "feedback").rglob(f"{ASSIGNMENT}.html"))
        assert feedback, "Fetch Feedback brought no feedback page"
        assert f"(Score: {FULL_MARKS:.1f} / {FULL_MARKS:.1f})" in feedback[0].read_text()
