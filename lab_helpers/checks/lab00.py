"""Lab 00's checks: reading the hierarchy."""

from __future__ import annotations

from .core import Verdict, as_number, register

STORAGE_FOR = {
    "cluster logs": "object",
    "video uploads": "object",
    "terraform tfstate": "object",
    "VM boot + file system": "block",
    "model-service model weights": "block",
}


@register("00.a40-count", points=1, question="How many A40 GPUs does Delta's gpuA40x4 partition hold?",
          hidden="the answer is a whole number of GPUs, not text")
def _a40_count(answer, context) -> Verdict:
    value = as_number(answer)
    if value is None:
        return Verdict.no("Expected a whole number of GPUs.")
    if value == 400:
        return Verdict.ok("100 nodes x 4 A40 each = 400 GPUs.")
    if value == 100:
        return Verdict.no("That is the number of nodes. How many A40 sit in each node?")
    return Verdict.no("Count the nodes in the partition, then the GPUs in one node.")


@register("00.storage-for", points=2, question="Object or block storage for each artifact of the hierarchy?",
          hidden="exactly the five artifacts, each spelled 'object' or 'block'")
def _storage_for(answer, context) -> Verdict:
    if not isinstance(answer, dict):
        return Verdict.no("Expected a dict mapping each artifact to 'object' or 'block'.")
    given = {str(k).strip(): str(v).strip().lower() for k, v in answer.items()}
    missing = [k for k in STORAGE_FOR if k not in given]
    if missing:
        return Verdict.no(f"Missing artifacts: {', '.join(missing)}.")
    wrong = [k for k, v in STORAGE_FOR.items() if given[k] != v]
    right = len(STORAGE_FOR) - len(wrong)
    if not wrong:
        return Verdict.ok("Objects are written whole and read over HTTP; block volumes are disks one VM reads at random.")
    return Verdict(right / len(STORAGE_FOR), f"{right} of {len(STORAGE_FOR)} right. Look again at: {', '.join(wrong)}.")


@register("00.why-separate", points=2, question="Why are storage and compute separate in the hierarchy?", manual=True)
def _why_separate(answer, context) -> Verdict:  # read by a person; never called for manual checks
    return Verdict.no("An instructor grades this answer.")
