"""An interpreter that other unix users can run, with this environment's packages.

A hub's single-user servers run as each person's own unix user. This virtual environment may sit
on an interpreter those users cannot reach: pyenv's, for one, lives under ``/root`` (mode 0700),
and a virtual environment only links to its interpreter. Then the test builds a small virtual
environment of its own on the system's Python of the same minor version (Debian's
``/usr/bin/python3.11``), whose one ``.pth`` file adds this environment's site-packages (and
so, through their own ``.pth`` files, the editable ``dlcv``): the same packages, run by an
interpreter everyone may execute. Nothing is copied or installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.helpers.course import environment_on_path

VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"


def runnable_by(user: str, python: Path) -> str | None:
    """None if ``user`` can run ``python`` and import the hub and nbgrader with it; else why not."""
    check = subprocess.run(["runuser", "-u", user, "--", str(python), "-c", "import jupyterhub, nbgrader, dlcv"],
                           capture_output=True, text=True, timeout=120, cwd="/")
    return None if check.returncode == 0 else (check.stderr.strip()[-300:] or f"exit status {check.returncode}")


def python_for(user: str, folder: Path) -> tuple[Path, dict[str, str]]:
    """An interpreter ``user`` can run with this environment's packages, and the variables it needs.

    This environment's own when ``user`` can run it; else one made in ``folder`` (see the module's
    docstring). The variables put its scripts first on the PATH, and point Jupyter at this
    environment's configuration and data (the server extensions it enables, nbgrader's among
    them), which a second environment would not find under its own prefix. Raises RuntimeError,
    saying what to do, when neither works.
    """
    jupyter_paths = {"PATH": environment_on_path()["PATH"],
                     "JUPYTER_CONFIG_PATH": str(Path(sys.prefix) / "etc" / "jupyter"),
                     "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    own = Path(sys.executable)
    if (why := runnable_by(user, own)) is None:
        return own, jupyter_paths
    system = shutil.which(VERSION, path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        raise RuntimeError(f"an unprivileged user cannot run {own} ({why}), and there is no system {VERSION} "
                           f"to run its packages with: make {Path(sys.prefix)} and its interpreter readable by "
                           "others, or install Debian's python3 of the same version")
    shared = folder / "shared-python"
    subprocess.run([system, "-m", "venv", "--without-pip", str(shared)], check=True, capture_output=True, timeout=120)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    (shared / "lib" / VERSION / "site-packages" / "course_environment.pth").write_text(
        f"import site; site.addsitedir({str(site_packages)!r})\n")
    rewrite_scripts(Path(sys.prefix) / "bin", shared / "bin")
    for path in [folder, *shared.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o005)  # others may read and enter
    python = shared / "bin" / "python"
    if (why_shared := runnable_by(user, python)) is not None:
        raise RuntimeError(f"an unprivileged user can run neither {own} ({why}) nor {system} with this "
                           f"environment's packages ({why_shared}): make {Path(sys.prefix)} readable by others")
    return python, {**jupyter_paths, "PATH": f"{shared / 'bin'}{os.pathsep}{jupyter_paths['PATH']}"}


def rewrite_scripts(source: Path, destination: Path) -> None:
    """Copy this environment's console scripts (``alembic``, which nbgrader runs by name) to the new one.

    Each script names its interpreter on its first line; the copies name the new environment's.
    """
    for script in source.iterdir():
        target = destination / script.name
        if target.exists() or not script.is_file():
            continue
        with script.open("rb") as stream:
            first = stream.readline()
            if not first.startswith(b"#!") or b"python" not in first:
                continue
            rest = stream.read()
        target.write_bytes(b"#!" + str(destination / "python").encode() + b"\n" + rest)
        target.chmod(0o755)
