"""What ``lab grade`` does: grade a batch, regrade one submission or one check, merge manual points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import SANDBOX, resolve_backend
from ..errors import UsageError
from .gradebook import Gradebook
from .isolation import Limits
from .key import LabKey
from .pipeline import collect, grade_batch, make_settings


def _title(lab: str) -> str:
    from ..catalog import find_lab

    try:
        return find_lab(lab).title
    except UsageError:
        return f"Lab {lab}"


def open_gradebook(out: Path, key: LabKey, log: Callable[[str], None]) -> Gradebook:
    """The gradebook in ``out`` (a new one for ``key`` when there is none), checked to be this lab's."""
    gradebook = Gradebook.load(out) if (out / "gradebook.json").exists() else Gradebook.for_key(key, _title(key.lab))
    if gradebook.lab != key.lab:
        raise UsageError(
            f"{out} holds the gradebook of lab {gradebook.lab}, not lab {key.lab}.",
            hint="Use one output folder per lab.",
        )
    if gradebook.version != key.version:
        log(f"WARNING: the gradebook was made with key version {gradebook.version}; now {key.version}")
        gradebook.version, gradebook.columns = key.version, key.columns()
        gradebook.max_points = {c: key.points_of(c) for c in key.columns()}
    return gradebook


def grade(
    lab: str,
    key_dir: Path | str,
    out: Path | str,
    submissions: list[str],
    *,
    jobs: int = 1,
    limits: Limits | None = None,
    allow_network: bool = False,
    backend: str = SANDBOX,
    progress: bool = True,
) -> Gradebook:
    """Grade ``submissions`` (files or folders) into ``out``; an existing gradebook there is updated."""
    out = Path(out)
    files = collect(submissions)
    backend = resolve_backend(backend)  # an unknown name stops here, before any submission runs
    settings = make_settings(
        lab, key_dir, out, limits=limits or Limits(), allow_network=allow_network, backend=backend, submissions=files
    )
    gradebook = open_gradebook(out, settings.key, settings.log)
    for g in grade_batch(files, settings, jobs=jobs, progress=progress):
        gradebook.upsert(g)
    gradebook.write_all(out)
    settings.log(f"wrote {out / 'grades.csv'} ({len(gradebook.grades)} rows)")
    return gradebook


def regrade_check(
    lab: str, key_dir: Path | str, out: Path | str, check: str, submissions: list[str] | None = None
) -> Gradebook:
    """Judge ``check`` again from the answers already captured (no execution), e.g. after fixing a judge."""
    from .hidden import load_hidden
    from .judge import judge_check
    from .key import load_key

    out = Path(out)
    key = load_key(key_dir, lab)
    gradebook = Gradebook.load(out)
    name = check.split(":", 1)[0]  # a column (NN.check:hidden, :state, :cleanup) names its check
    known = {c.name: c for c in key.checks}
    if name not in known:
        raise UsageError(f"lab {key.lab} has no check {check!r}.", hint=f"Checks: {', '.join(known)}.")
    if known[name].manual:
        raise UsageError(f"{name} is graded by hand.", hint="Change its points in the sheet and run --merge-manual.")
    hidden = load_hidden(key.hidden_source())
    wanted = {str(Path(s).resolve()) for s in submissions or []}
    changed = 0
    for g in gradebook.grades:
        if wanted and str(Path(g.submission).resolve()) not in wanted:
            continue
        lines, notes = judge_check(key, name, g.answers, hidden)
        for line in lines:
            if not line.hidden:
                line.points = known[name].points
        keep = [line for line in g.lines if line.check != name]
        g.lines = keep + lines
        g.lines.sort(key=lambda line: gradebook.columns.index(line.column) if line.column in gradebook.columns else 99)
        g.instructor_notes = [n for n in g.instructor_notes if not n.startswith(name)] + notes
        changed += 1
    gradebook.write_all(out)
    return gradebook
