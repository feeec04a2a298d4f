"""Lab 05's picture of the course so far: hosts -> VMs -> nodes -> pods -> containers, from a snapshot.

``hierarchy_figure`` draws one ``lab_helpers.kube.snapshot.Snapshot`` as a plotly icicle, one
column per tier read left to right, every box coloured by its state (the same colour means the
same thing in every tier: green runs, yellow is on its way, orange restarts, red failed, brown is
a node that stopped answering, grey a VM that is gone). Boxes are sized by what they hold, so a
node running many pods is tall. ``Timeline`` keeps the states a lab passes through and steps
between them with an ipywidgets slider.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..kube.snapshot import DELETED, UNKNOWN, Claim, Container, Node, Pod, Server, Snapshot

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets
    import plotly.graph_objects as go

__all__ = ["STATE_COLOURS", "Timeline", "hierarchy_figure", "state_of"]

# One colour per kind of state, shared by every tier; the figure's key lists those it uses.
STATE_COLOURS: dict[str, tuple[str, str]] = {
    "ok": ("#2ca02c", "Running / Ready / ACTIVE"),
    "starting": ("#f2c12e", "Pending / starting"),
    "backoff": ("#ff7f0e", "CrashLoopBackOff / ImagePullBackOff"),
    "failed": ("#d62728", "Failed / Error"),
    "down": ("#8c564b", "NotReady node / stopped VM"),
    "gone": ("#b0b0b0", "VM deleted"),
    "stopping": ("#c5b0d5", "Terminating"),
    "done": ("#9ecae1", "Completed"),
    "unknown": ("#eeeeee", "not known (no cloud connection)"),
    "storage": ("#17becf", "volume"),
    "host": ("#dadaeb", "host"),
}
ROOT_COLOUR = "#ffffff"
_BACKOFF = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"}
_FAILED = {"Failed", "Error", "OOMKilled", "Evicted", "ContainerCannotRun", "NodeLost", "DeadlineExceeded"}
_STARTING = {"Pending", "ContainerCreating", "PodInitializing", "Waiting", "BUILD", "REBUILD", "RESIZE", "MIGRATING"}
_MARKED_NAME = re.compile(r"^course-.+?-\d\d-")  # course-<learner>-<lab>-<what>: the marks' name prefix
LEAF_PX, MIN_HEIGHT, MAX_HEIGHT = 40, 460, 1600
KEY_PER_LINE = 4
LINE_CHARS = 28  # what one line of an 11 px label holds in a column of a 980 px wide figure
_VM_STATUS = {
    DELETED: "deleted: the cloud no longer lists this VM, its node stays until Kubernetes gives up on it",
    UNKNOWN: "not known: no cloud connection was given",
}


def state_of(obj: Server | Node | Pod | Container | Claim) -> str:
    """The key into ``STATE_COLOURS`` for one object of a snapshot."""
    if isinstance(obj, Server):
        if obj.status == DELETED:
            return "gone"
        if obj.status == UNKNOWN:
            return "unknown"
        if obj.status == "ACTIVE":
            return "ok"
        if obj.status in ("ERROR",):
            return "failed"
        return "starting" if obj.status in _STARTING else "down"
    if isinstance(obj, Node):
        return "ok" if obj.ready == "Ready" else "down"
    if isinstance(obj, Claim):
        return "storage" if obj.phase == "Bound" else ("starting" if obj.phase == "Pending" else "failed")
    if isinstance(obj, Container):
        return _word_state(obj.state, ready=obj.ready)
    ready = all(c.ready for c in obj.containers) if obj.containers else False
    return _word_state(obj.status, ready=ready)


def _word_state(word: str, *, ready: bool) -> str:
    word = word.split(":", 1)[-1]  # Init:CrashLoopBackOff -> CrashLoopBackOff
    if word == "Running":
        return "ok" if ready else "starting"
    if word in _BACKOFF:
        return "backoff"
    if word in _FAILED or word.startswith("ExitCode"):
        return "failed"
    if word in ("Completed", "Succeeded"):
        return "done"
    if word == "Terminating":
        return "stopping"
    if word in _STARTING:
        return "starting"
    return "unknown"


def short_name(name: str) -> str:
    """A VM's or node's name without the course's ``course-<learner>-<lab>-`` prefix (the hover keeps it all)."""
    return _MARKED_NAME.sub("", name) or name


def short_image(image: str) -> str:
    """``registry.example/visualizing-compute/sample-api:1.0.0`` -> ``sample-api:1.0.0``."""
    return image.rsplit("/", 1)[-1] or image


