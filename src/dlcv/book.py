"""What the chapters need from the book build, made optional so they also run without it.

The chapters glue computed numbers into their text with MyST-NB's ``glue``. MyST-NB comes
with Jupyter Book, but not with Colab or a bare JupyterLab, where a chapter must still run:
there ``glue`` only shows the value when asked to, as a plain notebook would.

Each figure also says how small its text is (``record_figure_text_sizes``), so that the book's
browser tests can tell how large that text appears on a phone, where the page shrinks the image.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from typing import Any

# The PNG text chunk that holds a figure's smallest text height, in pixels of the image.
SMALLEST_TEXT_KEY = "dlcv:smallest-text-px"
# Matplotlib's mathtext draws sub- and superscripts at this fraction of the font size.
MATHTEXT_SCRIPT_SHRINK = 0.7
MATH_SCRIPT = re.compile(r"\$[^$]*[_^][^$]*\$")


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


def smallest_text_px(fig, laid_out: bool = False, dpi: float | None = None) -> float | None:
    """The height, in pixels of the saved image, of the smallest text a figure draws.

    A font of ``s`` points is ``s * dpi / 72`` pixels high in an image saved at ``dpi`` (the
    figure's own unless given; the inline backend saves at it, and crops the image but never
    rescales it); sub- and superscripts in mathtext are drawn smaller still (a string with one
    counts at that size). Text that is hidden or empty is not counted. None for a figure without
    text. ``laid_out``: the figure has just been drawn (saved), so its tick labels hold their text
    and need not be laid out again.
    """
    from matplotlib.text import Text

    if not laid_out:
        fig.draw_without_rendering()  # tick labels get their text when the figure is laid out
    hidden = {id(text) for axes in fig.axes if not axes.axison  # axis("off") hides the tick labels
              for axis in (axes.xaxis, axes.yaxis) for text in axis.findobj(Text)}
    sizes = []
    for text in fig.findobj(Text):
        content = text.get_text()
        if not content.strip() or not text.get_visible() or id(text) in hidden:
            continue
        shrink = MATHTEXT_SCRIPT_SHRINK if MATH_SCRIPT.search(content) else 1.0
        sizes.append(text.get_fontsize() * shrink * (dpi or fig.dpi) / 72)
    return round(min(sizes), 2) if sizes else None


def record_figure_text_sizes() -> None:
    """Show every matplotlib figure as a PNG that records the height of its smallest text.

    The height, in pixels of the image (``smallest_text_px``), goes into the PNG's text chunk
    ``dlcv:smallest-text-px`` ("none" for a figure without text); the picture is the one
    IPython's inline backend would show. The browser tests multiply it by how much the page
    shrinks the image on a phone. Outside IPython this does nothing.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is None:
        return
    # Load the backend now: the inline backend sets its own PNG formatter when it loads (at the first
    # figure, otherwise), which would replace this one.
    plt.switch_backend(matplotlib.get_backend())

    def png_with_text_size(fig: Figure):
        png = print_figure(fig, "png", bbox_inches="tight")
        if png is None:  # an empty figure shows nothing
            return None
        size = smallest_text_px(fig, laid_out=True)
        png = with_text_chunk(png, SMALLEST_TEXT_KEY, "none" if size is None else f"{size:g}")
        return base64.b64encode(png).decode("ascii")

    shell.display_formatter.formatters["image/png"].for_type(Figure, png_with_text_size)


def with_text_chunk(png: bytes, key: str, value: str) -> bytes:
    """PNG bytes with a ``tEXt`` chunk ``key``: ``value`` added before the image's end."""
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    end = png.rindex(b"IEND") - 4  # the IEND chunk starts with its 4-byte length
    return png[:end] + chunk + png[end:]
