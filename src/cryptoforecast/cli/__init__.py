"""The ``cryptoforecast`` command line (Typer + Rich): one thin module per command group.

Each command parses its arguments, calls one function of a lower layer and renders the result.
Errors print one clear line and exit 1 (2 for bad usage); ``--debug`` shows the traceback.

Starting at once
----------------
:data:`COMMANDS` (:mod:`cryptoforecast.cli.commands`) is the one table of the root's commands and
command groups: the name the user types, the module and attribute that define it, and the short
help the root lists. This is the one place where the command line imports lazily (every other
module imports at its top): the root's :class:`LazyGroup` lists the table without importing
anything, and a group lists its commands from the table too, so ``cryptoforecast --help``,
``cryptoforecast data --help``, ``--version`` and an unknown command import nothing below this
layer.

A command's arguments are parsed before its module is imported: :data:`SIGNATURES`
(:mod:`cryptoforecast.cli.signatures`, generated from the commands by
``python -m cryptoforecast.cli.signature_file``) records every command's parameters as literals,
and :func:`~cryptoforecast.cli.stand_in.stand_in` rebuilds the command from them through Typer's
own code. That stand-in answers a usage error (unknown option, bad value, missing or extra
argument) and the command's own ``--help`` with the real command's text and exit code; only
arguments that parse import the command's module, whose real command parses and runs them.
None of these loads pandas, SQLAlchemy, a model, training or serving library, or our layers
below the command line; ``tests/test_cli_startup.py`` checks that, and
``tests/test_cli_stand_in.py`` that the signatures, messages and help texts match the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo, TyperInfo

from cryptoforecast import __version__
from cryptoforecast.cli._common import HELP, error_console, name_the_flag
from cryptoforecast.cli.commands import COMMANDS, CommandEntry
from cryptoforecast.cli.signatures import SIGNATURES
from cryptoforecast.cli.stand_in import stand_in
from cryptoforecast.exceptions import CryptoForecastError

if TYPE_CHECKING:  # Typer's own copy of click, for the annotations of the methods overridden
    from typer._click import Command, Context, HelpFormatter

__all__ = ["COMMANDS", "CommandEntry", "LazyGroup", "app", "main"]


class _LazyCommands(Mapping[str, "Command"]):
    """A group's commands by name: the names and short helps are known at once, each command is
    built (its module imported) on first access and kept.

    ``path`` is the group's place in the command line (``""`` for the root, ``"registry "`` for
    a group), the prefix of its commands' keys in :data:`SIGNATURES`.
    """

    def __init__(
        self, loaders: Mapping[str, tuple[Callable[[], Command], str]], path: str = ""
    ) -> None:
        self._loaders = dict(loaders)
        self._built: dict[str, Command] = {}
        self._path = path

    def short_help(self, name: str) -> str:
        return self._loaders[name][1]

    def stand_in(self, name: str) -> Command | None:
        """The command rebuilt from its signature (parsing without importing its module), which
        builds the real one once the arguments parse; ``None`` for a group, which has none."""
        signature = SIGNATURES.get(self._path + name)
        if signature is None:
            return None
        return stand_in(
            name,
            signature,
            lambda: self[name],
            rich_markup_mode=app.rich_markup_mode,
            pretty_exceptions_short=app.pretty_exceptions_short,
        )

    def __contains__(self, name: object) -> bool:
        return name in self._loaders

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            self._built[name] = self._loaders[name][0]()
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


class LazyGroup(TyperGroup):
    """A Typer group whose commands are imported only when one runs with valid arguments.

    Listing the commands (the group's ``--help``, a "did you mean" suggestion) reads their names
    and short helps from :data:`COMMANDS`; a command to run is its stand-in, which parses the
    arguments first. The root is built this way, and so is each group. ``commands`` holds the
    real commands (built on first access).
    """

    commands: _LazyCommands  # type: ignore[assignment]

    def __init__(self, *, lazy: _LazyCommands | None = None, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _root_commands() if lazy is None else lazy
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in self.commands:
            return None
        if self._listing:  # the help screen shows the table's short help, importing nothing
            return TyperCommand(cmd_name, help=self.commands.short_help(cmd_name))
        return self.commands.stand_in(cmd_name) or self.commands[cmd_name]

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def _command(name: str, entry: CommandEntry) -> Command:
    return typer.main.get_command_from_info(
        CommandInfo(name=name, callback=entry.defined()),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


def _group(name: str, entry: CommandEntry) -> TyperGroup:
    """The group as its module declares it, built the way ``app.add_typer`` would."""
    return typer.main.get_group_from_info(
        TyperInfo(entry.defined(), name=name),
        pretty_exceptions_short=app.pretty_exceptions_short,
        suggest_commands=app.suggest_commands,
        rich_markup_mode=app.rich_markup_mode,
    )


def _lazy_group(name: str, entry: CommandEntry) -> LazyGroup:
    """A group that lists its commands from the table and builds the real one to run them."""

    def subcommand(sub: str) -> Callable[[], Command]:
        return lambda: _group(name, entry).commands[sub]

    lazy = _LazyCommands(
        {sub: (subcommand(sub), short) for sub, short in entry.subcommands}, f"{name} "
    )
    return LazyGroup(
        lazy=lazy,
        name=name,
        help=entry.help,
        no_args_is_help=True,
        context_settings=HELP,
        rich_markup_mode=app.rich_markup_mode,
        suggest_commands=app.suggest_commands,
    )


def _root_commands() -> _LazyCommands:
    def load(name: str, entry: CommandEntry) -> Callable[[], Command]:
        if entry.subcommands:
            return lambda: _lazy_group(name, entry)
        return lambda: _command(name, entry)

    return _LazyCommands({name: (load(name, e), e.help) for name, e in COMMANDS.items()})


app = typer.Typer(
    name="cryptoforecast",
    help="Cryptocurrency price forecasts, always reported beside the naive forecast.",
    cls=LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings=HELP,
)


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