def _image_text(name: str, image: str) -> str:
    """The image beside a container's name: all of ``name:tag``, or only ``:tag`` where both would not fit the box."""
    short = short_image(image)
    if len(name) + 1 + len(short) <= LINE_CHARS:
        return short
    return ":" + (short.rpartition(":")[2] if ":" in short else "latest")


def _memory_gib(quantity: str) -> str:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", quantity or "")
    if not match:
        return quantity or "?"
    return f"{float(match.group(1)) * units.get(match.group(2) or '', 1) / 2**30:.1f} GiB"


@dataclass(frozen=True)
class Box:
    """One sector of the icicle."""

    id: str
    parent: str
    text: str  # what the box shows
    hover: str
    state: str  # key of STATE_COLOURS, or "root"
    kind: str  # host, vm, node, pod, container, volume, root


def boxes(snapshot: Snapshot) -> list[Box]:
    """Every object of the snapshot as an icicle box, parents before children, in the snapshot's order."""
    root = "cluster"
    out = [
        Box(
            root,
            "",
            f"<b>cluster {snapshot.cluster}</b><br>namespace {snapshot.namespace}",
            f"<b>cluster {snapshot.cluster}</b><br>namespace {snapshot.namespace}<br>{snapshot.summary()}"
            + "".join(f"<br>{note}" for note in snapshot.notes),
            "root",
            "root",
        )
    ]
    for host in snapshot.hosts:
        hid = f"{root}/{host.label}"
        detail = f"hostId {host.host_id}" if host.host_id else "no hostId: the cloud shows no host for these"
        out.append(
            Box(
                hid,
                root,
                f"<b>{host.label}</b><br>{len(host.servers)} VM{'s' if len(host.servers) != 1 else ''}",
                f"<b>{host.label}</b><br>{detail}<br>VMs: {', '.join(s.name for s in host.servers)}",
                "host" if host.host_id else ("gone" if any(s.status == DELETED for s in host.servers) else "unknown"),
                "host",
            )
        )
        for server in host.servers:
            out.extend(_server_boxes(server, hid, snapshot))
    if snapshot.unscheduled or any(not c.server for c in snapshot.claims):
        out.extend(_unplaced_boxes(snapshot, root))
    return out


def _server_boxes(server: Server, parent: str, snapshot: Snapshot) -> list[Box]:
    sid = f"{parent}/{server.name}"
    status = {DELETED: "deleted", UNKNOWN: "not known"}.get(server.status, server.status)
    hover = (
        f"<b>VM {server.name}</b><br>flavor {server.flavor}<br>status {_VM_STATUS.get(server.status, server.status)}"
        f"<br>id {server.id or '?'}" + "".join(f"<br>{a}" for a in server.addresses)
    )
    out = [
        Box(
            sid,
            parent,
            f"<b>{short_name(server.name)}</b><br>{server.flavor} · {status}",
            hover,
            state_of(server),
            "vm",
        )
    ]
    for node in server.nodes:
        out.extend(_node_boxes(node, sid))
    for claim in snapshot.claims:
        if claim.server and server.name in claim.server.split(", "):
            out.append(_claim_box(claim, sid))
    return out


def _node_boxes(node: Node, parent: str) -> list[Box]:
    nid = f"{parent}/node {node.name}"
    gpus = f", {node.gpus} GPU" if node.gpus else ""
    hover = (
        f"<b>node {node.name}</b><br>{node.status} ({node.role})<br>allocatable: {node.cpu or '?'} CPU, "
        f"{_memory_gib(node.memory)}{gpus}<br>taints: {', '.join(node.taints) or 'none'}"
        f"<br>providerID {node.provider_id or 'none'}<br>{len(node.pods)} of your pods"
    )
    text = f"<b>{short_name(node.name)}</b><br>{node.status} · {node.cpu or '?'} CPU{gpus}"
    out = [Box(nid, parent, text, hover, state_of(node), "node")]
    for pod in node.pods:
        out.extend(_pod_boxes(pod, nid))
    return out


def _pod_boxes(pod: Pod, parent: str) -> list[Box]:
    pid = f"{parent}/pod {pod.name}"
    owner = f"{pod.owner_kind} {pod.owner_name}" if pod.owner_kind else "no owner (a bare pod)"
    hover = (
        f"<b>pod {pod.name}</b><br>{pod.status} (phase {pod.phase}), {pod.ready} ready, {pod.restarts} restarts"
        f"<br>owner: {owner}<br>node: {pod.node or 'not scheduled'}"
        + (f"<br>GPUs requested: {pod.gpus}" if pod.gpus else "")
        + (f"<br>{_wrap(pod.message)}" if pod.message else "")
    )
    out = [Box(pid, parent, f"<b>{pod.name}</b><br>{pod.status} · {pod.ready}", hover, state_of(pod), "pod")]
    for c in pod.containers:
        restarts = f" · {c.restarts} restarts" if c.restarts else ""
        out.append(
            Box(
                f"{pid}/{c.name}",
                pid,
                f"<b>{c.name}</b> {_image_text(c.name, c.image)}<br>{c.state}{restarts}",
                f"<b>container {c.name}</b><br>image {c.image}<br>{c.state}, ready {c.ready}, {c.restarts} restarts"
                + (f"<br>{_wrap(c.message)}" if c.message else ""),
                state_of(c),
                "container",
            )
        )
    return out


