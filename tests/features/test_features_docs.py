"""docs/features.md is generated from the catalogue and must be current; exports are listed."""

from __future__ import annotations

import cryptoforecast.features as features
from cryptoforecast.features import FEATURE_GROUPS
from cryptoforecast.features.docs import default_path, main, render_feature_docs


def test_features_doc_is_current() -> None:
    path = default_path()
    assert path.is_file(), "run: python -m cryptoforecast.features.docs"
    assert path.read_text(encoding="utf-8") == render_feature_docs(), (
        "docs/features.md is stale; run: python -m cryptoforecast.features.docs"
    )
    assert main(["--check"]) == 0


def test_doc_lists_every_feature() -> None:
    text = render_feature_docs()
    for names in FEATURE_GROUPS.values():
        for name in names:
            assert f"| `{name}` |" in text


def test_public_api_is_exported() -> None:
    expected = {
        "build_features",
        "make_target",
        "warmup_rows",
        "FEATURE_GROUPS",
        "check_lookahead",
        "log_return_to_price",
        "price_to_log_return",
        "LookaheadReport",
        "FEATURE_SETS",
        "detect_feature_set",
    }
    assert expected <= set(features.__all__)
    for name in features.__all__:
        assert hasattr(features, name), name
