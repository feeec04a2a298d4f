import json

import nbformat

from lab_helpers.notebooks.authoring import has_solution
from lab_helpers.notebooks.workspace import sync_workspace


def test_first_use_creates_learner_copies(tmp_path):
    folder, sync = sync_workspace(tmp_path / "ws")
    assert "00-start-here.ipynb" in sync.created
    nb = nbformat.read(folder / "00-start-here.ipynb", as_version=4)
    assert not has_solution(nb)


def test_untouched_copies_are_updated(tmp_path, monkeypatch):
    folder, _ = sync_workspace(tmp_path / "ws")
    import lab_helpers.notebooks.workspace as ws

    real = ws._render
    monkeypatch.setattr(ws, "_render", lambda path: real(path).replace(b"Start here", b"Start here (v2)"))
    _, sync = sync_workspace(folder)
    assert "00-start-here.ipynb" in sync.updated
    assert b"(v2)" in (folder / "00-start-here.ipynb").read_bytes()


def _course_with_lab_00(tmp_path):
    """A course folder holding a copy of lab 00, so a test can change 'the course's lab'."""
    import shutil

    from lab_helpers.catalog import find_lab

    labs = tmp_path / "course-labs"
    labs.mkdir()
    shutil.copy(find_lab("00").path, labs / "00-start-here.ipynb")
    return labs


def _edit(path, note="# my note"):
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source += "\n" + note
    nbformat.write(nb, path)


def _versions(folder):
    return sorted(p.name for p in folder.glob("*.v*.ipynb"))


def test_a_second_start_writes_no_copy_when_the_course_did_not_change(tmp_path):
    labs = _course_with_lab_00(tmp_path)
    folder, _ = sync_workspace(tmp_path / "ws", labs)
    _edit(folder / "00-start-here.ipynb")  # the learner saved their work
    for _ in range(2):
        _, sync = sync_workspace(folder, labs)
        assert sync.beside == [] and sync.updated == [] and sync.kept == ["00-start-here.ipynb"]
    assert _versions(folder) == []
    assert "# my note" in (folder / "00-start-here.ipynb").read_text()


def test_a_changed_lab_is_written_beside_an_edited_copy_once(tmp_path):
    labs = _course_with_lab_00(tmp_path)
    folder, _ = sync_workspace(tmp_path / "ws", labs)
    mine = folder / "00-start-here.ipynb"
    _edit(mine)
    edited = mine.read_bytes()
    source = labs / "00-start-here.ipynb"
    source.write_text(source.read_text().replace("Start here", "Start here (v2)", 1))

    _, sync = sync_workspace(folder, labs)
    assert len(sync.beside) == 1 and _versions(folder) == sync.beside
    assert "(v2)" in (folder / sync.beside[0]).read_text()
    assert mine.read_bytes() == edited
    _, again = sync_workspace(folder, labs)  # the same change is offered once, not on every start
    assert again.beside == [] and _versions(folder) == sync.beside

    source.write_text(source.read_text().replace("Start here (v2)", "Start here (v3)", 1))
    _, third = sync_workspace(folder, labs)  # a further change is offered again
    assert len(third.beside) == 1 and len(_versions(folder)) == 2


def test_an_untouched_copy_follows_the_course_and_the_manifest_records_it(tmp_path):
    from lab_helpers.notebooks.workspace import load_manifest

    labs = _course_with_lab_00(tmp_path)
    folder, _ = sync_workspace(tmp_path / "ws", labs)
    source = labs / "00-start-here.ipynb"
    source.write_text(source.read_text().replace("Start here", "Start here (v2)", 1))
    _, sync = sync_workspace(folder, labs)
    assert sync.updated == ["00-start-here.ipynb"] and _versions(folder) == []
    entry = load_manifest(folder)["00-start-here.ipynb"]
    import hashlib

    assert entry["source"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert entry["copied"] == hashlib.sha256((folder / "00-start-here.ipynb").read_bytes()).hexdigest()


def test_a_manifest_of_the_older_form_is_read(tmp_path):
    labs = _course_with_lab_00(tmp_path)
    folder, _ = sync_workspace(tmp_path / "ws", labs)
    import hashlib

    mine = folder / "00-start-here.ipynb"
    (folder / ".course-versions.json").write_text(
        json.dumps({mine.name: hashlib.sha256(mine.read_bytes()).hexdigest()})
    )
    _edit(mine)
    _, sync = sync_workspace(folder, labs)
    assert sync.beside == [] and _versions(folder) == []
