"""What crosses between the grader and a grading pod, as data.

In: the payload (the sanitised notebook, where each check's answer lives, the limits, the learner's
name, the backend, whether its kernel runs the grader's kubectl and helm, and for a lab that checks
its cloud the state probes by name and the cell after which each runs): no hidden check, no judge,
no points, no key. The probes' snapshots come back in the answer log as data, and the grader
judges them. Out: the run's answer log and files,
printed by the pod on its standard output between two lines that carry a nonce chosen by the
grader, gzipped and base64-encoded in short lines. The learner's kernel cannot write there (it runs
in namespaces of its own below the pod's grader, its output captured into the notebook), and the
nonce is not in anything it can read.
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets
from dataclasses import asdict
from typing import Any

from ..execute import Capture, Execution

FORMAT = 1
LINE = 76
FILES = ("events.jsonl", "worker.log", "executed.ipynb")
REFUSED = 3  # the pod's exit code for "stop the run": every pod would refuse the same way


class ResultMissing(RuntimeError):
    """The pod's log holds no complete result (it was killed, or never started the grader)."""


def new_nonce() -> str:
    return secrets.token_hex(12)


def payload(
    *,
    notebook: str,
    learner: str,
    limits: dict,
    captures: list[dict],
    backend: str,
    nonce: str,
    require_isolation: bool,
    probes: list[dict[str, str]] | None = None,
    tools: bool = False,
) -> str:
    """The pod's job, as JSON text (a ConfigMap's value); ``probes`` from :func:`..hidden.state_probes`."""
    return json.dumps(
        {
            "format": FORMAT,
            "notebook": notebook,
            "learner": learner,
            "limits": limits,
            "captures": captures,
            "backend": backend,
            "nonce": nonce,
            "require_isolation": require_isolation,
            "tools": tools,
            "probes": [
                {k: str(p.get(k, "")) for k in ("check", "part", "after", "probe")} for p in probes or []
            ],  # names and positions only
        },
        sort_keys=True,
    )


def _marks(nonce: str) -> tuple[str, str]:
    return f"==== lab-grade result {nonce} begin ====", f"==== lab-grade result {nonce} end ===="


def encode_result(nonce: str, execution: Execution, files: dict[str, str], isolation: str) -> str:
    """The block the pod prints: the execution summary and the run's files."""
    data = asdict(execution)
    data["executed"] = None
    body = json.dumps({"format": FORMAT, "execution": data, "files": files, "isolation": isolation})
    packed = base64.b64encode(gzip.compress(body.encode("utf-8"))).decode("ascii")
    begin, end = _marks(nonce)
    lines = [packed[i : i + LINE] for i in range(0, len(packed), LINE)]
    return "\n".join([begin, *lines, end]) + "\n"


def decode_result(log: str, nonce: str) -> tuple[Execution, dict[str, str], str]:
    """(execution, files, isolation) from a pod's log; :class:`ResultMissing` when there is none."""
    begin, end = _marks(nonce)
    lines = log.splitlines()
    try:
        first = len(lines) - 1 - lines[::-1].index(begin)
        last = lines.index(end, first)
    except ValueError:
        tail = " / ".join(line for line in lines[-3:] if line.strip())
        raise ResultMissing(f"the pod printed no result{f' (its log ends: {tail[:300]})' if tail else ''}") from None
    try:
        body = json.loads(gzip.decompress(base64.b64decode("".join(lines[first + 1 : last]))))
    except (ValueError, OSError) as exc:
        raise ResultMissing(f"the pod's result could not be read ({type(exc).__name__})") from None
    data: dict[str, Any] = body["execution"]
    data["captures"] = [Capture(**c) for c in data.get("captures", [])]
    return Execution(**data), dict(body.get("files") or {}), str(body.get("isolation", ""))
