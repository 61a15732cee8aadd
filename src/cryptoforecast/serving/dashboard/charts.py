"""Server-side SVG charts of the dashboard: a price fan, a line chart and a stage timeline.

Why SVG drawn here rather than a plotting library's JavaScript: the service must work offline
and fast, and a bundled library (Plotly's offline bundle is about 3.5 MB) would be the largest
thing the app serves, for three chart types of a few dozen shapes each. An SVG written in Python
is ready when the page arrives (no script needed to see it), costs well under a millisecond per
chart, reads without colour (each series is labelled in text, bands differ in pattern as well as
shade) and carries its own hover values: every point has a ``<title>`` the browser shows on
hover. Zooming and panning are done by ``static/dashboard.js``, about fifty lines that change the
``viewBox`` of any ``svg[data-zoom]``.

Each function returns the SVG as a string; every text in it is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

__all__ = [
    "FanPoint",
    "LineSeries",
    "TimelineEvent",
    "fan_chart",
    "format_number",
    "line_chart",
    "timeline_chart",
]

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 32


def format_number(value: float | None, digits: int | None = None) -> str:
    """A price or score as the dashboard prints it: thousands separated, whole from 1,000 up,
    2 decimals from 1 up, 4 significant digits below 1 (a dogecoin price), ``-`` when missing;
    ``digits`` fixes the decimals instead."""
    if value is None or not math.isfinite(value):
        return "-"
    if digits is not None:
        return f"{value:,.{digits}f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1 or value == 0:
        return f"{value:,.2f}"
    return f"{value:.4g}"


@dataclass(frozen=True)
class FanPoint:
    """One horizon of the fan: the point forecast at ``time`` and its bands by coverage."""

    time: datetime
    value: float
    bands: dict[float, tuple[float, float]]
    label: str


@dataclass(frozen=True)
class LineSeries:
    """A named series of (time, value) points; ``marker`` tells series apart without colour."""

    name: str
    points: list[tuple[datetime, float]]
    marker: str = "circle"
    css: str = "s0"


@dataclass(frozen=True)
class TimelineEvent:
    """One stage change or gate decision on a timeline."""

    at: datetime
    label: str
    detail: str
    kind: str = field(default="event")


class _Scale:
    """Linear map of a data range onto a pixel range (a flat range is widened a little)."""

    def __init__(self, lo: float, hi: float, p0: float, p1: float) -> None:
        if not hi > lo:
            pad = abs(lo) * 0.01 or 1.0
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.p0, self.p1 = lo, hi, p0, p1

    def __call__(self, v: float) -> float:
        return self.p0 + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values between ``lo`` and ``hi``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _ts(t: datetime) -> float:
    return t.timestamp()


def _svg_open(title: str, cls: str, height: int = HEIGHT) -> list[str]:
    t = escape(title)
    return [
        f'<svg class="chart {cls}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{t}" data-zoom="1" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{t}</title>",
    ]


def _axes(xs: _Scale, ys: _Scale, x_lo: float, x_hi: float, height: int = HEIGHT) -> list[str]:
    out = ['<g class="axes">']
    for v in _ticks(ys.lo, ys.hi):
        y = ys(v)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_short(v))}</text>"
        )
    n = 4
    for i in range(n + 1):
        ts = x_lo + (x_hi - x_lo) * i / n
        x = xs(ts)
        day = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
        anchor = "start" if i == 0 else "end" if i == n else "middle"
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{height - 10}" text-anchor="{anchor}">{day}</text>'
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{height - BOTTOM}"/>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{height - BOTTOM}" '
        f'y2="{height - BOTTOM}"/></g>'
    )
    return out


def _short(v: float) -> str:
    """A tick label: 12.3k, 1.2M, 0.25."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.4g}k"
    return f"{v:.4g}"


