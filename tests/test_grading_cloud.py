"""Grading a cloud lab (03): each submission gets its own fresh sandbox, and a state check reads it.

A state check is added to a copy of lab 03's source here, beside the lab's own (a second column
on 03.open-ssh, named by ``part``): its probe lists the ssh rules the submission's sandbox holds right after the
check cell; the grader judges that snapshot, outside the kernel.
"""

from __future__ import annotations

import copy
import warnings

import pytest

from lab_helpers.grading.isolation import Limits, namespaces_available
from lab_helpers.paths import labs_dir

LAB03 = labs_dir() / "03-a-vm-is-a-slice-of-a-host.ipynb"

pytestmark = [
    pytest.mark.skipif(not LAB03.exists(), reason="lab 03 is not written yet"),
    pytest.mark.skipif(not namespaces_available()[0], reason="needs namespaces: one sandbox per submission"),
]

STATE_CELL = """from lab_helpers.grading.hidden import state_check


def _ssh_rules(conn):
    rules = []
    for group in conn.network.security_groups():
        for rule in conn.network.security_group_rules(security_group_id=group.id, direction="ingress"):
            if rule.protocol == "tcp":
                rules.append({"group": group.name, "min": rule.port_range_min, "max": rule.port_range_max})
    return rules


@state_check("03.open-ssh", part="tcp-rules", points=1, description="the cloud holds a tcp/22 ingress rule",
             probe=_ssh_rules)
def _ssh_open(snapshot, context):
    return any(r["min"] == 22 and r["max"] == 22 for r in snapshot or [])
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat
    from nbformat.v4 import new_code_cell

    from lab_helpers.grading.batch import grade
    from lab_helpers.grading.release import build_key

    root = tmp_path_factory.mktemp("cloud")
    source = nbformat.read(LAB03, as_version=4)
    cell = new_code_cell(STATE_CELL, metadata={"tags": ["hidden-check"]})
    cell.id = "state0001"
    source.cells.insert(next(i for i, c in enumerate(source.cells) if c.id == "e5ff6dbb") + 1, cell)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, learner, hidden_source = build_key(source, "03", "a-vm-is-a-slice-of-a-host")
    key.save(root / "key" / "03-a-vm-is-a-slice-of-a-host", learner, hidden_source)

    subs = root / "subs"
    subs.mkdir()
    solved = copy.deepcopy(source)
    solved.cells = [c for c in solved.cells if c.id != "state0001"]
    nbformat.write(solved, subs / "solved.ipynb")
    tampered = copy.deepcopy(solved)
    flavor = next(c for c in tampered.cells if c.id == "2a251bb7")
    flavor.source = flavor.source.replace('"vcpus": 3, "ram_gb": 12', '"vcpus": 1, "ram_gb": 2').replace(
        '"m3.quad"', '"m3.tiny"'
    )
    nbformat.write(tampered, subs / "tampered.ipynb")
    nbformat.write(learner, subs / "untouched.ipynb")
    book = grade(
        "03",
        root / "key",
        root / "out",
        [str(subs)],
        jobs=2,
        progress=False,
        limits=Limits(cell_s=60, notebook_s=150, memory_mb=2048),
    )
    return {g.submission.rsplit("/", 1)[-1]: g for g in book.grades}


def test_state_check_reads_each_submissions_own_sandbox(graded):
    solved, untouched = graded["solved.ipynb"], graded["untouched.ipynb"]
    assert solved.line_for("03.open-ssh:tcp-rules").earned == 1, solved.instructor_notes
    assert solved.score == solved.max_score == 15, [(line.column, line.earned, line.message) for line in solved.lines]
    # the untouched notebook ran after or beside the solved one, yet its own sandbox holds no ssh rule
    assert untouched.line_for("03.open-ssh:tcp-rules").earned == 0
    assert untouched.score == 0
    assert all(r["min"] != 22 for r in untouched.answers["03.open-ssh:tcp-rules"]["answer"])


def test_context_changed_by_the_learner_is_replaced_by_the_released_value(graded):
    tampered = graded["tampered.ipynb"]
    assert tampered.line_for("03.cheapest-flavor").earned == 0
    assert tampered.score == 13
    assert any("'vcpus' was changed in the notebook" in f for f in tampered.flags)
