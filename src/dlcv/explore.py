"""Interactive figures: sliders that redraw a matplotlib figure.

The book's explorers (learning rate, softmax temperature, Gabor filter) all use
``figure_explorer``. It draws into an ``ipywidgets.Image`` as a PNG instead of
going through ``ipywidgets.interact``: ``interact`` renders into an ``Output``
widget, on which notebook runners such as nbclient can wait for ever, and the
PNG is ordinary widget state, saved with the executed notebook.

Each picture carries a text alternative (``describe_figure``), written from
what the figure says on itself, so a reader who cannot see it is told what it
shows; it changes with the picture.

On a web page no kernel redraws. When the book is built (its extension
``_ext/explorer_frames.py`` sets ``DLCV_EXPLORER_FRAMES``), an explorer therefore
also draws, with the same ``draw``, one picture for every position of its sliders
(``page_frames``), and offers them beside the widget as a ``text/html``
alternative (``page_html``): a ``<figure class="dlcv-explorer">`` with range
inputs, the picture, its caption, and a small script that shows the picture for
the inputs' positions. The picture says (``data-smallest-text-px``) how high
the smallest text of any frame is in the image's pixels (``dlcv.book.smallest_text_px``),
so that the book's browser tests can tell how large it appears on a phone, where no tap may
open it: the sliders are the point. JupyterLab prefers the widget (it stays live); the book
prefers the HTML (``nb_mime_priority_overrides`` in ``_config.yml``). Without the
variable (JupyterLab, the tests that run the notebooks) nothing more is drawn, so a
saved notebook keeps one picture per explorer.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import ipywidgets
import matplotlib.pyplot as plt
import traitlets
from matplotlib.container import BarContainer
from PIL import Image

from dlcv.book import smallest_text_px

PAGE_FRAMES_VARIABLE = "DLCV_EXPLORER_FRAMES"  # set (to anything but "" or "0"): draw the page's frames
MAX_PAGE_FRAMES = 60  # pictures per explorer on a page: each weighs tens of kilobytes
PAGE_CLASS = "dlcv-explorer"  # the class of an explorer's box on a page; tests find explorers by it
PAGE_SCRIPT = (Path(__file__).parent / "explore.js").read_text(encoding="utf-8")


class DescribedImage(ipywidgets.Image):
    """An ``Image`` whose ``tooltip`` is its text alternative.

    The widget view writes the tooltip as the picture's ``title`` (the book's page
    script, ``_ext/offline_widgets.js``, also makes it the ``alt`` text), but only for
    a widget whose ``description`` is empty, and it reads ``description`` even on
    widgets that have none (an ``Image`` with a tooltip then fails to draw): hence
    an always-empty one.
    """

    description = traitlets.Unicode("", read_only=True).tag(sync=True)


def figure_to_png(fig, dpi=80):
    """Render a figure to PNG bytes and close it, so that it is not shown twice.

    The PNG has a palette of 256 colours (chosen by maximum coverage, not dithered, so
    a pixel is off by a few levels at most): 2.4 to 4 times smaller than matplotlib's
    RGBA PNG for the book's explorers, which counts where a page holds dozens of pictures.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    rendered = Image.open(buffer).convert("RGBA")
    opaque = Image.alpha_composite(Image.new("RGBA", rendered.size, "white"), rendered).convert("RGB")
    palette = opaque.quantize(256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG")
    return buffer.getvalue()


def describe_figure(fig):
    """A text alternative for ``fig``: its title, and each panel's title, kind, axes and legend.

    Read from the figure's own texts after it was drawn (categorical tick labels only
    exist then), so it says what a sighted reader sees, in the same words.
    """
    panels = [axis for axis in fig.axes if axis.get_visible()]
    title = fig.get_suptitle()
    count = "one panel" if len(panels) == 1 else f"{len(panels)} panels"
    parts = [f"A figure in {count}" + (f", “{title}”." if title else ".")]
    for number, axis in enumerate(panels, 1):
        name = f"Panel {number}" if len(panels) > 1 else "The panel"
        parts.append(f"{name}: {describe_panel(axis)}.")
    return " ".join(parts)


def describe_panel(axis):
    """One panel: what kind of plot, its title, what it plots against what, and its legend."""
    title = " ".join(text for text in (axis.get_title("left"), axis.get_title(), axis.get_title("right")) if text)
    bars = [container for container in axis.containers if isinstance(container, BarContainer)]
    if axis.images:
        kind = "an image"
    elif bars:
        kind = "a bar chart"
    elif axis.lines:
        kind = "a line plot"
    else:
        kind = "a plot"
    words = [f"{kind}" + (f" titled “{title}”" if title else "")]
    x_label, y_label = axis.get_xlabel(), axis.get_ylabel()
    if bars:
        names = [label.get_text() for label in axis.get_xticklabels()]
        heights = [bar.get_height() for bar in bars[0]]
        if len(names) == len(heights) and all(names):
            values = ", ".join(f"{name} {height:.2g}" for name, height in zip(names, heights))
            words.append(f"{y_label or 'values'} by bar: {values}")
    elif axis.axison and (x_label or y_label):
        words.append(f"{y_label or 'values'} against {x_label or 'position'}")
    legend = axis.get_legend()
    if legend is not None and legend.get_texts():
        words.append("legend: " + "; ".join(text.get_text() for text in legend.get_texts()))
    return ", ".join(words)


def figure_explorer(draw, controls, dpi=80, caption="", on_page=None):
    """Widgets ``controls`` (name -> widget) above the figure ``draw(**values)``.

    ``draw`` takes one keyword argument per control and returns a matplotlib
    figure. The figure is drawn once now and again whenever a control changes.
    Returns the ``Explorer`` (a ``VBox``) to display; its ``picture`` attribute is the
    Image, whose ``tooltip`` is the figure's text alternative (``describe_figure``).

    On the book's pages the sliders named in ``on_page`` (all by default) move over
    pictures drawn in advance, one per combination of their positions (at most
    ``MAX_PAGE_FRAMES``, checked now, so that a chapter learns it before the book is
    built); the others stay at their values there (with none, the page shows the widget).
    ``caption`` is the figure's caption on the page.
    """
    if not controls:
        raise ValueError("figure_explorer needs at least one control widget")
    for name, control in controls.items():
        if not isinstance(control, ipywidgets.ValueWidget):
            raise TypeError(f"control {name!r} is a {type(control).__name__}, "
                            "not an ipywidgets value widget such as FloatSlider")
    on_page = list(controls) if on_page is None else list(on_page)
    unknown = [name for name in on_page if name not in controls]
    if unknown:
        raise ValueError(f"on_page names {unknown}; the controls are {list(controls)}")
    grids = {name: slider_grid(controls[name]) for name in on_page}
    frames = math.prod(len(grid.values) for grid in grids.values())
    if frames > MAX_PAGE_FRAMES:
        sizes = " x ".join(f"{len(grid.values)} ({name})" for name, grid in grids.items())
        raise ValueError(f"the page would need {sizes} = {frames} pictures, more than {MAX_PAGE_FRAMES}: "
                         "give the sliders larger steps, or leave some out of on_page")
    picture = DescribedImage(format="png")

    def redraw(change=None):
        values = {name: control.value for name, control in controls.items()}
        picture.value, picture.tooltip, _ = draw_picture(draw, values, dpi)

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    row = ipywidgets.HBox(list(controls.values()),
                          layout=ipywidgets.Layout(flex_flow="row wrap"))
    return Explorer([row, picture], picture=picture, draw=draw, controls=controls,
                    grids=grids, dpi=dpi, caption=caption)


def draw_picture(draw, values, dpi=80):
    """The PNG of ``draw(**values)``, its text alternative and the height of its smallest text in the
    PNG's pixels (None without text): what JupyterLab shows, and each page frame."""
    fig = draw(**values)
    png = figure_to_png(fig, dpi=dpi)
    # After drawing: tick labels are set then.
    return png, describe_figure(fig), smallest_text_px(fig, laid_out=True, dpi=dpi)


@dataclass(frozen=True)
class SliderGrid:
    """The values a slider can take on a page (its steps from min to max), shown as ``labels``."""

    values: tuple
    labels: tuple[str, ...]

    def index(self, value) -> int:
        """The position nearest to ``value``."""
        return min(range(len(self.values)), key=lambda position: abs(self.values[position] - value))


def slider_grid(slider) -> SliderGrid:
    """Every value of an ``IntSlider``, ``FloatSlider`` or ``FloatLogSlider`` from its min to its max.

    A log slider steps its exponent. Values are rounded to 10 decimals, so that three steps
    of 0.1 give 0.3, as a reader would write it, not 0.30000000000000004.
    """
    if not isinstance(slider, (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)):
        raise TypeError(f"a {type(slider).__name__} cannot move on a page: only IntSlider, FloatSlider "
                        "and FloatLogSlider can (leave it out of on_page)")
    positions = math.floor((slider.max - slider.min) / slider.step + 1e-9) + 1
    steps = [round(slider.min + position * slider.step, 10) for position in range(positions)]
    if isinstance(slider, ipywidgets.FloatLogSlider):
        values = tuple(round(slider.base ** exponent, 10) for exponent in steps)
    elif isinstance(slider, ipywidgets.IntSlider):
        values = tuple(int(value) for value in steps)
    else:
        values = tuple(steps)
    return SliderGrid(values, tuple(format(value, slider.readout_format) for value in values))


@dataclass(frozen=True)
class Frame:
    """One picture of a page: the controls' values, the PNG, its text alternative and the height of
    its smallest text in the PNG's pixels (None without text)."""

    values: dict
    png: bytes
    alt: str
    text_px: float | None


class Explorer(ipywidgets.VBox):
    """The explorer's widgets, which also offer the page a ``text/html`` alternative (see the module)."""

    def __init__(self, children, *, picture, draw, controls, grids, dpi, caption, **kwargs):
        super().__init__(children, **kwargs)
        self.picture, self.draw, self.controls = picture, draw, controls
        self.grids, self.dpi, self.caption = grids, dpi, caption

    def page_frames(self) -> list[Frame]:
        """One frame per combination of the on-page sliders' values, the last slider fastest.

        The other controls keep their values; each frame is drawn by ``draw`` as in JupyterLab.
        """
        fixed = {name: control.value for name, control in self.controls.items()}
        frames = []
        for combination in itertools.product(*(grid.values for grid in self.grids.values())):
            values = {**fixed, **dict(zip(self.grids, combination))}
            frames.append(Frame(values, *draw_picture(self.draw, values, self.dpi)))
        return frames

    def page_html(self, frames: list[Frame] | None = None) -> str:
        """The explorer for a page without a kernel: a ``<figure class="dlcv-explorer">`` (see the module)."""
        frames = self.page_frames() if frames is None else frames
        positions = {name: grid.index(self.controls[name].value) for name, grid in self.grids.items()}
        first = frame_index(list(self.grids.values()), list(positions.values()))
        inputs = [range_input(name, self.controls[name], grid, positions[name]) for name, grid in self.grids.items()]
        fixed = [f"{self.controls[name].description or name} = {value_label(self.controls[name])}"
                 for name in self.controls if name not in self.grids]
        note = (f"On this page the figure moves through {len(frames)} pictures drawn in advance"
                + (f"; {', '.join(fixed)} move{'s' if len(fixed) == 1 else ''} only in a running notebook."
                   if fixed else "; in a running notebook it is redrawn for any value."))
        sizes = [frame.text_px for frame in frames if frame.text_px is not None]
        smallest = f"{min(sizes):g}" if sizes else "none"  # any frame can be shown
        data = json.dumps([{"src": png_address(frame.png), "alt": frame.alt} for frame in frames])
        data = data.replace("</", "<\\/")  # no "</script>" inside the script
        return (
            f'<figure class="{PAGE_CLASS}">'
            '<div class="dlcv-explorer-controls" style="display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem">'
            f'{"".join(inputs)}</div>'
            f'<img class="dlcv-explorer-picture" src="{png_address(frames[first].png)}" '
            f'alt="{html.escape(frames[first].alt)}" data-frame="{first}" data-smallest-text-px="{smallest}" '
            'style="max-width: 100%; height: auto">'
            # The theme greys captions; on the light box it gives HTML outputs in dark mode that grey is
            # unreadable (axe-core's color-contrast): the caption takes the box's text colour.
            f'<figcaption style="color: inherit">{html.escape(self.caption)}'
            f'{" " if self.caption else ""}<span class="dlcv-explorer-note">{html.escape(note)}</span></figcaption>'
            f'<script type="application/json" class="dlcv-explorer-frames">{data}</script>'
            f"<script>{PAGE_SCRIPT}</script>"
            "</figure>"
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.grids and os.environ.get(PAGE_FRAMES_VARIABLE, "") not in ("", "0"):
            bundle["text/html"] = self.page_html()
        return bundle


def range_input(name, control, grid: SliderGrid, position: int) -> str:
    """A labelled ``<input type="range">`` over a slider's positions, and its readout.

    It steps through positions 0, 1, ... (a log slider's values are not evenly spaced);
    ``aria-valuetext`` and the readout say the value, ``data-values`` and ``data-labels`` list them all.
    """
    identifier = f"dlcv-explorer-{control.model_id}"
    label = grid.labels[position]
    return (
        f'<div class="dlcv-explorer-control"><label for="{identifier}">{html.escape(control.description or name)}'
        f'</label> <input type="range" id="{identifier}" name="{html.escape(name)}" min="0" '
        f'max="{len(grid.values) - 1}" step="1" value="{position}" aria-valuetext="{html.escape(label)}" '
        f'data-values="{html.escape(json.dumps(grid.values))}" data-labels="{html.escape(json.dumps(grid.labels))}" '
        'style="width: min(16rem, 60vw); vertical-align: middle"> '
        f'<output for="{identifier}">{html.escape(label)}</output></div>'
    )


def frame_index(grids: list[SliderGrid], positions: list[int]) -> int:
    """Which frame of ``page_frames`` shows these slider positions (the last slider fastest)."""
    index = 0
    for grid, position in zip(grids, positions):
        index = index * len(grid.values) + position
    return index


def value_label(control) -> str:
    """A control's value as its readout shows it (where it has a format)."""
    format_spec = getattr(control, "readout_format", "")
    try:
        return format(control.value, format_spec)
    except (TypeError, ValueError):
        return str(control.value)


def png_address(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
