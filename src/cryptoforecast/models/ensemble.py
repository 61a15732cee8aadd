"""Stacked ensemble: base forecasters combined by a meta-learner that sees only out-of-fold
forecasts.

Fitting, on the training rows ``X``/``y`` (time-ordered):

1. **Inner expanding-window split.** The rows are cut into ``inner_folds + 1`` blocks; for each
   of the last ``inner_folds`` blocks every base model is fitted on the rows before it, minus a
   purge gap of ``horizon`` rows (so no training label reaches into the block), and predicts the
   block. Windowed models (the LSTM) read their ``lookback`` context from earlier *feature* rows,
   so they forecast every row of the block too. This gives out-of-fold (OOF) forecasts: each one
   was made by a model that never saw that row's target.
2. **Meta-learner**, fitted on the OOF forecasts only (rows where every base forecast, aligned on
   their common index):

   * ``"ridge"``: non-negative weights plus an intercept (non-negative least squares on centred
     data with a small ridge penalty), so a base that only looks good in sample gets no weight;
   * ``"lgbm"``: a small LightGBM on the OOF forecasts plus regime features from ``X`` (recent
     volatility columns such as ``vol_30``, ``natr_14``);
   * ``"mean"``: equal weights, no learning (a reference).
3. **Intervals.** Conformal, from the ensemble's own OOF residuals: for inner folds 2..k the
   meta-learner is refitted on the OOF rows of earlier folds only (purged by ``horizon``) and
   scored on the fold, so the residuals are out of sample for the meta-learner too.
4. Each base model is refitted on all training rows.

Saved as a directory of the bases' own artifacts plus the meta-learner (no pickle); the layout
is described in :mod:`cryptoforecast.models.ensemble_artifact`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import check_is_fitted
from cryptoforecast.models.ensemble_artifact import StackParts, load_stack, save_stack
from cryptoforecast.models.factory import BASE_CLASSES, build, class_for, params_for
from cryptoforecast.models.stacking import inner_folds, nonneg_ridge, oof_summary, train_meta_lgbm

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster

__all__ = ["META_LEARNERS", "REGIME_PREFIXES", "EnsembleForecaster"]

META_LEARNERS = ("ridge", "lgbm", "mean")
#: columns of X given to the ``lgbm`` meta-learner as regime features (recent volatility)
REGIME_PREFIXES = ("vol_", "natr_", "atr_ratio_", "parkinson_", "garman_klass_")
DEFAULT_BASES = ("lightgbm", "lstm")
#: fewest rows the first inner fold may train on
MIN_INNER_TRAIN = 30


class EnsembleForecaster(BaseForecaster):
    """Base forecasters stacked by a meta-learner fitted on their out-of-fold forecasts.

    Args:
        base_models: names (resolved with ``make_forecaster``) or unfitted ``Forecaster``
            instances; default ``["lightgbm", "lstm"]``. Names must be distinct.
        meta: ``"ridge"`` (non-negative weights + intercept), ``"lgbm"`` or ``"mean"``.
        inner_folds: number of expanding-window inner folds producing the OOF forecasts.
        horizon: forecast horizon in candles; also the purge gap of the inner split.
        random_state: seed passed to every base (unless ``base_params`` sets one) and the meta.
        base_params: ``{name: {param: value}}`` for bases given by name.
    """

    model_type: ClassVar[str] = "ensemble"
    tunable: ClassVar[bool] = True
    uses_validation_tail: ClassVar[bool] = False

    def __init__(
        self,
        base_models: list[str | Forecaster] | None = None,
        meta: str = "ridge",
        inner_folds: int = 5,
        horizon: int = 1,
        random_state: int = 42,
        base_params: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.base_models = base_models
        self.meta = meta
        self.inner_folds = inner_folds
        self.base_params = base_params

    # -- parameters -----------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, JSON-friendly: instances appear by ``model_type``, their
        hyperparameters under ``base_params`` (so ``type(m)(**m.get_params())`` clones)."""
        params = super().get_params()
        if self.base_models is not None:
            merged = {k: dict(v) for k, v in (self.base_params or {}).items()}
            names = []
            for spec in self.base_models:
                if isinstance(spec, str):
                    names.append(spec)
                    continue
                names.append(str(spec.model_type))
                if hasattr(spec, "get_params"):
                    merged[str(spec.model_type)] = {
                        k: v for k, v in spec.get_params().items() if k != "horizon"
                    }
            params["base_models"] = names
            params["base_params"] = merged or None
        return params

    def _specs(self) -> list[tuple[str, Any]]:
        specs = list(self.base_models) if self.base_models is not None else list(DEFAULT_BASES)
        if not specs:
            raise ConfigError(
                "EnsembleForecaster needs at least one base model, got base_models=[]"
            )
        out: list[tuple[str, Any]] = []
        for spec in specs:
            name = spec if isinstance(spec, str) else getattr(spec, "model_type", None)
            if not isinstance(name, str):
                raise ConfigError(
                    f"base_models entries must be model names or Forecaster instances, got {spec!r}"
                )
            if name == "ensemble":
                raise ConfigError("an ensemble cannot hold another ensemble as a base model")
            out.append((name, spec))
        names = [n for n, _ in out]
        if len(set(names)) != len(names):
            raise ConfigError(f"base model names must be distinct, got {names}; drop the duplicate")
        return out

    def _fresh(self, name: str, spec: Any) -> Forecaster:
        """An unfitted copy of a base model (a new one for every fit)."""
        if not isinstance(spec, str):
            if int(getattr(spec, "horizon", self.horizon)) != int(self.horizon):
                raise ConfigError(
                    f"base model {name!r} has horizon {spec.horizon}, the ensemble {self.horizon}; "
                    "give every base the ensemble's horizon"
                )
            if hasattr(spec, "get_params"):
                clone: Forecaster = type(spec)(**spec.get_params())
                return clone
            return copy.deepcopy(spec)  # type: ignore[no-any-return]
        params = params_for(
            class_for(BASE_CLASSES, name),
            (self.base_params or {}).get(name, {}),
            random_state=self.random_state,
            strict=True,
        )
        return build(BASE_CLASSES, name, self.horizon, **params)

    @property
    def lookback(self) -> int:
        """Rows of context the ensemble needs: the longest of its bases' lookbacks."""
        bases = getattr(self, "bases_", None)
        if bases is None:
            bases = {
                n: (s if not isinstance(s, str) else self._fresh(n, s)) for n, s in self._specs()
            }
        return max([int(getattr(b, "lookback", 1) or 1) for b in bases.values()] + [1])

    # -- fit ------------------------------------------------------------------------------
    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        if X_val is not None and y_val is not None:  # later rows are more training rows here
            X, y = pd.concat([X, X_val]), pd.concat([y, y_val])
        if self.meta not in META_LEARNERS:
            raise ConfigError(f"meta must be one of {', '.join(META_LEARNERS)}, got {self.meta!r}")
        k = self.inner_folds
        if isinstance(k, bool) or not isinstance(k, int) or k < 2:
            raise ConfigError(f"inner_folds must be a whole number >= 2, got {k!r}")
        specs = self._specs()
        h = int(self.horizon)
        if len(X) - k * (len(X) // (k + 1)) - h < MIN_INNER_TRAIN:
            need = (MIN_INNER_TRAIN + h) * (k + 1)
            raise DataError(
                f"EnsembleForecaster with inner_folds={k} and horizon={h} needs at least {need} "
                f"training rows, got {len(X)}; pass more rows or lower inner_folds"
            )
        folds = inner_folds(len(X), k, h)
        oof, fold_of = self._out_of_fold(X, y, specs, folds)
        P = oof.dropna()  # rows where every base forecast (common index)
        if len(P) < 10:
            raise DataError(
                f"only {len(P)} rows have an out-of-fold forecast from every base model; "
                "pass more rows"
            )
        y_oof = y.loc[P.index]
        regime = self._regime_columns(X)
        self.base_names_ = [n for n, _ in specs]
        self.regime_columns_ = regime
        self._fit_meta(P, y_oof, X.loc[P.index, regime])
        self._residuals, self.oof_ = self._meta_residuals(
            P, y_oof, X.loc[P.index, regime], fold_of.loc[P.index]
        )
        self.oof_summary_ = oof_summary(P, y_oof, self.oof_)
        self.bases_ = {name: self._fresh(name, spec).fit(X, y) for name, spec in specs}

    def _out_of_fold(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        specs: list[tuple[str, Any]],
        folds: list[tuple[int, int, int]],
    ) -> tuple[pd.DataFrame, pd.Series]:
        columns: dict[str, list[pd.Series]] = {name: [] for name, _ in specs}
        fold_ids = []
        for j, (train_stop, start, stop) in enumerate(folds):
            fold_ids.append(pd.Series(j, index=X.index[start:stop]))
            for name, spec in specs:
                model = self._fresh(name, spec).fit(X.iloc[:train_stop], y.iloc[:train_stop])
                context = int(getattr(model, "lookback", 1) or 1) - 1
                pred = model.predict(X.iloc[max(0, start - context) : stop])
                columns[name].append(pred.reindex(X.index[start:stop]))
        oof = pd.DataFrame({name: pd.concat(parts) for name, parts in columns.items()})
        return oof.astype("float64"), pd.concat(fold_ids)

    @staticmethod
    def _regime_columns(X: pd.DataFrame) -> list[str]:
        return [str(c) for c in X.columns if str(c).startswith(REGIME_PREFIXES)]

    def _meta_params(self) -> dict[str, Any]:
        return {
            "objective": "regression",
            "learning_rate": 0.05,
            "num_leaves": 4,
            "min_data_in_leaf": 20,
            "lambda_l2": 1.0,
            "seed": int(self.random_state),
            "num_threads": 1,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _fit_meta(self, P: pd.DataFrame, y: pd.Series, regime: pd.DataFrame) -> None:
        """Set ``weights_`` / ``intercept_`` (and ``meta_booster_`` for ``lgbm``) from OOF rows."""
        n_bases = P.shape[1]
        self.meta_booster_ = None
        if self.meta == "mean":
            self.weight_values_ = np.full(n_bases, 1.0 / n_bases)
            self.intercept_ = 0.0
        elif self.meta == "ridge":
            self.weight_values_, self.intercept_ = nonneg_ridge(P.to_numpy(), y.to_numpy())
        else:
            self.meta_booster_ = train_meta_lgbm(P, y, regime, self._meta_params())
            gain = np.asarray(
                self.meta_booster_.feature_importance(importance_type="gain"), dtype="float64"
            )
            total = gain.sum()
            self.weight_values_ = gain[:n_bases] / total if total > 0 else np.zeros(n_bases)
            self.intercept_ = 0.0

    def _combine(
        self,
        P: pd.DataFrame,
        regime: pd.DataFrame,
        booster: Any = None,
        weights: np.ndarray | None = None,
        intercept: float | None = None,
    ) -> np.ndarray:
        if self.meta == "lgbm":
            booster = booster if booster is not None else self.meta_booster_
            data = np.hstack([P.to_numpy(), regime.to_numpy(dtype="float64")])
            return np.asarray(booster.predict(data, num_threads=1), dtype="float64")
        w = self.weight_values_ if weights is None else weights
        b = self.intercept_ if intercept is None else intercept
        return P.to_numpy() @ w + b

    def _meta_residuals(
        self, P: pd.DataFrame, y: pd.Series, regime: pd.DataFrame, fold: pd.Series
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """Ensemble residuals on inner folds 2..k with the meta refitted on earlier folds only."""
        h = int(self.horizon)
        preds = []
        for j in sorted(fold.unique())[1:]:
            test = (fold == j).to_numpy()
            first = int(np.argmax(test))
            train = np.zeros(len(P), dtype=bool)
            train[: max(0, first - h)] = True
            if train.sum() < 10:
                continue
            Pt, yt, rt = P.iloc[train], y.iloc[train], regime.iloc[train]
            if self.meta == "lgbm":
                pred = self._combine(
                    P.iloc[test],
                    regime.iloc[test],
                    booster=train_meta_lgbm(Pt, yt, rt, self._meta_params()),
                )
            elif self.meta == "ridge":
                w, b = nonneg_ridge(Pt.to_numpy(), yt.to_numpy())
                pred = self._combine(P.iloc[test], regime.iloc[test], weights=w, intercept=b)
            else:
                pred = self._combine(P.iloc[test], regime.iloc[test])
            preds.append(pd.Series(pred, index=P.index[test]))
        if not preds:  # too few OOF rows to hold any out: the meta-learner's in-sample residuals
            preds = [pd.Series(self._combine(P, regime), index=P.index)]
        ens = pd.concat(preds)
        frame = P.loc[ens.index].assign(ensemble=ens, y_true=y.loc[ens.index])
        return (frame["y_true"] - frame["ensemble"]).to_numpy(), frame

    # -- predict --------------------------------------------------------------------------
    def _predict(self, X: pd.DataFrame) -> pd.Series:
        parts = {name: self.bases_[name].predict(X) for name in self.base_names_}
        P = pd.DataFrame(parts).dropna()
        if P.empty:
            raise DataError(
                f"no row of X (got {len(X)}) has a forecast from every base model; pass at least "
                f"lookback={self.lookback} rows"
            )
        out = self._combine(P, X.loc[P.index, self.regime_columns_])
        return pd.Series(out, index=P.index)

    # -- explanation ----------------------------------------------------------------------
    def weights_(self) -> pd.Series:
        """How much each base contributes: the meta weights (``ridge``/``mean``), or each base's
        share of the LightGBM meta-learner's split gain (``lgbm``; regime features take the
        rest)."""
        check_is_fitted(self)
        return pd.Series(
            self.weight_values_, index=self.base_names_, name="weight", dtype="float64"
        )

    def explain(self) -> dict[str, Any]:
        """Meta-learner, weights, intercept and the out-of-fold errors beside naive's."""
        check_is_fitted(self)
        return {
            "meta": self.meta,
            "base_models": list(self.base_names_),
            "weights": {k: float(v) for k, v in self.weights_().items()},
            "intercept": float(self.intercept_),
            "regime_columns": list(self.regime_columns_) if self.meta == "lgbm" else [],
            "inner_folds": int(self.inner_folds),
            "out_of_fold": dict(self.oof_summary_),
        }

    def feature_importance(self) -> pd.Series | None:
        """Base importances averaged with the ensemble's (absolute) weights; ``None`` if no base
        has any."""
        check_is_fitted(self)
        total = pd.Series(0.0, index=self.feature_names_)
        used = 0.0
        for name, w in self.weights_().items():
            imp = self.bases_[name].feature_importance()
            if imp is None or imp.sum() <= 0 or w <= 0:
                continue
            total = total.add(
                imp.reindex(self.feature_names_).fillna(0.0) * float(w), fill_value=0.0
            )
            used += float(w)
        if used == 0:
            return None
        return (total / total.sum()).rename("importance").sort_values(ascending=False)

    # -- persistence (the format lives in ensemble_artifact) --------------------------------
    def _save_native(self, directory: Path) -> dict[str, Any]:
        return save_stack(
            StackParts(
                base_names=list(self.base_names_),
                bases=dict(self.bases_),
                weights=np.asarray(self.weight_values_, dtype="float64"),
                intercept=float(self.intercept_),
                regime_columns=list(self.regime_columns_),
                oof_summary=dict(self.oof_summary_),
                meta_booster=self.meta_booster_,
            ),
            self.meta,
            directory,
        )

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        parts = load_stack(directory, manifest)
        self.base_names_ = parts.base_names
        self.bases_ = parts.bases
        self.weight_values_ = parts.weights
        self.intercept_ = parts.intercept
        self.regime_columns_ = parts.regime_columns
        self.oof_summary_ = parts.oof_summary
        self.meta_booster_ = parts.meta_booster
