"""Lab 04 "Block vs object storage": checks. Where each artifact of the hierarchy belongs follows
the project's storage list in data/artifacts.yaml (Cinder volumes: VM boot disk, model weights;
Swift/S3: cluster logs, video uploads, terraform state). The ranged read is judged on the requests
the learner's connection made (lab_helpers.storage.objects.record_reads), not only on the bytes. The
presigned GET is judged on the bytes' size and MD5 against what Swift reports of the object written
through S3 (its ETag), and on the URL carrying a signature."""

from __future__ import annotations

import hashlib
from typing import Any

from .answers import fold
from .artifacts import read_placement, storage_of
from .registry import Verdict, register

__all__ = ["probe_leftovers", "probe_volumes"]

# canonical artifact name -> the reason a learner should be able to give for its storage
REASONS = {
    "VM boot disk": "an OS needs a file system: small random reads and writes, in place, by one VM",
    "model weights": "the model service reads them at start-up as files on a volume mounted by its node "
    "(a PVC); large, read often, rewritten rarely",
    "cluster logs": "written once, appended as new objects, read rarely; many writers from many nodes; listed by date prefix",
    "video uploads": "large blobs uploaded from anywhere over HTTP, read whole or by byte range, never edited in place",
    "terraform state": "one small document shared by everyone who runs terraform, read and written whole over HTTP "
    "(an S3 backend), versioned",
}


@register(
    "04.where-it-belongs",
    points=5,
    question="For each artifact of the hierarchy: block (a Cinder volume) or object (Swift)?",
    shape="a dict: each artifact's name (the stub's keys) -> 'block' or 'object'",
)
def _where(answer, context):
    placed, problem = read_placement(answer)
    if problem is not None:
        return problem
    expected = storage_of()
    wrong = [
        f"{name}: {kind} storage fits better ({REASONS.get(name, '')})"
        for name, kind in expected.items()
        if placed.get(name) != kind
    ]
    right = len(expected) - len(wrong)
    if wrong:
        return Verdict(right / len(expected), f"{right} of {len(expected)} right. " + "; ".join(wrong) + ".")
    return Verdict.ok(f"All {len(expected)} placed as the project's infrastructure does.")


@register(
    "04.why",
    points=3,
    question="Why does each artifact belong where you put it? (the access pattern, who reads and writes, how big)",
    manual=True,
    shape="a str: a sentence for each artifact",
    covers="for each artifact: who reads and writes it, how (whole, in place, by range), how big, and from where",
)
def _why(answer, context):
    return Verdict(0.0, "An instructor grades this answer.")


def _method(reads, n: int, object_bytes: int) -> Verdict | None:
    """The verdict on how the bytes were fetched, from the recorded GETs (None: one ranged GET of n bytes)."""
    if not isinstance(reads, list):
        return Verdict.no(
            "The check needs the record of your requests: keep the cell's `with record_reads(conn) as reads:` "
            "line, read the object inside it, and leave the check line as it is."
        )
    gets = [r for r in reads if isinstance(r, dict)]
    if not gets:
        return Verdict.no(
            "No GET of the log object was made inside the `with record_reads(conn)` block: read it there, "
            "with conn.object_store.download_object(..., range=...)."
        )
    if len(gets) > 1:
        moved = sum(int(r.get("bytes", 0)) for r in gets)
        return Verdict(0.5, f"{len(gets)} GETs of the object, {moved} bytes in all: one ranged request is enough.")
    read = gets[0]
    got, asked = int(read.get("bytes", 0)), str(read.get("range") or "")
    if not asked or got >= object_bytes > n:
        return Verdict.no(
            f"The bytes are right, but the request moved the whole object: "
            f"{'no Range header was sent' if not asked else 'the store ignored the Range header'}, "
            f"{got} bytes came back (status {read.get('status')}), and the last {n} were cut out on your "
            f"machine. Ask the store for them instead: range='bytes=-{n}' sends a Range header, and the "
            f"store answers 206 Partial Content with {n} bytes. For a 4 GB video that is the difference "
            f"between 4 GB and a few KB crossing the network."
        )
    if got > n:
        return Verdict.no(
            f"The request asked for {asked} and {got} bytes came back, more than the {n} needed: "
            f"a suffix range is 'bytes=-{n}'."
        )
    return None


@register(
    "04.log-tail",
    points=2,
    question="Read only the last bytes of the log object with one ranged GET.",
    hidden="the tail matches the log the lab wrote, rebuilt by the grader",
    shape="a str: the last 200 bytes of the log, decoded",
)
def _log_tail(answer, context):
    data = (
        answer.encode()
        if isinstance(answer, str)
        else bytes(answer)
        if isinstance(answer, (bytes, bytearray))
        else None
    )
    if data is None:
        return Verdict.no("Answer with the text (str) the ranged GET returned: body.decode().")
    n, object_bytes = int(context["tail_bytes"]), int(context["object_bytes"])
    if len(data) == object_bytes:
        return Verdict.no(f"That is the whole object: ask for the last bytes only, with range='bytes=-{n}'.")
    if len(data) != n:
        return Verdict.no(f"Got {len(data)} bytes, the exercise asks for the last {n}: range='bytes=-{n}'.")
    if hashlib.sha256(data).hexdigest() != context["tail_sha256"]:
        return Verdict.no(f"{n} bytes, but not the last {n} of the object: a suffix range is 'bytes=-{n}'.")
    method = _method(context.get("requests"), n, object_bytes)
    if method is not None:
        return method
    read = context["requests"][0]
    return Verdict.ok(
        f"The last {n} bytes with one request: Range {read['range']}, status {read['status']}, "
        f"{read['bytes']} bytes moved of the object's {object_bytes}."
    )


