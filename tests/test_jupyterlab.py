"""Students' JupyterLab: the nbgrader extension is installed, and its Validate button works.

Starts a real JupyterLab server on localhost in a copy of the course and calls the
endpoint that the notebook toolbar's Validate button calls.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from course import ASSIGNMENTS, COURSE_ROOT, SOLUTIONS, environment_on_path

ASSIGNMENT = "a1_single_layer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server rooted in a course copy holding a finished and an unanswered notebook."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root)
    (root / "finished").mkdir()
    (root / "unanswered").mkdir()
    shutil.copy(SOLUTIONS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "finished")
    shutil.copy(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "unanswered")
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--allow-root"],  # CI runs as root; harmless otherwise
        cwd=root, env=environment_on_path(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def call(path: str, data: dict | None = None, timeout: float = 300):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(base + path, data=body, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode()

    try:
        for _ in range(120):
            try:
                call("/api/status", timeout=5)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {server.stderr.read()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within a minute")
        yield call
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_lab_page_loads_the_nbgrader_extension(lab):
    page = lab("/lab")
    assert "@jupyter/nbgrader" in page, "the nbgrader lab extension is not listed in JupyterLab's page"


def test_server_and_lab_extension_versions_match(lab):
    from nbgrader import __version__

    assert json.loads(lab(f"/nbgrader_version?version={__version__}"))["success"] is True


def test_validate_button_passes_a_finished_notebook(lab):
    answer = json.loads(lab("/assignments/validate", {"path": f"finished/{ASSIGNMENT}.ipynb"}))
    assert answer["success"] is True and answer["value"] == {}, answer


def test_validate_button_reports_failures_in_an_unanswered_notebook(lab):
    answer = json.loads(lab("/assignments/validate", {"path": f"unanswered/{ASSIGNMENT}.ipynb"}))
    assert answer["success"] is True, answer
    assert answer["value"]["failed"], "an unanswered notebook must not validate"
    assert any("NotImplementedError" in cell["raw_error"] for cell in answer["value"]["failed"])
