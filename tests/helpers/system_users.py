"""Throw-away unix users, for tests where people must really be kept apart.

On a JupyterHub with a local-process spawner each person's server runs as their own unix user:
that, and the exchange's folder permissions, is what keeps one student out of another's work.
A test can only show that with real users, so it makes them (which needs root, as in CI), with
homes in a folder of its own, and removes them, their homes and any process left running as
them afterwards, whatever happened in between.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TOOLS = ("useradd", "userdel", "runuser")


def why_no_system_users() -> str | None:
    """Why this test cannot make unix users, with what to do; None when it can."""
    if os.geteuid() != 0:
        return "making unix users for the hub's students needs root: run the test as root (CI does)"
    if missing := [tool for tool in TOOLS if shutil.which(tool) is None]:
        return f"missing {', '.join(missing)} (Debian/Ubuntu: `apt-get install passwd util-linux`)"
    return None


@contextmanager
def temporary_users(names: list[str], homes: Path) -> Iterator[dict[str, pwd.struct_passwd]]:
    """Make each user, with a private home under ``homes``; remove them all afterwards."""
    made: list[str] = []
    try:
        for name in names:
            home = homes / name
            result = subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                                     "--user-group", name], capture_output=True, text=True, timeout=60)
            if result.returncode != 0:
                raise RuntimeError(f"useradd {name} failed: {result.stderr}")
            made.append(name)
            home.chmod(0o700)
        yield {name: pwd.getpwnam(name) for name in names}
    finally:
        for name in made:
            end_processes_of(pwd.getpwnam(name).pw_uid)
            remove_user(name)


def processes_of(uid: int) -> list[int]:
    """The ids of the processes that run as ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid and state_of(int(entry.name)) != "Z":
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def state_of(pid: int) -> str | None:
    """The one-letter state of a process (``Z`` for a zombie), or None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def end_processes_of(uid: int, grace_s: float = 10) -> None:
    """Terminate, then kill, each process (by its id) still running as the test's user ``uid``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = processes_of(uid)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_s
        while processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.2)


def remove_user(name: str) -> None:
    try:
        home = pwd.getpwnam(name).pw_dir
    except KeyError:
        return
    subprocess.run(["userdel", name], capture_output=True, timeout=60)
    shutil.rmtree(home, ignore_errors=True)
