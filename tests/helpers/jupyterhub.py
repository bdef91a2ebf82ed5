"""A real JupyterHub on loopback, for the tests that need several people on one hub.

The hub runs as root (as a hub with a local-process spawner must, to start each person's
server as their own unix user), with JupyterHub's testing authenticator (``DummyAuthenticator``:
any password, but only the allowed names), the ``LocalProcessSpawner`` (each single-user server
is this environment's ``jupyterhub-singleuser``, run as that person's unix user in their home),
and its own configurable-http-proxy. Hub, proxy and servers listen on 127.0.0.1 only. People
log in through the hub's REST API with the authenticator, which gives each an API token of
their own; everything they do afterwards goes through the proxy with that token.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.course import environment_on_path
from tests.helpers.lab_server import free_port
from tests.helpers.system_users import state_of


class HubError(RuntimeError):
    """A hub request that failed, with the status and the hub's answer."""

    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


@dataclass
class Hub:
    """Where a running hub answers, and the tokens of those who logged in."""

    origin: str
    tokens: dict[str, str] = field(default_factory=dict)

    def request(self, path: str, token: str | None = None, method: str = "GET", json_body: dict | None = None,
                form: dict | None = None, timeout: float = 300) -> str:
        """One HTTP request through the proxy; raises HubError on an error status."""
        headers = {"Authorization": f"token {token}"} if token else {}
        data = None
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.origin + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            raise HubError(error.code, error.read().decode(errors="replace")[-2000:]) from None

    def log_in(self, name: str, password: str = "any password: the dummy authenticator takes it") -> str:
        """Log ``name`` in with the hub's authenticator and keep the API token it hands out."""
        answer = self.request(f"/hub/api/users/{name}/tokens", method="POST",
                              json_body={"auth": {"username": name, "password": password}, "note": "course test"})
        self.tokens[name] = json.loads(answer)["token"]
        return self.tokens[name]

    def request_server(self, name: str) -> None:
        """Have ``name`` ask the hub for their own single-user server (the hub starts it in the background)."""
        try:
            self.request(f"/hub/api/users/{name}/server", self.tokens[name], method="POST", json_body={})
        except HubError as error:
            if error.status != 400:  # 400: already running
                raise

    def wait_for_server(self, name: str, timeout_s: float = 240) -> None:
        """Wait until ``name``'s server is up and the proxy routes to it."""
        token = self.tokens[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            model = json.loads(self.request(f"/hub/api/users/{name}", token))
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not model.get("pending") and not server:
                raise RuntimeError(f"{name}'s server failed to start: {model}")
            time.sleep(0.5)
        raise RuntimeError(f"{name}'s server did not start within {timeout_s:.0f} s")

    def server_call(self, name: str, path: str, data: dict | None = None, *, as_user: str | None = None,
                    method: str | None = None, json_body: dict | None = None) -> str:
        """A request to ``name``'s single-user server (``/user/<name><path>``), with ``as_user``'s token."""
        token = self.tokens[as_user or name]
        if method is None:
            method = "POST" if data is not None or json_body is not None else "GET"
        return self.request(f"/user/{name}{path}", token, method=method, form=data, json_body=json_body)


def hub_config(folder: Path, ports: dict[str, int], proxy: list[str], users: list[str], python: Path,
               environment: dict[str, str]) -> str:
    """The hub's ``jupyterhub_config.py``: loopback only, allowed names, local users' own servers."""
    settings = {
        "JupyterHub.bind_url": f"http://127.0.0.1:{ports['public']}",
        "JupyterHub.hub_bind_url": f"http://127.0.0.1:{ports['hub']}",
        "JupyterHub.db_url": f"sqlite:///{folder / 'jupyterhub.sqlite'}",
        "JupyterHub.cookie_secret_file": str(folder / "cookie_secret"),
        "JupyterHub.pid_file": str(folder / "hub.pid"),
        "JupyterHub.authenticator_class": "dummy",
        "JupyterHub.spawner_class": "jupyterhub.spawner.LocalProcessSpawner",
        "JupyterHub.cleanup_servers": True,  # stopping the hub stops every single-user server
        "JupyterHub.cleanup_proxy": True,
        "ConfigurableHTTPProxy.command": proxy,
        "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{ports['proxy_api']}",
        "ConfigurableHTTPProxy.pid_file": str(folder / "proxy.pid"),
        "Authenticator.allowed_users": set(users),
        "Spawner.cmd": [str(python), "-m", "jupyterhub.singleuser"],
        "Spawner.ip": "127.0.0.1",
        "Spawner.default_url": "/lab",
        "Spawner.environment": environment,
        "Spawner.start_timeout": 240,  # a loaded CI machine starts JupyterLab slowly
        "Spawner.http_timeout": 240,
    }
    lines = ["c = get_config()  # noqa: F821"] + [f"c.{key} = {value!r}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def running_hub(folder: Path, proxy: list[str], users: list[str], python: Path, environment: dict[str, str],
                startup_s: float = 120) -> Iterator[Hub]:
    """Start a hub whose state lives in ``folder``; stop it, its proxy and every server it started afterwards.

    Each single-user server runs ``python -m jupyterhub.singleuser`` (an interpreter its user can
    run: see tests/helpers/shared_python.py). ``environment`` is added to each single-user
    server's environment (``JUPYTER_CONFIG_PATH`` for the course's system-wide nbgrader
    configuration).
    """
    folder.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("public", "hub", "proxy_api")}
    config = folder / "jupyterhub_config.py"
    config.write_text(hub_config(folder, ports, proxy, users, python, environment))
    log = tempfile.NamedTemporaryFile("w+", prefix="jupyterhub-", suffix=".log", dir=folder, delete=False)
    hub_process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=folder,
                                   env=environment_on_path(), stdout=log, stderr=subprocess.STDOUT, text=True)
    hub = Hub(f"http://127.0.0.1:{ports['public']}")
    proxy_pid = None
    try:
        wait_for_hub(hub, hub_process, startup_s, Path(log.name))
        proxy_pid = read_pid(folder / "proxy.pid")
        yield hub
    finally:
        stop_hub(hub_process, proxy_pid)
        log.close()


def wait_for_hub(hub: Hub, process: subprocess.Popen, startup_s: float, log: Path) -> None:
    """Return once the hub answers through its proxy; raise with the hub's log if it exits or stays silent."""
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline:
        try:
            json.loads(hub.request("/hub/api/", timeout=5))
            return
        except (OSError, HubError, ValueError):
            if process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({process.returncode}):\n{log.read_text()[-4000:]}") from None
            time.sleep(0.5)
    raise RuntimeError(f"JupyterHub did not answer within {startup_s:.0f} s:\n{log.read_text()[-4000:]}")


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def stop_hub(process: subprocess.Popen, proxy_pid: int | None, grace_s: float = 60) -> None:
    """SIGTERM the hub (it then stops the servers and the proxy it started); kill what is still there."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    if proxy_pid is not None and state_of(proxy_pid) not in (None, "Z") and is_proxy(proxy_pid):
        try:
            os.kill(proxy_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_proxy(pid: int) -> bool:
    """Whether ``pid`` is still the proxy: a busy machine may already have given its number to another process."""
    try:
        return b"configurable-http-proxy" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
