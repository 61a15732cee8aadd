"""Settings shared by the training tests that train through the real pipeline."""

from __future__ import annotations

#: small, fast settings
FAST = {
    "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 10},
    "training": {"days": 400, "validation_size": 60, "validation_retrain_every": 30},
}
#: a gate that passes anything, so the model reaches production
OPEN_GATE = {
    "max_mase": 100,
    "require_dm_direction": False,
    "max_dm_pvalue": None,
    "stability_min_wins": 0,
}
