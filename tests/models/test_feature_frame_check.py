"""check_feature_frame names non-numeric columns and accepts numeric (bool included) ones."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoforecast.exceptions import DataError
from cryptoforecast.models.checks import check_feature_frame


def test_non_numeric_columns_are_named() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"], "c": [True, False], "d": ["1", "2"]})
    with pytest.raises(DataError, match=r"non-numeric columns \['b', 'd'\]"):
        check_feature_frame(X)


def test_numeric_and_bool_columns_pass_unchanged() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0], "n": [1, 2], "c": [True, False]})
    assert check_feature_frame(X) is X
