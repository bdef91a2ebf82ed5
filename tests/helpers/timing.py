"""Where a test run's time goes: wall-clock and CPU seconds by test module, printed at the end.

Wall-clock time alone misleads on a shared or small machine: a test that waits (for a timeout, a
server, a sleeping attack) costs little CPU, and one that trains costs all of it. The CPU seconds
of a test are those of the pytest process and of every child process it waited for (nbgrader,
notebook kernels, ``dlcv autograde`` and its judges), from the start of its setup to the end of its
teardown. A module-scoped fixture's children are waited for in the teardown of the module's last
test, so per module the sum is right even where one test's share is not.

pytest-xdist's workers measure; the controller prints. ``--durations`` still lists single tests.
"""

from __future__ import annotations

import resource
import time
from collections import defaultdict

import pytest

PROPERTY = "wall_and_cpu_seconds"


def cpu_seconds() -> float:
    """User and system CPU of this process and of its waited-for children, in seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class ModuleTimes:
    """A pytest plugin: measures each test where it runs, adds it up by module where reports arrive."""

    def __init__(self):
        self.started: dict[str, tuple[float, float]] = {}
        self.modules: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item):
        # Before the fixtures are set up: a module's costly fixture is most of its time.
        self.started[item.nodeid] = (time.time(), cpu_seconds())
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if call.when == "teardown" and item.nodeid in self.started:
            wall_start, cpu_start = self.started.pop(item.nodeid)
            report.user_properties.append((PROPERTY, (call.stop - wall_start, cpu_seconds() - cpu_start)))
        return report

    def pytest_runtest_logreport(self, report):
        for name, value in report.user_properties:
            if name == PROPERTY:
                module = self.modules[report.nodeid.split("::")[0]]
                module[0] += value[0]
                module[1] += value[1]

    def pytest_terminal_summary(self, terminalreporter):
        if not self.modules:
            return
        wall, cpu = (sum(times[i] for times in self.modules.values()) for i in (0, 1))
        terminalreporter.section("time by test module: wall and CPU seconds (CPU counts waited-for children)")
        ranked = sorted(self.modules.items(), key=lambda entry: -entry[1][1])
        for module, (module_wall, module_cpu) in ranked[:30]:
            terminalreporter.write_line(f"{module_cpu:8.1f} s CPU {module_wall:8.1f} s wall  {module}")
        if len(ranked) > 30:
            rest = ranked[30:]
            terminalreporter.write_line(f"{sum(t[1] for _, t in rest):8.1f} s CPU {sum(t[0] for _, t in rest):8.1f} "
                                        f"s wall  ({len(rest)} more modules)")
        terminalreporter.write_line(f"{cpu:8.1f} s CPU {wall:8.1f} s wall  in all, {time.strftime('%H:%M:%S')}")
