"""The site's pages as Sphinx sources: one notebook per lab (its executed outputs made static, the
grader's hidden checks and rubrics left out, objectives, timing and a "run it" box on top) and an index page."""

from __future__ import annotations

import copy
from pathlib import Path

from ..catalog import Lab
from ..notebooks.authoring import KEY_TAGS
from ..notebooks.hygiene import VOLATILE_CELL_KEYS
from .outputs import FigureCounter, static_outputs, widget_states

# Cells that never reach the site: the grader's key (hidden checks, rubrics). Cells tagged "solution" stay:
# a solved run is shown.
NOT_PUBLISHED_TAGS = KEY_TAGS
BINDER = "https://mybinder.org/v2/gh"
COURSE_SUMMARY = (
    "An executable lab course that walks bottom-up from one NVIDIA A40 on a rack to a service deployed by a "
    "`git push`: the GPU, the node and the batch cluster (Slurm on NCSA Delta), VMs and networks (OpenStack on "
    "Jetstream2), block and object storage, Kubernetes on those VMs, and CI/CD, ending in a graded capstone."
)
HIERARCHY = (
    "The hierarchy, from the bottom: a **GPU** (one A40) sits in a **node**; nodes make a **cluster** that a batch "
    "scheduler shares; a **host** is cut into **VMs** on **networks**, with **block** and **object storage** "
    "beside them; **Kubernetes** runs containers on those VMs; a **push** deploys a service onto it."
)


def binder_url(repository: str, lab: Lab, branch: str = "main") -> str | None:
    """The Binder link that opens ``lab`` in the learner's working copy, for a GitHub ``repository`` URL."""
    prefix = "https://github.com/"
    if not repository.startswith(prefix):
        return None
    owner_name = repository[len(prefix) :].strip("/").removesuffix(".git")
    if owner_name.count("/") != 1:
        return None
    return f"{BINDER}/{owner_name}/{branch}?urlpath=lab/tree/labs-workspace/{lab.path.name}"


def about_cell(lab: Lab, repository: str | None) -> str:
    """The Markdown box shown under a lab's title: timing, objectives and how to run it."""
    objectives = "\n".join(f"- {line}" for line in lab.objectives) or "- (the lab lists no objectives yet)"
    binder = binder_url(repository, lab) if repository else None
    binder_line = f"\n- in your browser, nothing to install: [open it on Binder]({binder})" if binder else ""
    return (
        f"```{{admonition}} Lab {lab.number}: about {lab.minutes} minutes\n:class: tip\n"
        f"You will:\n\n{objectives}\n\n"
        "This page shows a solved run on the sandbox backend. To work through the exercises yourself:\n\n"
        f"- on your machine, after installing the course: `lab start {lab.number}`{binder_line}\n"
        "```\n"
    )


def _title_index(cells: list) -> int:
    for index, cell in enumerate(cells):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source  # as saved on disk: a list of lines
        if cell.get("cell_type") == "markdown" and text.lstrip().startswith("# "):
            return index
    return -1


def lab_page(executed: dict, lab: Lab, repository: str | None) -> dict:
    """The page for ``lab`` from its executed notebook (as nbformat's dict): outputs static, no hidden checks
    or rubrics, no run metadata (the run's paths and times), and the lab's objectives, timing and run-it box on top."""
    import nbformat

    nb = copy.deepcopy(executed)
    states = widget_states(nb.get("metadata", {}))
    counter = FigureCounter(lab.number)
    cells = []
    for cell in nb["cells"]:
        if NOT_PUBLISHED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for key in VOLATILE_CELL_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                shown for output in cell.get("outputs", []) for shown in static_outputs(output, states, counter)
            ]
        cells.append(cell)
    title_at = _title_index(cells)
    if title_at < 0:
        cells.insert(0, nbformat.v4.new_markdown_cell(f"# {lab.number}. {lab.title}"))
        title_at = 0
    cells.insert(title_at + 1, nbformat.v4.new_markdown_cell(about_cell(lab, repository)))
    nb["cells"] = cells
    metadata = nb.setdefault("metadata", {})
    for key in ("papermill", "widgets"):
        metadata.pop(key, None)
    return nb


def index_page(labs: list[Lab], page_names: dict[str, str]) -> str:
    """The site's front page (MyST Markdown): the course, the hierarchy, and the labs with minutes and objectives."""
    rows = []
    for lab in labs:
        goals = "<br>".join(line.replace("|", "\\|") for line in lab.objectives) or "-"
        rows.append(f"| {lab.number} | [{lab.title}]({page_names[lab.number]}.ipynb) | {lab.minutes} | {goals} |")
    total = sum(lab.minutes for lab in labs)
    toctree = "\n".join(page_names[lab.number] for lab in labs)
    return (
        "# Visualizing Compute\n\n"
        f"{COURSE_SUMMARY}\n\n{HIERARCHY}\n\n"
        f"## The labs\n\nAbout {total} minutes in all.\n\n"
        "| Lab | Title | Minutes | You will |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Each page shows a solved run on the sandbox backend, a local cloud on your own machine. "
        "To run a lab yourself: `pip install -e .` in a copy of the course, then `lab start NN`.\n\n"
        f"```{{toctree}}\n:maxdepth: 1\n:caption: Labs\n:hidden:\n\n{toctree}\n```\n"
    )


def write_page(nb: dict, path: Path) -> None:
    import nbformat

    nbformat.write(nbformat.from_dict(nb), str(path))
