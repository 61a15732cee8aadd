"""Anonymous HTTP answers name the kind of failure only: no database host or user, no driver
message, no absolute path, no URL. The details go to the service log (redacted); the command
line, run by whoever owns the machine, still shows them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import CandleCache, load_ohlcv
from cryptoforecast.exceptions import CacheError, DataError, SourceError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import create_app
from cryptoforecast.serving.ledger import Ledger

from .conftest import FakeClock, SyncASGIClient, Trained

PASSWORD = "pa'ssQX secret"
UNREACHABLE = f"postgresql+psycopg://svc:{PASSWORD}@127.0.0.1:1/r"
#: what a driver says when it fails, and what a server's layout looks like: none of it may show
INTERNALS = (
    "svc",
    "pa'ss",
    "ssQX",
    "127.0.0.1",
    "postgresql",
    "sqlite",
    "psycopg",
    "Connection refused",
    "unable to open",
    "artifact_root",
    "sqlalche.me",
)


def _assert_no_internals(text: str, *also: str) -> None:
    for needle in (*INTERNALS, *also):
        assert needle not in text, f"{needle!r} reached an anonymous answer: {text[:400]}"


def _broken_sqlite(cf_home: Path) -> str:
    """A SQLite URL that cannot be opened: its folder's parent is a regular file."""
    (cf_home / "not-a-folder").write_text("x", encoding="utf-8")
    return f"sqlite:///{cf_home / 'not-a-folder' / 'sub' / 'r.db'}"


@pytest.fixture(params=["postgres", "sqlite"])
def down_url(request: pytest.FixtureRequest, cf_home: Path) -> str:
    return UNREACHABLE if request.param == "postgres" else _broken_sqlite(cf_home)


@pytest.fixture
def down_client(down_url: str, clock: FakeClock) -> SyncASGIClient:
    registry = ModelRegistry(down_url, max_attempts=1)
    app = create_app(
        load_config(), registry=registry, ledger=Ledger(down_url), clock=clock, retrain=None
    )
    return SyncASGIClient(app)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/v1/models", "registry unavailable: RegistryUnavailable"),
        ("/v1/accuracy", "ledger unavailable: LedgerError"),
        ("/models", "registry unavailable: RegistryUnavailable"),
        ("/accuracy", "ledger unavailable: LedgerError"),
    ],
)
def test_a_database_that_is_down_is_a_503_naming_only_the_kind(
    down_client: SyncASGIClient, cf_home: Path, path: str, detail: str
) -> None:
    r = down_client.get(path)
    assert r.status_code == 503
    assert r.json() == {"detail": detail}
    _assert_no_internals(r.text, str(cf_home))


def test_an_admin_promote_on_a_database_that_is_down_is_a_503_not_a_404(
    down_url: str, clock: FakeClock, cf_home: Path
) -> None:
    """A model that may well exist is not "not found" because the database is down."""
    registry = ModelRegistry(down_url, max_attempts=1)
    app = create_app(
        load_config(),
        registry=registry,
        ledger=Ledger(down_url),
        clock=clock,
        retrain=None,
        admin_token="t0ken-admin",
    )
    r = SyncASGIClient(app).post(
        "/v1/models/1/promote", headers={"Authorization": "Bearer t0ken-admin"}
    )
    assert r.status_code == 503
    assert r.json() == {"detail": "registry unavailable: RegistryUnavailable"}
    _assert_no_internals(r.text, str(cf_home))


