"""The sandbox's git forge with the real git over HTTP: clone, commit and push with the credential helper,
anonymous clones, ownership, the protected main branch, secret scanning on both sides, push events that
survive a restart, the Gitea-like API, and bodies the forge refuses."""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
from pathlib import Path

import pytest
import requests
from sandbox_fixtures import sandbox  # noqa: F401

AWS_KEY_LINE = 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF"\n'
SECRET_PART = "AKIAIOSFODNN7EXAMPLF"
# Made-up secrets, put together at run time so that no file of the course holds one as written.
_PEM = "RSA " + "PRIVATE KEY"
PRIVATE_KEY = f"-----BEGIN {_PEM}-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END {_PEM}-----\n"
CREDENTIAL_FIELD = "application_" + "credential_secret"


@pytest.fixture(scope="module")
def forge(sandbox):
    from lab_helpers.deploy import git

    return git


def token(state_dir: Path, user: str) -> str:
    from lab_helpers.sandbox.forge.tokens import credentials_path

    return credentials_path(state_dir, user).read_text().split("password=")[1].strip()


def api(sandbox, method: str, path: str, user: str | None = "learner", **kw):
    auth = (user, token(sandbox.state_dir, user)) if user else None
    return requests.request(method, f"{sandbox.base_url}/git/api/v1{path}", auth=auth, timeout=30, **kw)


def plain_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


def test_clone_commit_push_with_credential_helper(forge, sandbox, tmp_path):
    repo = forge.create_repo("app")
    assert repo.full_name == "learner/app" and repo.empty and repo.clone_url.endswith("/git/learner/app.git")
    work = forge.clone(repo, tmp_path / "app")
    (work / "README.md").write_text("hello\n")
    sha = forge.commit(work, "first")
    pushed = forge.push(work)
    assert pushed.ok and pushed.sha == sha, pushed.refused
    config = (work / ".git" / "config").read_text()
    assert token(sandbox.state_dir, "learner") not in config  # the helper reads a file; the token is not in the clone
    # a plain `git push` in a terminal works too (the credential helper answers git)
    (work / "two.txt").write_text("two\n")
    forge.commit(work, "second")
    out = plain_git(work, "push", "origin", "HEAD:main")
    assert out.returncode == 0, out.stderr
    branches = api(sandbox, "GET", "/repos/learner/app/branches").json()
    assert [(b["name"], b["commit"]["id"]) for b in branches] == [("main", forge.head(work))]
    assert forge.create_repo("app").empty is False  # exist_ok: the same repository


def test_anonymous_clone_and_push_needing_a_token(forge, sandbox, tmp_path):
    repo = forge.create_repo("public-one")
    work = forge.clone(repo, tmp_path / "mine")
    (work / "a.txt").write_text("a\n")
    forge.commit(work, "a")
    assert forge.push(work).ok
    anon = tmp_path / "anon"
    out = plain_git(tmp_path, "-c", "credential.helper=", "clone", repo.clone_url, str(anon))
    assert out.returncode == 0, out.stderr
    assert (anon / "a.txt").read_text() == "a\n"
    (anon / "b.txt").write_text("b\n")
    plain_git(anon, "add", ".")
    plain_git(anon, "-c", "user.name=A", "-c", "user.email=a@example.org", "commit", "-qm", "b")
    out = plain_git(anon, "-c", "credential.helper=", "push", "origin", "HEAD:main")
    assert out.returncode != 0 and "Authentication failed" in out.stderr or "could not read Username" in out.stderr
    r = requests.get(f"{repo.clone_url}/info/refs?service=git-receive-pack", timeout=10)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Basic realm="forge"'
    r = requests.get(f"{repo.clone_url}/info/refs?service=git-receive-pack", auth=("learner", "wrong"), timeout=10)
    assert r.status_code == 401


def test_push_to_another_users_repository_is_403(forge, sandbox, tmp_path):
    admin_made = api(sandbox, "POST", "/admin/users/sandbox-admin/repos", user="sandbox-admin", json={"name": "ops"})
    assert admin_made.status_code == 201, admin_made.text
    work = forge.clone(admin_made.json()["clone_url"], tmp_path / "ops")
    (work / "x.txt").write_text("x\n")
    forge.commit(work, "x")
    pushed = forge.push(work)
    assert not pushed.ok
    assert "denied to learner" in pushed.refused and "belongs to sandbox-admin" in pushed.refused
    r = requests.get(
        admin_made.json()["clone_url"] + "/info/refs?service=git-receive-pack",
        auth=("learner", token(sandbox.state_dir, "learner")),
        timeout=10,
    )
    assert r.status_code == 403 and "only its owner may push" in r.text
    assert api(sandbox, "DELETE", "/repos/sandbox-admin/ops").status_code == 403


