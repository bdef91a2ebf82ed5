"""Have the explorers draw their pictures for the page while the book executes the chapters.

An explorer (``dlcv.explore.figure_explorer``) is live in JupyterLab, where a kernel redraws
its figure. A page has no kernel, so while the book is built each explorer also draws one
picture per position of its sliders and offers them, with range inputs, as a ``text/html``
alternative to its widget; ``nb_mime_priority_overrides`` in ``_config.yml`` has the page show
that alternative. The chapters are executed in kernels that this process starts, which
inherit its environment: setting ``DLCV_EXPLORER_FRAMES`` here asks them for the pictures.
Elsewhere (JupyterLab, the notebook tests) the variable is unset, and a notebook keeps one
picture per explorer.

A page whose widgets all show as explorers' HTML draws no widget, yet myst-nb still gives it
the saved widget state (tens of kilobytes: each explorer's first picture again) and the
ipywidgets HTML manager (3.6 MB of scripts, ``_ext/offline_widgets.py``): such a page leaves
them out. A page that shows a widget view keeps them.

jupyter-book's ``cache`` execution keys a chapter on its code only; ``_ext/package_cache.py``
executes them again when ``dlcv`` changes (a change to this file alone still needs the cache cleared).
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx

from dlcv.explore import PAGE_FRAMES_VARIABLE

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def drop_unused_widget_manager(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Leave the widget state and the widget manager's scripts out of a page that draws no widget."""
    scripts = context.get("script_files")
    if not scripts or WIDGET_VIEW in context.get("body", ""):
        return
    manager = set(app.config.nb_ipywidgets_js)  # Sphinx puts "_static/" before a path in the book
    scripts[:] = [script for script in scripts
                  if str(script.filename).removeprefix("_static/") not in manager
                  and script.attributes.get("type") != WIDGET_STATE]


def setup(app: Sphinx) -> dict:
    os.environ[PAGE_FRAMES_VARIABLE] = "1"
    app.connect("html-page-context", drop_unused_widget_manager, priority=900)  # after myst-nb adds them
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
