"""The Job controller, as in Kubernetes 1.35: pods up to ``parallelism`` until ``completions`` succeed
(NonIndexed, or Indexed with a completion index per pod), failed pods replaced after the real
back-off (10 s doubling, at most 6 min) until ``backoffLimit`` is passed, ``activeDeadlineSeconds``,
``suspend``, ``ttlSecondsAfterFinished``. Each pod carries the ``batch.kubernetes.io/job-tracking``
finalizer until its end is counted (through ``status.uncountedTerminatedPods``). A Job first gets
``SuccessCriteriaMet`` or ``FailureTarget``, and ``Complete`` or ``Failed`` once none of its pods is
still running or terminating, with the real reasons and messages."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ...errors import ApiError
from ..events import record
from ..resources import by_plural
from .common import (
    Obj,
    active,
    clone,
    condition,
    controller_ref,
    name_of,
    namespace_of,
    now_stamp,
    parse_time,
    phase,
    pod_from_template,
    ready,
    restarts,
    terminating,
    uid_of,
)
from .loop import Change, Context, Controller, Key, api_code
from .replicaset import deletion_order

JOBS = by_plural("jobs", "batch")
PODS = by_plural("pods")
COMPONENT = "job-controller"
TRACKING = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")


def job_condition(kind: str, reason: str, message: str, status: str = "True") -> Obj:
    now = now_stamp()
    return {
        "type": kind,
        "status": status,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def finished(job: Obj) -> str | None:
    """``Complete`` or ``Failed`` when the Job has ended."""
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond is not None and cond.get("status") == "True":
            return kind
    return None


def _index(pod: Obj) -> int | None:
    value = (pod.get("metadata", {}).get("annotations") or {}).get(INDEX)
    return int(value) if value is not None and str(value).isdigit() else None


def _parse_indexes(text: str) -> set[int]:
    out: set[int] = set()
    for part in filter(None, (text or "").split(",")):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def format_indexes(indexes: Iterable[int]) -> str:
    """``0-2,4``: the form ``status.completedIndexes`` takes."""
    ordered = sorted(set(indexes))
    runs: list[str] = []
    start = prev = None
    for i in [*ordered, None]:
        if i is not None and prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            runs.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    return ",".join(runs)


class JobController(Controller):
    name = COMPONENT

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()
        self._backoff: dict[str, tuple[int, float]] = {}  # job uid -> (failures since the last success, when)

    def observe(self, change: Change) -> None:
        ns = namespace_of(change.obj)
        if change.res is JOBS:
            self.queue.add((ns, name_of(change.obj)))
        elif change.res is PODS:
            for pod in (change.old, change.obj):
                ref = controller_ref(pod) if pod else None
                if ref and ref.get("kind") == "Job":
                    self.queue.add((ns, str(ref.get("name"))))
            if change.type != "DELETED" and self._orphan(change.obj):
                self.queue.add(("pod", ns, name_of(change.obj)))

    def _orphan(self, pod: Obj) -> bool:
        """A pod holding the tracking finalizer whose Job is gone."""
        if TRACKING not in (pod.get("metadata", {}).get("finalizers") or []):
            return False
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return True
        job = self.cache.get(JOBS, namespace_of(pod), str(ref.get("name")))
        return job is None or uid_of(job) != ref.get("uid")

    def keys(self) -> Iterable[Key]:
        keys: list[Key] = [(namespace_of(j), name_of(j)) for j in self.cache.list(JOBS)]
        keys += [("pod", namespace_of(p), name_of(p)) for p in self.cache.list(PODS) if self._orphan(p)]
        return keys

    # -- pods' finalizers ------------------------------------------------------------------------
    def release(self, pod: Obj) -> None:
        if TRACKING not in (pod.get("metadata", {}).get("finalizers") or []):
            return
        changed = clone(pod)
        changed["metadata"]["finalizers"] = [f for f in changed["metadata"]["finalizers"] if f != TRACKING]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        try:
            self.objects.update(PODS, changed)
        except ApiError as err:
            if api_code(err) != 404:
                raise

    def reconcile(self, key: Key) -> float | None:
        if len(key) == 3:
            _, ns, name = key
            pod = self.cache.get(PODS, ns, name)
            if pod is not None and self._orphan(pod):
                self.release(pod)
            return None
        ns, name = key
        job = self.cache.get(JOBS, ns, name)
        if job is None:
            return None
        pods = [p for p in self.cache.list(PODS, ns) if (controller_ref(p) or {}).get("uid") == uid_of(job)]
        if finished(job):
            for pod in pods:
                self.release(pod)
            return self._ttl(job)
        return _JobPass(self, job, pods).run()

    def _ttl(self, job: Obj) -> float | None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None:
            return None
        status = job.get("status") or {}
        ended = parse_time(status.get("completionTime"))
        if ended is None:
            ended = parse_time((condition(job, "Failed") or {}).get("lastTransitionTime"))
        left = (ended or self.ctx.now()) + int(ttl) - self.ctx.now()
        if left > 0:
            return left + 0.05
        try:
            self.objects.delete(JOBS, namespace_of(job), name_of(job), propagation="Foreground")
        except ApiError as err:
            if api_code(err) != 404:
                raise
        return None

    def failures(self, job: Obj) -> tuple[int, float]:
        with self._lock:
            return self._backoff.get(uid_of(job), (0, 0.0))

    def note(self, job: Obj, failed: int, succeeded: int) -> None:
        with self._lock:
            count, when = self._backoff.get(uid_of(job), (0, 0.0))
            if succeeded:
                count = 0
            if failed:
                count, when = count + failed, self.ctx.now()
            self._backoff[uid_of(job)] = (count, when)


class _JobPass:
    """One reconcile of one unfinished Job."""

    def __init__(self, ctl: JobController, job: Obj, pods: list[Obj]) -> None:
        self.ctl = ctl
        self.objects = ctl.objects
        self.job = job
        self.pods = pods
        self.spec = job.get("spec") or {}
        self.status: Obj = clone(job.get("status") or {})
        self.now = ctl.ctx.now()
        completions, parallelism = self.spec.get("completions"), self.spec.get("parallelism")
        if completions is None and parallelism is None:
            completions = parallelism = 1
        self.completions: int | None = None if completions is None else int(completions)
        self.parallelism = 1 if parallelism is None else int(parallelism)
        self.indexed = self.spec.get("completionMode") == "Indexed" and self.completions is not None

    def event(self, reason: str, message: str, type: str = "Normal") -> None:
        record(self.objects, self.job, reason, message, type=type, component=COMPONENT)

    def save(self) -> None:
        changed = clone(self.job)
        changed["status"] = self.status
        self.job = self.objects.update(JOBS, changed)
        self.status = clone(self.job.get("status") or {})

    # -- counting finished pods ------------------------------------------------------------------
    def count_finished(self) -> None:
        """Newly finished pods: into ``uncountedTerminatedPods``, finalizers off, then into the counters."""
        uncounted = self.status.setdefault("uncountedTerminatedPods", {})
        seen = set(uncounted.get("succeeded") or []) | set(uncounted.get("failed") or [])
        fresh = {"Succeeded": [], "Failed": []}  # type: dict[str, list[Obj]]
        for pod in self.pods:
            if (
                phase(pod) in fresh
                and TRACKING in (pod["metadata"].get("finalizers") or [])
                and uid_of(pod) not in seen
            ):
                fresh[phase(pod)].append(pod)
        if fresh["Succeeded"] or fresh["Failed"]:
            for field, ph in (("succeeded", "Succeeded"), ("failed", "Failed")):
                if fresh[ph]:
                    uncounted[field] = list(uncounted.get(field) or []) + [uid_of(p) for p in fresh[ph]]
            self.save()
            self.ctl.note(self.job, len(fresh["Failed"]), len(fresh["Succeeded"]))
            uncounted = self.status.setdefault("uncountedTerminatedPods", {})
        by_uid = {uid_of(p): p for p in self.pods}
        done_indexes = _parse_indexes(self.status.get("completedIndexes", ""))
        for field in ("succeeded", "failed"):
            uids = list(uncounted.get(field) or [])
            for uid in uids:
                found = by_uid.get(uid)
                if found is not None:
                    self.ctl.release(found)
                    index = _index(found)
                    if field == "succeeded" and self.indexed and index is not None:
                        done_indexes.add(index)
            self.status[field] = int(self.status.get(field) or 0) + len(uids)
        self.status["uncountedTerminatedPods"] = {}
        if self.indexed:
            self.status["completedIndexes"] = format_indexes(i for i in done_indexes if i < (self.completions or 0))
            self.status["succeeded"] = len(_parse_indexes(self.status["completedIndexes"]))

    # -- the decision ------------------------------------------------------------------------------
    def refresh(self) -> list[Obj]:
        """The Job's pods as they are now (after this pass's own writes); returns the active ones."""
        self.ctl.cache.sync()
        ns, uid = namespace_of(self.job), uid_of(self.job)
        self.pods = [p for p in self.ctl.cache.list(PODS, ns) if (controller_ref(p) or {}).get("uid") == uid]
        return [p for p in self.pods if active(p)]

    def run(self) -> float | None:
        suspended = bool(self.spec.get("suspend"))
        if not suspended and not self.status.get("startTime"):
            self.status["startTime"] = now_stamp()
        self.refresh()
        self.count_finished()  # counted and judged on one snapshot: a pod that ends meanwhile waits for the next pass
        live = [p for p in self.pods if active(p)]
        failed = int(self.status.get("failed") or 0)
        if (self.spec.get("template") or {}).get("spec", {}).get("restartPolicy") == "OnFailure":
            failed += sum(restarts(p) for p in live)
        succeeded = int(self.status.get("succeeded") or 0)
        conds = {c.get("type"): c for c in self.status.get("conditions") or [] if c.get("status") == "True"}
        target = conds.get("FailureTarget") or conds.get("SuccessCriteriaMet")
        again: float | None = None
        if target is None:
            limit = int(self.spec.get("backoffLimit", 6))
            deadline = self.spec.get("activeDeadlineSeconds")
            started = parse_time(self.status.get("startTime"))
            if failed > limit:
                target = self.add_condition("FailureTarget", *BACKOFF_EXCEEDED)
            elif deadline is not None and started is not None and not suspended:
                if self.now - started >= int(deadline):
                    target = self.add_condition("FailureTarget", *DEADLINE_EXCEEDED)
                else:
                    again = started + int(deadline) - self.now + 0.05
            if target is None and self.succeeded_enough(succeeded, live):
                target = self.add_condition("SuccessCriteriaMet", *COMPLETIONS_REACHED)
        if target is not None:
            if target["type"] == "FailureTarget" and live:
                self.delete(live)
                live = self.refresh()
            if not live and not any(terminating(p) for p in self.pods):
                self.finish(target)
            self.write_counts(live)
            return again
        if suspended:
            self.delete(live)
            self.add_condition("Suspended", "JobSuspended", "Job suspended", event="Suspended")
            self.write_counts(self.refresh())
            return None
        if conds.get("Suspended"):
            self.add_condition("Suspended", "JobResumed", "Job resumed", status="False", event="Resumed")
        wait = self.manage(live, succeeded)
        self.write_counts(self.refresh())
        waits = [w for w in (wait, again) if w is not None]
        return min(waits) if waits else None

    def succeeded_enough(self, succeeded: int, live: list[Obj]) -> bool:
        if self.completions is None:
            return succeeded > 0 and not live
        return succeeded >= self.completions and not live

    def add_condition(self, kind: str, reason: str, message: str, status: str = "True", event: str = "") -> Obj:
        """Set a condition (and record its event) unless it is already there with that status and reason."""
        for old in self.status.get("conditions") or []:
            if old.get("type") == kind and old.get("status") == status and old.get("reason") == reason:
                return dict(old)
        cond = job_condition(kind, reason, message, status)
        conds = [c for c in self.status.get("conditions") or [] if c.get("type") != kind]
        self.status["conditions"] = [*conds, cond]
        if event:
            self.event(event, message)
        return cond

    def finish(self, target: Obj) -> None:
        if target["type"] == "SuccessCriteriaMet":
            self.add_condition("Complete", target["reason"], target["message"])
            self.status["completionTime"] = now_stamp()
            self.event("Completed", "Job completed")
        else:
            self.add_condition("Failed", target["reason"], target["message"])
            self.event(target["reason"], target["message"], type="Warning")

    def write_counts(self, live: list[Obj]) -> None:
        self.status["active"] = len(live)
        if not self.status["active"]:
            del self.status["active"]
        self.status["ready"] = sum(1 for p in live if ready(p))
        self.status["terminating"] = sum(1 for p in self.pods if terminating(p))
        self.status.setdefault("uncountedTerminatedPods", {})
        for field in ("succeeded", "failed"):
            if not self.status.get(field):
                self.status.pop(field, None)
        if self.status != (self.job.get("status") or {}):
            self.save()

    # -- pods ------------------------------------------------------------------------------------
    def delete(self, pods: list[Obj]) -> None:
        for pod in pods:
            try:
                self.objects.delete(PODS, namespace_of(pod), name_of(pod))
            except ApiError as err:
                if api_code(err) != 404:
                    raise
                continue
            self.event("SuccessfulDelete", f"Deleted pod: {name_of(pod)}")

    def manage(self, live: list[Obj], succeeded: int) -> float | None:
        """Create or delete pods toward the number that should be running; seconds to wait for a back-off."""
        if self.completions is None:
            want = len(live) if succeeded > 0 else self.parallelism
        else:
            want = max(0, min(self.completions - succeeded, self.parallelism))
        if len(live) > want:
            self.delete(deletion_order(live)[: len(live) - want])
            return None
        missing = want - len(live)
        if missing <= 0 or self.ctl.namespace_closing(namespace_of(self.job)):
            return None
        if self.spec.get("podReplacementPolicy") == "Failed" and any(terminating(p) for p in self.pods):
            return None
        count, when = self.ctl.failures(self.job)
        if count:
            settings = self.ctl.ctx.settings
            delay = min(settings.job_backoff_s * 2 ** (count - 1), settings.job_backoff_max_s)
            if self.now < when + delay:
                return when + delay - self.now + 0.01
        indexes: list[int | None] = [None] * missing
        if self.indexed:
            busy = {_index(p) for p in live}
            done = _parse_indexes(self.status.get("completedIndexes", ""))
            free = [i for i in range(self.completions or 0) if i not in busy and i not in done]
            indexes = list(free[:missing])
        for index in indexes:
            self.create(index)
        return None

    def create(self, index: int | None) -> None:
        job = self.job
        uid = uid_of(job)
        labels = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name_of(job),
            "controller-uid": uid,
            "job-name": name_of(job),
        }
        notes = {}
        template = clone(self.spec.get("template") or {})
        prefix = f"{name_of(job)}-"
        if index is not None:
            labels[INDEX] = notes[INDEX] = str(index)
            prefix = f"{name_of(job)}-{index}-"
            pod_spec = template.setdefault("spec", {})
            pod_spec.setdefault("hostname", f"{name_of(job)}-{index}")
            for c in pod_spec.get("containers") or []:
                env = c.setdefault("env", [])
                if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                    env.append(
                        {
                            "name": "JOB_COMPLETION_INDEX",
                            "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{INDEX}']"}},
                        }
                    )
        for _ in range(3):
            pod = pod_from_template(
                template, job, JOBS, prefix, labels=labels, annotations=notes, finalizers=[TRACKING]
            )
            try:
                self.ctl.create(PODS, pod)
            except ApiError as err:
                if api_code(err) == 409:
                    continue
                self.event("FailedCreate", f"Error creating: {err}", type="Warning")
                raise
            self.event("SuccessfulCreate", f"Created pod: {name_of(pod)}")
            return
