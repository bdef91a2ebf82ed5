"""Fix the accessibility faults that the book's HTML inherits from its tools.

axe-core finds two in the markup that Sphinx and MyST-NB write (the theme's buttons are
fixed by the book's own templates in ``_templates/``):

- a bibliography is a ``role="list"`` whose entries carry ``role="doc-biblioentry"``, which
  a list may not hold (``aria-required-children``, critical) and which DPUB-ARIA 1.1 has
  deprecated: the entries become list items;
- a folded code cell's summary is labelled "Toggle hidden content" while it shows "Show code
  cell source" (``label-content-name-mismatch``: a speech-input user says what they see): its
  name now comes from the text it shows.

sphinx-exercise gives every solution's body the same ``id="solution-content"``, so a page with
two solutions repeats an id (HTML requires ids to be unique; a link or an ARIA reference to
one lands on the first): each becomes ``solution-content-1``, ``-2``, ... on its page.

Each writer's own output is kept and only the attribute at fault is changed, so a new
version of a writer that changes its markup fails the book's accessibility test instead of
being silently overwritten.
"""

from __future__ import annotations

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.writers.html5 import HTML5Translator

BIBLIOGRAPHY_ENTRY = ' role="doc-biblioentry"'
FOLDED_SUMMARY = '<summary aria-label="Toggle hidden content">'
SOLUTION_BODY = "solution-content"  # sphinx-exercise's id for every solution's body


def rewrite(visit, old: str, new: str):
    """A visitor that runs ``visit`` and changes ``old`` to ``new`` in what it wrote (an error if it wrote none)."""

    def rewritten(translator, node) -> None:
        start = len(translator.body)
        visit(translator, node)
        for index in range(start, len(translator.body)):
            if old in translator.body[index]:
                translator.body[index] = translator.body[index].replace(old, new)
                return
        raise ExtensionError(f"accessible_html: the HTML writer no longer writes {old!r}: review this extension")

    return rewritten


def number_solution_bodies(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give each solution body of a page an id of its own (see the module)."""
    bodies = [section for section in doctree.findall(nodes.section) if SOLUTION_BODY in section["ids"]]
    for number, section in enumerate(bodies, start=1):
        section["ids"] = [f"{SOLUTION_BODY}-{number}" if name == SOLUTION_BODY else name for name in section["ids"]]


def setup(app: Sphinx) -> dict:
    visit_citation = rewrite(HTML5Translator.visit_citation, BIBLIOGRAPHY_ENTRY, ' role="listitem"')
    visit_folded_cell = rewrite(visit_HideCellInput, FOLDED_SUMMARY, "<summary>")
    app.add_node(nodes.citation, override=True, html=(visit_citation, HTML5Translator.depart_citation))
    app.add_node(HideCodeCellNode, override=True, html=(visit_folded_cell, depart_HideCellInput))
    app.connect("doctree-resolved", number_solution_bodies)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
