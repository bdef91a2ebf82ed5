"""The book's print style sheet (``print/print.css``): code wraps on paper instead of being cut.

A browser prints a ``<pre>`` as it shows it, scrolled to its start: the end of a line longer than
the page is silently lost. ``print.css`` (loaded with ``media="print"``, so the screen is
unchanged) wraps such lines. ``dlcv book-pdf`` prints the whole book with it.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).with_name("print")


def add_static_folder(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_folder)
    app.add_css_file("print.css", media="print")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
