"""The ``lab`` command: a thin layer over the package's functions.

Every module in ``lab_helpers/commands/`` defines ``register(commands)``, which adds its own
subcommands; adding a file adds a command, with no central switch to edit. Groups of commands
(``lab bench gpu``, ``lab bench sandbox``) are shared through :func:`group`.

Command modules import heavy libraries inside their functions, so that ``lab --help`` and
``python -m lab_helpers bench gpu`` need no more than NumPy and PyYAML.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from .errors import LabError, UsageError

_GROUPS: dict[str, argparse._SubParsersAction] = {}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def group(commands: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """The subcommands of group ``name`` (created on first use), e.g. ``lab bench``."""
    if name not in _GROUPS:
        parser = commands.add_parser(name, help=help, description=help)
        sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
        sub.required = True
        _GROUPS[name] = sub
    return _GROUPS[name]


def build_parser() -> argparse.ArgumentParser:
    _GROUPS.clear()
    parser = _Parser(prog="lab", description="Visualizing Compute: run, check and grade the labs.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    from . import commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        register: Callable | None = getattr(module, "register", None)
        if register:
            register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except UsageError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    except LabError as exc:
        print(f"lab: {exc.who}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lab list | head -1`: the reader has what it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
