"""``Table`` answers (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``): the columns ``kubectl get``
prints for each kind, computed by the server as the API server's printers compute them (a pod's
STATUS from its container states, RESTARTS with the last restart's age, a Service's PORT(S), a
node's ROLES). Columns of priority 1 are the ones ``-o wide`` adds."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from ..resources import Resource
from .printers.cells import NONE, age, human_duration, label_selector_text, parse_time, since
from .printers.cells import containers_images as _containers_images
from .printers.cells import map_selector as _map_selector

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format

# -- pods ------------------------------------------------------------------------------------


def _condition(obj: Obj, kind: str) -> dict[str, Any] | None:
    for c in obj.get("status", {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def pod_status_text(pod: Obj) -> tuple[str, int, int, int, float | None]:
    """(STATUS, ready containers, containers, restarts, last restart time) as ``kubectl get pods`` shows them."""
    spec, st = pod.get("spec", {}), pod.get("status", {})
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    last: float | None = None
    reason = st.get("reason") or st.get("phase") or "Pending"
    scheduled = _condition(pod, "PodScheduled")
    if scheduled and scheduled.get("status") == "False" and scheduled.get("reason") == "SchedulingGated":
        reason = "SchedulingGated"

    def note(cs: Obj) -> None:
        nonlocal restarts, last
        restarts += int(cs.get("restartCount") or 0)
        finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if finished and (last is None or finished > last):
            last = finished

    inits = spec.get("initContainers") or []
    initializing = False
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        note(cs)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break
    initialized = _condition(pod, "Initialized")
    if not initializing or (initialized and initialized.get("status") == "True"):
        running = False
        for cs in reversed(st.get("containerStatuses") or []):
            note(cs)
            state = cs.get("state") or {}
            term, wait = state.get("terminated"), state.get("waiting")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
            elif cs.get("ready") and state.get("running") is not None:
                running = True
                ready += 1
        if reason == "Completed" and running:
            cond = _condition(pod, "Ready")
            reason = "Running" if cond and cond.get("status") == "True" else "NotReady"
    meta = pod.get("metadata", {})
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if st.get("reason") == "NodeLost" else "Terminating"
    return reason, ready, total, restarts, last


def _pod(pod: Obj) -> list[Any]:
    reason, ready, total, restarts, last = pod_status_text(pod)
    shown = f"{restarts} ({human_duration(time.time() - last)} ago)" if restarts and last else str(restarts)
    spec, st = pod.get("spec", {}), pod.get("status", {})
    gates = spec.get("readinessGates") or []
    gates_text = NONE
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        done = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_text = f"{done}/{len(gates)}"
    return [
        f"{ready}/{total}",
        reason,
        shown,
        age(pod),
        st.get("podIP") or NONE,
        spec.get("nodeName") or NONE,
        st.get("nominatedNodeName") or NONE,
        gates_text,
    ]


_POD_COLUMNS: list[Column] = [
    ("Ready", "string", 0, ""),
    ("Status", "string", 0, ""),
    ("Restarts", "string", 0, ""),
    ("Age", "string", 0, ""),
    ("IP", "string", 1, ""),
    ("Node", "string", 1, ""),
    ("Nominated Node", "string", 1, ""),
    ("Readiness Gates", "string", 1, ""),
]

# -- workloads -------------------------------------------------------------------------------

_WIDE: list[Column] = [("Containers", "string", 1, ""), ("Images", "string", 1, ""), ("Selector", "string", 1, "")]


def _deployment(d: Obj) -> list[Any]:
    spec, st = d.get("spec", {}), d.get("status", {})
    return [
        f"{int(st.get('readyReplicas') or 0)}/{int(spec.get('replicas', 1))}",
        int(st.get("updatedReplicas") or 0),
        int(st.get("availableReplicas") or 0),
        age(d),
        *_containers_images(spec.get("template", {}).get("spec", {})),
        label_selector_text(spec.get("selector")),
    ]


def _replicaset(rs: Obj) -> list[Any]:
    spec, st = rs.get("spec", {}), rs.get("status", {})
    return [
        int(spec.get("replicas", 1)),
        int(st.get("replicas") or 0),
        int(st.get("readyReplicas") or 0),
        age(rs),
        *_containers_images(spec.get("template", {}).get("spec", {})),
        label_selector_text(spec.get("selector")),
    ]


def job_status_text(job: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in job.get("status", {}).get("conditions") or []}
    if conds.get("Complete") == "True":
        return "Complete"
    if conds.get("Failed") == "True":
        return "Failed"
    if job.get("metadata", {}).get("deletionTimestamp"):
        return "Terminating"
    if conds.get("FailureTarget") == "True":
        return "FailureTarget"
    if conds.get("SuccessCriteriaMet") == "True":
        return "SuccessCriteriaMet"
    if conds.get("Suspended") == "True" or job.get("spec", {}).get("suspend"):
        return "Suspended"
    return "Running"


def _job(job: Obj) -> list[Any]:
    spec, st = job.get("spec", {}), job.get("status", {})
    succeeded = int(st.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 1) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = "" if start is None else human_duration((end or time.time()) - start)
    return [
        job_status_text(job),
        completions,
        duration,
        age(job),
        *_containers_images(spec.get("template", {}).get("spec", {})),
        label_selector_text(spec.get("selector")),
    ]


# -- services and networking -----------------------------------------------------------------


def _external_ip(svc: Obj) -> str:
    spec = svc.get("spec", {})
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind == "ExternalName":
        return spec.get("externalName") or NONE
    if kind == "LoadBalancer":
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        ips = [i.get("ip") or i.get("hostname") for i in ingress] + external
        return ",".join(x for x in ips if x) or "<pending>"
    return ",".join(external) or NONE


def _ports(svc: Obj) -> str:
    out = []
    for p in svc.get("spec", {}).get("ports") or []:
        proto = p.get("protocol", "TCP")
        out.append(f"{p.get('port')}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    return ",".join(out) or NONE


def _service(svc: Obj) -> list[Any]:
    spec = svc.get("spec", {})
    return [
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or NONE,
        _external_ip(svc),
        _ports(svc),
        age(svc),
        _map_selector(spec.get("selector")),
    ]


def _shorten(pairs: list[str]) -> str:
    if not pairs:
        return NONE
    shown = ",".join(pairs[:3])
    return shown + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")


def _endpoints(ep: Obj) -> list[Any]:
    pairs = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for addr in subset.get("addresses") or []:
            for port in ports:
                pairs.append(f"{addr.get('ip')}:{port['port']}" if port.get("port") else str(addr.get("ip")))
    return [_shorten(pairs), age(ep)]


def _endpointslice(es: Obj) -> list[Any]:
    ports = ",".join(str(p.get("port", "")) for p in es.get("ports") or []) or NONE
    addrs = [a for e in es.get("endpoints") or [] for a in e.get("addresses") or []]
    return [es.get("addressType", ""), ports, _shorten(addrs), age(es)]


# -- nodes, namespaces, config ---------------------------------------------------------------


def node_status_text(node: Obj) -> str:
    ready = _condition(node, "Ready")
    text = "Unknown"  # no Ready condition at all; one that is False or Unknown reads NotReady, as kubectl prints it
    if ready is not None:
        text = "Ready" if ready.get("status") == "True" else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (node.get("metadata", {}).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(r for r in roles if r)) or NONE


def _node(node: Obj) -> list[Any]:
    st = node.get("status", {})
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [
        node_status_text(node),
        node_roles(node),
        age(node),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP") or NONE,
        addrs.get("ExternalIP") or NONE,
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _namespace(ns: Obj) -> list[Any]:
    return [ns.get("status", {}).get("phase", "Active"), age(ns)]


def _configmap(cm: Obj) -> list[Any]:
    return [len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), age(cm)]


def _secret(s: Obj) -> list[Any]:
    return [s.get("type", "Opaque"), len(s.get("data") or {}), age(s)]


def _serviceaccount(sa: Obj) -> list[Any]:
    return [len(sa.get("secrets") or []), age(sa)]


# -- events ----------------------------------------------------------------------------------


def _event(ev: Obj) -> list[Any]:
    involved = ev.get("involvedObject") or ev.get("regarding") or {}
    first = ev.get("firstTimestamp") or ev.get("deprecatedFirstTimestamp") or ev.get("eventTime")
    last = ev.get("lastTimestamp") or ev.get("deprecatedLastTimestamp") or first
    first_text, last_text = since(first), since(last)
    count = int(ev.get("count") or ev.get("deprecatedCount") or 1)
    series = ev.get("series")
    if isinstance(series, dict) and series.get("lastObservedTime"):
        last_text, count = since(series["lastObservedTime"]), int(series.get("count") or count)
    elif count > 1:
        last_text = f"{last_text} (x{count} over {first_text})"
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = ev.get("source") or ev.get("deprecatedSource") or {}
    component = source.get("component") or ev.get("reportingComponent") or ev.get("reportingController") or ""
    host = source.get("host") or ev.get("reportingInstance") or ""
    return [
        last_text,
        ev.get("type", ""),
        ev.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        str(ev.get("message") or ev.get("note") or "").strip(),
        first_text,
        count,
        ev.get("metadata", {}).get("name", ""),
    ]


_EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", 0, ""),
    ("Type", "string", 0, ""),
    ("Reason", "string", 0, ""),
    ("Object", "string", 0, ""),
    ("Subobject", "string", 1, ""),
    ("Source", "string", 1, ""),
    ("Message", "string", 0, ""),
    ("First Seen", "string", 1, ""),
    ("Count", "integer", 1, ""),
    ("Name", "string", 1, ""),
]

# kind -> (columns after NAME, cells after the name); events have no NAME column first.
PRINTERS: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "Pod": (_POD_COLUMNS, _pod),
    "Deployment": (
        [
            ("Ready", "string", 0, ""),
            ("Up-to-date", "integer", 0, ""),
            ("Available", "integer", 0, ""),
            ("Age", "string", 0, ""),
            *_WIDE,
        ],
        _deployment,
    ),
    "ReplicaSet": (
        [
            ("Desired", "integer", 0, ""),
            ("Current", "integer", 0, ""),
            ("Ready", "integer", 0, ""),
            ("Age", "string", 0, ""),
            *_WIDE,
        ],
        _replicaset,
    ),
    "Job": (
        [
            ("Status", "string", 0, ""),
            ("Completions", "string", 0, ""),
            ("Duration", "string", 0, ""),
            ("Age", "string", 0, ""),
            *_WIDE,
        ],
        _job,
    ),
    "Service": (
        [
            ("Type", "string", 0, ""),
            ("Cluster-IP", "string", 0, ""),
            ("External-IP", "string", 0, ""),
            ("Port(s)", "string", 0, ""),
            ("Age", "string", 0, ""),
            ("Selector", "string", 1, ""),
        ],
        _service,
    ),
    "Endpoints": ([("Endpoints", "string", 0, ""), ("Age", "string", 0, "")], _endpoints),
    "EndpointSlice": (
        [
            ("AddressType", "string", 0, ""),
            ("Ports", "string", 0, ""),
            ("Endpoints", "string", 0, ""),
            ("Age", "string", 0, ""),
        ],
        _endpointslice,
    ),
    "Node": (
        [
            ("Status", "string", 0, ""),
            ("Roles", "string", 0, ""),
            ("Age", "string", 0, ""),
            ("Version", "string", 0, ""),
            ("Internal-IP", "string", 1, ""),
            ("External-IP", "string", 1, ""),
            ("OS-Image", "string", 1, ""),
            ("Kernel-Version", "string", 1, ""),
            ("Container-Runtime", "string", 1, ""),
        ],
        _node,
    ),
    "Namespace": ([("Status", "string", 0, ""), ("Age", "string", 0, "")], _namespace),
    "ConfigMap": ([("Data", "integer", 0, ""), ("Age", "string", 0, "")], _configmap),
    "Secret": ([("Type", "string", 0, ""), ("Data", "integer", 0, ""), ("Age", "string", 0, "")], _secret),
    "ServiceAccount": ([("Secrets", "integer", 0, ""), ("Age", "string", 0, "")], _serviceaccount),
}

_DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object was created.",
}


@functools.cache
def printers() -> dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]]:
    """Part 1's printers and those of each area's module in ``printers/``."""
    from .printers import access, network, storage, workloads

    return {**PRINTERS, **access.PRINTERS, **network.PRINTERS, **storage.PRINTERS, **workloads.PRINTERS}


# -- custom resources: the CRD's additionalPrinterColumns ------------------------------------------

_CUSTOM_DEFAULT = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
_COLUMN_TYPES = ("integer", "number", "string", "boolean", "date")


def _custom_columns(res: Resource) -> list[dict[str, Any]] | None:
    custom = getattr(res, "custom", None)
    if custom is None:
        return None
    columns = [c for c in custom.printer_columns if isinstance(c, dict) and c.get("jsonPath")]
    return columns or _CUSTOM_DEFAULT


def _custom_definitions(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{"name": "Name", "type": "string", "format": "name", "description": _DESCRIPTIONS["Name"], "priority": 0}]
    for c in columns:
        kind = c.get("type") if c.get("type") in _COLUMN_TYPES else "string"
        out.append(
            {
                "name": str(c.get("name", "")),
                "type": kind,
                "format": str(c.get("format", "")),
                "description": str(c.get("description") or _DESCRIPTIONS.get(str(c.get("name")), c.get("name", ""))),
                "priority": int(c.get("priority") or 0),
            }
        )
    return out


def _custom_cell(obj: Obj, column: dict[str, Any]) -> Any:
    """A column's cell as the API server's table converter makes it: the one value found (None: kubectl
    prints ``<none>``), several joined by spaces."""
    from .jsonpath import evaluate

    found = evaluate(obj, str(column.get("jsonPath", "")))
    if not found:
        return None
    if len(found) > 1:
        return " ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in found)
    value = found[0]
    kind = column.get("type")
    if kind == "date":  # as the API server converts it: the age, or <unknown> for what is not a time
        return since(value) if isinstance(value, str) else "<unknown>"
    if kind == "integer" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if kind == "string" and not isinstance(value, str):
        import json

        return value if isinstance(value, (int, float)) else json.dumps(value, separators=(",", ":"))
    return value


def _definitions(res: Resource) -> list[dict[str, Any]]:
    custom = _custom_columns(res)
    if custom is not None:
        return _custom_definitions(custom)
    if res.kind == "Event":
        columns = _EVENT_COLUMNS
    elif res.kind in printers():
        columns = [("Name", "string", 0, "name"), *printers()[res.kind][0]]
    else:
        columns = [("Name", "string", 0, "name"), ("Created At", "date", 0, "")]
    return [
        {"name": n, "type": t, "format": f, "description": _DESCRIPTIONS.get(n, n), "priority": p}
        for n, t, p, f in columns
    ]


_DEFAULT_CLASS = {"StorageClass": "storageclass.kubernetes.io/is-default-class"}  # IngressClass's printer adds nothing


def cells(res: Resource, obj: Obj) -> list[Any]:
    custom = _custom_columns(res)
    if custom is not None:
        return [obj.get("metadata", {}).get("name", ""), *(_custom_cell(obj, c) for c in custom)]
    if res.kind == "Event":
        return _event(obj)
    name = obj.get("metadata", {}).get("name", "")
    default_key = _DEFAULT_CLASS.get(res.kind)
    if default_key and (obj.get("metadata", {}).get("annotations") or {}).get(default_key) == "true":
        name = f"{name} (default)"  # as the API server's printer names the default class
    if res.kind in printers():
        return [name, *printers()[res.kind][1](obj)]
    return [name, obj.get("metadata", {}).get("creationTimestamp", "")]


def partial_metadata(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(
    res: Resource,
    items: list[Obj],
    list_meta: Obj,
    *,
    include: str = "Metadata",
    version: str = "v1",
    headers: bool = True,
) -> Obj:
    """A ``meta.k8s.io`` Table of ``items`` (``include``: None, Metadata or Object in each row)."""
    rows = []
    for obj in items:
        row: Obj = {"cells": cells(res, obj)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    out: Obj = {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": list_meta}
    out["columnDefinitions"] = _definitions(res) if headers else []
    out["rows"] = rows
    return out
