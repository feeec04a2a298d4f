"""CronJob schedules, the HPA's arithmetic and quota counting, without a server: pure functions with
a given clock, and the real CronJob controller in process (``k8s_sim``) with its clock replaced, so a
test moves time by hours without waiting for it."""

from __future__ import annotations

import calendar

import pytest
from k8s_sim import JOBS, NODES, Cluster, node

from lab_helpers.sandbox.kubernetes.controllers import autoscaler as hpa
from lab_helpers.sandbox.kubernetes.controllers.amounts import canonical, milli, show
from lab_helpers.sandbox.kubernetes.controllers.cron_schedule import (
    Schedule,
    ScheduleError,
    expression,
    job_name,
    missed,
)
from lab_helpers.sandbox.kubernetes.controllers.quota_usage import missing_declarations, object_usage
from lab_helpers.sandbox.kubernetes.resources import by_plural
from lab_helpers.sandbox.kubernetes.wire import semantics

CRONJOBS = by_plural("cronjobs", "batch")
PODS = by_plural("pods")
PVCS = by_plural("persistentvolumeclaims")


def at(stamp: str) -> float:
    """``2026-03-01T10:00:00`` (UTC) as seconds since the epoch."""
    return float(
        calendar.timegm(tuple(int(x) for x in stamp.replace("T", "-").replace(":", "-").split("-")) + (0, 0, 0))
    )


# -- schedules ------------------------------------------------------------------------------------
def test_macros_and_fields_step_as_cron_does():
    assert expression("@hourly") == "0 * * * *"
    assert expression("  @daily ") == "0 0 * * *"
    sched = Schedule.parse("*/15 9-17 * * 1-5")
    friday_evening = at("2026-03-06T17:50:00")  # a Friday
    assert sched.next_after(friday_evening) == at("2026-03-09T09:00:00")  # Monday morning
    assert sched.latest_at_or_before(at("2026-03-09T09:14:59")) == at("2026-03-09T09:00:00")
    assert sched.latest_at_or_before(at("2026-03-09T09:15:00")) == at("2026-03-09T09:15:00")


def test_time_zone_moves_start_times_and_the_annotation():
    utc = Schedule.parse("0 9 * * *")
    tokyo = Schedule.parse("0 9 * * *", "Asia/Tokyo")
    now = at("2026-03-01T00:30:00")
    assert utc.next_after(now) == at("2026-03-01T09:00:00")
    assert tokyo.next_after(now) == at("2026-03-02T00:00:00")  # 09:00 in Tokyo is midnight UTC
    assert tokyo.stamp(at("2026-03-02T00:00:00")) == "2026-03-02T09:00:00+09:00"
    assert utc.stamp(at("2026-03-01T09:00:00")) == "2026-03-01T09:00:00Z"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("every minute", "expected exactly 5 fields, found 2: [every minute]"),
        ("@every 5m", "unrecognized descriptor: @every 5m"),
        ("TZ=UTC 0 * * * *", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"),
    ],
)
def test_bad_schedules_say_why(schedule, message):
    with pytest.raises(ScheduleError) as err:
        expression(schedule)
    assert str(err.value) == message


