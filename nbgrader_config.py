"""nbgrader settings for this course: only what differs from nbgrader's defaults."""

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

# The instructor's notebooks (solutions and hidden tests) are nbgrader's source;
# the student versions it generates are the release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# A graded MNIST training run takes longer than nbgrader's default 30 s per cell.
c.Execute.timeout = 300

# Feedback pages typeset their math offline: nbgrader's feedback template, with the book's
# MathJax 3 written into each page instead of MathJax 2 from a CDN (see dlcv/autograde/feedback.py).
from dlcv.autograde import feedback  # noqa: E402

c.HTMLExporter.extra_template_basedirs = feedback.template_basedirs()
c.HTMLExporter.filters = feedback.FILTERS
