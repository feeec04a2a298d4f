import nbformat
import pytest

from lab_helpers.catalog import all_labs
from lab_helpers.notebooks.authoring import MarkerError, has_solution, learner_version, strip_solution


def test_region_becomes_one_stub_per_assigned_name():
    src = "x = 1\n# BEGIN SOLUTION\na = 2\nb, c = 3, 4\n# END SOLUTION\ncheck('n', a)"
    out = strip_solution(src)
    assert out.splitlines() == [
        "x = 1",
        "a = None  # your answer here",
        "b = None  # your answer here",
        "c = None  # your answer here",
        "check('n', a)",
    ]


def test_explicit_stub_wins_and_indentation_is_kept():
    src = "def f():\n    # BEGIN SOLUTION\n    # STUB: return None\n    return 42\n    # END SOLUTION"
    assert strip_solution(src) == "def f():\n    return None"


def test_region_without_assignment_becomes_pass():
    assert strip_solution("# BEGIN SOLUTION\nprint(1)\n# END SOLUTION") == "pass  # your code here"


@pytest.mark.parametrize(
    "src", ["# BEGIN SOLUTION\nx = 1", "x = 1\n# END SOLUTION", "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION"]
)
def test_malformed_markers_are_reported(src):
    with pytest.raises(MarkerError):
        strip_solution(src)


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.number)
def test_learner_version_has_no_solution_and_keeps_ids(lab):
    source = nbformat.read(lab.path, as_version=4)
    learner = learner_version(source)
    assert not has_solution(learner)
    text = "\n".join(c.source for c in learner.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    solution_lines, stub_lines = set(), set()
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == "# BEGIN SOLUTION":
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif inside and line.strip().startswith("# STUB: "):
                stub_lines.add(line.strip()[len("# STUB: ") :].strip())
            elif inside and line.strip():
                solution_lines.add(line.strip())
    learner_lines = {line.strip() for c in learner.cells for line in c.source.splitlines()}
    # a line the author also wrote as a stub (`placement = {`, `}`) is the answer's shape, not the answer
    survived = (solution_lines - stub_lines) & learner_lines
    assert not survived, f"a solution line survived into the learner version: {sorted(survived)}"
    kept_ids = [c.id for c in learner.cells]
    assert set(kept_ids) <= {c.id for c in source.cells}
    assert len(kept_ids) == len(set(kept_ids))
