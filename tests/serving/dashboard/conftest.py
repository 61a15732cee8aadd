"""Fixtures of the dashboard tests: a registry with production, archived and gate-refused models,
a ledger of scored forecasts, and the service on a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ..conftest import fit_model, running_server

#: forecasts in the test ledger are issued from these closes (all scored by the snapshot)
LEDGER_START, LEDGER_END = "2025-05-01", "2025-08-31"

VALIDATION = {
    "mase": 0.97,
    "mae": 1510.5,
    "naive_mae": 1557.2,
    "rmse": 2011.0,
    "naive_rmse": 2050.25,
    "mape": 1.71,
    "naive_mape": 1.76,
    "coverage_80": 0.79,
    "coverage_95": 0.94,
}


@pytest.fixture(scope="session")
def drift_eth_h7() -> Any:
    return fit_model("ethereum", "drift", 7)


def _register(registry: Any, model: Any, crypto_id: str, status: str, metrics: dict) -> int:
    path = registry.new_artifact_dir(crypto_id, model.model_type, model.horizon)
    model.save_model(path)
    return int(
        registry.register_model(
            model_type=model.model_type,
            crypto_id=crypto_id,
            horizon=model.horizon,
            model_path=path,
            metrics=metrics,
            config={},
            status=status,
            force=status == "production",  # registered by hand: no gate decision
        )
    )


@pytest.fixture
def filled_registry(registry: Any, drift_btc: Any, drift_eth_h7: Any) -> dict[str, int]:
    """bitcoin drift h=1: version 1.0.0 archived by 1.1.0 in production (gate passed);
    ethereum drift h=7: one model refused by the gate (staging)."""
    old = _register(registry, drift_btc, "bitcoin", "production", {**VALIDATION, "mase": 0.99})
    new = _register(registry, drift_btc, "bitcoin", "staging", VALIDATION)
    registry.record_gate_decision(
        new, True, "validation MASE 0.9700 < 1, DM direction favours the model"
    )
    registry.promote(new, reason="passed the promotion gate")
    refused = _register(registry, drift_eth_h7, "ethereum", "staging", {**VALIDATION, "mase": 1.04})
    registry.record_gate_decision(
        refused, False, "validation MASE 1.0400 is not below 1 (naive = 1)"
    )
    return {"archived": old, "production": new, "refused": refused}


def fill_ledger(ledger: Any, keys: list[tuple[str, str, int, int | None, float]]) -> int:
    """Append one forecast per daily origin for each (crypto_id, model_type, horizon, model_id,
    pull) key: ``predicted = last + (pull + wobble) * (actual - last)``, a wobble of +-0.4 that
    moves the rolling MASE (pull > 0 beats naive, a negative pull is worse than naive), with
    80%/95% bands of +-3%/+-6%."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.serving.schemas import Forecast

    count = 0
    for crypto_id, model_type, h, model_id, pull in keys:
        close = load_ohlcv(crypto_id)["close"]
        for i, origin in enumerate(close.loc[LEDGER_START:LEDGER_END].index):
            last = float(close.loc[origin])
            actual = float(close.iloc[close.index.get_loc(origin) + h])
            price = last + (pull + 0.4 * np.sin(i / 9)) * (actual - last)
            ledger.record(
                Forecast(
                    crypto_id=crypto_id,
                    horizon=h,
                    as_of=origin.to_pydatetime(),
                    target_time=(origin + h * (close.index[1] - close.index[0])).to_pydatetime(),
                    last_close=last,
                    predicted_price=price,
                    predicted_return=float(np.log(price / last)),
                    direction="up" if price > last else "down",
                    intervals={
                        0.8: (price * 0.97, price * 1.03),
                        0.95: (price * 0.94, price * 1.06),
                    },
                    model_type=model_type,
                    model_id=model_id,
                    model_version="1.1.0" if model_id else None,
                    source="model" if model_id else "technical_analysis_fallback",
                    fallback_reason=None if model_id else "no production model",
                    generated_at=datetime.now(UTC),
                ),
                "snapshot",
            )
            count += 1
    return count


@pytest.fixture
def filled_ledger(cf_home: Path, filled_registry: dict[str, int]) -> Any:
    from cryptoforecast.serving.ledger import Ledger

    ledger = Ledger(f"sqlite:///{cf_home / 'ledger.db'}")
    fill_ledger(
        ledger,
        [
            ("bitcoin", "drift", 1, filled_registry["production"], 0.5),
            ("bitcoin", "technical", 7, None, -0.3),
            ("ethereum", "technical", 1, None, -0.2),
        ],
    )
    yield ledger
    ledger.dispose()


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    """One backtest report the models page should link to."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "bitcoin-drift-h1.html").write_text(
        "<!doctype html><title>bitcoin report</title><h1>bitcoin, h=1</h1>", encoding="utf-8"
    )
    return folder


@pytest.fixture
def dashboard_app(
    registry: Any, filled_ledger: Any, reports_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    from cryptoforecast.config import load_config
    from cryptoforecast.serving import create_app

    monkeypatch.setenv("CRYPTOFORECAST_REPORTS_DIR", str(reports_dir))
    return create_app(load_config(), registry=registry, ledger=filled_ledger)


@pytest.fixture
def server(dashboard_app: Any) -> Iterator[str]:
    with running_server(dashboard_app) as url:
        yield url
