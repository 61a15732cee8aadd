"""Serving from state: a forecast-cache miss on candles already seen fits nothing (no features
built, no ``garch_ref`` fit, no technical-analysis fit) and gives the numbers a fresh predictor
gives; a new candle computes afresh; a back-dated forecast never reads state computed from later
candles; a corrupt or foreign state file on disk is recomputed, never served."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import GarchRef
from cryptoforecast.models.technical import TechnicalAnalysisForecaster
from cryptoforecast.serving import Predictor
from cryptoforecast.serving import predictor as predictor_module
from cryptoforecast.serving.distribution import fit_reference, served_distribution
from cryptoforecast.serving.state import ServingState

from .conftest import FakeClock

#: what a forecast's numbers are compared by (everything but when and whether it was cached)
VOLATILE = {"generated_at", "cached"}


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the features built, the ``garch_ref`` fits and the technical-analysis fits."""
    counts: Counter[str] = Counter()
    real_features = predictor_module.build_features
    real_garch = GarchRef.fit
    real_technical = TechnicalAnalysisForecaster.fit

    def features(*args: Any, **kwargs: Any) -> Any:
        counts["features"] += 1
        return real_features(*args, **kwargs)

    def garch(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["garch_ref"] += 1
        return real_garch(self, *args, **kwargs)

    def technical(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["technical"] += 1
        return real_technical(self, *args, **kwargs)

    monkeypatch.setattr(predictor_module, "build_features", features)
    monkeypatch.setattr(GarchRef, "fit", garch)
    monkeypatch.setattr(TechnicalAnalysisForecaster, "fit", technical)
    return counts


def numbers(forecast: Any) -> dict[str, Any]:
    return forecast.model_dump(exclude=VOLATILE)


def predictor(registry: Any, clock: FakeClock, **kwargs: Any) -> Predictor:
    return Predictor(registry=registry, cache_ttl=0, clock=clock, record=False, **kwargs)


def test_a_second_miss_on_the_same_candle_fits_nothing_and_equals_a_fresh_predictor(
    registry: Any, clock: FakeClock, fits: Counter[str], tmp_path: Path
) -> None:
    p = predictor(registry, clock, state=ServingState(directory=tmp_path))
    first = p.predict("bitcoin", 7)
    assert first.source == "technical_analysis_fallback"
    assert first.distribution_source is not None
    assert first.distribution_source.startswith("garch_ref (fallback")
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}

    fits.clear()
    again = p.predict("bitcoin", 7)  # cache_ttl=0: a forecast-cache miss
    assert again.cached is False
    assert fits == {}
    assert numbers(again) == numbers(first)

    # another horizon of the same candle: features and garch_ref kept, its own technical fit
    fits.clear()
    p.predict("bitcoin", 3)
    assert fits == {"technical": 1}

    # a fresh predictor with no state at all gives the same numbers
    fresh = predictor(registry, clock, state=ServingState())
    assert numbers(fresh.predict("bitcoin", 7)) == numbers(first)

    # and the served distribution is the one the pre-state code computed from the fit itself
    candles = p.candles("bitcoin")
    direct = served_distribution(
        candles, 7, first.distribution.location, reference=fit_reference(candles)
    )
    assert direct.distribution == first.distribution
    assert direct.quantiles == first.quantiles


def test_a_new_candle_computes_afresh(
    registry: Any, clock: FakeClock, fits: Counter[str], tmp_path: Path
) -> None:
    p = predictor(registry, clock, state=ServingState(directory=tmp_path), end="2025-06-01")
    old = p.predict("bitcoin", 7)
    fits.clear()
    p.end = "2025-06-02"  # one more candle
    new = p.predict("bitcoin", 7)
    assert new.as_of > old.as_of
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}
    assert new.distribution.scale != old.distribution.scale
    assert new.predicted_return != old.predicted_return


def test_a_revised_candle_is_not_served_from_the_state_of_the_old_one(
    registry: Any, clock: FakeClock, fits: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = predictor(registry, clock, state=ServingState(), end="2025-06-01")
    before = p.predict("bitcoin", 7)
    real = Predictor.candles_as_of

    def revised(self: Predictor, crypto_id: str, as_of: Any) -> pd.DataFrame:
        out = real(self, crypto_id, as_of).copy()
        out.iloc[-1, out.columns.get_loc("close")] *= 1.05  # the same time, another close
        return out

    monkeypatch.setattr(Predictor, "candles_as_of", revised)
    fits.clear()
    after = p.predict("bitcoin", 7)
    assert after.as_of == before.as_of
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}
    assert after.last_close != before.last_close


