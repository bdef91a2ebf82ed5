"""A real JupyterLab server on localhost, for the tests of the students' side."""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from course import environment_on_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_lab(root: Path, extra_env: dict[str, str] | None = None) -> Iterator[Callable]:
    """Start JupyterLab in ``root`` and yield ``call(path, data=None)``, which returns the body.

    ``call`` sends a GET, or a form POST when ``data`` is given, with the server's token,
    as the lab's own front end does. The server is stopped when the block ends.
    """
    port, token = free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--allow-root"],  # CI runs as root; harmless otherwise
        cwd=root, env={**environment_on_path(), **(extra_env or {})},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def call(path: str, data: dict | None = None, timeout: float = 300) -> str:
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