def test_protected_main_refuses_force_push_and_deletion(forge, tmp_path):
    repo = forge.create_repo("protected")
    work = forge.clone(repo, tmp_path / "p")
    (work / "f.txt").write_text("1\n")
    forge.commit(work, "one")
    assert forge.push(work).ok
    (work / "f.txt").write_text("2\n")
    second = forge.commit(work, "two")
    assert forge.push(work).ok
    plain_git(work, "reset", "-q", "--hard", "HEAD~1")
    (work / "f.txt").write_text("3\n")
    forge.commit(work, "rewrite")
    out = plain_git(work, "push", "--force", "origin", "HEAD:main")
    assert out.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/main" in out.stderr
    assert "Cannot force-push" in out.stderr and "git revert" in out.stderr
    out = plain_git(work, "push", "origin", ":main")
    assert out.returncode != 0 and "Cannot delete this branch" in out.stderr
    # other branches may be rewritten and deleted; main is where it was
    assert forge.push(work, branch="topic").ok
    assert plain_git(work, "push", "origin", ":topic").returncode == 0
    assert plain_git(work, "ls-remote", "origin", "main").stdout.split()[0] == second
    # undoing with a new commit is the way: revert is a fast-forward
    plain_git(work, "reset", "-q", "--hard", second)
    undo = forge.revert(work, second)
    assert forge.push(work).ok and plain_git(work, "ls-remote", "origin", "main").stdout.split()[0] == undo


@pytest.mark.parametrize(
    ("path", "text", "kind"),
    [("settings.py", AWS_KEY_LINE, "AWS Access Key"), ("deploy/id_rsa", PRIVATE_KEY, "Private Key")],
)
def test_secrets_refused_by_the_server_hook_and_the_client_hook(forge, tmp_path, path, text, kind):
    repo = forge.create_repo(f"secrets-{kind.split()[0].lower()}")
    work = forge.clone(repo, tmp_path / "s")
    (work / "ok.txt").write_text("fine\n")
    forge.commit(work, "fine")
    assert forge.push(work).ok
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# settings\n" + text)
    forge.commit(work, "oops")
    # the client's pre-push hook stops it first
    pushed = forge.push(work)
    assert not pushed.ok and f"{kind}: {path}:2" in pushed.refused and "before it left this machine" in pushed.refused
    assert SECRET_PART not in pushed.refused and "MIIEow" not in pushed.refused
    # without the client hook, the forge's pre-receive hook refuses it
    out = plain_git(work, "push", "--no-verify", "origin", "HEAD:main")
    assert out.returncode != 0
    assert "GH013" in out.stderr and f"{kind}: {path}:2" in out.stderr and "revoke it" in out.stderr
    assert SECRET_PART not in out.stderr + out.stdout and "MIIEow" not in out.stderr + out.stdout
    assert plain_git(work, "ls-remote", "origin", "main").stdout.split()[0] != forge.head(work)


def test_scanner_finds_kinds_and_lines_never_values():
    from lab_helpers.sandbox.forge.scan import Finding, scan_text, scan_tree

    assert scan_text("a.py", "x = 1\n" + AWS_KEY_LINE) == [Finding("a.py", 2, "AWS Access Key")]
    assert scan_text("sample_app/config.py", 'URL = "postgresql://app:app@db:5432/jobs"\n') == []
    found = scan_tree({"clouds.yaml": f"auth:\n  {CREDENTIAL_FIELD}: hVw3kq9ZpL2mN8rT5yXa\n", "b.txt": "ok"})
    assert found == [Finding("clouds.yaml", 2, "Secret Keyword")] and SECRET_PART not in str(found)


