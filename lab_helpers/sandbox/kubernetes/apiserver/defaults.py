"""The defaults the API server fills in on every write, where clients and controllers read them:
a pod's restart and DNS policy, grace period and container pull policy; a Deployment's strategy,
revision history and progress deadline; a Job's selector and labels; a Service's type, affinity,
target ports, node ports and cluster IP.

ClusterIPs are loopback addresses in this sandbox, not ``10.96.0.0/12``: each Service really listens
on its own address, and nothing invented may be a routable address. Each sandbox draws its own
``/20`` of ``127.96.0.0/12`` once (kept in the store), so two sandboxes on one machine (a learner's
and a test's) do not take each other's addresses; the first address is the ``kubernetes``
Service's, as 10.96.0.1 is in a real cluster.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import random
from typing import Any

from .. import status
from ..objects import Objects
from ..resources import Resource, by_plural

Obj = dict[str, Any]

SERVICE_BLOCK = ipaddress.ip_network("127.96.0.0/12")
RANGE_PREFIX = 20
RANGE_KEY = "k8s_service_range"
NODE_PORTS = range(30000, 32768)
SIMULATED_KEY = "sandbox.visualizing-compute/simulated"  # what is simulated, shown by kubectl describe
SERVICES = by_plural("services")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or no tag (and no digest), else ``IfNotPresent``."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(c: Obj) -> None:
    if not isinstance(c, dict):
        return
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if isinstance(c.get("image"), str):
        c.setdefault("imagePullPolicy", pull_policy(c["image"]))
    res = c.setdefault("resources", {})
    if isinstance(res, dict) and isinstance(res.get("limits"), dict):
        requests = res.setdefault("requests", {})
        if isinstance(requests, dict):
            for k, v in res["limits"].items():
                requests.setdefault(k, v)
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for key in _PROBES:
        probe = c.get(key)
        if isinstance(probe, dict):
            for k, v in (
                ("timeoutSeconds", 1),
                ("periodSeconds", 10),
                ("successThreshold", 1),
                ("failureThreshold", 3),
            ):
                probe.setdefault(k, v)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("scheme", "HTTP")
                probe["httpGet"].setdefault("path", "/")
    for env in c.get("env") or []:
        ref = env.get("valueFrom", {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def pod_spec(spec: Any) -> None:
    """Defaults of a pod's spec, in a Pod or a template."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            _container(c)
    for vol in spec.get("volumes") or []:
        if not isinstance(vol, dict):
            continue
        for key in ("configMap", "secret"):
            if isinstance(vol.get(key), dict):
                vol[key].setdefault("defaultMode", 0o644)
        if "secret" in vol and isinstance(vol["secret"], dict) and "secretName" not in vol["secret"]:
            vol["secret"]["secretName"] = ""


def qos_class(spec: Obj) -> str:
    """Guaranteed (every container's cpu and memory limits equal its requests), BestEffort (none), Burstable."""
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    requests = [(c.get("resources") or {}).get("requests") or {} for c in containers]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    if not any(requests) and not any(limits):
        return "BestEffort"
    for req, lim in zip(requests, limits, strict=True):
        if any(lim.get(k) is None or str(lim.get(k)) != str(req.get(k, lim.get(k))) for k in ("cpu", "memory")):
            return "Burstable"
    return "Guaranteed"


def _pod(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    if not isinstance(spec, dict):
        return
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    if isinstance(tolerations, list):
        keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if key not in keys:
                tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    st = obj.setdefault("status", {})
    if isinstance(st, dict):
        st.setdefault("phase", "Pending")
        st.setdefault("qosClass", qos_class(spec))


def _template(obj: Obj) -> Obj:
    template = obj.setdefault("spec", {}).setdefault("template", {})
    if isinstance(template, dict):
        pod_spec(template.setdefault("spec", {}))
        return template
    return {}


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)
    obj.setdefault("status", {})


def _daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)
    obj.setdefault("status", {})


def _replicaset(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)
    obj.setdefault("status", {}).setdefault("replicas", 0)


