"""Lab 03's flavor picture: every flavor the cloud offers, by vCPUs, RAM and SU cost per hour."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["flavor_figure", "flavor_rows", "flavor_table"]

FAMILIES = {"m3": ("CPU (m3)", "#1f77b4"), "r3": ("large memory (r3)", "#2ca02c"), "g3": ("GPU (g3)", "#d62728")}


@dataclass(frozen=True)
class FlavorRow:
    name: str
    family: str
    vcpus: int
    ram_gb: float
    disk_gb: int
    su_per_hour: float
    gpu_share: float = 0.0


def flavor_rows(flavors) -> list[FlavorRow]:
    """Rows from the cloud's own flavor list (``conn.compute.flavors()``) with each flavor's SU rate."""
    from ..resources.cost import flavors as catalog
    from ..resources.cost import su_per_hour

    known = catalog()
    rows = []
    for f in flavors:
        name = f.name
        family = name.split(".", 1)[0]
        rows.append(
            FlavorRow(
                name,
                family,
                int(f.vcpus),
                round(f.ram / 1024, 1),
                int(f.disk or 0),
                su_per_hour(name, f.vcpus),
                float(known.get(name, {}).get("gpu_fraction", 0.0)),
            )
        )
    return sorted(rows, key=lambda r: (r.family, r.su_per_hour, r.ram_gb))


def flavor_table(rows: list[FlavorRow]) -> str:
    lines = [f"{'flavor':<10} {'vCPU':>5} {'RAM GB':>7} {'disk GB':>8} {'SU/hour':>8}  GPU"]
    for r in rows:
        gpu = f"{r.gpu_share:.0%} of an A100" if r.gpu_share else ""
        lines.append(f"{r.name:<10} {r.vcpus:>5} {r.ram_gb:>7g} {r.disk_gb:>8} {r.su_per_hour:>8g}  {gpu}")
    return "\n".join(lines)


# Where the label goes per family: beside the marker, away from the neighbours on the diagonal.
_LABEL_SIDE = {"m3": "middle right", "r3": "middle left", "g3": "middle right"}
_DODGE_DECADES = 0.06  # flavors with the same vCPUs and RAM sit this far apart on the log x axis


def _dodged_x(rows: list[FlavorRow]) -> dict[str, float]:
    """x per flavor: its vCPUs, nudged left or right where flavors of several families share vCPUs and RAM.

    A g3 flavor is the m3 slice of the same size plus a share of a GPU: drawn at one point, one
    marker would hide the other. The hover text gives the exact numbers.
    """
    spots: dict[tuple[int, float], list[FlavorRow]] = {}
    for r in rows:
        spots.setdefault((r.vcpus, r.ram_gb), []).append(r)
    x = {}
    for group in spots.values():
        group = sorted(group, key=lambda r: list(FAMILIES).index(r.family) if r.family in FAMILIES else 99)
        for j, r in enumerate(group):
            shift = (j - (len(group) - 1) / 2) * 2 * _DODGE_DECADES
            x[r.name] = r.vcpus * 10**shift
    return x


def _label_side(row: FlavorRow, x: float) -> str:
    if x < row.vcpus:  # nudged left: its twin is on the right, so the label goes left
        return "middle left"
    return _LABEL_SIDE.get(row.family, "top center")


def flavor_figure(rows: list[FlavorRow]):
    """vCPU against RAM (log-log), marker area by SU/hour, one colour per family.

    Flavors with the same vCPUs and RAM in two families (m3.quad and g3.small) are drawn side by
    side instead of on top of each other; the hover gives exact numbers.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    biggest = max((r.su_per_hour for r in rows), default=1.0)
    x = _dodged_x(rows)
    for family, (label, colour) in FAMILIES.items():
        mine = [r for r in rows if r.family == family]
        if not mine:
            continue
        fig.add_trace(
            go.Scatter(
                x=[x[r.name] for r in mine],
                y=[r.ram_gb for r in mine],
                mode="markers+text",
                name=label,
                text=[r.name for r in mine],
                textposition=[_label_side(r, x[r.name]) for r in mine],
                marker=dict(
                    color=colour,
                    size=[10 + 40 * (r.su_per_hour / biggest) ** 0.5 for r in mine],
                    opacity=0.75,
                    line=dict(color="white", width=1),
                ),
                customdata=[[r.su_per_hour, r.disk_gb, r.gpu_share, r.vcpus, r.ram_gb] for r in mine],
                hovertemplate="%{text}<br>%{customdata[3]} vCPU, %{customdata[4]} GB RAM<br>root disk %{customdata[1]} GB<br>"
                "<b>%{customdata[0]} SU/hour</b><extra></extra>",
            )
        )
    fig.update_layout(
        title="Jetstream2 flavors: a slice of a host (marker area: SU per hour)<br><sup>A g3 flavor is the m3 "
        "slice of the same size plus part of an A100; the two are drawn side by side.</sup>",
        xaxis=dict(title="vCPUs", type="log"),
        yaxis=dict(title="RAM (GB)", type="log"),
        height=500,
        legend=dict(orientation="h", y=-0.15),
        margin=dict(t=80),
    )
    return fig


def as_dicts(rows: list[FlavorRow]) -> list[dict]:
    return [asdict(r) for r in rows]
