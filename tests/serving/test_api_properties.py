"""Property-based tests of the HTTP API from its own OpenAPI schema (schemathesis).

Every documented operation is called with generated path, query, header and body values, in
schemathesis' examples, coverage (boundary values, missing and wrong parameters, undeclared
methods) and fuzzing phases, with valid data (positive) and data the schema forbids (negative),
once as an admin and once anonymously. Every check of schemathesis runs: no answer may be a 5xx,
every status must be documented for its operation, every body and content type must match the
schema, a request the schema allows must not be refused (422) and one it forbids must be.
Retraining is a recording stub here, so a generated ``POST /v1/retrain`` never trains.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

import jsonschema_rs  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.config import CacheConfig, SchemathesisConfig  # noqa: E402

from cryptoforecast.config import load_config  # noqa: E402
from cryptoforecast.models import CROSS_ASSET_MODEL_TYPES, MODEL_TYPES  # noqa: E402
from cryptoforecast.registry import ModelRegistry  # noqa: E402
from cryptoforecast.serving import Ledger, create_app  # noqa: E402
from cryptoforecast.serving.routes.responses import ERRORS  # noqa: E402

from .conftest import FakeClock, SyncASGIClient, fit_model, register  # noqa: E402

TOKEN = "schemathesis admin token"
#: generated cases per operation and generation mode in the fuzzing phase (the examples and
#: coverage phases add their own)
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
#: operations without parameters or a body: schemathesis has little to vary
NO_INPUTS = {("GET", "/healthz")}
#: a generated job id names no job: only a request with the id a POST returned succeeds
NO_SUCCESS = {("GET", "/v1/retrain/{job_id}")}
ADMIN_OPERATIONS = {
    ("GET", "/v1/admin/models"),
    ("POST", "/v1/models/{model_id}/promote"),
    ("POST", "/v1/retrain"),
    ("GET", "/v1/retrain/{job_id}"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home: Path = tmp_path_factory.mktemp("api-properties")
    registry = ModelRegistry(f"sqlite:///{home / 'registry.db'}", artifact_root=home / "artifacts")
    register(registry, fit_model("bitcoin", "drift", 1), "bitcoin")
    staged = register(registry, fit_model("ethereum", "naive", 3), "ethereum", status="staging")
    registry.record_gate_decision(staged.model_id, True, "beats naive")  # promotable, no force
    yield create_app(
        load_config(),
        registry=registry,
        ledger=Ledger(f"sqlite:///{home / 'ledger.db'}"),
        admin_token=TOKEN,
        clock=FakeClock(),
        retrain=lambda **kwargs: sorted(kwargs),
    )
    registry.close()


@pytest.fixture(scope="module")
def app_without_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A service with no admin token configured: its admin endpoints are disabled (403)."""
    home: Path = tmp_path_factory.mktemp("api-properties-no-token")
    registry = ModelRegistry(f"sqlite:///{home / 'registry.db'}", artifact_root=home / "artifacts")
    yield create_app(load_config(), registry=registry, admin_token=None, clock=FakeClock())
    registry.close()


@pytest.fixture(scope="module")
def published(app: Any) -> dict[str, Any]:
    return SyncASGIClient(app).get("/openapi.json").json()  # type: ignore[no-any-return]


