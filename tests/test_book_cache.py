"""A change to the course package executes the chapters again (``_ext/package_cache.py``)."""

from __future__ import annotations

import nbformat

from tests.helpers.course import load_book_extension, sphinx_html, sphinx_source

package_cache = load_book_extension("package_cache")


def test_the_fingerprint_follows_every_file_of_the_package_but_not_its_byte_code(tmp_path):
    package = tmp_path / "package"
    (package / "__pycache__").mkdir(parents=True)
    (package / "explore.js").write_text("draw();")
    (package / "plots.py").write_text("SIZE = 9")
    first = package_cache.package_fingerprint(package)
    (package / "__pycache__" / "plots.cpython-311.pyc").write_bytes(b"\0")
    assert package_cache.package_fingerprint(package) == first
    (package / "explore.js").write_text("draw(); draw();")
    assert package_cache.package_fingerprint(package) != first
    (package / "explore.js").write_text("draw();")
    (package / "explore.js").rename(package / "explore2.js")  # the same bytes under another name
    assert package_cache.package_fingerprint(package) != first


def test_a_cache_made_with_another_package_is_removed_and_one_made_with_this_one_kept(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    assert not package_cache.refresh_cache(cache, "a")  # nothing there yet
    (cache / "global.db").write_text("executed chapters")
    assert not package_cache.refresh_cache(cache, "a")
    assert (cache / "global.db").is_file()
    assert package_cache.refresh_cache(cache, "b")
    assert not (cache / "global.db").exists()
    assert (cache / package_cache.STAMP).read_text().strip() == "b"


def test_a_cache_from_before_the_fingerprint_is_removed(tmp_path):
    cache = tmp_path / ".jupyter_cache"
    (cache / "executed").mkdir(parents=True)
    assert package_cache.refresh_cache(cache, "a")
    assert not (cache / "executed").exists()


def test_a_sphinx_build_executes_again_after_the_package_changed(tmp_path):
    """A real build with myst-nb's cache: the second build reuses the first's execution, and a build after
    the fingerprint changed (as a change to ``dlcv`` changes it) executes the notebook again."""
    source = sphinx_source(tmp_path, ["myst_nb", "package_cache"], "nb_execution_mode = 'cache'\n")
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; print(time.time_ns())")])
    page.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(page, source / "index.ipynb")
    cache = tmp_path / "build" / ".jupyter_cache"

    def build() -> str:
        sphinx_html(source, tmp_path / "build" / "html")
        return (tmp_path / "build" / "html" / "index.html").read_text()

    first = build()
    assert (cache / package_cache.STAMP).is_file()
    assert build() == first  # executed once: the page shows the same time
    (cache / package_cache.STAMP).write_text("made with another package\n")
    assert build() != first
