"""The book's screen style sheet for contrast (``screen/contrast.css``), which axe-core's tests check.

The theme's link colour is readable on white but not on the tinted background of an admonition
(an exercise, a solution, a note): the sheet darkens links there, in light mode only.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

STATIC = Path(__file__).with_name("screen")


def add_static_folder(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_folder)
    app.add_css_file("contrast.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
