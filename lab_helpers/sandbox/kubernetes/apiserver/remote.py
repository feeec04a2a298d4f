"""``pods/exec``, ``pods/attach`` and ``pods/portforward``: the streaming subresources.

exec runs over WebSocket (the channel.k8s.io subprotocols, v5 first, as kubectl 1.30+ and the
kubernetes Python client speak them); the checks come in the API server's and the kubelet's order
and wording: the command and streams asked for, the container (``container x is not valid for pod
p``), the node, the upgrade (``Upgrade request required``), then the kubelet's ``container not
found ("x")`` when it is not running. The sandbox does not speak SPDY: an SPDY upgrade (kubectl's
fallback, or an old kubectl) gets a Status that says so.

port-forward is not served (kubectl tunnels SPDY for it): both of kubectl's upgrade attempts get a
Status whose message names the proxy path to use instead, which kubectl prints.

attach streams the container's output from the moment it attaches (its log, followed); the
sandbox's containers read no stdin, so input is accepted and dropped."""

from __future__ import annotations

import functools

from werkzeug.wrappers import Response

from ...api import Ctx
from .. import status
from ..kubelet import execs
from ..objects import Objects
from . import bodies, streams, watch, websocket
from .auth import authorize
from .paths import Target
from .pod_containers import container_of

Obj = dict


def handle(ctx: Ctx, objects: Objects, t: Target) -> Response:
    if ctx.request.method not in ("GET", "POST"):
        raise status.method_not_allowed()
    authorize(objects, ctx.user, "create", t.res, t.namespace, t.name, sub=t.sub)
    pod = objects.need(t.res, t.namespace, t.name)
    if t.sub == "portforward":
        return _portforward(ctx, pod)
    return _exec(ctx, objects, pod, attach=t.sub == "attach")


def _exec(ctx: Ctx, objects: Objects, pod: Obj, attach: bool = False) -> Response:

    request = ctx.request
    name = pod["metadata"]["name"]
    argv = request.args.getlist("command")
    want = {k: bodies.flag(request, k) for k in ("stdin", "stdout", "stderr", "tty")}
    if want["tty"]:
        want["stderr"] = False  # a terminal has one output, as the kubelet does
    if not argv and not attach:
        raise status.bad_request("you must specify at least 1 command")
    container = container_of(pod, request.args.get("container", ""))
    if not (want["stdin"] or want["stdout"] or want["stderr"]):
        raise status.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        verb = "attach" if attach else "exec into"
        raise status.bad_request(f"cannot {verb} a container in a completed pod; current phase is {phase}")
    if not (pod.get("spec") or {}).get("nodeName"):
        raise status.bad_request(f"pod {name} does not have a host assigned")
    upgrade, spdy = websocket.is_upgrade(request), websocket.is_spdy(request)
    if not upgrade and not spdy:
        raise status.bad_request("Upgrade request required")
    try:
        execs.running_instance(ctx.state_dir, pod, container)
    except execs.NotRunning as exc:
        return _not_found(exc)
    if not upgrade:
        raise status.bad_request(
            "the sandbox serves exec over WebSocket only (subprotocol v5.channel.k8s.io or v4.channel.k8s.io), "
            "not SPDY/3.1: use kubectl 1.30 or later, or the kubernetes Python client's stream()"
        )
    protocol = websocket.choose(request, websocket.CHANNEL_PROTOCOLS)
    if protocol is None or not websocket.can_upgrade(request):
        raise status.bad_request(
            f"unable to upgrade: none of the offered subprotocols is supported ({', '.join(websocket.CHANNEL_PROTOCOLS)})"
        )
    try:
        if attach:
            session = execs.attach(objects, ctx.state_dir, pod, container, watch.stopping())
        else:
            session = execs.start(ctx.state_dir, pod, container, argv, **want)
    except execs.NotRunning as exc:
        return _not_found(exc)
    serve = functools.partial(_serve, session=session, argv=argv)
    return websocket.Upgraded(request, protocol, serve)


def _serve(chan: websocket.ChannelSocket, *, session: execs.Session, argv: list[str]) -> None:
    try:
        streams.serve_exec(chan, session, argv, watch.stopping())
    finally:
        session.close()


def _not_found(exc: execs.NotRunning) -> Response:
    """The kubelet's refusal, in plain text: kubectl prints it as ``unable to upgrade connection: ...``."""
    return Response(str(exc), status=404, mimetype="text/plain")


def forward_hint(namespace: str, pod: Obj, ports: list[str]) -> str:
    """The sentence kubectl shows for ``port-forward``: what to run instead."""
    name = pod["metadata"]["name"]
    declared = [
        p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []
    ]
    port = ports[0].split(":")[-1] if ports else str(declared[0]) if declared else "<port>"
    return (
        "port-forward is not available in the sandbox: use kubectl proxy and "
        f"http://127.0.0.1:8001/api/v1/namespaces/{namespace}/services/<name>:<port>/proxy/ "
        f"(this pod: http://127.0.0.1:8001/api/v1/namespaces/{namespace}/pods/{name}:{port}/proxy/)"
    )


def _portforward(ctx: Ctx, pod: Obj) -> Response:
    request = ctx.request
    ports: list[str] = []
    for value in request.args.getlist("ports"):
        ports += [p for p in value.split(",") if p]
    if not (pod.get("spec") or {}).get("nodeName"):
        raise status.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")
    raise status.bad_request(forward_hint(pod["metadata"].get("namespace", ""), pod, ports))
