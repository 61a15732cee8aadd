"""The global model: one fit on the pooled rows of every coin, served for every coin."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ArtifactError, DataError
from cryptoforecast.features import build_features
from cryptoforecast.features.cross_section import cross_section_features, market_closes
from cryptoforecast.features.leakage import check_lookahead
from cryptoforecast.models import load_forecaster
from cryptoforecast.models.global_model import GlobalLightGBMForecaster
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving.cross_section import with_cross_section
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.training import global_model as global_training
from cryptoforecast.training.global_model import (
    GLOBAL_MODEL,
    build_universe_data,
    pool_rows,
    train_global_model,
)

COINS = ("bitcoin", "ethereum", "solana")
DAYS = 300
FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "training": {"validation_size": 60, "validation_retrain_every": 30},
}
#: a gate every model passes, so the records reach production and Predictor serves them
PASS = {
    **FAST,
    "promotion_gate": {
        "max_mase": 100.0,
        "require_dm_direction": False,
        "max_dm_pvalue": None,
        "stability_min_wins": 0,
    },
}
END = "2025-06-30"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, ModelRegistry]:
    root = tmp_path_factory.mktemp("global")
    reg = ModelRegistry(f"sqlite:///{root / 'r.db'}", root / "art")
    result = train_global_model(
        COINS, horizon=7, days=DAYS, end=END, config=load_config(overrides=PASS), registry=reg
    )
    return result, reg


def _candles(end: str = END) -> dict[str, pd.DataFrame]:
    return {c: load_ohlcv(c, days=DAYS + 420, end=end) for c in COINS}


def test_one_fit_serves_every_coin(
    trained: tuple[object, ModelRegistry], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, reg = trained
    records = [reg.get(result.model_ids[c]) for c in COINS]
    # one artifact, one version, one record per coin, each with its own metrics beside naive's
    assert {r.artifact_relpath for r in records} == {records[0].artifact_relpath}
    assert {r.version for r in records} == {result.version}
    assert [(r.crypto_id, r.model_type, r.horizon, r.status) for r in records] == [
        (c, GLOBAL_MODEL, 7, "production") for c in COINS
    ]
    for r in records:
        assert r.metrics["n_validation"] == 60
        assert r.metrics["naive_mae"] > 0 and np.isfinite(r.metrics["mase"])
        assert "dm_pvalue_one_sided" in r.metrics and "gate" in r.metrics
    assert len({r.metrics["mae"] for r in records}) == len(COINS)  # per-coin origins

    loads = []
    original = GlobalLightGBMForecaster.load_model

    def counting(self: GlobalLightGBMForecaster, path: str | Path) -> GlobalLightGBMForecaster:
        loads.append(path)
        return original(self, path)

    monkeypatch.setattr(GlobalLightGBMForecaster, "load_model", counting)
    predictor = Predictor(registry=reg, end=END, record=False, cache_ttl=0)
    served = {c: predictor.predict(c, 7) for c in COINS}
    for coin, fc in served.items():
        assert fc.source == "model", fc.fallback_reason
        assert fc.model_type == GLOBAL_MODEL and fc.model_id == result.model_ids[coin]
    # what Predictor served is the fitted model's forecast on the coin's own last row
    data = build_universe_data(_candles(), DAYS, 7)
    for coin in COINS:
        row = data[coin].features.iloc[[-1]][result.model.feature_names_]
        assert served[coin].predicted_return == pytest.approx(
            float(result.model.predict(row).iloc[0]), rel=1e-12
        )
    assert len({fc.predicted_return for fc in served.values()}) == len(COINS)


def test_validation_fits_once_per_refit_for_all_coins(monkeypatch: pytest.MonkeyPatch) -> None:
    fits: list[int] = []
    original = GlobalLightGBMForecaster.fit

    def spy(self, X, y, X_val=None, y_val=None):  # type: ignore[no-untyped-def]
        fits.append(X.index.get_level_values("crypto_id").nunique())
        return original(self, X, y, X_val, y_val)

    monkeypatch.setattr(GlobalLightGBMForecaster, "fit", spy)
    result = train_global_model(
        COINS, horizon=1, days=DAYS, end=END, config=load_config(overrides=FAST), save_model=False
    )
    # 60 validation origins refit every 30: two fold fits shared by the coins, plus the final fit
    assert fits == [len(COINS)] * 3
    assert set(result.metrics) == set(COINS)


def test_cross_section_features_pass_the_lookahead_checker() -> None:
    candles = _candles("2025-09-30")
    market = market_closes(candles)
    for coin in ("bitcoin", "solana"):
        report = check_lookahead(cross_section_features, candles[coin], n_cuts=25, market=market)
        assert report.ok, report.summary()
        assert len(report.features) == 10


def test_the_lookahead_checker_would_catch_a_leaky_market_feature() -> None:
    candles = _candles("2025-09-30")
    market = market_closes(candles)

    def leaky(ohlcv: pd.DataFrame, mkt: pd.DataFrame) -> pd.DataFrame:
        out = cross_section_features(ohlcv, mkt)
        out["xs_mkt_ret_1"] = out["xs_mkt_ret_1"].shift(-1)  # tomorrow's market return
        return out

    report = check_lookahead(leaky, candles["ethereum"], n_cuts=5, market=market)
    assert report.leaky_features == ["xs_mkt_ret_1"]


def test_forecast_at_t_unchanged_when_any_coins_later_candles_change(
    trained: tuple[object, ModelRegistry],
) -> None:
    result, _ = trained
    model = result.model
    full = {c: load_ohlcv(c, days=DAYS + 520, end="2025-09-30") for c in COINS}
    origin = pd.Timestamp(END, tz="UTC")
    rng = np.random.default_rng(0)
    changed = {}
    for coin, frame in full.items():
        later = frame.index > origin
        noise = np.exp(rng.normal(0, 0.2, later.sum()))
        edited = frame.copy()
        for col in ("open", "high", "low", "close"):
            edited.loc[later, col] = edited.loc[later, col] * noise
        changed[coin] = edited

    def forecast(candles: dict[str, pd.DataFrame], coin: str) -> float:
        own = candles[coin].loc[:origin]
        feats = with_cross_section(
            coin, own, build_features(own), model.universe_, lambda c: candles[c]
        )
        return float(model.predict(feats.iloc[[-1]][model.feature_names_]).iloc[0])

    for coin in COINS:
        assert forecast(changed, coin) == forecast(full, coin)
    # and a change at or before the origin does move it (the check can fail)
    moved = {c: f.copy() for c, f in full.items()}
    moved["ethereum"].loc[origin, "close"] *= 1.3
    assert forecast(moved, "bitcoin") != forecast(full, "bitcoin")


def test_save_load_native_text_and_manifest(
    trained: tuple[object, ModelRegistry], tmp_path: Path
) -> None:
    result, _ = trained
    model = result.model
    path = model.save_model(tmp_path / "g")
    assert sorted(p.name for p in path.iterdir()) == ["manifest.json", "model.txt"]
    assert (path / "model.txt").read_text().startswith("tree\n")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model_type"] == GLOBAL_MODEL
    assert manifest["extra"]["universe"] == sorted(COINS)
    loaded = load_forecaster(path)
    assert isinstance(loaded, GlobalLightGBMForecaster)
    assert loaded.universe_ == sorted(COINS)
    X, _ = pool_rows(build_universe_data(_candles(), DAYS, 7))
    one = X.xs("solana", level="crypto_id")[model.feature_names_]  # the model's own columns
    pd.testing.assert_series_equal(loaded.predict(one), model.predict(one))
    # a global manifest without its universe is refused
    manifest["extra"].pop("universe")
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="universe"):
        load_forecaster(path)


def test_fit_refuses_rows_not_pooled_by_time_and_coin(btc_daily: pd.DataFrame) -> None:
    X = pd.DataFrame({"a": np.arange(50.0)}, index=btc_daily.index[:50])
    with pytest.raises(DataError, match="pool_rows"):
        GlobalLightGBMForecaster().fit(X, pd.Series(np.zeros(50), index=X.index))


def test_early_stopping_tail_is_cut_by_time_with_a_purge() -> None:
    data = build_universe_data(_candles(), DAYS, 7)
    X, y = pool_rows(data)
    seen: dict[str, pd.DataFrame] = {}
    model = GlobalLightGBMForecaster(horizon=7, n_estimators=5)
    original = type(model)._fit

    def spy(self, X_fit, y_fit, X_val, y_val):  # type: ignore[no-untyped-def]
        seen["fit"], seen["val"] = X_fit, X_val
        return original(self, X_fit, y_fit, X_val, y_val)

    type(model)._fit = spy  # type: ignore[method-assign]
    try:
        model.fit(X, y)
    finally:
        type(model)._fit = original  # type: ignore[method-assign]
    fit_times = seen["fit"].index.get_level_values("time").unique()
    val_times = seen["val"].index.get_level_values("time").unique()
    all_times = X.index.get_level_values("time").unique()
    # every coin is in both parts; 7 whole times are purged between them
    assert seen["val"].index.get_level_values("crypto_id").nunique() == len(COINS)
    gap = all_times.get_loc(val_times[0]) - all_times.get_loc(fit_times[-1]) - 1
    assert gap == 7
    assert fit_times[-1] + pd.Timedelta(days=7) < val_times[0]


def test_dask_builds_the_same_per_coin_frames() -> None:
    pytest.importorskip("distributed")
    candles = _candles()
    local = build_universe_data(candles, DAYS, 1)
    on_dask = build_universe_data(candles, DAYS, 1, scheduler="local")
    for coin in COINS:
        pd.testing.assert_frame_equal(on_dask[coin].X, local[coin].X)
        pd.testing.assert_series_equal(on_dask[coin].y, local[coin].y)


def test_a_universe_of_one_coin_is_refused() -> None:
    with pytest.raises(Exception, match="at least two coins"):
        global_training.build_universe_data({"bitcoin": load_ohlcv("bitcoin")}, 100, 1)


class _LaterCandles(Predictor):
    """A Predictor whose cache holds other coins' candles past the origin, edited."""

    def __init__(self, others: dict[str, pd.DataFrame], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.others = others

    def candles_as_of(self, crypto_id: str, as_of: object) -> pd.DataFrame:
        if crypto_id in self.others:
            return self.others[crypto_id]  # past the origin asked for
        return super().candles_as_of(crypto_id, as_of)


def test_predictor_cuts_the_other_coins_at_the_origin(
    trained: tuple[object, ModelRegistry],
) -> None:
    result, reg = trained
    origin = pd.Timestamp(END, tz="UTC")
    plain = Predictor(registry=reg, end=END, record=False, cache_ttl=0).predict("bitcoin", 7)
    others = {}
    for coin in ("ethereum", "solana"):
        frame = load_ohlcv(coin, days=1000, end="2025-09-30").copy()
        frame.loc[frame.index > origin, ["open", "high", "low", "close"]] *= 3.0
        others[coin] = frame
    later = _LaterCandles(others, registry=reg, end=END, record=False, cache_ttl=0)
    served = later.predict("bitcoin", 7)
    assert served.source == "model" and served.as_of == plain.as_of
    assert served.predicted_return == plain.predicted_return
    # the same edit at the origin itself reaches the forecast: the market is really read
    for frame in others.values():
        frame.loc[origin, "close"] *= 3.0
    moved = _LaterCandles(others, registry=reg, end=END, record=False, cache_ttl=0)
    assert moved.predict("bitcoin", 7).predicted_return != plain.predicted_return


def test_predictor_as_of_reads_the_market_up_to_that_origin(
    trained: tuple[object, ModelRegistry],
) -> None:
    _, reg = trained
    at_end = Predictor(registry=reg, end=END, record=False, cache_ttl=0).predict("ethereum", 7)
    latest = Predictor(registry=reg, record=False, cache_ttl=0)
    as_of = latest.predict("ethereum", 7, as_of=END)
    assert as_of.source == "model" and as_of.as_of == at_end.as_of
    assert as_of.predicted_return == at_end.predicted_return


def test_predictor_falls_back_when_the_market_cannot_be_loaded(
    trained: tuple[object, ModelRegistry], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, reg = trained
    predictor = Predictor(registry=reg, end=END, record=False, cache_ttl=0)
    own = Predictor.candles_as_of

    def candles_as_of(self: Predictor, crypto_id: str, as_of: object) -> pd.DataFrame:
        if crypto_id == "solana":
            raise DataError("no candles for solana")
        return own(self, crypto_id, as_of)

    monkeypatch.setattr(Predictor, "candles_as_of", candles_as_of)
    fc = predictor.predict("bitcoin", 7)
    assert fc.source == "technical_analysis_fallback"
    assert "no candles for solana" in (fc.fallback_reason or "")


def test_train_global_cli_registers_every_coin(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cryptoforecast.cli import app
    from cryptoforecast.registry import ModelRegistry as Registry

    out = CliRunner().invoke(
        app,
        ["train", "bitcoin", "ethereum", "--model", GLOBAL_MODEL, "--days", "250", "--end", END],
        env={"CRYPTOFORECAST_LIGHTGBM__N_ESTIMATORS": "30"},
    )
    assert out.exit_code == 0, out.output
    records = Registry().list_models(model_type=GLOBAL_MODEL)
    assert sorted(r.crypto_id for r in records) == ["bitcoin", "ethereum"]
    assert len({r.artifact_relpath for r in records}) == 1
    assert GLOBAL_MODEL in out.output


def test_retrain_retrains_a_stale_global_model_once_for_its_universe(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import datetime as dt

    from cryptoforecast.training.jobs import retrain_stale

    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    settings = load_config(overrides=FAST)
    first = train_global_model(
        COINS[:2], horizon=1, days=250, end=END, config=settings, registry=reg
    )
    calls: list[tuple[tuple[str, ...], int]] = []
    original = global_training.train_global_model

    def spy(coins, horizon, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append((tuple(coins), horizon))
        return original(coins, horizon, *args, **kwargs)

    monkeypatch.setattr("cryptoforecast.training.jobs.train_global_model", spy)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    summaries = retrain_stale("7d", registry=reg, config=settings, now=later)
    assert calls == [(tuple(sorted(COINS[:2])), 1)]
    assert sorted(s.crypto_id for s in summaries) == sorted(COINS[:2])
    assert all(s.error is None and s.model_type == GLOBAL_MODEL for s in summaries)
    assert {s.replaces_model_id for s in summaries} == set(first.model_ids.values())
    new_ids = {s.model_id for s in summaries}
    assert len({reg.get(i).artifact_relpath for i in new_ids}) == 1
