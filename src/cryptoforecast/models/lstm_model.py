"""LSTM over windows of ``lookback`` rows of standardised features (PyTorch, CPU).

``predict`` takes the same feature frame as every other model and builds the windows itself: the
window ending at row ``t`` holds rows ``t - lookback + 1 .. t`` and predicts the ``horizon``-step
log return from ``t``. The first ``lookback - 1`` rows of a frame cannot be predicted, so
``predict`` returns ``len(X) - lookback + 1`` rows indexed by the last row of each window.

Leak-free by construction:

* the training rows are split, in time order, into a fitting part and a validation tail (the last
  ``validation_fraction`` of rows) with ``horizon`` rows purged between them, so no training label
  overlaps a validation origin; validation windows may look back into earlier *feature* rows
  (known at their origin), never at later ones;
* the feature scaler (:class:`FeatureScaler`) and the target's mean/std are fitted on the fitting
  part only;
* early stopping and the conformal residuals use the validation tail only; mini-batches of
  fitting windows are shuffled (with a seeded local generator), the tail never is.

Deterministic on CPU for a given ``random_state``: the RNG is forked and seeded, deterministic
algorithms are switched on, the DataLoader shuffles with its own ``torch.Generator``. The torch
thread count (``num_threads``, or one sized to the machine and the network, see
:func:`default_threads`) is set while fitting/predicting and restored afterwards, as are the RNG
and determinism flags, so callers are not disturbed.

Saved as a ``state_dict`` (``state_dict.pt``, loaded with ``weights_only=True``) plus
``manifest.json`` holding the scaler, target scaling, lookback and hyperparameters. No pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.artifacts import weights_file
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import check_fraction, check_whole
from cryptoforecast.models.lstm_network import (
    FeatureScaler,
    build_network,
    default_threads,
    import_torch,
    make_windows,
    torch_session,
)
from cryptoforecast.models.stored_values import (
    MAX_ABS_LOG_RETURN,
    refuse,
    stored_number,
    stored_object,
    stored_whole,
)

__all__ = ["LSTMForecaster"]

WEIGHTS_FILE = "state_dict.pt"


class LSTMForecaster(BaseForecaster):
    """LSTM regressor of the ``horizon``-step log return from ``lookback`` rows of features.

    Defaults equal the ``lstm`` section of ``configs/model_config.yaml``.

    Args:
        horizon: forecast horizon in candles (also the purge gap before the validation tail).
        lookback: rows per window; ``predict`` needs at least this many rows.
        hidden_size, num_layers, dropout: network shape.
        epochs: maximum passes over the fitting windows (early stopping usually ends sooner).
        batch_size, learning_rate, weight_decay: AdamW training.
        patience: stop after this many epochs without a better validation-tail loss.
        validation_fraction: share of the (time-ordered) training rows held out as the tail when
            ``fit`` is not given ``X_val``/``y_val``.
        random_state: seed for weights, dropout and mini-batch order.
        num_threads: torch threads while fitting/predicting; ``None`` sizes them to the machine
            and the network (:func:`default_threads`: one thread for the configured size).
    """

    model_type: ClassVar[str] = "lstm"
    tunable: ClassVar[bool] = True
    # the tail is cut inside _fit (validation windows need the feature rows before the tail)
    uses_validation_tail: ClassVar[bool] = False
    holds_out_residuals: ClassVar[bool] = True

    def __init__(
        self,
        horizon: int = 1,
        lookback: int = 30,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.1,
        epochs: int = 40,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int = 5,
        validation_fraction: float = 0.2,
        random_state: int = 42,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.lookback = lookback
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.num_threads = num_threads

    # -- checks -----------------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("lookback", "hidden_size", "num_layers", "epochs", "batch_size", "patience"):
            check_whole(self, name)
        if self.num_threads is not None:
            check_whole(self, "num_threads")
        check_fraction(self, "dropout", example=0.1)
        check_fraction(self, "validation_fraction")
        if not float(self.learning_rate) > 0:
            raise ConfigError(
                f"LSTMForecaster learning_rate must be > 0, got {self.learning_rate!r}"
            )

    def _threads(self) -> int:
        if self.num_threads is not None:
            return int(self.num_threads)
        return default_threads(int(self.hidden_size))

    def _need_rows(self, n: int, what: str) -> None:
        if n < int(self.lookback):
            raise DataError(
                f"LSTMForecaster needs at least lookback={self.lookback} rows {what}, got {n}; "
                f"pass the last {self.lookback} (or more) rows of features: each forecast reads "
                f"a window of {self.lookback} rows ending at its origin"
            )

    # -- fit ------------------------------------------------------------------------------
    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        self._check_params()
        L, h = int(self.lookback), int(self.horizon)
        if X_val is not None and y_val is not None and len(X_val) > 0:
            if X_val.index[0] <= X.index[-1]:
                raise DataError(
                    f"X_val must start after X ends (got X_val from {X_val.index[0]}, X to "
                    f"{X.index[-1]}); the validation rows must be later in time"
                )
            rows = pd.concat([X, X_val])
            targets = pd.concat([y, y_val])
            n_fit, val_start = len(X), len(X)
        else:
            rows, targets = X, y
            n = len(X)
            n_val = int(round(n * float(self.validation_fraction)))
            n_fit = n - n_val - h
            if float(self.validation_fraction) <= 0 or n_val < 10 or n_fit < max(L, 10):
                n_fit, val_start = n, n  # too short for a tail: fit on every row, no early stopping
            else:
                val_start = n - n_val
        self._need_rows(n_fit, "to fit on")
        scaler = FeatureScaler().fit(rows.iloc[:n_fit])
        z = scaler.transform(rows)
        target = targets.to_numpy(dtype="float64")
        y_mean = float(target[:n_fit].mean())
        y_std = float(target[:n_fit].std())
        y_std = y_std if y_std > 1e-12 else 1.0
        windows = make_windows(z, L)  # window i ends at row i + L - 1
        ends = np.arange(L - 1, len(rows))
        fit_mask = ends < n_fit
        val_mask = ends >= val_start
        yz = ((target - y_mean) / y_std).astype("float32")

        with torch_session(self._threads(), seed=int(self.random_state)) as torch:
            net, history, best_epoch = self._train(
                torch, windows[fit_mask], yz[ends[fit_mask]], windows[val_mask], yz[ends[val_mask]]
            )
            net.eval()
            with torch.no_grad():
                val_pred = (
                    net(torch.from_numpy(windows[val_mask])).numpy()
                    if val_mask.any()
                    else np.empty(0)
                )
        self.network_ = net
        self.scaler_ = scaler
        self.y_mean_, self.y_std_ = y_mean, y_std
        self.history_ = history
        self.best_epoch_ = best_epoch
        self._n_fit_rows = int(n_fit)
        # out-of-sample residuals on the validation origins (aligned with what predict returns for
        # them); with no tail, _make_calibrator asks for held-out ones (never in-sample ones)
        val_idx = ends[val_mask]
        self._residuals = None
        if len(val_idx) >= 2:
            pred = val_pred.astype("float64") * y_std + y_mean
            self._residuals = target[val_idx] - pred

    def _train(
        self, torch: Any, Xf: np.ndarray, yf: np.ndarray, Xv: np.ndarray, yv: np.ndarray
    ) -> tuple[Any, list[dict[str, float]], int]:
        """Mini-batch AdamW on the fitting windows; early stopping on the validation windows."""
        net = build_network(
            Xf.shape[2], int(self.hidden_size), int(self.num_layers), float(self.dropout)
        )
        opt = torch.optim.AdamW(
            net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay)
        )
        loss_fn = torch.nn.MSELoss()
        data = torch.utils.data.TensorDataset(torch.from_numpy(Xf), torch.from_numpy(yf))
        gen = torch.Generator().manual_seed(int(self.random_state))
        loader = torch.utils.data.DataLoader(
            data, batch_size=int(self.batch_size), shuffle=True, generator=gen
        )
        xv, yv_t = torch.from_numpy(Xv), torch.from_numpy(yv)
        has_val = len(Xv) > 0
        best_loss, best_state, best_epoch, stale = float("inf"), None, 0, 0
        history: list[dict[str, float]] = []
        for epoch in range(1, int(self.epochs) + 1):
            net.train()
            total, count = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(net(xb), yb)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                total += float(loss.detach()) * len(xb)
                count += len(xb)
            record = {"epoch": float(epoch), "train_loss": total / max(count, 1)}
            if has_val:
                net.eval()
                with torch.no_grad():
                    val_loss = float(loss_fn(net(xv), yv_t))
                record["val_loss"] = val_loss
                if val_loss < best_loss - 1e-7:
                    best_loss, best_epoch, stale = val_loss, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
                else:
                    stale += 1
            history.append(record)
            if has_val and stale >= int(self.patience):
                break
        if best_state is not None:
            net.load_state_dict(best_state)
        else:
            best_epoch = len(history)
        return net, history, best_epoch

    def _n_fitted(self, X_fit: pd.DataFrame) -> int:
        return self._n_fit_rows  # the rows before the tail _fit cut

    # -- predict --------------------------------------------------------------------------
    def _predict(self, X: pd.DataFrame) -> pd.Series:
        L = int(self.lookback)
        self._need_rows(len(X), "to predict")
        windows = make_windows(self.scaler_.transform(X), L)
        with torch_session(self._threads()) as torch:
            self.network_.eval()
            with torch.no_grad():
                out = self.network_(torch.from_numpy(windows)).numpy().astype("float64")
        return pd.Series(out * self.y_std_ + self.y_mean_, index=X.index[L - 1 :])

    # -- persistence ----------------------------------------------------------------------
    def _save_native(self, directory: Path) -> dict[str, Any]:
        torch = import_torch()
        torch.save(self.network_.state_dict(), directory / WEIGHTS_FILE)
        return {
            "weights": WEIGHTS_FILE,
            "lookback": int(self.lookback),
            "scaler": self.scaler_.to_dict(),
            "target_scaling": {"mean": self.y_mean_, "std": self.y_std_},
            "best_epoch": self.best_epoch_,
            "history": self.history_,
        }

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        torch = import_torch()
        file = weights_file(directory, WEIGHTS_FILE, "LSTM")
        where = directory / MANIFEST
        try:
            self._check_params()
        except ConfigError as exc:
            raise ArtifactError(
                f"{where}: the LSTM's params are out of range ({exc}); the artifact is corrupt or "
                "was written wrong. Restore it from a backup or retrain the model."
            ) from None
        extra = manifest.get("extra") or {}
        n_features = len(manifest["feature_names"])
        if "scaler" not in extra or "target_scaling" not in extra:
            raise ArtifactError(
                f"{where} lacks the LSTM scaler or target scaling (extra.scaler, "
                "extra.target_scaling); retrain the model"
            )
        scaler = FeatureScaler.from_dict(extra["scaler"], n_features, str(where), "extra.scaler")
        target = stored_object(extra["target_scaling"], where, "extra.target_scaling")
        y_mean = stored_number(
            target.get("mean"),
            where,
            "extra.target_scaling.mean",
            low=-MAX_ABS_LOG_RETURN,
            high=MAX_ABS_LOG_RETURN,
        )
        y_std = stored_number(
            target.get("std"),
            where,
            "extra.target_scaling.std",
            low=0.0,
            high=MAX_ABS_LOG_RETURN,
            low_open=True,
        )
        state = torch.load(file, map_location="cpu", weights_only=True)
        net = build_network(
            n_features, int(self.hidden_size), int(self.num_layers), float(self.dropout)
        )
        net.load_state_dict(state, strict=True)
        for name, tensor in net.state_dict().items():
            if not bool(torch.isfinite(tensor).all()):
                raise ArtifactError(
                    f"{file}: weight {name!r} holds a non-finite value; the artifact is corrupt or "
                    "was written wrong. Restore it from a backup or retrain the model."
                )
        net.eval()
        self.network_ = net
        self.scaler_ = scaler
        self.y_mean_, self.y_std_ = y_mean, y_std
        self.best_epoch_ = stored_whole(
            extra.get("best_epoch", 0), where, "extra.best_epoch", low=0
        )
        history = extra.get("history", [])
        if not isinstance(history, list):
            raise refuse(where, "extra.history", "a list of epochs", history)
        self.history_ = list(history)
