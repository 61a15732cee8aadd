"""notebooks/quickstart.ipynb runs top to bottom (nbclient) with tiny settings."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"

TINY_ENV = {
    "CRYPTOFORECAST_LIGHTGBM__N_ESTIMATORS": "30",
    "CRYPTOFORECAST_LIGHTGBM__EARLY_STOPPING_ROUNDS": "10",
    "CRYPTOFORECAST_TRAINING__DAYS": "300",
    "CRYPTOFORECAST_TRAINING__VALIDATION_SIZE": "60",
    "CRYPTOFORECAST_DEMO__BACKTEST_DAYS": "60",
}


@pytest.mark.slow
def test_quickstart_notebook_executes(monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for key, value in TINY_ENV.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
    )
    errors = [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert "training window: 300 days" in outputs  # the tiny settings reached the kernel
    assert "validation MASE" in outputs and "vs naive" in outputs
    assert "gate:" in outputs and "Honesty scorecard" in outputs
    assert "95% interval" in outputs
    assert "from technical_analysis_fallback" in outputs or "from model" in outputs


def test_committed_notebook_is_executed_and_uses_the_products_forecast_path() -> None:
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None and c.outputs for c in code), "commit it executed"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    source = "\n".join(c.source for c in code)
    assert "Predictor()" in source and "math.exp" not in source  # no price computed by hand
    assert "prod.load()" not in source and "staging model" not in source  # no staging forecast
    last = "".join(o.get("text", "") for o in code[-1].outputs)
    assert "from technical_analysis_fallback" in last or "from model" in last
