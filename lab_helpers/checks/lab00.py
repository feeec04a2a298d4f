"""Lab 00's checks: reading the hierarchy. Answers come from the course's data (data/delta.yaml,
data/artifacts.yaml), never from the learner's cell."""

from __future__ import annotations

from .answers import number_answer
from .artifacts import read_placement, storage_of
from .registry import Verdict, register


def _a40_partition() -> tuple[int, int]:
    """(nodes, GPUs per node) of Delta's gpuA40x4 partition, as data/delta.yaml lists it."""
    from ..batch.delta import partitions

    node_type = partitions()["gpuA40x4"].node_type
    return int(node_type.nodes), int(node_type.gpus)


@register(
    "00.a40-count",
    points=1,
    question="How many A40 GPUs does Delta's gpuA40x4 partition hold?",
    shape="a whole number (an int, without quotes)",
    hidden="that the answer is a whole number (an int)",
)
def _a40_count(answer, context) -> Verdict:
    nodes, per_node = _a40_partition()
    value, problem = number_answer(answer, whole=True)
    if problem is not None:
        return problem
    if value == nodes * per_node:
        return Verdict.ok(f"{nodes} nodes x {per_node} A40 each.")
    if value == nodes:
        return Verdict.no("That is the number of nodes. How many A40 sit in each node?")
    if value == per_node:
        return Verdict.no("That is one node's GPUs. How many nodes does the partition have?")
    return Verdict.no("Count the nodes in the partition, then the GPUs in one node, and multiply.")


@register(
    "00.storage-for",
    points=2,
    question="Object or block storage for each artifact of the hierarchy?",
    shape="a dict: each artifact's name (the keys in the stub) to 'object' or 'block'",
    hidden="each artifact placed as the project's page groups it, re-read from the hierarchy",
)
def _storage_for(answer, context) -> Verdict:
    placed, problem = read_placement(answer)
    if problem is not None:
        return problem
    truth = storage_of()
    wrong = [name for name, kind in truth.items() if placed[name] != kind]
    right = len(truth) - len(wrong)
    if not wrong:
        return Verdict.ok(
            "Objects are written whole and read over HTTP; block volumes are disks one VM reads at random."
        )
    return Verdict(right / len(truth), f"{right} of {len(truth)} right. Look again at: {', '.join(wrong)}.")


@register(
    "00.why-separate",
    points=2,
    question="Why are storage and compute separate in the hierarchy?",
    manual=True,
    shape="text (a str): two or three sentences",
    covers="what happens to a VM's data when the VM is deleted, and who reads a video upload and how",
)
def _why_separate(answer, context) -> Verdict:  # read by a person; never called for manual checks
    return Verdict.no("An instructor grades this answer.")
