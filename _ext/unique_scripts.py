"""Write each inline script into a page once.

Under Sphinx 7 with jupyter-book 1, the inline configuration scripts of sphinx-thebe and
sphinx-togglebutton reach every page twice. Repeating ``var`` is harmless, but sphinx-thebe's
``const THEBE_JS_URL = ...`` declared twice throws "Identifier 'THEBE_JS_URL' has already
been declared" in every reader's console. Dropping the repeats leaves each page as intended.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def drop_repeated_inline_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Keep the first of several identical inline scripts (those with a body and no file)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        body = None if script.filename else script.attributes.get("body")
        if body is not None and body in seen:
            continue
        seen.add(body)
        unique.append(script)
    scripts[:] = unique  # the builder restores its own list after each page


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_repeated_inline_scripts, priority=900)  # after the others
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
