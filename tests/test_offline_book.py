"""The pieces that make the book work offline, checked without a build or a browser."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest
from sphinx.errors import ExtensionError

from tests.helpers.course import COURSE_ROOT, load_book_extension, sphinx_html, sphinx_source
from tests.helpers.page_checks import external_addresses

offline_widgets = load_book_extension("offline_widgets")


def npm_tarball(folder: Path, files: dict[str, bytes]) -> Path:
    """A tarball laid out as npm packs one: every file under ``package/``."""
    path = folder / "fake-1.0.0.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(f"package/{name}")
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return path


def test_a_tarball_that_does_not_match_its_pinned_hash_is_refused(tmp_path):
    tarball = npm_tarball(tmp_path, {"dist/embed-amd.js": b"tampered"})
    package = offline_widgets.NpmPackage("fake", "1.0.0", "sha512-notthis", ("dist/",))
    with pytest.raises(ExtensionError, match="refusing to serve it"):
        offline_widgets.unpack(package, tarball, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_only_the_files_the_pages_need_are_unpacked(tmp_path):
    files = {"dist/embed-amd.js": b"x", "dist/font.woff2": b"x", "dist/embed.js.map": b"x",
             "dist/embed.js": b"x", "lib/index.js": b"x", "README.md": b"x"}
    tarball = npm_tarball(tmp_path, files)
    package = offline_widgets.NpmPackage("fake", "1.0.0", offline_widgets.sri_hash(tarball), ("dist/",))
    offline_widgets.unpack(package, tarball, tmp_path / "out")
    unpacked = sorted(path.relative_to(tmp_path / "out" / "package").as_posix()
                      for path in (tmp_path / "out").rglob("*") if path.is_file())
    assert unpacked == ["dist/embed-amd.js", "dist/font.woff2"]


def test_the_pinned_html_manager_is_one_that_ipywidgets_accepts():
    from ipywidgets._version import __html_manager_version__

    assert __html_manager_version__.startswith("^1."), __html_manager_version__
    assert offline_widgets.HTML_MANAGER.version.startswith("1.")


def test_the_pages_load_the_scripts_from_the_book():
    assert all("://" not in path for path in offline_widgets.SCRIPTS)


def test_external_addresses_are_found_in_html():
    """The static offline check of tests/test_book_build.py catches scripts and style sheets from CDNs."""
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
    assert external_addresses(f'<script defer src="{cdn}"></script>') == [cdn]
    assert external_addresses('<link rel="stylesheet" href="//fonts.example/a.css" />') == ["//fonts.example/a.css"]
    assert external_addresses('<img alt="x" src="https://example.org/a.png">') == ["https://example.org/a.png"]
    assert external_addresses('<script src="../_static/widgets/requirejs/require.js"></script>') == []
    assert external_addresses('<a href="https://mybinder.org/v2/gh/x">Binder</a>') == []


def test_unique_scripts_keeps_the_first_of_repeated_inline_scripts():
    from sphinx.builders.html._assets import _JavaScript

    unique_scripts = load_book_extension("unique_scripts")
    thebe = _JavaScript(None, body='const THEBE_JS_URL = "x"')
    scripts = [thebe, _JavaScript("_static/a.js"), _JavaScript(None, body='const THEBE_JS_URL = "x"'),
               _JavaScript("_static/b.js")]
    context = {"script_files": scripts}
    unique_scripts.drop_repeated_inline_scripts(None, "page", "page.html", context, None)
    assert [script.filename or script.attributes["body"] for script in context["script_files"]] == [
        'const THEBE_JS_URL = "x"', "_static/a.js", "_static/b.js"]


def test_an_axe_core_script_that_does_not_match_its_pinned_hash_is_refused(tmp_path):
    from tests.helpers import axe

    unpacked = tmp_path / f"{axe.AXE_CORE.name}-{axe.AXE_CORE.version}" / "package"
    unpacked.mkdir(parents=True)
    (unpacked / "axe.min.js").write_text("window.axe = {run: async () => ({violations: []})};")
    with pytest.raises(RuntimeError, match="refusing to run it"):
        axe.axe_script(tmp_path)


def test_moderate_and_minor_violations_may_not_grow_past_their_baseline():
    from tests.helpers.axe import Violation, grown

    found = [Violation("region", "moderate", "", ("#a", "#b")), Violation("color-contrast", "serious", "", ("#c",))]
    assert grown(found, {"region": 2}) == []
    assert grown(found, {"region": 1}) == ["region: 2 element(s), 1 allowed by axe-baseline.json"]
    assert grown([Violation("aria-deprecated-role", "minor", "", ("#d",))], {}) != []


def test_a_page_without_its_own_baseline_gets_every_page_s(tmp_path):
    from tests.helpers.axe import baseline

    path = tmp_path / "baseline.json"
    path.write_text('{"*": {"light": {"region": 1}}, "book/references": {"light": {"region": 2}}}')
    assert baseline("book/new_chapter", "light", path) == {"region": 1}
    assert baseline("book/references", "light", path) == {"region": 2}
    assert baseline("book/new_chapter", "dark", path) == {}


def test_the_bibliography_is_a_list_of_items_and_folded_cells_are_named_by_their_text(tmp_path):
    """_ext/accessible_html.py on a one-page Sphinx project: a citation list and a folded code cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    from sphinx.application import Sphinx

    source = sphinx_source(tmp_path, ["myst_nb", "accessible_html"], "nb_execution_mode = 'off'\n")
    cell = new_code_cell("print(1)", metadata={"tags": ["hide-input"]})
    notebook = new_notebook(cells=[new_markdown_cell("# A page"), cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, source / "index.ipynb")
    (source / "refs.rst").write_text("References\n==========\n\n[Hubel1962]_ [LeCun1998]_\n\n"
                                     ".. [Hubel1962] Hubel and Wiesel.\n.. [LeCun1998] LeCun et al.\n")
    app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    citations = (tmp_path / "html" / "refs.html").read_text()
    assert citations.count('role="listitem"') == 2 and "doc-biblioentry" not in citations
    assert '<div role="list" class="citation-list">' in citations
    page = (tmp_path / "html" / "index.html").read_text()
    assert "<summary>" in page and "Toggle hidden content" not in page and "Show code cell source" in page



def test_each_solution_body_gets_an_id_of_its_own(tmp_path):
    """_ext/accessible_html.py with sphinx-exercise, which gives every solution body the same id. Built in a
    process of its own: sphinx-exercise leaves its nodes registered in docutils for later builds."""
    source = sphinx_source(tmp_path, ["myst_nb", "sphinx_exercise", "accessible_html"])
    (source / "index.rst").write_text("Exercises\n=========\n\n" + "".join(
        f".. exercise::\n   :label: ex-{n}\n\n   Question {n}.\n\n.. solution:: ex-{n}\n\n   Answer {n}.\n\n"
        for n in (1, 2)))
    sphinx_html(source, tmp_path / "html")
    page = (tmp_path / "html" / "index.html").read_text()
    assert 'id="solution-content-1"' in page and 'id="solution-content-2"' in page, page
    assert 'id="solution-content"' not in page and "Answer 2." in page

def explorer_notebook(*bundles):
    """A notebook with saved widget state, each bundle the data of one display output."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cells = [new_code_cell("explorer", outputs=[new_output("display_data", data=bundle)]) for bundle in bundles]
    notebook = new_notebook(cells=[new_markdown_cell("# A page"), *cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"a1": {"model_name": "VBoxModel", "model_module": "@jupyter-widgets/controls",
                         "model_module_version": "2.0.0", "state": {}}},
        "version_major": 2, "version_minor": 0}}
    return nbformat.from_dict(notebook)


def test_the_book_shows_an_explorer_s_html_and_leaves_the_unused_widget_manager_out(tmp_path, monkeypatch):
    """_ext/explorer_frames.py with the book's mime priority, on a Sphinx project of two pages: one whose
    output offers a widget and the explorer's HTML, one with a widget alone."""
    import nbformat
    import yaml
    from sphinx.application import Sphinx

    from dlcv.explore import PAGE_FRAMES_VARIABLE

    monkeypatch.delenv(PAGE_FRAMES_VARIABLE, raising=False)  # the extension sets it: restored after the test
    book_config = yaml.safe_load((COURSE_ROOT / "_config.yml").read_text())["sphinx"]["config"]
    priority = book_config["nb_mime_priority_overrides"]
    source = sphinx_source(tmp_path, ["myst_nb", "explorer_frames"], "nb_execution_mode = 'off'\n"
                                    f"nb_mime_priority_overrides = {priority!r}\n"
                                    "nb_ipywidgets_js = {'widgets/require.js': {}, 'widgets/embed-amd.js': {}}\n")
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "a1", "version_major": 2, "version_minor": 0},
            "text/plain": "Explorer(...)"}
    nbformat.write(explorer_notebook({**view, "text/html": '<figure class="dlcv-explorer">frames</figure>'}),
                   source / "index.ipynb")
    nbformat.write(explorer_notebook(view), source / "widget.ipynb")
    app = Sphinx(str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html",
                 status=None, warning=None, freshenv=True)
    app.build()
    assert os.environ[PAGE_FRAMES_VARIABLE] == "1", "the chapters' kernels are asked for the pictures"
    explorer = (tmp_path / "html" / "index.html").read_text()
    assert '<figure class="dlcv-explorer">frames</figure>' in explorer
    assert "widget-view+json" not in explorer and "widget-state+json" not in explorer
    assert not [script for script in app.config.nb_ipywidgets_js if script in explorer]
    widget = (tmp_path / "html" / "widget.html").read_text()
    assert "widget-view+json" in widget and "widget-state+json" in widget
    assert all(script in widget for script in app.config.nb_ipywidgets_js)
