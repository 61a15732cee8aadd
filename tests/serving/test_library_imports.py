"""Heavy libraries in a serving process: imported whole before requests, one thread at a time,
and a failed import is never taken for a verdict on a model's artifact (nor cached)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.compat import SERVING_LIBRARIES, import_optional
from cryptoforecast.serving import Predictor

from .conftest import FakeClock, Trained


def test_a_failed_import_falls_back_labelled_uncached_and_the_next_request_serves_the_model(
    registry: Any, btc_model: Trained, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_class = type(btc_model.model)
    real_load = model_class._load_native
    failures = iter([ImportError("XGBoostForecaster needs xgboost: pip install 'xgboost-cpu'")])

    def flaky_load(self: Any, path: Path, manifest: dict[str, Any]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real_load(self, path, manifest)

    monkeypatch.setattr(model_class, "_load_native", flaky_load)
    predictor = Predictor(registry=registry, clock=clock)
    first = predictor.predict("bitcoin")
    assert first.source == "technical_analysis_fallback"
    assert first.fallback_reason is not None
    assert first.fallback_reason.startswith("model library unavailable")
    assert "integrity" not in first.fallback_reason
    second = predictor.predict("bitcoin")  # same candle, same model: not answered from the cache
    assert (second.source, second.model_id, second.cached) == ("model", btc_model.model_id, False)


def test_create_app_imports_every_serving_library_before_any_request(tmp_path: Path) -> None:
    """In a fresh interpreter: after ``create_app`` (and before any request thread), every heavy
    library a request can reach is in ``sys.modules``."""
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["CRYPTOFORECAST_HOME"] = {str(tmp_path)!r}
        from cryptoforecast.serving import create_app
        libraries = {SERVING_LIBRARIES!r}
        assert not any(name in sys.modules for name in ("lightgbm", "xgboost", "torch", "arch"))
        create_app(admin_token=None, retrain=None)
        missing = [name for name in libraries if name not in sys.modules]
        print("missing:", missing)
        sys.exit(1 if missing else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_optional_never_imports_two_libraries_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three slow modules imported from three threads: with the import lock their imports never
    overlap (without it they all run at once)."""
    log = tmp_path / "log.txt"
    for name in ("slow_lib_a", "slow_lib_b", "slow_lib_c"):
        (tmp_path / f"{name}.py").write_text(
            "import time\n"
            f"with open({str(log)!r}, 'a') as f: f.write('enter\\n')\n"
            "time.sleep(0.2)\n"
            f"with open({str(log)!r}, 'a') as f: f.write('exit\\n')\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    threads = [
        threading.Thread(target=import_optional, args=(name, "a test"))
        for name in ("slow_lib_a", "slow_lib_b", "slow_lib_c")
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert time.perf_counter() - started >= 0.6
    assert log.read_text().split() == ["enter", "exit"] * 3
