"""`cryptoforecast registry list` shows each version's kind and a distribution's scale model, and
filters on the kind with --kind."""

from __future__ import annotations

import json

import pytest

from cryptoforecast.registry import DISTRIBUTION, model_registry
from tests.cli_runner import run
from tests.registry.registry_helpers import write_artifact


@pytest.fixture
def both_kinds(cf_home):
    root = model_registry.artifact_root
    point = model_registry.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(root, "p"),
        metrics={"val_mase": 0.98},
        status="production",
        force=True,
    )
    dist = model_registry.register_model(
        model_type=DISTRIBUTION,
        crypto_id="bitcoin",
        horizon=7,
        model_path=write_artifact(root, "d"),
        config={"distribution": "har_rv"},
        status="production",
        force=True,
    )
    return point, dist


def _rows(out: str) -> dict[str, list[str]]:
    """The table's rows by model id: the cells between the box characters."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0].isdigit():
            rows[cells[0]] = cells
    return rows


def test_list_shows_the_kind_and_the_scale_model(both_kinds, capsys):
    point, dist = both_kinds
    code, out, _ = run(["registry", "list"], capsys)
    assert code == 0
    assert "kind" in out
    rows = _rows(out)
    assert rows[str(point)][1:4] == ["bitcoin", "point", "lightgbm"]
    assert rows[str(dist)][1:4] == ["bitcoin", "distribution", "distribution (har_rv)"]


@pytest.mark.parametrize("kind", ["point", "distribution"])
def test_list_filters_on_the_kind(both_kinds, capsys, kind):
    point, dist = both_kinds
    code, out, _ = run(["registry", "list", "--kind", kind], capsys)
    assert code == 0
    assert set(_rows(out)) == {str(point if kind == "point" else dist)}
    code, out, _ = run(["registry", "list", "--kind", kind, "--json"], capsys)
    assert code == 0
    assert [(r["model_id"], r["kind"]) for r in json.loads(out)] == [
        (point, "point") if kind == "point" else (dist, "distribution")
    ]


def test_a_bad_kind_is_one_line_naming_the_kinds(both_kinds, capsys):
    code, _, err = run(["registry", "list", "--kind", "scale"], capsys)
    assert code == 1
    assert "kind must be one of point, distribution" in err and "'scale'" in err


def test_show_and_promote_name_the_scale_model(both_kinds, capsys):
    _, dist = both_kinds
    code, out, _ = run(["registry", "show", str(dist)], capsys)
    assert code == 0 and "distribution (har_rv)" in out
    code, out, _ = run(["registry", "show", str(dist), "--json"], capsys)
    assert json.loads(out)["kind"] == "distribution"
    newer = model_registry.register_model(
        model_type=DISTRIBUTION,
        crypto_id="bitcoin",
        horizon=7,
        model_path=write_artifact(model_registry.artifact_root, "d2"),
        config={"distribution": "garch_t"},
    )
    model_registry.record_gate_decision(newer, passed=True, reason="beats garch_ref")
    code, out, _ = run(["registry", "promote", str(newer)], capsys)
    assert code == 0
    assert "bitcoin distribution (garch_t) h=7" in out
    assert model_registry.get(dist).status == "archived"
