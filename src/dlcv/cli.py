"""The ``dlcv`` command line: one entry point, one module per sub-command.

Each sub-command module has ``add_command(subparsers)``, which adds its parser and sets
``run`` (a function of the parsed arguments) as that parser's default. The instructor's
commands are left out of the student edition (``dlcv publish``), so a module that is not
there is skipped: the package still imports and the command still starts.
"""

from __future__ import annotations

import argparse
import importlib

COMMANDS = ("dlcv.autograde.cli", "dlcv.publish", "dlcv.install_cell", "dlcv.book_pdf")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dlcv", description="The course's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise  # a module that is there but lacks a dependency: say so
            continue
        module.add_command(commands)
    arguments = parser.parse_args(argv)
    arguments.run(arguments)


if __name__ == "__main__":
    main()
