"""Property-based tests of the HTTP API from its own OpenAPI schema (schemathesis).

Every documented operation is called with generated path, query and body values (valid ones,
and ones the schema forbids), a bounded number of times, as an admin so the admin endpoints run
too: no answer may be a 5xx, and every answer must match the schema the app publishes.
Retraining is a recording stub here, so a generated ``POST /v1/retrain`` never trains.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)

from cryptoforecast.config import load_config  # noqa: E402
from cryptoforecast.registry import ModelRegistry  # noqa: E402
from cryptoforecast.serving import Ledger, create_app  # noqa: E402

from .conftest import FakeClock, fit_model, register  # noqa: E402

TOKEN = "schemathesis admin token"
MAX_EXAMPLES = 25
#: every operation the app documents; a new endpoint must be added here (and so gets tested)
OPERATIONS = [
    ("GET", "/v1/forecast/{crypto_id}"),
    ("GET", "/v1/forecast"),
    ("GET", "/v1/models"),
    ("GET", "/v1/admin/models"),
    ("POST", "/v1/models/{model_id}/promote"),
    ("POST", "/v1/retrain"),
    ("GET", "/v1/retrain/{job_id}"),
    ("GET", "/v1/accuracy"),
    ("GET", "/healthz"),
]
#: operations without parameters or a body have no input the schema could forbid
NO_INPUTS = {("GET", "/healthz")}
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in NO_INPUTS
]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home: Path = tmp_path_factory.mktemp("api-properties")
    registry = ModelRegistry(f"sqlite:///{home / 'registry.db'}", artifact_root=home / "artifacts")
    register(registry, fit_model("bitcoin", "drift", 1), "bitcoin")
    register(registry, fit_model("ethereum", "naive", 3), "ethereum", status="staging")
    app = create_app(
        load_config(),
        registry=registry,
        ledger=Ledger(f"sqlite:///{home / 'ledger.db'}"),
        admin_token=TOKEN,
        clock=FakeClock(),
        retrain=lambda **kwargs: sorted(kwargs),
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    registry.close()


def test_every_documented_operation_is_covered(api_schema: Any) -> None:
    documented = sorted(
        (op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()
    )
    assert documented == sorted(OPERATIONS)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_no_server_error_and_answers_match_the_schema(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
        )

    call()
