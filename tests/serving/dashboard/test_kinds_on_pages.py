"""The dashboard tells the kinds apart: the models page shows each version's kind (a point model,
or a distribution with its scale model), and the overview says when no point model serves."""

from __future__ import annotations

import re
from typing import Any

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app
from cryptoforecast.serving.dashboard.models import models_page

from ..conftest import SyncASGIClient, Trained
from ..test_models_kinds import register_distribution


def test_the_models_page_shows_the_kind(registry: Any, btc_model: Trained) -> None:
    dist = register_distribution(registry, "har_rv", horizon=7)
    app = create_app(load_config(), registry=registry)
    page = models_page(app.state.service.predictor, [])
    assert {(c.record.model_id, c.record.kind) for c in page.cards} == {
        (btc_model.model_id, "point"),
        (dist, "distribution"),
    }
    html = SyncASGIClient(app).get("/models").text
    cards = dict(re.findall(r'data-model-id="(\d+)" data-kind="(\w+)"', html))
    assert cards == {str(btc_model.model_id): "point", str(dist): "distribution"}
    assert "distribution (har_rv) &middot; h=7" in html
    assert '<span class="kind">Distribution</span>' in html
    assert '<span class="kind">Point model</span>' in html


def test_the_overview_says_a_lone_distribution_leaves_the_point_forecasts_fallback(
    registry: Any,
) -> None:
    register_distribution(registry, "har_rv")
    text = SyncASGIClient(create_app(load_config(), registry=registry)).get("/").text
    assert "No point model is in production yet" in text
    assert "No model is in production yet" not in text
