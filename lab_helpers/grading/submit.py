"""``lab submit``: stamp the learner's notebook with who, which lab version and which backend."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .key import SUBMISSION_META, lab_version


@dataclass(frozen=True)
class Stamp:
    learner: str
    lab: str
    lab_version: str
    backend: str
    submitted_at: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def course_version(lab_number: str) -> str:
    """The version hash of the lab as this course release hands it out."""
    import nbformat

    from ..catalog import find_lab
    from ..notebooks.authoring import learner_version

    return lab_version(learner_version(nbformat.read(find_lab(lab_number).path, as_version=4)))


def read_stamp(nb) -> Stamp | None:
    raw = nb.metadata.get(SUBMISSION_META)
    if not isinstance(raw, dict):
        return None
    try:
        return Stamp(**{k: str(raw[k]) for k in Stamp.__dataclass_fields__})
    except KeyError:
        return None


def submit(
    lab: str, notebook: Path | str | None = None, out: Path | str | None = None, backend: str | None = None
) -> Path:
    """Write ``NN-slug.submission.ipynb``: the learner's notebook with a submission stamp."""
    import nbformat

    from ..catalog import find_lab
    from ..config import learner_id, resolve_backend, workspace_dir

    info = find_lab(lab)
    path = Path(notebook) if notebook else workspace_dir() / info.path.name
    if not path.exists():
        raise UsageError(
            f"no notebook at {path}.", hint="Pass the notebook you worked in: lab submit NN --notebook PATH."
        )
    nb = nbformat.read(path, as_version=4)
    released = nb.metadata.get("visualizing_compute", {}).get("version")
    stamp = Stamp(
        learner=learner_id(),
        lab=info.number,
        lab_version=str(released or course_version(info.number)),
        backend=resolve_backend(backend),
        submitted_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    nb.metadata[SUBMISSION_META] = stamp.as_dict()
    target = Path(out) if out else Path.cwd() / f"{info.name}.submission.ipynb"
    if target.is_dir() or target.suffix != ".ipynb":  # a folder, existing or not
        target = target / f"{info.name}.submission.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target
