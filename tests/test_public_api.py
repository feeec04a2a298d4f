"""The public surface of lab_helpers is small and deliberate: changing it must be a decision."""

import ast
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat

import lab_helpers

EXPECTED = [
    "LabError",
    "UsageError",
    "check",
    "cloud_name",
    "connect_cloud",
    "doctor",
    "resolve_backend",
    "setup",
    "state_dir",
]


def test_public_names_are_pinned():
    assert lab_helpers.__all__ == EXPECTED


def test_every_public_name_resolves():
    for name in EXPECTED:
        assert getattr(lab_helpers, name) is not None


def test_unknown_attribute_is_an_attribute_error():
    try:
        lab_helpers.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_is_light():
    """`import lab_helpers` pulls in none of the heavy libraries (the 0.3 s budget)."""
    code = (
        "import sys, lab_helpers\n"
        "heavy = [m for m in ('cupy', 'numpy', 'openstack', 'kubernetes', 'plotly', 'papermill', 'jupyter_client') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- what the labs import: the course's real public API ---------------------------------------

LABS = sorted((Path(__file__).resolve().parents[1] / "labs").glob("*.ipynb"))


def lab_imports(source: str) -> set[tuple[str, str]]:
    """(module, name) for each ``lab_helpers`` name a cell's code imports or reaches by attribute.

    ``from m import n`` gives (m, n); ``import lab_helpers.a.b`` gives (lab_helpers.a, b) and the
    packages above it; ``lab_helpers.a.b.f`` on an imported module gives (lab_helpers.a.b, f).
    """
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    found: set[tuple[str, str]] = set()
    modules: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "lab_helpers":
            found |= {(node.module, alias.name) for alias in node.names}
            found |= _parents(node.module)
            for alias in node.names:
                if _is_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lab_helpers":
                    found |= _parents(alias.name)
                    modules[alias.asname or "lab_helpers"] = alias.name if alias.asname else "lab_helpers"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in modules:
                module = modules[base.id]
                for part in reversed(chain):  # down the chain while it names modules, then one attribute
                    found.add((module, part))
                    if not _is_module(f"{module}.{part}"):
                        break
                    module = f"{module}.{part}"
    return found


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except ModuleNotFoundError:
        return False


def _parents(dotted: str) -> set[tuple[str, str]]:
    parts = dotted.split(".")
    return {(".".join(parts[:i]), parts[i]) for i in range(1, len(parts))}


def _resolve(module: str, name: str) -> tuple[object, list[str] | None]:
    mod = importlib.import_module(module)
    return mod, getattr(mod, "__all__", None)


def all_lab_imports() -> dict[tuple[str, str], list[str]]:
    where: dict[tuple[str, str], list[str]] = {}
    for path in LABS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for pair in lab_imports(cell.source):
                    where.setdefault(pair, []).append(f"{path.name} cell {cell.get('id')}")
    return where


def test_the_collector_sees_imports_attributes_and_private_names() -> None:
    found = lab_imports(
        "import lab_helpers\nfrom lab_helpers.gpu.bench import run_suite as rs\n"
        "from lab_helpers.checks import lab02\n%matplotlib inline\n"
        "def f():\n    from lab_helpers.checks.lab03 import _open\n"
        "lab_helpers.check('x')\nlab02.judge_job(1, {})\nrs().table\n"
    )
    assert found == {
        ("lab_helpers", "check"),
        ("lab_helpers", "gpu"),
        ("lab_helpers.gpu", "bench"),
        ("lab_helpers.gpu.bench", "run_suite"),
        ("lab_helpers", "checks"),
        ("lab_helpers.checks", "lab02"),
        ("lab_helpers.checks.lab02", "judge_job"),
        ("lab_helpers.checks", "lab03"),
        ("lab_helpers.checks.lab03", "_open"),
    }


def test_the_labs_import_a_real_set_of_names() -> None:
    where = all_lab_imports()
    assert len(where) > 60, f"only {len(where)} imports found in {len(LABS)} labs: is the collector broken?"


def test_labs_import_no_private_name() -> None:
    private = sorted(
        f"{m}.{n} ({', '.join(w)})"
        for (m, n), w in all_lab_imports().items()
        if n.startswith("_") or any(p.startswith("_") for p in m.split("."))
    )
    assert not private, "labs import private names; give what a lab needs a public name:\n  " + "\n  ".join(private)


def test_every_name_a_lab_imports_is_in_its_modules_all() -> None:
    missing = []
    for (module, name), cells in sorted(all_lab_imports().items()):
        if module == "lab_helpers" and _is_module(f"lab_helpers.{name}"):
            continue  # the top package's __all__ is its few names (kept light); each subpackage pins its own
        _mod, exported = _resolve(module, name)
        if exported is None:
            missing.append(f"{module} has no __all__ (a lab imports {name} from it: {cells[0]})")
        elif name not in exported:
            missing.append(f"{module}.{name} is not in {module}.__all__ (imported in {cells[0]})")
    assert not missing, (
        "a lab imports a name its module does not declare public; add it to that module's __all__ "
        "(a decision: the name becomes part of the course's API) or import something public:\n  " + "\n  ".join(missing)
    )


def test_every_declared_name_exists() -> None:
    modules = sorted({m for (m, _n) in all_lab_imports()})
    for module in modules:
        mod, exported = _resolve(module, "")
        for name in exported or []:
            if not hasattr(mod, name):
                importlib.import_module(f"{module}.{name}")  # a submodule: importing it must work
            else:
                assert getattr(mod, name) is not None, f"{module}.{name}"
