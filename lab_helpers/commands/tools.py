"""`lab tools install | status`: the pinned kubectl and helm in the course's state directory."""

from __future__ import annotations

import argparse


def _install(args: argparse.Namespace) -> int:
    from ..tools import install, installed, pinned, tool_version, tools_dir

    dest = tools_dir()
    before = {} if args.force else installed(dest)
    package, tools = pinned()
    if len(before) < len(tools):
        print(f"downloading {package} from PyPI (the official Linux x86-64 builds inside it, about 37 MB) ...")
    paths = install(dest, force=args.force)
    failed = 0
    for tool in tools:
        path = paths[tool.name]
        runs = tool_version(tool.name, path)
        state = "already installed" if tool.name in before else "installed"
        check = f"runs: {runs}" if runs == tool.version else f"DOES NOT RUN as {tool.version} (got {runs or 'nothing'})"
        failed += runs != tool.version
        print(f"{tool.name:<8} {tool.version:<8} {state}: {path}  ({check}, SHA-256 verified)")
    print('Put them first on PATH with: eval "$(lab sandbox env)"')
    return 1 if failed else 0


def _status(args: argparse.Namespace) -> int:
    from ..tools import find_tool, pinned, server_minor

    _, tools = pinned()
    for tool in tools:
        print(_status_line(find_tool(tool.name), tool.version, server_minor()))
    return 0


def _status_line(found, pinned_version: str, server_minor: int) -> str:
    if found.path is None:
        return f"{found.name:<8} not found: run `lab tools install`"
    line = f"{found.name:<8} {found.version or 'version unreadable':<8} {found.where()}"
    warning = found.skew_warning(server_minor)
    if warning:
        fix = (
            'eval "$(lab sandbox env)"' if found.course_copy else '`lab tools install`, then eval "$(lab sandbox env)"'
        )
        line += f"; {warning}: run {fix}"
    elif found.course_copy is None:
        line += f"; the course pins {pinned_version} (`lab tools install`)"
    return line


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "tools",
        help="kubectl and helm: install the course's pinned builds, or show which ones run.",
        description="The official kubectl and helm builds the course pins, installed into the state directory.",
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    sub.required = True
    text = "Install the pinned kubectl and helm into $LAB_STATE_DIR/bin (Linux x86-64; digests checked)."
    p = sub.add_parser("install", help=text, description=text)
    p.add_argument("--force", action="store_true", help="download and install again even when already there")
    p.set_defaults(func=_install)
    text = "Say which kubectl and helm your shell runs, where from, and their versions."
    p = sub.add_parser("status", help=text, description=text)
    p.set_defaults(func=_status)
