"""The `cryptoforecast registry` commands, against the default registry of a temporary home."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cryptoforecast.cli import main
from cryptoforecast.registry import model_registry
from tests.registry.registry_helpers import write_artifact


@pytest.fixture
def two_models(cf_home):
    root = model_registry.artifact_root
    a = model_registry.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(root, "a"),
        metrics={"val_mase": 0.98, "naive_val_mase": 1.0},
        config={},
        status="production",
        force=True,
    )
    b = model_registry.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(root, "b"),
        metrics={"val_mase": 0.95, "naive_val_mase": 1.0},
        config={},
    )
    model_registry.record_gate_decision(b, passed=True, reason="val MASE 0.95 < 1")
    return a, b


def test_list_show_promote_rollback_history(two_models, capsys):
    a, b = two_models
    assert main(["registry", "list"]) == 0
    out = capsys.readouterr().out
    assert "production" in out and "staging" in out and "0.950" in out

    assert main(["registry", "show", str(b), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["model_id"] == b and shown["metrics"]["naive_val_mase"] == 1.0

    assert main(["registry", "promote", str(b), "--reason", "beats naive"]) == 0
    assert "is now production" in capsys.readouterr().out
    assert model_registry.get_production_model("bitcoin", "lightgbm").model_id == b

    rollback = ["registry", "rollback", "bitcoin", "--model", "lightgbm", "--horizon", "1"]
    assert main([*rollback, "--force"]) == 0  # a was registered as production by hand
    assert model_registry.get_production_model("bitcoin", "lightgbm").model_id == a

    assert main(["registry", "history", "BTC"]) == 0
    out = capsys.readouterr().out
    assert "beats naive" in out and "rollback" in out and "supersede" in out

    assert main(["registry", "list", "--status", "archived"]) == 0
    out = capsys.readouterr().out
    assert "archived" in out and "production" not in out


def test_errors_are_one_line_and_exit_1(two_models, capsys):
    assert main(["registry", "show", "999"]) == 1
    assert "no model with id 999" in capsys.readouterr().err
    assert main(["registry", "rollback", "bitcoin", "--model", "xgboost"]) == 1
    assert "no earlier production model" in capsys.readouterr().err
    assert main(["registry", "rollback", "bitcoin"]) == 2  # --model is required


def test_importing_the_registry_touches_no_database(tmp_path):
    code = (
        "import os, sys\n"
        f"os.environ['CRYPTOFORECAST_HOME'] = {str(tmp_path)!r}\n"
        "import cryptoforecast.registry as r\n"
        "from cryptoforecast.registry import model_registry\n"
        "assert 'pandas' not in sys.modules, 'heavy import at import time'\n"
        "import cryptoforecast.cli\n"
        "assert not os.path.exists(os.path.join(sys.argv[1], 'registry.db'))\n"
        "model_registry.list_models()\n"
        "assert os.path.exists(os.path.join(sys.argv[1], 'registry.db'))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)


def test_default_registry_follows_the_environment(tmp_path, monkeypatch):
    from cryptoforecast.registry import default_registry

    monkeypatch.setenv("CRYPTOFORECAST_HOME", str(tmp_path / "one"))
    first = default_registry()
    assert default_registry() is first
    assert model_registry.url == first.url
    monkeypatch.setenv("CRYPTOFORECAST_HOME", str(tmp_path / "two"))
    assert "two" in default_registry().url and default_registry() is not first


def test_public_api():
    import cryptoforecast.registry as pkg

    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    assert {"ModelRegistry", "ModelRecord", "model_registry", "compute_lineage"} <= set(pkg.__all__)


def test_promote_of_a_model_that_failed_the_gate_needs_force_and_is_recorded(two_models, capsys):
    a, b = two_models
    model_registry.record_gate_decision(b, passed=False, reason="val MASE 1.03 >= 1")
    assert main(["registry", "promote", str(b)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "did not pass the promotion gate" in err and "--force" in err
    assert model_registry.get_production_model("bitcoin", "lightgbm").model_id == a

    assert main(["registry", "promote", str(b), "--force", "--reason", "trial"]) == 0
    assert model_registry.get_production_model("bitcoin", "lightgbm").model_id == b
    last = model_registry.history("bitcoin")[-1]
    assert last.event == "promote" and last.model_id == b
    assert "forced past the promotion gate" in last.reason and "val MASE 1.03" in last.reason


def test_demote_empties_the_slot_and_rollback_checks_the_key(two_models, capsys):
    a, b = two_models
    assert main(["registry", "promote", str(b)]) == 0
    assert main(["registry", "demote", str(a)]) == 1  # archived now, not production
    assert "not production" in capsys.readouterr().err
    assert main(["registry", "demote", str(b), "--reason", "bad week"]) == 0
    assert "back in staging" in capsys.readouterr().out
    assert model_registry.get_production_model("bitcoin", "lightgbm") is None
    assert model_registry.get(b).status == "staging"
    assert model_registry.history("bitcoin")[-1].event == "demote"
    # the model before b is the rollback target; the demoted one is not
    assert main(["registry", "rollback", "bitcoin", "-m", "lightgbm", "--force"]) == 0
    assert model_registry.get_production_model("bitcoin", "lightgbm").model_id == a

    assert main(["registry", "rollback", "bitcion", "--model", "lgbm"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no model was ever registered for bitcion lgbm h=1" in err
    assert "did you mean bitcoin lightgbm h=1" in err


def test_registry_list_json(two_models, capsys):
    a, b = two_models
    assert main(["registry", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["model_id"] for r in rows) == sorted([a, b])
    assert {r["status"] for r in rows} == {"production", "staging"}
