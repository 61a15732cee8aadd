"""The live guard in the service: a production model that turns bad on its scored live
forecasts is demoted (a failed gate decision: re-promotion needs force); one as good as naive
is not; the job runs in the background jobs' leader, and not at all when disabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.evaluation.guard import DETECTION_DELAY_P95, GuardParams
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.serving.live_guard import run_guard
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.service import build_background

from .conftest import Trained

N = 160
FLIP = 80
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def _ledger(registry: Any) -> tuple[Predictor, pd.DataFrame]:
    """Live forecasts of bitcoin h=1 recorded as the service records them, one per day."""
    ends = pd.date_range("2025-04-02", periods=N, freq="D", tz="UTC")
    predictor = Predictor(registry=registry, source="snapshot", record=True, cache_ttl=0)
    for end in ends:
        predictor.end = end
        predictor.predict("bitcoin", 1)
    return predictor, predictor.ledger.forecasts()


def _closes(rows: pd.DataFrame, bad_after: pd.Timestamp | None) -> Any:
    """Realised closes planted around each forecast: before ``bad_after`` the market moves twice
    the forecast's way (the model beats naive), after it twice the other way (its forecast's
    sign is wrong: it loses); ``None``: pure noise, much larger than the forecast (the model is
    as good as naive)."""
    rng = np.random.default_rng(1)
    f = np.log(rows["predicted_price"] / rows["last_close"]).to_numpy()
    noise = rng.normal(0.0, 1.0, len(rows))
    if bad_after is None:
        move = 0.03 * noise
    else:
        sign = np.where(rows["as_of"] < bad_after, 2.0, -2.0)
        move = sign * f + 0.2 * np.abs(f) * noise
    series = pd.Series(
        rows["last_close"].to_numpy() * np.exp(move), index=pd.DatetimeIndex(rows["target_time"])
    )
    return lambda crypto_id, interval, source: series


def test_a_model_that_turns_bad_is_demoted_within_the_stated_delay(
    registry: Any, btc_model: Trained
) -> None:
    predictor, rows = _ledger(registry)
    assert len(rows) == N and (rows["model_id"] == btc_model.model_id).all()
    bad_after = rows["as_of"].iloc[FLIP]
    closes = _closes(rows, bad_after)
    # a back-dated forecast is never recorded, so it never counts
    predictor.predict("bitcoin", 1, as_of="2025-01-01")
    assert len(predictor.ledger.forecasts()) == N
    (demoted,) = run_guard(predictor, GuardParams(), closes=closes, now=FAR)
    assert demoted["model_id"] == btc_model.model_id
    delay = (demoted["last_origin"] - bad_after) / timedelta(days=1) + 1  # known a day later
    assert 0 < delay <= DETECTION_DELAY_P95[1]
    assert demoted["model_mae"] > demoted["naive_mae"]
    assert registry.get(btc_model.model_id).status == "staging"
    events = registry.history(model_id=btc_model.model_id)
    assert events[-2].event == "demote" and events[-2].reason.startswith("live guard")
    assert events[-1].event == "gate" and events[-1].reason.startswith("gate failed: live guard")
    with pytest.raises(RegistryError, match="did not pass the promotion gate"):
        registry.promote(btc_model.model_id)
    assert registry.promote(btc_model.model_id, force=True).status == "production"
    # the re-promoted model starts a new track: the same evidence does not demote it again
    assert run_guard(predictor, GuardParams(), closes=closes, now=FAR) == []


def test_a_model_as_good_as_naive_is_not_demoted(registry: Any, btc_model: Trained) -> None:
    predictor, rows = _ledger(registry)
    assert run_guard(predictor, GuardParams(), closes=_closes(rows, None), now=FAR) == []
    assert registry.get(btc_model.model_id).status == "production"


def test_the_models_listing_shows_the_guard_evidence(registry: Any, btc_model: Trained) -> None:
    from cryptoforecast.serving.app import create_app

    from .conftest import SyncASGIClient

    predictor, rows = _ledger(registry)
    run_guard(predictor, GuardParams(), closes=_closes(rows, rows["as_of"].iloc[FLIP]), now=FAR)
    client = SyncASGIClient(create_app(load_config(), registry=registry, source="snapshot"))
    (model,) = client.get("/v1/models").json()["models"]
    assert model["status"] == "staging" and model["guard"].startswith("live guard: losing")


def test_the_job_runs_in_the_leader_only_and_not_when_disabled(registry: Any) -> None:
    live = Predictor(registry=registry, source="binance", record=False)
    jobs = build_background(load_config(), live)
    assert [j.name for j in jobs.jobs] == ["guard"]
    assert jobs.jobs[0].every_seconds == pytest.approx(3600.0)
    off = build_background(load_config(overrides={"guard": {"enabled": False}}), live)
    assert off.jobs == []
    # the snapshot has no refresher scoring the ledger: nothing to guard, nothing runs
    assert build_background(load_config(), Predictor(registry=registry)).empty
