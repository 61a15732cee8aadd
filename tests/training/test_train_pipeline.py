"""train_model_for_crypto: validation beside naive, the promotion gate, artifacts, registry, lineage."""

from __future__ import annotations

import asyncio
import gzip
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import PromotionGateConfig, load_config
from cryptoforecast.exceptions import ConfigError, CryptoForecastError, DataError
from cryptoforecast.models import load_registered
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import fit as fitting
from cryptoforecast.training import pipeline as tp
from cryptoforecast.training.gate import gate_decision
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.pipeline import train_model_for_crypto
from cryptoforecast.training.results import TrainingResult

#: small, fast settings: 2 validation folds of 30 origins, a light LightGBM
FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "training": {"validation_size": 60, "validation_retrain_every": 30},
}


def settings(**extra: dict) -> object:
    overrides = {k: dict(v) for k, v in FAST.items()}
    for key, value in extra.items():
        overrides.setdefault(key, {}).update(value)
    return load_config(overrides=overrides)


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


def registry_state(reg: ModelRegistry) -> tuple[list, list, list]:
    """Everything a failed training must leave untouched: rows, history, artifact files."""
    rows = [r.to_dict() for r in reg.list_models()]
    events = [e.to_dict() for e in reg.history()]
    root = Path(reg.artifact_root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
    return rows, events, files


def test_snippet_trains_registers_and_gates() -> None:
    from cryptoforecast.registry import model_registry

    model = run(
        train_model_for_crypto(
            crypto_id="bitcoin", model_type="lightgbm", days=365, save_model=True, config=settings()
        )
    )
    result = model.training_result_
    # one typed record of the training, not attributes patched onto the model
    assert isinstance(result, TrainingResult) and result.model is model
    for patched in (
        "metrics",
        "model_id",
        "status",
        "version",
        "artifact_path",
        "gate",
        "tuning",
        "params",
    ):
        assert not hasattr(model, patched), patched
    assert isinstance(result.metrics, ValidationMetrics)
    assert result.gate.promote is result.record.metrics["gate"]["promote"]
    assert result.record is not None and result.record.model_id == result.model_id
    summary = result.summary()
    assert (summary.model_id, summary.status, summary.gate_reason) == (
        result.model_id,
        result.status,
        result.gate.reason,
    )
    assert summary.to_dict()["metrics"]["mase"] == result.metrics.mase
    m = result.metrics.to_dict()
    # validation beside naive on the same origins
    for key in (
        "mase",
        "mae",
        "naive_mae",
        "rmse",
        "naive_rmse",
        "dm_pvalue",
        "coverage_80",
        "coverage_95",
    ):
        assert key in m
    assert m["n_validation"] == 60 and m["n_refits"] == 2
    assert math.isclose(m["mase"], m["mae"] / m["naive_mae"])
    rec = model_registry.get(model.training_result_.model_id)
    assert rec.metrics["mase"] == pytest.approx(m["mase"])
    prod = model_registry.get_production_model("bitcoin", "lightgbm")
    gate = result.gate.to_dict()
    # the gate: MASE < 1, DM favours the model and is significant (Holm over the 4 candidate
    # types), and the model beats naive in at least 2 of 3 sub-periods
    assert gate["family_size"] == 4 and len(gate["subperiod_mae"]) == 3
    assert gate["dm_pvalue_holm"] == pytest.approx(min(1.0, 4 * m["dm_pvalue_one_sided"]))
    passed = (
        m["mase"] < 1.0
        and m["dm_favours_model"]
        and gate["dm_pvalue_holm"] <= 0.05
        and gate["subperiods_won"] >= 2
    )
    assert gate["promote"] is passed
    if passed:
        assert (
            prod is not None
            and prod.model_id == model.training_result_.model_id
            and model.training_result_.status == "production"
        )
    else:
        assert prod is None and rec.status == "staging"
    gate_events = [
        e
        for e in model_registry.history(model_id=model.training_result_.model_id)
        if e.event == "gate"
    ]
    assert len(gate_events) == 1 and gate["reason"] in gate_events[0].reason
    # the stored importance and lineage describe this model
    assert set(rec.feature_importance) == set(model.feature_names_)
    assert rec.lineage["features"] == model.feature_names_
    assert rec.lineage["last_candle"].startswith("2025-09-30")
    assert rec.config["params"]["n_estimators"] == 40


def test_artifact_layout_and_reload_gives_same_forecasts() -> None:
    reg = ModelRegistry()
    model = run(
        train_model_for_crypto(
            "bitcoin", "lightgbm", days=300, horizon=7, config=settings(), registry=reg
        )
    )
    rec = reg.get(model.training_result_.model_id)
    assert re.fullmatch(r"lightgbm/bitcoin/h7/v1\.0\.0_\d{8}T\d{6}\d{6}Z", rec.artifact_relpath)
    assert rec.artifact_path.is_relative_to(reg.artifact_root)
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features

    # the model's own columns, as the service selects them (h=7 leaves groups out by default)
    X = build_features(load_ohlcv("bitcoin", days=500)).dropna().iloc[-20:]
    X = X[model.feature_names_]
    loaded = load_registered(rec)
    pd.testing.assert_series_equal(loaded.predict(X), model.predict(X))
    # a second training of the same key bumps the version
    again = run(
        train_model_for_crypto(
            "bitcoin", "lightgbm", days=300, horizon=7, config=settings(), registry=reg
        )
    )
    assert reg.get(again.training_result_.model_id).version == "1.1.0"


def test_naive_never_passes_the_gate_and_the_reason_is_recorded() -> None:
    reg = ModelRegistry()
    model = run(
        train_model_for_crypto("ethereum", "naive", days=200, config=settings(), registry=reg)
    )
    assert model.training_result_.metrics.mase == pytest.approx(1.0)
    assert model.training_result_.status == "staging"
    assert reg.get_production_model("ethereum", "naive") is None
    reasons = [
        e.reason for e in reg.history(model_id=model.training_result_.model_id) if e.event == "gate"
    ]
    assert reasons and "not below 1" in reasons[0]


def test_a_model_that_passes_the_gate_is_the_production_model() -> None:
    reg = ModelRegistry()
    lax = settings(
        promotion_gate={
            "max_mase": 100.0,
            "require_dm_direction": False,
            "max_dm_pvalue": None,
            "stability_min_wins": 0,
        }
    )
    model = run(train_model_for_crypto("bitcoin", "drift", days=200, config=lax, registry=reg))
    assert model.training_result_.gate.promote and model.training_result_.status == "production"
    prod = reg.get_production_model("bitcoin", "drift")
    assert prod is not None and prod.model_id == model.training_result_.model_id
    events = [e.event for e in reg.history(model_id=model.training_result_.model_id)]
    assert events.index("gate") < events.index("promote")


def test_strict_gate_keeps_a_good_model_in_staging() -> None:
    reg = ModelRegistry()
    cfg = settings(promotion_gate={"max_mase": 0.01})
    model = run(train_model_for_crypto("bitcoin", "lightgbm", days=300, config=cfg, registry=reg))
    assert model.training_result_.status == "staging" and not model.training_result_.gate.promote
    assert reg.get_production_model("bitcoin", "lightgbm") is None
    assert reg.get(model.training_result_.model_id).status == "staging"


#: direction-only gate (significance and stability off), to test each remaining rule alone
LOOSE = {"max_dm_pvalue": None, "stability_min_wins": 0}
STABLE = {"subperiod_mae": [1.0, 1.0, 2.0], "subperiod_naive_mae": [1.1, 1.1, 1.9]}


@pytest.mark.parametrize(
    ("metrics", "gate", "promote", "words"),
    [
        ({"mase": 0.9, "dm_favours_model": True, "dm_pvalue": 0.2}, LOOSE, True, "0.9000 < 1"),
        ({"mase": 1.2, "dm_favours_model": True, "dm_pvalue": 0.2}, LOOSE, False, "not below 1"),
        (
            {"mase": 0.9, "dm_favours_model": False, "dm_pvalue": 0.2},
            LOOSE,
            False,
            "does not favour",
        ),
        (
            {"mase": 0.9, "dm_favours_model": False, "dm_pvalue": 0.2},
            {**LOOSE, "require_dm_direction": False},
            True,
            "<",
        ),
        (
            {"mase": 0.9, "dm_favours_model": True, "dm_pvalue": 0.2, **STABLE},
            {"max_dm_pvalue": 0.05},
            False,
            "p-value",
        ),
        (
            {"mase": 0.9, "dm_favours_model": True, "dm_pvalue_one_sided": 0.01, **STABLE},
            {},
            True,
            "2 of 3 sub-periods",
        ),
        ({"mase": float("nan"), "dm_favours_model": True}, LOOSE, False, "not available"),
    ],
)
def test_gate_decision_rules(metrics: dict, gate: dict, promote: bool, words: str) -> None:
    decision = gate_decision(ValidationMetrics(**metrics), PromotionGateConfig(**gate))
    assert decision.promote is promote
    assert words in decision.reason


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    out = frame.reset_index()
    out["timestamp"] = out["timestamp"].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)


