"""``dlcv autograde`` reads the course through nbgrader's own configuration: system, user and course files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlcv.autograde.config import load_course


def write_config(folder: Path, *lines: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()\n" + "\n".join(lines) + "\n")


@pytest.fixture
def system_config(tmp_path, monkeypatch) -> Path:
    """A folder that nbgrader reads like /etc/jupyter (JUPYTER_CONFIG_PATH puts it on Jupyter's path)."""
    folder = tmp_path / "etc-jupyter"
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(folder))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user-jupyter"))  # no user config of the tester's
    return folder


def test_defaults_without_any_configuration(tmp_path, system_config):
    course = load_course(tmp_path)
    assert course.root == tmp_path and course.cell_timeout is None
    assert course.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert course.submitted_folder("ada", "a1") == tmp_path / "submitted" / "ada" / "a1"
    assert course.source_folder("a1") == tmp_path / "source" / "." / "a1"


def test_a_system_wide_file_counts_and_the_course_file_wins(tmp_path, system_config):
    write_config(system_config, 'c.CourseDirectory.db_url = "sqlite:////srv/grades.db"',
                 'c.CourseDirectory.submitted_directory = "inbox"', "c.Execute.timeout = 7")
    course_folder = tmp_path / "course"
    write_config(course_folder, 'c.CourseDirectory.submitted_directory = "handed_in"',
                 'c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"')
    course = load_course(course_folder)
    assert course.db_url == "sqlite:////srv/grades.db" and course.cell_timeout == 7.0
    assert course.submitted_folder("ada", "a1") == course_folder / "handed_in" / "a1" / "ada"
    assert course.autograded_folder("ada", "a1") == course_folder / "autograded" / "a1" / "ada"


def test_a_configured_root_is_where_the_course_is(tmp_path, system_config):
    elsewhere = tmp_path / "srv" / "course"
    write_config(system_config, f'c.CourseDirectory.root = "{elsewhere}"')
    course = load_course(tmp_path)
    assert course.root == elsewhere and course.db_url == f"sqlite:///{elsewhere / 'gradebook.db'}"


def test_students_are_found_through_the_directory_structure(tmp_path, system_config):
    write_config(tmp_path, 'c.CourseDirectory.directory_structure = "{nbgrader_step}/{assignment_id}/{student_id}"')
    for student in ("ada", "grace"):
        (tmp_path / "submitted" / "a1" / student).mkdir(parents=True)
    (tmp_path / "submitted" / "a2" / "linus").mkdir(parents=True)
    assert load_course(tmp_path).students_who_submitted("a1") == ["ada", "grace"]


def test_dlcv_autograde_and_nbgrader_export_agree_on_a_system_wide_gradebook(tmp_path):
    """The gradebook named in a system-wide file (as on a hub) is where dlcv autograde writes and nbgrader reads."""
    from tests.helpers.course import environment_on_path
    from tests.helpers.grading import make_course, marks_without

    system, gradebook = tmp_path / "etc-jupyter", tmp_path / "srv" / "grades.db"
    gradebook.parent.mkdir()
    write_config(system, f'c.CourseDirectory.db_url = "sqlite:///{gradebook}"')
    env = {**environment_on_path(), "JUPYTER_CONFIG_PATH": str(system), "JUPYTER_CONFIG_DIR": str(tmp_path / "user")}
    course = make_course(tmp_path / "course", "a1_single_layer")
    course.nbgrader("generate_assignment", "a1_single_layer", "--force", env=env)  # into the system's gradebook
    course.submit("ada", {})
    course.submit("linus", {"relu": "def relu(x):\n    return x\n"})
    summary, _ = course.dlcv_autograde("--no-feedback", env=env)
    assert not (course.root / "gradebook.db").exists() or "ada" not in course.gradebook_grades()
    exported = course.exported(env=env)
    assert exported == {student: line["score"] for student, line in summary.items()}
    assert exported["ada"] == marks_without("a1_single_layer") > exported["linus"]
    assert set(course.gradebook_grades(f"sqlite:///{gradebook}")) == {"ada", "linus"}
