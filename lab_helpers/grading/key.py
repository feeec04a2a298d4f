"""The grading key of a lab: what the instructor keeps and the learner never sees.

A key is a folder ``KEY/NN-slug/`` holding

- ``key.json``: the lab version hash, the points of every check, which cell answers which
  check and which expressions hold the answer and its context (parsed from the source with
  ``ast``), and the ids of the cells the learner edits;
- ``learner.ipynb``: the released notebook, from which changed or deleted cells are restored;
- ``hidden.py``: the source of the lab's ``hidden-check`` cells, run only in the grader;
- ``rubric.md``: the lab's ``rubric`` cells, what earns each point of a hand-graded check, each
  under a heading naming the check and its points (only when the lab has rubrics).

Submissions are matched to the key by cell id, never by position.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UsageError

KEY_FORMAT = 1
SUBMISSION_META = "visualizing_compute_submission"
RUBRIC_FILE = "rubric.md"
_RUBRIC_MARK = re.compile(r"^<!-- rubric for: (\S+) -->\n## [^\n]*\n", re.MULTILINE)


@dataclass(frozen=True)
class CaptureSpec:
    """Where a check's answer lives: after ``cell_id`` runs, evaluate ``answer`` and ``context``."""

    cell_id: str
    check: str
    answer: str  # a Python expression in the learner's namespace
    context: dict[str, str] = field(default_factory=dict)  # name -> expression; "**N" -> a dict to merge
    pinned: dict[str, object] = field(default_factory=dict)  # context values fixed by the release


@dataclass(frozen=True)
class CheckPoints:
    name: str
    points: float
    manual: bool = False
    hidden: str = ""  # the public spec's description of its hidden part


@dataclass(frozen=True)
class HiddenPoints:
    name: str  # e.g. "00.storage-for:hidden"
    check: str
    points: float
    description: str


