"""Every command's signature as plain literals, by command path: what the command line
needs to parse a command's arguments, and print its help, before importing its module
(:mod:`cryptoforecast.cli.stand_in` rebuilds each command from it).

Generated from the commands by ``python -m cryptoforecast.cli.signature_file``: do not edit by hand.
"""

from typing import Any

__all__ = ["SIGNATURES"]

SIGNATURES: dict[str, Any] = {
    "train": {
        "help": "Train, validate against naive, register and gate models (one, or many on Dask), then the\ndistribution versions of each (coin, horizon), gated against garch_ref.",
        "command": {},
        "params": [
            {
                "name": "crypto_ids",
                "kind": "argument",
                "annotation": "list[str] | None",
                "help": "Asset ids or symbols, e.g. bitcoin ETH.",
            },
            {
                "name": "model",
                "kind": "option",
                "annotation": "list[str] | None",
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Model type (repeatable); default lightgbm. global_lightgbm: one model for all the given coins (or --all), registered per coin.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "list[int] | None",
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Horizon in days, 1-14 (repeatable); default 1, with --all the config's horizons.",
                "min": 1,
                "max": 14,
            },
            {
                "name": "days",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--days",
                    "-d",
                ],
                "help": "Training window in candles (default: training.days).",
                "min": 1,
                "max": 100000,
            },
            {
                "name": "tune",
                "kind": "option",
                "annotation": "int",
                "default": 0,
                "param_decls": [
                    "--tune",
                ],
                "help": "Optuna trials before training (0: config parameters).",
                "min": 0,
                "max": 10000,
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str",
                "default": "snapshot",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "snapshot, csv (a coin from `data import`, or --path FILE), binance or coingecko.",
            },
            {
                "name": "path",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--path",
                ],
                "help": "CSV file of candles (with --source csv): read under the id given, nothing imported.",
            },
            {
                "name": "end",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--end",
                ],
                "help": "Last day of the training window.",
            },
            {
                "name": "all_assets",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--all",
                ],
                "help": "Every embedded asset (with --source csv: every imported coin) x every horizon of the config (horizons: 1, 3, 7, 14 by default) x each --model (default lightgbm), on Dask.",
            },
            {
                "name": "scheduler",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--scheduler",
                ],
                "help": "Dask scheduler address, e.g. tcp://host:8786 (with --all or several jobs; default: a local cluster).",
            },
            {
                "name": "no_save",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--no-save",
                ],
                "help": "Validate only: do not save or register.",
            },
            {
                "name": "no_distribution",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--no-distribution",
                ],
                "help": "Do not train the distribution versions of the (coin, horizon)s trained.",
            },
        ],
    },
    "retrain": {
        "help": "Retrain every tracked model and distribution version that is too old, through the same\ngates.",
        "command": {},
        "params": [
            {
                "name": "older_than",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--older-than",
                ],
                "help": "Retrain keys whose newest model is older than this (7d, 12h, 2w; from 1s to 36500d); default retrain.older_than_days.",
            },
            {
                "name": "scheduler",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--scheduler",
                ],
                "help": "Dask scheduler address, or 'local' for a local cluster (default: one after another).",
            },
            {
                "name": "dry_run",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--dry-run",
                ],
                "help": "Only list what would be retrained.",
            },
        ],
    },
    "demo": {
        "help": "The real thing on the embedded data: train, backtest vs naive, gate, report, forecast.",
        "command": {},
        "params": [
            {
                "name": "fast",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--fast",
                ],
                "help": "Tiny settings: a smoke run in seconds, not a result.",
            },
        ],
    },
    "backtest": {
        "help": "Walk-forward backtest beside the naive forecast, with the honesty scorecard and an HTML report.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "Asset id or symbol, e.g. bitcoin.",
            },
            {
                "name": "model",
                "kind": "option",
                "annotation": "list[str] | None",
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Model type (repeatable: compare models in one report); default lightgbm. naive, drift, technical, lightgbm, xgboost, lstm, ensemble.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "int",
                "default": 1,
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Forecast horizon in candles (1-14).",
                "min": 1,
                "max": 14,
            },
            {
                "name": "report",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--report",
                    "-r",
                ],
                "help": "Write a self-contained HTML report here.",
            },
            {
                "name": "days",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--days",
                    "-d",
                ],
                "help": "Forecast origins to backtest: the last N (default demo.backtest_days).",
                "min": 1,
                "max": 100000,
            },
            {
                "name": "initial_train_size",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--initial-train-size",
                ],
                "help": "Minimum training rows of the first fit (default backtest.initial_train_size); earlier rows are used too with an expanding window.",
                "min": 1,
                "max": 100000,
            },
            {
                "name": "retrain_frequency",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--retrain-frequency",
                ],
                "help": "Refit every N origins (default backtest.retrain_frequency).",
                "min": 1,
                "max": 100000,
            },
            {
                "name": "window",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--window",
                ],
                "help": "expanding or sliding (default backtest.window).",
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str",
                "default": "snapshot",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "snapshot, csv (a coin from `data import`, or --path FILE), binance or coingecko.",
            },
            {
                "name": "path",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--path",
                ],
                "help": "CSV file of candles (with --source csv): read under the id given, nothing imported.",
            },
            {
                "name": "end",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--end",
                ],
                "help": "Last candle to use.",
            },
            {
                "name": "fee_bps",
                "kind": "option",
                "annotation": "float",
                "default": 10.0,
                "param_decls": [
                    "--fee-bps",
                ],
                "help": "Trading fee per unit traded, basis points (10000: all of it).",
                "min": 0.0,
                "max": 10000.0,
            },
            {
                "name": "intervals",
                "kind": "option",
                "annotation": "str",
                "default": "split",
                "param_decls": [
                    "--intervals",
                ],
                "help": "Interval calibration: split (each model's static conformal band) or aci (adaptive conformal, updated with every error known at the origin).",
            },
            {
                "name": "distribution",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--distribution",
                ],
                "help": "Add a predictive distribution around the point forecasts, scored by CRPS against rolling_gaussian, ewma_t and garch_t: rolling_gaussian, ewma_t, garch_t, har_rv or lightgbm_vol.",
            },
            {
                "name": "served",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--served",
                ],
                "help": "Replay what users would have received: retrain every --retrain-frequency origins (default 7) through the gate into a throwaway registry and forecast with what the service serves (production model or fallback). --model names the candidates (default lightgbm, xgboost, lstm, ensemble); --days defaults to 1095.",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print the metrics as JSON (no tables, no progress).",
            },
        ],
    },
    "serve": {
        "help": "Serve forecasts over HTTP (FastAPI + uvicorn): the dashboard at /, OpenAPI at /docs,\nmetrics at /metrics.\n\nWith a live source (binance, coingecko) a background refresher fetches each new candle a\nlittle after it closes; stale-model retraining runs on the schedule set in the config.\nWith --source csv it serves the coins imported with `data import` (import a new file again\nto move them on); each --path file is imported first, as `data import` does.",
        "command": {},
        "params": [
            {
                "name": "host",
                "kind": "option",
                "annotation": "str",
                "default": "127.0.0.1",
                "param_decls": [
                    "--host",
                ],
                "help": "Interface to bind (loopback by default).",
            },
            {
                "name": "port",
                "kind": "option",
                "annotation": "int",
                "default": 8000,
                "param_decls": [
                    "--port",
                ],
                "help": "TCP port.",
                "min": 1,
                "max": 65535,
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str",
                "default": "snapshot",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "Candle source of the forecasts: snapshot, csv (the coins of `data import`), binance or coingecko.",
            },
            {
                "name": "path",
                "kind": "option",
                "annotation": "list[str] | None",
                "param_decls": [
                    "--path",
                ],
                "help": "With --source csv: a CSV file of daily candles to import and serve, as ID=FILE (or FILE: the id is its name, e.g. mycoin.csv is mycoin); repeatable.",
            },
            {
                "name": "log_level",
                "kind": "option",
                "annotation": "str",
                "default": "info",
                "param_decls": [
                    "--log-level",
                ],
                "help": "uvicorn log level: critical, error, warning, info, debug, trace.",
            },
            {
                "name": "workers",
                "kind": "option",
                "annotation": "int",
                "default": 1,
                "param_decls": [
                    "--workers",
                    "-w",
                ],
                "help": "Server processes; the candle refresher and scheduled jobs run in one of them.",
                "min": 1,
                "max": 64,
            },
        ],
    },
    "forecast": {
        "help": "Forecast from the production model (or the labelled fallback), with 80%/95% intervals.\n\nEach forecast says its last candle (as of) and whether that candle is stale.",
        "command": {},
        "params": [
            {
                "name": "crypto_ids",
                "kind": "argument",
                "annotation": "list[str]",
                "default": ...,
                "help": "Asset ids or symbols, e.g. bitcoin ETH.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "list[int] | None",
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Candles ahead, 1 to 14 (repeatable); default 1.",
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str",
                "default": "snapshot",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "Candle source: snapshot, csv (a coin from `data import`, or --path FILE), binance or coingecko.",
            },
            {
                "name": "path",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--path",
                ],
                "help": "CSV file of candles (with --source csv): read under the id given, nothing imported.",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print JSON instead of a table.",
            },
            {
                "name": "quantiles",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--quantiles",
                ],
                "help": "Show every quantile of the distribution, not the median.",
            },
            {
                "name": "refresh",
                "kind": "option",
                "annotation": "bool",
                "default": True,
                "param_decls": [
                    "--refresh/--no-refresh",
                ],
                "help": "Live sources: fetch new candles into the cache first (default: yes).",
            },
            {
                "name": "as_of",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--as-of",
                ],
                "help": "Forecast from what was known then. A date (2025-01-01) means that day's close; a date-time (2025-01-01T12:00, UTC unless it ends in Z or an offset such as +02:00) means the last candle closed at or before it (a 1d candle dated D closes at D+1 00:00 UTC). Such a back-dated forecast is not recorded in the ledger. Default: the latest candle.",
            },
        ],
    },
    "check-leakage": {
        "help": "Prove features never look ahead: recompute them on truncated history and compare.",
        "command": {},
        "params": [
            {
                "name": "features",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--features",
                ],
                "help": "Your feature function as module:function or file.py:function (default: the built-in features).",
            },
            {
                "name": "assets",
                "kind": "option",
                "annotation": "list[str] | None",
                "param_decls": [
                    "--asset",
                    "-a",
                ],
                "help": "Asset id; repeat for several (default: every embedded asset).",
            },
            {
                "name": "interval",
                "kind": "option",
                "annotation": "str",
                "default": "1d",
                "param_decls": [
                    "--interval",
                    "-i",
                ],
                "help": "1d or 4h",
            },
            {
                "name": "cuts",
                "kind": "option",
                "annotation": "int",
                "default": 50,
                "param_decls": [
                    "--cuts",
                ],
                "help": "Random cut points per asset.",
                "min": 1,
                "max": 10000,
            },
            {
                "name": "seed",
                "kind": "option",
                "annotation": "int",
                "default": 0,
                "param_decls": [
                    "--seed",
                ],
                "help": "Seed of the random cut points.",
                "min": 0,
                "max": 4294967295,
            },
            {
                "name": "market",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--market",
                ],
                "help": "Pass this asset's candles as market= (e.g. bitcoin).",
            },
        ],
    },
    "version": {
        "help": "Print the package version.",
        "command": {},
        "params": [],
    },
    "data list": {
        "help": "List the assets with their coverage in the embedded snapshot, and the imported coins.",
        "command": {},
        "params": [
            {
                "name": "interval",
                "kind": "option",
                "annotation": "str",
                "default": "1d",
                "param_decls": [
                    "--interval",
                    "-i",
                ],
                "help": "1d or 4h",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print the rows as JSON.",
            },
        ],
    },
    "data import": {
        "help": "Import a coin's candles from a CSV file: validated, cached and catalogued.\n\nLater commands (`--source csv`) and the service then know the coin without the file. A bad\nfile changes nothing; a new import replaces the coin's candles of that interval.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "The coin's id, a lower-case name of your choice, e.g. mycoin.",
            },
            {
                "name": "file",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "CSV of candles: open_time (ISO 8601 UTC or epoch ms), OHLCV.",
            },
            {
                "name": "interval",
                "kind": "option",
                "annotation": "str",
                "default": "1d",
                "param_decls": [
                    "--interval",
                    "-i",
                ],
                "help": "1d or 4h.",
            },
            {
                "name": "symbol",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--symbol",
                ],
                "help": "Its symbol (default: the id in capitals).",
            },
            {
                "name": "name",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--name",
                ],
                "help": "Its name (default: the id).",
            },
        ],
    },
    "data show": {
        "help": "Show the last candles of one asset.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "Asset id or symbol, e.g. bitcoin or BTC.",
            },
            {
                "name": "days",
                "kind": "option",
                "annotation": "int",
                "default": 10,
                "param_decls": [
                    "--days",
                    "-n",
                ],
                "help": "How many candles.",
                "min": 1,
                "max": 100000,
            },
            {
                "name": "interval",
                "kind": "option",
                "annotation": "str",
                "default": "1d",
                "param_decls": [
                    "--interval",
                    "-i",
                ],
                "help": "1d or 4h.",
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str",
                "default": "snapshot",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "snapshot, csv, binance or coingecko.",
            },
            {
                "name": "end",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--end",
                ],
                "help": "Last day to show (inclusive).",
            },
            {
                "name": "path",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--path",
                ],
                "help": "CSV file for --source csv.",
            },
        ],
    },
    "data update": {
        "help": "Fetch new candles from a live source into the local cache (only what is missing).\n\nWithout --interval, a coin's daily candles come with its 4h candles where the source has\nthem (Binance; CoinGecko has daily closes only), as the service's refresher keeps them: the\ndistributions fitted on 4h candles serve from them.",
        "command": {},
        "params": [
            {
                "name": "ids",
                "kind": "argument",
                "annotation": "list[str] | None",
                "help": "Asset ids or symbols, e.g. bitcoin ETH.",
            },
            {
                "name": "source",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--source",
                    "-s",
                ],
                "help": "binance or coingecko (default binance; with --all: every cached one).",
            },
            {
                "name": "interval",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--interval",
                    "-i",
                ],
                "help": "1d or 4h (default 1d; with --all: every cached one).",
            },
            {
                "name": "all_series",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--all",
                ],
                "help": "Update every cached live series.",
            },
            {
                "name": "full",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--full",
                ],
                "help": "Download the whole history again.",
            },
            {
                "name": "base_url",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--base-url",
                ],
                "help": "API root, e.g. https://api.binance.us.",
            },
        ],
    },
    "config show": {
        "help": "Print the effective configuration, after the files and variables it was read from.\n\nSearch order (later wins): the defaults; one YAML file, the first of --path,\n$CRYPTOFORECAST_CONFIG, $CRYPTOFORECAST_HOME/config.yaml; CRYPTOFORECAST_<SECTION>__<KEY>\nenvironment variables. The current directory is never searched.",
        "command": {},
        "params": [
            {
                "name": "path",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--path",
                ],
                "help": "YAML config file to read.",
            },
            {
                "name": "schema",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--schema",
                ],
                "help": "Print the JSON schema instead: every key with its type, default, allowed range and description.",
            },
        ],
    },
    "registry list": {
        "help": "List registered models: point models and distributions (a distribution's scale model is\nshown beside its model type, e.g. ``distribution (har_rv)``).",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--crypto",
                    "-c",
                ],
                "help": "Only this asset.",
            },
            {
                "name": "model",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Only this model type.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Only this horizon.",
            },
            {
                "name": "status",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--status",
                ],
                "help": "staging, production or archived.",
            },
            {
                "name": "kind",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--kind",
                ],
                "help": "point or distribution (default: both).",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print the records as JSON.",
            },
            {
                "name": "ids",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--ids",
                ],
                "help": "Print only the ids, one a line, newest first (for scripts).",
            },
            {
                "name": "latest",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--latest",
                ],
                "help": "Only the newest matching model; fails when none matches. With --ids: ID=$(cryptoforecast registry list -c bitcoin -m lightgbm -H 1 --ids --latest).",
            },
        ],
    },
    "registry show": {
        "help": "Show one model: metrics (beside the naive forecast's when stored), config, lineage, files.",
        "command": {},
        "params": [
            {
                "name": "model_id",
                "kind": "argument",
                "annotation": "int",
                "default": ...,
                "help": "Model id from `registry list`.",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print the full record as JSON.",
            },
        ],
    },
    "registry promote": {
        "help": "Promote a model to production; the previous production model is archived.\n\nOnly a model whose latest promotion-gate decision passed is promoted without --force.",
        "command": {},
        "params": [
            {
                "name": "model_id",
                "kind": "argument",
                "annotation": "int",
                "default": ...,
                "help": "Model id to put in production.",
            },
            {
                "name": "reason",
                "kind": "option",
                "annotation": "str",
                "default": "promoted from the CLI",
                "param_decls": [
                    "--reason",
                ],
                "help": "Why (kept in the history).",
            },
            {
                "name": "force",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--force",
                ],
                "help": "Promote a model whose latest promotion-gate decision did not pass, or that has none (registered by hand); the history records the override.",
            },
        ],
    },
    "registry demote": {
        "help": "Put a production model back in staging; its key has no production model until a\npromotion or rollback (the service answers with the labelled fallback meanwhile).",
        "command": {},
        "params": [
            {
                "name": "model_id",
                "kind": "argument",
                "annotation": "int",
                "default": ...,
                "help": "Production model id to put back in staging.",
            },
            {
                "name": "reason",
                "kind": "option",
                "annotation": "str",
                "default": "demoted from the CLI",
                "param_decls": [
                    "--reason",
                ],
                "help": "Why (kept in the history).",
            },
        ],
    },
    "registry rollback": {
        "help": "Put the previous production model back in production.\n\nOnly a model whose latest promotion-gate decision passed returns without --force.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "Asset id, e.g. bitcoin.",
            },
            {
                "name": "model",
                "kind": "option",
                "annotation": "str",
                "default": ...,
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Model type, e.g. lightgbm.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "int",
                "default": 1,
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Forecast horizon in candles.",
            },
            {
                "name": "reason",
                "kind": "option",
                "annotation": "str",
                "default": "",
                "param_decls": [
                    "--reason",
                ],
                "help": "Why (kept in the history).",
            },
            {
                "name": "force",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--force",
                ],
                "help": "Roll back to a model whose latest promotion-gate decision did not pass, or that has none (forced in before); the history records the override.",
            },
        ],
    },
    "registry history": {
        "help": "Every stage change and promotion-gate decision for an asset, oldest first.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str",
                "default": ...,
                "help": "Asset id, e.g. bitcoin.",
            },
            {
                "name": "model",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Only this model type.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Only this horizon.",
            },
        ],
    },
    "ledger score": {
        "help": "Score past forecasts against realised closes: MAPE and MASE beside naive, interval coverage, and the served distribution's CRPS, coverage and PIT beside garch_ref and the 30-day Gaussian.",
        "command": {},
        "params": [
            {
                "name": "crypto_id",
                "kind": "argument",
                "annotation": "str | None",
                "help": "Only this asset.",
            },
            {
                "name": "model_type",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--model",
                    "-m",
                ],
                "help": "Only this model type.",
            },
            {
                "name": "horizon",
                "kind": "option",
                "annotation": "int | None",
                "param_decls": [
                    "--horizon",
                    "-H",
                ],
                "help": "Only this horizon.",
                "min": 1,
                "max": 14,
            },
            {
                "name": "url",
                "kind": "option",
                "annotation": "str | None",
                "param_decls": [
                    "--url",
                ],
                "help": "Ledger database URL.",
            },
            {
                "name": "as_json",
                "kind": "option",
                "annotation": "bool",
                "default": False,
                "param_decls": [
                    "--json",
                ],
                "help": "Print the rows as JSON.",
            },
        ],
    },
}
