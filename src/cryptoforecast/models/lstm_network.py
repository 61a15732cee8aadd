"""The LSTM's PyTorch plumbing: the network, the feature scaler, the windows and a torch
session that sets threads, seeds and determinism and restores them afterwards.

:class:`~cryptoforecast.models.lstm_model.LSTMForecaster` is the forecaster built on these;
torch is imported through ``compat.import_optional`` when a network is built or run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.stored_values import stored_numbers, stored_object

__all__ = [
    "CLIP",
    "FeatureScaler",
    "build_network",
    "default_threads",
    "import_torch",
    "machine_threads",
    "make_windows",
    "torch_session",
]

#: standardised inputs are clipped to +-CLIP so an out-of-range feature cannot blow up the network
CLIP = 10.0


def import_torch() -> Any:
    return import_optional("torch", "LSTMForecaster")


def machine_threads() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


#: hidden units per torch thread when ``num_threads`` is None (see :func:`default_threads`)
UNITS_PER_THREAD = 256


def default_threads(hidden_size: int, cores: int | None = None) -> int:
    """Torch threads for a network of ``hidden_size`` units: one per ``UNITS_PER_THREAD`` units,
    at least 1, at most the machine's cores.

    Sized to the work as well as the machine: intra-op threads only pay off on large matrices.
    Measured on 2 shared cores (bitcoin daily, 93 features, lookback 30), the configured 32-unit
    network fitted 3-10x slower on 2 threads than on 1, and 128 and 256 units gained nothing
    either; predictions are identical whatever the thread count.
    """
    cores = machine_threads() if cores is None else cores
    return max(1, min(cores, int(hidden_size) // UNITS_PER_THREAD))


@dataclass
class FeatureScaler:
    """Per-column standardisation; fitted on training rows only (a spy test checks which rows)."""

    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None

    def fit(self, X: pd.DataFrame) -> Self:
        values = X.to_numpy(dtype="float64")
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.scale_ = np.where(std > 1e-12, std, 1.0)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        if self.mean_ is None or self.scale_ is None:  # pragma: no cover - guarded by callers
            raise DataError("FeatureScaler is not fitted; call fit on the training rows first")
        z = (X.to_numpy(dtype="float64") - self.mean_) / self.scale_
        return np.clip(z, -CLIP, CLIP).astype("float32")

    def to_dict(self) -> dict[str, list[float]]:
        assert self.mean_ is not None and self.scale_ is not None
        return {"mean": [float(v) for v in self.mean_], "scale": [float(v) for v in self.scale_]}

    @classmethod
    def from_dict(
        cls, data: Any, n_features: int, where: str = "LSTM scaler", field: str = "scaler"
    ) -> FeatureScaler:
        """The scaler :meth:`to_dict` wrote: ``n_features`` finite means and scales > 0, or an
        :class:`ArtifactError` naming ``where``, the field and the value."""
        data = stored_object(data, where, field)
        mean = stored_numbers(data.get("mean"), where, f"{field}.mean", length=n_features)
        scale = stored_numbers(
            data.get("scale"), where, f"{field}.scale", length=n_features, low=0.0, low_open=True
        )
        return cls(mean_=mean, scale_=scale)


def make_windows(values: np.ndarray, lookback: int) -> np.ndarray:
    """``(n, f)`` rows -> ``(n - lookback + 1, lookback, f)`` windows, window ``i`` ending at row
    ``i + lookback - 1``."""
    view = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)  # (m, f, L)
    return np.ascontiguousarray(view.transpose(0, 2, 1))


@contextlib.contextmanager
def torch_session(threads: int, seed: int | None = None) -> Iterator[Any]:
    """Set torch's thread count (and, with ``seed``, a forked seeded RNG and deterministic
    algorithms) for the duration of the block; restore the caller's settings afterwards."""
    torch = import_torch()
    prev_threads = torch.get_num_threads()
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(threads)
    try:
        if seed is None:
            yield torch
            return
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            torch.use_deterministic_algorithms(True, warn_only=True)
            yield torch
    finally:
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
        torch.set_num_threads(prev_threads)


def build_network(n_features: int, hidden_size: int, num_layers: int, dropout: float) -> Any:
    torch = import_torch()
    nn = torch.nn

    class LSTMRegressor(nn.Module):  # type: ignore[misc, name-defined]
        """LSTM over a window, then dropout and a linear head on the last hidden state."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(
                input_size=n_features,
                hidden_size=hidden_size,
                num_layers=num_layers,
                batch_first=True,
                dropout=dropout if num_layers > 1 else 0.0,
            )
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(hidden_size, 1)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(x)
            return self.head(self.dropout(out[:, -1, :])).squeeze(-1)

    return LSTMRegressor()
