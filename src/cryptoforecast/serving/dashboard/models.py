"""The models page (``/models``): production models, their gate decisions, stage history and
the backtest reports found in the reports folder. Everything comes from the registry.

A report belongs to the key its file name names: ``<coin>-<model type>-h<horizon>.html`` to that
key only (``backtest --report``), ``<coin>.html`` (the demo's) to each of that coin's keys; a
name part that is neither a model type nor ``h<N>`` narrows nothing."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptoforecast.assets import ASSETS
from cryptoforecast.models import model_types
from cryptoforecast.registry import ModelRecord, StageEvent
from cryptoforecast.serving.dashboard.charts import TimelineEvent, timeline_chart
from cryptoforecast.serving.predictor import Predictor

__all__ = ["ModelCard", "ModelsPage", "ReportLink", "list_reports", "models_page", "report_path"]

#: a backtest report is a plain ``.html`` file name: no path, no hidden file
_REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.html$")


@dataclass(frozen=True)
class MetricPair:
    """A validation metric beside naive's; ``better`` is None when one side is missing."""

    name: str
    model: float | None
    naive: float | None
    better: bool | None
    digits: int | None = None  # decimals shown (None: as prices, see ``format_number``)


@dataclass(frozen=True)
class ReportLink:
    name: str
    href: str
    modified: datetime


@dataclass(frozen=True)
class ModelCard:
    record: ModelRecord
    metrics: list[MetricPair]
    coverages: list[tuple[str, float | None]]
    gate_reason: str | None
    events: list[StageEvent]
    timeline: str | None
    reports: list[ReportLink]


@dataclass(frozen=True)
class ModelsPage:
    cards: list[ModelCard]
    unserved: list[ModelCard]
    reports: list[ReportLink]


#: (label, metrics key, decimals shown) of the metrics shown beside naive's after MASE
_PAIRS = (("MAE", "mae", None), ("RMSE", "rmse", None), ("MAPE %", "mape", 2))


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _gate_reason(record: ModelRecord, events: list[StageEvent]) -> str | None:
    gates = [e.reason for e in events if e.model_id == record.model_id and e.event == "gate"]
    if gates:
        return gates[-1]
    gate = record.metrics.get("gate")
    return str(gate.get("reason")) if isinstance(gate, dict) and gate.get("reason") else None


def _report_is_about(name: str, record: ModelRecord, coins: Iterable[str]) -> bool:
    """Whether the report file ``name`` is about ``record``'s key, read from the name:
    ``<coin>[-<model type>][-h<horizon>].html``, its coin the longest of ``coins`` (plus the
    known assets) that the name starts with, so ``avalanche-2`` or a coin whose id starts like
    another's is matched whole."""
    stem = name.removesuffix(".html")
    known = {*coins, *(asset.id for asset in ASSETS), record.crypto_id}
    named = [c for c in known if stem == c or stem.startswith(f"{c}-")]
    if not named or max(named, key=len) != record.crypto_id:
        return False
    parts = stem[len(record.crypto_id) + 1 :].split("-") if stem != record.crypto_id else []
    types = {*model_types(), record.model_type}
    horizons = [p for p in parts if re.fullmatch(r"h[0-9]+", p)]
    named_types = [p for p in parts if p in types]
    return all(p == f"h{record.horizon}" for p in horizons) and all(
        p == record.model_type for p in named_types
    )


def _model_card(
    record: ModelRecord,
    events: list[StageEvent],
    reports: list[ReportLink],
    coins: Iterable[str],
) -> ModelCard:
    m = record.metrics
    mase = record.validation_mase
    pairs = [
        MetricPair(
            "MASE", mase, 1.0 if mase is not None else None, None if mase is None else mase < 1, 4
        )
    ]
    for label, key, digits in _PAIRS:
        model, naive = _num(m.get(key)), _num(m.get(f"naive_{key}"))
        if model is None and naive is None:
            continue
        better = None if model is None or naive is None else model < naive
        pairs.append(MetricPair(label, model, naive, better, digits))
    coverages = [(f"{tag}%", _num(m.get(f"coverage_{tag}"))) for tag in ("80", "95")]
    timeline = None
    if events:
        timeline = timeline_chart(
            [
                TimelineEvent(
                    e.at,
                    f"v{e.version} {e.event}",
                    f"{e.from_status or '-'} -> {e.to_status}: {e.reason}",
                    e.event,
                )
                for e in events
            ],
            f"stage history of {record.crypto_id} {record.model_type} h={record.horizon}",
        )
    mine = [r for r in reports if _report_is_about(r.name, record, coins)]
    return ModelCard(record, pairs, coverages, _gate_reason(record, events), events, timeline, mine)


def report_path(reports_dir: Path, name: str) -> Path | None:
    """The report ``name`` of ``reports_dir`` if it may be served, else ``None``.

    Served: a plain ``.html`` file name (no path, no hidden file), a regular file, and no
    symbolic link out of the folder. The listing and the report route both ask this, so the
    listing links only to reports the route serves.
    """
    if not _REPORT_NAME.fullmatch(name):
        return None
    path = reports_dir / name
    try:
        if path.is_file() and path.resolve().parent == reports_dir.resolve():
            return path
    except OSError:  # a link loop, a file removed meanwhile
        pass
    return None


def list_reports(reports_dir: Path | None, prefix: str) -> list[ReportLink]:
    """The HTML backtest reports in ``reports_dir`` that :func:`report_path` serves (newest
    first), linked under ``prefix``."""
    if reports_dir is None or not reports_dir.is_dir():
        return []
    links = []
    for entry in reports_dir.iterdir():
        path = report_path(reports_dir, entry.name)
        try:
            modified = path.stat().st_mtime if path is not None else None
        except OSError:  # removed meanwhile
            modified = None
        if path is not None and modified is not None:
            links.append(
                ReportLink(
                    path.name, f"{prefix}/{path.name}", datetime.fromtimestamp(modified, UTC)
                )
            )
    return sorted(links, key=lambda link: link.modified, reverse=True)


def models_page(pred: Predictor, reports: list[ReportLink]) -> ModelsPage:
    """Production models per key with their history, and the keys no model serves (why)."""
    records = pred.registry.list_models()
    history: dict[tuple[str, str, int], list[StageEvent]] = defaultdict(list)
    for e in pred.registry.history():
        history[(e.crypto_id, e.model_type, e.horizon)].append(e)
    by_key: dict[tuple[str, str, int], list[ModelRecord]] = defaultdict(list)
    for r in records:
        by_key[r.key].append(r)
    cards: list[ModelCard] = []
    unserved: list[ModelCard] = []
    coins = {key[0] for key in by_key}
    for key in sorted(by_key):
        live = [r for r in by_key[key] if r.status == "production"]
        newest = live[-1] if live else by_key[key][-1]
        card = _model_card(newest, history.get(key, []), reports, coins)
        (cards if live else unserved).append(card)
    return ModelsPage(cards, unserved, reports)
