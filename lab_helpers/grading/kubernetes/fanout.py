"""``lab grade --on kubernetes``: each submission becomes a Job on the class's cluster.

The same pipeline as on one machine (:mod:`..pipeline`), split where the key must stay behind:

1. ``read``, ``stamp``, ``sanitise`` here, in the grader's process (they need the key's copy of
   the given cells; what comes out holds no hidden check);
2. ``execute`` in a pod: the sanitised notebook and where each answer lives go in a ConfigMap, a Job
   runs the grader image's executor on it, and the answer log comes back on the pod's output; a lab
   that checks its cloud sends its state probes by name (no judge), which the pod runs against the
   submission's own sandbox after their cells, and their snapshots come back in the answer log;
3. ``judge`` here again, with the grader's own checks, as the run's result arrives.

Results are written as each Job finishes (``gradebook.json`` and the submission's feedback), so a
run that stops is resumed by running it again: what is in the gradebook is skipped unless named
with ``--regrade``. A Job that fails is run once more; a second failure gives the submission a row
that names both reasons. The derived files (grades.csv, lms.csv, summary, manual sheet) are written
at the end, the same as local grading writes them.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ...config import SANDBOX, resolve_backend, sandbox_boot_seconds
from ...errors import MissingPiece, UsageError
from ..batch import open_gradebook
from ..feedback import feedback_name, write_feedback
from ..gradebook import Gradebook
from ..grades import SubmissionGrade
from ..hidden import load_hidden, state_probes
from ..isolation import Isolation, Limits
from ..key import load_key
from ..pipeline import STEPS, Log, Settings, Work, collect, record_execution
from . import cluster as kc
from . import manifests, transfer
from .progress import RunStatus

POLL_S = 0.25
PULL_GRACE_S = 30.0  # how long a pod may wait on an image pull (or a bad config) before the attempt fails
STEP = dict(STEPS)


def default_image() -> str:
    """The grader image of this course version (the sandbox registry holds it; a live cluster pulls what CI pushed)."""
    import lab_helpers

    return f"visualizing-compute/grader:{lab_helpers.__version__}"


@dataclass
class Attempt:
    work: Work
    name: str
    nonce: str
    number: int  # 0, then 1 for the retry
    started: float = field(default_factory=time.monotonic)
    first_started: float = 0.0
    reasons: list[str] = field(default_factory=list)


def _run_step(name: str, work: Work, s: Settings) -> None:
    """One step with local grading's rule: a step that raises is recorded and the submission goes on."""
    try:
        STEP[name](work, s)
    except Exception as exc:
        work.grade.problems.append(f"the grader failed in step {name!r}: {type(exc).__name__}: {exc}")
        s.log(f"ERROR {work.submission}: step {name}: {type(exc).__name__}: {exc}")
        if name == "judge":
            work.grade.lines = []


# labs a grading pod cannot run yet, and why (each says what to do instead)
NOT_IN_A_POD: dict[str, str] = {}
# labs whose kernel runs the course's kubectl and helm: their Jobs get the image's pinned copies
TOOL_LABS = frozenset({"05"})


def _check_tools(lab: str, sandbox: bool) -> None:
    """On the sandbox the registry's grader image carries the instructor's own pinned tools: refuse without them."""
    from ...tools import installed, pinned, tools_dir

    if lab not in TOOL_LABS or not sandbox:
        return  # a live cluster's image installed them at build time; its pod refuses in one line if not
    _, wanted = pinned()
    missing = [t.name for t in wanted if t.name not in installed()]
    if missing:
        raise MissingPiece(
            f"lab {lab}'s kernel runs the course's kubectl and helm, which the sandbox's grader image takes from "
            f"yours, and {' and '.join(missing)} is missing (or not the pinned digest) in {tools_dir()}.",
            hint="Run `lab tools install`, then `lab sandbox stop; lab sandbox start`, and grade again.",
        )


def _settings(lab: str, key_dir: Path | str, out: Path, limits: Limits, backend: str, where: str) -> Settings:
    key = load_key(key_dir, lab)
    if key.lab in NOT_IN_A_POD:
        raise UsageError(
            f"lab {key.lab} cannot be graded as Kubernetes Jobs yet: {NOT_IN_A_POD[key.lab]}.",
            hint="Grade it on one machine: lab grade --jobs N (without --on kubernetes).",
        )
    hidden = load_hidden(key.hidden_source())
    state_probes(hidden)  # refuses, before anything runs, a probe a pod could not import by name
    log = Log(out / "grading.log")
    isolation = Isolation(False, None, "each submission runs in a Kubernetes Job; the pod isolates its kernel")
    settings = Settings(key, hidden, limits, isolation, backend, [], out / "logs", log)
    log(f"lab {key.lab} version {key.version}; Kubernetes Jobs on {where}; limits: {limits.describe()}")
    return settings


