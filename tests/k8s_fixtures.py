"""Fixtures for the sandbox Kubernetes tests: the pinned kubectl and helm (installed once per test
module, as `lab tools install` installs them), and one fresh sandbox per test module with the
real clients pointed at it.

``k8s_tools`` is registered in conftest.py; import ``kube`` (and ``cluster``) into a test module.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

POD_START_S = "0.2"  # how long a pod stays ContainerCreating in tests


@pytest.fixture(scope="module")
def k8s_tools(tmp_path_factory) -> Path:
    """The folder holding the pinned ``kubectl`` and ``helm``, one per test module: tests hard-link them
    into kernels' folders and change those links' modes, which a folder shared by the session would see."""
    from lab_helpers.tools import install

    dest = tmp_path_factory.mktemp("k8s-tools")
    install(dest)
    return dest


@dataclass
class Kube:
    """A running sandbox and the environment the real clients need to reach its Kubernetes API."""

    state: Path
    kubeconfig: Path
    env: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)

    def run(self, tool: str, *args: str, check: bool = True, timeout: float = 60, input: str | None = None):
        """Run ``kubectl``/``helm`` with this sandbox's kubeconfig; a failure shows its output."""
        done = subprocess.run([tool, *args], env=self.env, capture_output=True, text=True, timeout=timeout, input=input)
        if check and done.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def kubectl(self, *args: str, **kw):
        return self.run("kubectl", *args, **kw)

    def helm(self, *args: str, **kw):
        return self.run("helm", *args, **kw)

    def api_client(self, context: str = "sandbox"):
        """A kubernetes-client ApiClient for this sandbox (``sandbox`` = learner, ``sandbox-admin``)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=context)


@pytest.fixture(scope="module")
def kube(tmp_path_factory, k8s_tools) -> Kube:
    state = tmp_path_factory.mktemp("kube-state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_STATE_DIR", str(state))
        mp.setenv("LAB_SANDBOX_BOOT_S", "0.2")
        mp.setenv("LAB_POD_START_S", POD_START_S)
        for var in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "LAB_BACKEND", "KUBECONFIG"):
            mp.delenv(var, raising=False)
        from lab_helpers import sandbox as sb

        status = sb.start()
        root = state / "sandbox"
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{k8s_tools}{os.pathsep}{env.get('PATH', '')}",
                "KUBECONFIG": str(root / "kubeconfig"),
                "KUBECACHEDIR": str(state / "kube-cache"),
                "HELM_CACHE_HOME": str(state / "helm" / "cache"),
                "HELM_CONFIG_HOME": str(state / "helm" / "config"),
                "HELM_DATA_HOME": str(state / "helm" / "data"),
                "HOME": str(state),
            }
        )
        try:
            yield Kube(state, root / "kubeconfig", env, dict(status.urls))
        finally:
            sb.stop()


# -- a cluster to schedule pods on ---------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(kube) -> list[str]:
    """The default cluster, made as a learner makes it (``lab cluster create``: one control-plane VM,
    two workers), every node Ready. Returns the node names."""
    import sys

    from kubernetes import client

    done = subprocess.run(
        [sys.executable, "-m", "lab_helpers", "cluster", "create"],
        env=kube.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise AssertionError(f"lab cluster create exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    nodes = client.CoreV1Api(kube.api_client("sandbox-admin")).list_node().items
    ready = [
        n.metadata.name for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
    ]
    # the command returns once every node is Ready
    assert len(nodes) == 3 and len(ready) == 3, [(n.metadata.name, n.status.conditions) for n in nodes]
    return sorted(ready)


# -- transcripts: commands, exit codes and the output lines that stay the same run to run ---------

TRANSCRIPTS = Path(__file__).parent / "k8s_transcripts"


@dataclass
class Expect:
    """One expectation on a step's output lines: a literal line, a regex, or their absence."""

    kind: str  # "line", "re", "no-line", "no-re"
    text: str

    def matches(self, line: str) -> bool:
        import re

        line = line.rstrip()  # tables end in padding (helm's in tabs and spaces)
        if self.kind in ("line", "no-line"):
            return line == self.text
        return re.search(self.text, line) is not None


