"""The student edition installs as Binder's repo2docker installs it, and then finds MNIST anywhere.

repo2docker installs ``requirements.txt`` and then, because ``pyproject.toml`` declares a
project, runs ``pip install .`` (not editable): the package then lives in site-packages,
far from the repository's ``data/``. The fresh environment holds what those two steps
install (offline: the requirements and the package's own dependencies are linked in
beforehand, as pip would have downloaded them; see tests/helpers/fresh_env.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import nbformat
from nbclient import NotebookClient
from packaging.requirements import Requirement

from dlcv.data import MNIST_FILES
from dlcv.install_cell import edition_url
from tests.helpers.course import COURSE_ROOT
from tests.helpers.fresh_env import kernel_spec, make_environment, offline_pip_env


def requirement_names(path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line).name for line in lines if line]


def readme_commands(edition) -> list[str]:
    """The commands of the student README's set-up block, one a line."""
    readme = (edition / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_student_readme_clones_the_edition_into_the_folder_it_enters(student_edition, tmp_path):
    """``git clone <the edition's address> NAME`` then ``cd NAME``, with the address served from disk."""
    clone, enter = readme_commands(student_edition)[:2]
    words = clone.split()
    assert words[:2] == ["git", "clone"] and enter == f"cd {words[3]}"
    assert words[2] == edition_url(COURSE_ROOT), "the README must clone the edition named in _config.yml"
    offline = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.file://{student_edition}.insteadOf",
               "GIT_CONFIG_VALUE_0": words[2]}
    cloned = subprocess.run(words, cwd=tmp_path, env={**os.environ, **offline}, capture_output=True, text=True,
                            timeout=120)
    assert cloned.returncode == 0, cloned.stderr
    assert (tmp_path / words[3] / "requirements.txt").is_file() and (tmp_path / words[3] / "pyproject.toml").is_file()


def test_installed_as_binder_does_a_chapter_finds_mnist_from_another_folder(student_edition, tmp_path, monkeypatch):
    repository = tmp_path / "repo"
    shutil.copytree(student_edition, repository, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    dependencies = tomllib.loads((repository / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = requirement_names(repository / "requirements.txt") + [Requirement(d).name for d in dependencies]
    python = make_environment(tmp_path / "env", [*wanted, "pip", "setuptools"])
    env = offline_pip_env(tmp_path / "cache")
    for step in (["-r", "requirements.txt"], ["."]):  # repo2docker's two steps, in its order
        installed = subprocess.run([str(python), "-m", "pip", "install", *step], cwd=repository,
                                   env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    readme_install = next(line for line in readme_commands(repository) if line.startswith(".venv/bin/pip install"))
    again = subprocess.run([str(python), "-m", "pip", *readme_install.split()[1:]], cwd=repository,
                           env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, f"the student README's `{readme_install}` fails:\n{again.stderr}"
    shutil.rmtree(repository / "src")  # an editable install would now break; a regular one does not care
    command = subprocess.run([str(python), "-m", "dlcv.cli", "--help"], cwd=tmp_path, env={**os.environ, **env},
                             capture_output=True, text=True, timeout=120)
    assert command.returncode == 0 and "autograde" not in command.stdout, "the instructor's commands stay out"

    kernel_spec(tmp_path / "jupyter", "binder-like", python, env)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    notebook = nbformat.read(repository / "book" / "02_single_layer.ipynb", as_version=4)
    NotebookClient(notebook, kernel_name="binder-like", timeout=600,
                   resources={"metadata": {"path": str(elsewhere)}}).execute()
    raw = tmp_path / "cache" / "dlcv" / "MNIST" / "raw"
    assert sorted(path.name for path in raw.iterdir()) == sorted(MNIST_FILES), "MNIST came from elsewhere"
