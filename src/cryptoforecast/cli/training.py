"""``cryptoforecast train`` and ``retrain``.

``train`` trains the point models asked for and then the distribution versions of every
(coin, horizon) it trained (``--no-distribution`` skips them); ``retrain`` retrains stale point
models and stale distribution versions alike. Distribution versions are printed in their own
table, each candidate's validation CRPS beside ``garch_ref``'s, ``ewma_t``'s and the 30-day
Gaussian's, with the gate's verdict.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import typer
from rich.table import Table

from cryptoforecast.assets import file_asset, resolve_asset, snapshot_assets, user_assets
from cryptoforecast.cli._common import (
    CandlePathOption,
    CandleSourceOption,
    check_candle_path,
    console,
    log_lines,
    num,
    progress_bar,
    speaking_flags,
    table,
)
from cryptoforecast.cli._end import check_end
from cryptoforecast.config import MAX_OLDER_THAN_DAYS, MAX_WINDOW_CANDLES, Settings, load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.durations import human_duration
from cryptoforecast.evaluation.formatting import format_price
from cryptoforecast.exceptions import CryptoForecastError, DataError
from cryptoforecast.models import load_plugins
from cryptoforecast.registry import DISTRIBUTION
from cryptoforecast.training import tuning
from cryptoforecast.training.distributions import train_distributions
from cryptoforecast.training.global_model import GLOBAL_MODEL, global_summaries, train_global_model
from cryptoforecast.training.jobs import retrain_stale, stale_models, summarise_model, train_many
from cryptoforecast.training.pipeline import train_model
from cryptoforecast.training.results import TrainingSummary

__all__ = ["distribution_table", "print_summaries", "retrain", "summary_table", "train"]

_FLAGS = {
    "source": "--source",
    "end": "--end",
    "days": "--days",
    "tune": "--tune",
    "path": "--path",
}


def summary_table(summaries: list[TrainingSummary], title: str) -> Table:
    """One row per training: validation MASE beside naive (naive = 1), the gate and its reason."""
    out = table(
        title,
        (
            "crypto",
            "model",
            "h",
            "id",
            "status",
            "val MASE (naive=1)",
            "MAE",
            "naive MAE",
            "DM p",
            "80% cov",
            "s",
            "note",
        ),
        left=("crypto", "model", "status", "note"),
    )
    for s in summaries:
        m = s.metrics
        out.add_row(
            s.crypto_id,
            s.model_type,
            str(s.horizon),
            str(s.model_id or "-"),
            s.status or ("failed" if s.failed else "-"),
            num(m.get("mase"), ".3f"),
            format_price(m.get("mae")),
            format_price(m.get("naive_mae")),
            num(m.get("dm_pvalue"), ".3f"),
            num(m.get("coverage_80"), ".0%"),
            num(s.seconds, ".1f"),
            s.error or s.gate_reason or "",
        )
    return out


def distribution_table(summaries: list[TrainingSummary], title: str) -> Table:
    """One row per distribution candidate: validation CRPS beside garch_ref's, ewma_t's and the
    30-day Gaussian's, the skill against garch_ref, the gate's evidence and its verdict."""
    out = table(
        title,
        (
            "crypto",
            "h",
            "candidate",
            "id",
            "status",
            "CRPS",
            "garch_ref",
            "ewma_t",
            "gauss30",
            "skill",
            "DM p",
            "wins",
            "verdict",
        ),
        left=("crypto", "candidate", "status", "verdict"),
    )
    for s in summaries:
        if s.failed:
            out.add_row(s.crypto_id, str(s.horizon), "-", "-", "failed", *["-"] * 7, s.error)
            continue
        for name, c in (s.metrics.get("candidates") or {}).items():
            if c.get("error"):
                verdict = c["error"]
            elif c.get("promoted"):
                verdict = "promoted: beats garch_ref"
            elif c.get("passed"):
                verdict = "passed, not chosen"
            else:
                verdict = "fails the gate"
            won, periods = c.get("subperiods_won"), c.get("stability_periods")
            label = name if c.get("intraday") or not c.get("intraday_note") else f"{name} (daily)"
            out.add_row(
                s.crypto_id,
                str(s.horizon),
                label,
                str(c.get("model_id") or "-"),
                c.get("status") or "-",
                num(c.get("crps"), ".5f"),
                num(c.get("crps_garch_ref"), ".5f"),
                num(c.get("crps_ewma_t"), ".5f"),
                num(c.get("crps_rolling_gaussian"), ".5f"),
                num(c.get("crps_skill_pct"), "+.2f") + ("%" if c.get("crps") is not None else ""),
                num(c.get("dm_pvalue_holm"), ".3f"),
                "-" if won is None else f"{won}/{periods}",
                verdict,
            )
    return out


def _train_distribution(
    crypto_id: str,
    horizon: int,
    days: int,
    source: str,
    end: str | None,
    settings: Settings,
    save: bool,
    path: str | None = None,
) -> TrainingSummary:
    """The distribution versions of one (coin, horizon), summarised; a failure (bad data, too
    short a window) becomes the summary's ``error``, reported beside the other trainings."""
    started = time.perf_counter()
    try:
        result = train_distributions(
            crypto_id, horizon, days, source, end, settings, save=save, path=path
        )
    except CryptoForecastError as exc:
        return TrainingSummary(
            crypto_id, DISTRIBUTION, horizon, days, error=f"{type(exc).__name__}: {exc}"
        )
    return result.summary(time.perf_counter() - started)


