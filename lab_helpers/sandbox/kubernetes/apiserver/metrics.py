"""The resource metrics API (``metrics.k8s.io/v1beta1``), as metrics-server serves it: PodMetrics and
NodeMetrics, read-only and computed when asked (``kubectl top pods``, ``kubectl top nodes``). A pod's
usage is measured on its containers' real processes (``kubelet.usage``); a node's is the sum of its
pods' (the sandbox's nodes run nothing else). Whoever may read pods (nodes) may read their metrics."""

from __future__ import annotations

import math
from typing import Any

from werkzeug.wrappers import Response

from ...api import Ctx, Routes, reply
from .. import status
from ..objects import objects_for, rfc3339
from ..resources import by_plural
from . import selectors
from .auth import authorize

routes = Routes()
GROUP = "metrics.k8s.io"
BASE = f"/apis/{GROUP}/v1beta1"
PODS = by_plural("pods")
NODES = by_plural("nodes")
Obj = dict[str, Any]
SIMULATED = "sandbox.visualizing-compute/simulated"
POD_NOTE = "measured on the containers' host processes: CPU time over the window, memory as resident set size"
NODE_NOTE = "the sum of the node's pods' processes: the sandbox's nodes run nothing else"


def cpu_text(cores: float) -> str:
    return f"{math.ceil(cores * 1e9)}n"


def memory_text(size: int) -> str:
    return f"{size // 1024}Ki"


def _window(seconds: float) -> str:
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _running(pods: list[Obj]) -> list[Obj]:
    return [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]


def _pod_metrics(ctx: Ctx, pods: list[Obj]) -> list[Obj]:
    from ..kubelet.usage import pods_usage

    running = _running(pods)
    measured = pods_usage(ctx.state_dir, running)
    out = []
    for pod in running:
        meta = pod["metadata"]
        usage = measured.get(str(meta.get("uid", "")))
        if not usage:
            continue
        out.append(
            {
                "kind": "PodMetrics",
                "apiVersion": f"{GROUP}/v1beta1",
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta.get("namespace", ""),
                    "creationTimestamp": rfc3339(),
                    "labels": dict(meta.get("labels") or {}),
                    "annotations": {SIMULATED: POD_NOTE},
                },
                "timestamp": rfc3339(max(u.at for u in usage.values())),
                "window": _window(max(u.window for u in usage.values())),
                "containers": [
                    {"name": name, "usage": {"cpu": cpu_text(u.cpu), "memory": memory_text(u.memory)}}
                    for name, u in usage.items()
                ],
            }
        )
    return out


def _list(kind: str, items: list[Obj]) -> Response:
    return reply({"kind": kind, "apiVersion": f"{GROUP}/v1beta1", "metadata": {}, "items": items})


def _pods(ctx: Ctx, namespace: str | None) -> Response:
    objects = objects_for(ctx.store)
    authorize(objects, ctx.user, "list", PODS, namespace or "")
    match = selectors.label_selector(ctx.request.args.get("labelSelector"))
    pods = [p for p in objects.list(PODS, namespace)[0] if match(p)]
    return _list("PodMetricsList", _pod_metrics(ctx, pods))


@routes(f"{BASE}/pods", "GET")
def all_pods(ctx: Ctx) -> Response:
    return _pods(ctx, None)


@routes(f"{BASE}/namespaces/<namespace>/pods", "GET")
def namespace_pods(ctx: Ctx, namespace: str) -> Response:
    return _pods(ctx, namespace)


@routes(f"{BASE}/namespaces/<namespace>/pods/<name>", "GET")
def one_pod(ctx: Ctx, namespace: str, name: str) -> Response:
    objects = objects_for(ctx.store)
    authorize(objects, ctx.user, "get", PODS, namespace, name)
    pod = objects.get(PODS, namespace, name)
    got = _pod_metrics(ctx, [pod]) if pod is not None else []
    if not got:
        raise status.not_found(f"podmetrics.{GROUP}", f"{namespace}/{name}")
    return reply(got[0])


def _node_metrics(ctx: Ctx, nodes: list[Obj], pods: list[Obj]) -> list[Obj]:
    from ..kubelet.usage import pods_usage

    running = _running(pods)
    measured = pods_usage(ctx.state_dir, running)
    out = []
    for node in nodes:
        meta = node["metadata"]
        cpu, memory, window = 0.0, 0, 0.0
        for pod in running:
            if (pod.get("spec") or {}).get("nodeName") != meta["name"]:
                continue
            for u in measured.get(str(pod["metadata"].get("uid", "")), {}).values():
                cpu, memory, window = cpu + u.cpu, memory + u.memory, max(window, u.window)
        out.append(
            {
                "kind": "NodeMetrics",
                "apiVersion": f"{GROUP}/v1beta1",
                "metadata": {
                    "name": meta["name"],
                    "creationTimestamp": rfc3339(),
                    "labels": dict(meta.get("labels") or {}),
                    "annotations": {SIMULATED: NODE_NOTE},
                },
                "timestamp": rfc3339(),
                "window": _window(window or 0.25),
                "usage": {"cpu": cpu_text(cpu), "memory": memory_text(memory)},
            }
        )
    return out


@routes(f"{BASE}/nodes", "GET")
def all_nodes(ctx: Ctx) -> Response:
    objects = objects_for(ctx.store)
    authorize(objects, ctx.user, "list", NODES, "")
    match = selectors.label_selector(ctx.request.args.get("labelSelector"))
    pods = objects.list(PODS)[0]
    return _list("NodeMetricsList", _node_metrics(ctx, [n for n in objects.list(NODES)[0] if match(n)], pods))


@routes(f"{BASE}/nodes/<name>", "GET")
def one_node(ctx: Ctx, name: str) -> Response:
    objects = objects_for(ctx.store)
    authorize(objects, ctx.user, "get", NODES, "", name)
    node = objects.get(NODES, "", name)
    if node is None:
        raise status.not_found(f"nodemetrics.{GROUP}", name)
    return reply(_node_metrics(ctx, [node], objects.list(PODS)[0])[0])
