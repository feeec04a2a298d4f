"""Inside a grading pod: ``python -m lab_helpers.grading.kubernetes.pod /payload/job.json``.

Runs one sanitised submission with the same executor as local grading (:func:`..execute.execute`)
and prints the answer log for the grader, which judges it in its own process: the key never
enters this pod. A lab that checks its cloud names its state probes (course functions in
``lab_helpers.checks``) and the cells after which they run; the executor runs them against the
submission's own sandbox exactly as on one machine, and their snapshots go back in the answer log.

The kernel is isolated here too, as on one machine: its own network (loopback only), pid and
mount namespaces, a fresh minimal root, uid 65534 with no capabilities. The pod runs as an
unprivileged user, so these namespaces are made inside a user namespace. A pod of the sandbox's
cluster is a process on the instructor's machine, so there this isolation is required and the pod
refuses (exit 3, one line saying what to fix) when it cannot be made. On a real cluster the pod
itself is the container runtime's isolation (own namespaces, no route out under the
NetworkPolicy, read-only root); there the kernel runs in the pod's own namespaces when user
namespaces are refused (a seccomp profile may forbid them), and the log says which.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from ..isolation import NOBODY_UID, Isolation, Limits
from .transfer import REFUSED

MAX_FILE_CHARS = 2_000_000


class Refused(RuntimeError):
    """Local isolation is required here and cannot be made."""


def user_namespaces() -> tuple[bool, str]:
    """(True, "") when this pod can make a kernel's namespaces from inside (a user namespace first); else (False, why)."""
    import shutil

    from ..isolation import loopback_in_namespaces

    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return False, f"`{tool}` is not in the grader image (install util-linux and iproute2)"
    ok, why = loopback_in_namespaces(user=True)
    if not ok:
        return False, why
    # no probe kernel here (it would cost each pod two seconds): the kernel itself reports its uid and
    # capabilities before any learner cell runs, and nothing runs if it kept one (worker.check_identity)
    return True, ""


def pod_isolation(required: bool) -> Isolation:
    ok, detail = user_namespaces()
    if ok:
        return Isolation(True, NOBODY_UID, "", identity=detail, user_namespace=True)
    if required:
        raise Refused(
            f"cannot isolate the learner's kernel inside this pod ({detail}); fix: let unprivileged users make "
            "user namespaces on the node (sysctl -w user.max_user_namespaces=15000, and on Ubuntu "
            "kernel.apparmor_restrict_unprivileged_userns=0), or grade locally with `lab grade --jobs N`"
        )
    return Isolation(False, None, f"the pod is the isolation (no user namespaces here: {detail})")


def require_tools() -> str:
    """The folder of this pod's pinned kubectl and helm (``LAB_TOOLS_DIR``), verified by digest; else :class:`Refused`.

    A lab whose kernel runs them cannot pass without them (the kernel has no network to download
    them), and every pod of the run would lack them the same way, so the run stops at the first.
    """
    from ...errors import LabError
    from ...tools import installed, pinned, tools_dir

    try:
        _, wanted = pinned()
        have = installed()
        folder = tools_dir()
    except (OSError, ValueError, KeyError, LabError) as exc:
        have, wanted, folder = {}, [], Path("?")
        detail = f"{type(exc).__name__}: {exc}"
    else:
        missing = [t.name for t in wanted if t.name not in have]
        if not missing and wanted:
            return str(folder)
        detail = f"{' and '.join(missing) or 'the tools'} missing or not the pinned digest in {folder}"
    raise Refused(
        f"this lab's kernel runs the course's kubectl and helm, and this grader image has no verified copies "
        f"({detail}); fix: on the sandbox run `lab tools install`, then "
        "`lab sandbox stop; lab sandbox start` (its registry's grader image takes them at start); on a live "
        "cluster rebuild and push the Dockerfile's grader target"
    )


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= MAX_FILE_CHARS else text[-MAX_FILE_CHARS:]


def run(job: dict) -> str:
    """Execute the payload's notebook; the block to print."""
    import nbformat

    from ..execute import execute
    from ..hidden import probe_source
    from .transfer import FILES, encode_result

    isolation = pod_isolation(bool(job.get("require_isolation", True)))
    if job.get("tools"):
        require_tools()  # the executor hands them to the kernel read-only (LAB_TOOLS_DIR)
    nb = nbformat.reads(job["notebook"], as_version=4)
    keep = Path(tempfile.mkdtemp(prefix="lab-grade-kept-"))
    execution = execute(
        nb,
        learner=job["learner"],
        limits=Limits(**job["limits"]),
        isolation=isolation,
        captures=job["captures"],
        mask=[],  # nothing of the grader's is in this pod; the payload folder is not bound into the kernel's root
        backend=job["backend"],
        keep_dir=keep,
        state_source=probe_source(job.get("probes") or []),  # probes by name, no judge
    )
    files = {name: _read(keep / name) for name in FILES}
    return encode_result(job["nonce"], execution, files, isolation.describe())


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m lab_helpers.grading.kubernetes.pod JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    try:
        block = run(job)
    except Refused as exc:
        print(f"lab-grade pod: refusing to run the submission: {exc}", file=sys.stderr, flush=True)
        try:
            Path("/dev/termination-log").write_text(str(exc)[:4000], encoding="utf-8")
        except OSError:
            pass
        return REFUSED
    sys.stdout.write(block)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
