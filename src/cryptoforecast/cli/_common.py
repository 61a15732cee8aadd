"""What every command shares: the console, number formatting, the progress bar and its callback,
the flag-speaking error translation and the ``--json`` output.

The root of the command line imports this module to print help and errors, so it imports no
pandas and no layer below the command line (``tests/test_cli_startup.py`` holds it to that)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cryptoforecast.exceptions import CryptoForecastError, DataError

__all__ = [
    "HELP",
    "CandlePathOption",
    "CandleSourceOption",
    "advance",
    "check_candle_path",
    "console",
    "echo_json",
    "error_console",
    "log_lines",
    "name_the_flag",
    "num",
    "progress_bar",
    "speaking_flags",
    "table",
]

HELP: dict[str, Any] = {"help_option_names": ["-h", "--help"]}
"""Context settings of every command group: ``-h`` is help everywhere (``-H`` is --horizon)."""

_SOURCE_HELP = "snapshot, csv (a coin from `data import`, or --path FILE), binance or coingecko."
CandleSourceOption = Annotated[str, typer.Option("--source", "-s", help=_SOURCE_HELP)]
"""``--source`` of the commands that model candles (train, backtest)."""

CandlePathOption = Annotated[
    str | None,
    typer.Option(
        "--path",
        help="CSV file of candles (with --source csv): read under the id given, nothing imported.",
    ),
]
"""``--path`` of the commands that read candles (train, backtest, forecast, serve)."""


def check_candle_path(source: str, path: str | None) -> None:
    """Refuse ``--path`` without ``--source csv``: only the csv source reads a file."""
    if path is not None and source != "csv":
        raise DataError(
            f"--path {path} is a CSV file of candles, read by --source csv, not --source "
            f"{source}; add --source csv (or leave --path out)"
        )


def console() -> Console:
    """A console that does not squeeze tables when output is not a terminal."""
    con = Console()
    if not con.is_terminal:
        con = Console(width=140)
    return con


def error_console() -> Console:
    """Standard error, one line per message even when it is not a terminal (logs, pipes, CI)."""
    return Console(stderr=True, soft_wrap=True)


def num(value: object, fmt: str) -> str:
    """``value`` formatted with ``fmt``, or ``-`` when it is missing or NaN."""
    return "-" if not isinstance(value, int | float) or value != value else format(value, fmt)


def progress_bar(unit: str = "", *, disable: bool = False) -> Progress:
    """A transient progress bar on :func:`console`: spinner, description, bar, ``done/total
    unit`` and the time elapsed."""
    count = "{task.completed}/{task.total}" + (f" {unit}" if unit else "")
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn(count),
        TimeElapsedColumn(),
        console=console(),
        transient=True,
        disable=disable,
    )


def advance(progress: Any, task: Any, done: int, total: int) -> None:
    """Progress callback for the backtester: move a Rich task to ``done`` of ``total``."""
    progress.update(task, completed=done, total=total)


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (NaN as null, timestamps and paths as strings)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    typer.echo(json.dumps(clean(value), indent=2, sort_keys=True, default=str))


@contextlib.contextmanager
def speaking_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """Reword errors of lower layers so they name the user's flags, not Python parameters.

    ``flags`` maps a parameter name (``initial_train_size``) to the flag the user typed
    (``--initial-train-size``); ``name=`` and ``name='value'`` forms are reworded too.
    """
    try:
        yield
    except CryptoForecastError as exc:
        text = str(exc)
        for name, flag in flags.items():
            text = re.sub(rf"(?<![\w-]){re.escape(name)}=(?=[\s,;)]|$)", flag, text)
            text = re.sub(rf"(?<![\w-]){re.escape(name)}=", f"{flag} ", text)
            if "_" in name:  # plain words (days, source) stay: they are also English
                text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w])", flag, text)
        exc.args = (text,)
        raise


@contextlib.contextmanager
def log_lines(logger_name: str, con: Console) -> Iterator[None]:
    """Print the INFO records of ``logger_name`` on ``con`` while the block runs (progress lines)."""

    class _ToConsole(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            con.print(f"  {record.getMessage()}", highlight=False)

    log = logging.getLogger(logger_name)
    handler, previous = _ToConsole(logging.INFO), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(previous)


def _typed_options(root: Any, args: list[str]) -> list[tuple[str, str]]:
    """``(long flag, value)`` for every option with a value in ``args`` of the command run."""
    cmd, tokens = root, list(args)
    while getattr(cmd, "commands", None):  # walk down to the command the arguments name
        names = [t for t in tokens if not t.startswith("-")]
        if not names or names[0] not in cmd.commands:
            return []
        tokens = tokens[tokens.index(names[0]) + 1 :]
        cmd = cmd.commands[names[0]]
    by_opt = {
        opt: p
        for p in cmd.params
        if type(p).__name__.endswith("Option") and not getattr(p, "is_flag", False)
        for opt in p.opts
    }
    typed = []
    for i, tok in enumerate(tokens):
        name, eq, inline = tok.partition("=")
        param = by_opt.get(name)
        if param is not None:
            value = inline if eq else (tokens[i + 1] if i + 1 < len(tokens) else "")
            long = next((o for o in param.opts if o.startswith("--")), name)
            typed.append((long, value))
    return typed


def name_the_flag(message: str, root: Any, args: list[str]) -> str:
    """Prefix an error with the flag whose value it is about, when it names no flag itself.

    A lower layer says ``unknown interval '5m'``; the user typed ``--interval 5m``, so the line
    becomes ``--interval 5m: unknown interval '5m' ...``.
    """
    typed = [(flag, value) for flag, value in _typed_options(root, args) if value]
    if not typed or any(flag in message for flag, _ in typed):
        return message
    patterns = (
        lambda v: f"'{v}'" in message or f'"{v}"' in message,
        lambda v: re.search(rf"(got|given|at|found:?) {re.escape(v)}\b", message) is not None,
        lambda v: re.search(rf"(?<![\w.-]){re.escape(v)}(?![\w-])", message) is not None,
    )
    for matches in patterns:
        for flag, value in typed:
            if matches(value):
                return f"{flag} {value}: {message}"
    return message


def table(title: str, columns: Sequence[str], left: Collection[str]) -> Table:
    """A Rich table with ``columns``: those in ``left`` (text) left-aligned, figures right."""
    out = Table(title=title)
    for col in columns:
        out.add_column(col, justify="left" if col in left else "right")
    return out
