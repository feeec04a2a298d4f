"""Lab 04's judges; the ranged read judged from the requests the real SDK made to the sandbox."""

from __future__ import annotations

import hashlib

import pytest
from sandbox_fixtures import conn, sandbox  # noqa: F401

from lab_helpers.checks import evaluate, get_spec
from lab_helpers.checks.artifacts import artifact_names
from lab_helpers.storage.objects import record_reads

RIGHT = {
    "VM boot disk": "block",
    "model weights": "block",
    "cluster logs": "object",
    "video uploads": "object",
    "terraform state": "object",
}


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


def test_where_it_belongs():
    assert judge("04.where-it-belongs", RIGHT).status == "passed"
    assert judge("04.where-it-belongs", dict(RIGHT, **{"terraform state": "S3"})).status == "passed"  # aliases
    one_wrong = judge("04.where-it-belongs", dict(RIGHT, **{"cluster logs": "block"}))
    assert one_wrong.status == "partial" and one_wrong.earned == 4 and "cluster logs" in one_wrong.message
    missing = judge("04.where-it-belongs", {"VM boot disk": "block"})
    assert missing.status == "failed" and "missing" in missing.message and "model weights" in missing.message
    assert judge("04.where-it-belongs", "block").status == "failed"
    assert judge("04.where-it-belongs", None).status == "not done"


def test_where_it_belongs_uses_the_shared_names_and_forgives_case_and_spaces():
    assert sorted(RIGHT) == sorted(artifact_names())
    # lab 00's names (the project's page spells two of them differently) score in full here
    lab00_names = {
        "VM boot + file system": "block",
        "model weights": "block",
        "cluster logs": "object",
        "video uploads": "object",
        "terraform tfstate": "object",
    }
    assert judge("04.where-it-belongs", lab00_names).status == "passed"
    shouting = {f"  {k.upper()} ": v.upper() for k, v in RIGHT.items()}
    assert judge("04.where-it-belongs", shouting).status == "passed"
    unknown = judge("04.where-it-belongs", dict(RIGHT, **{"kernel modules": "block"}))
    assert unknown.status == "failed" and "kernel modules" in unknown.message
    # the untouched stub is "not done", not a wrong answer
    assert judge("04.where-it-belongs", {name: ... for name in artifact_names()}).status == "not done"


def test_why_is_manual():
    result = judge("04.why", "because")
    assert result.status == "to be graded"
    assert judge("04.why", None).status == "not done"


def test_why_tells_a_one_word_answer_what_a_good_answer_covers():
    short = judge("04.why", "because")
    assert short.status == "to be graded" and "who reads and writes" in short.message


def _ctx(body: bytes, n: int, reads) -> dict:
    return {
        "tail_bytes": n,
        "object_bytes": len(body),
        "tail_sha256": hashlib.sha256(body[-n:]).hexdigest(),
        "requests": reads,
    }


def test_log_tail_values():
    body = b"".join(f"line {i}\n".encode() for i in range(100))
    ranged = [{"container": "c", "name": "o", "range": "bytes=-50", "status": 206, "bytes": 50}]
    assert judge("04.log-tail", body[-50:].decode(), **_ctx(body, 50, ranged)).status == "passed"
    assert "whole object" in judge("04.log-tail", body.decode(), **_ctx(body, 50, ranged)).message
    assert "last 50" in judge("04.log-tail", body[:50].decode(), **_ctx(body, 50, ranged)).message
    assert "Got 40" in judge("04.log-tail", body[-40:].decode(), **_ctx(body, 50, ranged)).message
    assert "record of your requests" in judge("04.log-tail", body[-50:].decode(), **_ctx(body, 50, None)).message
    twice = judge("04.log-tail", body[-50:].decode(), **_ctx(body, 50, ranged * 2))
    assert twice.status == "partial" and "one ranged request" in twice.message


LOG = b"".join(f"2026-03-03T{h:02d}:00:00Z k8s-control kubelet: pod sync ok ({h} of 24)\n".encode() for h in range(24))


@pytest.fixture(scope="module")
def log_object(conn):
    conn.object_store.create_container(name="ranged-read-test")
    conn.object_store.upload_object(container="ranged-read-test", name="2026-03-03/k8s-control.log", data=LOG)
    yield "ranged-read-test", "2026-03-03/k8s-control.log"
    conn.object_store.delete_object("2026-03-03/k8s-control.log", container="ranged-read-test", ignore_missing=True)
    conn.object_store.delete_container("ranged-read-test", ignore_missing=True)