@register(
    "04.presigned-get",
    points=2,
    question="Download the object written through S3 with a presigned URL, without credentials.",
    shape="a str: the log's text, as `requests.get(url).text` returned it",
)
def _presigned_get(answer, context):
    url = context.get("url")
    if not isinstance(url, str) or "X-Amz-Signature=" not in url or "X-Amz-Credential=" not in url:
        return Verdict.no(
            "`url` is not a presigned URL: make it with s3.generate_presigned_url('get_object', "
            "Params={'Bucket': bucket, 'Key': key}, ExpiresIn=...), whose query carries the signature."
        )
    if not url.split("?")[0].endswith(f"/{context['bucket']}/{context['key']}"):
        return Verdict.no(f"The URL names another object: sign a GET of {context['key']} in {context['bucket']}.")
    if isinstance(answer, (bytes, bytearray)):
        data = bytes(answer)
    elif isinstance(answer, str):
        data = answer.encode()
    else:
        return Verdict.no(f"Expected the text (`requests.get(url, timeout=30).text`), got {type(answer).__name__}.")
    size = int(context["object_bytes"])
    if len(data) != size:
        return Verdict.no(
            f"{len(data)} bytes, but the object holds {size}: download it whole through the URL "
            "(an error's XML body is not the object: look at response.status_code)."
        )
    if hashlib.md5(data, usedforsecurity=False).hexdigest() != str(context["etag"]).strip('"'):
        return Verdict.no("That text differs from the object's (its MD5 is not the ETag): download it through `url`.")
    return Verdict.ok(
        f"{size} bytes through a URL that carries its own signature: their MD5 is the ETag Swift reports, "
        "so the object written through S3 came back over plain HTTP, no credentials sent."
    )


# a deletion that must come before another one: (first, then, why)
CLEANUP_BEFORE = (
    ("floating ip", "server", "a floating IP points at the server's port"),
    ("volume attachment", "volume", "an attached volume cannot be deleted"),
    ("object", "container", "a container must be empty to be deleted"),
)


@register(
    "04.cleanup-order",
    points=1,
    question="Order the lab's deletions the way the APIs require.",
    shape="a list of the names in `steps` (str), first deletion first",
    hidden="the grader sees your volume attached to the lab's server, and nothing of the lab left after the cleanup",
)
def _cleanup_order(answer, context):
    steps = [str(s) for s in context.get("steps", [])]
    if not isinstance(answer, (list, tuple)):
        return Verdict.no(
            f"Answer with a list of the {len(steps)} names in `steps` (each a str), first deletion first; "
            f"got a {type(answer).__name__}."
        )
    by_fold = {fold(s): s for s in steps}
    unknown = [repr(a) for a in answer if not isinstance(a, str) or fold(a) not in by_fold]
    if unknown:
        return Verdict.no(
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in `steps`: copy the names from it."
        )
    answer = [by_fold[fold(a)] for a in answer]
    missing = [s for s in steps if s not in answer]
    doubled = sorted({a for a in answer if answer.count(a) > 1})
    if missing or doubled:
        said = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"{', '.join(doubled)} more than once"] if doubled else []
        )
        return Verdict.no(f"Each of the {len(steps)} steps once: {'; '.join(said)}.")
    broken = [
        why
        for first, then, why in CLEANUP_BEFORE
        if first in answer and then in answer and answer.index(first) > answer.index(then)
    ]
    if broken:
        right = len(CLEANUP_BEFORE) - len(broken)
        return Verdict(right / len(CLEANUP_BEFORE), f"That order fails: {broken[0]}.")
    return Verdict.ok("Each deletion comes after what depended on it: the order `course.cleanup` follows.")


# -- what the grader reads from the submission's own cloud (state checks' probes) -----------------
# Probes are not secret (the judges of their snapshots are): they live here so that a grading pod,
# which never sees the key, can run them by name.


def probe_volumes(conn: Any) -> list[dict]:
    """This learner's lab-04 volumes, their status, and whether a lab-04 server holds them, as Cinder says now."""
    from ..marks import Marks

    prefix = Marks.for_lab("04").name_prefix()
    servers = {s.id for s in conn.compute.servers() if s.name.startswith(prefix)}
    return [
        {
            "name": v.name,
            "status": v.status,
            "on_lab_server": any(a.get("server_id") in servers for a in v.attachments or []),
        }
        for v in conn.block_storage.volumes(details=True)
        if v.name.startswith(prefix)
    ]


def probe_leftovers(conn: Any) -> dict:
    """What still carries this learner's lab-04 marks (or names), right after the cleanup cell."""
    from ..marks import Marks
    from ..resources.inventory import find

    found = find(conn, learner=Marks.for_lab("04").learner, lab="04")
    return {"left": [f"{f.kind} {f.name or f.id}" for f in found], "not_checked": list(found.skipped)}
