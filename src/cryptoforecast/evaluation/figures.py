"""Matplotlib helpers shared by the report sections: a figure, small multiples, a readable date
axis, and a figure's PNG as base64 text."""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["date_axis", "figure", "panels", "png"]


def figure(width: float = 10.0, height: float = 4.0) -> Figure:
    """A constrained-layout figure (matplotlib imported here, never at import time)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def png(fig: Figure) -> str:
    """The figure as a base64 PNG (no timestamp metadata, so reports are reproducible)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def date_axis(ax: Any) -> None:
    """Short date labels on the x axis, shown even where subplots share it (every chart says
    when: a stack of charts labelled only at the bottom leaves the others unreadable alone)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelbottom=True, labelsize=8)


def panels(count: int, height: float, ncols: int = 2) -> list[Any]:
    """``count`` axes as small multiples, ``ncols`` to a row, each ``height`` inches tall; the
    unused cells of the last row are hidden."""
    cols = 1 if count <= 1 else ncols
    rows = math.ceil(max(count, 1) / cols)
    fig = figure(10.0, height * rows + 0.4)
    grid = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in grid[count:]:
        ax.set_visible(False)
    return grid[: max(count, 1)]