def print_summaries(summaries: list[TrainingSummary], point_title: str) -> None:
    """The point models' table, then the distribution versions' (each when there are any)."""
    points = [s for s in summaries if s.model_type != DISTRIBUTION]
    dists = [s for s in summaries if s.model_type == DISTRIBUTION]
    if points:
        console().print(summary_table(points, point_title))
    if dists:
        console().print(
            distribution_table(
                dists,
                "Distribution versions: validation CRPS beside garch_ref (the fallback), ewma_t "
                "and the 30-day Gaussian (lower is better); skill vs garch_ref, one-sided DM p "
                "after Holm, sub-periods won",
            )
        )
        for s in dists:
            if not s.failed:
                console().print(f"{s.crypto_id} h={s.horizon}: {s.gate_reason}", highlight=False)


def train(
    crypto_ids: Annotated[
        list[str] | None, typer.Argument(help="Asset ids or symbols, e.g. bitcoin ETH.")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help=f"Model type (repeatable); default lightgbm. {GLOBAL_MODEL}: one model for all "
            "the given coins (or --all), registered per coin.",
        ),
    ] = None,
    horizon: Annotated[
        list[int] | None,
        typer.Option(
            "--horizon",
            "-H",
            min=1,
            max=14,
            help="Horizon in days, 1-14 (repeatable); default 1, with --all the config's horizons.",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            "-d",
            min=1,
            max=MAX_WINDOW_CANDLES,
            help="Training window in candles (default: training.days).",
        ),
    ] = None,
    tune: Annotated[
        int,
        typer.Option(
            "--tune",
            min=0,
            max=10_000,
            help="Optuna trials before training (0: config parameters).",
        ),
    ] = 0,
    source: CandleSourceOption = "snapshot",
    path: CandlePathOption = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day of the training window.")
    ] = None,
    all_assets: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every embedded asset (with --source csv: every imported coin) x every "
            "horizon of the config (horizons: 1, 3, 7, 14 by default) x each --model (default "
            "lightgbm), on Dask.",
        ),
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address, e.g. tcp://host:8786 (with --all or several jobs; default: a local cluster).",
        ),
    ] = None,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Validate only: do not save or register.")
    ] = False,
    no_distribution: Annotated[
        bool,
        typer.Option(
            "--no-distribution",
            help="Do not train the distribution versions of the (coin, horizon)s trained.",
        ),
    ] = False,
) -> None:
    """Train, validate against naive, register and gate models (one, or many on Dask), then the
    distribution versions of each (coin, horizon), gated against garch_ref."""

    check_candle_path(source, path)
    settings = load_config()
    load_plugins(settings)  # the configured plug-ins, on this thread, before any training
    if all_assets and source == "csv":  # the imported coins: csv has no others
        ids = [a.id for a in user_assets()]
        if not ids:
            raise DataError(
                "--all --source csv trains every imported coin, and none is imported; import "
                "one first: `cryptoforecast data import COIN FILE.csv`"
            )
    elif all_assets:
        ids = [a.id for a in snapshot_assets()]
    elif crypto_ids:
        resolve = file_asset if path is not None else resolve_asset
        ids = list(dict.fromkeys(resolve(c).id for c in crypto_ids))
    else:
        raise typer.BadParameter("give asset ids (e.g. bitcoin) or --all")
    models = model or ["lightgbm"]
    horizons = horizon or (list(settings.horizons) if all_assets else [1])
    window = days or settings.training.days
    jobs = len(ids) * len(models) * len(horizons)
    if path is not None and (len(ids) > 1 or all_assets or jobs > 1 or scheduler is not None):
        raise typer.BadParameter(
            "--path reads one coin's file for one model and horizon; to train several, "
            "import the coin once (`cryptoforecast data import COIN FILE`) and use --source "
            "csv without --path"
        )
    if source == "snapshot":
        check_end(end, load_ohlcv(ids[0]).index[-1], source)
    elif source == "csv":
        with speaking_flags(_FLAGS):
            check_end(end, load_ohlcv(ids[0], source=source, path=path).index[-1], source)
    else:
        check_end(end, None, source)
    if GLOBAL_MODEL in models:
        if models != [GLOBAL_MODEL]:
            raise typer.BadParameter(
                f"--model {GLOBAL_MODEL} trains one model across the coins; train it on its own "
                f"(got --model {' --model '.join(models)})"
            )
        summaries = []
        for h in horizons:
            started = time.perf_counter()
            with (
                console().status(f"training {GLOBAL_MODEL} on {len(ids)} coins h={h}"),
                speaking_flags(_FLAGS),
            ):
                result = train_global_model(
                    ids, h, window, not no_save, source, end, settings, scheduler=scheduler
                )
            summaries += global_summaries(result, time.perf_counter() - started)
        if not no_distribution:
            for c in ids:
                for h in horizons:
                    with console().status(f"training the distribution versions of {c} h={h}"):
                        summaries.append(
                            _train_distribution(c, h, window, source, end, settings, not no_save)
                        )
    elif jobs == 1 and scheduler is None:
        with (
            progress_bar() as progress,
            log_lines(tuning.logger.name, progress.console),
            speaking_flags(_FLAGS),
        ):
            progress.add_task(
                f"training {models[0]} for {ids[0]} h={horizons[0]} on {window} days", total=1
            )
            started = time.perf_counter()
            fitted = train_model(
                ids[0],
                models[0],
                days=window,
                save_model=not no_save,
                horizon=horizons[0],
                tune=tune,
                source=source,
                end=end,
                config=settings,
                path=path,
            )
        summaries = [summarise_model(fitted, seconds=time.perf_counter() - started)]
        if not no_distribution:
            with console().status(
                f"training the distribution versions of {ids[0]} h={horizons[0]}"
            ):
                summaries.append(
                    _train_distribution(
                        ids[0], horizons[0], window, source, end, settings, not no_save, path
                    )
                )
    else:
        # the distribution versions of every (coin, horizon) are one more task each
        kinds = models if no_distribution else [*models, DISTRIBUTION]
        jobs = len(ids) * len(kinds) * len(horizons)
        with progress_bar() as progress:
            task = progress.add_task(f"training {jobs} models", total=jobs)

            def advance(summary: TrainingSummary) -> None:
                progress.advance(task)
                progress.console.print(
                    f"  {summary.crypto_id} {summary.model_type} h={summary.horizon}: "
                    f"{summary.status or 'failed'}",
                    highlight=False,
                )

            with speaking_flags(_FLAGS):
                summaries = train_many(
                    ids,
                    kinds,
                    horizons,
                    scheduler=scheduler,
                    days=window,
                    tune=tune,
                    source=source,
                    end=end,
                    config=settings,
                    save_model=not no_save,
                    progress=advance,
                )
    print_summaries(
        summaries, "Training: validation beside the naive forecast (MASE < 1 beats naive)"
    )
    failed = [s for s in summaries if s.failed]
    if failed:
        raise DataError(f"{len(failed)} of {len(summaries)} trainings failed: {failed[0].error}")