@pytest.mark.parametrize("problem", ["missing", "garbage", "negative_price", "gap", "too_short"])
def test_bad_input_fails_clearly_and_leaves_registry_untouched(
    problem: str, tmp_path: Path, btc_daily: pd.DataFrame
) -> None:
    reg = ModelRegistry()
    first = run(
        train_model_for_crypto("bitcoin", "drift", days=200, config=settings(), registry=reg)
    )
    assert first.training_result_.model_id is not None
    before = registry_state(reg)
    csv = tmp_path / "btc.csv"
    frame = btc_daily.iloc[-800:].copy()
    if problem == "garbage":
        csv.write_bytes(gzip.compress(b"\x00\x01 not a csv"))
    elif problem == "negative_price":
        frame.iloc[-50, frame.columns.get_loc("close")] = -1.0
        _write_csv(csv, frame)
    elif problem == "gap":
        _write_csv(csv, frame.drop(frame.index[-40]))
    elif problem == "too_short":
        _write_csv(csv, frame.iloc[-300:])
    with pytest.raises(DataError) as info:
        run(
            train_model_for_crypto(
                "bitcoin",
                "lightgbm",
                days=365,
                source="csv",
                path=csv,
                config=settings(),
                registry=reg,
            )
        )
    assert str(info.value)  # a message, not an empty error
    assert registry_state(reg) == before


