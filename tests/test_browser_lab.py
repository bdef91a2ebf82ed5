"""A student's JupyterLab, in Chromium with the network cut off: a chapter runs, Validate answers.

tests/test_jupyterlab.py checks the server side (the nbgrader extension is listed, its
Validate endpoint); here a browser does what a student does: opens a chapter notebook from
book/, runs its first cells with Shift+Enter and reads their output, then opens an assignment
and presses Validate in the notebook toolbar. Screenshots go to _build/browser-screenshots/.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from tests.helpers.browser import offline_page, screenshot
from tests.helpers.course import ASSIGNMENTS, COURSE_ROOT, SOLUTIONS
from tests.helpers.lab_server import running_lab

CHAPTER = "book/01_imagenet.ipynb"
CODE_CELLS_TO_RUN = 4  # the cell that installs dlcv where it is missing (here it does nothing), then three
ASSIGNMENT = "a1_single_layer"
TIMEOUT_MS = 120_000  # a first kernel imports PyTorch; validating runs a whole assignment
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the tab in front

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a course copy: a chapter, a finished and an unanswered assignment."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root)
    (root / "book").mkdir()
    shutil.copy(COURSE_ROOT / CHAPTER, root / CHAPTER)
    for folder, source in (("finished", SOLUTIONS), ("unanswered", ASSIGNMENTS)):
        (root / folder).mkdir()
        shutil.copy(source / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / folder)
    with running_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server


@pytest.fixture
def lab_page(chromium, lab):
    """A browser page that can reach only the JupyterLab server, and its log of errors."""
    page, log = offline_page(chromium, lab.origin)
    yield page, log
    page.context.close()


def open_notebook(page, lab, path: str) -> None:
    """Open a notebook, alone (``reset``: no tabs restored from an earlier test), and wait for its kernel."""
    page.goto(lab.url(f"/lab/tree/{path}") + "&reset")
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell", timeout=TIMEOUT_MS)
    page.wait_for_function("() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar').textContent)",
                           timeout=TIMEOUT_MS)


def cells_up_to_code_cell(notebook_path, count: int) -> int:
    """How many cells, from the top, hold the first ``count`` code cells."""
    cells = nbformat.read(notebook_path, as_version=4).cells
    code_indices = [index for index, cell in enumerate(cells) if cell.cell_type == "code"]
    return code_indices[count - 1] + 1


def test_a_chapter_runs_its_first_cells(lab, lab_page):
    page, log = lab_page
    open_notebook(page, lab, CHAPTER)
    page.locator(f"{NOTEBOOK} .jp-Cell").first.click()
    page.keyboard.press("Escape")  # command mode, as after a click on the prompt
    for _ in range(cells_up_to_code_cell(COURSE_ROOT / CHAPTER, CODE_CELLS_TO_RUN)):
        page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        """([notebook, count]) => Array.from(document.querySelectorAll(notebook + ' .jp-CodeCell .jp-InputPrompt'))
                                     .slice(0, count).every(prompt => /\\[\\d+\\]/.test(prompt.textContent))""",
        arg=[NOTEBOOK, CODE_CELLS_TO_RUN], timeout=TIMEOUT_MS,
    )
    screenshot(page, "lab-chapter")
    outputs = page.evaluate(
        """([notebook, count]) => Array.from(document.querySelectorAll(notebook + ' .jp-CodeCell')).slice(0, count)
               .map(cell => Array.from(cell.querySelectorAll('.jp-OutputArea-output'))
                                 .map(output => [output.dataset.mimeType, output.textContent]))""",
        [NOTEBOOK, CODE_CELLS_TO_RUN],
    )
    shown = [text for cell in outputs for mime, text in cell if mime != "application/vnd.jupyter.stderr"]
    errors = [text for cell in outputs for mime, text in cell if mime == "application/vnd.jupyter.stderr"]
    assert not errors, errors
    assert any(text.startswith("Using ") for text in shown), f"the first cell did not say which device: {shown}"
    assert any("top-5 accuracy 0.75" in text for text in shown), shown
    assert not log.problems(), "\n".join(log.problems())


def validate_in_toolbar(page, lab, path: str) -> str:
    """Press Validate in the notebook's toolbar and return what the result dialog says."""
    open_notebook(page, lab, path)
    page.locator(f"{NOTEBOOK} jp-button.validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=TIMEOUT_MS)
    return dialog.inner_text()


def test_validate_passes_a_finished_assignment(lab, lab_page):
    page, log = lab_page
    result = validate_in_toolbar(page, lab, f"finished/{ASSIGNMENT}.ipynb")
    screenshot(page, "lab-validate-finished")
    assert "Success! Your notebook passes all the tests." in result, result
    assert not log.problems(), "\n".join(log.problems())


def test_validate_reports_an_unanswered_assignment(lab, lab_page):
    page, log = lab_page
    result = validate_in_toolbar(page, lab, f"unanswered/{ASSIGNMENT}.ipynb")
    screenshot(page, "lab-validate-unanswered")
    assert "NotImplementedError" in result, result
    assert "Success!" not in result, result
    assert not log.problems(), "\n".join(log.problems())
