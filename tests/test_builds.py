"""Image builds into the sandbox registry (``kubelet/builds.py``): the course's own Dockerfile for each
of its targets, content-addressed digests, the files copied into the registry's store, the
Dockerfile's instructions (stages, ARG, ENV, COPY --from, ADD, .dockerignore), refusals worded for
the learner, and the tag index as a later process reads it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lab_helpers.paths import data_dir
from lab_helpers.sandbox.kubernetes.kubelet import builds, image_store, registry

REPO = "registry.example/learner/sample-app"


@pytest.fixture
def state(tmp_path):
    root = tmp_path / "sandbox"
    registry.use_state_dir(root)
    yield root
    registry.use_state_dir(None)


def _context(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        (ctx / name).parent.mkdir(parents=True, exist_ok=True)
        (ctx / name).write_text(text)
    return ctx


def _files(image: registry.Image) -> set[str]:
    root = Path(image.rootfs)
    return {"/" + str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_the_sample_apps_dockerfile_builds_each_target(state):
    context = data_dir() / "sample-app"
    made = {}
    for target in ("api", "web", "worker", "model"):
        made[target] = builds.build(state, context, target=target, tags=[f"{REPO}/{target}:1.0.0"])
        assert made[target].refs == [f"{REPO}/{target}:1.0.0"]
    assert len({b.digest for b in made.values()}) == 4  # each target its own CMD (the model its own base)
    api = registry.lookup(registry.parse(f"{REPO}/api:1.0.0"))
    assert api is not None and api.digest == made["api"].digest
    assert (api.cmd, api.working_dir, api.user, api.ports) == (
        ("python", "-m", "sample_app.api"),
        "/app",
        "10001:10001",
        (8080,),
    )
    assert "PORT=8080" in api.env and "PYTHONUNBUFFERED=1" in api.env and api.course_python
    files = _files(api)
    assert {"/app/requirements.txt", "/app/sample_app/api.py", "/app/sample_app/static/index.html"} <= files
    source = (context / "sample_app" / "api.py").read_bytes()
    assert (Path(api.rootfs) / "app/sample_app/api.py").read_bytes() == source
    assert "RUN lines were not executed" in api.note
    model = registry.lookup(registry.parse(f"{REPO}/model:1.0.0"))
    assert model.cmd == ("python", "-m", "sample_app.model") and "/app/requirements-model.txt" in _files(model)
    path = dict(e.split("=", 1) for e in model.env)["PATH"]
    assert path.startswith("/opt/venv/bin:/usr/local/nvidia/bin")  # ENV PATH=/opt/venv/bin:$PATH on the CUDA base
    assert model.files["/opt/venv/bin/python"] == {"python": "course"} and "WEIGHTS_DIR=/models" in model.env
    assert model.size > api.size > 0
    assert registry.image_id(registry.parse(f"{REPO}/web:1.0.0")) == f"{REPO}/web@{made['web'].digest}"


def test_a_changed_file_is_a_new_digest_and_the_old_tag_keeps_its_files(state, tmp_path):
    dockerfile = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY hello.py ./\nCMD ["python", "hello.py"]\n'
    ctx = _context(tmp_path, dockerfile, {"hello.py": "print('one')\n"})
    first = builds.build(state, ctx, tags=["registry.example/learner/hello:sha-1111111"])
    again = builds.build(state, ctx, tags=["registry.example/learner/hello:again"])
    assert again.digest == first.digest  # content-addressed: the same files and configuration
    (ctx / "hello.py").write_text("print('two')\n")
    second = builds.build(state, ctx, tags=["registry.example/learner/hello:sha-2222222"])
    assert second.digest != first.digest
    import shutil

    shutil.rmtree(ctx)  # the workflow's checkout is deleted: the store holds copies
    old = registry.lookup(registry.parse("registry.example/learner/hello:sha-1111111"))
    new = registry.lookup(registry.parse("registry.example/learner/hello:sha-2222222"))
    assert (Path(old.rootfs) / "app/hello.py").read_text() == "print('one')\n"
    assert (Path(new.rootfs) / "app/hello.py").read_text() == "print('two')\n"
    assert old.layer_name != new.layer_name
    layer = registry.materialize(old, tmp_path / "layers", sys.executable, inside=False)
    assert (layer / "app/hello.py").read_text() == "print('one')\n" and (layer / "usr/local/bin/python").is_file()
    # by digest, too (a tag's digest only)
    pinned = registry.lookup(registry.parse(f"registry.example/learner/hello@{first.digest}"))
    assert pinned is not None and pinned.digest == first.digest
    tags = [t.name for t in image_store.list_tags(state, "learner/hello")]
    assert tags[0] == "sha-2222222" and set(tags) == {"sha-1111111", "again", "sha-2222222"}


def test_stages_args_copy_from_add_and_dockerignore(state, tmp_path):
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = b"inside the archive\n"
        info = tarfile.TarInfo("pkg/data.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    dockerfile = (
        "ARG BASE=python:3.11-slim\n"
        "FROM ${BASE} AS build\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        "RUN python -m compileall .\n"
        "FROM busybox AS final\n"
        "ARG GREETING=hi\n"
        'ENV GREETING=$GREETING OTHER="two words"\n'
        "LABEL org.opencontainers.image.source=https://example.org/app\n"
        "COPY --from=build /src/app /opt/app\n"
        "COPY --chmod=755 run.sh /usr/local/bin/\n"
        "ADD bundle.tar.gz /data/\n"
        "ENTRYPOINT exec /usr/local/bin/run.sh\n"
    )
    ctx = _context(
        tmp_path,
        dockerfile,
        {
            "app/main.py": "print('main')\n",
            "app/notes.log": "left out\n",
            "app/keep.log": "kept by an exception\n",
            "secrets/token.txt": "never copied\n",
            "run.sh": "#!/bin/sh\necho run\n",
            ".dockerignore": "secrets\n**/*.log\n!app/keep.log\n",
        },
    )
    (ctx / "bundle.tar.gz").write_bytes(archive.getvalue())
    built = builds.build(
        state, ctx, tags=["registry.example/learner/stages:1"], labels={"org.opencontainers.image.revision": "abc"},
        build_args={"GREETING": "hello"},
    )  # fmt: skip
    image = registry.lookup(registry.parse("registry.example/learner/stages:1"))
    assert _files(image) == {"/opt/app/main.py", "/opt/app/keep.log", "/usr/local/bin/run.sh", "/data/pkg/data.txt"}
    assert (Path(image.rootfs) / "usr/local/bin/run.sh").stat().st_mode & 0o777 == 0o755
    assert image.entrypoint == ("/bin/sh", "-c", "exec /usr/local/bin/run.sh") and image.cmd == ()
    assert "GREETING=hello" in image.env and "OTHER=two words" in image.env and image.applets  # busybox's config
    info = image_store.list_tags(state, "registry.example/learner/stages")[0]
    assert info.labels == {
        "org.opencontainers.image.source": "https://example.org/app",
        "org.opencontainers.image.revision": "abc",
    }
    assert info.digest == built.digest
    # a stage that is not needed is not built: its unknown base does no harm
    ctx2 = _context(tmp_path, 'FROM nosuch/image:1 AS unused\nFROM python:3.11 AS app\nCMD ["python"]\n', {})
    assert builds.build(state, ctx2, target="app").refs == []


@pytest.mark.parametrize(
    ("dockerfile", "kwargs", "words"),
    [
        ("FROM nosuch/base:1\n", {}, ["FROM nosuch/base:1", "docker.io/nosuch/base:1", "python, cuda (any tag)"]),
        ("FROM python:3.11 AS app\n", {"target": "apii"}, ['target stage "apii" could not be found', "app"]),
        ("FROM python:3.11\nCOPY ../outside.txt /\n", {}, ["forbidden path outside the build context"]),
        ("FROM python:3.11\nADD https://example.org/x.tgz /\n", {}, ["ADD of a URL is not supported in the sandbox"]),
        ("FROM python:3.11\nCOPY missing.txt /\n", {}, ['"missing.txt": not found', ".dockerignore"]),
        ("FROM python:3.11\n", {"tags": ["docker.io/learner/app:1"]}, ["the sandbox registry is registry.example"]),
        ("FROM python:3.11\nCOPY --from=nginx /etc/nginx /x\n", {}, ["--from=nginx", "copy from a stage"]),
    ],
)
def test_what_a_build_refuses_and_says(state, tmp_path, dockerfile, kwargs, words):
    (tmp_path / "outside.txt").write_text("x")
    ctx = _context(tmp_path, dockerfile, {})
    with pytest.raises(builds.BuildError) as caught:
        builds.build(state, ctx, **kwargs)
    for word in words:
        assert word in str(caught.value)


def test_missing_tag_message_lists_tags_newest_first_and_the_index_survives_a_restart(state, tmp_path):
    ctx = _context(tmp_path, "FROM python:3.11\nCOPY a.txt /\n", {"a.txt": "0"})
    for n in range(12):
        (ctx / "a.txt").write_text(str(n))
        builds.build(state, ctx, tags=[f"registry.example/learner/many:v{n}"])
    message = registry.pull_error(registry.parse("registry.example/learner/many:v99"))
    assert (
        "holds registry.example/learner/many at tags v11, v10, v9, v8, v7, v6, v5, v4, v3, v2 and 2 older only"
        in message
    )
    index = image_store.index_file(state, "learner/many")
    (index.parent / f".{index.name}.crashed.tmp").write_text("{half")  # a write cut short leaves the old index
    program = (
        "import json, sys\nfrom pathlib import Path\n"
        "from lab_helpers.sandbox.kubernetes.kubelet import registry\n"
        "registry.use_state_dir(Path(sys.argv[1]))\n"
        "image = registry.lookup(registry.parse('registry.example/learner/many:v3'))\n"
        "print(json.dumps([image.digest, (Path(image.rootfs) / 'a.txt').read_text()]))\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(state)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    digest, text = json.loads(done.stdout)
    assert text == "3" and digest == image_store.list_tags(state, "learner/many")[8].digest
    nothing = registry.pull_error(registry.parse("registry.example/learner/never:1"))
    assert "nothing was pushed to registry.example/learner/never" in nothing


def test_the_client_reads_the_sandboxs_tags(monkeypatch, tmp_path):
    from lab_helpers.deploy import registry as client
    from lab_helpers.errors import ResourceStateError

    monkeypatch.setenv("LAB_STATE_DIR", str(tmp_path))
    ctx = _context(tmp_path, "FROM python:3.11\nCOPY a.txt /\n", {"a.txt": "x"})
    builds.build(tmp_path / "sandbox", ctx, tags=["registry.example/learner/client:main"])
    assert [t.name for t in client.tags("registry.example/learner/client")] == ["main"]
    assert client.wait_for_tag("learner/client", "main", timeout=1).digest.startswith("sha256:")
    with pytest.raises(
        ResourceStateError, match=r"learner/client:v2 was not pushed within 0.2 s \(its tags, newest first: main\)"
    ):
        client.wait_for_tag("learner/client", "v2", timeout=0.2, poll_s=0.05)
