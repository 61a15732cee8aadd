"""Opening a database from a URL: malformed URLs and missing drivers get a clear RegistryError."""

from __future__ import annotations

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving.ledger import Ledger


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("notaurl", r"not a database URL; expected 'sqlite:////.*postgresql\+psycopg://"),
        ("nosuchdb://u:pw-hidden@h/d", "database kind 'nosuchdb'"),
        ("mysql://u:pw-hidden@h/d", r"driver .* is not installed .*MySQLdb"),
    ],
)
def test_bad_urls_and_missing_drivers_are_explained(url: str, expected: str) -> None:
    for opener in (lambda: ModelRegistry(url).list_models(), lambda: len(Ledger(url))):
        with pytest.raises(RegistryError, match=expected) as info:
            opener()
        assert "pw-hidden" not in str(info.value)
    assert "pw-hidden" not in repr(ModelRegistry(url))


def test_a_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] == "psycopg":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    with pytest.raises(RegistryError, match=r"cryptoforecast\[postgres\]"):
        ModelRegistry("postgresql+psycopg://u:p@127.0.0.1:1/d").list_models()


def test_config_dump_masks_the_optuna_storage_password(tmp_path: object) -> None:
    settings = load_config()
    settings = settings.model_copy(
        update={
            "training": settings.training.model_copy(
                update={"optuna_storage": "postgresql+psycopg://u:pw-hidden@db/optuna"}
            )
        }
    )
    assert "pw-hidden" not in str(settings.model_dump(mode="json"))
    assert settings.training.optuna_storage == "postgresql+psycopg://u:pw-hidden@db/optuna"


@pytest.mark.parametrize("huge", [2**63, 2**70, 1180591620717411303424])
def test_ids_and_horizons_beyond_the_database_range_are_refused(
    huge: int, tmp_path: object
) -> None:
    registry = ModelRegistry(f"sqlite:///{tmp_path}/r.db", artifact_root=f"{tmp_path}/art")
    with pytest.raises(RegistryError, match="no model with id"):
        registry.get(huge)
    with pytest.raises(RegistryError, match="no model with id"):
        registry.promote(huge)
    with pytest.raises(RegistryError, match="horizon must be a positive integer"):
        registry.list_models(horizon=huge)
    assert registry.history(model_id=huge) == []
    assert registry.list_models() == []