def retrain(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help=f"Retrain keys whose newest model is older than this (7d, 12h, 2w; from 1s to "
            f"{MAX_OLDER_THAN_DAYS}d); default retrain.older_than_days.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address, or 'local' for a local cluster (default: one after another).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be retrained.")
    ] = False,
) -> None:
    """Retrain every tracked model and distribution version that is too old, through the same
    gates."""

    if scheduler is not None and scheduler != "local" and "://" not in scheduler:
        raise typer.BadParameter(
            f"{scheduler!r} is not a Dask scheduler address; give e.g. tcp://host:8786 or local",
            param_hint="'--scheduler'",
        )

    load_plugins(load_config())
    if dry_run:
        stale = stale_models(older_than)
        if not stale:
            console().print(f"{stale.reason}.", highlight=False)
            return
        plan = Table(title=f"Would retrain {len(stale)} model(s)")
        for col in ("crypto", "model", "h", "newest id", "version", "age", "days", "source"):
            plan.add_column(col)
        for st in stale:
            plan.add_row(
                st.crypto_id,
                f"{st.model_type} ({st.scale_model})" if st.scale_model else st.model_type,
                str(st.horizon),
                str(st.newest_model_id),
                st.newest_version,
                human_duration(dt.timedelta(days=st.age_days)),
                str(st.days or "-"),
                st.source,
            )
        console().print(plan)
        return
    with console().status("retraining stale models"):
        summaries = retrain_stale(older_than, scheduler=scheduler)
    if not summaries:
        console().print(f"{summaries.reason}.", highlight=False)
        return
    print_summaries(summaries, f"Retrained {len(summaries)} model(s)")
    failed = [s for s in summaries if s.failed]
    if failed:
        raise DataError(f"{len(failed)} of {len(summaries)} retrainings failed: {failed[0].error}")
