"""Feedback pages that show their math offline, with the book's own MathJax.

nbgrader's ``generate_feedback`` (which ``dlcv autograde`` runs too) writes each page with its
``feedback`` template. That template calls nbconvert's ``mathjax`` macro without an address, so
the page loads MathJax 2 from a CDN whatever ``HTMLExporter.mathjax_url`` says, and a student
who reads it offline sees raw TeX.

The course's ``nbgrader_config.py`` puts ``TEMPLATES`` before nbgrader's own template folder.
Its ``feedback/mathjax.html.j2`` takes the place of nbconvert's macro (a template finds the
first file of that name on its search path) and, through the ``inline_mathjax`` filter, writes
MathJax 3 from the package that serves the book (``sphinx-mathjax-offline``) into the page. The
SVG build needs no font files, so each page is one self-contained file (about 2 MB more): it
works wherever it is copied, and nbgrader's exchange copies the HTML file alone.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")
FILTERS = {"inline_mathjax": f"{__name__}.inline_mathjax"}


def nbgrader_templates() -> Path:
    """nbgrader's own template folder (``feedback``, ``formgrade``), as ``generate_feedback`` finds it."""
    package = importlib.util.find_spec("nbgrader").submodule_search_locations[0]
    return Path(package) / "server_extensions" / "formgrader" / "templates"


def template_basedirs() -> list[str]:
    """The folders nbconvert looks for a template in: the course's first, then nbgrader's."""
    return [str(TEMPLATES), str(nbgrader_templates())]


def mathjax_folder() -> Path:
    """MathJax 3 as ``sphinx-mathjax-offline`` ships it (the book serves the same copy)."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is not installed: `pip install -r requirements.txt`")
    return Path(spec.origin).parent / "static" / "mathjax"


def inline_mathjax(name: str) -> Markup:
    """A ``<script>`` element holding MathJax's ``name`` (for example ``tex-svg.js``), for a template."""
    source = (mathjax_folder() / name).read_text(encoding="utf-8")
    if "</script" in source.lower():
        raise RuntimeError(f"{name} contains '</script' and cannot be written into a page as it is")
    return Markup(f"<script>\n{source}\n</script>")  # noqa: S704 - MathJax's own file, not user input
