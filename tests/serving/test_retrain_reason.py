"""``POST /v1/retrain`` that retrains nothing says why in the job's ``reason``."""

from __future__ import annotations

import time
from typing import Any

from cryptoforecast.config import load_config
from cryptoforecast.serving.app import create_app
from cryptoforecast.training.jobs import retrain_job
from tests.serving.conftest import FakeClock, SyncASGIClient

TOKEN = "an admin token for the tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _finished(client: SyncASGIClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (job := client.get(f"/v1/retrain/{job_id}", headers=ADMIN).json())["status"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_an_empty_retrain_answer_says_why(registry: Any, clock: FakeClock) -> None:
    app = create_app(
        load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=retrain_job
    )
    client = SyncASGIClient(app)
    posted = client.post("/v1/retrain", headers=ADMIN, json={"older_than_days": 7})
    assert posted.status_code == 202
    assert posted.json()["reason"] is None  # not known until the job has run
    job = _finished(client, posted.json()["job_id"])
    assert job["status"] == "done", job["error"]
    assert job["result"] == []
    assert "no models" in job["reason"]


def test_a_retrain_that_did_something_has_no_reason(registry: Any, clock: FakeClock) -> None:
    app = create_app(
        load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=retrain_job
    )
    client = SyncASGIClient(app)
    body = {"crypto_id": "bitcoin", "model_type": "drift", "horizon": 1}
    job = _finished(client, client.post("/v1/retrain", headers=ADMIN, json=body).json()["job_id"])
    assert job["status"] == "done", job["error"]
    assert job["result"]["model_id"] is not None and job["reason"] is None
