"""Configuration has one reader (lab_helpers/config.py) and one list of settings, which README's
table and `lab doctor` are generated from."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from lab_helpers.config import (
    SETTINGS,
    bench_elements,
    expiry_hours,
    kubeconfig_path,
    records_progress,
    resolve_backend,
    sandbox_boot_seconds,
    settings_table,
    state_dir,
)
from lab_helpers.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
NAMES = {s.name for s in SETTINGS}
# Variables course code reads that belong to other programs, not settings of the course.
OTHER_PROGRAMS = {
    "CUPY_TF32": "CuPy's own switch for TF32 matrix products, set for a child process",
    "PYTHONPATH": "extended for a child process",
    "JUPYTER_CONFIG_PATH": "Jupyter's search path, extended with the course's settings",
    "JUPYTER_PORT": "Jupyter's own default port, honoured by `lab start`",
    "LAB_POD_IP": "a sandbox container's own address, set by the sandbox kubelet for the registry's programs",
    "LAB_PATH_MAP": "a sandbox container's mount paths on the host, set by the sandbox kubelet for them",
    "NGINX_VERSION": "the nginx image's own variable, read by the registry's nginx stand-in",
    "PATH": "the search path, passed on (extended) to a workflow's steps and git's hooks",
    "FORGE_STATE_DIR": "set by the sandbox's forge for its git hooks: where its repositories live",
    "FORGE_OWNER": "set by the sandbox's forge for its git hooks: the pushed repository's owner",
    "FORGE_REPO": "set by the sandbox's forge for its git hooks: the pushed repository",
    "REMOTE_USER": "set by git http-backend (CGI) for the hooks: who pushes",
}
# Modules still reading a setting themselves, each with what is left to do.


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, name) of each literal name read from the environment: ``os.environ.get("X")``,
    ``os.environ["X"]``, ``os.getenv("X")``, ``environ.get("X")``, ``"X" in os.environ``."""
    found = []

    def is_environ(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ) or (isinstance(node, ast.Name) and node.id == "environ")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            if isinstance(func, ast.Attribute) and (
                (func.attr in ("get", "pop", "setdefault") and is_environ(func.value))
                or (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os")
            ):
                found.append((node.lineno, node.args[0].value))
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.slice, ast.Constant):
            found.append((node.lineno, node.slice.value))
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and any(is_environ(c) for c in node.comparators)
        ):
            found.append((node.lineno, node.left.value))
    return found


def _modules() -> dict[str, str]:
    files = sorted((ROOT / "lab_helpers").rglob("*.py"))
    return {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in files}


def test_the_finder_sees_every_way_of_reading():
    source = (
        'import os\nfrom os import environ\na = os.environ.get("A")\nb = os.environ["B"]\n'
        'c = os.getenv("C")\nd = environ.get("D", "")\ne = "E" in os.environ\nf = os.environ.get(name)\n'
        'g = request.environ["wsgi.input"]\n'
    )
    assert [n for _, n in environment_reads(source)] == ["A", "B", "C", "D", "E"]


def test_every_variable_read_is_a_listed_setting_or_another_programs():
    unknown = [
        f"{path}:{line} {name}"
        for path, text in _modules().items()
        for line, name in environment_reads(text)
        if name not in NAMES and name not in OTHER_PROGRAMS
    ]
    assert not unknown, "add each to config.SETTINGS (README's table follows):\n  " + "\n  ".join(unknown)


def test_config_reads_every_setting_it_lists():
    read = {name for _, name in environment_reads(_modules()["lab_helpers/config.py"])}
    text = _modules()["lab_helpers/config.py"]
    read |= set(re.findall(r'_(?:raw|number)\("([A-Z_]+)"', text))
    assert NAMES <= read, f"listed but never read: {sorted(NAMES - read)}"


@pytest.mark.parametrize("path", sorted(p for p in _modules() if p != "lab_helpers/config.py"))
def test_only_config_reads_the_settings(path):
    reads = [f"line {line}: {name}" for line, name in environment_reads(_modules()[path]) if name in NAMES]
    assert not reads, f"{path} reads settings itself (use the reader in lab_helpers.config): {reads}"


def test_readme_table_is_generated_from_the_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert settings_table() in section, "README's configuration table is out of date: paste config.settings_table()"
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == [s.name for s in SETTINGS]


def test_doctor_lists_every_setting_without_showing_credentials(monkeypatch):
    from lab_helpers.doctor import doctor

    monkeypatch.setenv("OS_CLOUD", "my-secret-project-name")
    monkeypatch.setenv("LAB_EXPIRY_H", "6")
    text = str(doctor(settings=True))
    settings = text.split("Settings\n", 1)[1]
    assert all(name in settings for name in NAMES)
    assert "my-secret-project-name" not in text and re.search(r"LAB_EXPIRY_H\s+6\b", settings)
    assert str(state_dir()) not in text  # paths stay off screens and notebooks: "set" only
    assert "Settings" not in str(doctor())  # lab 00 shows the backends' part only


def test_backend_defaults_to_sandbox(monkeypatch):
    monkeypatch.delenv("LAB_BACKEND", raising=False)
    assert resolve_backend() == "sandbox"


def test_backend_from_environment_and_argument(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND", "live")
    assert resolve_backend() == "live"
    assert resolve_backend("Sandbox") == "sandbox"


def test_unknown_backend_names_the_valid_ones():
    with pytest.raises(UsageError) as err:
        resolve_backend("aws")
    assert "sandbox, live" in str(err.value)


def test_state_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "s"))
    assert state_dir() == tmp_path / "s" and (tmp_path / "s").is_dir()


def test_boot_seconds_rejects_garbage(monkeypatch):
    monkeypatch.setenv("LAB_SANDBOX_BOOT_S", "soon")
    with pytest.raises(UsageError):
        sandbox_boot_seconds()


def test_numbers_have_defaults_and_refuse_garbage(monkeypatch):
    for name in ("LAB_EXPIRY_H", "LAB_BENCH_ELEMENTS", "LAB_RECORD_PROGRESS", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert expiry_hours() == 24.0 and bench_elements() is None and records_progress()
    assert kubeconfig_path() == Path("~/.kube/config").expanduser()
    monkeypatch.setenv("LAB_BENCH_ELEMENTS", "1e6")
    monkeypatch.setenv("LAB_RECORD_PROGRESS", "0")
    monkeypatch.setenv("KUBECONFIG", "/a/one:/a/two")
    assert bench_elements() == 1_000_000 and not records_progress() and kubeconfig_path() == Path("/a/one")
    monkeypatch.setenv("LAB_EXPIRY_H", "a day")
    with pytest.raises(UsageError, match="LAB_EXPIRY_H"):
        expiry_hours()


def test_every_setting_is_described():
    assert all(s.description and s.name.isupper() for s in SETTINGS)
