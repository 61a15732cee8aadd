"""``cryptoforecast registry``: versions, stages and their history."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cryptoforecast.cli._common import HELP, console, echo_json, speaking_flags
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRecord, model_registry

__all__ = ["registry_app"]

_FLAGS = {
    "crypto_id": "crypto id",
    "model_type": "--model",
    "horizon": "--horizon",
    "status": "--status",
    "kind": "--kind",
}

registry_app = typer.Typer(
    help="Model registry: versions, stages and their history.",
    no_args_is_help=True,
    context_settings=HELP,
)


# Options that mean the same in several commands, declared once.
ModelFilter = Annotated[str | None, typer.Option("--model", "-m", help="Only this model type.")]
HorizonFilter = Annotated[int | None, typer.Option("--horizon", "-H", help="Only this horizon.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the history).")]


def _model(rec: ModelRecord) -> str:
    """The model type, and a distribution's scale model: ``distribution (har_rv)``."""
    return f"{rec.model_type} ({rec.scale_model})" if rec.scale_model else rec.model_type


def _what(rec: ModelRecord) -> str:
    return f"{rec.crypto_id} {_model(rec)} h={rec.horizon} {rec.version}"


def _registry_table(records: list, title: str) -> Table:
    """One row per registered model; MASE is relative to the naive forecast (naive = 1.00)."""
    table = Table(title=title)
    columns = ("id", "crypto", "kind", "model", "h", "version", "status", "val MASE (naive=1)")
    for col in (*columns, "created"):
        table.add_column(
            col, justify="right" if col in ("id", "h", "val MASE (naive=1)") else "left"
        )
    for rec in records:
        mase = rec.validation_mase
        table.add_row(
            str(rec.model_id),
            rec.crypto_id,
            rec.kind,
            _model(rec),
            str(rec.horizon),
            rec.version,
            rec.status,
            "-" if mase is None else f"{mase:.3f}",
            rec.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


@registry_app.command("list")
def registry_list(
    crypto_id: Annotated[
        str | None, typer.Option("--crypto", "-c", help="Only this asset.")
    ] = None,
    model: ModelFilter = None,
    horizon: HorizonFilter = None,
    status: Annotated[
        str | None, typer.Option("--status", help="staging, production or archived.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="point or distribution (default: both)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
    ids: Annotated[
        bool,
        typer.Option("--ids", help="Print only the ids, one a line, newest first (for scripts)."),
    ] = False,
    latest: Annotated[
        bool,
        typer.Option(
            "--latest",
            help="Only the newest matching model; fails when none matches. With --ids: "
            "ID=$(cryptoforecast registry list -c bitcoin -m lightgbm -H 1 --ids --latest).",
        ),
    ] = False,
) -> None:
    """List registered models: point models and distributions (a distribution's scale model is
    shown beside its model type, e.g. ``distribution (har_rv)``)."""

    with speaking_flags(_FLAGS):
        records = model_registry.list_models(crypto_id, model, horizon, status, kind)
    if latest:
        if not records:
            raise RegistryError(_no_match(crypto_id, model, horizon, status, kind))
        records = records[-1:]  # oldest first: the last is the newest
    if ids:
        for rec in reversed(records):
            typer.echo(rec.model_id)
        return
    if as_json:
        echo_json([rec.to_dict() for rec in records])
        return
    console().print(_registry_table(records, f"Registered models ({len(records)})"))


def _no_match(
    crypto_id: str | None,
    model: str | None,
    horizon: int | None,
    status: str | None,
    kind: str | None,
) -> str:
    """Why ``--latest`` has no id to print: the filters as typed, and how to see what there is."""
    asked = " ".join(
        f"{flag} {value}"
        for flag, value in (
            ("--crypto", crypto_id),
            ("--model", model),
            ("--horizon", horizon),
            ("--status", status),
            ("--kind", kind),
        )
        if value is not None
    )
    return (
        f"no registered model matches {asked or 'the registry (it is empty)'}; "
        "'cryptoforecast registry list' shows every model, train one with 'cryptoforecast train'"
    )


@registry_app.command("show")
def registry_show(
    model_id: Annotated[int, typer.Argument(help="Model id from `registry list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full record as JSON.")] = False,
) -> None:
    """Show one model: metrics (beside the naive forecast's when stored), config, lineage, files."""

    rec = model_registry.get(model_id)
    if as_json:
        typer.echo(json.dumps(rec.to_dict(), indent=2, sort_keys=True))
        return
    console().print(_registry_table([rec], f"Model {rec.model_id}"))
    for title, value in (
        ("metrics", rec.metrics),
        ("config", rec.config),
        ("lineage", rec.lineage),
    ):
        console().print(f"[bold]{title}[/]: {json.dumps(value, sort_keys=True)}", highlight=False)
    n_files = len(rec.artifact_files)
    console().print(
        f"[bold]artifact[/]: {rec.artifact_path} ({n_files} files, sha256 recorded)",
        highlight=False,
    )


@registry_app.command("promote")
def registry_promote(
    model_id: Annotated[int, typer.Argument(help="Model id to put in production.")],
    reason: Reason = "promoted from the CLI",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Promote a model whose latest promotion-gate decision did not pass, or that has "
            "none (registered by hand); the history records the override.",
        ),
    ] = False,
) -> None:
    """Promote a model to production; the previous production model is archived.

    Only a model whose latest promotion-gate decision passed is promoted without --force."""

    rec = model_registry.promote(model_id, reason=reason, force=force)
    typer.echo(f"model {rec.model_id} ({_what(rec)}) is now production")


@registry_app.command("demote")
def registry_demote(
    model_id: Annotated[int, typer.Argument(help="Production model id to put back in staging.")],
    reason: Reason = "demoted from the CLI",
) -> None:
    """Put a production model back in staging; its key has no production model until a
    promotion or rollback (the service answers with the labelled fallback meanwhile)."""

    rec = model_registry.demote(model_id, reason=reason)
    typer.echo(f"model {rec.model_id} ({_what(rec)}) is back in staging")


@registry_app.command("rollback")
def registry_rollback(
    crypto_id: Annotated[str, typer.Argument(help="Asset id, e.g. bitcoin.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model type, e.g. lightgbm.")],
    horizon: Annotated[
        int, typer.Option("--horizon", "-H", help="Forecast horizon in candles.")
    ] = 1,
    reason: Reason = "",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Roll back to a model whose latest promotion-gate decision did not pass, or "
            "that has none (forced in before); the history records the override.",
        ),
    ] = False,
) -> None:
    """Put the previous production model back in production.

    Only a model whose latest promotion-gate decision passed returns without --force."""

    with speaking_flags(_FLAGS):
        rec = model_registry.rollback(crypto_id, model, horizon, reason=reason, force=force)
    typer.echo(f"rolled back: model {rec.model_id} ({_what(rec)}) is production again")


@registry_app.command("history")
def registry_history(
    crypto_id: Annotated[str, typer.Argument(help="Asset id, e.g. bitcoin.")],
    model: ModelFilter = None,
    horizon: HorizonFilter = None,
) -> None:
    """Every stage change and promotion-gate decision for an asset, oldest first."""

    events = model_registry.history(crypto_id, model, horizon)
    table = Table(title=f"Registry history: {crypto_id} ({len(events)} events)")
    for col in ("when (UTC)", "id", "model", "h", "version", "event", "from", "to", "reason", "by"):
        table.add_column(col)
    for ev in events:
        table.add_row(
            ev.at.strftime("%Y-%m-%d %H:%M:%S"),
            str(ev.model_id),
            ev.model_type,
            str(ev.horizon),
            ev.version or "",
            ev.event,
            ev.from_status or "-",
            ev.to_status,
            ev.reason,
            ev.actor,
        )
    console().print(table)
