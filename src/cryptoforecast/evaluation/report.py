"""One self-contained, offline HTML report of one or more backtests (same coin, same origins).

Every plot is a matplotlib PNG embedded as base64 (no scripts, no external URLs), so the file opens
anywhere without a network. In reading order: the verdict, one sentence per model and horizon;
the forecast picture (price with forecasts and intervals); the evidence (error distribution,
rolling MASE, cumulative strategy return vs buy-and-hold, interval calibration, feature importance
of the models that have one); then the tables (metrics beside naive, the honesty scorecard,
per-fold results). Prices are formatted by magnitude, so a sub-dollar coin keeps its digits.

::

    run = BacktestRun.from_backtester("lightgbm", backtester)
    write_report("reports/bitcoin-lightgbm-h7.html", [run], title="bitcoin, h=7")
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.figures import png
from cryptoforecast.evaluation.report_distribution import distribution_section
from cryptoforecast.evaluation.report_figures import CAPTIONS, PLOTS, report_figures
from cryptoforecast.evaluation.report_tables import folds_html, metrics_html, scorecard_html
from cryptoforecast.evaluation.report_verdicts import verdict_lines
from cryptoforecast.exceptions import DataError

__all__ = ["SECTIONS", "render_report", "write_report"]

#: the section headings, in reading order
SECTIONS = ("Verdict", "Forecasts", "Evidence", "Tables")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;
margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
.scorecard td:last-child{text-align:left}.pass{background:#d9f2d9}.fail{background:#f8d7d7}
.warn{background:#fff3cd}.na{color:#888}.verdict{font-weight:600}img{max-width:100%}
.meta{color:#555;font-size:.9em}
"""


def render_report(
    runs: BacktestRun | Sequence[BacktestRun],
    *,
    title: str = "Backtest report",
    settings: Mapping[str, Any] | None = None,
    rolling_window: int = 30,
) -> str:
    """The report as one HTML string (see module docstring); ``settings`` are listed verbatim."""
    runs = [runs] if isinstance(runs, BacktestRun) else list(runs)
    if not runs:
        raise DataError("render_report needs at least one BacktestRun")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise DataError(f"report runs need distinct names, got {names}")
    figures = report_figures(runs, rolling_window)
    a0 = runs[0].metrics
    horizons = sorted({int(r.metrics.get("horizon", 0)) for r in runs})
    meta = {
        "origins": f"{a0.get('start', '?')} .. {a0.get('end', '?')} "
        f"({a0.get('n_forecasts', '?')} forecasts)",
        "horizon" if len(horizons) == 1 else "horizons": ", ".join(map(str, horizons)),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **dict(settings or {}),
    }
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p class='meta'>"
        + " &middot; ".join(
            f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in meta.items()
        )
        + "</p>",
        "<p>Every figure stands beside the naive forecast (tomorrow's price = today's) on the same "
        "origins. A model that does not beat naive is reported as such.</p>",
        f"<h2>{SECTIONS[0]}</h2><ul>"
        + "".join(f"<li class='verdict'>{html.escape(line)}</li>" for line in verdict_lines(runs))
        + "</ul>",
    ]
    for key in PLOTS:
        if key == "price":
            parts.append(f"<h2>{SECTIONS[1]}</h2>")
        elif key == "errors":
            parts.append(f"<h2>{SECTIONS[2]}</h2>")
        fig = figures[key]
        if fig is None:
            parts.append(
                f"<h3>{CAPTIONS[key]}</h3><p>No model in this report has a feature importance.</p>"
            )
            continue
        parts.append(
            f"<h3>{CAPTIONS[key]}</h3><img id='plot-{key}' alt='{CAPTIONS[key]}' "
            f"src='data:image/png;base64,{png(fig)}'>"
        )
    parts.append(distribution_section(runs))  # evidence too, before the tables
    parts += [
        f"<h2>{SECTIONS[3]}</h2>",
        "<h3>Metrics</h3>",
        metrics_html(runs),
        "<h3>Honesty scorecard</h3>",
        "".join(scorecard_html(r) for r in runs),
        "<h3>Per-fold results</h3>",
        "".join(folds_html(r) for r in runs),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(
    path: str | Path, runs: BacktestRun | Sequence[BacktestRun], **kwargs: Any
) -> Path:
    """Render the report and write it (parent directories created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(runs, **kwargs)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