class FanOut:
    """One run: a queue of submissions, at most ``parallelism`` Jobs in flight."""

    def __init__(
        self,
        s: Settings,
        gradebook: Gradebook,
        out: Path,
        k8s: kc.Cluster,
        *,
        image: str,
        parallelism: int,
        status: RunStatus,
        pull_grace_s: float = PULL_GRACE_S,
        progress: bool = True,
    ) -> None:
        self.s, self.gradebook, self.out, self.k8s = s, gradebook, out, k8s
        self.image, self.parallelism, self.status = image, max(1, parallelism), status
        self.pull_grace_s = pull_grace_s
        self.progress = progress
        self.run = secrets.token_hex(4)
        self.probes = state_probes(s.hidden)
        self.flying: dict[str, Attempt] = {}
        self.env = {
            "HOME": manifests.SCRATCH_DIR,
            "TMPDIR": manifests.SCRATCH_DIR,
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAB_SANDBOX_BOOT_S": f"{sandbox_boot_seconds():g}",
        }

    # -- one submission ------------------------------------------------------------------------
    def _prepare(self, submission: str) -> Work:
        learner = Path(submission).name.removesuffix(".ipynb").removesuffix(".submission")
        work = Work(submission, SubmissionGrade(submission, learner, self.s.key.lab))
        for name in ("read", "stamp", "sanitise"):
            _run_step(name, work, self.s)
        return work

    def _start(self, work: Work, number: int, first_started: float = 0.0, reasons: list[str] | None = None) -> None:
        import nbformat

        assert work.sanitised is not None
        name = manifests.job_name(self.s.key.lab, work.submission, number)
        nonce = transfer.new_nonce()
        body = transfer.payload(
            notebook=nbformat.writes(work.sanitised.nb),
            learner=work.grade.learner,
            limits=self.s.limits.as_dict(),
            captures=[c.__dict__ for c in self.s.key.captures],
            backend=self.s.backend,
            nonce=nonce,
            require_isolation=self.k8s.target.sandbox,
            probes=self.probes,
            tools=self.s.key.lab in TOOL_LABS,
        )
        lab = self.s.key.lab
        self.k8s.submit(
            manifests.payload_config_map(name, lab, self.run, body),
            manifests.grading_job(
                name,
                lab=lab,
                run=self.run,
                submission=work.submission,
                image=self.image,
                limits=self.s.limits,
                env=self.env,
                tools=lab in TOOL_LABS,
            ),
        )
        attempt = Attempt(work, name, nonce, number, reasons=list(reasons or []))
        attempt.first_started = first_started or attempt.started
        self.flying[name] = attempt
        self.s.log(f"job {name} started for {work.submission} (attempt {number + 1})")

    def _finish(self, attempt: Attempt) -> SubmissionGrade:
        """Judge what came back (or nothing, after two failures), and write the row and its feedback now."""
        work = attempt.work
        _run_step("judge", work, self.s)
        self.s.log(f"graded {work.submission}: {work.grade}")
        self.gradebook.upsert(work.grade)
        self.gradebook.save(self.out)
        write_feedback(work.grade, self.out / "feedback")
        return work.grade

    def _collect(self, attempt: Attempt, pods: list[dict]) -> bool:
        """Read the result from the pod's log; False (with a reason) when it has none."""
        pod = kc.pod_name(pods)
        try:
            execution, files, isolation = transfer.decode_result(self.k8s.log(pod) if pod else "", attempt.nonce)
        except transfer.ResultMissing as exc:
            attempt.reasons.append(str(exc))
            return False
        keep = self.s.logs / feedback_name(attempt.work.submission).removesuffix(".html")
        keep.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (keep / name).write_text(text, encoding="utf-8")
        execution.executed = keep / "executed.ipynb" if files.get("executed.ipynb") else None
        attempt.work.execution = execution
        record_execution(attempt.work, self.s)
        self.s.log(f"pod {pod} of {attempt.work.submission}: {isolation}")
        return True

    def _failed(self, attempt: Attempt, reason: str) -> None:
        """Retry once; after a second failure the submission is graded from nothing, naming both reasons."""
        attempt.reasons.append(reason)
        self.k8s.delete(attempt.name)
        del self.flying[attempt.name]
        line = f"{attempt.work.submission}: {reason}"
        self.s.log(f"job {attempt.name} failed: {line}")
        if attempt.number == 0:
            self.status.retried.append(line)
            self._start(attempt.work, 1, attempt.first_started, attempt.reasons)
            return
        attempt.work.grade.problems.append(
            "the grading Job failed twice, so nothing of the notebook was run: " + "; ".join(attempt.reasons)
        )
        self.status.failed += 1
        self._done(attempt)

    def _done(self, attempt: Attempt) -> None:
        self._finish(attempt)
        self.status.done += 1
        self.status.seconds.append(round(time.monotonic() - attempt.first_started, 2))

    # -- the loop ------------------------------------------------------------------------------
    def _poll(self) -> None:
        jobs, pods = self.k8s.jobs(self.run), self.k8s.pods(self.run)
        for name, attempt in list(self.flying.items()):
            job, its_pods = jobs.get(name), pods.get(name, [])
            state = kc.finished(job) if job else ""
            if kc.exit_code(its_pods) == transfer.REFUSED:
                message = kc.failure_reason(job or {}, its_pods)
                self.k8s.delete(name)
                raise MissingPiece(f"the grading pod refused to run submissions: {message}", hint=REFUSAL_HINT)
            if state == "Complete":
                ok = self._collect(attempt, its_pods)
                if not ok:
                    self._failed(attempt, attempt.reasons.pop())
                    continue
                self.k8s.delete(name)
                del self.flying[name]
                self._done(attempt)
            elif state == "Failed":
                self._failed(attempt, kc.failure_reason(job or {}, its_pods))
            else:
                late = time.monotonic() - attempt.started > self.pull_grace_s
                unplaced = kc.unschedulable(its_pods)
                if unplaced and late:  # no submission will fare better: stop the run, keep what was graded
                    raise MissingPiece(
                        f"no node of the cluster can run a grading pod: {unplaced}",
                        hint="Add nodes with room for the pod's requests (lab cluster create on the sandbox), or "
                        "lower --memory-mb; then run the same command again (what was graded is kept).",
                    )
                stuck = kc.stuck_reason(its_pods)
                if stuck and late:
                    self._failed(attempt, stuck)

    def grade(self, submissions: list[str]) -> None:
        from tqdm import tqdm

        queue = deque(submissions)
        self.k8s.ensure_policy()
        with tqdm(
            total=len(submissions),
            unit="notebook",
            file=sys.stderr,
            disable=not self.progress,
            desc=f"grading lab {self.s.key.lab} on Kubernetes",
        ) as bar:
            try:
                while queue or self.flying:
                    while queue and len(self.flying) < self.parallelism:
                        work = self._prepare(queue.popleft())
                        if work.sanitised is None:  # unreadable: nothing to run, the row says why
                            self._done(Attempt(work, "", "", 0, first_started=time.monotonic()))
                        else:
                            self._start(work, 0)
                    self.status.running = len(self.flying)
                    self.status.save(self.out)
                    bar.n = self.status.done
                    bar.refresh()
                    if self.flying:
                        time.sleep(POLL_S)
                        self._poll()
            finally:
                for name in list(self.flying):  # an interrupted run leaves nothing running on the cluster
                    self.k8s.delete(name)
                self.status.running = 0
                self.status.save(self.out)
            bar.n = self.status.done
            bar.refresh()