def test_validation_words_schedule_and_zone_errors_as_the_api_server():
    causes = semantics.check(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"schedule": "61 * * * *", "timeZone": "Mars/Olympus", "jobTemplate": {"spec": {}}},
        }
    )
    assert {c["field"]: c["message"] for c in causes} == {
        "spec.schedule": 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
        "spec.timeZone": 'Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    }


def test_missed_start_times_count_up_to_too_many():
    sched = Schedule.parse("* * * * *")
    now = at("2026-03-01T12:00:30")
    assert missed(sched, now - 20, now).latest is None  # the next start is still ahead
    three = missed(sched, at("2026-03-01T11:57:00"), now)
    assert (three.latest, three.count, three.too_many) == (at("2026-03-01T12:00:00"), 3, False)
    exactly = missed(sched, at("2026-03-01T10:20:00"), now)  # 100 minutes back: 100 missed, not too many
    assert (exactly.count, exactly.too_many) == (100, False)
    many = missed(sched, at("2026-02-27T12:00:00"), now)  # two days of minutes
    assert many.too_many and many.latest == at("2026-03-01T12:00:00")


def test_job_names_are_minutes_since_the_epoch():
    assert job_name("backup", at("2026-03-01T12:00:00")) == f"backup-{int(at('2026-03-01T12:00:00')) // 60}"


# -- the CronJob controller with a clock a test moves ---------------------------------------------
@pytest.fixture
def sim(tmp_path):
    c = Cluster(tmp_path)
    c.create(NODES, node("n1"))
    clock = [at("2026-03-01T11:58:30")]
    ctl = c.controller("cronjob-controller")
    ctl.clock = lambda: clock[0]

    def advance_to(stamp: str) -> None:
        clock[0] = at(stamp)
        for cj in c.list(CRONJOBS):
            ctl.queue.add(("default", cj["metadata"]["name"]))
        c.settle()

    c.advance_to = advance_to
    yield c
    c.stop()


def cronjob(name: str, schedule: str = "*/5 * * * *", outcome: str = "hold", **spec) -> dict:
    notes = {"sim/hold": "true"} if outcome == "hold" else {"sim/exit": outcome}
    template = {
        "metadata": {"annotations": notes},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
    }
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"backoffLimit": 0, "template": template}}, **spec},
    }


def create_cronjob(c: Cluster, body: dict) -> dict:
    """Created as if it last started at 11:55 that day (the store stamps creation with the wall clock,
    so the controller counts from ``lastScheduleTime``)."""
    body["status"] = {"lastScheduleTime": "2026-03-01T11:55:00Z"}
    return c.create(CRONJOBS, body)


def jobs(c: Cluster) -> list[str]:
    return sorted(j["metadata"]["name"] for j in c.list(JOBS) if not j["metadata"].get("deletionTimestamp"))


def test_a_start_time_makes_one_owned_annotated_job(sim):
    create_cronjob(sim, cronjob("tick"))
    sim.advance_to("2026-03-01T11:59:59")
    assert jobs(sim) == []
    sim.advance_to("2026-03-01T12:00:01")
    start = at("2026-03-01T12:00:00")
    assert jobs(sim) == [f"tick-{int(start) // 60}"]
    job = sim.list(JOBS)[0]
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2026-03-01T12:00:00Z"
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "tick", True)
    status = sim.get(CRONJOBS, "tick")["status"]
    assert status["lastScheduleTime"] == "2026-03-01T12:00:00Z"
    assert [a["name"] for a in status["active"]] == jobs(sim)
    sim.advance_to("2026-03-01T12:03:00")  # the same start time again: nothing new
    assert len(jobs(sim)) == 1
    assert sim.messages("SuccessfulCreate").count(f"Created job tick-{int(start) // 60}") == 1


def test_forbid_skips_while_one_runs_and_replace_swaps_it(sim):
    create_cronjob(sim, cronjob("solo", concurrencyPolicy="Forbid"))
    create_cronjob(sim, cronjob("swap", concurrencyPolicy="Replace"))
    first, second = int(at("2026-03-01T12:00:00")) // 60, int(at("2026-03-01T12:05:00")) // 60
    sim.advance_to("2026-03-01T12:00:05")
    assert jobs(sim) == [f"solo-{first}", f"swap-{first}"]
    sim.advance_to("2026-03-01T12:05:05")
    assert jobs(sim) == [f"solo-{first}", f"swap-{second}"]
    assert sim.messages("JobAlreadyActive") == [
        "Not starting job because prior execution is running and concurrency policy is Forbid"
    ]
    assert sim.messages("SuccessfulDelete") == [f"Deleted job swap-{first}"]
    assert [a["name"] for a in sim.get(CRONJOBS, "swap")["status"]["active"]] == [f"swap-{second}"]