def test_a_backdated_forecast_never_reads_state_computed_from_later_candles(
    registry: Any, clock: FakeClock, fits: Counter[str], tmp_path: Path
) -> None:
    origin = "2025-03-01"
    clean = predictor(registry, clock, state=ServingState()).predict("bitcoin", 7, as_of=origin)

    # state first computed from later candles (the live one, kept in memory and on disk) ...
    p = predictor(registry, clock, state=ServingState(directory=tmp_path))
    p.predict("bitcoin", 7)
    assert list(tmp_path.rglob("*.json"))
    fits.clear()
    # ... is not what the back-dated forecast reads: it computes its own
    back = p.predict("bitcoin", 7, as_of=origin)
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}
    assert numbers(back) == numbers(clean)

    # a restarted process reading that disk state computes the back-dated one afresh too
    fits.clear()
    restarted = predictor(registry, clock, state=ServingState(directory=tmp_path))
    assert numbers(restarted.predict("bitcoin", 7, as_of=origin)) == numbers(clean)
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}


def test_changing_every_candle_after_the_origin_leaves_the_origin_unchanged(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = pd.Timestamp("2025-03-01", tz="UTC")
    state = ServingState()
    p = predictor(registry, clock, state=state)
    first = p.predict("bitcoin", 7, as_of="2025-03-01")
    later = p.predict("bitcoin", 7)  # state from every candle, kept beside
    real = predictor_module.load_ohlcv

    def shocked(*args: Any, **kwargs: Any) -> pd.DataFrame:
        out = real(*args, **kwargs).copy()
        after = out.index > origin
        out.loc[after, ["open", "high", "low", "close"]] *= 3.0
        return out

    monkeypatch.setattr(predictor_module, "load_ohlcv", shocked)
    assert numbers(p.predict("bitcoin", 7, as_of="2025-03-01")) == numbers(first)
    assert numbers(p.predict("bitcoin", 7)) != numbers(later)


def test_a_restarted_predictor_reuses_the_state_on_disk(
    registry: Any, clock: FakeClock, fits: Counter[str], tmp_path: Path
) -> None:
    first = predictor(registry, clock, state=ServingState(directory=tmp_path)).predict("bitcoin", 7)
    fits.clear()
    restarted = predictor(registry, clock, state=ServingState(directory=tmp_path))
    again = restarted.predict("bitcoin", 7)
    assert fits == {"features": 1}  # the features are not stored; nothing is fitted
    assert numbers(again) == numbers(first)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "not json",
        lambda text: text.replace('"point":', '"point": 1e999, "x":', 1),  # not finite
        lambda text: text.replace('"scale":', '"scale": -', 1),  # fails validation
    ],
    ids=["truncated", "not-json", "infinite", "invalid"],
)
def test_a_corrupt_state_file_is_recomputed_not_served(
    registry: Any, clock: FakeClock, fits: Counter[str], tmp_path: Path, corrupt: Any
) -> None:
    first = predictor(registry, clock, state=ServingState(directory=tmp_path)).predict("bitcoin", 7)
    (path,) = tmp_path.rglob("*.json")
    path.write_text(corrupt(path.read_text()))
    fits.clear()
    again = predictor(registry, clock, state=ServingState(directory=tmp_path)).predict("bitcoin", 7)
    assert fits == {"features": 1, "garch_ref": 1, "technical": 1}
    assert numbers(again) == numbers(first)


def test_a_state_file_from_other_candles_is_ignored(
    registry: Any, clock: FakeClock, tmp_path: Path
) -> None:
    """The file is keyed by a digest of the candles: one from other candles is not served."""
    p = predictor(registry, clock, state=ServingState(directory=tmp_path), end="2025-06-01")
    p.predict("bitcoin", 7)
    assert not list(tmp_path.rglob("*.json"))  # a forecast "as of" a past time is not kept
    p.state.save(("snapshot", "bitcoin", "1d"), p.candle_state("bitcoin", p.candles("bitcoin")))
    (path,) = tmp_path.rglob("*.json")
    stale = path.read_text()
    p.end = "2025-06-02"
    want = p.predict("bitcoin", 7)
    path.write_text(stale)  # the state of the day before, as a crash might leave it
    restarted = predictor(registry, clock, state=ServingState(directory=tmp_path), end="2025-06-02")
    assert numbers(restarted.predict("bitcoin", 7)) == numbers(want)