@dataclass
class Step:
    """A shell command (run by bash, stdout and stderr together) and what it must show."""

    command: str
    line: int  # where it starts in its transcript file
    exit: int | None = 0  # None: any exit code
    expect: list[Expect] = field(default_factory=list)
    within: float = 0.0  # run it again until it matches, for up to this many seconds
    timeout: float = 120.0

    def problems(self, rc: int | None, output: str) -> list[str]:
        """What differs (empty when the step passed). Each positive expectation takes a line of its own."""
        out = []
        if rc is None:
            out.append(f"timed out after {self.timeout:g} s")
        elif self.exit is not None and rc != self.exit:
            out.append(f"exit code {rc}, expected {self.exit}")
        lines = output.splitlines()
        used: set[int] = set()
        for exp in self.expect:
            if exp.kind.startswith("no-"):
                bad = [ln for ln in lines if exp.matches(ln)]
                if bad:
                    out.append(f"unexpected line {bad[0]!r} (matches {exp.text!r})")
                continue
            hit = next((i for i, ln in enumerate(lines) if i not in used and exp.matches(ln)), None)
            if hit is None:
                out.append(f"no line {'matches' if exp.kind == 're' else 'equals'} {exp.text!r}")
            else:
                used.add(hit)
        return out


def parse_transcript(text: str) -> dict[str, list[Step]]:
    """Sections of a transcript file, in order.

    ``## name`` starts a section; ``$ command`` a step (``> `` lines continue it, as in a shell);
    ``@ exit N`` (or ``@ exit any``), ``@ within S`` and ``@ timeout S`` set the step's exit code,
    retry time and time limit; ``~ regex`` and plain lines are output the step must show (each on
    a line of its own), ``!~ regex`` and ``! line`` output it must not; ``= text`` is a plain line
    that starts with one of these marks; ``#`` lines are comments.
    """
    sections: dict[str, list[Step]] = {}
    steps: list[Step] | None = None
    step: Step | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\n")
        if line.startswith("## "):
            steps = sections.setdefault(line[3:].strip(), [])
            step = None
        elif not line.strip() or line.startswith("#"):
            continue
        elif steps is None:
            raise ValueError(f"line {number}: outside a section: {line!r}")
        elif line.startswith("$ "):
            step = Step(line[2:], number)
            steps.append(step)
        elif step is None:
            raise ValueError(f"line {number}: expectation before any command: {line!r}")
        elif line.startswith("> ") or line == ">":
            step.command += "\n" + line[2:]
        elif line.startswith("@ "):
            key, _, value = line[2:].partition(" ")
            if key == "exit":
                step.exit = None if value.strip() == "any" else int(value)
            elif key == "within":
                step.within = float(value)
            elif key == "timeout":
                step.timeout = float(value)
            else:
                raise ValueError(f"line {number}: unknown directive {key!r}")
        elif line.startswith("!~ "):
            step.expect.append(Expect("no-re", line[3:]))
        elif line.startswith("! "):
            step.expect.append(Expect("no-line", line[2:]))
        elif line.startswith("~ "):
            step.expect.append(Expect("re", line[2:]))
        elif line.startswith("= "):
            step.expect.append(Expect("line", line[2:]))
        else:
            step.expect.append(Expect("line", line))
    return sections


def load_transcript(name: str) -> dict[str, list[Step]]:
    return parse_transcript((TRANSCRIPTS / name).read_text(encoding="utf-8"))


class Transcript:
    """Runs transcript steps in order against one sandbox, keeping everything shown so far: a step
    that differs fails with the whole transcript up to it."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.log: list[str] = []

    def _exec(self, step: Step) -> tuple[int | None, str, float]:
        import signal
        import time

        t = time.monotonic()
        proc = subprocess.Popen(
            ["bash", "-c", step.command],
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=step.timeout)
            rc: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            rc = None
        return rc, out, time.monotonic() - t

    def run(self, title: str, steps: list[Step]) -> None:
        import time

        self.log.append(f"## {title}")
        for step in steps:
            deadline = time.monotonic() + step.within
            tries = 0
            while True:
                tries += 1
                rc, out, secs = self._exec(step)
                problems = step.problems(rc, out)
                if not problems or time.monotonic() >= deadline:
                    break
                time.sleep(0.3)
            shown = "\n".join("> " + ln for ln in step.command.splitlines()[1:])
            head = f"$ {step.command.splitlines()[0]}" + (f"\n{shown}" if shown else "")
            note = f"[exit {rc}, {secs:.2f} s" + (f", try {tries}" if tries > 1 else "") + "]"
            self.log.append(f"{head}\n{out.rstrip()}\n{note}")
            if problems:
                where = f"line {step.line} of section {title!r}"
                raise AssertionError(
                    f"transcript step at {where} differs: " + "; ".join(problems) + "\n\n" + "\n".join(self.log)
                )
