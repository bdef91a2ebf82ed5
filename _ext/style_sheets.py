"""The book's own style sheets, each in a folder of ``_ext`` that is added to the static files.

- ``print/print.css``, for print only: code wraps on paper instead of being cut. A browser prints
  a ``<pre>`` as it shows it, scrolled to its start, so the end of a line longer than the page is
  silently lost; ``dlcv book-pdf`` prints the whole book with this sheet.
- ``screen/contrast.css``: links inside admonitions (exercises, solutions) darkened in light mode,
  where the theme's link blue falls short of WCAG's contrast on their tinted background.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

HERE = Path(__file__).parent
SHEETS = {"print": ("print.css", "print"), "screen": ("contrast.css", None)}  # folder: (sheet, media)


def add_static_folders(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.config.html_static_path.extend(str(HERE / folder) for folder in SHEETS)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_folders)
    for sheet, media in SHEETS.values():
        app.add_css_file(sheet, **({"media": media} if media else {}))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