def schemathesis_run(
    app: Any, method: str, path: str, headers: dict[str, str]
) -> tuple[list[str], set[int]]:
    """``schemathesis run --checks all --mode all`` of one operation of ``app`` (phases
    examples, coverage and fuzzing: the API declares no links for the stateful phase),
    deterministic: the failures, each with the request that reproduces it, and the statuses
    seen."""
    from schemathesis.engine import Status, events, from_schema

    config = SchemathesisConfig(cache=CacheConfig(enabled=False))  # each run on its own
    project = config.projects.override
    project.phases.update(phases=["examples", "coverage", "fuzzing"])
    project.checks.update(included_check_names=["all"])
    project.generation.update(
        modes=list(GenerationMode), max_examples=MAX_EXAMPLES, deterministic=True
    )
    if headers:
        project.update(headers=headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema = schema.include(method=method, path=path)
    problems: list[str] = []
    cases = 0
    statuses: set[int] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            statuses |= {
                i.response.status_code
                for i in event.recorder.interactions.values()
                if i.response is not None
            }
            if event.status in (Status.ERROR, Status.INTERRUPTED):
                problems.append(f"{event.label}: the {event.phase} phase ended in {event.status}")
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status is Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        problems.append(
                            f"{event.label}: {check.name}: {failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.SchemaAnalysisWarnings):  # parts it could not test
            problems.extend(f"{method} {path}: {w.kind}: {w.message}" for w in event.warnings)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            problems.append(f"{method} {path}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.EngineFinished):
            problems.extend(f"{method} {path}: {f.title}: {f.message}" for f in event.failures)
    least = 1 if (method, path) in NO_INPUTS else MAX_EXAMPLES
    if cases < least:
        problems.append(f"{method} {path}: only {cases} cases ran (at least {least} expected)")
    return problems, statuses


@pytest.mark.slow
@pytest.mark.parametrize("who", ["admin", "anonymous"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_server_error_and_answers_match_the_schema(
    app: Any, method: str, path: str, who: str
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if who == "admin" else {}
    problems, statuses = schemathesis_run(app, method, path, headers)
    assert not problems, "\n\n".join(problems)
    reachable = who == "admin" or (method, path) not in ADMIN_OPERATIONS
    if reachable and (method, path) not in NO_SUCCESS:  # not only errors: the work was reached
        assert any(200 <= code < 300 for code in statuses), (method, path, sorted(statuses))


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), sorted(ADMIN_OPERATIONS))
def test_disabled_admin_operations_answer_as_documented(
    app_without_token: Any, method: str, path: str
) -> None:
    problems, statuses = schemathesis_run(
        app_without_token, method, path, {"Authorization": f"Bearer {TOKEN}"}
    )
    assert not problems, "\n\n".join(problems)
    assert 403 in statuses and not any(200 <= code < 300 for code in statuses)


def test_every_documented_operation_is_covered(published: dict[str, Any]) -> None:
    documented = sorted((method, path) for method, path, _ in _operations(published))
    assert documented == sorted(OPERATIONS)
    assert sorted(ERRORS) == sorted(f"{method} {path}" for method, path in OPERATIONS)


def _operations(published: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in published["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_operation_documents_its_error_answers(published: dict[str, Any]) -> None:
    for method, path, operation in _operations(published):
        responses = operation["responses"]
        errors = {int(code) for code in responses if not code.startswith("2")}
        if (method, path) in ADMIN_OPERATIONS:
            assert {401, 403} <= errors, (method, path)
        if method == "POST":  # a body: malformed, too large
            assert {400, 413, 422} <= errors, (method, path)
        if path.startswith("/v1/forecast"):
            assert {404, 422, 502, 503} <= errors, (method, path)
        for code in errors:
            body = responses[str(code)]["content"]["application/json"]["schema"]
            expected = "InvalidRequest" if code == 422 else "Error"
            assert body == {"$ref": f"#/components/schemas/{expected}"}, (method, path, code)
    retrain = published["paths"]["/v1/retrain"]["post"]["responses"]
    assert {"429", "501", "503"} <= set(retrain)  # a full job queue, no retraining wired


def test_the_schema_uses_only_keywords_schemathesis_reads(published: dict[str, Any]) -> None:
    assert "prefixItems" not in str(published)


def test_served_answers_validate_against_the_published_schema(
    app: Any, published: dict[str, Any]
) -> None:
    client = SyncASGIClient(app)
    for url, name in (
        ("/v1/forecast/bitcoin?horizon=1", "Forecast"),
        ("/v1/forecast?ids=bitcoin,ethereum&horizon=3", "BatchForecast"),
        ("/v1/forecast/notacoin", "Error"),
        ("/v1/forecast/bitcoin?horizon=99", "InvalidRequest"),
        ("/v1/forecast/bitcoin?as_of=soon", "InvalidRequest"),
        ("/v1/forecast?ids=bitcoin&ids=ethereum", "InvalidRequest"),
        ("/v1/accuracy?model_type=evil", "InvalidRequest"),
    ):
        body = client.get(url).json()
        validator = jsonschema_rs.validator_for(
            {"$ref": f"#/components/schemas/{name}", "components": published["components"]}
        )
        validator.validate(body)
    served = client.get("/v1/forecast/bitcoin").json()["intervals"]
    assert set(served) == {"0.8", "0.95"}
    assert all(len(bounds) == 2 and bounds[0] <= bounds[1] for bounds in served.values())


def test_choices_are_enumerated_from_their_catalogues(published: dict[str, Any]) -> None:
    params = {
        (path, p["name"]): p["schema"]
        for _method, path, op in _operations(published)
        for p in op.get("parameters", [])
    }
    for key, param in params.items():
        if key[1] == "model_type":
            assert param["enum"] == ["", *MODEL_TYPES], key
    assert params[("/v1/models", "status")]["enum"] == ["staging", "production", "archived"]
    body = published["components"]["schemas"]["RetrainRequest"]
    choices = [branch for branch in body["properties"]["model_type"]["anyOf"] if "enum" in branch]
    assert [branch["enum"] for branch in choices] == [[*MODEL_TYPES, "distribution"]]
    assert {"type": "null"} in body["properties"]["model_type"]["anyOf"]
    # a cross-asset type with one coin is refused, and the schema says so
    assert body["not"]["properties"]["model_type"]["enum"] == list(CROSS_ASSET_MODEL_TYPES)


@given(ids=st.text(alphabet=" ,\tab", max_size=60))
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_ids_pattern_is_exactly_what_the_batch_route_accepts(
    app: Any, published: dict[str, Any], ids: str
) -> None:
    (param,) = [
        p for p in published["paths"]["/v1/forecast"]["get"]["parameters"] if p["name"] == "ids"
    ]
    matches = jsonschema_rs.validator_for(param["schema"]).is_valid(ids)
    status = SyncASGIClient(app).get("/v1/forecast", params={"ids": ids}).status_code
    assert matches == (status != 422), (ids, status)


AS_OF_ACCEPTED = [
    "2025-01-01",
    "2024-02-29",
    "2000-02-29",
    "1971-01-01",  # before any candle: a 404, not a 422
    "1971-01-01T00:00+14:00",  # the earliest time the pattern allows stays inside the parser's
    "1972-02-29",
    "2199-12-31",
    "2025-01-01T10:00",
    "2025-01-01T10:00:00Z",
    "2025-01-01T10:00:00.123456+05:30",
    "2025-01-01T23:59:59-08:00",
]
AS_OF_REFUSED = [
    "",
    "nan",
    "NaT",
    "-1",
    "2025-02-29",
    "2100-02-29",
    "1900-02-29",
    "1900-01-01",  # the parser's times start in 1970; the pattern's a year later, whatever
    "1970-12-31",  # the offset
    "2025-04-31",
    "2025-13-01",
    "2025-1-1",
    "1899-12-31",
    "2200-01-01",
    "2025-01-01T24:00",
    "2025-01-01 10:00",
    "2025-01-01T10:00:00.1234567",
    "2025-01-01T10:00+5:30",
    "2025/01/01",
    "20250101",
    "2025-01-01\n",
]


@pytest.mark.parametrize("as_of", AS_OF_ACCEPTED + AS_OF_REFUSED)
def test_the_as_of_pattern_is_exactly_what_the_forecast_accepts(
    app: Any, published: dict[str, Any], as_of: str
) -> None:
    for path in ("/v1/forecast/{crypto_id}", "/v1/forecast"):
        (param,) = [
            p for p in published["paths"][path]["get"]["parameters"] if p["name"] == "as_of"
        ]
        assert jsonschema_rs.validator_for(param["schema"]).is_valid(as_of) == (
            as_of in AS_OF_ACCEPTED
        ), (path, as_of)
    client = SyncASGIClient(app)
    for url, params in (
        ("/v1/forecast/bitcoin", {"as_of": as_of}),
        ("/v1/forecast", {"ids": "bitcoin", "as_of": as_of}),
    ):
        answer = client.get(url, params=params)
        assert (answer.status_code != 422) == (as_of in AS_OF_ACCEPTED), (url, as_of, answer.text)
        if answer.status_code == 422:
            assert "as_of" in answer.text and "is not a date or date-time" in answer.text