def test_a_save_failing_halfway_leaves_registry_and_artifacts_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptoforecast.models.baselines import DriftForecaster

    reg = ModelRegistry()
    run(train_model_for_crypto("bitcoin", "drift", days=200, config=settings(), registry=reg))
    before = registry_state(reg)

    def broken_save(self, path):  # noqa: ANN001, ANN202
        Path(path).mkdir(parents=True)
        (Path(path) / "weights.partial").write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(DriftForecaster, "save_model", broken_save)
    with pytest.raises(OSError, match="disk full"):
        run(train_model_for_crypto("bitcoin", "drift", days=200, config=settings(), registry=reg))
    assert registry_state(reg) == before


def test_unknown_model_or_bad_arguments_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown model_type"):
        run(train_model_for_crypto("bitcoin", "prophet", config=settings(), save_model=False))
    with pytest.raises(ConfigError, match="horizon"):
        run(
            train_model_for_crypto(
                "bitcoin", "naive", horizon=0, config=settings(), save_model=False
            )
        )
    with pytest.raises(CryptoForecastError):
        run(train_model_for_crypto("notacoin", "naive", config=settings(), save_model=False))


def test_end_cuts_the_window_and_no_save_leaves_no_trace() -> None:
    reg = ModelRegistry()
    model = run(
        train_model_for_crypto(
            "bitcoin",
            "drift",
            days=200,
            end="2023-06-30",
            save_model=False,
            config=settings(),
            registry=reg,
        )
    )
    assert model.training_result_.model_id is None
    assert pd.Timestamp(model.train_end_) <= pd.Timestamp("2023-06-30", tz="UTC")
    assert model.training_result_.metrics.validation_end < "2023-07-01"
    assert reg.list_models() == []


