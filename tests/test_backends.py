"""The backends as objects: chosen by name in one place, and never compared by name anywhere else.

Outside ``lab_helpers/backends/`` and ``config.py`` no code in ``lab_helpers/`` or in a lab's code
cells compares anything with the literal ``"sandbox"`` or ``"live"``; outside those two and the
sandbox's own server package the literals do not appear at all (command names and defaults use
``config.SANDBOX``). Then each backend's own behaviour, without a GPU, ssh or a login node.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

from lab_helpers.backends import Backend, Live, Sandbox, backend_named, resolve
from lab_helpers.errors import MissingPiece, UsageError

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"sandbox", "live"}
OWNERS = ("lab_helpers/backends/", "lab_helpers/config.py")  # where the names are defined and parsed
SERVER = "lab_helpers/sandbox/"  # the sandbox itself: its cloud and project are called "sandbox" too


def _is_name(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_name(e) for e in node.elts)
    return False


def name_comparisons(source: str) -> list[int]:
    """Lines that compare with a backend's name: ``==``, ``!=``, ``in``, ``match`` cases."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(_is_name(x) for x in [node.left, *node.comparators]):
            found.append(node.lineno)
        elif isinstance(node, ast.MatchValue) and _is_name(node.value):
            found.append(node.value.lineno)
    return found


def name_literals(source: str) -> list[int]:
    return [n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and n.value in NAMES]


