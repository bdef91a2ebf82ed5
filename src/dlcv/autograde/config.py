"""The course's folders, gradebook and time limit, read through nbgrader's own configuration.

nbgrader merges ``nbgrader_config.py`` files from the system's and the user's Jupyter folders
and then the course folder (the last wins), and builds every path with its ``CourseDirectory``
(``root``, ``directory_structure``, ``source_directory``, ...). ``dlcv autograde`` asks the same
objects, so it reads and writes exactly where ``nbgrader export`` and the formgrader look.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Course:
    """Where one course's files are, as nbgrader sees them from the course folder."""

    root: Path
    db_url: str
    cell_timeout: float | None  # nbgrader's Execute.timeout, if configured
    coursedir: object  # nbgrader.coursedir.CourseDirectory

    @property
    def course_id(self) -> str:
        """nbgrader's course id ("default_course" unless configured), which every gradebook row names."""
        return self.coursedir.course_id or "default_course"

    def source_folder(self, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.source_directory, ".", assignment))

    def submitted_folder(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))

    def autograded_folder(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))

    def students_who_submitted(self, assignment: str) -> list[str]:
        """Every student with a submission of ``assignment`` (a folder, or anything else in its place)."""
        pattern = self.coursedir.format_path(self.coursedir.submitted_directory, "*", assignment)
        prefix, _, suffix = pattern.partition("*")
        found = []
        for path in glob.glob(glob.escape(prefix) + "*" + glob.escape(suffix)):
            student = path[len(prefix):len(path) - len(suffix)]
            if student and os.sep not in student:
                found.append(student)
        return sorted(found)


def load_course(folder: Path) -> Course:
    """The course run from ``folder``: nbgrader's merged configuration, as ``nbgrader`` itself loads it there."""
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.coursedir import CourseDirectory

    with contextlib.chdir(folder):
        app = NbGrader()
        app.log.setLevel("ERROR")  # nbgrader warns when no config file exists; the defaults then apply
        app.load_config_file()
        coursedir = CourseDirectory(config=app.config)
        if not coursedir.root:
            coursedir.root = str(folder)
        coursedir.root = os.path.abspath(coursedir.root)
        timeout = app.config.Execute.get("timeout") if "Execute" in app.config else None
        return Course(Path(coursedir.root), coursedir.db_url, None if timeout is None else float(timeout), coursedir)