def _job(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    template = _template(obj)
    uid, name = obj["metadata"].get("uid", ""), obj["metadata"].get("name", "")
    if not spec.get("manualSelector") and uid:
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        if isinstance(labels, dict):
            labels.update(
                {
                    "batch.kubernetes.io/controller-uid": uid,
                    "batch.kubernetes.io/job-name": name,
                    "controller-uid": uid,
                    "job-name": name,
                }
            )
    obj.setdefault("status", {})


def _cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.setdefault("jobTemplate", {})
    if isinstance(template, dict):
        job_spec = template.setdefault("spec", {})
        if isinstance(job_spec, dict):
            pod = job_spec.setdefault("template", {})
            if isinstance(pod, dict):
                pod_spec(pod.setdefault("spec", {}))
    obj.setdefault("status", {})


HPA_SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
HPA_SCALE_DOWN = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}


def _hpa(obj: Obj) -> None:
    """autoscaling/v2 defaults: one replica at least, CPU at 80% of requests, and each half of a given
    ``behavior`` filled with the default rules."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        for side, rules in (("scaleUp", HPA_SCALE_UP), ("scaleDown", HPA_SCALE_DOWN)):
            given = behavior.get(side)
            given = given if isinstance(given, dict) else {}
            behavior[side] = {**copy.deepcopy(rules), **{k: v for k, v in given.items() if v is not None}}
    st = obj.setdefault("status", {})
    if isinstance(st, dict):
        st.setdefault("desiredReplicas", 0)  # not omitempty in the API: clients require it


def _limitrange(obj: Obj) -> None:
    """A Container item's ``default`` falls back to ``max``, its ``defaultRequest`` to ``default``, then ``min``."""
    for item in (obj.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = item.setdefault("default", {})
        request = item.setdefault("defaultRequest", {})
        for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
            for key, value in (source or {}).items():
                target.setdefault(key, value)


def _service(obj: Obj, objects: Objects, old: Obj | None) -> None:
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    old_spec = (old or {}).get("spec") or {}
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port:
                port.setdefault("targetPort", port["port"])
    if kind not in ("NodePort", "LoadBalancer") and old_spec.get("type") in ("NodePort", "LoadBalancer"):
        _drop_type_fields(spec, old_spec)
    if kind == "ExternalName":
        obj.setdefault("status", {}).setdefault("loadBalancer", {})
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    if not spec.get("clusterIP") and old_spec.get("clusterIP"):
        spec["clusterIP"] = old_spec["clusterIP"]
    if not spec.get("clusterIP"):
        spec["clusterIP"] = allocate_cluster_ip(objects)
    elif spec["clusterIP"] != "None" and spec["clusterIP"] != old_spec.get("clusterIP"):
        _check_cluster_ip(obj, objects, spec["clusterIP"])
    spec["clusterIPs"] = [spec["clusterIP"]]
    if spec["clusterIP"] != "None":
        annotations = obj["metadata"].setdefault("annotations", {})
        if isinstance(annotations, dict):
            annotations[SIMULATED_KEY] = (
                f"ClusterIP {spec['clusterIP']} is a loopback address of this machine, where the sandbox listens for "
                "the Service itself (a real cluster's come from 10.96.0.0/12, routed by kube-proxy)"
            )
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
        old_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort") for p in old_spec.get("ports") or []}
        taken = _node_ports_in_use(objects)
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                port["nodePort"] = old_ports.get((port.get("port"), port.get("protocol"))) or _free_port(taken)
                taken.add(port["nodePort"])
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _drop_type_fields(spec: Obj, old_spec: Obj) -> None:
    """A Service turned from NodePort (or LoadBalancer) into ClusterIP loses the node ports the server gave it,
    as the API server drops them (a client re-applying its manifest never named them)."""
    given = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports") or []}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and port.get("nodePort") == given.get(
            (port.get("port"), port.get("protocol", "TCP"))
        ):
            port.pop("nodePort", None)
    if spec.get("externalTrafficPolicy") == old_spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("allocateLoadBalancerNodePorts") == old_spec.get("allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)


def _check_cluster_ip(obj: Obj, objects: Objects, ip: str) -> None:
    name = obj["metadata"].get("name", "")
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        address = None
    why = ""
    valid = service_range(objects)
    if address is None or address not in valid:
        why = f"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {valid}"
    elif ip in _cluster_ips_in_use(objects):
        why = "provided IP is already allocated"
    if why:
        cause = {
            "reason": "FieldValueInvalid",
            "message": f'Invalid value: []string{{"{ip}"}}: failed to allocate IP {ip}: {why}',
            "field": "spec.clusterIPs",
        }
        raise status.invalid("Service", "", name, [cause])


def service_range(objects: Objects) -> ipaddress.IPv4Network:
    """This sandbox's Service addresses: a ``/20`` of ``127.96.0.0/12`` drawn once and kept."""
    store = objects.store
    kept = store.meta(RANGE_KEY)
    if not kept:
        with store.tx():
            kept = store.meta(RANGE_KEY)
            if not kept:
                blocks = list(SERVICE_BLOCK.subnets(new_prefix=RANGE_PREFIX))
                kept = str(random.choice(blocks))
                store.set_meta(RANGE_KEY, kept)
    return ipaddress.IPv4Network(kept)


def kubernetes_service_ip(objects: Objects) -> str:
    """The ``kubernetes`` Service's address: the first of the range, as 10.96.0.1 is in a real cluster."""
    return str(service_range(objects).network_address + 1)


def _cluster_ips_in_use(objects: Objects) -> set[str]:
    services, _ = objects.list(SERVICES)
    return {s.get("spec", {}).get("clusterIP", "") for s in services}


def _node_ports_in_use(objects: Objects) -> set[int]:
    services, _ = objects.list(SERVICES)
    return {p.get("nodePort") for s in services for p in s.get("spec", {}).get("ports") or [] if p.get("nodePort")}


def _free_port(taken: set[int]) -> int:
    for port in NODE_PORTS:
        if port not in taken:
            return port
    raise status.status_error(500, "failed to allocate a nodePort: range is full", "InternalError")


def allocate_cluster_ip(objects: Objects) -> str:
    """A free address in this sandbox's Service range (loopback: each Service listens on its own).

    The first is kept for the ``kubernetes`` Service; the others are handed out in order."""
    used = _cluster_ips_in_use(objects) | {kubernetes_service_ip(objects)}
    for host in service_range(objects).hosts():
        ip = str(host)
        if ip.endswith(".0") or ip.endswith(".255"):
            continue
        if ip not in used:
            return ip
    raise status.status_error(
        500, "Internal error occurred: failed to allocate a serviceIP: range is full", "InternalError"
    )


def _namespace(obj: Obj, creating: bool) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict) and "finalizers" not in spec and creating:
        spec["finalizers"] = ["kubernetes"]
    obj.setdefault("status", {}).setdefault("phase", "Active")
    labels = obj["metadata"].setdefault("labels", {})
    if isinstance(labels, dict):
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")


