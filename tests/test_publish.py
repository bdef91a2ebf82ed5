"""``dlcv publish``: the student edition holds what students need, and never an answer or a hidden test."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from dlcv.publish import PUBLISHED, TAUGHT_LINES, publish
from dlcv.secret_scan import read_taught_lines, split_regions
from tests.helpers.course import ASSIGNMENT_IDS, ASSIGNMENTS, COURSE_ROOT, SOLUTIONS

INSTRUCTOR_PATHS = ("solutions", "tests", "benchmarks", ".ci", "gradebook.db", "nbgrader_config.py",
                    "src/dlcv/autograde", "src/dlcv/publish.py", "edition", "submitted", "autograded", "feedback")


def edition_files(edition: Path) -> list[str]:
    listing = subprocess.run(["git", "ls-files"], cwd=edition, capture_output=True, text=True, check=True)
    return listing.stdout.split()


def text_of(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def squeezed(text: str) -> str:
    """Lines stripped and joined by one newline, so indentation and JSON quoting do not hide a match."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def secret_regions() -> list[tuple[str, str]]:
    """Each solution region and hidden-test block of the sources, whole, with where it comes from."""
    regions = []
    for assignment in ASSIGNMENT_IDS:
        notebook = nbformat.read(SOLUTIONS / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in notebook.cells:
            inside, _ = split_regions(cell.source)
            if inside and cell.cell_type == "code":
                regions.append((f"{assignment}/{cell.metadata.get('nbgrader', {}).get('grade_id')}", "\n".join(inside)))
    return regions


def course_copy_for_publishing(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    for name in (*PUBLISHED, "solutions", "edition", "nbgrader_config.py"):
        source = COURSE_ROOT / name
        if source.is_dir():
            shutil.copytree(source, course / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "MNIST"))
        else:
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, course / name)
    return course


def run_publish(course: Path, target: Path) -> subprocess.CompletedProcess:
    """The command line, as an instructor types it (``dlcv publish DIR``)."""
    return subprocess.run([sys.executable, "-m", "dlcv.cli", "publish", str(target), "--course", str(course)],
                          capture_output=True, text=True, timeout=600)


def test_edition_holds_every_chapter_and_every_release(student_edition):
    files = edition_files(student_edition)
    chapters = sorted(str(path.relative_to(COURSE_ROOT)) for path in (COURSE_ROOT / "book").glob("*.ipynb"))
    releases = sorted(str(path.relative_to(COURSE_ROOT)) for path in ASSIGNMENTS.glob("*/*.ipynb"))
    published_chapters = sorted(name for name in files if name.startswith("book/") and name.endswith(".ipynb"))
    assert chapters and published_chapters == chapters
    assert len(releases) == len(ASSIGNMENT_IDS)
    assert sorted(name for name in files if name.startswith("assignments/")) == releases
    for name in chapters + releases:
        assert (student_edition / name).read_bytes() == (COURSE_ROOT / name).read_bytes(), name
    for name in ("README.md", "requirements.txt", "pyproject.toml", "_config.yml", "_toc.yml", "src/dlcv/data.py",
                 "data/mnist/train-images-idx3-ubyte.gz", "src/dlcv/_mnist"):
        assert name in files, f"{name} is missing from the edition"


def test_edition_holds_no_instructor_file(student_edition):
    files = edition_files(student_edition)
    found = [name for name in files for path in INSTRUCTOR_PATHS if name == path or name.startswith(path + "/")]
    assert not found, found
    readme = (student_edition / "README.md").read_text()
    assert "{{" not in readme and "https://github.com/dlcv-course/deep-learning-for-computer-vision" in readme


def test_no_solution_region_or_hidden_test_is_in_any_published_file(student_edition):
    """Whole regions, matched independently of the publisher's line scan.

    A region every line of which the instructor listed in edition/taught-lines.txt is let
    through (the list is empty today, so every region counts).
    """
    taught = read_taught_lines(COURSE_ROOT / TAUGHT_LINES)
    regions = [(where, region) for where, region in secret_regions()
               if not set(region.splitlines()) <= taught]
    assert len(regions) >= 2 * len(ASSIGNMENT_IDS) + 10, "every assignment has solutions and hidden tests"
    for name in edition_files(student_edition):
        text = text_of(student_edition / name)
        if text is None:
            continue
        if name.endswith(".ipynb"):
            text = "\n".join(cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                             for cell in json.loads(text)["cells"])
        assert not re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", text), name
        text = squeezed(text)
        leaked = [where for where, region in regions if region in text]
        assert not leaked, f"{name} holds the whole of {leaked}"