@pytest.mark.slow  # a sandbox restart takes about 10 s
def test_events_recorded_and_kept_across_a_restart(forge, sandbox, tmp_path):
    from lab_helpers import sandbox as sb
    from lab_helpers.sandbox.forge import events
    from lab_helpers.sandbox.store import Store

    repo = forge.create_repo("evented")
    work = forge.clone(repo, tmp_path / "e")
    (work / "f").write_text("1\n")
    first = forge.commit(work, "1")
    assert forge.push(work).ok
    (work / "f").write_text("2\n")
    second = forge.commit(work, "2")
    assert forge.push(work).ok
    assert forge.push(work, branch="feature").ok
    assert plain_git(work, "push", "origin", ":feature").returncode == 0
    store = Store(sandbox.state_dir)
    try:
        mine = [e for e in events.since(store, 0) if e.repo == "evented"]
    finally:
        store.close()
    zero = "0" * 40
    assert [(e.ref, e.before, e.after, e.pusher) for e in mine] == [
        ("refs/heads/main", zero, first, "learner"),
        ("refs/heads/main", first, second, "learner"),
        ("refs/heads/feature", zero, second, "learner"),
        ("refs/heads/feature", second, zero, "learner"),
    ]
    sb.stop()
    status = sb.start()
    store = Store(status.state_dir)
    try:
        again = [e for e in events.since(store, mine[0].id - 1) if e.repo == "evented"]
    finally:
        store.close()
    assert again == mine
    assert forge.create_repo("evented").empty is False  # the repository and the token survived too
    (work / "f").write_text("3\n")
    forge.commit(work, "3")
    assert forge.push(work).ok


def test_json_api(forge, sandbox):
    made = api(sandbox, "POST", "/user/repos", json={"name": "api-demo"})
    assert made.status_code == 201
    doc = made.json()
    assert {k: doc[k] for k in ("name", "full_name", "default_branch", "private", "empty")} == {
        "name": "api-demo",
        "full_name": "learner/api-demo",
        "default_branch": "main",
        "private": False,
        "empty": True,
    }
    assert doc["owner"]["login"] == "learner" and isinstance(doc["id"], int)
    again = api(sandbox, "POST", "/user/repos", json={"name": "api-demo"})
    assert again.status_code == 409 and "already exists" in again.json()["message"]
    assert api(sandbox, "POST", "/user/repos", user=None, json={"name": "x"}).status_code == 401
    names = [r["name"] for r in api(sandbox, "GET", "/users/learner/repos", user=None).json()]
    assert "api-demo" in names
    assert api(sandbox, "GET", "/repos/learner/api-demo", user=None).json()["id"] == doc["id"]
    assert api(sandbox, "GET", "/repos/learner/nope").status_code == 404
    # a private repository is hidden from anonymous callers
    assert api(sandbox, "POST", "/user/repos", json={"name": "hidden", "private": True}).status_code == 201
    assert "hidden" not in [r["name"] for r in api(sandbox, "GET", "/users/learner/repos", user=None).json()]
    assert api(sandbox, "GET", "/repos/learner/hidden", user=None).status_code == 401
    assert api(sandbox, "DELETE", "/repos/learner/hidden").status_code == 204
    assert api(sandbox, "GET", "/repos/learner/hidden").status_code == 404


def test_contents_at_a_ref(forge, sandbox, tmp_path):
    repo = forge.create_repo("contents")
    work = forge.clone(repo, tmp_path / "c")
    (work / "deploy").mkdir()
    (work / "deploy" / "application.yaml").write_text("kind: Application\n")
    first = forge.commit(work, "app")
    assert forge.push(work).ok
    (work / "deploy" / "application.yaml").write_text("kind: Application # v2\n")
    forge.commit(work, "v2")
    assert forge.push(work).ok
    r = api(sandbox, "GET", "/repos/learner/contents/contents/deploy/application.yaml")
    assert r.status_code == 200 and base64.b64decode(r.json()["content"]) == b"kind: Application # v2\n"
    old = api(sandbox, "GET", f"/repos/learner/contents/contents/deploy/application.yaml?ref={first}")
    assert base64.b64decode(old.json()["content"]) == b"kind: Application\n"
    listing = api(sandbox, "GET", "/repos/learner/contents/contents/deploy").json()
    assert [(e["name"], e["type"]) for e in listing] == [("application.yaml", "file")]
    assert api(sandbox, "GET", "/repos/learner/contents/contents/missing.txt").status_code == 404
    assert api(sandbox, "GET", "/repos/learner/contents/contents/deploy/../../x").status_code == 404
    assert api(sandbox, "GET", "/repos/learner/contents/contents/deploy?ref=nope").status_code == 404


@pytest.mark.parametrize("name", ["bad/name", "x.git", "..", "", "a" * 101, "sp ace"])
def test_bad_repository_names(sandbox, name):
    r = api(sandbox, "POST", "/user/repos", json={"name": name})
    assert r.status_code == 422 and "name" in r.json()["message"]


