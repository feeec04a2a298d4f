"""Lab 04's grading corpus: the scores each submission must get, with lab 04's own state checks.

Auto-graded maximum: 14 points. Public: 04.log-tail 2 (the bytes, and one ranged GET seen by the
connection), 04.where-it-belongs 5, 04.presigned-get 2 (the bytes a presigned URL gave, against what
Swift reports of the object written through S3), 04.cleanup-order 1.
Hidden: 04.log-tail:hidden 1 (the tail of the log the grader rebuilds). On the cloud:
04.cleanup-order:attached 1 (the volume attached to the lab's server, probed after the attach
cell), 04.cleanup-order:cleanup 2 (nothing left after the cleanup cell). 04.why (3) is graded by
hand. State points count only when 04.cleanup-order was answered.
"""

from __future__ import annotations

from corpus.hostile import LabCorpus, builder, cell, fill

SETUP, TAIL, WHERE, WHY, PRESIGN, ORDER = "a8dc1a69", "7b061962", "a2b356cc", "bd5d7eb6", "cdb88a19", "f0a93c52"
FULL = 14
RANGED = 'conn.object_store.download_object(log_name, container=logs, range="bytes=-200").decode()'
PLACEMENT = (
    'placement = {"VM boot disk": "block", "model weights": "block", "cluster logs": "object",\n'
    '             "video uploads": "object", "terraform state": "object"}'
)


SIGNED = 'url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)'


def fill_presigned(nb, fetched: str) -> None:
    """The URL signed as the solution does; ``fetched`` is the learner's download."""
    fill(nb, PRESIGN, "url = None", SIGNED)
    fill(nb, PRESIGN, "fetched = None", f"fetched = {fetched}")


def fill_tail(nb, code: str) -> None:
    """The tail's stub sits inside the `with record_reads(conn)` block: the answer goes there too."""
    fill(nb, TAIL, "    tail = None", f"    tail = {code}")


def fill_placement(nb, code: str) -> None:
    """The placement's stub is a dict over several lines (each value ...): all of them give way to ``code``."""
    target = cell(nb, WHERE)
    lines = target.source.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("placement = {"))
    last = next(i for i in range(first, len(lines)) if lines[i].startswith("}"))
    lines[first : last + 1] = code.splitlines()
    target.source = "\n".join(lines)


def right(nb) -> None:
    fill_tail(nb, RANGED)
    fill_placement(nb, PLACEMENT)
    fill(
        nb,
        WHY,
        "why = None",
        'why = "Block for what a file system rewrites in place; objects for blobs written whole."',
    )
    fill_presigned(nb, "requests.get(url, timeout=30).text")
    fill(
        nb,
        ORDER,
        "order = None",
        'order = ["floating ip", "volume attachment", "server", "volume", "object", "container"]',
    )


def partly_wrong(nb) -> None:
    """The last 200 bytes cut from the whole object: the right text by the wrong method (0, hidden 1), three of
    five placed (3), the URL's signature cut off before the download (403: 0), the order right (1+1+2): 8."""
    fill_tail(nb, "conn.object_store.download_object(log_name, container=logs)[-200:].decode()")
    fill_placement(
        nb,
        PLACEMENT.replace('"VM boot disk": "block"', '"VM boot disk": "object"').replace(
            '"cluster logs": "object"', '"cluster logs": "block"'
        ),
    )
    fill(nb, WHY, "why = None", 'why = "Because."')
    fill_presigned(nb, 'requests.get(url.split("?")[0], timeout=30).text')
    fill(
        nb,
        ORDER,
        "order = None",
        'order = ["floating ip", "volume attachment", "server", "volume", "object", "container"]',
    )


def wrong(nb) -> None:
    """Wrong answers, and the order left undone (so no state point is earned): 0."""
    fill_tail(nb, '"x" * 200')
    fill_placement(nb, 'placement = {"VM boot disk": "object"}')


SPEC = LabCorpus(
    lab="04",
    checks=["04.log-tail", "04.where-it-belongs", "04.presigned-get", "04.cleanup-order"],
    right=right,
    partly_wrong=partly_wrong,
    wrong=wrong,
    first=TAIL,
    late=WHERE,
    slot=(TAIL, "tail", RANGED),
    deleted=(SETUP, ORDER),
    scores={
        "correct": FULL,
        "partly-wrong": 8,
        "untouched": 0,
        "infinite-loop": FULL,
        "loop-ignores-interrupt": 3,  # the tail (2 + hidden 1), captured before the loop
        "memory-bomb": FULL,
        "sys-exit": FULL,
        "os-exit": 3,  # the kernel ends after the tail
        "kill-kernel": 8,  # killed after the placement: the order and its state checks are not done
        "deleted-cells": FULL - 4,  # the order's cell deleted: restored as released, not done
        "duplicated-reordered": FULL,
        "redefined-check": 0,
        "monkeypatch": 0,
        "fake-pass-lines": 0,
        "read-hidden": FULL,
        "huge-output": FULL,
        "network-call": FULL,
    },
)


build = builder(SPEC)
