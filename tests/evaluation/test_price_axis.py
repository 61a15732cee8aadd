"""A price axis is readable whatever the price's range: within one decade it still labels
several prices, over many decades only the powers of ten."""

from __future__ import annotations

import pytest

from cryptoforecast.evaluation.formatting import price_axis


def _labels(low: float, high: float) -> list[str]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 4))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot([0, 1], [low, high])
    ax.set_yscale("log")
    price_axis(ax)
    fig.canvas.draw()
    ticks = ax.yaxis.get_majorticklabels() + ax.yaxis.get_minorticklabels()
    lo, hi = ax.get_ylim()
    return [t.get_text() for t in ticks if t.get_text() and lo <= t.get_position()[1] <= hi]


@pytest.mark.parametrize(("low", "high"), [(80.0, 130.0), (0.21, 0.29), (20_000.0, 110_000.0)])
def test_a_price_within_a_decade_gets_several_labels(low: float, high: float) -> None:
    labels = _labels(low, high)
    assert len(labels) >= 2, labels
    assert not any("e" in t or "^" in t for t in labels), labels


def test_a_price_over_many_decades_labels_the_powers_of_ten_only() -> None:
    labels = _labels(0.5, 60_000.0)
    values = [float(t.replace(",", "")) for t in labels]
    assert {1.0, 10.0, 100.0, 1_000.0, 10_000.0} <= set(values), labels
    assert all(v in {0.1, 1.0, 10.0, 100.0, 1_000.0, 10_000.0, 100_000.0} for v in values), labels
