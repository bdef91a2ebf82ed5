"""The book's own style sheets, each in a folder of ``_ext`` that is added to the static files.

- ``print/print.css``, for print only: code wraps on paper instead of being cut. A browser prints
  a ``<pre>`` as it shows it, scrolled to its start, so the end of a line longer than the page is
  silently lost; ``dlcv book-pdf`` prints the whole book with this sheet.
- ``screen/contrast.css``: links inside admonitions (exercises, solutions) darkened in light mode,
  where the theme's link blue falls short of WCAG's contrast on their tinted background.
- ``screen/scrolling_math.css`` with ``screen/scrolling_math.js``: a display equation wider than
  the page (on a phone) shows that it scrolls: the side that hides more of it fades out, and a
  thin scroll bar stays drawn.
- ``screen/figure_links.js``: a tap on a figure opens its image at full size, for the figures whose
  labels a phone draws too small (tests/test_book_build.py measures them at 390 px).
- ``screen/fold_titles.js``: a tap on code or math in a folded box's title opens the box
  (sphinx-togglebutton's own handler throws there).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

HERE = Path(__file__).parent
# folder: ([(sheet, media)], [script])
FILES = {
    "print": ([("print.css", "print")], []),
    "screen": ([("contrast.css", None), ("scrolling_math.css", None)],
               ["scrolling_math.js", "figure_links.js", "fold_titles.js"]),
}


def add_static_folders(app: Sphinx) -> None:
    if app.builder.format == "html":
        app.config.html_static_path.extend(str(HERE / folder) for folder in FILES)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_static_folders)
    for sheets, scripts in FILES.values():
        for sheet, media in sheets:
            app.add_css_file(sheet, **({"media": media} if media else {}))
        for script in scripts:
            app.add_js_file(script, loading_method="defer")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
