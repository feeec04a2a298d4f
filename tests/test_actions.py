"""The workflow runner's pure parts: GitHub's schema and the course's subset, trigger filters, expressions,
docker/metadata-action's tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab_helpers.sandbox.forge.actions import SUBSET
from lab_helpers.sandbox.forge.actions.expressions import ExpressionError, evaluate, evaluate_if, interpolate
from lab_helpers.sandbox.forge.actions.metadata import Event, docker_tags
from lab_helpers.sandbox.forge.actions.runs import job_order
from lab_helpers.sandbox.forge.actions.triggers import Push, filter_matches, push_triggers
from lab_helpers.sandbox.forge.actions.workflow import WorkflowError, parse, runner_kind

WORKFLOWS = Path(__file__).parent / "workflows"


def _first_comment(path: Path) -> str:
    return path.read_text().splitlines()[0].lstrip("# ").strip()


@pytest.mark.parametrize("path", sorted((WORKFLOWS / "valid").glob("*.yaml")), ids=lambda p: p.name)
def test_valid_workflows_parse(path: Path) -> None:
    workflow = parse(f".github/workflows/{path.name}", path.read_text())
    assert workflow.jobs and "on" in workflow.doc


@pytest.mark.parametrize("path", sorted((WORKFLOWS / "invalid").glob("*.yaml")), ids=lambda p: p.name)
def test_invalid_workflows_fail_githubs_schema(path: Path) -> None:
    with pytest.raises(WorkflowError) as err:
        parse(f".github/workflows/{path.name}", path.read_text())
    assert str(err.value).startswith(f"Invalid workflow file: .github/workflows/{path.name}: ")
    assert "course's runner" not in str(err.value)  # GitHub's schema refused it, not the subset


@pytest.mark.parametrize("path", sorted((WORKFLOWS / "unsupported").glob("*.yaml")), ids=lambda p: p.name)
def test_unsupported_keys_are_named(path: Path) -> None:
    key = _first_comment(path)
    with pytest.raises(WorkflowError) as err:
        parse(f".github/workflows/{path.name}", path.read_text())
    message = str(err.value)
    assert f".github/workflows/{path.name}" in message
    assert f"'{key}'" in message and "not supported by the course's runner" in message


def test_misspelled_key_is_named() -> None:
    with pytest.raises(WorkflowError, match="'job'"):
        parse("w.yaml", (WORKFLOWS / "invalid" / "misspelled-key.yaml").read_text())


def test_runner_kinds_and_unknown_runner() -> None:
    assert runner_kind("ubuntu-latest") == "hosted"
    assert runner_kind(["self-hosted", "cluster"]) == "cluster"
    assert runner_kind("arc-runner-set") == "cluster"
    assert runner_kind("windows-latest") is None
    text = "on: push\njobs:\n  a:\n    runs-on: macos-14\n    steps:\n      - run: echo\n"
    with pytest.raises(WorkflowError, match="runs-on 'macos-14'"):
        parse("w.yaml", text)


def test_needs_of_a_missing_job_and_cycles_are_refused() -> None:
    job = "    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
    with pytest.raises(WorkflowError, match="needs names 'nope'"):
        parse("w.yaml", f"on: push\njobs:\n  a:\n    needs: nope\n{job}")
    with pytest.raises(WorkflowError, match="cycle"):
        parse("w.yaml", f"on: push\njobs:\n  a:\n    needs: b\n{job}  b:\n    needs: a\n{job}")


def test_job_order_follows_needs() -> None:
    jobs = {"deploy": {"needs": ["build", "test"]}, "test": {"needs": "build"}, "build": {}, "lint": {}}
    order = job_order(jobs)
    assert order.index("build") < order.index("test") < order.index("deploy")
    assert set(order) == set(jobs)


def test_subset_text_names_the_supported_and_unsupported() -> None:
    for word in ("docker/build-push-action@v5|v6", "strategy/matrix", "on.schedule", "paths-ignore"):
        assert word in SUBSET


# -- trigger filters, as GitHub's filter pattern cheat sheet documents them ----------------------------------
@pytest.mark.parametrize(
    ("patterns", "name", "expected"),
    [
        (["feature/*"], "feature/my-branch", True),
        (["feature/*"], "feature/your/branch", False),
        (["feature/**"], "feature/your/branch", True),
        (["main", "releases/mona-the-octocat"], "main", True),
        (["*"], "releases/v1", False),
        (["**"], "releases/v1", True),
        (["v2*"], "v2.0", True),
        (["v[12].[0-9]+.[0-9]+"], "v1.10.1", True),
        (["v[12].[0-9]+.[0-9]+"], "v3.0.0", False),
        (["*.js"], "app.js", True),
        (["*.js"], "js/index.js", False),
        (["**.js"], "js/index.js", True),
        (["docs/**"], "docs/mona/octocat.txt", True),
        (["**/docs/**"], "src/docs/a.md", True),
        (["releases/**-alpha"], "releases/beta/3-alpha", True),
        (["*.jsx?"], "page.js", True),
        (["*.jsx?"], "page.jsx", True),
        (["releases/**", "!releases/**-alpha"], "releases/beta/3-alpha", False),
        (["releases/**", "!releases/**-alpha", "releases/**-alpha"], "releases/x-alpha", True),
    ],
)
def test_filter_patterns(patterns: list[str], name: str, expected: bool) -> None:
    assert filter_matches(patterns, name) is expected


def test_push_triggers_by_branch_tag_and_paths() -> None:
    on = {"push": {"branches": ["main"], "tags": ["v*"], "paths": ["sample_app/**"]}}
    assert push_triggers(on, Push("refs/heads/main", after="a" * 40, changed=("sample_app/api.py",)))[0]
    assert not push_triggers(on, Push("refs/heads/main", after="a" * 40, changed=("README.md",)))[0]
    assert not push_triggers(on, Push("refs/heads/dev", after="a" * 40, changed=("sample_app/api.py",)))[0]
    # paths are not evaluated for tags
    assert push_triggers(on, Push("refs/tags/v1.2.3", after="a" * 40, changed=("README.md",)))[0]
    # branches only: a tag push starts nothing; tags only: a branch push starts nothing
    assert not push_triggers({"push": {"branches": ["**"]}}, Push("refs/tags/v1", after="a" * 40))[0]
    assert not push_triggers({"push": {"tags": ["v*"]}}, Push("refs/heads/main", after="a" * 40))[0]
    assert push_triggers("push", Push("refs/tags/v1", after="a" * 40))[0]
    ignore = {"push": {"paths-ignore": ["docs/**", "**.md"]}}
    assert not push_triggers(ignore, Push("refs/heads/main", after="a" * 40, changed=("docs/a.txt", "x.md")))[0]
    assert push_triggers(ignore, Push("refs/heads/main", after="a" * 40, changed=("docs/a.txt", "app.py")))[0]
    assert not push_triggers({"push": {"branches-ignore": ["dev/**"]}}, Push("refs/heads/dev/x", after="a" * 40))[0]
    deleted, why = push_triggers("push", Push("refs/heads/main"))
    assert not deleted and "deleted" in why
    assert not push_triggers({"workflow_dispatch": None}, Push("refs/heads/main", after="a" * 40))[0]


# -- expressions --------------------------------------------------------------------------------------------
CONTEXTS = {
    "github": {"ref": "refs/heads/main", "sha": "0123456789abcdef", "event_name": "push", "ref_name": "main"},
    "env": {"IMAGE": "registry.example/learner/app"},
    "steps": {"meta": {"outputs": {"tags": "a:1\na:2", "version": "1.2.3"}}},
    "needs": {"build": {"outputs": {"digest": "sha256:ab"}, "result": "success"}},
    "secrets": {"GITHUB_TOKEN": "ghs_x"},
    "vars": {},
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("github.ref == 'refs/heads/main'", True),
        ("github.ref == 'REFS/HEADS/MAIN'", True),  # strings compare ignoring case
        ("github.event_name != 'pull_request' && startsWith(github.ref, 'refs/heads/')", True),
        ("contains(github.ref, 'tags')", False),
        ("!contains(github.ref, 'tags')", True),
        ("github.ref_name == 'dev' || 'fallback'", "fallback"),
        ("steps.meta.outputs.version", "1.2.3"),
        ("needs.build.outputs.digest", "sha256:ab"),
        ("env.IMAGE", "registry.example/learner/app"),
        ("steps.missing.outputs.x", None),
        ("1 == '1'", True),
        ("null == 0", True),
        ("(true || false) && !false", True),
        ("format('{0}:{1}', env.IMAGE, 'v1')", "registry.example/learner/app:v1"),
        ("contains(fromJSONish, 'x')", ExpressionError),
        ("hashFiles('**/x')", ExpressionError),
        ("github.ref ==", ExpressionError),
    ],
)
def test_expressions(expression: str, expected: object) -> None:
    if expected is ExpressionError:
        with pytest.raises(ExpressionError):
            evaluate(expression, CONTEXTS)
    else:
        assert evaluate(expression, CONTEXTS) == expected


def test_interpolation_and_if() -> None:
    assert (
        interpolate("${{ env.IMAGE }}:sha-${{ github.sha }}", CONTEXTS)
        == "registry.example/learner/app:sha-0123456789abcdef"
    )
    assert interpolate("push=${{ github.event_name == 'push' }}", CONTEXTS) == "push=true"
    assert evaluate_if("${{ github.ref == 'refs/heads/main' }}", CONTEXTS)
    assert evaluate_if("github.ref == 'refs/heads/main'", CONTEXTS)
    assert not evaluate_if("github.ref == 'refs/heads/main'", CONTEXTS, status="failure")  # success() implied
    assert evaluate_if("always()", CONTEXTS, status="failure")
    assert evaluate_if("failure()", CONTEXTS, status="failure")
    assert not evaluate_if(None, CONTEXTS, status="failure")
    with pytest.raises(ExpressionError, match="Unrecognized named-value: 'matrix'"):
        evaluate_if("matrix.os == 'x'", CONTEXTS)


# -- docker/metadata-action --------------------------------------------------------------------------------
RULES = """
type=ref,event=branch
type=ref,event=pr
type=semver,pattern={{version}}
type=semver,pattern={{major}}.{{minor}}
type=sha
type=raw,value=latest,enable={{is_default_branch}}
"""
IMAGE = "registry.example/learner/sample-app/api"
SHA = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"


def _tags(ref: str) -> list[str]:
    meta = docker_tags(IMAGE, RULES, Event("push", ref, SHA, "learner/sample-app"))
    return [t.split(":", 1)[1] for t in meta.tags]


def test_metadata_tags_branch_main_tag_and_sha() -> None:
    assert _tags("refs/heads/develop") == ["develop", "sha-1a2b3c4"]
    assert _tags("refs/heads/main") == ["main", "sha-1a2b3c4", "latest"]
    assert _tags("refs/heads/feature/login") == ["feature-login", "sha-1a2b3c4"]
    assert _tags("refs/tags/v1.2.3") == ["1.2.3", "1.2", "sha-1a2b3c4", "latest"]  # latest=auto on a release
    assert _tags("refs/tags/v2.0.0-rc.1") == ["2.0.0-rc.1", "sha-1a2b3c4"]  # no partial versions, no latest
    meta = docker_tags(
        IMAGE, "type=ref,event=pr", Event("pull_request", "refs/pull/7/merge", SHA, "learner/sample-app")
    )
    assert meta.tags == [f"{IMAGE}:pr-7"]


def test_metadata_outputs_and_labels() -> None:
    meta = docker_tags(IMAGE, "type=sha,format=long", Event("push", "refs/heads/main", SHA, "learner/sample-app"))
    outputs = meta.outputs()
    assert outputs["tags"] == f"{IMAGE}:sha-{SHA}" and outputs["version"] == f"sha-{SHA}"
    assert f"org.opencontainers.image.revision={SHA}" in outputs["labels"].splitlines()
    # the action's defaults without tags: the branch
    assert docker_tags(IMAGE, None, Event("push", "refs/heads/main", SHA, "l/s")).tags == [f"{IMAGE}:main"]
    with pytest.raises(ValueError, match="'schedule'"):
        docker_tags(IMAGE, "type=schedule", Event("push", "refs/heads/main", SHA, "l/s"))
