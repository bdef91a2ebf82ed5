"""What the chapters need from the book build, made optional so they also run without it.

The chapters glue computed numbers into their text with MyST-NB's ``glue``. MyST-NB comes
with Jupyter Book, but not with Colab or a bare JupyterLab, where a chapter must still run:
there ``glue`` only shows the value when asked to, as a plain notebook would.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, value: Any, display: bool = True) -> None:
    """``myst_nb.glue`` when MyST-NB is installed; otherwise show ``value`` if ``display``."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
