"""Shared fixtures for the course's tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")  # once, before any test draws: no window, the same pixels everywhere

from tests.helpers.browser import chromium_executable, why_no_browser
from tests.helpers.course import COURSE_ROOT, SOLUTIONS, build_book

STARTED = pytest.StashKey[float]()


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts without figures left open by another."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A throw-away course folder holding the nbgrader source and configuration."""
    shutil.copytree(SOLUTIONS, tmp_path / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    return tmp_path


def pytest_generate_tests(metafunc):
    from tests.helpers.assignment_checks import pytest_generate_tests_for

    pytest_generate_tests_for(metafunc)


# The costly modules, most costly first. Everything else (the unit tests, a few seconds each) runs
# before them, so that a broken helper shows within the first minute; then the longest jobs start
# first, so that the two workers of pytest-xdist finish together; the notebooks fill the gaps last.
COSTLY_FIRST = [
    "tests/test_book_build.py", "tests/test_colab.py", "tests/test_a3_training.py", "tests/test_autograde.py",
    "tests/test_autograde_models.py", "tests/test_autograde_backprop.py", "tests/test_a5_backprop.py",
    "tests/test_a6_cnn.py",
    "tests/test_a4_convolution.py", "tests/test_a2_losses.py",
    "tests/test_a1_single_layer.py", "tests/test_autograde_cluster.py", "tests/test_gradebook_postgres.py",
    "tests/test_exchange.py", "tests/test_autograde_faults.py", "tests/test_jupyterhub.py",
    "tests/test_release.py", "tests/test_binder.py", "tests/test_recipes.py", "tests/test_publish.py",
    "tests/test_autograde_config.py", "tests/test_feedback_offline.py", "tests/test_autograde_written.py",
    "tests/test_browser_lab.py", "tests/test_jupyterlab.py",
]


def run_order(item) -> tuple[int, int]:
    path = item.nodeid.split("::")[0]
    if path in COSTLY_FIRST:
        return 1, COSTLY_FIRST.index(path)
    if path.endswith(".ipynb"):
        return 2, 0
    return 0, 0


def pytest_collection_modifyitems(session, config, items):
    """Cheap tests first, then the costly ones longest first, then the notebooks (a stable sort: cells keep
    their order). pytest-xdist's ``--dist loadscope`` hands out modules in this order."""
    items.sort(key=run_order)


@pytest.hookimpl(optionalhook=True)  # known only where pytest-xdist is loaded
def pytest_xdist_auto_num_workers(config):
    """One pytest-xdist worker more than there are cores (``-n auto``).

    Some tests mostly wait: for a student's endless loop to reach its time limit, for a server to
    answer. With a worker per core, a core sits idle through such a wait; the extra worker can fill
    it. Measured from fresh clones on 2 cores: pytest 1561 s with two workers (2a70687), 1499 s and
    1667 s in two runs with three (6a509da, c867fa0): the gain is within the run-to-run spread.
    """
    return (os.cpu_count() or 1) + 1


def pytest_configure(config):
    """Count each module's wall and CPU time (tests/helpers/timing.py), and share the cores between
    pytest-xdist workers instead of oversubscribing them.

    Each worker (and every notebook kernel it starts, which inherits the environment)
    would otherwise run PyTorch on all cores, and the threads of different workers then
    wait on each other: training slows several-fold.
    """
    from tests.helpers.timing import ModuleTimes

    config.pluginmanager.register(ModuleTimes(), "module-times")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, threads)


def pytest_sessionstart(session):
    session.config.stash[STARTED] = time.time()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The accessibility counts of every page checked in this run (tests/helpers/axe.py), one line each."""
    from tests.helpers.axe import REPORTS

    started = config.stash.get(STARTED, time.time())
    reports = sorted(path for path in REPORTS.glob("*.json") if path.stat().st_mtime >= started) \
        if REPORTS.is_dir() else []
    if reports:
        terminalreporter.section("axe-core: elements failing, by impact")
        for path in reports:
            report = json.loads(path.read_text())
            counts = ", ".join(f"{impact} {count}" for impact, count in report["counts"].items())
            terminalreporter.write_line(f"{report['page']} ({report['mode']}): {counts}")


def pytest_addoption(parser):
    parser.addoption(
        "--book-html", metavar="FOLDER", default=None,
        help="check this already-built book (a _build/html folder) instead of building one; "
             "the strict-build test is then skipped",
    )


def pytest_runtest_setup(item):
    """Skip the browser tests, saying how to enable them, where Chromium or Playwright is missing.

    In CI (``CI`` set), where .ci/run installs Chromium, a missing browser fails them instead:
    a green run must not hide browser tests that never ran.
    """
    if item.get_closest_marker("browser") and (reason := why_no_browser()):
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="session")
def chromium():
    """The installed Chromium, driven by Playwright, started once per test worker."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable())
        yield browser
        browser.close()


@dataclass
class BuiltBook:
    """The book's HTML, and how its build went (None when --book-html named an existing build)."""

    html: Path
    build: subprocess.CompletedProcess | None


@pytest.fixture(scope="session")
def built_book(request, tmp_path_factory) -> BuiltBook:
    """The whole book, built strictly once for the tests that read it.

    A full build takes minutes, so the strict-build test and the browser tests share this one.
    A session fixture is built once per pytest-xdist worker, and ``--dist loadscope`` keeps a
    module on one worker: so every test that uses it lives in tests/test_book_build.py.
    """
    if existing := request.config.getoption("--book-html"):
        return BuiltBook(Path(existing).resolve(), None)
    output = tmp_path_factory.mktemp("book")
    return BuiltBook(output / "_build" / "html", build_book(COURSE_ROOT, output))


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory) -> Path:
    """The course's student edition, published once per test worker with ``dlcv publish``."""
    from dlcv.publish import publish

    edition = tmp_path_factory.mktemp("student-edition") / "edition"
    assert publish(COURSE_ROOT, edition), "the first publish must commit"
    return edition
