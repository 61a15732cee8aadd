"""The two kinds of registered version: a point model and a predictive distribution.

A point model's ``model_type`` is a name of the model catalogue (``lightgbm``, ``naive``, ...).
A distribution version is registered under the one ``model_type`` :data:`DISTRIBUTION`, so a
(coin, horizon) has at most one production distribution whichever scale model it is; the scale
model (``garch_t``, ``har_rv``, a combination, ...) is named in its config.
"""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "KINDS", "kind_of"]

#: the model_type every distribution version is registered under
DISTRIBUTION = "distribution"
#: the kinds of registered version
KINDS: tuple[str, ...] = ("point", "distribution")


def kind_of(model_type: str) -> str:
    """``"distribution"`` for a distribution version's model_type, else ``"point"``."""
    return "distribution" if model_type == DISTRIBUTION else "point"