def test_malformed_and_oversized_bodies(forge, sandbox):
    assert (
        api(sandbox, "POST", "/user/repos", data=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert api(sandbox, "POST", "/user/repos", json={"name": 7}).status_code == 422
    assert api(sandbox, "POST", "/user/repos", json={"name": "big", "pad": "x" * 70_000}).status_code == 413
    repo = forge.create_repo("bodies")
    auth = ("learner", token(sandbox.state_dir, "learner"))
    url = f"{repo.clone_url}/git-upload-pack"
    headers = {"Content-Type": "application/x-git-upload-pack-request", "Content-Encoding": "gzip"}
    r = requests.post(url, data=b"\x1f\x8b not gzip at all", headers=headers, timeout=10)
    assert r.status_code == 400 and "gzip" in r.text
    bomb = gzip.compress(b"0" * (17 * 1024 * 1024))
    r = requests.post(url, data=bomb, headers=headers, timeout=30)
    assert r.status_code == 413
    r = requests.post(url, data=b"x", headers={**headers, "Content-Encoding": "br"}, timeout=10)
    assert r.status_code == 415
    huge = requests.post(
        f"{repo.clone_url}/git-receive-pack",
        data=b"",
        headers={"Content-Length": str(300 * 1024 * 1024)},
        auth=auth,
        timeout=10,
    )
    assert huge.status_code == 413
    assert (
        requests.get(
            f"{sandbox.base_url}/git/learner/..%2f..%2fetc/info/refs?service=git-upload-pack", timeout=10
        ).status_code
        == 404
    )
    assert requests.get(f"{repo.clone_url}/info/refs", timeout=10).status_code == 403  # the dumb protocol


def test_nothing_written_outside_the_state_folder(forge, sandbox):
    forge_dir = Path(sandbox.state_dir) / "forge"
    assert (forge_dir / "repos" / "learner" / "app.git" / "hooks" / "pre-receive").exists()
    mode = (forge_dir / "credentials" / "learner").stat().st_mode & 0o777
    assert mode == 0o600
    outside = [p for p in forge_dir.parent.parent.iterdir() if p.name not in ("sandbox",)]
    assert not [p for p in outside if "forge" in p.name]


# Random 43-character secrets (``secrets.token_urlsafe(32)``, as lab 06's drill makes) whose Shannon entropy
# falls below detect-secrets' base64 limit of 4.5: about one in 200 does, and the entropy detector misses it.
_LOW_ENTROPY_SECRETS = (
    "75M2m7nmrXmgJ5R3FOhEyr1hikMFFSpxJ5QJJFSNMTE",
    "UCAIhRypDCXC5WkZ_CrxdXD-3CWlD8CUzDl_iPrhLlU",
    "0__uD7uKeTuEex-Bn-V2knkE7JnBQKB_eov0BxwPwXE",
)


def test_the_courses_own_files_pass():
    """No false alarm on what lab 06 pushes: charts naming Secrets, manifests, the app, the data files."""
    from lab_helpers.paths import data_dir
    from lab_helpers.sandbox.forge.scan import scan_text

    files = [
        p for p in data_dir().rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.stat().st_size < 1e6
    ]
    assert len(files) > 40
    alarms = [f for p in files for f in scan_text(str(p.relative_to(data_dir())), p.read_text(errors="replace"))]
    assert alarms == []
    named = "secretName: db-credentials\nsecretKey: DATABASE_URL\npassword: {{ .Values.password }}\n"
    assert scan_text("values.yaml", named) == []


@pytest.mark.parametrize("value", _LOW_ENTROPY_SECRETS)
@pytest.mark.parametrize("form", ["yaml", "json", "json indented with tabs"])
def test_a_random_credential_in_a_container_env_is_caught_whatever_its_entropy(value, form):
    """Lab 06's drill: ``- name: CLOUD_CREDENTIAL_SECRET`` then ``value: <random>`` in a deploy file."""
    import json

    import yaml

    from lab_helpers.sandbox.forge.scan import scan_text

    env = [{"name": "PORT", "value": "8080"}, {"name": "CLOUD_CREDENTIAL_SECRET", "value": value}]
    deploy = {"spec": {"template": {"spec": {"containers": [{"name": "api", "env": env}]}}}}
    if form == "yaml":
        text = yaml.safe_dump(deploy, sort_keys=False)
    else:  # a tab is no indentation YAML accepts, so a tab-indented JSON file is read as JSON
        text = json.dumps(deploy, indent="\t" if "tabs" in form else 2)
    found = scan_text(f"deploy/application.{form.split()[0]}", text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if value in row)
    assert [(f.line, f.type) for f in found] == [(line, "Secret Keyword")]
    assert value not in str(found)


def test_a_name_value_pair_that_is_no_secret_passes():
    from lab_helpers.sandbox.forge.scan import scan_text

    text = (
        "env:\n"
        "- name: PWD\n  value: /home/learner\n"
        "- name: SECRET_NAME\n  value: db-credentials\n"
        "- name: DB_PASSWORD\n  value: '{{ .Values.password }}'\n"
        f"- name: BUILD_ID\n  value: {_LOW_ENTROPY_SECRETS[0]}\n"  # random, but named as no secret
        "- name: CLOUD_CREDENTIAL_ID\n  value: 9f2c41d07be85a3e6d1f0c7b24a98e53\n"  # names a credential, is none
        "anchors: &a [*a]\n"
    )
    assert scan_text("deploy/values.yaml", text) == []
    assert scan_text("deploy/broken.yaml", "env: [\n- name: X_SECRET\n") == []  # does not parse: no crash


def _anchor_bomb(levels: int) -> str:
    """A YAML file of a few hundred bytes whose aliases expand to 10**levels nodes."""
    names = [f"l{i}" for i in range(levels + 1)]
    rows = [f"{names[0]}: &{names[0]} [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"{n}: &{n} [{', '.join([f'*{prev}'] * 10)}]" for prev, n in zip(names, names[1:], strict=False)]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("crafted", ["loop: &a [*a]\n", "loop: &a {again: *a}\n", _anchor_bomb(9)])
def test_a_crafted_yaml_file_is_scanned_at_once_and_its_secrets_still_found(crafted):
    """An alias inside its own anchor, or a billion nodes, once held detect-secrets' YAML reader forever."""
    import time

    from lab_helpers.sandbox.forge.scan import Finding, scan_text

    text = crafted + f"password: hVw3kq9ZpL2mN8rT5yXa\nenv:\n- name: API_TOKEN\n  value: {_LOW_ENTROPY_SECRETS[1]}\n"
    rows = crafted.count("\n")
    start = time.monotonic()
    found = scan_text("deploy/values.yaml", text)
    assert time.monotonic() - start < 30  # a bound no machine misses; the scan takes milliseconds
    assert found == [
        Finding("deploy/values.yaml", rows + 1, "Secret Keyword"),
        Finding("deploy/values.yaml", rows + 4, "Secret Keyword"),
    ]


def test_a_push_whose_scan_outlasts_its_limit_is_refused(monkeypatch):
    import time

    from lab_helpers.sandbox.forge import hook

    monkeypatch.setattr(hook, "secret_errors", lambda ref, after: time.sleep(10) or [])
    start = time.monotonic()
    errors = hook._secret_errors_within([("0" * 40, "1" * 40, "refs/heads/main")], 1)
    assert time.monotonic() - start < 5
    assert errors[0] == "GH013: Repository rule violations found for refs/heads/main."
    assert any("could not be scanned for secrets within 1 s" in line for line in errors)


def test_a_crafted_yaml_push_is_refused_at_once_then_the_mended_push_lands(forge, tmp_path):
    """With real git: a file whose aliases loop, beside a secret, once held the pre-receive hook forever."""
    import time

    repo = forge.create_repo("crafted-yaml")
    work = forge.clone(repo, tmp_path / "c")
    values = work / "deploy" / "values.yaml"
    values.parent.mkdir()
    env = f"env:\n- name: API_TOKEN\n  value: {_LOW_ENTROPY_SECRETS[2]}\n"
    values.write_text("loop: &a [*a]\n" + _anchor_bomb(9) + env)
    forge.commit(work, "values")
    start = time.monotonic()
    out = plain_git(work, "push", "--no-verify", "origin", "HEAD:main")
    assert time.monotonic() - start < 30  # seconds at most; the hook once never returned
    assert out.returncode != 0 and "GH013" in out.stderr
    assert f"Secret Keyword: deploy/values.yaml:{_anchor_bomb(9).count(chr(10)) + 4} (commit" in out.stderr
    assert _LOW_ENTROPY_SECRETS[2] not in out.stderr + out.stdout
    # as the refusal says: amend the commit to keep the secret out (in a Secret): the same crafted file now lands
    values.write_text("loop: &a [*a]\n" + _anchor_bomb(9) + "envFrom:\n- secretRef:\n    name: api-token\n")
    plain_git(work, "add", "-A")
    assert plain_git(work, "commit", "-q", "--amend", "-m", "values: the token lives in a Secret").returncode == 0
    pushed = forge.push(work)
    assert pushed.ok, pushed.refused
    assert plain_git(work, "ls-remote", "origin", "main").stdout.split()[0] == forge.head(work)
