"""Users' own forecasters: named by ``models.plugins`` (an entry point, ``module:Class`` or
``file.py:Class``), imported only then, checked, and added to the catalog."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import Settings
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import (
    MODEL_TYPES,
    Forecaster,
    load_forecaster,
    load_plugins,
    make_forecaster,
    model_types,
    plugin_for,
)
from tests.plugin_install import EXAMPLE, forget_plugins, install_cf_ridge

pytestmark = pytest.mark.usefixtures("plugins_forgotten")


def settings(*plugins: str) -> Settings:
    return Settings.model_validate({"models": {"plugins": list(plugins)}})


def frame(n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    X = pd.DataFrame(rng.normal(size=(n, 3)), index=idx, columns=["ret_log_1", "ret_log_7", "x"])
    y = pd.Series(0.3 * X["ret_log_7"] + rng.normal(scale=0.1, size=n), index=idx)
    return X, y


def test_an_entry_point_plugin_joins_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_cf_ridge(tmp_path, monkeypatch)
    assert "cf_ridge" not in model_types()
    (plugin,) = load_plugins(settings("cf_ridge"))
    assert (plugin.name, plugin.model_type, plugin.version) == ("cf_ridge", "cf_ridge", "0.1.0")
    assert model_types() == (*MODEL_TYPES, "cf_ridge") and plugin_for("cf_ridge") == plugin
    model = make_forecaster("cf_ridge", horizon=7)
    assert isinstance(model, Forecaster) and model.horizon == 7


def test_a_file_plugin_fits_saves_its_own_files_and_loads_back(tmp_path: Path) -> None:
    (plugin,) = load_plugins([EXAMPLE])
    assert (plugin.name, plugin.version) == ("ridge_momentum.py:RidgeMomentum", None)
    X, y = frame()
    model = make_forecaster("ridge_momentum", horizon=1).fit(X, y)
    path = model.save_model(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["manifest.json", "ridge.json"]
    assert "ridge.json" in (path / "manifest.json").read_text()  # hashed under the manifest
    back = load_forecaster(path)
    assert type(back) is plugin.cls
    pd.testing.assert_series_equal(back.predict(X), model.predict(X))


def test_loading_twice_imports_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_cf_ridge(tmp_path, monkeypatch)
    first = load_plugins(settings("cf_ridge"))
    module = sys.modules["cf_ridge"]
    assert load_plugins(settings("cf_ridge")) == first and sys.modules["cf_ridge"] is module


def test_nothing_is_imported_unless_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_cf_ridge(tmp_path, monkeypatch)
    assert load_plugins(Settings()) == ()
    assert "cf_ridge" not in sys.modules and "cf_ridge" not in model_types()


def test_plugins_are_imported_on_the_thread_that_loads_them_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_cf_ridge(tmp_path, monkeypatch)
    load_plugins(settings("cf_ridge"))
    assert threading.main_thread().name == sys.modules["cf_ridge"].IMPORTED_ON


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptoforecast.config import load_config

    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", f'["{EXAMPLE}"]')
    assert load_config().models.plugins == [EXAMPLE]
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", "cf_ridge, pkg.mod:Cls")  # no quoting
    assert load_config().models.plugins == ["cf_ridge", "pkg.mod:Cls"]


BAD = """
from cryptoforecast.models import BaseForecaster, NaiveForecaster

not_a_class = 3

class NoType(BaseForecaster):
    def _fit(self, X, y, X_val, y_val): pass
    def _predict(self, X): return X.iloc[:, 0]

class Clash(NoType):
    model_type = "lightgbm"

class NoFit(BaseForecaster):
    model_type = "no_fit"

class NeedsMore(NoType):
    model_type = "needs_more"
    def __init__(self, horizon=1, *, window):
        super().__init__(horizon=horizon)

class Plain:
    model_type = "plain"
    def fit(self, X, y): return self
"""


@pytest.mark.parametrize(
    ("attr", "words"),
    [
        ("not_a_class", "is a int, not a class"),
        ("NoType", "NoType.model_type is 'base'"),
        ("Clash", "model_type 'lightgbm' is a built-in model's"),
        ("NoFit", "does not implement _fit"),
        ("NeedsMore", "NeedsMore(horizon=1) failed"),
        ("Plain", "not a subclass of cryptoforecast.models.BaseForecaster"),
        ("Missing", "has no attribute 'Missing'"),
    ],
)
def test_a_bad_plugin_is_a_config_error_naming_it(tmp_path: Path, attr: str, words: str) -> None:
    file = tmp_path / "bad_models.py"
    file.write_text(BAD, encoding="utf-8")
    spec = f"{file}:{attr}"
    with pytest.raises(ConfigError) as err:
        load_plugins([spec])
    assert repr(spec) in str(err.value) and words in str(err.value)
    assert model_types() == MODEL_TYPES


def test_unknown_entry_points_and_files_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no entry point 'nope' in group 'cryptoforecast.models'"):
        load_plugins(["nope"])
    with pytest.raises(ConfigError, match="no file .* give the path of a Python file"):
        load_plugins([f"{tmp_path / 'absent.py'}:X"])
    with pytest.raises(ConfigError, match="cannot import module 'no_such_module_xyz'"):
        load_plugins(["no_such_module_xyz:X"])


def test_two_plugins_with_one_model_type_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "ridge_copy.py"
    copy.write_text(Path(EXAMPLE.rpartition(":")[0]).read_text(), encoding="utf-8")
    load_plugins([EXAMPLE])
    with pytest.raises(ConfigError, match="both declare model_type 'ridge_momentum'"):
        load_plugins([f"{copy}:RidgeMomentum"])


def test_the_setting_refuses_repeats() -> None:
    with pytest.raises(ValueError, match="distinct, non-empty"):
        settings(EXAMPLE, EXAMPLE)


def test_a_plugin_is_never_first_imported_off_the_main_thread() -> None:
    outcome: dict[str, object] = {}

    def on_a_thread(**kw: bool) -> None:
        try:
            outcome["loaded"] = load_plugins([EXAMPLE], **kw)
        except ConfigError as exc:
            outcome["error"] = str(exc)

    def run_thread(**kw: bool) -> None:
        outcome.clear()
        t = threading.Thread(target=on_a_thread, kwargs=kw, name="request-1")
        t.start()
        t.join()

    run_thread()
    assert "imported only at start-up, on the main thread (this is thread 'request-1')" in str(
        outcome["error"]
    )
    assert "ridge_momentum" not in model_types()
    (plugin,) = load_plugins([EXAMPLE])  # at start-up: the main thread
    run_thread()
    assert outcome["loaded"] == (plugin,)  # loaded already: nothing imported
    forget_plugins()
    run_thread(worker=True)  # a Dask worker process's task thread
    assert "ridge_momentum" in model_types()
