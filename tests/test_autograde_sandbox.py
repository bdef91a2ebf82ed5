"""The sandbox's own guarantees, in-process: separate user ids per run, nothing left running, bounded /tmp and home.

These need what ``dlcv autograde`` needs for them: root (to switch users) and bubblewrap. Without
them the tests are skipped with the reason, and in CI (``CI`` set), where both are there, they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from dlcv.autograde import sandbox
from dlcv.autograde.protocol import Limits


def need(condition: bool, reason: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def as_root():
    need(sandbox.can_switch_user(), "needs root and setpriv: the grader switches user ids only as root")


def test_concurrent_runs_get_blocks_of_user_ids_of_their_own(as_root):
    first, second = sandbox.Confinement(True, "", None), sandbox.Confinement(True, "", None)
    first.claim_user_ids(4)
    second.claim_user_ids(4)
    try:
        assert abs(first.first_uid - second.first_uid) >= sandbox.UIDS_PER_RUN
        assert {first.uid(slot) for slot in range(4)}.isdisjoint({second.uid(slot) for slot in range(4)})
    finally:
        first.uid_lock.close()
        second.uid_lock.close()
    third = sandbox.Confinement(True, "", None)
    third.claim_user_ids(4)
    third.uid_lock.close()
    assert third.first_uid == min(first.first_uid, second.first_uid), "a block is free again once its run ends"


def test_a_slot_is_emptied_of_every_process_it_left(as_root):
    box = sandbox.Confinement(False, "", None)
    box.first_uid = sandbox.FIRST_UID + (sandbox.MAX_RUNS - 1) * sandbox.UIDS_PER_RUN  # a block no run uses here
    uid = box.uid(0)
    # A daemon: its own session, its parent gone, as the slot's user.
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "setsid", "-f",
                    "sleep", "300"], check=True)

    def running() -> int:
        listing = subprocess.run(["pgrep", "-u", str(uid)], capture_output=True, text=True).stdout
        return len(listing.split())

    deadline = time.monotonic() + 10
    while not running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running() == 1
    box.end_slot(0)
    assert running() == 0


def test_the_sandboxs_tmp_and_home_are_bounded(tmp_path):
    need(shutil.which("bwrap") is not None, "needs bubblewrap (apt-get install bubblewrap)")
    box = sandbox.probe(tmp_path, 1)
    need(box.use_bwrap, f"bubblewrap cannot make a sandbox here: {box.warning}")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "data.txt").write_text("the assignment's own file")
    box.prepare_scratch(0, scratch)
    fill = ("import os\n"
            "def fill(folder):\n"
            "    written = 0\n"
            "    try:\n"
            "        with open(os.path.join(folder, 'big'), 'wb') as f:\n"
            "            while written < 64 * 2**20:\n"
            "                f.write(b'x' * 2**20); f.flush(); written += 2**20\n"
            "    except OSError as error:\n"
            "        return f'{written // 2**20} MB then errno {error.errno}'\n"
            "    return f'{written // 2**20} MB'\n"
            "print(fill('/tmp'), '|', fill(os.path.expanduser('~')), '|', open('data.txt').read())\n"
            "try:\n"
            "    open('data.txt', 'w')\n"
            "except OSError as error:\n"
            "    print('read-only', error.errno)\n")
    command = box.command(0, scratch, Limits(tmp_mb=16), None, [sys.executable, "-I", "-c", fill])
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=sandbox.environment(1, None), timeout=120)
    finally:
        box.end_slot(0)
        if box.uid_lock:
            box.uid_lock.close()
    assert result.returncode == 0, result.stderr
    tmp, home, data = result.stdout.split(" | ")
    assert tmp.startswith(("15 MB then errno 28", "16 MB then errno 28")), result.stdout  # ENOSPC at 16 MB
    assert home.startswith(("15 MB then errno 28", "16 MB then errno 28")), result.stdout
    assert data.startswith("the assignment's own file") and "read-only 30" in result.stdout  # EROFS
