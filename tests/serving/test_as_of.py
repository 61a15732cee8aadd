"""``?as_of=`` in the API, unknown query parameters refused, upstream failures not called 404."""

from __future__ import annotations

from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import SourceError
from cryptoforecast.serving.app import create_app
from tests.serving.conftest import SyncASGIClient


@pytest.fixture
def app(registry: Any) -> Any:
    return create_app(load_config(), registry=registry, admin_token=None)


def test_as_of_forecasts_from_an_earlier_date(app: Any) -> None:
    client = SyncASGIClient(app)
    latest = client.get("/v1/forecast/bitcoin?horizon=7").json()
    earlier = client.get("/v1/forecast/bitcoin?horizon=7&as_of=2025-01-01").json()
    assert latest["as_of"].startswith("2025-09-30")
    assert earlier["as_of"].startswith("2025-01-01")
    assert earlier["last_close"] != latest["last_close"]
    batch = client.get("/v1/forecast?ids=bitcoin,ethereum&as_of=2024-06-30").json()
    assert [f["as_of"][:10] for f in batch["forecasts"]] == ["2024-06-30", "2024-06-30"]
    bad = client.get("/v1/forecast/bitcoin?as_of=yesterdayish")
    assert bad.status_code == 422
    assert "as_of='yesterdayish' is not a date" in bad.json()["detail"][0]["msg"]


def test_unknown_query_parameters_are_refused(app: Any) -> None:
    client = SyncASGIClient(app)
    answer = client.get("/v1/forecast/bitcoin?asof=2025-01-01")
    assert answer.status_code == 422
    (detail,) = answer.json()["detail"]
    assert detail["loc"] == ["query", "asof"] and detail["msg"] == (
        "unknown query parameter(s) asof; this endpoint takes horizon, model_type, as_of"
    )
    assert client.get("/v1/forecast?ids=bitcoin&horizn=7").status_code == 422


def test_an_upstream_failure_is_a_bad_gateway_not_a_404(app: Any) -> None:
    def down(*_a: Any, **_k: Any) -> Any:
        raise SourceError("Binance: name resolution failed for binance.invalid")

    app.state.predictor.candles = down
    answer = SyncASGIClient(app).get("/v1/forecast/bitcoin")
    assert answer.status_code == 502
    assert answer.json()["detail"] == "data source unavailable: SourceError"  # no upstream URL
