"""A command's stand-in: its parameters rebuilt from plain literals, parsed before its module loads.

A command module imports its layer at the top (pandas, SQLAlchemy, the registry...), so building
the real command to report ``No such option`` would load them all. Instead every command's
signature - each parameter's annotation and its ``typer.Option`` / ``typer.Argument`` settings,
and the command's own settings - is recorded as literals in :mod:`cryptoforecast.cli.signatures`,
and :func:`stand_in` rebuilds the command from it through Typer's own code, the path the real
command takes. The stand-in parses the arguments first: a usage error, or ``--help``, ends there
with the real command's text; only arguments that parse import the command's module, and the
real command parses and runs them again.

:mod:`cryptoforecast.cli.signatures` is generated from the commands themselves by
:mod:`cryptoforecast.cli.signature_file`::

    python -m cryptoforecast.cli.signature_file

and ``tests/test_cli_stand_in.py`` fails when it is out of date.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import typer
from typer.core import MarkupMode, TyperCommand
from typer.models import ArgumentInfo, CommandInfo, DefaultPlaceholder, OptionInfo, ParameterInfo
from typer.utils import get_params_from_function

from cryptoforecast.cli.commands import COMMANDS, CommandEntry

if TYPE_CHECKING:  # Typer's own copy of click, for the annotations of the method overridden
    from typer._click import Command, Context

__all__ = ["ANNOTATIONS", "StandIn", "describe", "describe_commands", "stand_in"]

ANNOTATIONS: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "str | None": str | None,
    "int | None": int | None,
    "float | None": float | None,
    "list[str]": list[str],
    "list[int]": list[int],
    "list[float]": list[float],
    "list[str] | None": list[str] | None,
    "list[int] | None": list[int] | None,
    "list[float] | None": list[float] | None,
}
"""The parameter annotations a signature may name, by the text it records."""

_KINDS: dict[str, type[ParameterInfo]] = {"option": OptionInfo, "argument": ArgumentInfo}
_COMMAND_DEFAULTS = vars(CommandInfo())
_COMMAND_FIELDS = (
    "context_settings",
    "epilog",
    "short_help",
    "options_metavar",
    "add_help_option",
    "no_args_is_help",
    "hidden",
    "deprecated",
    "rich_help_panel",
)


class StandIn(TyperCommand):
    """A command rebuilt from its signature: it parses the arguments (a usage error or ``--help``
    ends there), then hands them, unchanged, to the real command that ``load`` builds."""

    load: Callable[[], Command]

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Context | None = None,
        **extra: Any,
    ) -> Context:
        with super().make_context(info_name, list(args), parent=parent, **extra):
            pass  # parsed: the arguments are valid for the real command too
        return self.load().make_context(info_name, args, parent=parent, **extra)


def _plain(value: Any) -> Any:
    """``value`` with its tuples as lists, as the signatures file writes them."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_literal(value: Any) -> bool:
    """Whether ``repr`` writes ``value`` as Python source that reads back equal."""
    if type(value) is float:
        return math.isfinite(value)
    if value is None or value is Ellipsis or type(value) in (str, int, bool):
        return True
    if type(value) in (list, tuple):
        return all(_is_literal(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_literal(v) for k, v in value.items())
    return False


def _annotation_text(path: str, name: str, annotation: Any) -> str:
    for text, known in ANNOTATIONS.items():
        if annotation == known:
            return text
    raise ValueError(
        f"cryptoforecast {path}: parameter {name!r} is annotated {annotation!r}, which a "
        f"signature cannot record; use one of {', '.join(ANNOTATIONS)}, or add it to ANNOTATIONS "
        "in cryptoforecast/cli/stand_in.py"
    )


def describe(path: str, info: CommandInfo) -> dict[str, Any]:
    """The signature of the command ``info`` registers, as literals: its help, the settings that
    differ from Typer's defaults, and each parameter's kind, annotation and settings that differ
    from a bare ``typer.Option()`` / ``typer.Argument()``.

    Raises ``ValueError`` naming the command and parameter when a value is no literal (a
    callback, a parser, an enum default): the stand-in could not rebuild it.
    """
    if info.callback is None or info.cls not in (None, TyperCommand):
        raise ValueError(
            f"cryptoforecast {path}: a signature records a plain Typer command with a callback, "
            f"got cls={info.cls!r}; register the command with @app.command()"
        )
    help_text = info.help if info.help is not None else inspect.getdoc(info.callback)
    command: dict[str, Any] = {}
    for field in _COMMAND_FIELDS:
        value = getattr(info, field)
        if isinstance(value, DefaultPlaceholder) or value == _COMMAND_DEFAULTS[field]:
            continue
        if not _is_literal(value):
            raise ValueError(f"cryptoforecast {path}: {field}={value!r} is no literal")
        command[field] = _plain(value)
    params = []
    for name, meta in get_params_from_function(info.callback).items():
        param_info = meta.default
        kind = next((k for k, cls in _KINDS.items() if type(param_info) is cls), None)
        if kind is None:
            raise ValueError(
                f"cryptoforecast {path}: parameter {name!r} is declared without typer.Option or "
                f"typer.Argument (default {param_info!r}); declare it with Annotated[..., "
                "typer.Option(...)]"
            )
        bare = vars(_KINDS[kind]())
        settings = {k: v for k, v in vars(param_info).items() if v != bare[k]}
        for key, value in settings.items():
            if not _is_literal(value):
                raise ValueError(
                    f"cryptoforecast {path}: parameter {name!r} has {key}={value!r}, which a "
                    "signature cannot record: give it a literal (str, int, float, bool, None or a "
                    "list of them), and validate inside the command what a callback would"
                )
        annotation = _annotation_text(path, name, meta.annotation)
        params.append({"name": name, "kind": kind, "annotation": annotation, **_plain(settings)})
    return {"help": help_text, "command": command, "params": params}


def describe_commands(commands: Mapping[str, CommandEntry] = COMMANDS) -> dict[str, Any]:
    """Every command's signature, by its path (``train``, ``registry promote``): imports every
        command module, so it is for writing :mod:`cryptoforecast.cli.signatures` and for the test
    that it is up to date, never for a start."""
    out: dict[str, Any] = {}
    for name, entry in commands.items():
        defined = entry.defined()
        if isinstance(defined, typer.Typer):
            for info in defined.registered_commands:
                sub = info.name or typer.main.get_command_name(info.callback.__name__)  # type: ignore[union-attr]
                out[f"{name} {sub}"] = describe(f"{name} {sub}", info)
        else:
            out[name] = describe(name, CommandInfo(name=name, callback=defined))
    return out


def stand_in(
    name: str,
    signature: Mapping[str, Any],
    load: Callable[[], Command],
    *,
    rich_markup_mode: MarkupMode,
    pretty_exceptions_short: bool,
) -> StandIn:
    """The command ``signature`` describes, built by Typer as the real one is; ``load`` builds
    the real command once the arguments parse."""
    parameters = []
    for param in signature["params"]:
        settings = {k: v for k, v in param.items() if k not in ("name", "kind", "annotation")}
        if "param_decls" in settings:
            settings["param_decls"] = tuple(settings["param_decls"])
        parameters.append(
            inspect.Parameter(
                param["name"],
                inspect.Parameter.KEYWORD_ONLY,
                default=_KINDS[param["kind"]](**settings),
                annotation=ANNOTATIONS[param["annotation"]],
            )
        )

    def callback(**kwargs: Any) -> None:  # never runs: make_context hands over to the real one
        raise AssertionError(f"the stand-in of {name!r} was invoked")

    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__annotations__ = {}
    command = typer.main.get_command_from_info(
        CommandInfo(
            name=name,
            cls=StandIn,
            callback=callback,
            help=signature["help"],
            **signature["command"],
        ),
        pretty_exceptions_short=pretty_exceptions_short,
        rich_markup_mode=rich_markup_mode,
    )
    assert isinstance(command, StandIn)
    command.load = load
    return command
