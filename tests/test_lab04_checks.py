"""Lab 04's judges."""

from __future__ import annotations

import hashlib

from lab_helpers.checks import evaluate, get_spec

RIGHT = {"VM boot disk": "block", "model weights": "block", "cluster logs": "object", "video uploads": "object",
         "terraform state": "object"}


def judge(name, answer, **context):
    return evaluate(get_spec(name), answer, context)


def test_where_it_belongs():
    assert judge("04.where-it-belongs", RIGHT).status == "passed"
    assert judge("04.where-it-belongs", dict(RIGHT, **{"terraform state": "S3"})).status == "passed"  # aliases
    one_wrong = judge("04.where-it-belongs", dict(RIGHT, **{"cluster logs": "block"}))
    assert one_wrong.status == "partial" and one_wrong.earned == 4 and "cluster logs" in one_wrong.message
    missing = judge("04.where-it-belongs", {"VM boot disk": "block"})
    assert missing.status == "partial" and "no answer for" in missing.message
    assert judge("04.where-it-belongs", "block").status == "failed"
    assert judge("04.where-it-belongs", None).status == "not done"


def test_why_is_manual():
    result = judge("04.why", "because")
    assert result.status == "to be graded"
    assert judge("04.why", None).status == "not done"


def test_log_tail():
    body = b"".join(f"line {i}\n".encode() for i in range(100))
    ctx = {"tail_bytes": 50, "object_bytes": len(body), "tail_sha256": hashlib.sha256(body[-50:]).hexdigest()}
    assert judge("04.log-tail", body[-50:].decode(), **ctx).status == "passed"
    assert "whole object" in judge("04.log-tail", body.decode(), **ctx).message
    assert "last 50" in judge("04.log-tail", body[:50].decode(), **ctx).message
    assert "Got 40" in judge("04.log-tail", body[-40:].decode(), **ctx).message
