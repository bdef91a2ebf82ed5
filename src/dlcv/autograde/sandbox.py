"""How a student's code is confined: bubblewrap, an unprivileged user, and resource limits.

The strongest set-up (used when it works) starts the student's Python process

- as an unprivileged user id of its own (one per parallel slot, so that the process-count
  limit counts only that submission's processes), with no capabilities and no new privileges;
- inside ``bwrap`` namespaces: a new mount namespace that shows only the operating system
  (``/usr``), the Python environment and the ``dlcv`` package read-only, the course's
  public ``data/`` folder read-only, a private ``/tmp`` and the submission's own scratch
  folder; no network (only a loopback device), its own process, IPC and host-name namespaces;
- under ``prlimit``: address space (memory), processes and threads, file size, open files,
  CPU seconds, no core dumps.

Without bubblewrap, or where it cannot create namespaces (some containers), the grader
falls back to the limits and the separate user alone and says so loudly: the student's
code can then read every file that all users may read.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dlcv
from dlcv.autograde.protocol import Limits

HOME = "/home/student"
FIRST_UID = 61000
UIDS_PER_RUN = 256  # one block of user ids per grading run: its slots
HIDDEN_SLOTS = UIDS_PER_RUN // 2  # slot n's hidden tests run in slot n + HIDDEN_SLOTS
MAX_RUNS = 64
LOCKS = Path("/run/dlcv-autograde")  # which blocks are taken: a lock file each (only root switches users)


def python_paths() -> list[str]:
    """The folders the sandboxed interpreter must read: the environment and the dlcv package."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    package_root = Path(dlcv.__file__).resolve().parent.parent
    if not str(package_root).startswith(tuple(str(p) for p in paths)):
        if (package_root / "solutions").exists() or (package_root / "gradebook.db").exists():
            raise RuntimeError(f"refusing to expose {package_root} to the sandbox: it holds course files")
        paths.add(package_root)
    return sorted(str(p) for p in paths if not str(p).startswith("/usr/"))


def kill_every_process_of(uid: int) -> None:
    """SIGKILL every process whose real user id is ``uid``, until none is left (new ones may be forked meanwhile)."""
    for _ in range(50):
        found = False
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/status") as status:
                    real_uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
                if real_uid == uid:
                    found = True
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, StopIteration, ValueError):
                continue
        if not found:
            return
        time.sleep(0.05)


def system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def prlimit_args(limits: Limits, uid_of_its_own: bool) -> list[str]:
    args = [
        "prlimit",
        f"--as={limits.memory_mb * 2**20}",
        f"--fsize={limits.file_mb * 2**20}",
        f"--cpu={int(limits.notebook_timeout * max(1, os.cpu_count() or 1)) + 10}",
        "--nofile=256",
        "--core=0",
    ]
    # The limit counts every process and thread of the real user id: with an id of its own that is
    # the submission alone; sharing the caller's id, it must leave room for what the caller runs.
    allowed = limits.processes if uid_of_its_own else tasks_of_this_user() + limits.processes
    args.append(f"--nproc={allowed}")
    return args + ["--"]


def tasks_of_this_user() -> int:
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def can_switch_user() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def user_args(uid: int) -> list[str]:
    if not can_switch_user():
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all"]


def bwrap_args(scratch: Path, data_dir: Path | None, tmp_mb: int) -> list[str]:
    if os.geteuid() == 0:
        # As root, bwrap needs no user namespace; setpriv then drops to the slot's user id
        # inside (mapping it through a user namespace would keep the processes root's outside).
        args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    else:
        args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    # The private /tmp comes before the binds: mounted after them, it would hide an environment or a
    # course that lives under /tmp (a checkout in /tmp, say).
    # Both writable places are memory of a bounded size (RLIMIT_AS does not count a tmpfs).
    size = str(tmp_mb * 2**20)
    args += system_binds() + ["--size", size, "--perms", "1777", "--tmpfs", "/tmp"]
    binds = python_paths() + ([str(data_dir)] if data_dir is not None and data_dir.is_dir() else [])
    # bwrap makes missing parent folders private to root; the student's user must pass through them.
    parents = sorted({str(parent) for path in [*binds, HOME] for parent in Path(path).parents if str(parent) != "/"})
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--perms", "1777", "--tmpfs", HOME]
    for entry in sorted(scratch.iterdir()):  # the assignment's other files, read-only
        args += ["--ro-bind", str(entry), f"{HOME}/{entry.name}"]
    return args + ["--chdir", HOME]


def environment(threads: int, data_dir: Path | None, home: str = HOME) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    if data_dir is not None:
        env["DLCV_DATA_DIR"] = str(data_dir)
    return env


# The student's process imports the dlcv the grader imported (the folder python_paths shows it), also where
# that is not the one the isolated interpreter would find (a checkout on PYTHONPATH, another worktree).
PACKAGE_ROOT = str(Path(dlcv.__file__).resolve().parent.parent)
# The module's name stays a word of its own on the command line, where tests look for the student's process.
WORKER = [sys.executable, "-I", "-c", f"import sys, runpy; sys.path.insert(0, {PACKAGE_ROOT!r}); "
          "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)", "dlcv.autograde.worker"]
