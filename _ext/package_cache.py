"""Execute the chapters again when the course package changes, not only when their code does.

The book's ``cache`` execution (jupyter-cache) keys a chapter on the chapter's own code. A chapter's
outputs also depend on ``dlcv``: its figures, its explorers' pictures, the numbers its training
prints. Without this extension, a change to ``dlcv`` leaves every chapter's old outputs in the book:
Sphinx does not even read a page whose source is unchanged.

So the cache folder carries a fingerprint of the package the chapters' kernels import (every file
in it: a ``.js`` file is part of a page, too). At the start of a build, a cache made with another
fingerprint is removed (jupyter-cache starts a new one in its place), and every notebook is read,
and so executed, again.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

import dlcv

LOGGER = logging.getLogger(__name__)
STAMP = "dlcv-package.sha256"  # in the cache folder, beside jupyter-cache's own files


def package_fingerprint(package: Path) -> str:
    """SHA-256 over every file of ``package`` (names and contents), byte code left out."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def refresh_cache(cache: Path, fingerprint: str) -> bool:
    """Remove ``cache`` where it was made with another package; True if it was removed. The folder is
    left holding this fingerprint either way."""
    stamp = cache / STAMP
    made_with = stamp.read_text().strip() if stamp.is_file() else None
    removed = cache.exists() and made_with != fingerprint
    if removed:
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return removed


class PackageCache:
    """Whether this build found the cache made with another package, and the notebooks to read again if so.

    Removing the cache is not enough: Sphinx reads again only the pages whose source changed, and
    a page it does not read is not executed.
    """

    def __init__(self):
        self.changed = False

    def check(self, app: Sphinx) -> None:
        config = getattr(app.env, "mystnb_config", None)
        if config is None or config.execution_mode != "cache":
            return
        package = Path(dlcv.__file__).parent
        self.changed = refresh_cache(Path(config.execution_cache_path), package_fingerprint(package))
        if self.changed:
            LOGGER.info("the course package changed since the chapters were executed: executing them again")

    def outdated(self, app: Sphinx, env, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
        if not self.changed:
            return []
        return [name for name in env.found_docs if str(env.doc2path(name)).endswith(".ipynb")]


def setup(app: Sphinx) -> dict:
    cache = PackageCache()
    app.connect("builder-inited", cache.check, priority=600)  # after myst-nb has set the cache's path (500)
    app.connect("env-get-outdated", cache.outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
