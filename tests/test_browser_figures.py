"""Every figure of labs 00-04 drawn by plotly.js in chromium, judged from the DOM plotly renders.

The figures come from the same lab_helpers functions the notebooks call (fixed data, see
``figure_cases.py``), on one local HTML page with the installed plotly package's plotly.js: no
network, no JupyterLab (one JupyterLab test in test_browser.py covers a saved notebook). For each
figure: every text lies inside the figure, sector and bar labels inside their shape and readable,
legend entries are the traces' names, annotations sit by the value they name, labels neither
collide nor hide under other markers, and no log axis runs a decade past its data. A PNG of each
figure goes to ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import pytest
from figure_cases import cases

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(os.environ.get("LAB_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WIDTH = 980  # about the width of a JupyterLab output area on a laptop screen
MIN_FONT_PX = 9  # smaller than this is unreadable at 100% zoom
NEAR_PX = 8  # an annotation this close to its line or point reads as its label

# Reads what plotly drew. Boxes are client pixels; a text's effective size includes any scaling
# plotly applied to make it fit (sunburst and treemap labels shrink).
MEASURE_JS = r"""
(id) => {
  const gd = document.getElementById(id);
  const box = r => ({l: r.left, t: r.top, r: r.right, b: r.bottom});
  const visible = el => {
    for (let e = el; e && e !== gd; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    }
    return true;
  };
  const KINDS = ['legendtext', 'annotation', 'gtitle', 'xtick', 'ytick', 'g-xtitle', 'g-ytitle', 'slicetext',
                 'textpoint', 'bartext', 'colorbar', 'pathbar', 'infolayer', 'legend'];
  const kindOf = el => {
    for (let e = el; e && e !== gd; e = e.parentElement) {
      const cls = (e.getAttribute && e.getAttribute('class') || '').split(/\s+/);
      for (const k of KINDS) if (cls.includes(k)) return k;
    }
    return 'other';
  };
  const texts = [...gd.querySelectorAll('text')].filter(t => t.textContent.trim() && visible(t)).map(t => {
    const m = t.getScreenCTM();
    const scale = m ? Math.hypot(m.a, m.b) : 1;
    return {text: t.textContent, kind: kindOf(t), box: box(t.getBoundingClientRect()),
            px: parseFloat(getComputedStyle(t).fontSize) * scale};
  });
  const shapes = [];  // sectors, tiles and bars with the label drawn in them
  for (const g of gd.querySelectorAll('g.slice, g.trace.bars g.point')) {
    const path = g.querySelector('path');
    const label = g.querySelector('text');
    if (!path || !label || !label.textContent.trim() || !visible(label)) continue;
    shapes.push({text: label.textContent, shape: box(path.getBoundingClientRect()), label: box(label.getBoundingClientRect())});
  }
  const full = gd._fullLayout;
  const traces = gd._fullData.map(t => ({name: t.name, type: t.type, showlegend: t.showlegend !== false,
                                         visible: t.visible === true, xaxis: t.xaxis, yaxis: t.yaxis,
                                         x: Array.from(t.x || []), y: Array.from(t.y || []), base: Array.from(t.base || []),
                                         orientation: t.orientation}));
  const markers = [];  // every scatter marker: trace index, centre and radius
  gd.querySelectorAll('g.trace.scatter').forEach((g, index) => {
    g.querySelectorAll('g.points path.point').forEach(p => {
      const r = p.getBoundingClientRect();
      markers.push({trace: index, cx: (r.left + r.right) / 2, cy: (r.top + r.bottom) / 2, r: r.width / 2});
    });
  });
  const labels = [];  // text drawn beside scatter markers, with its trace index
  gd.querySelectorAll('g.trace.scatter').forEach((g, index) => {
    g.querySelectorAll('g.textpoint text').forEach(t => {
      if (t.textContent.trim() && visible(t)) labels.push({trace: index, text: t.textContent, box: box(t.getBoundingClientRect())});
    });
  });
  const axes = {};
  for (const key of Object.keys(full)) {
    if (!/^[xy]axis\d*$/.test(key) || !full[key]._id) continue;
    const ax = full[key];
    if (ax.visible === false) continue;
    axes[ax._id] = {type: ax.type, range: ax.range.slice()};
  }
  const anns = [];
  const rect = gd.getBoundingClientRect();
  gd.querySelectorAll('g.annotation').forEach(g => {
    const i = parseInt(g.getAttribute('data-index'));
    const a = full.annotations[i];
    const r = g.querySelector('.annotation-text-g') || g;
    const item = {text: a.text, box: box(r.getBoundingClientRect()), showarrow: a.showarrow};
    for (const [coord, ref] of [['x', a.xref], ['y', a.yref]]) {
      if (!ref || ref === 'paper' || ref.endsWith('domain')) continue;
      const ax = full[ref.replace(/^x/, 'xaxis').replace(/^y/, 'yaxis')];
      item[coord] = (coord === 'x' ? rect.left + ax._offset + ax.r2p(a[coord]) : rect.top + ax._offset + ax.r2p(a[coord]));
    }
    anns.push(item);
  });
  const axisOf = ref => full[ref.replace(/^x/, 'xaxis').replace(/^y/, 'yaxis')];
  const lines = (full.shapes || []).map(sh => {
    const line = {xref: sh.xref, yref: sh.yref, x: [sh.x0, sh.x1], y: [sh.y0, sh.y1]};
    const spans = ref => !ref || ref === 'paper' || ref.endsWith('domain');
    if (sh.type === 'line' && sh.x0 === sh.x1 && !spans(sh.xref) && spans(sh.yref)) {
      const ax = axisOf(sh.xref);
      line.across = {axis: 'x', px: rect.left + ax._offset + ax.l2p(ax.d2l(sh.x0))};
    } else if (sh.type === 'line' && sh.y0 === sh.y1 && !spans(sh.yref) && spans(sh.xref)) {
      const ax = axisOf(sh.yref);
      line.across = {axis: 'y', px: rect.top + ax._offset + ax.l2p(ax.d2l(sh.y0))};
    }
    return line;
  });
  const size = full._size;
  const plotarea = {l: rect.left + size.l, t: rect.top + size.t, r: rect.left + size.l + size.w, b: rect.top + size.t + size.h};
  return {figure: box(rect), plotarea, texts, lines, shapes, traces, markers, labels, axes, annotations: anns,
          showlegend: full.showlegend,
          legendscrolls: [...gd.querySelectorAll('.legend .scrollbar')].some(b => b.getBoundingClientRect().height > 0),
          legendbox: gd.querySelector('.legend') ? box(gd.querySelector('.legend').getBoundingClientRect()) : null,
          legend: [...gd.querySelectorAll('.legend .traces .legendtext')].map(t => t.textContent)};
}
"""


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        pytest.fail("Debian's chromium is required for this test: apt-get install chromium")
    return path


def _page(figures: dict[str, dict], plotly_js: str) -> str:
    divs = "\n".join(f'<div id="{name}" class="figure" style="width:{WIDTH}px"></div>' for name in figures)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<script src="{plotly_js}"></script>
<style>body {{ margin: 0; font-family: sans-serif; background: white; }} .figure {{ margin: 0 0 24px 0; }}</style>
</head><body>{divs}
<script>
const figures = {json.dumps(figures)};
window.drawn = Promise.all(Object.entries(figures).map(([id, fig]) =>
  Plotly.newPlot(id, fig.data, fig.layout, {{responsive: false, displaylogo: false}})));
</script></body></html>"""


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Draw every figure once; returns {case name: what plotly drew}."""
    import plotly
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("figures")
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", folder / "plotly.min.js")
    figures = {case.name: json.loads(case.build().to_json()) for case in cases()}
    (folder / "figures.html").write_text(_page(figures, "plotly.min.js"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH + 40, "height": 900})
            page.goto((folder / "figures.html").as_uri())
            page.evaluate("() => window.drawn")
            for name in figures:
                results[name] = page.evaluate(MEASURE_JS, name)
                page.locator(f"#{name}").screenshot(path=str(ARTIFACTS / f"figure-{name}.png"))
        finally:
            browser.close()
    return results


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["l"] >= outer["l"] - slack
        and inner["t"] >= outer["t"] - slack
        and inner["r"] <= outer["r"] + slack
        and inner["b"] <= outer["b"] + slack
    )


def _overlap(a: dict, b: dict) -> float:
    w = min(a["r"], b["r"]) - max(a["l"], b["l"])
    h = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return max(0.0, w) * max(0.0, h)


def _area(a: dict) -> float:
    return max(0.0, a["r"] - a["l"]) * max(0.0, a["b"] - a["t"])


def _numbers(values) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, list):
            out += _numbers(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


CASES = {case.name: case for case in cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_every_text_lies_inside_the_figure(measured, name):
    drawn = measured[name]
    outside = [t["text"] for t in drawn["texts"] if not _inside(t["box"], drawn["figure"])]
    assert not outside, f"{name}: text outside the figure: {outside}"


@pytest.mark.parametrize("name", list(CASES))
def test_point_labels_lie_inside_the_plot_area(measured, name):
    """plotly clips a marker's label at the plot area's edge: a label past it loses its first or last letters."""
    drawn = measured[name]
    clipped = [t["text"] for t in drawn["labels"] if not _inside(t["box"], drawn["plotarea"])]
    assert not clipped, f"{name}: labels cut at the edge of the plot area: {clipped}"


@pytest.mark.parametrize("name", list(CASES))
def test_text_is_readable(measured, name):
    drawn = measured[name]
    small = [(t["text"], round(t["px"], 1)) for t in drawn["texts"] if t["px"] < MIN_FONT_PX]
    assert not small, f"{name}: text smaller than {MIN_FONT_PX} px: {small}"


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.labels_in_shapes])
def test_labels_sit_inside_their_sector_or_bar(measured, name):
    drawn = measured[name]
    assert drawn["shapes"], f"{name}: no labelled sector or bar was drawn"
    spill = [s["text"] for s in drawn["shapes"] if not _inside(s["label"], s["shape"], slack=1.5)]
    assert not spill, f"{name}: labels spill out of their shape: {spill}"


@pytest.mark.parametrize("name", list(CASES))
def test_legend_entries_are_the_traces_names(measured, name):
    drawn = measured[name]
    expected = [t["name"] for t in drawn["traces"] if t["showlegend"] and t["visible"]] if drawn["showlegend"] else []
    # plotly lists stacked bars top first, the reverse of the trace order: either order is the traces' own
    assert drawn["legend"] in (expected, expected[::-1])
    assert not drawn["legendscrolls"], f"{name}: the legend is taller than the figure and scrolls"


@pytest.mark.parametrize("name", list(CASES))
def test_annotations_sit_by_what_they_name(measured, name):
    """A label on an axis with reference lines names one of them; any other sits at its own coordinate."""
    drawn = measured[name]
    far = []
    for a in drawn["annotations"]:
        if a["showarrow"]:
            continue  # the arrow's tip is the point by construction
        box = a["box"]
        for axis, low, high in (("x", "l", "r"), ("y", "t", "b")):
            if axis not in a:
                continue
            across = [line["across"]["px"] for line in drawn["lines"] if line.get("across", {}).get("axis") == axis]
            gap = min(max(0.0, box[low] - px, px - box[high]) for px in across or [a[axis]])
            if gap > NEAR_PX:
                far.append((a["text"], axis, round(gap)))
    assert not far, f"{name}: annotations far from the value they name (text, axis, pixels): {far}"


@pytest.mark.parametrize("name", list(CASES))
def test_labels_neither_collide_nor_hide_under_markers(measured, name):
    drawn = measured[name]
    # sector labels are rotated: their boxes overlap while the glyphs do not; the sector test covers them
    labels = [t for t in drawn["texts"] if t["kind"] in ("textpoint", "annotation", "bartext")]
    collisions = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            if _overlap(a["box"], b["box"]) > 0.1 * min(_area(a["box"]), _area(b["box"])):
                collisions.append((a["text"], b["text"]))
    if drawn["legendbox"]:
        collisions += [
            (t["text"], "the legend")
            for t in drawn["texts"]
            if t["kind"] not in ("legendtext", "legend") and _overlap(t["box"], drawn["legendbox"]) > 0
        ]
    hidden = []
    for label in drawn["labels"]:  # a label under a marker drawn later (a later trace) cannot be read
        for m in drawn["markers"]:
            if m["trace"] <= label["trace"]:
                continue
            marker = {"l": m["cx"] - m["r"], "r": m["cx"] + m["r"], "t": m["cy"] - m["r"], "b": m["cy"] + m["r"]}
            if _overlap(label["box"], marker) > 20:  # px²: about a quarter of a 10 px marker over the glyphs
                hidden.append(label["text"])
    covered = []  # a marker wholly inside a bigger marker drawn later
    for a in drawn["markers"]:
        for b in drawn["markers"]:
            if b["trace"] > a["trace"] and math.hypot(a["cx"] - b["cx"], a["cy"] - b["cy"]) + a["r"] <= b["r"] + 0.5:
                covered.append((a["trace"], round(a["cx"]), round(a["cy"])))
    assert not collisions, f"{name}: labels overlap: {collisions}"
    assert not hidden, f"{name}: labels hidden under later markers: {sorted(set(hidden))}"
    assert not covered, f"{name}: markers hidden inside bigger markers (trace, x px, y px): {covered}"


@pytest.mark.parametrize("name", list(CASES))
def test_no_axis_runs_a_decade_past_its_data(measured, name):
    drawn = measured[name]
    empty = []
    for axis_id, axis in drawn["axes"].items():
        letter = axis_id[0]
        values = []
        for t in drawn["traces"]:
            if not t["visible"] or t.get(f"{letter}axis") != axis_id:
                continue
            values += _numbers(t[letter])
            if t["base"] and (t["orientation"] == "h") == (letter == "x"):
                ends = [b + v for b, v in zip(_numbers(t["base"]), _numbers(t[letter]), strict=False)]
                values += _numbers(t["base"]) + ends
        for line in drawn["lines"]:  # a reference line drawn on the axis is data too
            if line[f"{letter}ref"] == axis_id:
                values += _numbers(line[letter])
        if not values:
            continue
        lo, hi = axis["range"]
        lo, hi = min(lo, hi), max(lo, hi)
        if axis["type"] == "log":
            positive = [v for v in values if v > 0]
            dlo, dhi = math.log10(min(positive)), math.log10(max(positive))
            if hi - dhi >= 1 or dlo - lo >= 1:
                empty.append((axis_id, (round(lo, 2), round(hi, 2)), (round(dlo, 2), round(dhi, 2))))
        elif axis["type"] == "linear" and max(values) > 0 and hi > 10 * max(values):
            empty.append((axis_id, (lo, hi), (min(values), max(values))))
    assert not empty, f"{name}: axis range (log10 where log) against the data's: {empty}"


def test_block_io_legend_names_what_every_bar_of_its_colour_shares(measured):
    """One colour marks the 4 KiB and the 1 MiB bars of an operation: the legend may not name a block size."""
    assert measured["lab04-block-io"]["legend"] == ["read", "write"]
