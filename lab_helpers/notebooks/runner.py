"""Run labs headless with papermill: parameters injected, progress shown, failures located.

A failure names the lab, the cell index and the error, the way papermill's own
``PapermillExecutionError`` does, and never hangs: every cell has a timeout (papermill#125).

Which notebook runs is always said, and only a run of the learner's own working copy counts as
their progress: the solved source passes every check, and recording that would tell ``lab list``
the learner had done the work. The kernels started here talk to papermill over CurveZMQ where
both ends support it, so there is nothing unencrypted to warn about.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..backends import Backend, resolve
from ..catalog import Lab

DEFAULT_CELL_TIMEOUT_S = 600
NO_PROGRESS_ENV = "LAB_RECORD_PROGRESS"  # "0": check() in the kernel records nothing

Notebook = Literal["source", "learner", "mine"]
DESCRIBE: dict[str, str] = {
    "source": "the solved source notebook",
    "learner": "a fresh learner version, solutions removed",
    "mine": "your own working copy",
}


def counts_as_progress(notebook: str) -> str:
    """The words ``lab run`` uses for whether a run of ``notebook`` is recorded."""
    return "its checks are recorded as your progress" if notebook == "mine" else "not recorded as your progress"


@dataclass
class RunResult:
    lab: str
    title: str
    ok: bool
    seconds: float
    output: Path
    cell_index: int | None = None
    error: str = ""
    notebook: str = "source"  # which notebook ran: source, learner or mine
    ran: Path | None = None

    def line(self) -> str:
        if self.ok:
            return f"{self.lab}  ok      {self.seconds:6.1f} s  {self.title}"
        where = f"cell {self.cell_index}" if self.cell_index is not None else "before any cell"
        return f"{self.lab}  FAILED  {self.seconds:6.1f} s  {self.title}: {where}: {self.error}"


def _learner_copy(lab: Lab, folder: Path) -> Path:
    import nbformat

    from .authoring import learner_version

    nb = nbformat.read(lab.path, as_version=4)
    path = folder / f"{lab.name}.learner.ipynb"
    nbformat.write(learner_version(nb), path)
    return path


def transport_encryption_supported() -> bool:
    """Whether jupyter_client can provision CurveZMQ keys for kernels (``transport_encryption``)."""
    try:
        import zmq
        from jupyter_client.manager import KernelManager
    except ImportError:  # pragma: no cover - both come with papermill
        return False
    return "transport_encryption" in KernelManager.class_traits() and bool(zmq.has("curve"))


def kernel_config():
    """Traitlets config for the kernels a run starts: CurveZMQ transport encryption where
    jupyter_client can provision it ("auto": when the kernel declares support)."""
    from traitlets.config import Config

    config = Config()
    if transport_encryption_supported():
        config.KernelManager.transport_encryption = "auto"
    return config


@contextlib.contextmanager
def kernel_environment(**values: str | None) -> Iterator[None]:
    """Settings for the kernels started inside the block (None: unset), which inherit this process's
    environment (papermill has no other way in); restored afterwards. Nothing in this process reads them."""
    old = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_lab(
    lab: Lab,
    *,
    backend: Backend | str | None = None,
    out_dir: Path | None = None,
    learner: bool = False,
    notebook: Notebook | None = None,
    mine: Path | None = None,
    progress: bool = False,
    cell_timeout_s: int = DEFAULT_CELL_TIMEOUT_S,
    parameters: dict | None = None,
    kernel_env: dict[str, str | None] | None = None,
) -> RunResult:
    """Execute ``lab`` top to bottom: its solved ``source`` (the default), a fresh ``learner``
    version, or the learner's own working copy (``mine``, at ``mine`` or in the workspace), the
    only one whose checks are recorded as progress. ``backend`` (default: ``LAB_BACKEND``, else the
    sandbox) is injected as the ``BACKEND`` parameter; ``kernel_env`` adds settings for the kernel."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    kind: Notebook = notebook or ("learner" if learner else "source")
    out_dir = Path(out_dir or tempfile.mkdtemp(prefix="lab-run-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    if kind == "mine":
        from .workspace import working_copy

        source = Path(mine) if mine else working_copy(lab.path.name)
        output, cwd = out_dir / f"{lab.name}.mine.out.ipynb", source.parent
    elif kind == "learner":
        source, output, cwd = _learner_copy(lab, out_dir), out_dir / f"{lab.name}.learner.out.ipynb", out_dir
    else:
        source, output, cwd = lab.path, out_dir / f"{lab.name}.out.ipynb", out_dir
    params = {"BACKEND": resolve(backend).name, **(parameters or {})}
    started = time.perf_counter()
    try:
        with kernel_environment(**{**(kernel_env or {}), NO_PROGRESS_ENV: None if kind == "mine" else "0"}):
            pm.execute_notebook(
                str(source),
                str(output),
                parameters=params,
                kernel_name="python3",
                progress_bar=progress,
                cwd=str(cwd),
                execution_timeout=cell_timeout_s,
                config=kernel_config(),
            )
    except PapermillExecutionError as exc:
        return RunResult(
            lab.number,
            lab.title,
            False,
            time.perf_counter() - started,
            output,
            exc.cell_index,
            f"{exc.ename}: {exc.evalue}",
            kind,
            source,
        )
    except Exception as exc:  # kernel died, timeout, missing kernel
        return RunResult(
            lab.number,
            lab.title,
            False,
            time.perf_counter() - started,
            output,
            None,
            f"{type(exc).__name__}: {exc}",
            kind,
            source,
        )
    return RunResult(lab.number, lab.title, True, time.perf_counter() - started, output, notebook=kind, ran=source)