def _claim_box(claim: Claim, parent: str) -> Box:
    where = f"attached to {claim.server}" if claim.server else "not attached to a VM"
    hover = (
        f"<b>claim {claim.name}</b><br>{claim.phase}, {claim.size} ({claim.storage_class or 'no class'})"
        f"<br>PersistentVolume {claim.volume or 'none yet'}<br>cloud volume {claim.cloud_volume or 'none yet'}"
        f" ({claim.cloud_status or 'status not read'})<br>{where}"
    )
    text = f"<b>volume {claim.name}</b><br>{claim.size} · {claim.cloud_status or claim.phase}"
    return Box(f"{parent}/volume {claim.name}", parent, text, hover, state_of(claim), "volume")


def _unplaced_boxes(snapshot: Snapshot, root: str) -> list[Box]:
    """Pods no node runs and claims no VM holds: one branch beside the hosts, with empty VM and node tiers."""
    hid = f"{root}/not placed"
    vid = f"{hid}/-"
    out = [
        Box(
            hid,
            root,
            "<b>not placed</b>",
            "<b>not placed</b><br>pods no node runs, volumes no VM holds",
            "unknown",
            "host",
        ),
        Box(vid, hid, "no VM", "no VM: what is here is not on any VM", "unknown", "vm"),
    ]
    if snapshot.unscheduled:
        nid = f"{vid}/no node"
        out.append(
            Box(
                nid, vid, "<b>not scheduled</b>", "no node: the scheduler has not placed these pods", "starting", "node"
            )
        )
        for pod in snapshot.unscheduled:
            out.extend(_pod_boxes(pod, nid))
    for claim in snapshot.claims:
        if not claim.server:
            out.append(_claim_box(claim, vid))
    return out


def _wrap(text: str, width: int = 60) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line])


def _leaves(items: list[Box]) -> int:
    parents = {b.parent for b in items}
    return sum(b.id not in parents for b in items)


def _key(states: set[str]) -> str:
    """The colour key under the figure: only the states it shows."""
    keys = [k for k in STATE_COLOURS if k in states and k != "host"]
    items = [f"<span style='color:{STATE_COLOURS[k][0]}'>■</span> {STATE_COLOURS[k][1]}" for k in keys]
    return "<br>".join("    ".join(items[i : i + KEY_PER_LINE]) for i in range(0, len(items), KEY_PER_LINE))


def hierarchy_figure(snapshot: Snapshot, *, title: str | None = None) -> go.Figure:
    """An icicle of the snapshot: hosts, VMs, nodes, pods and containers as columns, coloured by state.

    Hover a box for its details (flavor, addresses, taints, allocatable, owner, the scheduler's
    message); click one to zoom into it and its children, click the left column to zoom out.
    """
    import plotly.graph_objects as go

    items = boxes(snapshot)
    colours = [ROOT_COLOUR if b.state == "root" else STATE_COLOURS[b.state][0] for b in items]
    trace = go.Icicle(
        ids=[b.id for b in items],
        parents=[b.parent for b in items],
        labels=[b.id.rsplit("/", 1)[-1] for b in items],
        text=[b.text for b in items],
        textinfo="text",
        hovertext=[b.hover for b in items],
        hoverinfo="text",
        customdata=[[b.kind, b.state] for b in items],
        marker=dict(colors=colours, line=dict(color="#ffffff", width=1)),
        leaf=dict(opacity=1),  # a leaf's colour means the same as its parent's
        tiling=dict(orientation="h"),
        sort=False,
        pathbar=dict(visible=False),
        insidetextfont=dict(size=11),
        root=dict(color=ROOT_COLOUR),
    )
    fig = go.Figure(trace)
    heading = title or f"Your cluster {snapshot.cluster}: {snapshot.label}"
    sub = f"hosts → VMs → nodes → pods → containers. {snapshot.summary().split(': ', 1)[-1]}. Hover for details."
    key = _key({b.state for b in items})
    bottom = 18 + 18 * (key.count("<br>") + 1)
    height = max(MIN_HEIGHT, min(MAX_HEIGHT, 70 + bottom + LEAF_PX * _leaves(items)))
    fig.update_layout(
        title=dict(text=f"{heading}<br><sup>{sub}</sup>", x=0.01),
        margin=dict(t=70, l=5, r=5, b=bottom),
        height=height,
        uniformtext=dict(minsize=9, mode="hide"),
        annotations=[
            dict(
                text=key,
                x=0,
                y=-8 / (height - 70 - bottom),
                xref="paper",
                yref="paper",
                xanchor="left",
                yanchor="top",
                showarrow=False,
                align="left",
                font=dict(size=12),
            )
        ],
    )
    return fig