REFUSAL_HINT = (
    "Apply the fix the message names on the cluster's nodes, then run the same command again (what was graded is kept)."
)


def grade_on_kubernetes(
    lab: str,
    key_dir: Path | str,
    out: Path | str,
    submissions: list[str],
    *,
    context: str | None = None,
    kubeconfig: Path | str | None = None,
    parallelism: int = 2,
    limits: Limits | None = None,
    backend: str = SANDBOX,
    image: str | None = None,
    regrade: list[str] | None = None,
    progress: bool = True,
    pull_grace_s: float = PULL_GRACE_S,
) -> Gradebook:
    """Grade ``submissions`` as Kubernetes Jobs into ``out``; what ``out`` already graded is skipped."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = collect(submissions)
    backend = resolve_backend(backend)
    target = kc.resolve_target(context, kubeconfig)
    limits = limits or Limits()
    s = _settings(lab, key_dir, out, limits, backend, target.describe())
    _check_tools(s.key.lab, target.sandbox)
    gradebook = open_gradebook(out, s.key, s.log)
    forced = {str(Path(r).resolve()) for r in regrade or []}
    graded = {g.submission for g in gradebook.grades}
    todo = [f for f in files if f not in graded or str(Path(f).resolve()) in forced]
    skipped = len(files) - len(todo)
    if skipped:
        s.log(f"{skipped} submissions already graded in {out}: skipped (--regrade SUBMISSION grades one again)")
    status = RunStatus(s.key.lab, target.describe(), len(todo), skipped, parallelism)
    run = FanOut(
        s,
        gradebook,
        out,
        kc.Cluster(target),
        image=image or default_image(),
        parallelism=parallelism,
        status=status,
        pull_grace_s=pull_grace_s,
        progress=progress,
    )
    run.grade(todo)
    gradebook.write_all(out)
    status.finished = True
    status.save(out)
    s.log(f"wrote {out / 'grades.csv'} ({len(gradebook.grades)} rows)")
    return gradebook
