"""Lab 04 "Block vs object storage": checks. Where each artifact of the hierarchy belongs follows
the seed page's storage list (Cinder volumes: VM boot and file system, model weights; Swift/S3:
cluster logs, video uploads, terraform state)."""

from __future__ import annotations

import hashlib

from .core import Verdict, register

# artifact -> (storage, the reason a learner should be able to give)
PLACEMENT = {
    "VM boot disk": ("block", "an OS needs a file system: small random reads and writes, in place, by one VM"),
    "model weights": ("block", "the model service reads them at start-up as files on a volume mounted by its node "
                               "(a PVC); large, read often, rewritten rarely"),
    "cluster logs": ("object", "written once, appended as new objects, read rarely; many writers from many nodes; "
                               "listed by date prefix"),
    "video uploads": ("object", "large blobs uploaded from anywhere over HTTP, read whole or by byte range, never edited in place"),
    "terraform state": ("object", "one small document shared by everyone who runs terraform, read and written whole over HTTP "
                                  "(an S3 backend), versioned"),
}
ALIASES = {"block": "block", "volume": "block", "cinder": "block", "object": "object", "swift": "object", "s3": "object",
           "container": "object", "bucket": "object"}


@register("04.where-it-belongs", points=5, question="For each artifact of the hierarchy: block (a Cinder volume) or object (Swift)?")
def _where(answer, context):
    if not isinstance(answer, dict):
        return Verdict.no("Answer with a dict: {artifact: 'block' or 'object'} for each artifact listed.")
    wrong, missing = [], []
    for artifact, (expected, why) in PLACEMENT.items():
        given = answer.get(artifact)
        if given is None:
            missing.append(artifact)
        elif ALIASES.get(str(given).strip().lower()) != expected:
            wrong.append(f"{artifact}: {expected} storage fits better ({why})")
    right = len(PLACEMENT) - len(wrong) - len(missing)
    score = right / len(PLACEMENT)
    if missing:
        return Verdict(score, f"{right} of {len(PLACEMENT)} right; no answer for: {', '.join(missing)}.")
    if wrong:
        return Verdict(score, f"{right} of {len(PLACEMENT)} right. " + "; ".join(wrong) + ".")
    return Verdict.ok("All five placed as the seed page's infrastructure does.")


@register("04.why", points=3, question="Why does each artifact belong where you put it? (the access pattern, who reads and writes, how big)",
          manual=True)
def _why(answer, context):
    return Verdict(0.0, "An instructor grades this answer.")


@register("04.log-tail", points=2, question="Read only the last bytes of the log object with one ranged GET.",
          hidden="the tail matches the log the lab wrote, rebuilt by the grader")
def _log_tail(answer, context):
    data = answer.encode() if isinstance(answer, str) else bytes(answer) if isinstance(answer, (bytes, bytearray)) else None
    if data is None:
        return Verdict.no("Answer with the text (str) the ranged GET returned: body.decode().")
    n = int(context["tail_bytes"])
    if len(data) == int(context["object_bytes"]):
        return Verdict.no("That is the whole object: ask for the last bytes only, with range='bytes=-N'.")
    if len(data) != n:
        return Verdict.no(f"Got {len(data)} bytes, the exercise asks for the last {n}: range='bytes=-{n}'.")
    if hashlib.sha256(data).hexdigest() != context["tail_sha256"]:
        return Verdict.no(f"{n} bytes, but not the last {n} of the object: a suffix range is 'bytes=-{n}'.")
    return Verdict.ok(f"The last {n} bytes, with one request that did not move the rest of the object.")


# a deletion that must come before another one: (first, then, why)
CLEANUP_BEFORE = (
    ("floating ip", "server", "a floating IP points at the server's port"),
    ("volume attachment", "volume", "an attached volume cannot be deleted"),
    ("object", "container", "a container must be empty to be deleted"),
)


@register("04.cleanup-order", points=1, question="Order the lab's deletions the way the APIs require.",
          hidden="the grader sees your volume attached to the lab's server, and nothing of the lab left after the cleanup")
def _cleanup_order(answer, context):
    steps = sorted(str(s) for s in context.get("steps", []))
    if not isinstance(answer, list) or sorted(str(a) for a in answer) != steps:
        return Verdict.no(f"Answer with a list holding each of {steps} once, first deletion first.")
    broken = [why for first, then, why in CLEANUP_BEFORE
              if first in answer and then in answer and answer.index(first) > answer.index(then)]
    if broken:
        right = len(CLEANUP_BEFORE) - len(broken)
        return Verdict(right / len(CLEANUP_BEFORE), f"That order fails: {broken[0]}.")
    return Verdict.ok("Each deletion comes after what depended on it: the order `course.cleanup` follows.")