def _modules() -> list[tuple[str, str]]:
    files = sorted((ROOT / "lab_helpers").rglob("*.py"))
    return [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8")) for p in files]


def _code_cells() -> list[tuple[str, str, str]]:
    """(lab number, cell id, source without IPython magics) for every code cell of every lab."""
    cells = []
    for path in sorted((ROOT / "labs").glob("[0-9][0-9]-*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                lines = [("pass  # " + x) if x.lstrip().startswith(("%", "!")) else x for x in source.splitlines()]
                cells.append((path.name[:2], cell.get("id", ""), "\n".join(lines)))
    return cells


def test_the_finders_see_what_they_look_for():
    assert name_comparisons('if b == "live": pass') == [1]
    assert name_comparisons('x = 1\nif "sandbox" != b: pass') == [2]
    assert name_comparisons('ok = path.parent.name in ("sandbox", "other")') == [1]
    assert name_comparisons('match b:\n    case "live":\n        pass') == [2]
    assert name_comparisons('BACKEND = "sandbox"\nprint("sandbox")\nif b.has_operator_view: pass') == []
    assert name_literals('def f(backend="sandbox"): pass') == [1]
    assert name_literals('"""the sandbox"""') == []


def test_no_module_compares_with_a_backend_name():
    offending = [
        f"{path}:{line}" for path, text in _modules() if not path.startswith(OWNERS) for line in name_comparisons(text)
    ]
    assert not offending, (
        "ask the backend object (lab_helpers.backends) instead of comparing its name:\n  " + "\n  ".join(offending)
    )


def test_no_module_spells_a_backend_name():
    offending = [
        f"{path}:{line}"
        for path, text in _modules()
        if not path.startswith(OWNERS + (SERVER,))
        for line in name_literals(text)
    ]
    assert not offending, "use config.SANDBOX / config.LIVE, or a method of the backend object:\n  " + "\n  ".join(
        offending
    )


def test_no_lab_cell_compares_with_a_backend_name():
    offending = [
        f"lab {lab} cell {cell}: line {line}"
        for lab, cell, source in _code_cells()
        for line in name_comparisons(source)
    ]
    assert not offending, "a lab asks course.backend what differs:\n  " + "\n  ".join(offending)


# --- choosing a backend -----------------------------------------------------------------------------
def test_backends_are_chosen_by_name_in_one_place(monkeypatch):
    monkeypatch.delenv("LAB_BACKEND", raising=False)
    assert isinstance(backend_named(), Sandbox) and isinstance(backend_named(" Live "), Live)
    monkeypatch.setenv("LAB_BACKEND", "live")
    assert isinstance(resolve(None), Live)
    chosen = Sandbox()
    assert resolve(chosen) is chosen and resolve("sandbox") == chosen and resolve("live") != chosen
    assert str(Sandbox()) == "sandbox" and str(Live()) == "live" and repr(Live()) == "Live()"
    with pytest.raises(UsageError, match="Valid backends: sandbox, live"):
        backend_named("aws")
    assert all(isinstance(b, Backend) for b in (Sandbox(), Live()))


def test_the_session_holds_the_backend_object(monkeypatch):
    import lab_helpers

    course = lab_helpers.setup("sandbox", lab="00")
    assert isinstance(course.backend, Sandbox) and f"{course.backend}" == "sandbox"
    assert str(course) == "Lab 00: backend 'sandbox', a local sandbox on 127.0.0.1 (no account needed)."
    monkeypatch.delenv("OS_CLOUD", raising=False)
    monkeypatch.delenv("OS_AUTH_URL", raising=False)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")
    monkeypatch.chdir(ROOT / "tests")
    with pytest.raises(MissingPiece, match="Jetstream2 credentials") as err:
        lab_helpers.setup("live", lab="03")
    assert "OS_CLOUD" in err.value.hint


# --- the sandbox backend -------------------------------------------------------------------------------
def test_sandbox_owns_its_differences(capsys):
    import numpy

    backend = Sandbox()
    assert backend.array_module() is numpy and backend.has_operator_view and backend.starts_own_cloud
    assert backend.slurm_cluster_options() == {"python": "python", "scheduler_options": {"host": "127.0.0.1"}}
    assert backend.can_submit_jobs() is False and "cannot be logged into" in backend.login_note("192.0.2.4")
    assert capsys.readouterr().out == ""  # the lab's own text says what the sandbox does instead
    with pytest.raises(MissingPiece, match="no Kubernetes cluster yet"):
        backend.cluster()


def test_sandbox_meters_sus_through_nova_usage_api(conn):
    from lab_helpers.resources.cost import su_per_hour

    image = conn.image.find_image("Featured-Ubuntu22", ignore_missing=False)
    flavor = conn.compute.find_flavor("m3.small", ignore_missing=False)
    server = conn.compute.wait_for_server(
        conn.compute.create_server(name="metered", image_id=image.id, flavor_id=flavor.id, networks="auto"),
        interval=0.05,
        wait=10,
    )
    try:
        before = dt.datetime.now(dt.timezone.utc)
        su = Sandbox().metered_su(server)
        since = (
            dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(str(server.created_at).replace("Z", "+00:00"))
        ).total_seconds() / 3600
        assert 0 < su <= su_per_hour("m3.small") * (since + 1 / 3600)
        assert Sandbox().metered_su(SimpleNamespace(id="no-such-server", created_at=before.isoformat())) == 0.0
    finally:
        conn.compute.delete_server(server)


def test_sandbox_measures_no_store_directly():
    """Client code asks the APIs: nothing outside the sandbox package reads its store or its metering."""
    offending = [
        path
        for path, text in _modules()
        if not path.startswith(SERVER)
        and any(word in text for word in ("server_usage(", "sandbox.store", "sandbox.metering"))
    ]
    assert not offending, offending


# --- the live backend ----------------------------------------------------------------------------------
def test_live_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    backend = Live()
    with pytest.raises(MissingPiece, match="needs OS_CLOUD"):
        backend.cloud_name()
    with pytest.raises(MissingPiece, match="operator credentials"):
        backend.connect(admin=True)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(MissingPiece, match="kubeconfig"):
        backend.cluster()
    (tmp_path / "kube").write_text("apiVersion: v1\n")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kube"))
    assert backend.cluster() == tmp_path / "kube"
    backend.require("01")  # the GPU is skipped cell by cell, not required up front


def test_live_refuses_the_sandboxs_own_clouds_yaml(monkeypatch, tmp_path):
    from lab_helpers.backends.live import config_file_is_sandbox

    theirs = tmp_path / "mine" / "clouds.yaml"
    theirs.parent.mkdir()
    theirs.write_text("clouds:\n  sandbox:\n    auth: {}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(theirs))
    monkeypatch.setenv("OS_CLOUD", "sandbox")
    assert config_file_is_sandbox()
    with pytest.raises(MissingPiece, match="points at the sandbox"):
        Live().connect()
    theirs.write_text("clouds:\n  js2:\n    auth: {}\n")
    assert not config_file_is_sandbox()


def test_live_without_a_gpu_runs_on_numpy_and_says_why(monkeypatch, capsys):
    import numpy

    from lab_helpers.gpu import device

    monkeypatch.setattr(device, "cupy_or_reason", lambda: (None, "no NVIDIA GPU was detected"))
    assert device.array_module(Live()) is numpy
    out = capsys.readouterr().out
    assert out.startswith("skipped: the GPU") and "no NVIDIA GPU was detected" in out and "NumPy" in out


def test_live_skips_ssh_to_unroutable_addresses_without_connecting(capsys):
    backend = Live()
    assert "reserved for documentation" in backend.ssh_skip_reason("203.0.113.7")
    assert backend.ssh_skip_reason("149.165.150.10") == "" and backend.login_note("149.165.150.10") == ""
    assert backend.login_note("192.0.2.9").startswith("  (skipped:")
    volume = SimpleNamespace(id="v1", name="data", status="in-use")
    server = SimpleNamespace(address="198.51.100.3", private_key=Path("key"), server=SimpleNamespace(id="s", name="vm"))
    result, reason = backend.measure_volume(None, volume, server=server, params={}, user="ubuntu", timeout_s=1)
    assert result is None and "needs ssh to a VM the cloud handed out" in reason
    assert "skipped: measuring volume data" in capsys.readouterr().out
    with pytest.raises(MissingPiece, match="over ssh"):
        backend.measure_volume(None, volume, server=None, params={}, user="ubuntu", timeout_s=1)


def test_live_submits_only_where_sbatch_is(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Live().can_submit_jobs() is False
    assert "needs a Delta login node" in capsys.readouterr().out
    assert Live().slurm_cluster_options() == {}


def test_live_meters_from_launch_time():
    launched = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).replace(tzinfo=None).isoformat()
    server = SimpleNamespace(launched_at=launched, flavor={"original_name": "m3.small"}, status="ACTIVE")
    from lab_helpers.resources.cost import su_per_hour, su_so_far

    assert su_so_far(Live(), server) == pytest.approx(2 * su_per_hour("m3.small"), rel=1e-3)
    assert su_so_far(Live(), SimpleNamespace(launched_at=None)) == 0.0


def test_the_grading_worker_reads_the_backend_from_its_job(monkeypatch):
    from lab_helpers.grading.worker import _start_sandbox

    events = []
    log = SimpleNamespace(write=lambda **e: events.append(e))
    monkeypatch.setenv("LAB_BACKEND", "sandbox")
    _start_sandbox({"state_source": "x", "backend": "live", "run_dir": "/nonexistent"}, log)
    assert events == []  # a live job starts no sandbox, whatever the worker's environment says
