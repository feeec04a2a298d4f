"""Lint, format and types, run through the test command so CI and a contributor see the same thing.

Settings live in pyproject.toml ([tool.ruff], [tool.mypy]); the tools are pinned in the `test` extra.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).with_name(name)
    if exe.exists():
        return [str(exe)]
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -c constraints.txt -e '.[test]'")
    return [found]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = _run([*_tool("ruff"), "check", "--no-cache", "lab_helpers", "tests"])
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_code_is_formatted():
    done = _run([*_tool("ruff"), "format", "--check", "--no-cache", "lab_helpers", "tests"])
    assert done.returncode == 0, "run `ruff format lab_helpers tests`:\n" + done.stdout[-4000:]


def test_mypy_finds_nothing_in_lab_helpers():
    done = _run([*_tool("mypy"), "--no-incremental"])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_no_line_is_longer_than_the_limit():
    # the ruff settings above enforce it; this pins the settings themselves so they cannot drift upward
    text = (ROOT / "pyproject.toml").read_text()
    assert "line-length = 120" in text and "max-line-length = 140" in text


def test_no_code_signals_a_process_group_through_the_kill_program():
    """procps-ng 4.0.2's ``kill -9 -GROUP`` calls ``kill(-1, SIGKILL)`` for a group 18669 (it keeps the first
    digit of a negative pid): as root that ends every process on the machine. Groups are signalled with
    ``os.killpg``; the ``kill`` program is used, if at all, for a single positive pid."""
    import re

    program = re.compile(r"""\[\s*["'](?:/usr)?(?:/bin/)?kill["']""")  # argv starting with the kill program
    shell = re.compile(r"(?<![\w.-])kill\s+(?:-\S+\s+)+-[\d$]")  # kill -SIG -<group>, kill -- -<group>
    found = []
    for path in [*ROOT.glob("lab_helpers/**/*"), *ROOT.glob("tests/**/*"), *ROOT.glob("labs/**/*"), ROOT / ".ci/run"]:
        if not path.is_file() or path.suffix not in {".py", ".sh", ".ipynb", ".yaml", ".yml", ""}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if program.search(line) or shell.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "use os.killpg / os.kill instead of the kill program:\n" + "\n".join(found)
