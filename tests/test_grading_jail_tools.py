"""What a graded kernel gets for lab 05's terminal cells: a devpts instance of its own jail (never the
host's terminals) and the grader's pinned kubectl and helm, read-only, found by ``install()`` without a
download (the kernel has no network). Both in the grader's own namespaces and as a grading pod makes
them (an unprivileged user's namespace)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab_helpers.grading import isolation
from lab_helpers.grading.jail import JailSpec, environment_paths

needs_namespaces = pytest.mark.skipif(not isolation.namespaces_available()[0], reason="no namespaces here")
MODES = [pytest.param(False, id="grader-as-root"), pytest.param(True, id="user-namespace-as-in-a-pod")]

# what a `!kubectl ...` cell does: IPython's system() runs the command on a pty through pexpect
KERNEL = r"""
import json, os, subprocess
import pexpect
from lab_helpers.errors import MissingPiece
from lab_helpers.tools import install
seen = {"pts_dev": os.stat("/dev/pts").st_dev, "ptmx": os.readlink("/dev/ptmx")}
child = pexpect.spawn("/bin/sh", ["-c", "tty; ls /dev/pts"])
child.expect(pexpect.EOF)
seen["terminal"] = child.before.decode().split()
try:
    tools = install()
except MissingPiece as exc:
    seen["missing"] = f"{exc} | {exc.hint}"
else:
    kubectl = pexpect.spawn(str(tools["kubectl"]), ["version", "--client"])
    kubectl.expect(pexpect.EOF)
    seen["kubectl"] = kubectl.before.decode()
    seen["listed"] = sorted(os.listdir(os.environ["LAB_TOOLS_DIR"]))
    try:
        with open(tools["kubectl"], "ab"):
            seen["written"] = True
    except OSError as exc:
        seen["written"] = exc.strerror
print(json.dumps(seen))
"""


def _jailed_kernel(tmp_path: Path, tools: Path, *, user: bool) -> dict:
    """Run KERNEL as the grader starts a kernel: its namespaces, the launcher, a fresh root, uid 65534."""
    tmp_path.mkdir(mode=0o711)
    run, base = tmp_path / "run", tmp_path / "base"
    run.mkdir()
    base.mkdir(mode=0o700)
    if not user:  # an unprivileged grader's own folder is already its kernel's
        os.chown(run, isolation.NOBODY_UID, isolation.NOBODY_UID)
    env = {**os.environ, "LAB_TOOLS_DIR": str(tools), "HOME": str(run)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_TOOLS_DIR", str(tools))  # the worker's environment: what the jail binds
        ro, empty = environment_paths()
    JailSpec(str(base), ro, [str(run)], empty).save(base / "jail.json")
    launcher = [sys.executable, "-m", "lab_helpers.grading.kernel_launcher", "--jail", str(base / "jail.json")]
    launcher += ["--uid", str(isolation.NOBODY_UID), "--home", str(run), "--", sys.executable, "-c", KERNEL]
    done = subprocess.run(
        [*isolation.namespace_prefix(user), *launcher],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=run,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_namespaces
@pytest.mark.parametrize("user", MODES)
def test_a_kernel_gets_its_own_terminals_and_the_graders_tools_read_only(tmp_path, k8s_tools, user):
    private = tmp_path / "grader-tools"  # 0700, as pytest's and root's folders are: only the two files show
    private.mkdir(mode=0o700)
    for name in ("kubectl", "helm"):
        os.link(k8s_tools / name, private / name)
    (private / "notes.txt").write_text("not the kernel's business")
    seen = _jailed_kernel(tmp_path / "jail", private, user=user)
    assert seen["terminal"] == ["/dev/pts/0", "0", "ptmx"]  # the first pty of a fresh instance, and nobody else's
    assert seen["ptmx"] == "pts/ptmx"
    assert seen["pts_dev"] != os.stat("/dev/pts").st_dev  # not the host's devpts
    assert "Client Version: v1.35.2" in seen["kubectl"]
    assert seen["listed"] == ["helm", "kubectl"]
    assert seen["written"] in ("Read-only file system", "Permission denied")


@needs_namespaces
def test_a_tools_folder_without_the_pinned_tools_is_named_and_nothing_is_downloaded(tmp_path, k8s_tools):
    partial = tmp_path / "grader-tools"
    partial.mkdir()
    os.link(k8s_tools / "kubectl", partial / "kubectl")
    (partial / "helm").write_bytes(b"#!/bin/sh\necho not the pinned helm\n")
    (partial / "helm").chmod(0o755)
    seen = _jailed_kernel(tmp_path / "jail", partial, user=False)
    assert "LAB_TOOLS_DIR" in seen["missing"] and "lacks the pinned helm" in seen["missing"]
    assert "cannot be written (" in seen["missing"] and "lab tools install" in seen["missing"]
    assert "pip" not in seen["missing"]  # it did not try to download into the kernel's root


def test_install_uses_a_read_only_tools_folder_as_it_is(tmp_path, monkeypatch, k8s_tools):
    from lab_helpers.tools import install, tools_dir

    install_module = importlib.import_module("lab_helpers.tools.install")  # the module, not its function
    monkeypatch.setenv("LAB_TOOLS_DIR", str(k8s_tools))

    def no_download(*args, **kwargs):
        raise AssertionError(f"install() ran {args[0] if args else kwargs}")

    monkeypatch.setattr(install_module.subprocess, "run", no_download)
    assert tools_dir() == k8s_tools
    assert install() == {"kubectl": k8s_tools / "kubectl", "helm": k8s_tools / "helm"}


def test_a_grader_hands_its_tools_to_kernels_only_when_they_verify(tmp_path, monkeypatch, k8s_tools):
    from lab_helpers.grading.execute import grader_tools

    folder = tmp_path / "tools"
    folder.mkdir()
    os.link(k8s_tools / "kubectl", folder / "kubectl")
    monkeypatch.setenv("LAB_TOOLS_DIR", str(folder))
    assert grader_tools() is None  # no helm: the kernel gets no LAB_TOOLS_DIR, and install() says why
    os.link(k8s_tools / "helm", folder / "helm")
    assert grader_tools() == folder.resolve()