def test_suspend_and_a_passed_starting_deadline_start_nothing(sim):
    create_cronjob(sim, cronjob("paused", suspend=True))
    create_cronjob(sim, cronjob("late", startingDeadlineSeconds=30))
    create_cronjob(sim, cronjob("patient", startingDeadlineSeconds=90))
    sim.advance_to("2026-03-01T12:01:00")  # 60 s after the 12:00 start: past 30 s, within 90 s
    assert jobs(sim) == [f"patient-{int(at('2026-03-01T12:00:00')) // 60}"]
    assert sim.get(CRONJOBS, "late")["status"]["lastScheduleTime"] == "2026-03-01T11:55:00Z"
    sim.advance_to("2026-03-01T12:05:10")  # the next start comes on time
    assert f"late-{int(at('2026-03-01T12:05:00')) // 60}" in jobs(sim)
    assert not any(j.startswith("paused-") for j in jobs(sim))


def test_too_many_missed_start_times_warns_and_still_starts_the_latest(sim):
    create_cronjob(sim, cronjob("every", schedule="* * * * *"))
    sim.advance_to("2026-03-01T14:00:10")  # about 120 minutes missed
    assert sim.messages("TooManyMissedTimes") == [
        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
    ]
    assert jobs(sim) == [f"every-{int(at('2026-03-01T14:00:00')) // 60}"]


def test_finished_jobs_leave_active_and_the_oldest_are_deleted_past_the_limits(sim):
    create_cronjob(sim, cronjob("ok", outcome="0", successfulJobsHistoryLimit=2))
    for minute in ("00", "05", "10", "15"):
        sim.advance_to(f"2026-03-01T12:{minute}:01")
        sim.wait_for(lambda: all(j.get("status", {}).get("completionTime") for j in sim.list(JOBS)), message="jobs end")
        sim.advance_to(f"2026-03-01T12:{minute}:02")
    kept = jobs(sim)
    assert kept == [f"ok-{int(at(f'2026-03-01T12:{m}:00')) // 60}" for m in ("10", "15")]
    status = sim.get(CRONJOBS, "ok")["status"]
    assert not status.get("active")
    assert status.get("lastSuccessfulTime")
    assert any(
        m.startswith("Saw completed job: ok-") and m.endswith(", condition: Complete")
        for m in sim.messages("SawCompletedJob")
    )
    assert len(sim.messages("SuccessfulDelete")) == 2


# -- the HPA's arithmetic -------------------------------------------------------------------------
def test_utilization_scales_to_the_ceiling_of_the_ratio():
    # 3 pods requesting 200m, using 300m each: 150% against 50% -> ratio 3 -> 9 pods
    got = hpa.replicas_for_utilization(3, dict.fromkeys("abc", 300), dict.fromkeys("abc", 200), 50)
    assert (got.replicas, got.utilization, got.average_milli) == (9, 150, 300)
    # 54% against 50%: within the 10% tolerance, no change
    assert hpa.replicas_for_utilization(4, dict.fromkeys("abcd", 108), dict.fromkeys("abcd", 200), 50).replicas == 4
    # 20% against 50% with 4 pods -> ceil(0.4 * 4) = 2
    assert hpa.replicas_for_utilization(4, dict.fromkeys("abcd", 40), dict.fromkeys("abcd", 200), 50).replicas == 2


