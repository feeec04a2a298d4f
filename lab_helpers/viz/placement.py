"""Where a learner's servers landed: physical hosts with the VMs placed on them.

What a project may see differs by cloud. The sandbox has an operator (admin) view: the
hypervisors, their capacity and which server runs on which. Jetstream2 gives a project token no
hypervisor API (403 Forbidden): hosts are private to the operator, and a project sees only each
server's ``hostId``, an opaque hash of host and project. Two servers with the same hostId share a
physical host; that is enough to check anti-affinity, and all a tenant may know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..marks import KEY_LEARNER

__all__ = ["placement_figure", "where_it_landed"]

# JS2 CPU hosts have 128 cores (data/jetstream2.yaml host_types.compute); used when capacity is hidden.
_DEFAULT_HOST_VCPUS = 128


@dataclass
class PlacedServer:
    name: str
    flavor: str
    vcpus: int
    status: str


@dataclass
class Host:
    name: str
    vcpus: int
    vcpus_used: int | None  # None: the cloud does not say (a project's view)
    ram_gb: float | None = None
    ram_gb_used: float | None = None
    mine: list[PlacedServer] = field(default_factory=list)

    @property
    def others(self) -> int | None:
        if self.vcpus_used is None:
            return None
        return max(0, self.vcpus_used - sum(s.vcpus for s in self.mine))


@dataclass
class Placement:
    view: str  # "hypervisors" (operator view) or "hostId" (what a project sees)
    hosts: list[Host]
    note: str

    def __str__(self) -> str:
        lines = [self.note]
        for h in self.hosts:
            used = f"{h.vcpus_used}/{h.vcpus} vCPUs used" if h.vcpus_used is not None else "capacity hidden"
            mine = ", ".join(f"{s.name} ({s.flavor})" for s in h.mine) or "none of yours"
            lines.append(f"  {h.name}: {used}; yours: {mine}")
        return "\n".join(lines)

    __repr__ = __str__


def _flavor(server) -> tuple[str, int]:
    flavor = server.flavor if isinstance(server.flavor, dict) else dict(server.flavor or {})
    return flavor.get("original_name") or flavor.get("name") or "?", int(flavor.get("vcpus") or 0)


def _is_mine(server, learner: str) -> bool:
    return (server.metadata or {}).get(KEY_LEARNER) == learner


def operator_view(admin_conn, learner: str) -> Placement:
    """Every hypervisor and the servers on it (needs an admin connection: the sandbox's)."""
    hosts = {}
    for h in admin_conn.compute.hypervisors(details=True):
        hosts[h.name] = Host(
            h.name,
            int(h.vcpus or 0),
            int(h.vcpus_used or 0),
            round((h.memory_size or 0) / 1024, 1),
            round((h.memory_used or 0) / 1024, 1),
        )
    for server in admin_conn.compute.servers(details=True, all_projects=True):
        host = hosts.get(server.hypervisor_hostname or "")
        if host is not None and _is_mine(server, learner):
            name, vcpus = _flavor(server)
            host.mine.append(PlacedServer(server.name, name, vcpus, server.status))
    return Placement(
        "hypervisors",
        list(hosts.values()),
        "Operator view (the sandbox's admin credential): every hypervisor, its capacity and your servers on it.",
    )


def project_view(conn, learner: str) -> Placement:
    """What a project token shows: your servers grouped by ``hostId``; capacity and neighbours hidden."""
    groups: dict[str, Host] = {}
    for server in conn.compute.servers(details=True):
        if not _is_mine(server, learner) or not server.host_id:
            continue
        key = server.host_id
        host = groups.setdefault(key, Host(f"host {len(groups) + 1} (hostId {key[:8]}...)", _DEFAULT_HOST_VCPUS, None))
        name, vcpus = _flavor(server)
        host.mine.append(PlacedServer(server.name, name, vcpus, server.status))
    return Placement(
        "hostId",
        list(groups.values()),
        "Project view: your servers grouped by hostId. Who else runs on each host, and its name, "
        "stay with the operator (the hypervisor API answers 403 to a project).",
    )


def where_it_landed(course, conn) -> Placement:
    """The operator view where the backend gives one (the sandbox's admin credential), else the project view."""
    if course.backend.has_operator_view:
        return operator_view(course.cloud(admin=True), course.marks.learner)
    return project_view(conn, course.marks.learner)


def placement_figure(placement: Placement):
    """One horizontal bar per host: your VMs as coloured slices, other tenants grey, free space light."""
    import plotly.graph_objects as go

    names = [h.name for h in placement.hosts]
    fig = go.Figure()
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    mine_names = sorted({s.name for h in placement.hosts for s in h.mine})
    for i, server_name in enumerate(mine_names):
        x = [sum(s.vcpus for s in h.mine if s.name == server_name) for h in placement.hosts]
        fig.add_trace(
            go.Bar(
                y=names,
                x=x,
                orientation="h",
                name=server_name,
                marker_color=palette[i % len(palette)],
                hovertemplate="%{y}<br>" + server_name + ": %{x} vCPUs<extra></extra>",
            )
        )
    if placement.view == "hypervisors":
        fig.add_trace(
            go.Bar(
                y=names,
                x=[h.others or 0 for h in placement.hosts],
                orientation="h",
                name="other servers",
                marker_color="#7f7f7f",
            )
        )
        free = [max(0, h.vcpus - (h.vcpus_used or 0)) for h in placement.hosts]
        fig.add_trace(go.Bar(y=names, x=free, orientation="h", name="free", marker_color="#e5e5e5"))
    else:
        hidden = [max(0, h.vcpus - sum(s.vcpus for s in h.mine)) for h in placement.hosts]
        fig.add_trace(
            go.Bar(
                y=names,
                x=hidden,
                orientation="h",
                name="hidden from your project",
                marker_color="#e5e5e5",
                marker_pattern_shape="/",
            )
        )
    fig.update_layout(
        barmode="stack",
        title="Where your servers landed (" + placement.view + " view)",
        xaxis_title="vCPUs of the host",
        height=max(320, 160 + 60 * len(names)),
    )
    return fig
