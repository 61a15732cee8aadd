"""Admission to production: the one rule every way into production passes.

A model enters production (a promotion, a rollback to it, a registration as production) only
when its latest promotion-gate decision in ``stage_history`` passed, or when the caller forces
it. A model registered by hand has no gate decision; a model whose gate failed, or that was
demoted by a failed decision recorded after its pass, has a failed one: both are refused
unless forced, and a forced entry records the override and the gate's state in the history.

:func:`production_reason` runs inside the write transaction that promotes (the key locked), so
no gate decision can slip in between the check and the stage change.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.schema import stage_history

__all__ = ["NO_GATE_DECISION", "Entry", "latest_gate_decision", "production_reason"]

#: the gate state recorded when a model with no gate decision is forced into production
NO_GATE_DECISION = "no promotion-gate decision"

#: how a model enters production: each names its own fix in a refusal
Entry = Literal["promote", "rollback", "register"]

_FIX: dict[str, str] = {
    "promote": (
        "promote it anyway with force=True (CLI: `cryptoforecast registry promote {model_id} "
        '--force`; API: POST /v1/models/{model_id}/promote with {{"force": true}})'
    ),
    "rollback": (
        "roll back to it anyway with force=True (CLI: `cryptoforecast registry rollback "
        "{crypto_id} --model {model_type} --horizon {horizon} --force`)"
    ),
    "register": (
        "register it as staging and let the promotion gate decide (`cryptoforecast train`), "
        "or register it as production anyway with force=True"
    ),
}


def latest_gate_decision(conn: Connection, model_id: int) -> str | None:
    """The history reason of the model's latest promotion-gate decision (``"gate passed: ..."``
    or ``"gate failed: ..."``), or ``None`` when no decision was ever recorded."""
    last = conn.execute(
        sa.select(stage_history.c.reason)
        .where(stage_history.c.model_id == model_id, stage_history.c.event == "gate")
        .order_by(stage_history.c.event_id.desc())
        .limit(1)
    ).first()
    return None if last is None else str(last.reason)


def production_reason(conn: Connection, row: Any, reason: str, *, force: bool, entry: Entry) -> str:
    """The history reason for putting ``row`` into production by ``entry``.

    Returns ``reason`` unchanged when the model's latest gate decision passed. Otherwise raises
    :class:`RegistryError` naming the model, why and the fix, unless ``force`` is set: then the
    reason carries the override and the gate's state.
    """
    decision = latest_gate_decision(conn, row.model_id)
    if decision is not None and decision.startswith("gate passed"):
        return reason
    state = NO_GATE_DECISION if decision is None else decision
    if force:
        return f"{reason} (forced past the promotion gate: {state})"
    what = f"{row.crypto_id} {row.model_type} h={row.horizon} {row.version}"
    why = (
        "it has no promotion-gate decision (a model registered by hand)"
        if decision is None
        else f"it did not pass the promotion gate ({decision})"
    )
    fix = _FIX[entry].format(
        model_id=row.model_id,
        crypto_id=row.crypto_id,
        model_type=row.model_type,
        horizon=row.horizon,
    )
    subject = "a new model" if entry == "register" else f"model {row.model_id}"
    raise RegistryError(
        f"{subject} ({what}) cannot enter production: {why}, and only a model whose latest "
        f"promotion-gate decision passed enters production without force; {fix}, and the "
        "history records the override"
    )
