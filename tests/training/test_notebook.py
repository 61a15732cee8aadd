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
