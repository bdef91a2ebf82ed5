"""nbgrader settings for this course: only what differs from nbgrader's defaults."""

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

# The instructor's notebooks (solutions and hidden tests) are nbgrader's source;
# the student versions it generates are the release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# A graded MNIST training run takes longer than nbgrader's default 30 s per cell.
c.Execute.timeout = 300