def test_memory_is_bounded(registry: Any, clock: FakeClock) -> None:
    state = ServingState(size=2)
    p = predictor(registry, clock, state=state)
    for day in ("2025-06-01", "2025-06-02", "2025-06-03"):
        p.predict("bitcoin", 1, as_of=day)
    assert len(state) == 2


def test_stored_distribution_versions_are_evaluated_without_refits(
    registry: Any, clock: FakeClock, fits: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A production distribution version is read, never fitted, when serving."""
    from cryptoforecast.models.distribution import DistributionForecaster, MarketData

    from .test_production_distribution import H, register_distribution

    dist = DistributionForecaster("ewma_t", horizon=H).fit(MarketData(load_ohlcv("bitcoin")))
    register_distribution(registry, dist)
    refits: Counter[str] = Counter()
    real = DistributionForecaster.fit

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        refits["distribution"] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DistributionForecaster, "fit", fit)
    p = predictor(registry, clock, state=ServingState())
    first = p.predict("bitcoin", H)
    assert first.distribution_model_id is not None
    assert refits == {}
    fits.clear()
    assert numbers(p.predict("bitcoin", H)) == numbers(first)
    assert refits == {} and fits == {}


def test_candles_loaded_for_the_state_match_what_was_served() -> None:
    """(The digest reads every value: equal candles, equal digests; one change, another.)"""
    from cryptoforecast.serving.state import candle_digest

    candles = load_ohlcv("bitcoin", days=100)
    same = candles.copy()
    assert candle_digest(candles, 50) == candle_digest(same, 50)
    same.iloc[3, 0] += 1e-9
    assert candle_digest(candles, 50) != candle_digest(same, 50)
    assert candle_digest(candles, 50) != candle_digest(candles, 49)


def test_an_unreadable_state_directory_still_serves(
    registry: Any, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = predictor(registry, clock, state=ServingState()).predict("bitcoin", 7)

    def refused(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", refused)
    monkeypatch.setattr(Path, "mkdir", refused)
    got = predictor(registry, clock, state=ServingState(directory=tmp_path)).predict("bitcoin", 7)
    assert numbers(got) == numbers(want)


def test_a_production_model_s_forecast_is_computed_once_per_candle(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a production model, a miss on a seen candle neither runs the model's ``predict`` nor
    reads the distribution off again, and gives the numbers of the first computation; a new
    model (another id) is asked afresh."""
    from cryptoforecast.models.base import BaseForecaster
    from cryptoforecast.serving import response as response_module

    from .conftest import fit_model, register

    first_model = register(
        registry, fit_model("bitcoin", "lightgbm", 7, n_estimators=20), "bitcoin"
    )
    calls: Counter[str] = Counter()
    real_predict = BaseForecaster.predict
    real_served = response_module.served_distribution

    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["predict"] += 1
        return real_predict(self, *args, **kwargs)

    def served(*args: Any, **kwargs: Any) -> Any:
        calls["served_distribution"] += 1
        return real_served(*args, **kwargs)

    monkeypatch.setattr(BaseForecaster, "predict", predict)
    monkeypatch.setattr(response_module, "served_distribution", served)
    p = predictor(registry, clock, state=ServingState(), end="2025-06-01")
    first = p.predict("bitcoin", 7)
    assert first.source == "model" and first.model_id == first_model.model_id
    assert calls["predict"] >= 1 and calls["served_distribution"] == 1
    calls.clear()
    again = p.predict("bitcoin", 7)
    assert calls == {} and again.cached is False
    assert numbers(again) == numbers(first)
    # a fresh predictor (no state) computes the same numbers
    fresh = predictor(registry, clock, state=ServingState(), end="2025-06-01")
    assert numbers(fresh.predict("bitcoin", 7)) == numbers(first)

    # another production model on the same candle: its own forecast, not the kept one
    # (a lower validation MASE than the first: it is the one served)
    second = register(registry, fit_model("bitcoin", "drift", 7), "bitcoin", val_mase=0.5)
    calls.clear()
    other = p.predict("bitcoin", 7)
    assert other.model_id == second.model_id
    assert calls["predict"] >= 1 and calls["served_distribution"] == 1
    assert other.predicted_return != first.predicted_return
