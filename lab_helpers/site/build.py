"""``lab site``: the course as a static website, built as an ordered list of named steps.

1. execute: each lab's solved version on the sandbox with the course's runner, unless executed
   notebooks are given (CI executes each lab once and shares the result);
2. pages: each executed notebook made a page (outputs static, hidden checks and rubrics out, refused if
   one is left), plus the index;
3. sphinx: Sphinx with MyST-NB and the book theme, no execution inside it;
4. leaks: the built site is scanned for this machine's paths, names and credentials.

The order matters: pages need executed outputs, and the scan reads what Sphinx wrote. Each step's
seconds are kept, so a slow build says where its time went.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Lab
from ..config import SANDBOX
from ..errors import LabError
from .leaks import key_cells, scan_folder
from .pages import index_page, lab_page, write_page
from .sphinx_conf import copy_plotly_js, settings, write_conf

PROJECT = "Visualizing Compute"


class SiteError(LabError):
    """The site could not be built: a lab failed, a notebook is missing, Sphinx failed or a page leaks."""

    who = "the course website"


@dataclass
class SiteResult:
    out: Path
    pages: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def lines(self) -> list[str]:
        timing = [f"  {name:<8} {seconds:7.1f} s" for name, seconds in self.seconds.items()]
        total = f"  {'total':<8} {sum(self.seconds.values()):7.1f} s"
        return [f"built {len(self.pages)} lab pages and the index: {self.index}", *timing, total]


def repository_url() -> str | None:
    """The course's source repository, from the installed package's project URLs (pyproject's project.urls)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("visualizing-compute").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("source", "repository", "homepage") and url.strip():
            return url.strip()
    return None


def course_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("visualizing-compute")
    except metadata.PackageNotFoundError:
        return "dev"


def executed_notebook(folder: Path, lab: Lab) -> Path:
    """The executed notebook of ``lab`` in ``folder``, as the course's runner names it (or the lab's own name)."""
    for name in (f"{lab.name}.out.ipynb", f"{lab.name}.ipynb"):
        if (folder / name).is_file():
            return folder / name
    raise SiteError(
        f"no executed notebook for lab {lab.number} in {folder.name}/ (looked for {lab.name}.out.ipynb).",
        hint=f"Run it with `lab run {lab.number} --out DIR`, or leave out --executed to let `lab site` run the labs.",
    )


def execute_labs(labs: list[Lab], folder: Path, say: Callable[[str], None] = print) -> Path:
    """Each lab's solved version executed on the sandbox into ``folder``; the first failure stops the build."""
    from ..notebooks.runner import run_lab

    for lab in labs:
        result = run_lab(lab, backend=SANDBOX, out_dir=folder, cell_timeout_s=300)
        say(result.line())
        if not result.ok:
            raise SiteError(
                f"lab {lab.number} failed on the sandbox, so its page cannot be built.",
                hint=f"Run `lab run {lab.number}` to see the failing cell, or build the others with --labs.",
            )
    return folder


def write_sources(labs: list[Lab], executed: Path, source_dir: Path) -> list[str]:
    """The Sphinx sources: conf.py, index.md, one notebook per lab and plotly.min.js; the page names."""
    import nbformat

    repository = repository_url()
    names = {lab.number: lab.name for lab in labs}
    for lab in labs:
        page = lab_page(nbformat.read(executed_notebook(executed, lab), as_version=4), lab, repository)
        kept = key_cells(page)
        if kept:  # lab_page drops them; this guards a change to it
            raise SiteError(
                f"the page of lab {lab.number} still carries the grader's key: {', '.join(kept)}.",
                hint="Cells tagged hidden-check or rubric must be dropped by lab_page (NOT_PUBLISHED_TAGS).",
            )
        write_page(page, source_dir / f"{lab.name}.ipynb")
    (source_dir / "index.md").write_text(index_page(labs, names), encoding="utf-8")
    copy_plotly_js(source_dir / "_static")
    write_conf(source_dir, settings(PROJECT, repository, course_version()))
    return [names[lab.number] for lab in labs]


def run_sphinx(source_dir: Path, out: Path, doctrees: Path) -> list[str]:
    """Sphinx's HTML build in a process of its own; its warnings, one a line."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees), str(source_dir), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    warnings = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode != 0:
        raise SiteError(
            "Sphinx could not build the site: " + (" | ".join(warnings[-5:]) or f"exit status {done.returncode}"),
            hint="Fix the page it names; `lab site --labs NN` builds one lab's page alone.",
        )
    return warnings


def _refuse_foreign(out: Path) -> None:
    """Refuse an ``out`` folder that holds anything but an earlier build (checked before any work)."""
    if out.exists() and not (out.is_dir() and not any(out.iterdir())) and not (out / ".buildinfo").is_file():
        raise SiteError(
            f"--out {out} already holds files that are not a site built by `lab site`; nothing was removed.",
            hint="Give an empty or new folder.",
        )


def build_site(
    out: Path,
    labs: list[Lab],
    executed: Path | None = None,
    say: Callable[[str], None] = print,
) -> SiteResult:
    """The course website for ``labs`` in ``out`` (replaced), from the notebooks in ``executed`` if given,
    else from fresh runs of the labs on the sandbox. Raises :class:`SiteError` naming what failed."""
    if not labs:
        raise SiteError("no labs to build.", hint="Pick labs that exist (`lab list`), e.g. --labs 00,01.")
    out = Path(out)
    _refuse_foreign(out)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="lab-site-") as scratch:
        work = Path(scratch)
        if executed is None:
            started = time.perf_counter()
            say(f"executing {len(labs)} labs on the sandbox ...")
            executed = execute_labs(labs, work / "executed", say)
            seconds["execute"] = time.perf_counter() - started
        started = time.perf_counter()
        source_dir = work / "source"
        source_dir.mkdir()
        pages = write_sources(labs, Path(executed), source_dir)
        seconds["pages"] = time.perf_counter() - started
        started = time.perf_counter()
        _refuse_foreign(out)
        if out.exists():
            shutil.rmtree(out)
        warnings = run_sphinx(source_dir, out, work / "doctrees")
        seconds["sphinx"] = time.perf_counter() - started
    started = time.perf_counter()
    leaks = scan_folder(out)
    seconds["leaks"] = time.perf_counter() - started
    if leaks:
        where = "; ".join(f"{path}: {', '.join(found)}" for path, found in list(leaks.items())[:5])
        raise SiteError(
            f"the built site would publish something of this machine ({where}); nothing should be published from {out.name}/.",
            hint="Find the output that prints it in the lab named and make it print a neutral value.",
        )
    return SiteResult(out, pages, seconds, warnings)
