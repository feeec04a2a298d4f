"""Binder builds the same pinned environment as CI and opens the learner's copy on the sandbox."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_binder_uses_the_pinned_environment():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "-c constraints.txt -e ." in post and "lab start --prepare" in post
    assert os.access(ROOT / "binder" / "postBuild", os.X_OK) and os.access(ROOT / "binder" / "start", os.X_OK)


def test_binder_python_is_one_the_course_supports():
    version = re.search(r"python-3\.(\d+)", (ROOT / "binder" / "runtime.txt").read_text())
    assert version and 10 <= int(version.group(1)) <= 13


def test_binder_starts_on_the_sandbox():
    assert "LAB_BACKEND=sandbox" in (ROOT / "binder" / "start").read_text()


def test_constraints_pin_every_dependency_exactly():
    text = (ROOT / "constraints.txt").read_text()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert lines and all(re.match(r"^[A-Za-z0-9_.\[\]-]+==[^=]+$", line) for line in lines), [
        line for line in lines if "==" not in line
    ]
    names = {line.split("==")[0].lower().replace("_", "-") for line in lines}
    for needed in ("jupyterlab", "ipywidgets", "plotly", "kubernetes", "openstacksdk", "papermill", "numpy"):
        assert needed in names
