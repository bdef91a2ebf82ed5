"""Chromium with the network cut off, for the tests marked ``browser``.

Students read the book on trains and behind campus proxies, so a page must load everything
from the book itself. The tests drive an installed Chromium (Playwright cannot download its
own browser here) in a browser context that lets through only requests to the test's own
server on localhost: every other request is aborted and recorded, and counts as a failure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dlcv.book_pdf import CHROMIUM_NAMES, chromium_executable
from dlcv.book_pdf import served as serve  # noqa: F401 (a folder on localhost)
from tests.helpers.course import COURSE_ROOT

# Kept after a run (``_build/`` is ignored by git), so a failure in CI can be looked at.
SCREENSHOTS = COURSE_ROOT / "_build" / "browser-screenshots"
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or point DLCV_CHROMIUM at a "
    "Chromium or Chrome executable, and `pip install -r requirements.txt` for Playwright; "
    "or leave these tests out with `-m 'not browser'`"
)


def why_no_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the Python package playwright is not installed: {INSTALL_HINT}"
    if chromium_executable() is None:
        where = os.environ.get("DLCV_CHROMIUM") or " or ".join(CHROMIUM_NAMES) + " on the PATH"
        return f"no Chromium found ({where}): {INSTALL_HINT}"
    return None


@dataclass
class PageLog:
    """What went wrong while pages were open: requests, console and uncaught errors."""

    origin: str
    harmless_console_errors: tuple[str, ...] = ()
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Everything recorded, one line each; empty when the pages behaved."""
        return ([f"tried to reach the network (an offline page must not): {url}" for url in self.blocked]
                + [f"failed to load: {what}" for what in self.failed]
                + [f"console error: {text}" for text in self.console_errors]
                + [f"uncaught error: {text}" for text in self.page_errors])

    def clear(self) -> None:
        """Forget what was recorded, to check the next page on its own."""
        for records in (self.blocked, self.failed, self.console_errors, self.page_errors):
            records.clear()

    def route(self, route) -> None:
        """Let requests to the local server through; abort and record any other."""
        url = route.request.url
        if url.startswith(self.origin + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def request_failed(self, request) -> None:
        # Blocked requests are recorded by route(); ERR_ABORTED is a load cancelled by leaving the page.
        if request.url.startswith(self.origin) and "ERR_ABORTED" not in (request.failure or ""):
            self.failed.append(f"{request.url} ({request.failure})")

    def console(self, message) -> None:
        if message.type == "error" and not message.text.startswith(self.harmless_console_errors):
            self.console_errors.append(message.text)

    def page_error(self, error) -> None:
        self.page_errors.append(str(error))


# A phone as the tests hold it: the width of an iPhone 12 to 15 in CSS pixels, touch, and the
# page's own viewport meta tag obeyed.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


def offline_page(browser, origin: str, harmless_console_errors: tuple[str, ...] = (), device: dict = DESKTOP):
    """A new page in its own browser context that can reach only ``origin``, and its log.

    ``device``: the context's options, ``DESKTOP`` (a 1280 px window) or ``PHONE``.
    """
    context = browser.new_context(**device)
    log = PageLog(origin, harmless_console_errors)
    context.route("**/*", log.route)
    page = context.new_page()
    page.on("response", log.response)
    page.on("requestfailed", log.request_failed)
    page.on("console", log.console)
    page.on("pageerror", log.page_error)
    return page, log


def screenshot(page, name: str) -> Path:
    """Save the whole page as ``_build/browser-screenshots/<name>.png``, for a person to look at."""
    path = SCREENSHOTS / f"{name.replace('/', '__')}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    # CSS pixels: a phone page has 3 device pixels to the CSS pixel, 9 times the pixels to encode.
    page.screenshot(path=str(path), full_page=True, scale="css")
    return path