def test_missing_and_unready_pods_damp_the_change():
    requests = dict.fromkeys("abcd", 100)
    # scale-up: a missing pod counts as 0%: (100+100+100+0)/400 = 75% vs 50% -> ceil(1.5*4) = 6
    up = hpa.replicas_for_utilization(4, dict.fromkeys("abc", 100), requests, 50, missing=["d"])
    assert up.replicas == 6
    # scale-down: a missing pod counts as 100%: (10+10+10+100)/400 = 32% vs 50% -> ceil(0.65*4) = 3
    down = hpa.replicas_for_utilization(4, dict.fromkeys("abc", 10), requests, 50, missing=["d"])
    assert down.replicas == 3
    # an unready pod on a scale-up counts as 0, and can bring the ratio inside the tolerance
    held = hpa.replicas_for_utilization(2, {"a": 105}, {"a": 100, "b": 100}, 50, unready=["b"])
    assert held.replicas == 2


def test_no_metrics_and_no_requests_are_errors_with_the_real_words():
    with pytest.raises(hpa.MetricError, match=r"did not receive metrics for targeted pods \(pods might be unready\)"):
        hpa.replicas_for_utilization(1, {}, {"a": 100}, 50)
    with pytest.raises(hpa.MetricError, match="no metrics returned matched known pods"):
        hpa.replicas_for_utilization(1, {"a": 100}, {}, 50)


def test_average_value_targets_use_raw_usage():
    got = hpa.replicas_for_average(2, {"a": 500, "b": 700}, 200)  # 1200m over 200m per pod -> 6
    assert (got.replicas, got.average_milli) == (6, 600)


def test_rate_policies_and_stabilization():
    behavior = hpa.behavior_of({})
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300
    memory = hpa.Memory()
    # scale-up from 2: Pods 4 -> 6, Percent 100 -> 4; Max picks 6
    assert hpa.limit_rate(memory, 2, 20, 1, 50, behavior, 1000.0) == (
        6,
        "ScaleUpLimit",
        "the desired replica count is increasing faster than the maximum scale rate",
    )
    assert hpa.limit_rate(memory, 2, 20, 1, 5, behavior, 1000.0)[:2] == (5, "TooManyReplicas")
    assert hpa.limit_rate(memory, 5, 0, 2, 10, behavior, 1000.0)[:2] == (2, "TooFewReplicas")
    # 4 pods were added 5 s ago (2 -> 6): the period started at 2, so Pods allows 2+4 = 6 and no more
    memory.ups.append((995.0, 4))
    assert hpa.limit_rate(memory, 6, 20, 1, 50, behavior, 1000.0)[0] == 6
    # stabilization: the highest recommendation of the window holds a scale-down back
    window = hpa.Memory()
    assert hpa.stabilize(window, 5, 5, 0, 60, 100.0)[0] == 5
    held, reason, _ = hpa.stabilize(window, 5, 2, 0, 60, 130.0)
    assert (held, reason) == (5, "ScaleDownStabilized")
    assert hpa.stabilize(window, 5, 2, 0, 60, 161.0)[0] == 2  # the 5 of t=100 has left the 60 s window


# -- quantities and quota counting -----------------------------------------------------------------
def test_quantities_add_up_in_canonical_form():
    assert canonical(milli("500m") + milli("500m")) == "1"
    assert canonical(milli("128Mi") * 2, True) == "256Mi"
    assert show("1000m") == "1" and show("1.5") == "1500m" and show("2Gi") == "2Gi"


def test_a_pod_counts_its_requests_limits_and_extended_resources():
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1"}}},
                {"name": "b", "resources": {"requests": {"cpu": "250m", "nvidia.com/gpu": "1"}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "2"}}}],
        },
        "status": {"phase": "Running"},
    }
    used = object_usage(PODS, pod)
    assert used["pods"] == 1000 and used["count/pods"] == 1000
    assert used["requests.cpu"] == 2000  # the init container alone asks more than both together
    assert used["requests.memory"] == milli("64Mi") and used["limits.cpu"] == 1000
    assert used["requests.nvidia.com/gpu"] == 1000
    assert object_usage(PODS, {**pod, "status": {"phase": "Succeeded"}}) == {}
    assert missing_declarations(pod, ["limits.cpu", "requests.memory", "pods"]) == (
        "limits.cpu for: b,i; requests.memory for: b,i"
    )
    claim = {"spec": {"resources": {"requests": {"storage": "5Gi"}}}}
    assert object_usage(PVCS, claim)["requests.storage"] == milli("5Gi")


