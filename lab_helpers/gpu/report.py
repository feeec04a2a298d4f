"""How a benchmark report looks: a text table for terminals and logs, an HTML table in JupyterLab."""

from __future__ import annotations

import html


def _fmt(value, spec: str = ".1f", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def _rate(r) -> str:
    if r.gbps is not None:
        return f"{r.gbps:9.1f} GB/s"
    if r.tflops is not None:
        return f"{r.tflops:8.3f} TFLOP/s"
    return ""


def _row(r) -> list[str]:
    seconds = f"{r.seconds * 1e6:.2f} us" if r.seconds < 1e-3 else f"{r.seconds * 1e3:.3f} ms"
    frac = "-" if r.fraction_of_peak is None else f"{r.fraction_of_peak:.0%}"
    size = f"{r.n:,}" if r.kernel != "gemm" else f"{r.n}x{r.n}"
    return [r.kernel, r.variant or "-", r.dtype, size, seconds, _rate(r), frac, r.note]


HEADER = ["kernel", "variant", "dtype", "n", "time (best)", "rate", "of peak", "note"]


def as_table(report) -> str:
    rows = [HEADER] + [_row(r) for r in report.headline()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    lines = [str(report.device), ""]
    for row in rows:
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + ("  " + row[-1] if row[-1] else "")
        )
    sweep = report.sweep()
    if sweep:
        lines += ["", "size sweep (add, a = b + c):"]
        for r in sweep:
            lines.append(f"  working set {r.working_set_bytes / 2**20:10.2f} MiB  {r.gbps:9.1f} GB/s")
    for skipped in report.skipped:
        what = " ".join(filter(None, [skipped.get("kernel"), skipped.get("variant")]))
        lines.append(f"skipped {what}: {skipped['reason']}")
    peaks = {r.peak_source for r in report.results if r.peak_source}
    if peaks:
        lines.append("'of peak' is relative to: " + "; ".join(sorted(peaks)))
    lines.append(f"(suite took {report.wall_s:.1f} s)")
    return "\n".join(lines)


def as_html(report) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in _row(r)) + "</tr>" for r in report.headline())
    notes = "".join(
        f"<li>skipped {html.escape(str(s.get('kernel')))} {html.escape(str(s.get('variant', '')))}: "
        f"{html.escape(s['reason'])}</li>"
        for s in report.skipped
    )
    device = html.escape(str(report.device)).replace("\n", "<br>")
    return f"<div><p>{device}</p><table><tr>{head}</tr>{body}</table><ul>{notes}</ul></div>"