# -- a lab's states, stepped through ---------------------------------------------------------


class Timeline:
    """The states a lab passes through, in order; a widget steps between them and follows the newest."""

    def __init__(self, snapshots: list[Snapshot] | tuple[Snapshot, ...] = (), *, title: str | None = None) -> None:
        self.snapshots: list[Snapshot] = list(snapshots)
        self.title = title
        self._listeners: list[Callable[[], None]] = []

    def __len__(self) -> int:
        return len(self.snapshots)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.snapshots]

    def record(self, snapshot: Snapshot) -> Snapshot:
        """Add a state (a re-run cell that records the same label again replaces it); widgets shown move to it."""
        if not isinstance(snapshot, Snapshot):
            raise UsageError(
                f"record() takes a Snapshot, not {type(snapshot).__name__}.",
                hint="Take one with lab_helpers.kube.snapshot.take(conn, api, namespace=..., cluster=..., label=...).",
            )
        same = [i for i, s in enumerate(self.snapshots) if s.label == snapshot.label]
        if same:
            self.snapshots[same[0]] = snapshot
        else:
            self.snapshots.append(snapshot)
        for listener in list(self._listeners):
            listener()
        return snapshot

    def figure(self, i: int = -1) -> go.Figure:
        if not self.snapshots:
            raise UsageError(
                "the timeline has no state yet.", hint="Record one first: timeline.record(snapshot.take(...))."
            )
        try:
            snap = self.snapshots[i]
        except IndexError:
            raise UsageError(
                f"there is no state {i}: the timeline has {len(self.snapshots)}.",
                hint="Use an index from 0 to len(timeline) - 1, or -1 for the newest.",
            ) from None
        return hierarchy_figure(snap, title=self.title and f"{self.title}: {snap.label}")

    def widget(self) -> ipywidgets.VBox:
        """A slider over the recorded labels and the chosen state's figure below it."""
        import ipywidgets as widgets

        slider = widgets.SelectionSlider(
            options=self._options() or [("(nothing recorded yet)", -1)],
            description="State",
            continuous_update=False,
            readout=True,
            layout=widgets.Layout(width="95%"),
            style={"description_width": "initial"},
        )
        show, view = _figure_view()

        def redraw(*_: Any) -> None:
            if self.snapshots and slider.value is not None and slider.value >= 0:
                show(self.figure(slider.value))

        def follow() -> None:
            slider.unobserve(redraw, names="value")  # new options reset the value: draw once, at the end
            slider.options = self._options()
            slider.value = len(self.snapshots) - 1  # the newest
            slider.observe(redraw, names="value")
            redraw()

        slider.observe(redraw, names="value")
        self._listeners.append(follow)
        redraw()
        box = widgets.VBox([slider, view])
        box.add_class("lab-cluster-timeline")
        return box

    def _options(self) -> list[tuple[str, int]]:
        # numbered in order, unless the lab numbers its labels itself ("3. scaled to 4")
        return [(label if label[:1].isdigit() else f"{i + 1}. {label}", i) for i, label in enumerate(self.labels)]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "states": [s.to_dict() for s in self.snapshots]}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Timeline:
        return cls([Snapshot.from_dict(s) for s in doc.get("states") or []], title=doc.get("title"))


def _figure_view() -> tuple[Callable[[go.Figure], None], Any]:
    """A widget that shows a figure, and the function that replaces the figure it shows.

    ``go.FigureWidget`` where plotly can make one (it needs the ``anywidget`` package): the figure
    changes in place. Otherwise an Output widget whose outputs are set to the figure's plotly bundle
    (set directly, not captured with ``with out:``, which can leave a headless run waiting).
    """
    import plotly.graph_objects as go

    try:
        fig_widget = go.FigureWidget()
    except ImportError:
        fig_widget = None
    if fig_widget is not None:
        shown: Any = fig_widget

        def show_in_place(fig: go.Figure) -> None:
            with shown.batch_update():
                shown.data = ()
                shown.add_traces(list(fig.data))
                shown.layout = fig.layout

        return show_in_place, shown

    import ipywidgets as widgets
    import plotly.io as pio

    out = widgets.Output()

    def show_bundle(fig: go.Figure) -> None:
        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict())
        out.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)

    return show_bundle, out
