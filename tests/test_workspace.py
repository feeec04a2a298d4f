import json

import nbformat

from lab_helpers.notebooks.authoring import has_solution
from lab_helpers.notebooks.workspace import sync_workspace


def test_first_use_creates_learner_copies(tmp_path):
    folder, sync = sync_workspace(tmp_path / "ws")
    assert "00-start-here.ipynb" in sync.created
    nb = nbformat.read(folder / "00-start-here.ipynb", as_version=4)
    assert not has_solution(nb)


def test_edits_are_never_overwritten(tmp_path, monkeypatch):
    folder, _ = sync_workspace(tmp_path / "ws")
    mine = folder / "00-start-here.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells[2].source += "\n# my note"
    nbformat.write(nb, mine)
    edited = mine.read_bytes()

    # a new version of the lab arrives: the course's recorded hash no longer matches the fresh copy
    ledger = folder / ".course-versions.json"
    data = json.loads(ledger.read_text())
    data["00-start-here.ipynb"] = "an-older-version"
    ledger.write_text(json.dumps(data))
    import lab_helpers.notebooks.workspace as ws

    real = ws._render
    monkeypatch.setattr(ws, "_render", lambda path: real(path).replace(b"Start here", b"Start here (v2)"))
    _, sync = sync_workspace(folder)
    assert mine.read_bytes() == edited
    assert sync.beside and (folder / sync.beside[0]).exists()
    assert b"(v2)" in (folder / sync.beside[0]).read_bytes()


def test_untouched_copies_are_updated(tmp_path, monkeypatch):
    folder, _ = sync_workspace(tmp_path / "ws")
    import lab_helpers.notebooks.workspace as ws

    real = ws._render
    monkeypatch.setattr(ws, "_render", lambda path: real(path).replace(b"Start here", b"Start here (v2)"))
    _, sync = sync_workspace(folder)
    assert "00-start-here.ipynb" in sync.updated
    assert b"(v2)" in (folder / "00-start-here.ipynb").read_bytes()
