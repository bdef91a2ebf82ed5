"""The explorers on a page (``dlcv.explore``), moved as a reader moves them, and what JupyterLab draws.

On the page an explorer is a ``<figure class="dlcv-explorer">``: range inputs, one picture, and the
pictures drawn at build time for every position (a JSON list, the last input fastest). A test moves an
input with the mouse or the keyboard, then ``explorer_problems`` checks that the picture is the one
drawn for the inputs' positions, with its text alternative, and that the inputs say their values.
``jupyterlab_pictures`` then asks a kernel, which ran the chapter up to its explorers, for the
picture JupyterLab shows at those values, so the page can be compared with it byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from dlcv.explore import PAGE_CLASS

EXPLORER = f"figure.{PAGE_CLASS}"
THUMB_PX = 16  # Chromium's range thumb: its centre runs from 8 px inside one end to 8 px inside the other

# The page's state of one explorer, read in the browser.
STATE = """figure => {
    const frames = JSON.parse(figure.querySelector('script.dlcv-explorer-frames').textContent);
    const picture = figure.querySelector('img.dlcv-explorer-picture');
    return {
        frames: frames,
        src: picture.getAttribute('src'), alt: picture.getAttribute('alt'),
        inputs: Array.from(figure.querySelectorAll("input[type='range']")).map(input => ({
            name: input.name, position: Number(input.value), count: Number(input.max) + 1,
            values: JSON.parse(input.dataset.values), labels: JSON.parse(input.dataset.labels),
            valuetext: input.getAttribute('aria-valuetext'),
            readout: figure.querySelector(`output[for="${input.id}"]`).textContent,
            label: input.labels.length ? input.labels[0].textContent.trim() : '',
        })),
    };
}"""


def explorer_state(figure) -> dict:
    """The frames, the picture shown and each input's position, values and what it says, of one explorer."""
    return figure.evaluate(STATE)


def shown_values(state: dict) -> dict:
    """The values the inputs are at: ``{name: value}``."""
    return {item["name"]: item["values"][item["position"]] for item in state["inputs"]}


def expected_frame(state: dict) -> int:
    """The frame for the inputs' positions, counted as ``dlcv.explore.page_frames`` draws them."""
    index = 0
    for item in state["inputs"]:
        index = index * item["count"] + item["position"]
    return index


def explorer_problems(state: dict) -> list[str]:
    """What is wrong with one explorer as it is now; empty when its picture is the frame for its inputs."""
    problems = []
    frame = state["frames"][expected_frame(state)]
    if state["src"] != frame["src"]:
        shown = next((index for index, other in enumerate(state["frames"]) if other["src"] == state["src"]), None)
        problems.append(f"the picture is frame {shown}, not frame {expected_frame(state)} drawn for "
                        f"{shown_values(state)}")
    if state["alt"] != frame["alt"]:
        problems.append(f"the text alternative is {state['alt'][:80]!r}, not the frame's {frame['alt'][:80]!r}")
    for item in state["inputs"]:
        label = item["labels"][item["position"]]
        if not item["label"]:
            problems.append(f"the input {item['name']!r} has no label")
        if item["valuetext"] != label or item["readout"] != label:
            problems.append(f"the input {item['name']!r} is at {label}, but says {item['valuetext']!r} "
                            f"and shows {item['readout']!r}")
    if len({frame["src"] for frame in state["frames"]}) < len(state["frames"]):
        problems.append("two frames hold the same picture: a slider's position changes nothing")
    return problems


def picture_bytes(state: dict) -> bytes:
    """The PNG the page shows (a ``data:`` address)."""
    prefix = "data:image/png;base64,"
    assert state["src"].startswith(prefix), state["src"][:60]
    return base64.b64decode(state["src"][len(prefix):])


def drag(page, slider, position: int) -> int:
    """Drag the range input's thumb with the mouse from where it is to ``position``; where it landed."""
    slider.scroll_into_view_if_needed()  # before measuring: scrolling moves it
    box = slider.bounding_box()
    count = int(slider.get_attribute("max")) + 1

    def x(at: int) -> float:
        return box["x"] + THUMB_PX / 2 + (box["width"] - THUMB_PX) * at / (count - 1)

    y = box["y"] + box["height"] / 2
    page.mouse.move(x(int(slider.input_value())), y)
    page.mouse.down()
    page.mouse.move(x(position), y, steps=10)
    page.mouse.up()
    return int(slider.input_value())


def move_each_slider(page, figure) -> list[dict]:
    """Drag each slider of an explorer to its far end with the mouse, then step it back with an arrow key.

    One record per move: which slider, how (``"mouse"`` or ``"key"``), and the explorer's state before and after.
    """
    moves = []
    inputs = figure.locator("input[type='range']")
    for slot in range(inputs.count()):
        slider = inputs.nth(slot)
        before = explorer_state(figure)
        item = before["inputs"][slot]
        drag(page, slider, 0 if item["position"] > item["count"] // 2 else item["count"] - 1)
        dragged = explorer_state(figure)
        slider.press("ArrowLeft" if dragged["inputs"][slot]["position"] > 0 else "ArrowRight")
        moves += [{"slot": slot, "name": item["name"], "by": "mouse", "before": before, "after": dragged},
                  {"slot": slot, "name": item["name"], "by": "key", "before": dragged,
                   "after": explorer_state(figure)}]
    return moves


def move_problems(moves: list[dict]) -> list[str]:
    """What went wrong in ``move_each_slider``'s moves: a slider that did not move (a key moves it one step),
    a picture that did not change with it, and anything ``explorer_problems`` finds after each move."""
    problems = []
    for move in moves:
        start = move["before"]["inputs"][move["slot"]]["position"]
        end = move["after"]["inputs"][move["slot"]]["position"]
        where = f"{move['name']}, moved by {move['by']} from position {start} to {end}"
        if end == start or (move["by"] == "key" and abs(end - start) != 1):
            problems.append(f"{where}: the slider did not move as it should")
        if move["after"]["src"] == move["before"]["src"]:
            problems.append(f"{where}: the picture did not change")
        problems += [f"{where}: {problem}" for problem in explorer_problems(move["after"])]
    return problems


def explorer_cells(notebook: nbformat.NotebookNode) -> list[int]:
    """The indices of the code cells that make an explorer."""
    return [index for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and "figure_explorer(" in cell.source]


PROBE = """
import base64 as _base64, json as _json
from dlcv.explore import Explorer as _Explorer
_explorers = [value for _, value in sorted(Out.items()) if isinstance(value, _Explorer)]
_pictures = []
for _number, _values in {requests!r}:
    for _name, _value in _values.items():
        _explorers[_number].controls[_name].value = _value
    _picture = _explorers[_number].picture
    _pictures.append({{"png": _base64.b64encode(_picture.value).decode(), "alt": _picture.tooltip}})
print(_json.dumps(_pictures))
"""


def jupyterlab_pictures(path: Path, requests: list[tuple[int, dict]]) -> list[dict]:
    """What JupyterLab shows for each ``(explorer number, {name: value})``: ``{"png": bytes, "alt": str}``.

    Runs the chapter's cells up to its last explorer in a fresh kernel, then moves the explorers'
    controls there, as a reader in JupyterLab does, and reads the picture the kernel redrew.
    """
    notebook = nbformat.read(path, as_version=4)
    last = explorer_cells(notebook)[-1]
    notebook.cells = notebook.cells[:last + 1] + [nbformat.v4.new_code_cell(PROBE.format(requests=requests))]
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs if output.get("name") == "stdout")
    return [{"png": base64.b64decode(item["png"]), "alt": item["alt"]} for item in json.loads(printed)]
