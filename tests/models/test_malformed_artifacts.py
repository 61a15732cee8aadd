"""Malformed artifacts whose hashes match: each was edited, then its manifests re-hashed (and, for
the service, registered), as if it had been written wrong. Loading refuses every one with an
``ArtifactError`` naming the file, the field, the value and the fix; the service answers with the
labelled fallback (never a 500, never a non-finite number); ``forecast --json`` prints valid JSON
whatever a model produces; registration refuses a manifest that is not a JSON object."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
from cryptoforecast.paths import sha256_file
from cryptoforecast.serving import create_app
from cryptoforecast.serving.distribution import FALLBACK_SCALE
from tests.serving.conftest import TRAIN_END, FakeClock, SyncASGIClient, fit_model, register

DIST = "distribution/distribution.json"


# -- helpers ------------------------------------------------------------------------------------
def rehash(path: Path) -> None:
    """Record the current sha256 of every file each ``manifest.json`` under ``path`` lists,
    deepest first (a parent lists its children's manifests): the artifact then passes every hash
    check, as one written wrong would."""
    for manifest in sorted(path.rglob(MANIFEST), key=lambda p: len(p.parts), reverse=True):
        data = json.loads(manifest.read_text())
        if isinstance(data, dict) and isinstance(data.get("files"), dict):
            data["files"] = {name: sha256_file(manifest.parent / name) for name in data["files"]}
            manifest.write_text(json.dumps(data))


def edit(file: Path, change: Callable[[Any], Any]) -> None:
    """Apply ``change`` to the JSON in ``file`` (in place, or the value it returns)."""
    data = json.loads(file.read_text())
    new = change(data)
    file.write_text(json.dumps(data if new is None else new))


def strict_json(text: str) -> Any:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (not JSON)."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not valid JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(all_finite(v) for v in value)
    return True


def setitem(*keys: Any, value: Any) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return change


def pop(*keys: Any) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in keys[:-1]:
            data = data[key]
        data.pop(keys[-1])

    return change


# -- a model with a stored distribution, registered after an edit ------------------------------
@pytest.fixture(scope="module")
def har_btc() -> DistributionForecaster:
    return DistributionForecaster("har_rv", horizon=7).fit(
        MarketData(load_ohlcv("bitcoin", end=TRAIN_END))
    )


@pytest.fixture(scope="module")
def drift_har(har_btc: DistributionForecaster) -> Any:
    model = fit_model("bitcoin", "drift", 7)
    model.distribution_ = har_btc
    return model


@pytest.fixture
def registry(cf_home: Path) -> Iterator[Any]:
    from cryptoforecast.registry import ModelRegistry

    reg = ModelRegistry()
    yield reg
    reg.close()


@pytest.fixture
def client(registry: Any) -> SyncASGIClient:
    app = create_app(load_config(), registry=registry, clock=FakeClock(), retrain=None)
    return SyncASGIClient(app)


def register_edited(registry: Any, model: Any, file: str, change: Callable[[Any], Any]) -> Path:
    """Save ``model``, edit ``file`` of its artifact, re-hash it and register it as bitcoin's
    production model (the registry records the edited file's hash)."""
    path = registry.new_artifact_dir("bitcoin", model.model_type, model.horizon)
    model.save_model(path)
    edit(path / file, change)
    rehash(path)
    registry.register_model(
        model_type=model.model_type,
        crypto_id="bitcoin",
        horizon=model.horizon,
        model_path=path,
        metrics={"val_mase": 0.9},
        config={},
        status="production",
        force=True,
    )
    return path


SERVED_CASES = {
    "residuals of +-1e308": (
        MANIFEST,
        setitem("conformal", "residuals", value=[1e308, -1e308] * 20),
    ),
    "har coef of length 1": (DIST, setitem("volatility_model", "state", "coef", value=[0.1])),
    "negative har resid_var": (DIST, setitem("volatility_model", "state", "resid_var", value=-1.0)),
    "drift of 1e308": (MANIFEST, setitem("extra", "drift", value=1e308)),
}


@pytest.mark.parametrize("case", list(SERVED_CASES))
def test_the_api_answers_a_malformed_artifact_with_the_labelled_fallback(
    case: str, registry: Any, client: SyncASGIClient, drift_har: Any
) -> None:
    file, change = SERVED_CASES[case]
    path = register_edited(registry, drift_har, file, change)
    with pytest.raises(ArtifactError) as info:
        load_forecaster(path)
    assert "retrain" in str(info.value)
    r = client.get("/v1/forecast/bitcoin", params={"horizon": 7})
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    assert body["source"] == "technical_analysis_fallback"
    assert body["fallback_reason"] == "integrity check failed"
    assert all_finite(body)
    assert all(lo is not None and hi is not None for lo, hi in body["intervals"].values())


def test_forecast_json_of_a_malformed_artifact_is_valid_json(
    registry: Any, drift_har: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.cli import main

    register_edited(registry, drift_har, *SERVED_CASES["residuals of +-1e308"])
    code = main(["forecast", "bitcoin", "-H", "7", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    (f,) = strict_json(out)["forecasts"]
    assert (f["source"], f["fallback_reason"]) == (
        "technical_analysis_fallback",
        "integrity check failed",
    )
    assert all_finite(f)


# -- the last line of defence: whatever a loaded model produces -------------------------------
def overflowing(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any], None]) -> None:
    """Models load as stored, then ``change`` makes them produce numbers no price can hold."""
    import cryptoforecast.serving.predictor as predictor

    real = predictor.load_registered

    def load(record: Any) -> Any:
        model = real(record)
        change(model)
        return model

    monkeypatch.setattr(predictor, "load_registered", load)


def huge_drift(model: Any) -> None:
    model.drift_ = 800.0  # a finite log return whose price, close * e^800, is not


def test_a_forecast_whose_price_overflows_falls_back_labelled(
    registry: Any, client: SyncASGIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(registry, fit_model("bitcoin", "drift", 1), "bitcoin")
    overflowing(monkeypatch, huge_drift)
    r = client.get("/v1/forecast/bitcoin")
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    assert body["source"] == "technical_analysis_fallback"
    assert body["fallback_reason"].startswith("prediction failed")
    assert "finite" in body["fallback_reason"]
    assert all_finite(body)


def test_forecast_json_stays_valid_when_a_price_overflows(
    registry: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.cli import main

    register(registry, fit_model("bitcoin", "drift", 1), "bitcoin")
    overflowing(monkeypatch, huge_drift)
    code = main(["forecast", "bitcoin", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    (f,) = strict_json(out)["forecasts"]
    assert f["source"] == "technical_analysis_fallback" and all_finite(f)


def test_a_stored_distribution_that_overflows_gives_the_labelled_fallback_scale(
    registry: Any, client: SyncASGIClient, drift_har: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(registry, drift_har, "bitcoin")

    def wide(model: Any) -> None:
        model.distribution_.model_.resid_var_ = (
            940.0  # sigma ~ 1e100: finite, its price quantiles are not
        )

    overflowing(monkeypatch, wide)
    r = client.get("/v1/forecast/bitcoin", params={"horizon": 7})
    assert r.status_code == 200, r.text
    body = strict_json(r.text)
    assert body["source"] == "model" and body["distribution"]["source"] == FALLBACK_SCALE
    assert all_finite(body) and body["quantiles"] is not None


# -- registration ------------------------------------------------------------------------------
def test_register_model_refuses_a_manifest_that_is_not_an_object(
    registry: Any, drift_btc: Any
) -> None:
    path = registry.new_artifact_dir("bitcoin", "drift", 1)
    drift_btc.save_model(path)
    (path / MANIFEST).write_text("[]")
    with pytest.raises(ArtifactError) as info:
        registry.register_model(
            model_type="drift",
            crypto_id="bitcoin",
            model_path=path,
            status="production",
            force=True,
        )
    text = str(info.value)
    assert MANIFEST in text and "JSON object" in text and "list" in text
    assert registry.list_models() == []


def test_register_saved_refuses_a_manifest_that_is_not_an_object_and_keeps_nothing(
    registry: Any, drift_btc: Any
) -> None:
    def save(path: Path) -> None:
        drift_btc.save_model(path)
        (path / MANIFEST).write_text("[]")

    with pytest.raises(ArtifactError, match="JSON object"):
        registry.register_saved(save, "drift", "bitcoin", 1)
    assert registry.list_models() == []
    assert not any(p.is_file() for p in Path(registry.artifact_root).rglob("*"))


@pytest.fixture(scope="module")
def drift_btc() -> Any:
    return fit_model("bitcoin", "drift", 1)


def test_registration_refuses_manifest_values_of_the_wrong_type(
    registry: Any, drift_btc: Any
) -> None:
    path = registry.new_artifact_dir("bitcoin", "drift", 1)
    drift_btc.save_model(path)
    edit(path / MANIFEST, setitem("horizon", value="seven"))
    with pytest.raises(ArtifactError, match=r"'horizon'.*'seven'"):
        registry.register_model(model_type="drift", crypto_id="bitcoin", model_path=path)
    assert registry.list_models() == []
    shutil.rmtree(path)


# -- every model's stored values, checked when loaded ------------------------------------------
def _fit_saved(root: Path) -> dict[str, Path]:
    """One saved artifact per model class (and per stored scale model), fitted small and fast."""
    from cryptoforecast.models import make_forecaster
    from tests.models.contract import CONTRACT_MODELS, fit_on_known, synthetic_market

    X, y = synthetic_market(n=400, horizon=1, seed=3)
    saved = {}
    for name in ("drift", "technical", "lightgbm", "xgboost", "lstm", "ensemble", "shrunk"):
        model = fit_on_known(CONTRACT_MODELS[name](1), X, y)
        saved[name] = model.save_model(root / name)
    market = MarketData(load_ohlcv("bitcoin", end=TRAIN_END).iloc[-700:])
    for scale in ("har_rv", "garch_t", "ewma_t", "rolling_gaussian", "lightgbm_vol"):
        model = fit_on_known(make_forecaster("drift", horizon=1), X, y)
        model.distribution_ = DistributionForecaster(scale, horizon=1).fit(market)
        saved[scale] = model.save_model(root / scale)
    return saved


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _fit_saved(tmp_path_factory.mktemp("saved"))


def replace_token(file: Path, key: str, token: str) -> None:
    """Replace the first value of the first ``key=...`` line of a LightGBM text model by
    ``token``, keeping every byte offset (the header's tree sizes stay true)."""
    text = file.read_text()
    start = text.index(f"\n{key}=") + len(key) + 2
    end = min(text.index(" ", start), text.index("\n", start))
    assert len(token) <= end - start
    file.write_text(text[:start] + token.ljust(end - start) + text[end:])


def nan_lstm_weight(file: Path) -> None:
    import torch

    state = torch.load(file, weights_only=True)
    state["head.weight"][0, 0] = float("nan")
    torch.save(state, file)


NAN, INF = float("nan"), float("inf")
SCALE = "volatility_model.state"

#: (artifact, file edited, the edit, text the error must hold: the field, then the value)
LOAD_CASES: dict[str, tuple[str, str, Callable[[Path], None], tuple[str, ...]]] = {
    "manifest is a list": ("drift", MANIFEST, lambda f: f.write_text("[]"), ("JSON object", "[]")),
    "drift NaN": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("extra", "drift", value=NAN)),
        ("extra.drift", "nan"),
    ),
    "residuals 1e308": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "residuals", value=[1e308, -1e308])),
        ("conformal.residuals", "1e+308"),
    ),
    "residual NaN": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "residuals", value=[0.1, NAN])),
        ("conformal.residuals", "nan at index 1"),
    ),
    "conformal method": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "method", value="bogus")),
        ("conformal.method", "'bogus'"),
    ),
    "conformal window 0": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "window", value=0)),
        ("conformal.window", "0"),
    ),
    "conformal gamma": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "gamma", value=-1.0)),
        ("conformal.gamma", "-1.0"),
    ),
    "aci level": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("conformal", "alpha_adjust", value={"0.8": "x"})),
        ("alpha_adjust", "'x'"),
    ),
    "param not a number": (
        "drift",
        MANIFEST,
        lambda f: edit(f, setitem("params", "random_state", value="x")),
        ("params.random_state", "'x'"),
    ),
    "technical strength": (
        "technical",
        MANIFEST,
        lambda f: edit(f, setitem("params", "strength", value=INF)),
        ("params.strength", "inf"),
    ),
    "technical window": (
        "technical",
        MANIFEST,
        lambda f: edit(f, setitem("params", "trend_window", value=0)),
        ("trend_window", "0"),
    ),
    "technical column": (
        "technical",
        MANIFEST,
        lambda f: edit(
            f,
            lambda m: m.update(
                feature_names=[n.replace("rsi_14", "rsi_15") for n in m["feature_names"]]
            ),
        ),
        ("feature_names", "rsi_14"),
    ),
    "lightgbm leaf 1e999": (
        "lightgbm",
        "model.txt",
        lambda f: replace_token(f, "leaf_value", "1e999"),
        ("leaf_value", "1e999"),
    ),
    "lightgbm leaf nan": (
        "lightgbm",
        "model.txt",
        lambda f: replace_token(f, "leaf_value", "nan"),
        ("leaf_value", "nan"),
    ),
    "lightgbm best iteration": (
        "lightgbm",
        MANIFEST,
        lambda f: edit(f, setitem("extra", "best_iteration", value="x")),
        ("extra.best_iteration", "'x'"),
    ),
    "xgboost leaf Infinity": (
        "xgboost",
        "model.json",
        lambda f: edit(
            f,
            lambda m: m["learner"]["gradient_booster"]["model"]["trees"][0][
                "base_weights"
            ].__setitem__(0, INF),
        ),
        ("model.json", "Infinity"),
    ),
    "xgboost base score": (
        "xgboost",
        "model.json",
        lambda f: edit(f, setitem("learner", "learner_model_param", "base_score", value="[1e999]")),
        ("base_score", "not a finite number"),
    ),
    "lstm target std": (
        "lstm",
        MANIFEST,
        lambda f: edit(f, setitem("extra", "target_scaling", "std", value=-1.0)),
        ("extra.target_scaling.std", "-1.0"),
    ),
    "lstm scaler length": (
        "lstm",
        MANIFEST,
        lambda f: edit(f, setitem("extra", "scaler", "mean", value=[0.0])),
        ("extra.scaler.mean", "1 elements"),
    ),
    "lstm NaN weight": ("lstm", "state_dict.pt", nan_lstm_weight, ("head.weight", "non-finite")),
    "ensemble weights length": (
        "ensemble",
        "meta.json",
        lambda f: edit(f, setitem("weights", value=[1.0])),
        ("weights", "1 elements"),
    ),
    "ensemble weight negative": (
        "ensemble",
        "meta.json",
        lambda f: edit(f, setitem("weights", value=[-1.0, 0.5])),
        ("weights", "-1.0 at index 0"),
    ),
    "ensemble intercept": (
        "ensemble",
        "meta.json",
        lambda f: edit(f, setitem("intercept", value=1e308)),
        ("intercept", "1e+308"),
    ),
    "ensemble meta is a list": (
        "ensemble",
        "meta.json",
        lambda f: f.write_text("[]"),
        ("JSON object", "[]"),
    ),
    "shrunk se": (
        "shrunk",
        "shrink.json",
        lambda f: edit(f, setitem("oof_se", value=-1.0)),
        ("oof_se", "-1.0"),
    ),
    "shrunk weight NaN": (
        "shrunk",
        "shrink.json",
        lambda f: edit(f, setitem("weight", value=NAN)),
        ("weight", "nan"),
    ),
    "har coef length": (
        "har_rv",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "state", "coef", value=[0.1])),
        (f"{SCALE}.coef", "1 elements"),
    ),
    "har coef inf": (
        "har_rv",
        DIST,
        lambda f: edit(f, lambda s: s["volatility_model"]["state"]["coef"].__setitem__(2, INF)),
        (f"{SCALE}.coef", "inf at index 2"),
    ),
    "har resid_var negative": (
        "har_rv",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "state", "resid_var", value=-1.0)),
        (f"{SCALE}.resid_var", "-1.0"),
    ),
    "garch nu": (
        "garch_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "state", "nu", value=1.5)),
        (f"{SCALE}.nu", "1.5"),
    ),
    "garch omega": (
        "garch_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "state", "omega", value=-0.1)),
        (f"{SCALE}.omega", "-0.1"),
    ),
    "garch missing beta": (
        "garch_t",
        DIST,
        lambda f: edit(f, pop("volatility_model", "state", "beta")),
        (SCALE, "'alpha'"),
    ),
    "ewma lam": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "params", "lam", value=1.5)),
        ("params.lam", "1.5"),
    ),
    "rolling window": (
        "rolling_gaussian",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "params", "window", value=0)),
        ("params.window", "0"),
    ),
    "scale horizon": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "params", "horizon", value=7)),
        ("params.horizon", "7"),
    ),
    "shape scale": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "shape", "scale", value=-1.0)),
        ("shape.scale", "-1.0"),
    ),
    "shape kind": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "shape", "kind", value="cauchy")),
        ("shape.kind", "'cauchy'"),
    ),
    "shape df": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "shape", "df", value=1.0)),
        ("shape.df", "1.0"),
    ),
    "calibrator scores": (
        "ewma_t",
        DIST,
        lambda f: edit(f, lambda s: s["calibrator"]["scores"].__setitem__(0, 1e308)),
        ("calibrator.scores", "1e+308"),
    ),
    "calibrator too few": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("calibrator", "scores", value=[0.1, 0.2])),
        ("calibrator.scores", "at least 30"),
    ),
    "calibrator gamma": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("calibrator", "gamma", value=5.0)),
        ("calibrator.gamma", "5.0"),
    ),
    "distribution params": (
        "ewma_t",
        "distribution/manifest.json",
        lambda f: edit(f, setitem("params", "calibration_fraction", value=INF)),
        ("params.calibration_fraction", "inf"),
    ),
    "distribution manifest list": (
        "ewma_t",
        "distribution/manifest.json",
        lambda f: f.write_text("[]"),
        ("JSON object", "[]"),
    ),
    "volatility name": (
        "ewma_t",
        DIST,
        lambda f: edit(f, setitem("volatility_model", "name", value="har_rv")),
        ("volatility_model.name", "'har_rv'"),
    ),
    "lightgbm_vol features": (
        "lightgbm_vol",
        DIST,
        lambda f: edit(f, pop("volatility_model", "state", "feature_names", -1)),
        ("volatility_model.txt", "features"),
    ),
    "lightgbm_vol leaf": (
        "lightgbm_vol",
        "distribution/volatility_model.txt",
        lambda f: replace_token(f, "leaf_value", "-1e999"),
        ("leaf_value", "-1e999"),
    ),
}


@pytest.mark.parametrize("case", list(LOAD_CASES))
def test_loading_refuses_a_malformed_value_naming_the_file_field_and_value(
    case: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    name, file, change, expected = LOAD_CASES[case]
    path = Path(shutil.copytree(saved[name], tmp_path / name))
    load_forecaster(path)  # as saved, it loads
    change(path / file)
    rehash(path)
    with pytest.raises(ArtifactError) as info:
        load_forecaster(path)
    text = str(info.value)
    assert Path(file).name in text, text
    for part in expected:
        assert part in text, text
    assert "retrain" in text, text