def test_validation_folds_never_train_on_labels_past_their_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Spy on every fit: its last training row plus the horizon must be at or before the fold's origin."""
    seen: list[tuple[pd.Timestamp, int]] = []
    real = tp.new_forecaster

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - every fit's model comes from here
        model = real(*args, **kwargs)
        fit = model.fit

        def recording_fit(X, y, *rest, **more):  # noqa: ANN001, ANN002, ANN003, ANN202
            seen.append((X.index[-1], len(X)))
            return fit(X, y, *rest, **more)

        model.fit = recording_fit
        return model

    monkeypatch.setattr(tp, "new_forecaster", spy)
    h = 7
    model = run(
        train_model_for_crypto(
            "bitcoin", "drift", days=300, horizon=h, save_model=False, config=settings()
        )
    )
    first_origin = pd.Timestamp(model.training_result_.metrics.validation_start)
    fold_fits, final_fit = seen[:-1], seen[-1]
    assert len(fold_fits) == model.training_result_.metrics.n_refits == 2
    for k, (last_row, _) in enumerate(fold_fits):
        origin = first_origin + pd.Timedelta(days=30 * k)
        assert last_row + pd.Timedelta(days=h) <= origin
    assert final_fit[0] == pd.Timestamp(model.train_end_)


def test_top_k_features_are_ranked_on_training_rows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    ranked_until: list[pd.Timestamp] = []
    real = fitting.rank_features

    def spy(model_type, horizon, X, y, params, seed):  # noqa: ANN001, ANN202
        ranked_until.append(X.index[-1])
        return real(model_type, horizon, X, y, params, seed)

    monkeypatch.setattr(fitting, "rank_features", spy)
    reg = ModelRegistry()
    model = run(
        train_model_for_crypto(
            "bitcoin",
            "lightgbm",
            days=300,
            config=settings(feature_selection={"top_k": 6}),
            registry=reg,
        )
    )
    assert len(model.feature_names_) == 6
    rec = reg.get(model.training_result_.model_id)
    assert rec.lineage["features"] == model.feature_names_ and len(rec.feature_importance) == 6
    start = pd.Timestamp(model.training_result_.metrics.validation_start)
    *folds, final = ranked_until
    assert len(folds) == 2
    for k, t in enumerate(folds):  # each fold ranks on rows whose labels are known at its origin
        assert t + pd.Timedelta(days=1) <= start + pd.Timedelta(days=30 * k)
    assert final == pd.Timestamp(model.train_end_)


def test_several_trainings_can_be_awaited_together() -> None:
    reg = ModelRegistry()

    async def both():  # noqa: ANN202
        return await asyncio.gather(
            train_model_for_crypto("bitcoin", "drift", days=200, config=settings(), registry=reg),
            train_model_for_crypto("ethereum", "naive", days=200, config=settings(), registry=reg),
        )

    a, b = run(both())
    assert {
        reg.get(a.training_result_.model_id).crypto_id,
        reg.get(b.training_result_.model_id).crypto_id,
    } == {"bitcoin", "ethereum"}
    assert np.isfinite(a.training_result_.metrics.mase) and b.training_result_.metrics.mase == (
        pytest.approx(1.0)
    )


def test_binance_source_end_to_end(httpserver, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from tests.live_servers import use_binance_server

    fake = use_binance_server(httpserver, monkeypatch)
    reg = ModelRegistry()
    model = run(
        train_model_for_crypto(
            "bitcoin", "lightgbm", days=300, source="binance", config=settings(), registry=reg
        )
    )
    assert fake.requests, "the local Binance server was not asked"
    rec = reg.get(model.training_result_.model_id)
    assert rec.lineage["data_source"] == "binance" and rec.config["source"] == "binance"
    snap = run(
        train_model_for_crypto(
            "bitcoin",
            "lightgbm",
            days=300,
            save_model=False,
            config=settings(),
            end=rec.lineage["last_candle"][:10],
        )
    )
    assert model.training_result_.metrics.mase == pytest.approx(
        snap.training_result_.metrics.mase, rel=1e-9
    )


def test_cli_train_one_and_a_grid(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptoforecast.cli import main
    from cryptoforecast.registry import model_registry

    monkeypatch.setenv("CRYPTOFORECAST_TRAINING__VALIDATION_SIZE", "60")
    assert main(["train", "bitcoin", "--model", "drift", "--days", "300", "--horizon", "7"]) == 0
    out = capsys.readouterr().out
    assert "naive" in out and "drift" in out and "bitcoin" in out
    recs = [r for r in model_registry.list_models() if r.model_type != "distribution"]
    assert [(r.crypto_id, r.model_type, r.horizon, r.config["days"]) for r in recs] == [
        ("bitcoin", "drift", 7, 300)
    ]
    assert main(["train", "--model", "naive"]) == 2  # neither ids nor --all
