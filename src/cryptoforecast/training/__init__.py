"""Training: one model for one coin (``train_model``), many at once and on schedule, the global
model, tuning, and the promotion gate.

* :mod:`~cryptoforecast.training.window` - the training window (``TrainingData``).
* :mod:`~cryptoforecast.training.fit` - model parameters, ``new_forecaster`` and the top-k
  feature-selection step.
* :mod:`~cryptoforecast.training.validation` - the walk-forward validation scored for the gate.
* :mod:`~cryptoforecast.training.gate` - the promotion gate's decision.
* :mod:`~cryptoforecast.training.registration` - save, gate record and promotion in one
  transaction.
* :mod:`~cryptoforecast.training.pipeline` - ``train_model`` (synchronous) and
  ``train_model_for_crypto`` (awaitable).
* :mod:`~cryptoforecast.training.distributions` - ``train_distributions``: the distribution
  versions of a (coin, horizon), gated against ``garch_ref``
  (:mod:`~cryptoforecast.training.distribution_gate`).
* :mod:`~cryptoforecast.training.tuning`, :mod:`~cryptoforecast.training.global_model`,
  :mod:`~cryptoforecast.training.jobs` (``train_many``, scheduled retraining).

Names are imported lazily on first use, so ``import cryptoforecast.training`` pulls in no model
library. To export a new name, add one line to ``_LAZY`` (name -> module) and to ``__all__``.
"""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = [
    "DistributionGateDecision",
    "DistributionTraining",
    "Fitted",
    "GateDecision",
    "StaleModel",
    "TopKFeatures",
    "TrainingData",
    "TrainingResult",
    "TrainingSummary",
    "ValidationMetrics",
    "fit_and_validate",
    "retrain_stale",
    "train_global_model",
    "train_distributions",
    "train_many",
    "train_model",
    "train_model_for_crypto",
    "GLOBAL_MODEL",
    "TRAINABLE_MODELS",
    "trainable_models",
    "config_record",
    "decide_distributions",
    "decide_family",
    "fit_forecaster",
    "global_summaries",
    "model_params",
    "prepare_training_data",
    "register_trained",
    "resolve_settings",
    "retrain_job",
    "stale_models",
    "summarise_model",
    "with_top_features",
]

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "DistributionGateDecision": "cryptoforecast.training.distribution_gate",
    "DistributionTraining": "cryptoforecast.training.distributions",
    "decide_distributions": "cryptoforecast.training.distribution_gate",
    "train_distributions": "cryptoforecast.training.distributions",
    "Fitted": "cryptoforecast.training.pipeline",
    "GateDecision": "cryptoforecast.training.gate",
    "StaleModel": "cryptoforecast.training.jobs",
    "TopKFeatures": "cryptoforecast.training.fit",
    "TrainingData": "cryptoforecast.training.window",
    "TrainingResult": "cryptoforecast.training.results",
    "TrainingSummary": "cryptoforecast.training.results",
    "ValidationMetrics": "cryptoforecast.training.metrics",
    "fit_and_validate": "cryptoforecast.training.pipeline",
    "retrain_stale": "cryptoforecast.training.jobs",
    "train_global_model": "cryptoforecast.training.global_model",
    "train_many": "cryptoforecast.training.jobs",
    "train_model": "cryptoforecast.training.pipeline",
    "train_model_for_crypto": "cryptoforecast.training.pipeline",
    "GLOBAL_MODEL": "cryptoforecast.training.global_model",
    "TRAINABLE_MODELS": "cryptoforecast.training.fit",
    "trainable_models": "cryptoforecast.training.fit",
    "config_record": "cryptoforecast.training.registration",
    "decide_family": "cryptoforecast.training.gate",
    "fit_forecaster": "cryptoforecast.training.fit",
    "global_summaries": "cryptoforecast.training.global_model",
    "model_params": "cryptoforecast.training.fit",
    "prepare_training_data": "cryptoforecast.training.window",
    "register_trained": "cryptoforecast.training.registration",
    "resolve_settings": "cryptoforecast.training.pipeline",
    "retrain_job": "cryptoforecast.training.jobs",
    "stale_models": "cryptoforecast.training.jobs",
    "summarise_model": "cryptoforecast.training.jobs",
    "with_top_features": "cryptoforecast.training.gate",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