# -- LimitRanger and ResourceQuota admission, on a store ---------------------------------------------
LIMITRANGES = by_plural("limitranges")
QUOTAS = by_plural("resourcequotas")


@pytest.fixture
def store_objects(tmp_path):
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.store import Store

    return Objects(Store(tmp_path))


def admit(objects, res, obj: dict, *, dry_run: bool = False, old: dict | None = None) -> dict:
    """Defaults, then LimitRanger's and ResourceQuota's mutate and validate, as a client's create meets them."""
    from lab_helpers.sandbox.kubernetes.apiserver import admission, defaults

    obj.setdefault("metadata", {}).setdefault("namespace", "lim")
    defaults.apply(res, obj, objects)
    req = admission.Request(objects, res, obj, old, "learner", dry_run)
    admission.quota.mutate(req)
    admission.quota.validate(req)
    return obj


def refusal(objects, res, obj: dict, old: dict | None = None) -> str:
    from lab_helpers.sandbox.errors import ApiError

    with pytest.raises(ApiError) as err:
        admit(objects, res, obj, old=old)
    assert err.value.response.status_code == 403
    return str(err.value)


def limit_range(objects, *items: dict) -> None:
    from lab_helpers.sandbox.kubernetes.apiserver import defaults

    body = {"metadata": {"name": "lr", "namespace": "lim"}, "spec": {"limits": list(items)}}
    defaults.apply(LIMITRANGES, body, objects)
    objects.create(LIMITRANGES, body)


def pod(name: str, **resources) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": resources}]},
    }


def test_limit_range_defaults_fall_back_from_max_and_fill_containers(store_objects):
    limit_range(
        store_objects, {"type": "Container", "max": {"cpu": "1", "memory": "1Gi"}, "defaultRequest": {"cpu": "100m"}}
    )
    made = admit(store_objects, PODS, pod("p"))
    assert made["spec"]["containers"][0]["resources"] == {
        "limits": {"cpu": "1", "memory": "1Gi"},
        "requests": {"cpu": "100m", "memory": "1Gi"},
    }
    assert made["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c"
    )
    assert made["status"]["qosClass"] == "Burstable"


def test_limit_range_refusals_word_as_the_real_plugin(store_objects):
    limit_range(
        store_objects,
        {"type": "Container", "min": {"cpu": "100m"}, "maxLimitRequestRatio": {"cpu": "2"}},
        {"type": "Pod", "max": {"memory": "1Gi"}},
        {"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}},
    )
    assert refusal(
        store_objects, PODS, pod("small", requests={"cpu": "50m"}, limits={"cpu": "50m", "memory": "64Mi"})
    ) == ('pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m')
    assert refusal(
        store_objects, PODS, pod("ratio", requests={"cpu": "100m"}, limits={"cpu": "500m", "memory": "64Mi"})
    ) == (
        'pods "ratio" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000'
    )
    both = refusal(store_objects, PODS, pod("big", requests={"cpu": "200m", "memory": "2Gi"}, limits={"cpu": "200m"}))
    assert both == 'pods "big" is forbidden: maximum memory usage per Pod is 1Gi.  No limit is specified'
    claim = {
        "metadata": {"name": "tiny"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "500Mi"}}},
    }
    assert refusal(store_objects, PVCS, claim) == (
        'persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi'
    )
    admit(store_objects, PODS, pod("fine", requests={"cpu": "200m"}, limits={"cpu": "300m", "memory": "512Mi"}))


