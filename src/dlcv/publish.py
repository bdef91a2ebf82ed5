"""``dlcv publish DIR``: write the student edition, the public copy of the course.

Colab, Binder and a JupyterHub need a public git repository; the instructor's own holds
every answer and hidden test. The student edition is a second repository that holds what
students need and nothing else: the chapters and book configuration, the released
assignments, the helper package without the instructor's commands, MNIST, the students'
requirements and README (from ``edition/``). Publishing refuses, before writing anything,
when a line of a solution or hidden test would be published (``secret_scan``) or a release
lags its source (``release_check``). Each run replaces the edition's files and commits only
when something changed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from dlcv import install_cell, release_check, secret_scan

# What the edition takes from the course, under the same names.
PUBLISHED = ("_config.yml", "_toc.yml", "_ext", "_templates", "book", "assignments", "src/dlcv", "data/mnist",
             "pyproject.toml", "LICENSE")
# Inside those, what only the instructor uses: the grader and the publishing tools.
INSTRUCTOR_ONLY = ("src/dlcv/autograde", "src/dlcv/publish.py", "src/dlcv/release_check.py",
                   "src/dlcv/secret_scan.py", "src/dlcv/install_cell.py")
# The course's folder of files written for the edition's root (README.md, requirements.txt, ...).
STUDENT_FILES = "edition"
TAUGHT_LINES = "edition/taught-lines.txt"
SKIPPED = {"__pycache__", ".ipynb_checkpoints", ".DS_Store"}
PLACEHOLDERS = ("EDITION_URL", "EDITION_NAME", "BRANCH", "BINDER_URL")


class Edition:
    """The edition's files (published name -> course file) and links (name -> link target)."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.links: dict[str, str] = {}
        self.rendered: dict[str, str] = {}  # student files with the edition's address filled in

    def add_tree(self, course: Path, name: str) -> None:
        path = course / name
        if name in INSTRUCTOR_ONLY or path.name in SKIPPED or path.suffix == ".pyc":
            return
        if path.is_symlink():
            self.links[name] = os.readlink(path)
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                self.add_tree(course, f"{name}/{child.name}")
        elif path.is_file():
            self.files[name] = path
        else:
            raise SystemExit(f"{path} is missing: the student edition needs it")


def collect(course: Path, url: str, branch: str) -> Edition:
    edition = Edition()
    for name in PUBLISHED:
        edition.add_tree(course, name)
    values = {"EDITION_URL": url, "EDITION_NAME": url.rsplit("/", 1)[-1].removesuffix(".git"), "BRANCH": branch,
              "BINDER_URL": binder_address(course, url, branch)}
    for path in sorted((course / STUDENT_FILES).iterdir()):
        if path.name == Path(TAUGHT_LINES).name or path.name in SKIPPED:
            continue
        text = path.read_text(encoding="utf-8")
        for key in PLACEHOLDERS:
            text = text.replace("{{" + key + "}}", values[key])
        edition.rendered[path.name] = text
    for name, target in edition.links.items():
        resolved = os.path.normpath(os.path.join(os.path.dirname(name), target))
        if not any(resolved == kept or resolved.startswith(kept + "/") for kept in PUBLISHED):
            raise SystemExit(f"{course / name} links to {target}, which the student edition does not hold")
    return edition


def binder_address(course: Path, url: str, branch: str) -> str:
    """Binder's address for the edition, in the form the book's Binder button uses."""
    binderhub = str((install_cell.book_config(course).get("launch_buttons") or {}).get("binderhub_url")
                    or "https://mybinder.org").rstrip("/")
    if url.startswith("https://github.com/"):
        return f"{binderhub}/v2/gh/{url.removeprefix('https://github.com/')}/{branch}"
    return f"{binderhub}/v2/git/{quote(url, safe='')}/{branch}"


