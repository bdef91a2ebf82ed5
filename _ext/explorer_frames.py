"""Have the explorers draw their pictures for the page while the book executes the chapters.

An explorer (``dlcv.explore.figure_explorer``) is live in JupyterLab, where a kernel redraws
its figure. A page has no kernel, so while the book is built each explorer also draws one
picture per position of its sliders and offers them, with range inputs, as a ``text/html``
alternative to its widget; ``nb_mime_priority_overrides`` in ``_config.yml`` has the page show
that alternative. The chapters are executed in kernels that this process starts, which
inherit its environment: setting ``DLCV_EXPLORER_FRAMES`` here asks them for the pictures.
Elsewhere (JupyterLab, the notebook tests) the variable is unset, and a notebook keeps one
picture per explorer.

jupyter-book's ``cache`` execution keys a chapter on its code only: a chapter executed
without this extension keeps no pictures until its code changes or ``_build/.jupyter_cache``
is cleared.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx

from dlcv.explore import PAGE_FRAMES_VARIABLE


def setup(app: Sphinx) -> dict:
    os.environ[PAGE_FRAMES_VARIABLE] = "1"
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
