"""Authoring aid: build clean notebooks from Python lists of cells."""
import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell, new_code_cell

KERNEL = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}

def md(text, **meta):
    return new_markdown_cell(text.strip("\n"), metadata=meta)

def code(text, **meta):
    return new_code_cell(text.strip("\n"), metadata=meta)

def nb_meta(kind, grade_id, points=None, locked=None):
    """nbgrader metadata: kind in {'solution', 'tests', 'readonly', 'task'}."""
    m = {"grade": kind == "tests", "grade_id": grade_id, "locked": kind in ("tests", "readonly") if locked is None else locked,
         "schema_version": 3, "solution": kind == "solution", "task": False}
    if kind == "tests":
        m["points"] = points
    return {"nbgrader": m}

def write(path, cells):
    nb = new_notebook(cells=cells, metadata=dict(KERNEL))
    # stable ids so diffs stay small
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:02d}"
    nbformat.validate(nb)
    nbformat.write(nb, path)

HIDDEN_NOTE = "# Hidden tests for `{name}` run when your notebook is graded.\n"

def answer(name, body):
    """An answer cell holding only the def of `name`; body is the full def with solution markers."""
    return code(body, **nb_meta("solution", name))

def visible(name, body, points=1):
    return code(body, **nb_meta("tests", f"{name}_visible", points))

def hidden(name, body, points=2):
    return code(HIDDEN_NOTE.format(name=name) + "### BEGIN HIDDEN TESTS\n" + body.strip("\n") + "\n### END HIDDEN TESTS",
                **nb_meta("tests", f"{name}_hidden", points))

def text(grade_id, body):
    return md(body, **nb_meta("readonly", grade_id))

def readonly_code(grade_id, body):
    return code(body, **nb_meta("readonly", grade_id))