def test_the_overview_page_names_what_is_down_and_nothing_more(
    down_client: SyncASGIClient, cf_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        r = down_client.get("/")
    assert r.status_code == 200
    assert "unavailable" in r.text
    _assert_no_internals(r.text, str(cf_home))
    # the operator still finds the reason in the log, without the password
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "the registry failed: registry schema creation failed" in logged or (
        "the registry failed: cannot create the folder" in logged
    )
    assert "ssQX" not in logged


def test_the_log_keeps_the_details_of_a_503(
    down_url: str, down_client: SyncASGIClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cryptoforecast.serving.app"):
        assert down_client.get("/v1/models").status_code == 503
    (record,) = [r for r in caplog.records if "/v1/models" in r.getMessage()]
    message = record.getMessage()
    assert "503" in message and "registry" in message
    assert "ssQX" not in message and "svc:" not in message


def test_a_ledger_that_breaks_after_opening_is_a_503_not_a_500(
    registry: Any, clock: FakeClock, cf_home: Path
) -> None:
    ledger = Ledger(f"sqlite:///{cf_home / 'ledger.db'}")
    assert len(ledger) == 0  # opened, schema created
    with ledger.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE forecasts")
    app = create_app(load_config(), registry=registry, ledger=ledger, clock=clock, retrain=None)
    r = SyncASGIClient(app).get("/v1/accuracy")
    assert r.status_code == 503
    assert r.json() == {"detail": "ledger unavailable: LedgerError"}
    ledger.dispose()


# -- a damaged cached candle file ---------------------------------------------------------------


def _damage(crypto_id: str = "bitcoin") -> Path:
    cache = CandleCache()
    cache.write(load_ohlcv(crypto_id, days=400), "binance", crypto_id, "1d")
    path = cache.path("binance", crypto_id, "1d")
    path.write_bytes(b"PAR1 this is not parquet at all")
    return path


@pytest.fixture
def binance_client(registry: Any, clock: FakeClock) -> SyncASGIClient:
    return SyncASGIClient(
        create_app(load_config(), registry=registry, clock=clock, source="binance", retrain=None)
    )


def test_a_damaged_cached_file_is_a_503_that_names_the_series_not_the_file(
    binance_client: SyncASGIClient, cf_home: Path
) -> None:
    _damage()
    for url in ("/v1/forecast/bitcoin", "/v1/forecast?ids=bitcoin"):
        r = binance_client.get(url)
        assert r.status_code == 503, (url, r.text)
        assert r.json() == {"detail": "the binance 1d candles for bitcoin are unreadable"}
        _assert_no_internals(r.text, str(cf_home), "ArrowInvalid", ".parquet")


def test_the_command_line_still_shows_the_damaged_file(cf_home: Path) -> None:
    path = _damage()
    with pytest.raises(CacheError) as info:
        load_ohlcv("bitcoin", source="binance")
    assert str(path) in str(info.value)  # the owner of the machine is told which file
    assert isinstance(info.value, DataError)  # every caller catching data errors still does
    assert info.value.public == "the binance 1d candles for bitcoin are unreadable"


def test_the_overview_card_of_a_damaged_series_shows_no_path(
    registry: Any, btc_model: Trained, clock: FakeClock, cf_home: Path
) -> None:
    _damage()
    app = create_app(load_config(), registry=registry, clock=clock, source="binance", retrain=None)
    r = SyncASGIClient(app).get("/")
    assert r.status_code == 200
    assert "the binance 1d candles for bitcoin are unreadable" in r.text
    _assert_no_internals(r.text, str(cf_home), "ArrowInvalid", ".parquet")


# -- other server-side failures -----------------------------------------------------------------


def test_an_upstream_failure_is_a_502_without_the_upstream_url(
    registry: Any, clock: FakeClock
) -> None:
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)

    def down(*_a: Any, **_k: Any) -> Any:
        raise SourceError("binance: https://user:pw@proxy.internal:8443/api/v3/klines failed")

    app.state.predictor.candles = down
    r = SyncASGIClient(app).get("/v1/forecast/bitcoin")
    assert r.status_code == 502
    assert r.json() == {"detail": "data source unavailable: SourceError"}


def test_a_forecast_nobody_can_make_is_a_503_without_the_reason_text(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, cf_home: Path
) -> None:
    def broken(*_a: Any, **_k: Any) -> Any:
        raise OSError(f"cannot map {cf_home}/weights.bin")

    monkeypatch.setattr("cryptoforecast.serving.predictor.Predictor._fallback", broken)
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)
    r = SyncASGIClient(app).get("/v1/forecast/bitcoin")
    assert r.status_code == 503
    assert r.json()["detail"] == (
        "no forecast for bitcoin h=1: no production model, and the technical-analysis "
        "fallback failed (OSError)"
    )
    _assert_no_internals(r.text, str(cf_home), "weights.bin")


def test_a_fallback_reason_names_the_kind_of_failure_only(
    registry: Any, btc_model: Trained, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_a: Any, **_k: Any) -> Any:
        raise ValueError("lightgbm: cannot read /srv/models/bitcoin/model.txt on db.internal")

    monkeypatch.setattr("cryptoforecast.models.baselines.DriftForecaster.predict", broken)
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)
    body = SyncASGIClient(app).get("/v1/forecast/bitcoin").json()
    assert body["source"] == "technical_analysis_fallback"
    assert body["fallback_reason"] == "prediction failed: ValueError"


# -- background errors, shown by the public /healthz --------------------------------------------


def test_a_refresh_error_shown_by_healthz_names_the_kind_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from cryptoforecast.serving.refresher import CandleRefresher

    def failing(*_a: Any, **_k: Any) -> Any:
        raise SourceError("binance: https://cf:hunter2@proxy.internal:8443/api/v3/klines failed")

    monkeypatch.setattr("cryptoforecast.serving.refresher.refresh_series", failing)
    with caplog.at_level(logging.WARNING):
        run = CandleRefresher("binance", tracked=lambda: ["bitcoin"]).refresh_once()
    assert run.errors == {  # the daily candles and the 4h ones kept beside them
        "bitcoin": "data source unavailable: SourceError",
        "bitcoin 4h": "data source unavailable: SourceError",
    }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "proxy.internal" in logged and "hunter2" not in logged  # the operator's details


def test_a_failed_scheduled_job_shown_by_healthz_names_the_kind_only() -> None:
    import threading

    from cryptoforecast.exceptions import RegistryUnavailable
    from cryptoforecast.serving.background import ScheduledJob

    def failing() -> None:
        raise RegistryUnavailable(
            "registry write failed on ModelRegistry(url='postgresql://db.internal')"
        )

    job = ScheduledJob("retrain", failing, every_seconds=0.001)
    stop = threading.Event()
    job.run(stop, on_done=stop.set)
    assert job.failures == 1
    assert job.status()["last_error"] == "registry unavailable: RegistryUnavailable"


def test_a_client_error_keeps_its_message_but_not_a_server_path(
    registry: Any, clock: FakeClock, cf_home: Path
) -> None:
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)

    def missing(*_a: Any, **_k: Any) -> Any:
        raise DataError(f"no 1d candles for 'bitcoin' in {cf_home}/candles/bitcoin_1d.parquet")

    app.state.predictor.candles = missing
    r = SyncASGIClient(app).get("/v1/forecast/bitcoin")
    assert r.status_code == 404
    assert r.json() == {"detail": "no 1d candles for 'bitcoin' in .../bitcoin_1d.parquet"}


def test_the_packages_own_fallback_reason_is_shown_without_paths(
    registry: Any, btc_model: Trained, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*_a: Any, **_k: Any) -> Any:
        raise DataError("features differ from /srv/models/bitcoin/manifest.json: add 'rsi_14'")

    monkeypatch.setattr("cryptoforecast.models.baselines.DriftForecaster.predict", refused)
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)
    body = SyncASGIClient(app).get("/v1/forecast/bitcoin").json()
    assert body["fallback_reason"] == (
        "prediction failed: DataError: features differ from .../manifest.json: add 'rsi_14'"
    )
