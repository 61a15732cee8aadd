"""Matplotlib helpers shared by the report sections: a figure, and its PNG as base64 text."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure", "png"]


def figure(width: float = 10.0, height: float = 4.0) -> Figure:
    """A constrained-layout figure (matplotlib imported here, never at import time)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def png(fig: Figure) -> str:
    """The figure as a base64 PNG (no timestamp metadata, so reports are reproducible)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")
