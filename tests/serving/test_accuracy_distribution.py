"""The served distribution is scored live from the ledger, beside garch_ref and the 30-day
Gaussian kept at the same origin: exact CRPS, coverage, PIT, skill and DM p on the same rows;
rows recorded without distributions are left out and counted; ``/v1/accuracy``, ``/accuracy``
and ``ledger score`` show every figure beside its baselines.

The ledger keeps the three distributions as ``ForecastDistribution`` JSON in the nullable TEXT
columns ``distribution``, ``reference_distribution`` and ``gaussian_distribution``. These tests
write their rows with SQL (:func:`insert_forecast`), so that they test the scoring only, whatever
``Ledger.record`` writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scipy import special, stats

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.serving import create_app
from cryptoforecast.serving.ledger import DISTRIBUTION_COLUMNS, Ledger
from cryptoforecast.serving.schemas import DistributionShape, Forecast, ForecastDistribution

from .conftest import SyncASGIClient

H = 1
ORIGINS_FROM = "2025-03-01"


# -- a ledger whose rows keep distributions ---------------------------------------------------
def distribution_ledger(path: Path) -> Ledger:
    """A fresh ledger (its table has the three distribution columns)."""
    ledger = Ledger(f"sqlite:///{path}")
    present = {c["name"] for c in sa.inspect(ledger.engine).get_columns("forecasts")}
    assert set(DISTRIBUTION_COLUMNS) <= present
    return ledger


def insert_forecast(
    ledger: Ledger,
    origin: pd.Timestamp,
    last_close: float,
    kept: tuple[ForecastDistribution | None, ...] = (None, None, None),
    *,
    crypto_id: str = "bitcoin",
    model_type: str = "drift",
    horizon: int = H,
) -> None:
    """One ledger row from ``origin`` with the served, garch_ref and Gaussian distributions."""
    table = sa.Table("forecasts", sa.MetaData(), autoload_with=ledger.engine)
    served = kept[0]
    point = served.location if served is not None else 0.0
    price = last_close * math.exp(point)
    row = {
        "crypto_id": crypto_id,
        "horizon": horizon,
        "interval": "1d",
        "data_source": "snapshot",
        "as_of": origin.to_pydatetime(),
        "target_time": (origin + timedelta(days=horizon)).to_pydatetime(),
        "last_close": last_close,
        "predicted_price": price,
        "predicted_return": point,
        "lower_80": price * 0.97,
        "upper_80": price * 1.03,
        "lower_95": price * 0.94,
        "upper_95": price * 1.06,
        "model_type": model_type,
        "model_id": 1,
        "model_version": "1.0.0",
        "source": "model",
        "fallback_reason": None,
        "generated_at": datetime.now(UTC),
    }
    for col, dist in zip(DISTRIBUTION_COLUMNS, kept, strict=True):
        row[col] = None if dist is None else dist.model_dump_json()
    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(table).values(**row))


def normal(location: float, scale: float, source: str = "served") -> ForecastDistribution:
    return ForecastDistribution(
        source=source, location=location, scale=scale, shape=DistributionShape(kind="normal")
    )


def student_t(location: float, scale: float, df: float, source: str) -> ForecastDistribution:
    return ForecastDistribution(
        source=source,
        location=location,
        scale=scale,
        shape=DistributionShape(kind="t", df=df, scale=math.sqrt((df - 2) / df)),
    )


def closes() -> pd.Series:
    return load_ohlcv("bitcoin")["close"]


def origins(n: int) -> list[pd.Timestamp]:
    close = closes()
    return list(close.loc[ORIGINS_FROM:].index[:n])


def realised(origin: pd.Timestamp, horizon: int = H) -> tuple[float, float]:
    """(last close at the origin, realised h-step log return) from the snapshot."""
    close = closes()
    i = close.index.get_loc(origin)
    return float(close.iloc[i]), math.log(close.iloc[i + horizon] / close.iloc[i])


# -- by hand ------------------------------------------------------------------------------------
def hand_crps(dist: ForecastDistribution, y: float) -> float:
    """CRPS by the textbook closed forms (Gneiting & Raftery 2007; Jordan et al. 2019)."""
    s = dist.scale * dist.shape.scale
    z = (y - dist.location) / s
    if dist.shape.kind == "normal":
        return s * (
            z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
        )
    nu = float(dist.shape.df)  # type: ignore[arg-type]
    return s * (
        z * (2 * stats.t.cdf(z, nu) - 1)
        + 2 * stats.t.pdf(z, nu) * (nu + z * z) / (nu - 1)
        - 2
        * math.sqrt(nu)
        * special.beta(0.5, nu - 0.5)
        / ((nu - 1) * special.beta(0.5, nu / 2) ** 2)
    )


def hand_pit(dist: ForecastDistribution, y: float) -> float:
    z = (y - dist.location) / (dist.scale * dist.shape.scale)
    if dist.shape.kind == "normal":
        return float(stats.norm.cdf(z))
    return float(stats.t.cdf(z, dist.shape.df))


def hand_inside(dist: ForecastDistribution, y: float, coverage: float) -> bool:
    s = dist.scale * dist.shape.scale
    lo_z = (
        stats.norm.ppf((1 - coverage) / 2)
        if dist.shape.kind == "normal"
        else stats.t.ppf((1 - coverage) / 2, dist.shape.df)
    )
    return dist.location + s * lo_z <= y <= dist.location - s * lo_z


# -- the scores ---------------------------------------------------------------------------------
def test_crps_coverage_and_pit_match_a_hand_computation_for_normal_and_t(tmp_path: Path) -> None:
    ledger = distribution_ledger(tmp_path / "l.db")
    a, b = origins(2)
    rows = []
    for origin, served in (
        (a, normal(0.004, 0.021)),
        (b, student_t(-0.003, 0.018, 4.5, "served")),
    ):
        last, y = realised(origin)
        kept = (served, student_t(0.0, 0.025, 6.0, "garch_ref"), normal(0.0, 0.03, "gaussian"))
        insert_forecast(ledger, origin, last, kept)
        rows.append((kept, y))
    (row,) = ledger.score()
    assert row.n_distribution == 2 and row.n_without_distribution == 0
    assert row.coverage_basis == "distribution"
    served_crps = [hand_crps(k[0], y) for k, y in rows]
    ref_crps = [hand_crps(k[1], y) for k, y in rows]
    gauss_crps = [hand_crps(k[2], y) for k, y in rows]
    assert row.crps == pytest.approx(np.mean(served_crps), rel=1e-9)
    assert row.crps_reference == pytest.approx(np.mean(ref_crps), rel=1e-9)
    assert row.crps_gaussian == pytest.approx(np.mean(gauss_crps), rel=1e-9)
    assert row.crps_skill_vs_reference_pct == pytest.approx(
        100 * (1 - np.mean(served_crps) / np.mean(ref_crps)), rel=1e-9
    )
    assert row.crps_skill_vs_gaussian_pct == pytest.approx(
        100 * (1 - np.mean(served_crps) / np.mean(gauss_crps)), rel=1e-9
    )
    assert row.pit_mean == pytest.approx(np.mean([hand_pit(k[0], y) for k, y in rows]), rel=1e-9)
    assert row.reference_pit_mean == pytest.approx(
        np.mean([hand_pit(k[1], y) for k, y in rows]), rel=1e-9
    )
    for cov, tag in ((0.8, "80"), (0.95, "95")):
        assert getattr(row, f"coverage_{tag}") == np.mean(
            [hand_inside(k[0], y, cov) for k, y in rows]
        )
        assert getattr(row, f"reference_coverage_{tag}") == np.mean(
            [hand_inside(k[1], y, cov) for k, y in rows]
        )
        assert getattr(row, f"gaussian_coverage_{tag}") == np.mean(
            [hand_inside(k[2], y, cov) for k, y in rows]
        )
    hist = np.histogram([hand_pit(k[0], y) for k, y in rows], bins=10, range=(0, 1))[0] / 2
    assert row.pit_histogram == pytest.approx(list(hist))
    assert len(row.reference_pit_histogram or []) == len(row.gaussian_pit_histogram or []) == 10
    # two rows: the DM test has a p-value (h=1, HLN), and the verdict quotes it
    assert row.dm_pvalue_vs_reference is not None and 0 <= row.dm_pvalue_vs_reference <= 1
    assert f"p={row.dm_pvalue_vs_reference:.3g}" in (row.distribution_verdict or "")
    ledger.dispose()


def _sharp_and_wide(tmp_path: Path, served_is_sharp: bool) -> Any:
    ledger = distribution_ledger(tmp_path / f"{served_is_sharp}.db")
    days = origins(80)
    ys = [realised(t)[1] for t in days]
    sd = float(np.std(ys))
    sharp, wide = normal(0.0, sd), student_t(0.0, 6 * sd, 5.0, "garch_ref")
    for t in days:
        served = sharp if served_is_sharp else normal(0.0, 6 * sd)
        ref = wide if served_is_sharp else student_t(0.0, sd, 5.0, "garch_ref")
        insert_forecast(ledger, t, realised(t)[0], (served, ref, normal(0.0, sd, "gaussian")))
    (row,) = ledger.score()
    ledger.dispose()
    return row


def test_skill_is_positive_when_the_served_distribution_beats_garch_ref_and_negative_otherwise(
    tmp_path: Path,
) -> None:
    better = _sharp_and_wide(tmp_path, served_is_sharp=True)
    assert better.crps < better.crps_reference and better.crps_skill_vs_reference_pct > 0
    assert better.dm_pvalue_vs_reference < 0.05
    assert better.distribution_verdict.startswith("better than garch_ref (")
    worse = _sharp_and_wide(tmp_path, served_is_sharp=False)
    assert worse.crps > worse.crps_reference and worse.crps_skill_vs_reference_pct < 0
    assert worse.crps_skill_vs_gaussian_pct < 0 and worse.dm_pvalue_vs_gaussian < 0.05
    assert worse.distribution_verdict.startswith("worse than garch_ref (")
    assert f"p={worse.dm_pvalue_vs_reference:.3g}" in worse.distribution_verdict


def test_rows_without_stored_distributions_are_left_out_and_counted(tmp_path: Path) -> None:
    ledger = distribution_ledger(tmp_path / "l.db")
    days = origins(8)
    kept = (normal(0.001, 0.02), student_t(0.0, 0.03, 5.0, "garch_ref"), normal(0.0, 0.025))
    for t in days[:4]:  # recorded before distributions were kept
        insert_forecast(ledger, t, realised(t)[0])
    insert_forecast(ledger, days[4], realised(days[4])[0], (kept[0], None, kept[2]))
    for t in days[5:]:
        insert_forecast(ledger, t, realised(t)[0], kept)
    table = sa.Table("forecasts", sa.MetaData(), autoload_with=ledger.engine)
    row = ledger.forecasts().iloc[-1].to_dict()
    row.pop("forecast_id")
    row.update(model_type="drift", as_of=days[7].to_pydatetime(), distribution='{"bad": 1}')
    row["target_time"] = (days[7] + timedelta(days=H)).to_pydatetime()
    row["model_id"] = 2  # not a repeat of the last row: scored on its own
    with ledger.engine.begin() as conn:
        conn.execute(sa.insert(table).values(**row))
    (row,) = ledger.score()
    assert row.n_scored == 9 and row.n_distribution == 3 and row.n_without_distribution == 6
    assert row.distribution_excluded_reason == (
        "4: recorded without a served distribution (before distributions were kept); "
        "1: recorded without garch_ref at the same origin; "
        "1: a stored served distribution is not valid ForecastDistribution JSON"
    )
    ys = [realised(t)[1] for t in days[5:]]
    assert row.crps == pytest.approx(np.mean([hand_crps(kept[0], y) for y in ys]), rel=1e-9)
    assert row.crps_reference == pytest.approx(
        np.mean([hand_crps(kept[1], y) for y in ys]), rel=1e-9
    )
    assert row.coverage_80 == np.mean([hand_inside(kept[0], y, 0.8) for y in ys])
    # the point scores still count every scored forecast
    assert row.mase is not None and row.n_forecasts == 9
    ledger.dispose()


def test_an_older_ledger_keeps_its_interval_coverage_and_has_no_distribution_scores(
    tmp_path: Path,
) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'old.db'}")  # the table as an older release made it
    days = origins(3)
    for t in days:
        last, y = realised(t)
        ledger.record(
            Forecast(
                crypto_id="bitcoin",
                horizon=H,
                as_of=t.to_pydatetime(),
                target_time=(t + timedelta(days=H)).to_pydatetime(),
                last_close=last,
                predicted_price=last,
                predicted_return=0.0,
                direction="flat",
                intervals={0.8: (last * 0.97, last * 1.03), 0.95: (last * 0.5, last * 2)},
                model_type="drift",
                source="model",
                model_id=1,
                generated_at=datetime.now(UTC),
            ),
            "snapshot",
        )
    (row,) = ledger.score()
    assert row.n_distribution == 0 and row.n_without_distribution == 3
    assert row.crps is None and row.crps_reference is None and row.distribution_verdict is None
    assert row.coverage_basis == "stored intervals" and row.coverage_95 == 1.0
    ledger.dispose()


# -- the surfaces -------------------------------------------------------------------------------
@pytest.fixture
def scored_ledger(tmp_path: Path) -> Iterator[tuple[Ledger, str]]:
    """Two keys with kept distributions (bitcoin drift h=1 beats garch_ref, ethereum does not)
    and one key recorded before distributions were kept."""
    path = tmp_path / "surface.db"
    ledger = distribution_ledger(path)
    days = origins(40)
    ys = [realised(t)[1] for t in days]
    sd = float(np.std(ys))
    for t in days:
        last = realised(t)[0]
        insert_forecast(
            ledger,
            t,
            last,
            (normal(0.0, sd), student_t(0.0, 5 * sd, 5.0, "garch_ref"), normal(0.0, 3 * sd)),
        )
        insert_forecast(
            ledger,
            t,
            last,
            (normal(0.0, 6 * sd), student_t(0.0, sd, 5.0, "garch_ref"), normal(0.0, sd)),
            model_type="technical",
        )
        insert_forecast(ledger, t, last, model_type="naive")
    yield ledger, f"sqlite:///{path}"
    ledger.dispose()


def test_the_api_gives_every_distribution_figure_beside_its_baselines(
    registry: Any, scored_ledger: tuple[Ledger, str]
) -> None:
    ledger, _ = scored_ledger
    app = create_app(load_config(), registry=registry, ledger=ledger)
    body = SyncASGIClient(app).get("/v1/accuracy?crypto_id=bitcoin").json()
    rows = {r["model_type"]: r for r in body["accuracy"]}
    assert set(rows) == {"drift", "technical", "naive"}
    for name in ("drift", "technical"):
        r = rows[name]
        assert r["n_distribution"] == 40
        for served, base in (
            ("crps", "crps_reference"),
            ("crps", "crps_gaussian"),
            ("coverage_80", "reference_coverage_80"),
            ("coverage_95", "gaussian_coverage_95"),
            ("pit_mean", "reference_pit_mean"),
        ):
            assert r[served] is not None and r[base] is not None
    assert rows["naive"]["crps"] is None and rows["naive"]["n_without_distribution"] == 40
    assert "garch_ref" in body["note"]


def test_the_accuracy_page_shows_the_baselines_beside_every_figure_and_a_verdict(
    registry: Any, scored_ledger: tuple[Ledger, str]
) -> None:
    ledger, _ = scored_ledger
    rows = {r.model_type: r for r in ledger.score()}
    app = create_app(load_config(), registry=registry, ledger=ledger)
    text = SyncASGIClient(app).get("/accuracy").text
    assert 'id="distribution-table"' in text
    table = text.split('id="distribution-table"', 1)[1].split("</table>", 1)[0]
    assert table.count('class="distribution-row"') == 2  # naive kept none: not in the table
    for name, verdict in (
        ("drift", "better than garch_ref"),
        ("technical", "worse than garch_ref"),
    ):
        r = rows[name]
        cells = table.split(f'data-key="bitcoin|{name}|1"', 1)[1].split("</tr>", 1)[0]
        assert f">{r.crps:.5f}<" in cells
        assert f">{r.crps_reference:.5f}<" in cells and f">{r.crps_gaussian:.5f}<" in cells
        assert f"{r.crps_skill_vs_reference_pct:+.2f}%" in cells
        assert f">{r.dm_pvalue_vs_reference:.3g}<" in cells
        assert f"{r.crps_skill_vs_gaussian_pct:+.2f}%" in cells
        cov80 = (r.coverage_80, r.reference_coverage_80, r.gaussian_coverage_80)
        assert " / ".join(f"{v * 100:.1f}%" for v in cov80) in cells
        cov95 = (r.coverage_95, r.reference_coverage_95, r.gaussian_coverage_95)
        assert " / ".join(f"{v * 100:.1f}%" for v in cov95) in cells
        assert verdict in cells and f"p={r.dm_pvalue_vs_reference:.3g}" in cells
    words = " ".join(text.split())
    assert "h=1: 40 scored forecasts left out of the distribution scores (40: recorded" in words


def test_ledger_score_prints_the_baselines_beside_every_figure(
    scored_ledger: tuple[Ledger, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.cli import main

    ledger, url = scored_ledger
    rows = {r.model_type: r for r in ledger.score()}
    assert main(["ledger", "score", "bitcoin", "--url", url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in ("drift", "technical"):
        r = rows[name]
        served = next(s for s in lines if f" {name} " in s and " served " in s)
        ref = next(s for s in lines if f" {name} " in s and "baseline: garch_ref" in s)
        gauss = next(s for s in lines if f" {name} " in s and "baseline: Gaussian 30d" in s)
        assert f"{r.crps:.5f}" in served and f"{r.coverage_80:.0%}" in served
        assert f"{r.crps_reference:.5f}" in ref and f"{r.crps_skill_vs_reference_pct:+.2f}" in ref
        assert f"{r.dm_pvalue_vs_reference:.3g}" in ref
        assert f"{r.reference_coverage_80:.0%}" in ref and f"{r.reference_pit_mean:.3f}" in ref
        assert f"{r.crps_gaussian:.5f}" in gauss and f"{r.crps_skill_vs_gaussian_pct:+.2f}" in gauss
    assert f"bitcoin drift h=1: served distribution {rows['drift'].distribution_verdict}" in out
    assert "served distribution worse than garch_ref (" in out
    assert "bitcoin naive h=1 left out of the distribution scores: 40: recorded without" in out