def test_quota_counts_stored_objects_and_a_dry_run_charges_nothing(store_objects):
    store_objects.create(
        QUOTAS, {"metadata": {"name": "q", "namespace": "lim"}, "spec": {"hard": {"requests.nvidia.com/gpu": "1"}}}
    )
    gpu = {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
    admit(store_objects, PODS, pod("dry", **gpu), dry_run=True)
    store_objects.create(PODS, admit(store_objects, PODS, pod("first", **gpu)))
    assert refusal(store_objects, PODS, pod("second", **gpu)) == (
        'pods "second" is forbidden: exceeded quota: q, requested: requests.nvidia.com/gpu=1, '
        "used: requests.nvidia.com/gpu=1, limited: requests.nvidia.com/gpu=1"
    )


# -- the HPA controller in process (no processes: only what needs no measurement) ----------------------
HPAS = by_plural("horizontalpodautoscalers", "autoscaling")


def hpa_body(name: str, target: str, **spec) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "maxReplicas": 4,
            **spec,
        },
    }


def test_two_hpas_over_the_same_pods_are_ambiguous_and_a_missing_target_is_told(tmp_path, monkeypatch):
    from k8s_sim import DEPLOYMENTS, deployment

    monkeypatch.setenv("LAB_HPA_SYNC_S", "0.2")
    c = Cluster(tmp_path)
    try:
        c.create(NODES, node("n1"))
        c.create(DEPLOYMENTS, deployment("web", replicas=1))
        c.wait_for(lambda: c.pods(app="web"), message="a pod")
        c.create(HPAS, hpa_body("one", "web"))
        c.create(HPAS, hpa_body("two", "web"))
        c.create(HPAS, hpa_body("lost", "nowhere", minReplicas=2))

        def condition_of(name: str, kind: str) -> dict:
            conds = (c.get(HPAS, name) or {}).get("status", {}).get("conditions") or []
            return next((x for x in conds if x["type"] == kind), {})

        ambiguous = c.wait_for(
            lambda: (
                condition_of("one", "ScalingActive").get("reason") == "AmbiguousSelector"
                and condition_of("one", "ScalingActive")
            )
        )
        assert (
            ambiguous["message"]
            == "pods by selector app=web are controlled by multiple HPAs: [default/one default/two]"
        )
        lost = c.wait_for(lambda: condition_of("lost", "AbleToScale"))
        assert (lost["status"], lost["reason"]) == ("False", "FailedGetScale")
        assert lost["message"] == (
            'the HPA controller was unable to get the target\'s current scale: deployments/scale.apps "nowhere" not found'
        )
        defaulted = c.get(HPAS, "one")["spec"]
        assert defaulted["minReplicas"] == 1
        assert defaulted["metrics"] == [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    finally:
        c.stop()


def test_growing_a_claim_is_charged_what_it_adds(store_objects):
    store_objects.create(
        QUOTAS, {"metadata": {"name": "disk", "namespace": "lim"}, "spec": {"hard": {"requests.storage": "2Gi"}}}
    )
    claim = {
        "metadata": {"name": "data", "namespace": "lim"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    stored = store_objects.create(PVCS, admit(store_objects, PVCS, claim))
    grown = {**stored, "spec": {**stored["spec"], "resources": {"requests": {"storage": "2Gi"}}}}
    admit(store_objects, PVCS, grown, old=stored)  # 1Gi more: exactly the quota
    too_big = {**stored, "spec": {**stored["spec"], "resources": {"requests": {"storage": "3Gi"}}}}
    assert refusal(store_objects, PVCS, too_big, old=stored) == (
        'persistentvolumeclaims "data" is forbidden: exceeded quota: disk, requested: requests.storage=2Gi, '
        "used: requests.storage=1Gi, limited: requests.storage=2Gi"
    )


def test_a_scoped_quota_counts_only_the_pods_in_its_scope(store_objects):
    store_objects.create(
        QUOTAS,
        {
            "metadata": {"name": "besteffort", "namespace": "lim"},
            "spec": {"hard": {"pods": "1"}, "scopes": ["BestEffort"]},
        },
    )
    store_objects.create(PODS, admit(store_objects, PODS, pod("free")))
    store_objects.create(PODS, admit(store_objects, PODS, pod("sized", requests={"cpu": "100m"})))  # not BestEffort
    admit(store_objects, by_plural("configmaps"), {"metadata": {"name": "cm"}})  # scopes count pods only
    assert refusal(store_objects, PODS, pod("free2")) == (
        'pods "free2" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1'
    )


def test_the_hpa_brings_replicas_into_range_and_leaves_a_zero_alone(tmp_path, monkeypatch):
    from k8s_sim import DEPLOYMENTS, deployment

    monkeypatch.setenv("LAB_HPA_SYNC_S", "0.2")
    c = Cluster(tmp_path)
    try:
        c.create(NODES, node("n1", cpu="16"))
        c.create(DEPLOYMENTS, deployment("many", replicas=6))
        c.create(DEPLOYMENTS, deployment("off", replicas=0))
        c.create(HPAS, hpa_body("many", "many"))
        c.create(HPAS, hpa_body("off", "off"))
        c.wait_for(lambda: c.get(DEPLOYMENTS, "many")["spec"]["replicas"] == 4, message="many scaled to maxReplicas")
        assert "New size: 4; reason: Current number of replicas above Spec.MaxReplicas" in c.messages(
            "SuccessfulRescale"
        )
        off = c.wait_for(
            lambda: next(
                (
                    x
                    for x in (c.get(HPAS, "off").get("status") or {}).get("conditions") or []
                    if x["type"] == "ScalingActive"
                ),
                None,
            ),
            message="off's ScalingActive",
        )
        assert (off["status"], off["reason"], off["message"]) == (
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        )
        assert c.get(DEPLOYMENTS, "off")["spec"]["replicas"] == 0
    finally:
        c.stop()


def test_a_restarted_controller_resumes_from_the_stored_schedule(tmp_path):
    """The controllers stop (the sandbox service went down) and start again over the same store: the
    start time missed meanwhile is caught up once, from the stored lastScheduleTime."""
    first = Cluster(tmp_path)
    first.create(NODES, node("n1"))
    clock = [at("2026-03-01T12:00:05")]
    first.controller("cronjob-controller").clock = lambda: clock[0]
    create_cronjob(first, cronjob("keep"))
    first.controller("cronjob-controller").queue.add(("default", "keep"))
    first.settle()
    assert jobs(first) == [f"keep-{int(at('2026-03-01T12:00:00')) // 60}"]
    first.stop()

    clock[0] = at("2026-03-01T12:17:00")  # 12:05, 12:10 and 12:15 passed while it was down
    second = _restart(tmp_path, lambda: clock[0])
    try:
        second.settle()
        assert jobs(second) == [f"keep-{int(at(f'2026-03-01T12:{m}:00')) // 60}" for m in ("00", "15")]
        assert second.get(CRONJOBS, "keep")["status"]["lastScheduleTime"] == "2026-03-01T12:15:00Z"
    finally:
        second.stop()


def _restart(root, clock) -> Cluster:
    """A cluster over an existing store (``Cluster`` would create its namespaces again), its CronJob
    controller on ``clock`` from the first look."""
    import threading

    from k8s_sim import FakeKubelet

    from lab_helpers.sandbox.kubernetes import controllers
    from lab_helpers.sandbox.kubernetes.controllers.loop import Manager, Settings
    from lab_helpers.sandbox.kubernetes.objects import Objects
    from lab_helpers.sandbox.store import Store

    c = Cluster.__new__(Cluster)
    c.store = Store(root)
    c.objects = Objects(c.store)
    c.stopping = threading.Event()
    c.settings = Settings(job_backoff_s=0.05, job_backoff_max_s=0.2)
    c.manager = Manager(c.objects, root, c.stopping, [*controllers.KINDS, FakeKubelet], c.settings)
    c.controller("cronjob-controller").clock = clock
    c.manager.start()
    return c