def test_republishing_commits_only_changes(student_edition, tmp_path):
    edition = tmp_path / "edition"
    shutil.copytree(student_edition, edition, symlinks=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=edition, capture_output=True, text=True).stdout
    assert publish(COURSE_ROOT, edition) is False
    assert subprocess.run(["git", "rev-parse", "HEAD"], cwd=edition, capture_output=True, text=True).stdout == head
    (edition / "notes.txt").write_text("a file the course does not have")
    subprocess.run(["git", "add", "notes.txt"], cwd=edition, check=True)
    identity = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", *identity, "commit", "-qm", "notes"], cwd=edition, check=True)
    assert publish(COURSE_ROOT, edition) is True, "the edition differs from the course: publishing must commit"
    assert not (edition / "notes.txt").exists()
    log = subprocess.run(["git", "log", "--oneline"], cwd=edition, capture_output=True, text=True).stdout
    assert len(log.splitlines()) == 3


def test_publish_refuses_a_release_out_of_date_with_its_source(tmp_path):
    course = course_copy_for_publishing(tmp_path)
    source = course / "solutions" / "a2_losses" / "a2_losses.ipynb"
    notebook = nbformat.read(source, as_version=4)
    notebook.cells[0].source += "\n\nA sentence the instructor added and forgot to release."
    nbformat.write(notebook, source)
    result = run_publish(course, tmp_path / "edition")
    assert result.returncode != 0
    assert "out of date" in result.stderr and "a2_losses" in result.stderr, result.stderr
    assert "a1_single_layer" not in result.stderr
    assert "nbgrader generate_assignment <id> --force" in result.stderr
    assert not (tmp_path / "edition").exists(), "nothing is written when publishing is refused"


def test_publish_refuses_a_solution_line_planted_in_a_release(tmp_path):
    course = course_copy_for_publishing(tmp_path)
    line = "return x @ W + b"
    assert line in (course / "solutions/a1_single_layer/a1_single_layer.ipynb").read_text()
    release = course / "assignments" / "a1_single_layer" / "a1_single_layer.ipynb"
    notebook = nbformat.read(release, as_version=4)
    answer = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
    answer.source = answer.source.replace("raise NotImplementedError()", line)
    nbformat.write(notebook, release)
    result = run_publish(course, tmp_path / "edition")
    assert result.returncode != 0
    assert "would be published" in result.stderr, result.stderr
    assert f"assignments/a1_single_layer/a1_single_layer.ipynb: {line!r}" in result.stderr
    assert not (tmp_path / "edition").exists()


def test_publish_refuses_a_hidden_test_line_in_a_chapter_output(tmp_path):
    course = course_copy_for_publishing(tmp_path)
    hidden = next(line for where, region in secret_regions() if where.startswith("a2_losses")
                  for line in region.splitlines() if line.startswith("assert "))
    chapter = course / "book" / "05_softmax_losses.ipynb"
    notebook = nbformat.read(chapter, as_version=4)
    printed = nbformat.v4.new_output("stream", name="stdout", text=f"{hidden}\n")
    notebook.cells.append(nbformat.v4.new_code_cell("print(secret)", outputs=[printed]))
    nbformat.write(notebook, chapter)
    result = run_publish(course, tmp_path / "edition")
    assert result.returncode != 0 and "book/05_softmax_losses.ipynb" in result.stderr, result.stderr


def test_no_chapter_prints_an_answer_and_the_scan_reads_the_chapters(tmp_path):
    """The course publishes without any allowed line; an answer's line planted in a chapter's code is refused."""
    course = course_copy_for_publishing(tmp_path)
    assert read_taught_lines(course / TAUGHT_LINES) == set(), "a chapter may not share a line with an answer"
    chapter = course / "book" / "09_pooling_striding.ipynb"
    nb = nbformat.read(chapter, as_version=4)
    code = next(cell for cell in nb.cells if cell.cell_type == "code" and "window_positions" in cell.source)
    code.source = code.source.replace("return len(range(0, n + 2 * padding - kernel_size + 1, stride))",
                                      "return (n + 2 * padding - kernel_size) // stride + 1")
    nbformat.write(nb, chapter)
    with pytest.raises(SystemExit) as refused:
        publish(course, tmp_path / "edition")
    assert "book/09_pooling_striding.ipynb" in str(refused.value), str(refused.value)


def test_publish_refuses_a_folder_that_is_not_the_edition(tmp_path):
    folder = tmp_path / "my-notes"
    folder.mkdir()
    (folder / "notes.txt").write_text("not the edition")
    with pytest.raises(SystemExit, match="neither empty nor a git repository"):
        publish(COURSE_ROOT, folder)
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]
    with pytest.raises(SystemExit, match="outside the course folder"):
        publish(COURSE_ROOT, COURSE_ROOT / "edition-inside")
