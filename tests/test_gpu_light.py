"""The GPU entry points stay light: a GPU machine with only NumPy, CuPy and PyYAML (and pytest, to
run the tests) can run `python -m lab_helpers bench gpu --json` and the `gpu`-marked tests from a
fresh checkout.

A bare environment is made here, in seconds, without a package index: a virtual environment with
no pip and no system site-packages, holding links to exactly the installed distributions it is
allowed (and what they themselves require), with the checkout on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# what the course installs for the notebooks, the cloud and grading: none of it on a bare GPU box
HEAVY = (
    "papermill",
    "plotly",
    "openstack",
    "kubernetes",
    "werkzeug",
    "jupyter_client",
    "ipykernel",
    "ipywidgets",
    "nbformat",
    "nbclient",
    "dask_jobqueue",
    "cryptography",
    "platformdirs",
    "tqdm",
    "IPython",
    "jupyterlab",
)


def _closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` and, recursively, what they require (where installed)."""
    from packaging.requirements import Requirement

    seen: dict[str, metadata.Distribution] = {}
    todo = [(Requirement(n).name, frozenset(Requirement(n).extras)) for n in names]
    while todo:
        name, extras = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in seen and not extras:
            continue
        seen[key] = dist
        for raw in dist.requires or []:
            req = Requirement(raw)
            envs = [{"extra": e} for e in (extras | {""})]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return list(seen.values())


def _bare_env(folder: Path, allowed: list[str]) -> Path:
    """A venv at ``folder`` whose site-packages links only the ``allowed`` distributions' files."""
    venv.EnvBuilder(with_pip=False, system_site_packages=False, symlinks=os.name != "nt").create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    for dist in _closure(allowed):
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (site / top).exists():
                (site / top).symlink_to(source)
    return python


def _env(state: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "LAB_", "PYTEST"))
    }
    env.update(PYTHONPATH=str(ROOT), LAB_STATE_DIR=str(state), PYTHONDONTWRITEBYTECODE="1")
    return env


def _has(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _cupy() -> list[str]:
    """CuPy's distribution where this machine has one (cupy-cuda12x, cupy-cuda13x, ...), with the
    CUDA toolkit wheels its ``ctk`` extra brings where they are installed."""
    names = {d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"].lower().startswith("cupy")}
    return sorted(f"{name}[ctk]" for name in names)


def gpu_marked_modules() -> list[Path]:
    return sorted(
        p
        for p in TESTS.glob("test_*.py")
        if p.name != Path(__file__).name and re.search(r"pytest\.mark\.gpu\b", p.read_text(encoding="utf-8"))
    )


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    if not (_has("numpy") and _has("PyYAML")):
        pytest.skip("NumPy and PyYAML are needed here to build the bare environment")
    return _bare_env(tmp_path_factory.mktemp("bare-venv"), ["numpy", "PyYAML"])


@pytest.fixture(scope="module")
def bare_pytest(tmp_path_factory):
    return _bare_env(tmp_path_factory.mktemp("bare-venv-pytest"), ["numpy", "PyYAML", "pytest", *_cupy()])


@pytest.mark.timeout(180)
def test_bench_gpu_json_runs_with_only_numpy_and_pyyaml(bare_python, tmp_path):
    probe = subprocess.run(
        [str(bare_python), "-c", "import numpy, yaml; import cupy"], capture_output=True, text=True, env=_env(tmp_path)
    )
    assert "No module named 'cupy'" in probe.stderr  # the bare environment really has no CuPy
    for heavy in ("plotly", "papermill", "openstack"):
        assert (
            subprocess.run(
                [str(bare_python), "-c", f"import {heavy}"], capture_output=True, env=_env(tmp_path)
            ).returncode
            != 0
        ), f"{heavy} leaked into the bare environment"

    env = {**_env(tmp_path), "LAB_BENCH_ELEMENTS": "200000"}
    done = subprocess.run(
        [str(bare_python), "-m", "lab_helpers", "bench", "gpu", "--json", "--quick", "--no-sweep"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout)
    assert data["device"]["kind"] == "cpu" and data["device"]["xp"] == "numpy"
    assert {r["kernel"] for r in data["results"]} >= {"copy", "triad", "gemm"}


def test_lab_help_runs_with_only_numpy_and_pyyaml(bare_python, tmp_path):
    done = subprocess.run(
        [str(bare_python), "-m", "lab_helpers", "bench", "gpu", "--help"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0 and "usage: lab bench gpu" in done.stdout, done.stderr[-3000:]


@pytest.mark.timeout(600)
def test_gpu_marked_tests_run_with_only_numpy_cupy_pyyaml_and_pytest(bare_pytest, tmp_path):
    modules = gpu_marked_modules()
    assert modules, "no gpu-marked test module found"
    done = subprocess.run(
        [str(bare_pytest), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-m", "gpu", *map(str, modules)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=ROOT,
        timeout=540,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]  # 0: every test passed or was skipped (5 would be: none collected)
    summary = done.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ (passed|skipped)", summary) and not re.search(r"failed|error", summary), out[-4000:]


def test_gpu_entry_points_import_nothing_heavy(tmp_path):
    """Importing the GPU modules, the gpu-marked tests and the `lab` parser loads none of the heavy libraries
    (here, where all of them are installed and could sneak in)."""
    import pkgutil

    import lab_helpers.gpu as gpu

    modules = [f"lab_helpers.gpu.{m.name}" for m in pkgutil.iter_modules(gpu.__path__)]
    tests = [str(p) for p in gpu_marked_modules()] + [str(TESTS / "conftest.py")]
    code = (
        "import importlib, importlib.util, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(TESTS)!r}]\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"for i, path in enumerate({tests!r}):\n"
        "    spec = importlib.util.spec_from_file_location(f'gpu_test_{i}', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "from lab_helpers.cli import build_parser\n"
        "build_parser().parse_args(['bench', 'gpu', '--json'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=_env(tmp_path), cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
