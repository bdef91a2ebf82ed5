"""A real Dask cluster on this machine, started with Dask's own command-line tools, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dlcv.autograde.runner import stop  # politely, then for sure, with the process's group
from tests.helpers.course import environment_on_path

DASK = Path(sys.executable).with_name("dask")


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=environment_on_path(),
                            start_new_session=True)


def children_of() -> dict[int, list[int]]:
    """Every running process's children, read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the name, which may hold spaces
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def is_grading(worker: subprocess.Popen) -> bool:
    """Whether a judge (``python -m dlcv.autograde.judge``) runs below this worker: it is grading a submission."""
    tree, waiting = children_of(), [worker.pid]
    while waiting:
        for child in tree.get(waiting.pop(), []):
            with contextlib.suppress(OSError):
                if b"dlcv.autograde.judge" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return True
            waiting.append(child)
    return False


@contextlib.contextmanager
def local_cluster(folder: Path, workers: int, threads: int = 1) -> Iterator[dict]:
    """A scheduler on loopback and ``workers`` workers (no nanny: a killed worker stays dead), all stopped
    on leaving, whatever happens. Yields the scheduler's address and the workers' processes by name."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    processes = [start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", str(scheduler_file)], folder / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        named = {}
        for number in range(1, workers + 1):
            name = f"w{number}"
            named[name] = start([str(DASK), "worker", address, "--name", name, "--nthreads", str(threads),
                                 "--nworkers", "1", "--no-nanny", "--no-dashboard", "--memory-limit", "0",
                                 "--local-directory", str(folder / name)], folder / f"{name}.log")
            processes.append(named[name])
        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
        yield {"address": address, "workers": named}
    finally:
        for process in reversed(processes):
            stop(process)