def _path(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def fan_chart(
    closes: Sequence[tuple[datetime, float]],
    origin: tuple[datetime, float],
    points: Sequence[FanPoint],
    title: str,
) -> str:
    """Closes as a line, then the forecasts of every horizon as a fan from the last close.

    Bands are drawn widest first (95% under 80%), each a polygon through the band's bounds at
    every horizon; the point forecasts are diamonds joined by a dashed line.
    """
    points = sorted(points, key=lambda p: p.time)
    values = [v for _, v in closes] + [origin[1]]
    for p in points:
        values.append(p.value)
        values.extend(x for band in p.bands.values() for x in band)
    finite = [v for v in values if math.isfinite(v)]
    times = [_ts(t) for t, _ in closes] + [_ts(origin[0])] + [_ts(p.time) for p in points]
    x_lo, x_hi = min(times), max(times)
    lo, hi = min(finite), max(finite)
    pad = (hi - lo) * 0.05
    xs = _Scale(x_lo, x_hi, LEFT, WIDTH - RIGHT)
    ys = _Scale(lo - pad, hi + pad, HEIGHT - BOTTOM, TOP)
    out = _svg_open(title, "fan")
    out += _axes(xs, ys, x_lo, x_hi)
    ox, oy = xs(_ts(origin[0])), ys(origin[1])
    for cov in sorted({c for p in points for c in p.bands}, reverse=True):
        have = [p for p in points if cov in p.bands]
        if not have:
            continue
        upper = [(ox, oy)] + [(xs(_ts(p.time)), ys(p.bands[cov][1])) for p in have]
        lower = [(xs(_ts(p.time)), ys(p.bands[cov][0])) for p in reversed(have)]
        pct = round(cov * 100)
        out.append(
            f'<polygon class="band band{pct}" points="{_path(upper + lower)}">'
            f"<title>{pct}% band</title></polygon>"
        )
    line = [(xs(_ts(t)), ys(v)) for t, v in closes]
    out.append(f'<polyline class="close" points="{_path(line)}"/>')
    for (t, v), (x, y) in zip(closes, line, strict=True):
        out.append(
            f'<circle class="hover" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{t:%Y-%m-%d} close {escape(format_number(v))}</title></circle>"
        )
    if points:
        fc = [(ox, oy)] + [(xs(_ts(p.time)), ys(p.value)) for p in points]
        out.append(f'<polyline class="forecast" points="{_path(fc)}"/>')
        for p, (x, y) in zip(points, fc[1:], strict=True):
            bands = "; ".join(
                f"{round(c * 100)}% {format_number(lo_)} to {format_number(hi_)}"
                for c, (lo_, hi_) in sorted(p.bands.items())
            )
            out.append(
                f'<path class="point" d="M{x:.1f},{y - 5:.1f} l5,5 l-5,5 l-5,-5 z">'
                f"<title>{escape(p.label)}: {escape(format_number(p.value))}"
                f"{' (' + escape(bands) + ')' if bands else ''}</title></path>"
            )
    out.append(
        f'<line class="origin" x1="{ox:.1f}" x2="{ox:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
        f'<text class="note" x="{ox - 4:.1f}" y="{TOP + 10}" text-anchor="end">last close</text>'
    )
    out.append("</svg>")
    return "".join(out)


def line_chart(
    series: Sequence[LineSeries],
    title: str,
    reference: tuple[float, str] | None = None,
) -> str:
    """One or more series over time, with an optional labelled horizontal reference line."""
    pts = [p for s in series for p in s.points if math.isfinite(p[1])]
    if not pts:
        raise ValueError(f"line_chart {title!r} needs at least one finite point")
    values = [v for _, v in pts] + ([reference[0]] if reference else [])
    times = [_ts(t) for t, _ in pts]
    x_lo, x_hi = min(times), max(times)
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or 0.1
    xs = _Scale(x_lo, x_hi, LEFT, WIDTH - RIGHT)
    ys = _Scale(lo - pad, hi + pad, HEIGHT - BOTTOM, TOP)
    out = _svg_open(title, "line")
    out += _axes(xs, ys, x_lo, x_hi)
    if reference is not None:
        y = ys(reference[0])
        out.append(
            f'<line class="reference" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="note" x="{WIDTH - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end">'
            f"{escape(reference[1])}</text>"
        )
    for s in series:
        good = [(t, v) for t, v in s.points if math.isfinite(v)]
        xy = [(xs(_ts(t)), ys(v)) for t, v in good]
        out.append(f'<polyline class="series {s.css}" points="{_path(xy)}"/>')
        for (t, v), (x, y) in zip(good, xy, strict=True):
            mark = (
                f'<rect class="hover {s.css}" x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6">'
                if s.marker == "square"
                else f'<circle class="hover {s.css}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            )
            tag = "rect" if s.marker == "square" else "circle"
            out.append(f"{mark}<title>{escape(s.name)} {t:%Y-%m-%d}: {v:.3f}</title></{tag}>")
    out.append("</svg>")
    return "".join(out)


def timeline_chart(events: Sequence[TimelineEvent], title: str, last: int = 10) -> str:
    """The ``last`` events in order, evenly spaced (stage changes often come seconds apart, so
    a time axis would pile them up): each labelled with what happened and when."""
    if not events:
        raise ValueError(f"timeline {title!r} needs at least one event")
    shown = sorted(events, key=lambda e: e.at)[-last:]
    height, mid = 130, 62
    step = (WIDTH - 2 * 48) / max(len(shown) - 1, 1)
    out = _svg_open(title, "timeline", height)
    out.append(f'<line class="axis" x1="24" x2="{WIDTH - 24}" y1="{mid}" y2="{mid}"/>')
    for i, e in enumerate(shown):
        x = 48 + i * step if len(shown) > 1 else WIDTH / 2
        up = i % 2 == 0
        y_label, y_day = (mid - 26, mid - 13) if up else (mid + 26, mid + 39)
        out.append(
            f'<g class="event {escape(e.kind)}"><circle cx="{x:.1f}" cy="{mid}" r="6">'
            f"<title>{e.at:%Y-%m-%d %H:%M} UTC: {escape(e.label)}. {escape(e.detail)}</title>"
            f'</circle><text class="note" x="{x:.1f}" y="{y_label}" text-anchor="middle">'
            f'{escape(e.label)}</text><text class="tick" x="{x:.1f}" y="{y_day}" '
            f'text-anchor="middle">{e.at:%Y-%m-%d}</text></g>'
        )
    if len(events) > len(shown):
        out.append(
            f'<text class="tick" x="24" y="{height - 4}">the last {len(shown)} of '
            f"{len(events)} events</text>"
        )
    out.append("</svg>")
    return "".join(out)
