"""Numbers for people: prices by magnitude, so a sub-dollar coin's error is not ``0.01``."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_price", "price_axis"]


def format_price(value: float | None, significant: int = 4) -> str:
    """A price (or a price error) with about ``significant`` digits, never in exponent form.

    ``68,421`` for bitcoin, ``2,345.7`` for ether, ``0.2143`` for a 20-cent coin, ``0.0004512``
    for an error a hundred times smaller; ``-`` when missing or not finite.
    """
    if value is None or not math.isfinite(float(value)):
        return "-"
    x = float(value)
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))  # 4 for 68,421; -1 for 0.2143
    decimals = max(0, significant - 1 - magnitude)
    return f"{x:,.{decimals}f}"


def price_axis(ax: Any) -> None:
    """Plain price labels on a log axis (``60,000``, ``0.25``), not ``6x10^4``.

    A log axis puts its major ticks at powers of ten only, so a price that moved within one
    decade (80 to 130) would show one label or none: the minor ticks then carry labels too, all
    of them within a factor of three, those at 1, 2 and 5 times a power of ten within a decade.
    """
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _pos: Any) -> str:
        low, high = ax.get_ylim()
        if value <= 0 or low <= 0 or high / low >= 10:
            return ""
        leading = round(value / 10 ** math.floor(math.log10(value) + 1e-9))
        return format_price(value, 3) if high / low < 3 or leading in (1, 2, 5) else ""

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_price(v, 3)))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
