"""Students' JupyterLab: the nbgrader extension is installed, and its Validate button works.

Starts a real JupyterLab server on localhost in a copy of the course and calls the
endpoint that the notebook toolbar's Validate button calls.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.helpers.course import ASSIGNMENTS, COURSE_ROOT, SOLUTIONS
from tests.helpers.lab_server import running_lab

ASSIGNMENT = "a1_single_layer"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server rooted in a course copy holding a finished and an unanswered notebook."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", root)
    (root / "finished").mkdir()
    (root / "unanswered").mkdir()
    shutil.copy(SOLUTIONS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "finished")
    shutil.copy(ASSIGNMENTS / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "unanswered")
    with running_lab(root, tmp_path_factory.mktemp("lab-state")) as server:
        yield server.call


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


def page_config(page: str) -> dict:
    """The configuration JupyterLab hands its front end, read from the /lab page."""
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, "JupyterLab's page carries no configuration data"
    return json.loads(match.group(1))


def disabled_nbgrader_plugins(config: dict) -> list[str]:
    return [str(name) for name in config.get("disabledExtensions", []) if "nbgrader" in str(name)]


def test_no_nbgrader_panel_is_disabled_for_students(lab):
    """The Assignment List, Validate and other nbgrader plugins are all switched on."""
    config = page_config(lab("/lab"))
    names = [extension["name"] for extension in config.get("federated_extensions", [])]
    assert "@jupyter/nbgrader" in names, names
    assert not disabled_nbgrader_plugins(config), config.get("disabledExtensions")


def test_the_check_sees_a_disabled_nbgrader_panel(tmp_path):
    """What ``jupyter labextension disable`` writes is what the check above reads, so it can fail."""
    config_dir = tmp_path / "config"
    (config_dir / "labconfig").mkdir(parents=True)
    plugin = "@jupyter/nbgrader:assignment-list"
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {plugin: True}}))
    (tmp_path / "root").mkdir()
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", tmp_path / "root")
    config = {"JUPYTER_CONFIG_DIR": str(config_dir)}
    with running_lab(tmp_path / "root", tmp_path / "state", extra_env=config) as server:
        config = page_config(server.call("/lab"))
    assert disabled_nbgrader_plugins(config) == [plugin], config.get("disabledExtensions")