def refusals(course: Path, edition: Edition, scratch: Path) -> list[str]:
    """Why the edition must not be published: leaked secret lines, then stale releases."""
    secrets = secret_scan.secret_lines(course / "solutions", secret_scan.read_taught_lines(course / TAUGHT_LINES))
    for name, text in edition.rendered.items():
        (scratch / name).write_text(text, encoding="utf-8")
    files = {**edition.files, **{name: scratch / name for name in edition.rendered}}
    leaks = secret_scan.scan(files, secrets)
    if leaks:
        listed = "\n  ".join(str(leak) for leak in leaks[:20])
        return [f"{len(leaks)} line(s) of a solution or hidden test would be published:\n  {listed}\n"
                "Remove them from those files (a release: regenerate it with `nbgrader generate_assignment "
                f"<id> --force`), or, if the lecture itself teaches a line, list it in {TAUGHT_LINES} "
                "with a comment saying why."]
    stale = release_check.stale_releases(course)
    if stale:
        return [f"released assignment(s) out of date with solutions/: {', '.join(stale)}. Regenerate each "
                "from the course folder with `nbgrader generate_assignment <id> --force`, then commit it."]
    return []


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed in {folder}: {result.stderr.strip()}")
    return result.stdout


def check_target(course: Path, target: Path) -> None:
    """The edition goes into a new or empty folder, or a git repository (a clone of the edition)."""
    if target == course or course in target.parents:
        raise SystemExit(f"publish the edition outside the course folder, not into {target}")
    if target.exists() and not (target / ".git").exists() and any(target.iterdir()):
        raise SystemExit(f"{target} is neither empty nor a git repository: publish into a new folder "
                         "or into a clone of the student edition")


def prepare_repository(target: Path, branch: str) -> None:
    """A new or empty folder becomes a git repository on the edition's branch."""
    if not (target / ".git").exists():
        target.mkdir(parents=True, exist_ok=True)
        git(target, "init", "--quiet", "--initial-branch", branch)


def write(edition: Edition, target: Path) -> None:
    """Replace everything in ``target`` but ``.git`` with the edition."""
    for child in target.iterdir():
        if child.name == ".git":
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for name, source in edition.files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    for name, link in edition.links.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).symlink_to(link)
    for name, text in edition.rendered.items():
        (target / name).write_text(text, encoding="utf-8")


def describe_source(course: Path) -> str:
    """The instructor's commit the edition comes from, when the course is a git checkout."""
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=course, capture_output=True, text=True)
    if found.returncode == 0 and (course / ".git").exists():
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=course, capture_output=True, text=True).stdout
        return f"commit {found.stdout.strip()}" + (" with uncommitted changes" if dirty.strip() else "")
    return datetime.datetime.now(datetime.UTC).strftime("the course as of %Y-%m-%d %H:%M UTC")


def commit(target: Path, message: str) -> bool:
    """Commit every change; False when there was none."""
    git(target, "add", "--all")
    if not git(target, "status", "--porcelain").strip():
        return False
    identity = []
    if not subprocess.run(["git", "config", "user.email"], cwd=target, capture_output=True).stdout.strip():
        identity = ["-c", "user.name=dlcv publish", "-c", "user.email=dlcv-publish@localhost"]
    git(target, *identity, "commit", "--quiet", "-m", message)
    return True


def publish(course: Path, target: Path) -> bool:
    """Write the student edition of ``course`` into the git repository ``target``; True if committed."""
    course, target = course.resolve(), target.resolve()
    check_target(course, target)
    url = install_cell.edition_url(course)
    branch = str((install_cell.book_config(course).get("repository") or {}).get("branch") or "main")
    edition = collect(course, url, branch)
    with tempfile.TemporaryDirectory(prefix="dlcv-publish-") as scratch:
        problems = refusals(course, edition, Path(scratch))
    if problems:
        raise SystemExit("dlcv publish refused:\n" + "\n".join(problems))
    prepare_repository(target, branch)
    write(edition, target)
    return commit(target, f"Student edition from {describe_source(course)}")


def run(arguments: argparse.Namespace) -> None:
    target = Path(arguments.directory)
    if publish(Path(arguments.course), target):
        print(f"published the student edition into {target} (new commit); push it to its public address")
    else:
        print(f"the student edition in {target} is already up to date (no commit)")


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="write the student edition (no solutions, no hidden tests) as a git repository",
        description="Write the student edition of the course into DIR, a git repository (created if new; "
                    "its files are replaced), and commit when something changed. Refuses when a solution or "
                    "hidden-test line would be published or a release is out of date with its source.",
    )
    parser.add_argument("directory", metavar="DIR", help="the edition's repository (a new folder or a clone)")
    parser.add_argument("--course", default=".", help="the instructor's course folder (default: here)")
    parser.set_defaults(run=run)
