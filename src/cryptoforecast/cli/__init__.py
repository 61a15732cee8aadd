"""The ``cryptoforecast`` command line (Typer + Rich): one thin module per command group.

Each command parses its arguments, calls one function of a lower layer and renders the result.
Errors print one clear line and exit 1 (2 for bad usage); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cryptoforecast import __version__
from cryptoforecast.cli import backtest, data, demo, forecast, leakage, registry, serving, training
from cryptoforecast.cli import config as config_cmd
from cryptoforecast.cli._common import HELP, error_console, name_the_flag
from cryptoforecast.exceptions import CryptoForecastError

__all__ = ["app", "main"]

app = typer.Typer(
    name="cryptoforecast",
    help="Cryptocurrency price forecasts, always reported beside the naive forecast.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings=HELP,
)
app.add_typer(data.data_app, name="data")
app.add_typer(config_cmd.config_app, name="config")
app.add_typer(registry.registry_app, name="registry")
app.add_typer(serving.ledger_app, name="ledger")
app.command()(training.train)
app.command()(training.retrain)
app.command()(demo.demo)
app.command()(backtest.backtest)
app.command()(serving.serve)
app.command()(forecast.forecast)
app.command("check-leakage")(leakage.check_leakage)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cryptoforecast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Cryptocurrency price forecasts, always reported beside the naive forecast."""
    # ``--debug`` is read by main() from the arguments; the option is declared here for --help.


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(f"cryptoforecast {__version__}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one clear line per error, exit 1 (2 for usage errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except CryptoForecastError as exc:
        if debug:
            raise
        text = name_the_flag(str(exc), typer.main.get_command(app), args)
        error_console().print(f"[bold red]error:[/] {escape(text)}", highlight=False)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        return 1
    except Exception as exc:  # click usage errors and anything unexpected
        usage = getattr(exc, "exit_code", None) == 2 and hasattr(exc, "show")
        if usage or type(exc).__name__ in (
            "UsageError",
            "NoSuchOption",
            "BadParameter",
            "MissingParameter",
        ):
            exc.show()  # type: ignore[attr-defined]
            return 2
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()  # type: ignore[attr-defined]
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if debug:
            raise
        error_console().print(
            f"[bold red]error:[/] {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            highlight=False,
        )
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