def test_a_ranged_read_through_the_sdk_passes(conn, log_object):
    container, name = log_object
    with record_reads(conn) as reads:
        tail = conn.object_store.download_object(name, container=container, range="bytes=-200").decode()
    seen = reads.of(container, name)
    assert seen == [{"container": container, "name": name, "range": "bytes=-200", "status": 206, "bytes": 200}]
    result = judge("04.log-tail", tail, **_ctx(LOG, 200, seen))
    assert result.status == "passed", result.message
    assert "206" in result.message and f"of the object's {len(LOG)}" in result.message


def test_the_whole_object_sliced_on_the_client_does_not_pass(conn, log_object):
    container, name = log_object
    with record_reads(conn) as reads:
        tail = conn.object_store.download_object(name, container=container)[-200:].decode()
    seen = reads.of(container, name)
    assert seen == [{"container": container, "name": name, "range": "", "status": 200, "bytes": len(LOG)}]
    assert tail.encode() == LOG[-200:]  # the right bytes...
    result = judge("04.log-tail", tail, **_ctx(LOG, 200, seen))
    assert result.status == "failed"  # ...by the wrong method
    assert "moved the whole object" in result.message and "no Range header" in result.message
    assert f"{len(LOG)} bytes came back" in result.message and "range='bytes=-200'" in result.message


def test_the_recorder_sees_only_object_reads_and_stops_at_the_end_of_the_block(conn, log_object):
    container, name = log_object
    with record_reads(conn) as reads:
        list(conn.object_store.objects(container))  # a listing: not an object read
        conn.object_store.get_object_metadata(name, container=container)  # a HEAD: no body
    assert reads.reads == []
    conn.object_store.download_object(name, container=container)  # after the block: not recorded
    assert reads.reads == [] and "no object was read" in str(reads)
    assert reads._on_response not in conn.session.session.hooks["response"]


def test_presigned_get_through_the_backends_s3_client(conn):
    """The sandbox backend's S3 client writes an object, Swift reports it, and a presigned URL fetched with
    requests (no credentials) gives bytes the judge accepts; wrong forms and other bytes do not pass."""
    import requests

    from lab_helpers.backends import Sandbox

    s3 = Sandbox().s3_client(conn)
    conn.object_store.create_container(name="presign-check")
    body = b"".join(b"line %d of a log written through S3\n" % i for i in range(50))
    s3.put_object(Bucket="presign-check", Key="day/a.log", Body=body)
    head = conn.object_store.get_object_metadata("day/a.log", container="presign-check")
    assert conn.object_store.download_object("day/a.log", container="presign-check") == body
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign-check", "Key": "day/a.log"}, ExpiresIn=60)
    fetched = requests.get(url, timeout=30).text
    context = dict(
        url=url, bucket="presign-check", key="day/a.log", etag=head.etag, object_bytes=int(head.content_length)
    )
    assert judge("04.presigned-get", fetched, **context).status == "passed"
    assert judge("04.presigned-get", None, **context).status == "not done"
    assert judge("04.presigned-get", fetched.encode(), **context).status == "passed"  # the bytes themselves
    form = judge("04.presigned-get", {"text": fetched}, **context)
    assert form.status == "failed" and ".text" in form.message
    cut = judge("04.presigned-get", fetched[:-1], **context)
    assert cut.status == "failed" and f"holds {len(body)}" in cut.message
    other = judge("04.presigned-get", fetched[::-1], **context)
    assert other.status == "failed" and "ETag" in other.message
    unsigned = judge("04.presigned-get", fetched, **dict(context, url=url.split("?")[0]))
    assert unsigned.status == "failed" and "presigned" in unsigned.message
    elsewhere = judge("04.presigned-get", fetched, **dict(context, key="day/b.log"))
    assert elsewhere.status == "failed" and "another object" in elsewhere.message
    # without the signature the object store refuses the same GET
    assert requests.get(url.split("?")[0], timeout=30).status_code == 403
    s3.delete_object(Bucket="presign-check", Key="day/a.log")
    conn.object_store.delete_container("presign-check")
