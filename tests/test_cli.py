"""The `lab` command as a learner meets it: help, errors, exit codes."""

import subprocess

import pytest
from conftest import lab_command

from lab_helpers.cli import build_parser


def lab(*args, env=None):
    return subprocess.run(lab_command() + list(args), capture_output=True, text=True, timeout=120, env=env)


def _commands(parser, prefix=()):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield prefix + (name,)
                yield from _commands(sub, prefix + (name,))


def test_core_commands_are_registered():
    names = {" ".join(c) for c in _commands(build_parser())}
    assert {"list", "run", "start", "doctor"} <= names


@pytest.mark.parametrize("command", [" ".join(c) for c in _commands(build_parser())])
def test_every_command_has_help(command):
    out = lab(*command.split(), "--help")
    assert out.returncode == 0 and "usage: lab" in out.stdout


def test_list_shows_every_lab_with_progress():
    out = lab("list")
    assert out.returncode == 0
    first = out.stdout.splitlines()[0]
    assert first.startswith("00  Start here") and "min" in first and "checks" in first


@pytest.mark.parametrize(
    "args, says",
    [
        (["run", "42"], "unknown lab '42'. Valid labs: 00"),
        (["run", "--backend", "aws"], "unknown backend 'aws'. Valid backends: sandbox, live"),
        (["start", "--backend", "aws"], "unknown backend 'aws'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, says):
    out = lab(*args)
    assert out.returncode == 2
    assert says in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_live_without_credentials_fails_fast(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(HOME=str(tmp_path), KUBECONFIG=str(tmp_path / "none"))
    out = lab("run", "03", "--backend", "live", env=env)
    if "unknown lab" in out.stderr:
        pytest.skip("lab 03 is not written yet")
    assert out.returncode == 2 and "clouds.yaml" in out.stderr and "Traceback" not in out.stderr


def test_doctor_reports_and_exits_zero():
    out = lab("doctor")
    assert out.returncode == 0
    for piece in ("NVIDIA GPU", "CuPy", "clouds.yaml", "kubeconfig", "`helm`", "`git`"):
        assert piece in out.stdout
    assert "fix:" in out.stdout  # at least one missing piece here (no GPU) comes with its fix


def test_doctor_never_prints_a_credential_value(tmp_path):
    import os

    secret = "s3cr3t-value-that-must-not-appear"
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  openstack:\n    auth:\n      application_credential_secret: " + secret + "\n"
    )
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(tmp_path / "clouds.yaml"), "OS_CLOUD": "openstack"}
    out = lab("doctor", env=env)
    assert out.returncode == 0 and secret not in out.stdout + out.stderr
    assert "[ok] clouds.yaml" in out.stdout


def test_run_reports_the_failing_cell(tmp_path, monkeypatch):
    """A lab that raises: non-zero exit naming the lab, the cell index and the error."""
    import nbformat

    from lab_helpers.catalog import Lab
    from lab_helpers.notebooks.runner import run_lab

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell('BACKEND = "sandbox"', metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("1 / 0"),
        ]
    )
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "98-broken.ipynb"
    nbformat.write(nb, path)
    result = run_lab(Lab("98", "broken", "Broken", 1, path), out_dir=tmp_path / "out")
    assert not result.ok and result.cell_index == 2 and "ZeroDivisionError" in result.error
    assert "98" in result.line() and "cell 2" in result.line()


def test_doctor_warns_when_live_would_read_the_sandbox_credentials(tmp_path):
    import os

    state = tmp_path / "state"
    (state / "sandbox").mkdir(parents=True)
    (state / "sandbox" / "clouds.yaml").write_text("clouds: {}\n")
    env = {
        **os.environ,
        "LAB_STATE_DIR": str(state),
        "LAB_BACKEND": "live",
        "OS_CLIENT_CONFIG_FILE": str(state / "sandbox" / "clouds.yaml"),
    }
    out = lab("doctor", env=env)
    assert out.returncode == 0
    assert "[!!] OS_CLIENT_CONFIG_FILE" in out.stdout and "unset OS_CLIENT_CONFIG_FILE" in out.stdout
    env["LAB_BACKEND"] = "sandbox"
    assert "[!!] OS_CLIENT_CONFIG_FILE" not in lab("doctor", env=env).stdout


LIST_LINE = r"^(\d\d)  (\S.*?) +(\d+) min  (?:(\d+)/(\d+) checks|no checks)$"


def test_list_keeps_its_line_format_for_scripts():
    """`NN  Title  M min  P/T checks`: scripts parse these lines; one per lab, in order."""
    import re

    from lab_helpers.catalog import all_labs

    labs = all_labs()
    out = lab("list")
    assert out.returncode == 0
    lines = out.stdout.splitlines()[: len(labs)]
    for line, info in zip(lines, labs, strict=True):
        m = re.match(LIST_LINE, line)
        assert m, f"`lab list` line changed format: {line!r}"
        assert (m.group(1), m.group(2), int(m.group(3))) == (info.number, info.title, info.minutes)


def test_list_into_a_closed_pipe_is_quiet(tmp_path):
    import os
    import sys

    done = subprocess.run(
        f"{sys.executable} -m lab_helpers list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LAB_STATE_DIR": str(tmp_path)},
    )
    assert done.stdout.startswith("00  ") and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["run", "9"],
        ["run", "9", "--mine"],
        ["cleanup", "--lab", "9", "--dry-run"],
        ["cleanup", "--lab", "banana", "--dry-run", "--backend", "sandbox"],
        ["submit", "9"],
        ["release", "9", "--out", "REL"],
        ["grade", "--lab", "9", "--key", "KEY", "--out", "OUT", "SUB"],
        ["grade", "--lab", "9", "--key", "KEY", "--out", "OUT", "--only-check", "09.x"],
    ],
)
def test_an_unknown_lab_is_an_error_for_every_command_that_takes_one(args, tmp_path):
    args = [str(tmp_path / a) if a in ("REL", "KEY", "OUT", "SUB") else a for a in args]
    out = lab(*args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "unknown lab" in out.stderr and "Valid labs: 00, 01" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "nothing to clean up" not in out.stdout
    assert not (tmp_path / "REL").exists() and not (tmp_path / "OUT").exists()


def _progress(state):
    import json

    path = state / "progress" / "00.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.timeout(300)
def test_run_records_progress_only_for_the_learners_own_copy(tmp_path):
    """`lab run 00` runs the solved source: it passes every check, and none of that is the learner's.

    Also: the kernels a run starts do not print the unencrypted-TCP warning."""
    import os

    state = tmp_path / "state"
    env = {**os.environ, "LAB_STATE_DIR": str(state), "LAB_WORKSPACE": str(state / "ws")}
    solved = lab("run", "00", "--quiet", env=env)
    assert solved.returncode == 0, solved.stderr
    assert "the solved source notebook" in solved.stderr and "00-start-here.ipynb" in solved.stderr
    assert "not recorded as your progress" in solved.stdout and "--mine" in solved.stdout
    assert "without encryption" not in solved.stdout + solved.stderr
    assert _progress(state) == {}
    assert "  0/" in lab("list", env=env).stdout.splitlines()[0]

    learner = lab("run", "00", "--learner", "--quiet", env=env)
    assert learner.returncode == 0 and "learner version" in learner.stderr and _progress(state) == {}

    assert lab("start", "--prepare", env=env).returncode == 0
    mine = lab("run", "00", "--mine", "--quiet", env=env)
    assert mine.returncode == 0, mine.stderr
    assert "your own working copy" in mine.stderr and str(state / "ws" / "00-start-here.ipynb") in mine.stderr
    assert "recorded as your progress" in mine.stdout and "not recorded" not in mine.stdout
    recorded = _progress(state)
    assert recorded and all(name.startswith("00.") for name in recorded)
    assert {r["status"] for r in recorded.values()} <= {"not done", "to be graded"}  # the copy is unanswered


def test_run_mine_without_a_working_copy_says_how_to_make_one(tmp_path):
    import os

    env = {**os.environ, "LAB_STATE_DIR": str(tmp_path), "LAB_WORKSPACE": str(tmp_path / "ws")}
    out = lab("run", "00", "--mine", env=env)
    assert out.returncode == 2 and "lab start" in out.stderr and "Traceback" not in out.stderr


def test_run_kernels_use_transport_encryption_where_supported():
    import zmq
    from jupyter_client.manager import KernelManager

    from lab_helpers.notebooks.runner import kernel_config

    config = kernel_config()
    if "transport_encryption" in KernelManager.class_traits() and zmq.has("curve"):
        assert config.KernelManager.transport_encryption == "auto"
        assert KernelManager(config=config, kernel_name="python3").transport_encryption == "auto"
    else:
        assert "transport_encryption" not in config.get("KernelManager", {})
