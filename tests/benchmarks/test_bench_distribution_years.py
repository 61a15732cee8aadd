"""The per-year distribution benchmark's core runs (one coin, one year, h=1, a few candidates),
so the script recorded in benchmarks/README.md cannot rot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "bench_distribution_years.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_distribution_years", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_one_coin_one_year_scores_every_candidate_beside_the_references(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    candidates = bench.parse_candidates("garch_t|blend,har_rv|conformal_window")
    labels = [c.label for c in candidates]
    assert set(bench.REFERENCES) <= set(labels) and len(labels) == 5
    scores = bench.walk_coin(
        "bitcoin",
        1,
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-12-31", tz="UTC"),
        candidates,
    )
    scores["year"] = scores["origin"].dt.year
    assert scores.groupby("candidate").size().eq(366).all()  # every origin of the leap year
    assert scores["crps"].notna().all() and scores["pit"].between(0, 1).all()
    out = bench.report(scores, [2024])
    assert out["selected"] == {"2024/1": "garch_ref|none"}  # no earlier year: the reference
    pooled = pd.DataFrame(out["pooled"]).set_index("candidate")
    assert pooled.loc["garch_ref|none", "skill_garch_ref"] == 0.0
    assert pooled["cov80"].between(0.6, 1).all() and pooled["cov95"].between(0.8, 1).all()
    assert pooled["pit_hist"].map(lambda h: abs(sum(h) - 1) < 1e-3).all()
    cy = pd.DataFrame(out["coin_years"])
    assert len(cy) == 5 and cy["nov_n"].eq(366).all()  # h=1: every origin is its own window
    printed = capsys.readouterr().out
    assert "pooled CRPS skill (%) vs garch_ref" in printed and "selected fallback" in printed


def test_eligibility_counts_returns_before_the_year(bench: ModuleType) -> None:
    from cryptoforecast.data import load_ohlcv

    solana = load_ohlcv("solana")  # first candle 2020-08-11
    assert not bench.eligible(solana, 2021) and bench.eligible(solana, 2022)
    before = solana.loc[solana.index < pd.Timestamp("2022-01-01", tz="UTC")]
    assert len(before) - 1 >= bench.MIN_RETURNS
