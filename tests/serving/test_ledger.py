"""The forecast ledger: append-only, and scored against realised closes exactly as by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from cryptoforecast.serving import Ledger, Predictor
from cryptoforecast.serving.ledger import default_ledger_url, forecasts_table

from .conftest import FakeClock, Trained

AS_OF = ["2025-06-01", "2025-06-15", "2025-07-01", "2025-07-20"]


def forecast_as_of(
    registry: Any, ledger: Ledger, crypto_id: str, dates: list[str], horizon: int = 1
) -> list[Any]:
    clock = FakeClock()
    out = []
    for day in dates:
        pred = Predictor(registry=registry, clock=clock, end=day, ledger=ledger, cache_ttl=0)
        out.append(pred.predict(crypto_id, horizon=horizon))
    return out


def test_scores_match_a_hand_computation(registry: Any, btc_model: Trained) -> None:
    from cryptoforecast.data import load_ohlcv

    ledger = Ledger()
    made = forecast_as_of(registry, ledger, "bitcoin", AS_OF)
    assert all(f.source == "model" for f in made)
    # the same forecast issued again after the cache expired is scored once
    forecast_as_of(registry, ledger, "bitcoin", AS_OF[:1])
    # a forecast whose target candle is not in the data yet stays pending
    forecast_as_of(registry, ledger, "bitcoin", ["2025-09-30"])
    assert len(ledger) == len(AS_OF) + 2

    (row,) = ledger.score(model_type="drift")
    # by hand, from the fitted model and the snapshot closes
    model = btc_model.model
    closes = load_ohlcv("bitcoin")["close"]
    abs_err, naive_err, ape, naive_ape, in80, in95 = [], [], [], [], [], []
    for day, f in zip(AS_OF, made, strict=True):
        t0 = pd.Timestamp(day, tz="UTC")
        c0, actual = float(closes.loc[t0]), float(closes.loc[t0 + pd.Timedelta(days=1)])
        predicted = c0 * math.exp(model.drift_)
        abs_err.append(abs(actual - predicted))
        naive_err.append(abs(actual - c0))
        ape.append(abs(actual - predicted) / actual * 100)
        naive_ape.append(abs(actual - c0) / actual * 100)
        # the stored bounds are the served distribution's quantiles
        assert f.quantiles is not None and f.intervals[0.8] == (f.quantiles[0.1], f.quantiles[0.9])
        in80.append(f.quantiles[0.1] <= actual <= f.quantiles[0.9])
        in95.append(f.quantiles[0.025] <= actual <= f.quantiles[0.975])

    assert (row.crypto_id, row.model_type, row.horizon) == ("bitcoin", "drift", 1)
    assert (row.n_forecasts, row.n_scored, row.n_pending) == (len(AS_OF) + 1, len(AS_OF), 1)
    assert row.mape == pytest.approx(np.mean(ape), rel=1e-9)
    assert row.naive_mape == pytest.approx(np.mean(naive_ape), rel=1e-9)
    assert row.mae == pytest.approx(np.mean(abs_err), rel=1e-9)
    assert row.mase == pytest.approx(np.mean(abs_err) / np.mean(naive_err), rel=1e-9)
    assert row.coverage_80 == pytest.approx(np.mean(in80))
    assert row.coverage_95 == pytest.approx(np.mean(in95))
    assert row.first_target == pd.Timestamp("2025-06-02", tz="UTC")
    assert row.last_target == pd.Timestamp("2025-07-21", tz="UTC")


def test_fallback_forecasts_are_scored_under_their_own_label(registry: Any) -> None:
    from cryptoforecast.data import load_ohlcv

    ledger = Ledger()
    made = forecast_as_of(registry, ledger, "ethereum", AS_OF[:2], horizon=7)
    assert {f.fallback_reason for f in made} == {"no production model"}
    (row,) = ledger.score()
    assert (row.model_type, row.horizon, row.n_scored) == ("technical", 7, 2)
    closes = load_ohlcv("ethereum")["close"]
    actual = np.array(
        [closes.loc[pd.Timestamp(d, tz="UTC") + pd.Timedelta(days=7)] for d in AS_OF[:2]]
    )
    predicted = np.array([f.predicted_price for f in made])
    naive = np.array([f.last_close for f in made])
    assert row.mase == pytest.approx(
        np.abs(actual - predicted).mean() / np.abs(actual - naive).mean(), rel=1e-9
    )


def test_pending_until_the_target_candle_has_closed(registry: Any, btc_model: Trained) -> None:
    ledger = Ledger()
    forecast_as_of(registry, ledger, "bitcoin", ["2025-06-01"])
    # the target candle (2025-06-02) closes at 2025-06-03 00:00 UTC
    before = ledger.score(now=datetime(2025, 6, 2, 23, 59, tzinfo=UTC))
    after = ledger.score(now=datetime(2025, 6, 3, 0, 0, tzinfo=UTC))
    assert (before[0].n_scored, before[0].n_pending, before[0].mape) == (0, 1, None)
    assert (after[0].n_scored, after[0].n_pending) == (1, 0)


def test_ledger_is_append_only(registry: Any, btc_model: Trained) -> None:
    ledger = Ledger()
    forecast_as_of(registry, ledger, "bitcoin", AS_OF[:1])
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(sa.update(forecasts_table).values(predicted_price=1.0))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(sa.delete(forecasts_table))
    frame = ledger.forecasts()
    assert len(frame) == 1 and frame["predicted_price"].iloc[0] != 1.0


def test_ledger_url_resolution(cf_home: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_ledger_url() == f"sqlite:///{cf_home / 'ledger.db'}"
    assert default_ledger_url("sqlite:////x/registry.db").endswith(
        "ledger.db"
    )  # a separate SQLite file
    assert default_ledger_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("CRYPTOFORECAST_REGISTRY_URL", "postgresql+psycopg://u@h/reg")
    assert default_ledger_url() == "postgresql+psycopg://u@h/reg"
    monkeypatch.setenv("CRYPTOFORECAST_LEDGER_URL", "sqlite:////tmp/other.db")
    assert default_ledger_url() == "sqlite:////tmp/other.db"


def test_cli_ledger_score_prints_the_scores(
    registry: Any, btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.cli import main

    ledger = Ledger()  # the default ledger the CLI reads too
    forecast_as_of(registry, ledger, "bitcoin", AS_OF)
    (row,) = ledger.score()
    assert main(["ledger", "score", "bitcoin"]) == 0
    out = capsys.readouterr().out
    assert "drift" in out and f"{row.mase:.3f}" in out and f"{row.naive_mape:.3f}" in out


@pytest.mark.postgres
def test_ledger_on_postgresql(registry: Any, btc_model: Trained) -> None:
    import os

    url = os.environ.get("CRYPTOFORECAST_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("CRYPTOFORECAST_TEST_POSTGRES_URL is not set")
    ledger = Ledger(url)
    try:
        before = len(ledger)
        (f,) = forecast_as_of(registry, ledger, "bitcoin", AS_OF[:1])
        assert len(ledger) == before + 1
        row = ledger.forecasts(crypto_id="bitcoin").iloc[-1]
        assert row["predicted_price"] == pytest.approx(f.predicted_price)
        assert row["as_of"] == pd.Timestamp(f.as_of)
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            ledger.engine.begin() as conn,
        ):
            conn.execute(sa.delete(forecasts_table))
    finally:
        ledger.dispose()


def test_pending_forecasts_say_why(registry: Any, btc_model: Trained) -> None:
    ledger = Ledger()
    # 2025-09-30 is the snapshot's last candle: its 1-day target is after it, forever pending
    forecast_as_of(registry, ledger, "bitcoin", ["2025-06-01", "2025-09-30"])
    (early,) = ledger.score(now=datetime(2025, 6, 2, 12, 0, tzinfo=UTC))
    assert early.n_pending == 2 and early.pending_reason == "2: target candle not closed yet"
    (row,) = ledger.score(now=datetime(2026, 1, 1, tzinfo=UTC))
    assert (row.n_scored, row.n_pending) == (1, 1)
    assert row.pending_reason == "1: target after the last snapshot close (2025-09-30)"


def test_cli_ledger_score_checks_the_model_and_speaks_json(
    registry: Any, btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from cryptoforecast.cli import main

    ledger = Ledger()
    forecast_as_of(registry, ledger, "bitcoin", AS_OF)
    assert main(["ledger", "score", "-m", "drfit"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--model" in err and "'drfit'" in err and "did you mean 'drift'" in err
    assert main(["ledger", "score", "bitcoin", "--json", "-H", "1"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["model_type"] == "drift" and row["n_forecasts"] == len(AS_OF)
