"""The CronJob controller, as kube-controller-manager's (v2) in Kubernetes 1.35: on each start time of
``spec.schedule`` (five fields or a macro, in ``spec.timeZone``) it creates the Job
``<cronjob>-<minutes since the epoch>`` from ``jobTemplate``, owned by the CronJob and annotated with
its scheduled time; ``concurrencyPolicy`` Allow/Forbid/Replace, ``suspend``, ``startingDeadlineSeconds``
(a start later than that is missed, with a MissSchedule event), more than 100 missed start times
reported as too many, ``status.active``/``lastScheduleTime``/``lastSuccessfulTime``, and the finished
Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit`` deleted, oldest first.

Its clock is ``clock`` (the wall clock; tests replace it), and it sleeps until the next start time.
Everything it needs is in the store, so after a restart it picks up the start times it missed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ...errors import ApiError
from ..events import record
from ..objects import rfc3339
from ..resources import by_plural
from .common import (
    Obj,
    clone,
    condition,
    controller_ref,
    deleting,
    name_of,
    namespace_of,
    owner_ref,
    parse_time,
    uid_of,
)
from .cron_schedule import Schedule, ScheduleError, job_name, missed
from .loop import Change, Context, Controller, Key, api_code

CRONJOBS = by_plural("cronjobs", "batch")
JOBS = by_plural("jobs", "batch")
COMPONENT = "cronjob-controller"
SCHEDULED_AT = "batch.kubernetes.io/cronjob-scheduled-timestamp"
TOO_MANY = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"


def job_finished(job: Obj) -> str | None:
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond is not None and cond.get("status") == "True":
            return kind
    return None


def _stamp(when: float) -> str:
    return rfc3339(when)


def job_for(cronjob: Obj, sched: Schedule, scheduled: float) -> Obj:
    """The Job of one start time, as ``getJobFromTemplate2`` makes it."""
    template = cronjob.get("spec", {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    meta: Obj = {
        "name": job_name(name_of(cronjob), scheduled),
        "namespace": namespace_of(cronjob),
        "labels": dict(tmeta.get("labels") or {}),
        "annotations": {**(tmeta.get("annotations") or {}), SCHEDULED_AT: sched.stamp(scheduled)},
        "ownerReferences": [owner_ref(cronjob, CRONJOBS)],
    }
    if not meta["labels"]:
        del meta["labels"]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": clone(template.get("spec") or {})}


def _ref(job: Obj) -> Obj:
    meta = job["metadata"]
    return {
        "kind": "Job",
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": "batch/v1",
        "resourceVersion": str(meta.get("resourceVersion", "")),
    }


class CronJobController(Controller):
    name = COMPONENT

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.clock: Callable[[], float] = ctx.now

    def observe(self, change: Change) -> None:
        if change.res is CRONJOBS:
            self.queue.add((namespace_of(change.obj), name_of(change.obj)))
        elif change.res is JOBS:
            for job in (change.old, change.obj):
                ref = controller_ref(job) if job else None
                if ref and ref.get("kind") == "CronJob":
                    self.queue.add((namespace_of(change.obj), str(ref.get("name"))))

    def keys(self) -> Iterable[Key]:
        return [(namespace_of(c), name_of(c)) for c in self.cache.list(CRONJOBS)]

    def event(self, cronjob: Obj, reason: str, message: str, type: str = "Normal") -> None:
        record(self.objects, cronjob, reason, message, type=type, component=COMPONENT)

    def reconcile(self, key: Key) -> float | None:
        ns, name = key
        cronjob = self.cache.get(CRONJOBS, ns, name)
        if cronjob is None or deleting(cronjob):
            return None
        return _Pass(self, cronjob).run()


class _Pass:
    """One look at one CronJob: its Jobs, then the start time that is due, then the history."""

    def __init__(self, ctl: CronJobController, cronjob: Obj) -> None:
        self.ctl = ctl
        self.objects = ctl.objects
        self.cronjob = cronjob
        self.spec = cronjob.get("spec") or {}
        self.status: Obj = clone(cronjob.get("status") or {})
        self.now = ctl.clock()
        self.jobs = [
            j
            for j in ctl.cache.list(JOBS, namespace_of(cronjob))
            if (controller_ref(j) or {}).get("uid") == uid_of(cronjob)
        ]

    def run(self) -> float | None:
        changed = self.track_jobs()
        try:
            sched = Schedule.parse(str(self.spec.get("schedule") or ""), self.spec.get("timeZone"))
        except ScheduleError as err:
            if str(err).startswith("unknown time zone"):
                self.ctl.event(
                    self.cronjob,
                    "UnknownTimeZone",
                    f"invalid timeZone: {self.spec.get('timeZone')!r}: {err}",
                    "Warning",
                )
            else:
                self.ctl.event(
                    self.cronjob,
                    "UnparseableSchedule",
                    f"unparseable schedule: {self.spec.get('schedule')!r} : {err}",
                    "Warning",
                )
            self.save(changed)
            return None
        after: float | None = None
        if not self.spec.get("suspend"):
            changed, after = self.schedule(sched, changed)
        self.save(changed)
        self.clean_history()
        return after

    # -- the Jobs it made ------------------------------------------------------------------
    def track_jobs(self) -> bool:
        active = list(self.status.get("active") or [])
        uids = {str(r.get("uid")) for r in active}
        changed = False
        for job in self.jobs:
            done = job_finished(job)
            uid = uid_of(job)
            if uid not in uids and not done:
                self.ctl.event(
                    self.cronjob,
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {name_of(job)}",
                    "Warning",
                )
                active.append(_ref(job))
                uids.add(uid)
                changed = True
            elif uid in uids and done:
                active = [r for r in active if r.get("uid") != uid]
                uids.discard(uid)
                self.ctl.event(self.cronjob, "SawCompletedJob", f"Saw completed job: {name_of(job)}, condition: {done}")
                changed = True
            if done == "Complete":
                ended = parse_time((job.get("status") or {}).get("completionTime"))
                last = parse_time(self.status.get("lastSuccessfulTime"))
                if ended is not None and (last is None or ended > last):
                    self.status["lastSuccessfulTime"] = _stamp(ended)
                    changed = True
        present = {uid_of(j) for j in self.jobs}
        for ref in list(active):
            if (
                ref.get("uid") not in present
                and self.objects.get(JOBS, namespace_of(self.cronjob), str(ref.get("name"))) is None
            ):
                self.ctl.event(self.cronjob, "MissingJob", f"Active job went missing: {ref.get('name')}")
                active.remove(ref)
                changed = True
        if changed or active != (self.status.get("active") or []):
            if active:
                self.status["active"] = active
            else:
                self.status.pop("active", None)
        return changed

    # -- the start time that is due --------------------------------------------------------
    def schedule(self, sched: Schedule, changed: bool) -> tuple[bool, float | None]:
        meta = self.cronjob["metadata"]
        earliest = (
            parse_time(self.status.get("lastScheduleTime")) or parse_time(meta.get("creationTimestamp")) or self.now
        )
        deadline = self.spec.get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, self.now - int(deadline))
        due = missed(sched, earliest, self.now)
        wait = sched.next_after(self.now) - self.now + 0.1
        if due.latest is None:
            return changed, wait
        if due.too_many:
            self.ctl.event(self.cronjob, "TooManyMissedTimes", TOO_MANY, "Warning")
        scheduled = due.latest
        if deadline is not None and scheduled + int(deadline) < self.now:
            when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(scheduled))
            self.ctl.event(self.cronjob, "MissSchedule", f"Missed scheduled time to start a job: {when}", "Warning")
            return changed, wait
        name = job_name(name_of(self.cronjob), scheduled)
        active = list(self.status.get("active") or [])
        if any(r.get("name") == name for r in active) or parse_time(self.status.get("lastScheduleTime")) == scheduled:
            return changed, wait
        policy = self.spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self.ctl.event(
                self.cronjob,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy is Forbid",
            )
            return changed, wait
        if policy == "Replace":
            for ref in active:
                if not self.delete_job(str(ref.get("name"))):
                    return changed, 1.0
                changed = True
            active = []
        try:
            job = self.ctl.create(JOBS, job_for(self.cronjob, sched, scheduled))
        except ApiError as err:
            if api_code(err) == 409:  # made by another writer (or before a restart): it is counted then
                return changed, wait
            self.ctl.event(self.cronjob, "FailedCreate", f"Error creating job: {err}", "Warning")
            raise
        self.ctl.event(self.cronjob, "SuccessfulCreate", f"Created job {name_of(job)}")
        active.append(_ref(job))
        self.status["active"] = active
        self.status["lastScheduleTime"] = _stamp(scheduled)
        return True, wait

    def delete_job(self, name: str) -> bool:
        try:
            self.objects.delete(JOBS, namespace_of(self.cronjob), name, propagation="Background")
        except ApiError as err:
            if api_code(err) != 404:
                self.ctl.event(self.cronjob, "FailedDelete", f"Deleted job: {err}", "Warning")
                return False
        self.ctl.event(self.cronjob, "SuccessfulDelete", f"Deleted job {name}")
        return True

    def save(self, changed: bool) -> None:
        if not changed and self.status == (self.cronjob.get("status") or {}):
            return
        obj = clone(self.cronjob)
        obj["status"] = self.status
        self.cronjob = self.objects.update(CRONJOBS, obj)

    # -- history -----------------------------------------------------------------------------
    def clean_history(self) -> None:
        for kind, field, default in (
            ("Complete", "successfulJobsHistoryLimit", 3),
            ("Failed", "failedJobsHistoryLimit", 1),
        ):
            limit = self.spec.get(field, default)
            if limit is None:
                continue
            done = [j for j in self.jobs if job_finished(j) == kind and not deleting(j)]
            done.sort(key=lambda j: (parse_time((j.get("status") or {}).get("startTime")) or 0.0, name_of(j)))
            for job in done[: max(0, len(done) - int(limit))]:
                self.delete_job(name_of(job))
