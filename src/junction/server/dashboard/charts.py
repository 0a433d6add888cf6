"""Charts as SVG, drawn on the server from the same figures the pages show
(docs/decisions.md, "Dashboard charts"): pure functions, text in, text out.

Every label is escaped; the SVG carries no script and no style element, only
presentation attributes, so it is served under ``default-src 'none'`` and shown
with ``<img>`` (which never runs anything inside it). The palette is Okabe and
Ito's, told apart without colour vision; each chart has a title and a summary
(``<title>``, ``<desc>``), and the page puts its numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#999999"
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 30, 64
Series = tuple[str, Sequence[float | None]]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def fmt(value: float, unit: str = "") -> str:
    if unit == "$":
        return f"${value:,.4g}" if value < 1000 else f"${value:,.0f}"
    if unit == "%":
        return f"{value:.0f}%"
    if abs(value) >= 1e6:
        text = f"{value / 1e6:.3g}M"
    elif abs(value) >= 1e3:
        text = f"{value / 1e3:.3g}k"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def _frame(title: str, summary: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="t d" '
        f'font-family="system-ui, sans-serif" font-size="11">'
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(summary)}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="600" fill="#1a1a1a">'
        f"{escape(title)}</text>"
    )
    return head + "".join(body) + "</svg>"


def _axes(top: float, unit: str, labels: Sequence[str]) -> tuple[list[str], float]:
    """Grid, y ticks and up to eight x labels; the y scale's maximum."""
    ticks = nice_ticks(top)
    ymax = ticks[-1] or 1.0
    plot_h = HEIGHT - TOP - BOTTOM
    out = []
    for t in ticks:
        y = TOP + plot_h - plot_h * t / ymax
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e0e0e0"/><text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#444444">{escape(fmt(t, unit))}</text>'
        )
    n = len(labels)
    step = max(1, math.ceil(n / 8))
    slot = (WIDTH - LEFT - RIGHT) / max(n, 1)
    for i in range(0, n, step):
        x = LEFT + slot * (i + 0.5)
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" '
            f'fill="#444444">{escape(labels[i])}</text>'
        )
    return out, ymax


def _legend(names: Sequence[str]) -> list[str]:
    out = []
    x = float(LEFT)
    y = HEIGHT - 22
    for i, name in enumerate(names):
        colour = _colour(i, name)
        label = name if len(name) <= 28 else name[:27] + "…"
        out.append(
            f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{y}" fill="#1a1a1a">{escape(label)}</text>'
        )
        x += 24 + 6.5 * len(label)
        if x > WIDTH - 120:
            x, y = float(LEFT), y + 14
    return out


def _colour(i: int, name: str) -> str:
    return OTHER if name == "other" else PALETTE[i % len(PALETTE)]


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[Series], unit: str = ""
) -> str:
    """One bar per label, each series stacked in order (None counts as 0)."""
    n = len(labels)
    totals = [sum((s[1][i] or 0.0) for s in series) for i in range(n)]
    grand = sum(totals)
    summary = (
        f"{n} periods, total {fmt(grand, unit)}; "
        + ", ".join(f"{name} {fmt(sum(v or 0.0 for v in vals), unit)}" for name, vals in series)
        if series
        else f"{n} periods, nothing recorded"
    )
    body, ymax = _axes(max(totals, default=0.0), unit, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(n, 1)
    bar = max(1.0, slot * 0.8)
    for i in range(n):
        base: float = TOP + plot_h
        x = LEFT + slot * i + (slot - bar) / 2
        for k, (name, vals) in enumerate(series):
            v = vals[i] or 0.0
            if v <= 0:
                continue
            h = plot_h * v / ymax
            base -= h
            body.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_colour(k, name)}" data-series={quoteattr(name)} data-value="{v:.6g}"/>'
            )
    if not grand:
        body.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'fill="#444444">nothing recorded in this range</text>'
        )
    body += _legend([name for name, _ in series])
    return _frame(title, summary, body)


def lines(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> str:
    """One line per series; a None is a gap."""
    values = [v for _, vals in series for v in vals if v is not None]
    summary = (
        ", ".join(
            f"{name}: max {fmt(max(vs), unit)}"
            for name, vals in series
            if (vs := [v for v in vals if v is not None])
        )
        or "nothing recorded"
    )
    body, ymax = _axes(max(values, default=0.0), unit, labels)
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for k, (name, vals) in enumerate(series):
        points: list[str] = []
        runs: list[list[str]] = [points]
        for i, v in enumerate(vals):
            if v is None:
                points = []
                runs.append(points)
                continue
            x = LEFT + slot * (i + 0.5)
            y = TOP + plot_h - plot_h * v / ymax
            points.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_colour(k, name)}" '
                f'data-series={quoteattr(name)} data-value="{v:.6g}"/>'
            )
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" '
                    f'stroke="{_colour(k, name)}" stroke-width="2"/>'
                )
    if not values:
        body.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'fill="#444444">nothing recorded in this range</text>'
        )
    body += _legend([name for name, _ in series])
    return _frame(title, summary, body)
