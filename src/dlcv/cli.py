"""The ``dlcv`` command line: one entry point, one module per sub-command.

Each sub-command module has ``add_command(subparsers)``, which adds its parser and sets
``run`` (a function of the parsed arguments) as that parser's default.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    from dlcv.autograde import cli as autograde

    parser = argparse.ArgumentParser(prog="dlcv", description="The course's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    autograde.add_command(commands)
    arguments = parser.parse_args(argv)
    arguments.run(arguments)


if __name__ == "__main__":
    main()