TRY_TORCH = [sys.executable, "-I", "-c", "import torch"]


@dataclasses.dataclass
class Confinement:
    """How to start a student's process; ``mechanism`` says in words what confines it."""

    use_bwrap: bool
    mechanism: str
    warning: str | None
    switch_user: bool = True
    refusal: str | None = None  # why it must not grade at all (it would run students' code as root)
    first_uid: int = FIRST_UID
    uid_lock: object = None  # held while this run uses its block of user ids

    def uid(self, slot: int) -> int:
        return self.first_uid + slot

    def claim_user_ids(self, slots: int) -> None:
        """A block of user ids that no other grading run on this machine uses while this one runs.

        Runs that shared ids could end each other's processes (see ``end_slot``) or count each
        other's against the process limit.
        """
        if not (self.switch_user and can_switch_user()):
            return
        if slots > HIDDEN_SLOTS:
            raise SystemExit(f"--jobs is at most {HIDDEN_SLOTS}")
        LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
        for block in range(MAX_RUNS):
            lock = open(LOCKS / f"uids-{block}.lock", "w")  # noqa: SIM115 - held until this process ends
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            self.uid_lock, self.first_uid = lock, FIRST_UID + block * UIDS_PER_RUN
            return
        raise SystemExit(f"{MAX_RUNS} grading runs are already using this machine; wait for one to finish")

    def end_slot(self, slot: int) -> None:
        """End every process still running under the slot's user id (a daemon the submission started)."""
        if self.switch_user and can_switch_user():
            kill_every_process_of(self.uid(slot))

    def command(self, slot: int, scratch: Path, limits: Limits, data_dir: Path | None,
                program: list[str] = WORKER) -> list[str]:
        """The command line that runs ``program`` confined, in ``slot``, with ``scratch`` as its home."""
        user = user_args(self.uid(slot)) if self.switch_user else []
        prefix = user + prlimit_args(limits, uid_of_its_own=bool(user))
        if self.use_bwrap:
            prefix = bwrap_args(scratch, data_dir, limits.tmp_mb) + prefix
        elif os.geteuid() == 0 and shutil.which("unshare"):
            prefix = ["unshare", "--net", "--"] + prefix
        return prefix + program

    def home(self, scratch: Path) -> str:
        """Where the student's process starts: its scratch folder, as the sandbox shows it."""
        return HOME if self.use_bwrap else str(scratch)

    def prepare_scratch(self, slot: int, scratch: Path) -> None:
        if self.switch_user and can_switch_user():
            uid = self.uid(slot)
            for path in [scratch, *scratch.rglob("*")]:
                os.chown(path, uid, uid)


def probe(scratch_root: Path, slots: int = 1) -> Confinement:
    """Find the strongest confinement that works here (bubblewrap is tried for real), with ``slots``
    user ids of its own when run as root."""
    box = Confinement(True, "", None)
    box.claim_user_ids(slots)
    problems = []
    if shutil.which("bwrap") is None:
        problems.append("bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    else:
        scratch = scratch_root / "probe"
        scratch.mkdir(parents=True, exist_ok=True)
        box.prepare_scratch(0, scratch)
        command = box.command(0, scratch, Limits(), None, TRY_TORCH)
        result = subprocess.run(command, capture_output=True, text=True, env=environment(1, None), timeout=120)
        box.end_slot(0)
        if result.returncode == 0:
            who = "an unprivileged user id of its own" if can_switch_user() else "your own user id"
            box.mechanism = (f"bubblewrap namespaces (no network, only the Python environment, the public data "
                             f"and its own scratch folder visible), {who}, and resource limits")
            return box
        problems.append(f"bubblewrap cannot create a sandbox here: {result.stderr.strip()[-300:]}")
    box.use_bwrap = False
    if os.geteuid() == 0 and not can_switch_user():
        box.refusal = "refusing to run students' code as root: setpriv (util-linux) is missing"
    elif can_switch_user() and not works(box, scratch_root):
        box.refusal = ("refusing to run students' code as root: the unprivileged user cannot run this Python "
                       "environment (is it under /root?); install bubblewrap, or move the environment")
    if can_switch_user():
        box.mechanism = "an unprivileged user id of its own, no network (unshare), and resource limits"
        exposure = "every file that all users may read, which may include the solutions and the gradebook"
    else:
        box.mechanism = "resource limits only"
        exposure = "and change every file the grader's user can, the solutions and the gradebook included"
    box.warning = ("WARNING: the strongest isolation is unavailable: " + "; ".join(problems)
                   + ". Falling back to " + box.mechanism + ": students' code can read " + exposure
                   + ". Install bubblewrap, or grade in a disposable container.")
    return box


def works(box: Confinement, scratch_root: Path) -> bool:
    scratch = scratch_root / "probe-fallback"
    scratch.mkdir(parents=True, exist_ok=True)
    box.prepare_scratch(0, scratch)
    command = box.command(0, scratch, Limits(), None, TRY_TORCH)
    result = subprocess.run(command, capture_output=True, text=True, cwd=scratch,
                            env=environment(1, None, str(scratch)), timeout=120)
    box.end_slot(0)
    return result.returncode == 0