def _secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(value, str):
            continue
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise status.bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data[{key}])'
            ) from None
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = dict(data)
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def _endpoint_ports(obj: Obj) -> None:
    for subset in obj.get("subsets") or []:
        for port in (subset or {}).get("ports") or [] if isinstance(subset, dict) else []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
    for port in obj.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def apply(res: Resource, obj: Obj, objects: Objects, old: Obj | None = None) -> None:
    """Fill the defaults of ``obj`` (a create when ``old`` is None, else an update of ``old``) in place."""
    obj.setdefault("metadata", {})
    kind = res.kind
    if kind == "Pod":
        _pod(obj)
    elif kind == "Deployment":
        _deployment(obj)
    elif kind == "ReplicaSet":
        _replicaset(obj)
    elif kind == "DaemonSet":
        _daemonset(obj)
    elif kind == "Job":
        _job(obj)
    elif kind == "Service":
        _service(obj, objects, old)
    elif kind == "CronJob":
        _cronjob(obj)
    elif kind == "HorizontalPodAutoscaler":
        _hpa(obj)
    elif kind == "LimitRange":
        _limitrange(obj)
    elif kind == "Namespace":
        _namespace(obj, old is None)
    elif kind == "Secret":
        _secret(obj)
    elif kind in ("Endpoints", "EndpointSlice"):
        _endpoint_ports(obj)
    elif kind in ("Ingress", "NetworkPolicy"):
        from . import network_defaults

        network_defaults.ingress(obj, objects, old) if kind == "Ingress" else network_defaults.network_policy(obj)
