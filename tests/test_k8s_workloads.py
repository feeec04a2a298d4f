"""CronJobs, HorizontalPodAutoscalers (with ``kubectl top``), ResourceQuotas and LimitRanges with the
real clients: the kubectl transcript in ``k8s_transcripts/workloads.txt``, an HPA that scales a
Deployment of CPU-burning process pods up and back down (Python client), and quota admission under
concurrent creates. The sandbox runs with a 1 s HPA sync period and a 3 s metrics window (both are
15 s in a learner's sandbox, as in a real cluster)."""

from __future__ import annotations

import threading
import time

import pytest
from k8s_fixtures import Transcript, cluster, kube, load_transcript  # noqa: F401

pytestmark = pytest.mark.timeout(600)

SECTIONS = load_transcript("workloads.txt")
NAMESPACE_HPA = "py-hpa"
IDLE_S = 3  # how long each burner pod idles first (the HPA sees it idle before the load starts)
BURN_S = 7  # then how long it keeps a CPU busy


@pytest.fixture(scope="module", autouse=True)
def _fast_autoscaling():
    """Set before the sandbox starts (the ``kube`` fixture comes after this one)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAB_HPA_SYNC_S", "1")
        mp.setenv("LAB_METRICS_WINDOW_S", "3")
        yield


@pytest.fixture(scope="module")
def transcript(kube, cluster, tmp_path_factory) -> Transcript:
    return Transcript(kube.env, tmp_path_factory.mktemp("workloads-transcript"))


@pytest.mark.parametrize("section", list(SECTIONS))
def test_kubectl(transcript, section):
    transcript.run(section, SECTIONS[section])


def _wait(what, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {message}")


def test_hpa_scales_a_burning_deployment_up_and_back_down(kube, cluster):
    """Each pod idles IDLE_S seconds, keeps a CPU busy for BURN_S seconds, then sleeps: the HPA sees real
    usage over 200m requests, scales up, and once the pods idle comes back to one after a 2 s
    stabilization window. Reaction time is measured from the first pod's load start to the scale-up."""
    from kubernetes import client

    api = kube.api_client("sandbox")
    core, apps, autoscaling = client.CoreV1Api(api), client.AppsV1Api(api), client.AutoscalingV2Api(api)
    core.create_namespace({"metadata": {"name": NAMESPACE_HPA}})
    burn = (
        f"sleep {IDLE_S}; end=$(( $(date +%s) + {BURN_S} )); "
        "while [ $(date +%s) -lt $end ]; do :; done; exec sleep 3600"
    )
    apps.create_namespaced_deployment(
        NAMESPACE_HPA,
        {
            "metadata": {"name": "burn"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "burn"}},
                "template": {
                    "metadata": {"labels": {"app": "burn"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "burn",
                                "image": "busybox",
                                "command": ["sh", "-c", burn],
                                "resources": {"requests": {"cpu": "200m"}},
                            }
                        ]
                    },
                },
            },
        },
    )
    autoscaling.create_namespaced_horizontal_pod_autoscaler(
        NAMESPACE_HPA,
        {
            "metadata": {"name": "burn"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burn"},
                "minReplicas": 1,
                "maxReplicas": 3,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}},
                    }
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 2}},
            },
        },
    )
    running = _wait(
        lambda: any(p.status.phase == "Running" for p in core.list_namespaced_pod(NAMESPACE_HPA).items),
        30,
        "the first burner to run",
    )
    assert running
    load_started = time.monotonic() + IDLE_S  # the burner's CPU loop starts IDLE_S after it runs
    up = _wait(
        lambda: (apps.read_namespaced_deployment("burn", NAMESPACE_HPA).spec.replicas or 0) > 1 or None,
        40,
        "the HPA to scale up",
    )
    reaction = time.monotonic() - load_started
    assert up
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler("burn", NAMESPACE_HPA)
    assert hpa.status.current_metrics[0].resource.current.average_utilization > 50
    conditions = {c.type: c for c in hpa.status.conditions}
    assert conditions["ScalingActive"].status == "True" and conditions["ScalingActive"].reason == "ValidMetricFound"
    events = core.list_namespaced_event(
        NAMESPACE_HPA, field_selector="involvedObject.name=burn,reason=SuccessfulRescale"
    )
    assert any(
        e.message.endswith("reason: cpu resource utilization (percentage of request) above target")
        and e.message.startswith("New size: ")
        for e in events.items
    ), [e.message for e in events.items]
    # the burners stop after BURN_S: utilization drops to about 0 and the HPA scales back to minReplicas
    _wait(
        lambda: apps.read_namespaced_deployment("burn", NAMESPACE_HPA).spec.replicas == 1,
        BURN_S + 40,
        "the HPA to scale back down",
    )
    down = time.monotonic() - load_started
    events = core.list_namespaced_event(
        NAMESPACE_HPA, field_selector="involvedObject.name=burn,reason=SuccessfulRescale"
    )
    assert "New size: 1; reason: All metrics below target" in [e.message for e in events.items]
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler("burn", NAMESPACE_HPA)
    assert hpa.status.current_metrics[0].resource.current.average_utilization < 50
    print(f"HPA reaction: load start -> scale up {reaction:.1f} s; -> back to 1 replica {down:.1f} s")


def test_concurrent_creates_cannot_both_take_the_last_unit_of_quota(kube):
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    core = client.CoreV1Api(kube.api_client("sandbox"))
    core.create_namespace({"metadata": {"name": "py-quota"}})
    core.create_namespaced_resource_quota(
        "py-quota", {"metadata": {"name": "two"}, "spec": {"hard": {"configmaps": "2"}}}
    )
    results: list[int] = []  # the namespace's kube-root-ca.crt takes one of the two

    def make(i: int) -> None:
        own = client.CoreV1Api(kube.api_client("sandbox"))
        try:
            own.create_namespaced_config_map("py-quota", {"metadata": {"name": f"cm-{i}"}, "data": {"i": str(i)}})
            results.append(201)
        except ApiException as err:
            results.append(err.status)
            assert "exceeded quota: two, requested: configmaps=1, used: configmaps=2, limited: configmaps=2" in err.body

    threads = [threading.Thread(target=make, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 403, 403, 403, 403, 403]
    assert len(core.list_namespaced_config_map("py-quota").items) == 1 + 1  # kube-root-ca.crt and the one that passed


@pytest.mark.slow
def test_a_cronjob_runs_on_the_real_clock(kube, cluster):
    """``* * * * *`` on the wall clock: within a minute a Job named for its start minute runs and
    completes, and the CronJob records it."""
    from kubernetes import client

    api = kube.api_client("sandbox")
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    core.create_namespace({"metadata": {"name": "py-cron"}})
    batch.create_namespaced_cron_job(
        "py-cron",
        {
            "metadata": {"name": "minutely"},
            "spec": {
                "schedule": "* * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": "busybox", "command": ["echo", "tick"]}],
                            }
                        }
                    }
                },
            },
        },
    )
    job = _wait(lambda: next(iter(batch.list_namespaced_job("py-cron").items), None), 75, "the first scheduled Job")
    minute = int(job.metadata.name.rsplit("-", 1)[1])
    stamp = job.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minute * 60))
    assert job.metadata.owner_references[0].kind == "CronJob"
    done = _wait(
        lambda: batch.read_namespaced_cron_job("minutely", "py-cron").status.last_successful_time,
        60,
        "the CronJob to see its Job complete",
    )
    assert done
    status = batch.read_namespaced_cron_job("minutely", "py-cron").status
    assert status.last_schedule_time.timestamp() == minute * 60
    assert not status.active