@dataclass
class LabKey:
    lab: str
    slug: str
    version: str
    checks: list[CheckPoints]
    hidden: list[HiddenPoints]
    captures: list[CaptureSpec]
    answer_cells: list[str]
    folder: Path | None = None
    format: int = KEY_FORMAT
    rubric_sources: dict[str, str] = field(default_factory=dict)  # check -> markdown; saved as rubric.md only

    @property
    def name(self) -> str:
        return f"{self.lab}-{self.slug}"

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks) + sum(h.points for h in self.hidden)

    def columns(self) -> list[str]:
        """One gradebook column per check, hidden parts after their public check."""
        cols: list[str] = []
        for c in self.checks:
            cols.append(c.name)
            cols.extend(h.name for h in self.hidden if h.check == c.name)
        return cols

    def points_of(self, column: str) -> float:
        for c in self.checks:
            if c.name == column:
                return c.points
        for h in self.hidden:
            if h.name == column:
                return h.points
        raise UsageError(f"lab {self.lab} has no check {column!r}.", hint=f"Checks: {', '.join(self.columns())}.")

    def learner_notebook(self):
        import nbformat

        return nbformat.read(self._file("learner.ipynb"), as_version=4)

    def hidden_source(self) -> str:
        path = self._file("hidden.py")
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def rubrics(self) -> dict[str, str]:
        """The rubric of each hand-graded check that has one: {check name: its markdown}."""
        path = self.rubric_file()
        if path is None:
            return dict(self.rubric_sources)
        text = path.read_text(encoding="utf-8")
        marks = list(_RUBRIC_MARK.finditer(text))
        return {
            m.group(1): text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)].strip()
            for i, m in enumerate(marks)
        }

    def rubric_file(self) -> Path | None:
        """The key's rubric.md, or None when the lab has no rubric (or the key is not saved)."""
        if self.folder is None or not (self.folder / RUBRIC_FILE).is_file():
            return None
        return self.folder / RUBRIC_FILE

    def rubric_text(self) -> str:
        """rubric.md: each rubric under a heading naming its check and its points, in the order of the checks."""
        points = {c.name: c.points for c in self.checks}
        parts = [
            f"# Rubrics of lab {self.lab} ({self.name})\n\n"
            "What earns each point of the checks graded by hand (manual-grading.csv). "
            "This file belongs to the grading key: never hand it out.\n"
        ]
        ordered = [n for n in points if n in self.rubric_sources] + [n for n in self.rubric_sources if n not in points]
        for name in ordered:
            shown = points.get(name)
            worth = f" ({shown:g} point{'' if shown == 1 else 's'})" if shown is not None else ""
            parts.append(f"<!-- rubric for: {name} -->\n## {name}{worth}\n\n{self.rubric_sources[name].strip()}\n")
        return "\n".join(parts)

    def _file(self, name: str) -> Path:
        if self.folder is None:
            raise UsageError("this key has no folder.", hint="Load it with load_key(KEY_DIR, lab).")
        return self.folder / name

    def save(self, folder: Path, learner_nb, hidden_source: str) -> Path:
        import nbformat

        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)  # only the instructor reads the key
        data = asdict(self)
        data.pop("folder")
        data.pop("rubric_sources")  # in rubric.md, for a person to read
        (folder / "key.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        nbformat.write(learner_nb, folder / "learner.ipynb")
        (folder / "hidden.py").write_text(hidden_source, encoding="utf-8")
        if self.rubric_sources:
            (folder / RUBRIC_FILE).write_text(self.rubric_text(), encoding="utf-8")
        else:
            (folder / RUBRIC_FILE).unlink(missing_ok=True)  # a rubric removed since the last release
        for child in folder.iterdir():
            child.chmod(0o600)
        self.folder = folder
        return folder


def load_key(key_dir: Path | str, lab: str) -> LabKey:
    """The key of lab ``lab`` under ``key_dir`` (the ``key/`` folder ``lab release`` wrote)."""
    root = Path(key_dir)
    wanted = f"{int(lab):02d}" if str(lab).isdigit() else str(lab)
    candidates = [root] if (root / "key.json").exists() else sorted(root.glob(f"{wanted}-*/key.json"))
    candidates = [c if c.is_dir() else c.parent for c in candidates]
    if not candidates:
        raise UsageError(
            f"no key for lab {wanted} under {root}.",
            hint="Pass the key/ folder that `lab release --out DIR` wrote (DIR/key).",
        )
    folder = candidates[0]
    data = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    if data.get("format") != KEY_FORMAT:
        raise UsageError(
            f"key {folder.name} has format {data.get('format')!r}, this grader reads {KEY_FORMAT}.",
            hint="Release the lab again with this version of the course.",
        )
    return LabKey(
        lab=data["lab"],
        slug=data["slug"],
        version=data["version"],
        checks=[CheckPoints(**c) for c in data["checks"]],
        hidden=[HiddenPoints(**h) for h in data["hidden"]],
        captures=[CaptureSpec(**c) for c in data["captures"]],
        answer_cells=list(data["answer_cells"]),
        folder=folder,
        format=data["format"],
    )


def lab_version(learner_nb) -> str:
    """A short hash of what the learner received: cell ids, types and sources, in order."""
    digest = hashlib.sha256()
    for cell in learner_nb.cells:
        for part in (cell.get("id", ""), cell.cell_type, cell.source):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def check_calls(source: str) -> list[tuple[str, str, dict[str, str]]]:
    """Each ``check("NN.name", answer, **context)`` call in a cell: (name, answer, context) sources."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        try:  # a cell with IPython syntax (``!git ...``, ``%time``): read it as the kernel runs it
            from IPython.core.inputtransformer2 import TransformerManager

            tree = ast.parse(TransformerManager().transform_cell(source))
        except (ImportError, SyntaxError):
            return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if called != "check" or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        answer = ast.unparse(node.args[1]) if len(node.args) > 1 else "None"
        context = {(kw.arg or f"**{i}"): ast.unparse(kw.value) for i, kw in enumerate(node.keywords)}
        found.append((first.value, answer, context))
    return found


def pinned_context(released_source: str, context: dict[str, str]) -> dict[str, object]:
    """Context the learner must not change: names the released cell assigns from a literal.

    ``need = {"vcpus": 3}`` then ``check(..., **need)`` pins ``vcpus``; a measurement made at run
    time (``expected_ms=t``) is not pinned and is taken from the captured context.
    """
    try:
        tree = ast.parse(released_source)
    except SyntaxError:
        return {}
    literals: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                literals[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                literals.pop(node.targets[0].id, None)
    stores = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    for name in {n for n in stores if stores.count(n) > 1}:  # ``ready = 0`` then counted in a loop: a measurement
        literals.pop(name, None)
    pinned: dict[str, object] = {}
    for name, expr in context.items():
        try:
            value = ast.literal_eval(expr)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = literals.get(expr, _MISSING) if expr.isidentifier() else _MISSING
        if value is _MISSING:
            continue
        if name.startswith("**"):
            if isinstance(value, dict):
                pinned.update({str(k): v for k, v in value.items()})
        else:
            pinned[name] = value
    return pinned


_MISSING = object()
