"""What a printed book must hold, read back from its PDF (``dlcv book-pdf``).

Chromium prints a ``<pre>`` as the screen shows it, scrolled to its start, and leaves the part
of a long line that lies past the box out of the PDF altogether: a cut line's end is missing
from the PDF's text. So a code block is whole on paper when all of its characters are in the
text of the pages its chapter was printed on, line by line (whitespace ignored: a wrapped line
breaks in two).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

WHITESPACE = re.compile(r"\s+")


class CodeBlocks(HTMLParser):
    """The text of each ``<pre>`` in a page's article that prints: folded cells (``<details>``) do not."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.article = self.folded = self.pre = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        self.article += tag == "article" and "bd-article" in classes
        self.folded += tag == "details" and self.article > 0
        if tag == "pre" and self.article and not self.folded:
            self.pre += 1
            if self.pre == 1:
                self.blocks.append("")

    def handle_endtag(self, tag):
        if tag == "pre" and self.pre:
            self.pre -= 1
        elif tag == "details" and self.folded:
            self.folded -= 1
        elif tag == "article" and self.article:
            self.article -= 1

    def handle_data(self, data):
        if self.pre:
            self.blocks[-1] += data


def code_blocks(page_html: str) -> list[str]:
    """The code a page prints: its article's ``<pre>`` blocks, except those in folded cells."""
    parser = CodeBlocks()
    parser.feed(page_html)
    return [block for block in parser.blocks if block.strip()]


def squeezed(text: str) -> str:
    return WHITESPACE.sub("", text)


def cut_code(blocks: list[str], printed_text: str) -> list[str]:
    """The blocks with a line whose text is not all in ``printed_text``, each shown by its first such line.

    Line by line: text extraction may order the pieces of a block that spans two sheets differently,
    but every character of every line must be there.
    """
    printed = squeezed(printed_text)
    problems = []
    for block in blocks:
        lost = next((line for line in block.splitlines() if squeezed(line) not in printed), None)
        if lost is not None:
            problems.append(f"code cut on paper: {lost.strip()[:100]!r}")
    return problems


def sections(reader) -> list[tuple[str, int, int]]:
    """(bookmark title, first page, page after the last) for each top-level bookmark of a PDF."""
    starts = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline
              if not isinstance(item, list)]
    ends = [start for _, start in starts[1:]] + [len(reader.pages)]
    return [(title, start, end) for (title, start), end in zip(starts, ends)]


def section_text(reader, first: int, end: int) -> str:
    return "\n".join(reader.pages[number].extract_text() for number in range(first, end))
