"""Small inline SVG charts: a bar chart, a histogram and a percentile chart.

Hand-written so that the report stays one self-contained file (no script, no font, no
image from elsewhere). Each chart carries a <title> and <desc> for screen readers, and
the report puts the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
BAR = 22  # height of a bar row
LABEL = 190  # width of the label column
PAD = 8
COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030")


def _frame(title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" class="chart">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def scale(value: float, top: float, width: float) -> float:
    """`value`'s length in a bar `width` long for `top` (0 when there is nothing)."""
    return 0.0 if top <= 0 else max(0.0, min(value, top)) / top * width


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """One horizontal bar per (label, value)."""
    top = max((v for _, v in items), default=0.0)
    span = WIDTH - LABEL - 80
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = PAD + i * BAR
        length = scale(value, top, span)
        body.append(_text(LABEL - 6, y + 15, label, anchor="end"))
        body.append(
            f'<rect x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{BAR - 6}" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
        )
        shown = f"{value:g}{unit}"
        body.append(_text(LABEL + length + 4, y + 15, shown))
    desc = "; ".join(f"{label}: {value:g}{unit}" for label, value in items) or "no data"
    return _frame(title, desc, PAD * 2 + max(1, len(items)) * BAR, body)


def histogram(title: str, bins: Sequence[tuple[int, int]], *, axis: str) -> str:
    """Vertical bars, one per (value, count), values on the x axis in order."""
    height, base = 180, 150
    top = max((n for _, n in bins), default=0)
    n = max(1, len(bins))
    step = (WIDTH - 2 * PAD - 40) / n
    body = [
        f'<line x1="40" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#444"/>',
        _text(4, 14, str(top), size=11),
        _text(WIDTH / 2, height - 4, axis, anchor="middle", size=11),
    ]
    for i, (value, count) in enumerate(bins):
        h = scale(count, top, base - 20)
        x = 40 + i * step
        body.append(
            f'<rect x="{x + 2:.1f}" y="{base - h:.1f}" width="{max(1.0, step - 4):.1f}" '
            f'height="{h:.1f}" fill="{COLOURS[0]}"/>'
        )
        body.append(_text(x + step / 2, base + 14, str(value), anchor="middle", size=11))
        if count:
            body.append(_text(x + step / 2, base - h - 3, str(count), anchor="middle", size=10))
    desc = "; ".join(f"{v}: {c}" for v, c in bins) or "no data"
    return _frame(title, desc, height, body)


def percentile_chart(
    title: str, rows: Sequence[tuple[str, int | None, int | None, int | None]], *, unit: str
) -> str:
    """Per row (label, p10, p50, p90): a line from p10 to p90 and a mark at p50, on one
    scale from 0 to the largest p90."""
    top = max((p90 for *_, p90 in rows if p90 is not None), default=0)
    top = max(top, 1)
    span = WIDTH - LABEL - 60
    body: list[str] = []
    for i, (label, p10, p50, p90) in enumerate(rows):
        y = PAD + i * BAR + BAR / 2
        body.append(_text(LABEL - 6, y + 4, label, anchor="end"))
        if p10 is None or p50 is None or p90 is None:
            body.append(_text(LABEL, y + 4, "no completed orders", size=11))
            continue
        x10, x50, x90 = (LABEL + scale(v, top, span) for v in (p10, p50, p90))
        body.append(
            f'<line x1="{x10:.1f}" y1="{y:.1f}" x2="{x90:.1f}" y2="{y:.1f}" '
            f'stroke="{COLOURS[i % len(COLOURS)]}" stroke-width="6" stroke-linecap="round"/>'
        )
        body.append(f'<circle cx="{x50:.1f}" cy="{y:.1f}" r="6" fill="#222"/>')
        body.append(_text(x90 + 8, y + 4, f"{p10}–{p50}–{p90} {unit}", size=11))
    desc = "; ".join(
        f"{label}: p10 {p10}, p50 {p50}, p90 {p90} {unit}" for label, p10, p50, p90 in rows
    )
    return _frame(title, desc or "no data", PAD * 2 + max(1, len(rows)) * BAR, body)
