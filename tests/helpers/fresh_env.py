"""Fresh Python environments for the student-edition tests, made in seconds and offline.

A new virtual environment with PyTorch takes minutes to install and downloads gigabytes.
These environments hold exactly the distributions asked for and what they require, taken
from the environment running the tests: each distribution's top-level files are linked into
the new site-packages (the real, installed packages, with their metadata, so pip sees them
as installed). Nothing else of the course's environment is visible: no course package, no
Jupyter Book, no nbgrader unless asked for. pip runs offline there (``offline_pip_env``):
what is not installed cannot be fetched, so a missing requirement fails loudly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def requirement_closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` need, themselves included, extras asked for followed."""
    found: dict[str, metadata.Distribution] = {}
    followed: set[tuple[str, str]] = set()
    pending = [(name, "") for name in names]
    while pending:
        name, extra = pending.pop()
        key = (canonicalize_name(name), extra)
        if key in followed:
            continue
        followed.add(key)
        distribution = found.setdefault(key[0], metadata.distribution(key[0]))
        for text in distribution.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                pending += [(requirement.name, "")] + [(requirement.name, wanted) for wanted in requirement.extras]
    return list(found.values())


def site_packages(environment: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return environment / "lib" / version / "site-packages"


def make_environment(folder: Path, distributions: list[str]) -> Path:
    """A virtual environment in ``folder`` holding ``distributions`` and their requirements; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    source = Path(sysconfig.get_paths()["purelib"])
    target = site_packages(folder)
    for distribution in requirement_closure(distributions):
        for entry in {Path(str(path)).parts[0] for path in distribution.files or []}:
            if entry == ".." or entry.endswith(".pth") or (target / entry).exists():
                continue
            if (source / entry).exists():
                (target / entry).symlink_to(source / entry)
    return folder / "bin" / "python"


def offline_pip_env(cache: Path) -> dict[str, str]:
    """Variables for pip (and the course package) in a fresh environment: no index, no config, no cache."""
    return {
        "PIP_CONFIG_FILE": os.devnull,  # this machine's pip.conf names local indexes
        "PIP_NO_INDEX": "1",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # build with the environment's setuptools: nothing to fetch
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPATH": "",
        "PYTHONNOUSERSITE": "1",
        "XDG_CACHE_HOME": str(cache),  # where the course package decompresses MNIST
    }


def kernel_spec(jupyter_dir: Path, name: str, python: Path, env: dict[str, str]) -> None:
    """A Jupyter kernel named ``name`` running ``python`` with ``env``, found through ``JUPYTER_PATH``."""
    folder = jupyter_dir / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": name, "language": "python", "env": env}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
