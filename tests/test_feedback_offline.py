"""A feedback page typesets its math offline, with the book's MathJax (dlcv/autograde/feedback.py).

One submission is graded by the real ``nbgrader autograde``, and its feedback made twice by
``nbgrader generate_feedback``: once with the course's configuration, and once with nbgrader's
own template folder only (the fault the configuration fixes), to show that the checks catch it.
``dlcv autograde`` runs the same ``generate_feedback`` in the course folder: tests/test_autograde.py
checks the pages of its batch.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from dlcv.autograde.feedback import nbgrader_templates
from tests.helpers.browser import offline_page, serve
from tests.helpers.grading import Course, make_course, marks_without
from tests.helpers.page_checks import external_addresses, math_problems, settle

ASSIGNMENT = "a1_single_layer"
STUDENT = "student"
NBGRADER_ONLY = "feedback-nbgrader-only"  # where the feedback made without the course's templates goes
# Text outside code that still holds a TeX delimiter after MathJax ran: math left raw.
RAW_DOLLARS = """() => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
        acceptNode: node => node.parentElement.closest("pre, code, script, style, mjx-container")
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
    });
    const raw = [];
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent;
        if (text.includes("$")) raw.push(text.trim());
    }
    return raw;
}"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Course:
    course = make_course(tmp_path_factory.mktemp("feedback") / "course", ASSIGNMENT)
    course.submit(STUDENT, {})
    course.nbgrader("autograde", ASSIGNMENT, "--log-level=WARN")
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force", "--log-level=WARN")
    course.nbgrader("generate_feedback", ASSIGNMENT, "--force", "--log-level=WARN",
                    f"--CourseDirectory.feedback_directory={NBGRADER_ONLY}",
                    f"--HTMLExporter.extra_template_basedirs={nbgrader_templates()}")
    return course


def feedback_folder(course: Course, folder: str = "feedback") -> Path:
    return course.root / folder / STUDENT / ASSIGNMENT


def test_the_feedback_page_loads_nothing_from_the_network(graded):
    page = (feedback_folder(graded) / f"{ASSIGNMENT}.html").read_text()
    full = marks_without(ASSIGNMENT)
    assert f"(Score: {full:.1f} / {full:.1f})" in page, "the submission was not graded as the tests expect"
    assert external_addresses(page) == []
    assert "window.MathJax" in page


def test_without_the_course_templates_the_page_loads_mathjax_2_from_a_cdn(graded):
    """The fault the course's configuration fixes, as nbgrader makes it by default."""
    page = (feedback_folder(graded, NBGRADER_ONLY) / f"{ASSIGNMENT}.html").read_text()
    assert [address for address in external_addresses(page) if "mathjax/2" in address.lower()], \
        external_addresses(page)


@contextmanager
def open_offline(chromium, folder: Path):
    """The feedback page opened from a local server with the network cut off, once MathJax is done."""
    with serve(folder) as origin:
        page, log = offline_page(chromium, origin)
        try:
            page.goto(f"{origin}/{ASSIGNMENT}.html", wait_until="load")
            settle(page, timeout_ms=15_000)
            yield page, log
        finally:
            page.context.close()


@pytest.mark.browser
def test_the_feedback_page_typesets_its_math_offline(chromium, graded):
    with open_offline(chromium, feedback_folder(graded)) as (page, log):
        assert page.locator("mjx-container").count() > 0, "MathJax typeset nothing"
        assert page.evaluate(RAW_DOLLARS) == []
        assert math_problems(page) == []
        assert log.problems() == [], "\n".join(log.problems())


@pytest.mark.browser
def test_the_offline_checks_catch_nbgrader_s_default_page(chromium, graded):
    """nbgrader's own page, offline: its MathJax request is cut off, and the math stays raw."""
    with open_offline(chromium, feedback_folder(graded, NBGRADER_ONLY)) as (page, log):
        assert page.locator("mjx-container").count() == 0
        assert page.evaluate(RAW_DOLLARS) != []
        assert any("mathjax" in address.lower() for address in log.blocked), log.blocked
