"""A real JupyterLab server on localhost, started in a folder, for the tests that need one."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.course import environment_on_path


@dataclass(frozen=True)
class LabServer:
    """Where a running JupyterLab answers, and the token it wants."""

    origin: str
    token: str

    def url(self, path: str) -> str:
        """The address of ``path`` (``/lab/tree/x.ipynb``) that logs a browser in with the token."""
        return f"{self.origin}{path}?token={self.token}"

    def call(self, path: str, data: dict | None = None, timeout: float = 300) -> str:
        """GET ``path``, or POST ``data`` as a form, with the token, as the lab's front end does."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.origin + path, data=body,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_lab(root: Path, state: Path, startup_s: float = 60,
                extra_env: dict[str, str] | None = None) -> Iterator[LabServer]:
    """JupyterLab from this environment, serving ``root`` (with the course's ``nbgrader_config.py``).

    Its workspace and user settings live in ``state``: the test neither reads the tester's own
    JupyterLab settings nor leaves its open tabs in them. ``extra_env`` is added to the
    server's environment (e.g. ``JUPYTER_CONFIG_PATH`` for a system-wide nbgrader exchange).
    """
    port, token = free_port(), secrets.token_hex(16)
    # A file, not a pipe: a pipe nobody reads fills up and stalls the server mid-test.
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={state / 'settings'}",
         "--allow-root"],  # CI runs as root; harmless otherwise
        cwd=root, env={**environment_on_path(), **(extra_env or {})}, stdout=subprocess.DEVNULL, stderr=log, text=True,
    )
    lab = LabServer(f"http://127.0.0.1:{port}", token)
    try:
        wait_for(lab, server, startup_s, log)
        yield lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def wait_for(lab: LabServer, server: subprocess.Popen, startup_s: float, log) -> None:
    """Return once the server answers; raise with its log if it exits or stays silent."""
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        try:
            headers = {"Authorization": f"token {lab.token}"}
            request = urllib.request.Request(lab.origin + "/api/status", headers=headers)
            urllib.request.urlopen(request, timeout=5).close()
            return
        except OSError:
            if server.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"JupyterLab exited: {log.read()[-3000:]}") from None
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {startup_s:.0f} s")
