"""The table of the root's commands and command groups: where each lives and its short help.

The root lists :data:`COMMANDS` without importing any command's module, and
:meth:`CommandEntry.defined` imports one only when it is needed (``cryptoforecast.cli`` says
when). ``tests/test_cli_startup.py`` checks the table against the commands it names.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["COMMANDS", "CommandEntry"]


@dataclass(frozen=True)
class CommandEntry:
    """Where a root command or command group lives, and the short help the root lists for it.

    ``attribute`` is a command function or, for a group, its ``typer.Typer``; a group lists
    ``subcommands`` as ``(name, short help)`` pairs, in the order its ``--help`` shows them.
    """

    module: str
    attribute: str
    help: str
    subcommands: tuple[tuple[str, str], ...] = ()

    def defined(self) -> Any:
        """The command function or Typer this entry names: the one lazy import of the command
        line (see :mod:`cryptoforecast.cli`)."""
        return getattr(importlib.import_module(self.module), self.attribute)


COMMANDS: dict[str, CommandEntry] = {
    "train": CommandEntry(
        "cryptoforecast.cli.training",
        "train",
        "Train, validate against naive, register and gate models (one, or many on Dask), then "
        "the distribution versions of each (coin, horizon), gated against garch_ref.",
    ),
    "retrain": CommandEntry(
        "cryptoforecast.cli.training",
        "retrain",
        "Retrain every tracked model and distribution version that is too old, through the "
        "same gates.",
    ),
    "demo": CommandEntry(
        "cryptoforecast.cli.demo",
        "demo",
        "The real thing on the embedded data: train, backtest vs naive, gate, report, forecast.",
    ),
    "backtest": CommandEntry(
        "cryptoforecast.cli.backtest",
        "backtest",
        "Walk-forward backtest beside the naive forecast, with the honesty scorecard and an "
        "HTML report.",
    ),
    "serve": CommandEntry(
        "cryptoforecast.cli.serving",
        "serve",
        "Serve forecasts over HTTP (FastAPI + uvicorn): the dashboard at /, OpenAPI at /docs, "
        "metrics at /metrics.",
    ),
    "forecast": CommandEntry(
        "cryptoforecast.cli.forecast",
        "forecast",
        "Forecast from the production model (or the labelled fallback), with 80%/95% intervals.",
    ),
    "check-leakage": CommandEntry(
        "cryptoforecast.cli.leakage",
        "check_leakage",
        "Prove features never look ahead: recompute them on truncated history and compare.",
    ),
    "version": CommandEntry("cryptoforecast.cli", "version", "Print the package version."),
    "data": CommandEntry(
        "cryptoforecast.cli.data",
        "data_app",
        "Market data: list, show, import and update candles.",
        (
            (
                "list",
                "List the assets with their coverage in the embedded snapshot, and the imported coins.",
            ),
            (
                "import",
                "Import a coin's candles from a CSV file: validated, cached and catalogued.",
            ),
            ("show", "Show the last candles of one asset."),
            (
                "update",
                "Fetch new candles from a live source into the local cache (only what is missing).",
            ),
        ),
    ),
    "config": CommandEntry(
        "cryptoforecast.cli.config",
        "config_app",
        "Configuration.",
        (
            (
                "show",
                "Print the effective configuration, after the files and variables it was read "
                "from.",
            ),
        ),
    ),
    "registry": CommandEntry(
        "cryptoforecast.cli.registry",
        "registry_app",
        "Model registry: versions, stages and their history.",
        (
            (
                "list",
                "List registered models: point models and distributions (a distribution's scale "
                "model is shown beside its model type, e.g. ``distribution (har_rv)``).",
            ),
            (
                "show",
                "Show one model: metrics (beside the naive forecast's when stored), config, "
                "lineage, files.",
            ),
            (
                "promote",
                "Promote a model to production; the previous production model is archived.",
            ),
            (
                "demote",
                "Put a production model back in staging; its key has no production model until a "
                "promotion or rollback (the service answers with the labelled fallback meanwhile).",
            ),
            ("rollback", "Put the previous production model back in production."),
            (
                "history",
                "Every stage change and promotion-gate decision for an asset, oldest first.",
            ),
        ),
    ),
    "ledger": CommandEntry(
        "cryptoforecast.cli.serving",
        "ledger_app",
        "The forecast ledger: live, out-of-sample accuracy.",
        (
            (
                "score",
                "Score past forecasts against realised closes: MAPE and MASE beside naive, "
                "interval coverage, and the served distribution's CRPS, coverage and PIT beside "
                "garch_ref and the 30-day Gaussian.",
            ),
        ),
    ),
}
"""The root's commands and groups, in the order ``cryptoforecast --help`` lists them."""
