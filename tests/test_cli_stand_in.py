"""A command's stand-in answers as the command does: same signature, help, errors and exit codes.

The command line parses a command's arguments with a stand-in rebuilt from
``cryptoforecast/cli/signatures.py`` before importing the command's module
(``tests/test_cli_startup.py`` checks what it loads). Here: the file is what the commands give
today, and for every command and many wrong (and right) argument lists the stand-in prints the
same text and exit code as the real command, or hands the same parsed values over to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
from typer.models import CommandInfo

import cryptoforecast.cli.signatures
from cryptoforecast.cli import COMMANDS, LazyGroup, app
from cryptoforecast.cli.signature_file import REGENERATE, render_signatures
from cryptoforecast.cli.stand_in import StandIn, describe, describe_commands, stand_in


def test_the_signatures_file_is_what_the_commands_give_today() -> None:
    on_disk = Path(cryptoforecast.cli.signatures.__file__).read_text(encoding="utf-8")
    assert on_disk == render_signatures(describe_commands()), (
        f"cryptoforecast/cli/signatures.py is out of date with the commands: run `{REGENERATE}`"
    )


def test_every_command_has_a_signature_and_nothing_else_does() -> None:
    paths = {
        f"{name} {sub}" if sub else name
        for name, entry in COMMANDS.items()
        for sub in ([s for s, _ in entry.subcommands] or [""])
    }
    assert set(cryptoforecast.cli.signatures.SIGNATURES) == paths


def _pick(
    coin: Annotated[str, typer.Argument(help="A coin.")],
    days: Annotated[int, typer.Option("--days", "-d", min=1, max=9)] = 3,
) -> None:
    """Pick a coin."""


def _pick_fast(
    coin: Annotated[str, typer.Argument(help="A coin.")],
    days: Annotated[int, typer.Option("--days", "-d", min=1, max=9)] = 3,
    fast: Annotated[bool, typer.Option("--fast")] = False,
) -> None:
    """Pick a coin."""


def _command(fast: bool = False) -> CommandInfo:
    """A small command; ``fast``: its second version, with one more option."""
    return CommandInfo(name="pick", callback=_pick_fast if fast else _pick)


def test_a_changed_command_changes_its_signature() -> None:
    # the up-to-date test above can fail: one more option is a different signature
    before, after = describe("pick", _command()), describe("pick", _command(fast=True))
    assert before != after
    assert [p["name"] for p in after["params"]] == ["coin", "days", "fast"]
    assert render_signatures({"pick": before}) != render_signatures({"pick": after})


def test_what_a_signature_cannot_record_is_refused_naming_the_command_and_parameter() -> None:
    def with_callback(
        days: Annotated[int, typer.Option("--days", callback=lambda v: v)] = 1,
    ) -> None:
        """Days."""

    def with_path(where: Annotated[Path | None, typer.Option("--where")] = None) -> None:
        """Where."""

    with pytest.raises(ValueError, match=r"cryptoforecast odd: parameter 'days' has callback="):
        describe("odd", CommandInfo(name="odd", callback=with_callback))
    with pytest.raises(ValueError, match=r"cryptoforecast odd: parameter 'where' is annotated"):
        describe("odd", CommandInfo(name="odd", callback=with_path))


def _pairs() -> Iterator[tuple[str, Any, Any, StandIn]]:
    """(path, parent context, real command, stand-in) for every command of the table."""
    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    for name, entry in COMMANDS.items():
        root_ctx = root.make_context("cryptoforecast", [name])
        if not entry.subcommands:
            got = root.get_command(root_ctx, name)
            assert isinstance(got, StandIn), name
            yield name, root_ctx, root.commands[name], got
            continue
        group = root.get_command(root_ctx, name)
        assert isinstance(group, LazyGroup), name
        for sub, _ in entry.subcommands:
            group_ctx = group.make_context(name, [sub], parent=root_ctx)
            got = group.get_command(group_ctx, sub)
            assert isinstance(got, StandIn), f"{name} {sub}"
            yield f"{name} {sub}", group_ctx, group.commands[sub], got


PAIRS = list(_pairs())


def _answer(command: Any, name: str, args: list[str], parent: Any, capsys: Any) -> tuple:
    """What ``command`` does with ``args``: (printed, exit code, the command and values it
    would run with) - as ``cryptoforecast.cli.main`` shows usage errors."""
    try:
        ctx = command.make_context(name, list(args), parent=parent)
    except Exception as exc:
        if hasattr(exc, "show"):
            exc.show()
        out, err = capsys.readouterr()
        return out + err, getattr(exc, "exit_code", None), None, None
    out, err = capsys.readouterr()
    return out + err, None, ctx.command, ctx.params


def _cases(real: Any) -> list[list[str]]:
    """Wrong and right argument lists for ``real``: no arguments, an unknown option, extra
    arguments, and for every option no value, a word, a negative and a huge number."""
    required = [
        "bitcoin" if p.name.startswith("crypto") else "1" for p in real.params if p.required
    ]
    cases = [[], ["--no-such-option"], [*required, "extra", "more", "7"], ["-h"], ["--help"]]
    for param in real.params:
        if getattr(param, "is_flag", False) or not getattr(param, "opts", None):
            continue
        flag = param.opts[-1]
        for value in ([], ["word"], ["-5"], ["0"], ["3"], ["99999999999"]):
            cases.append([*required, flag, *value])
        cases.append([flag, "3", *required])
    return cases


@pytest.mark.parametrize(("path", "parent", "real", "substitute"), PAIRS, ids=[p[0] for p in PAIRS])
def test_the_stand_in_answers_every_argument_list_as_the_real_command(
    path: str, parent: Any, real: Any, substitute: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    name = path.split()[-1]
    for args in _cases(real):
        want = _answer(real, name, args, parent, capsys)
        got = _answer(substitute, name, args, parent, capsys)
        assert got == want, f"cryptoforecast {path} {' '.join(args)}"
        if want[1] is None:  # arguments that parse: handed over to the real command
            assert got[2] is real, f"cryptoforecast {path} {' '.join(args)}"


def test_the_stand_in_is_built_from_the_signature_alone() -> None:
    # no module needed to build it; the real command is built only by ``load``
    loaded: list[str] = []
    signature = describe("pick", _command())
    built = stand_in(
        "pick",
        signature,
        lambda: (
            loaded.append("pick")
            or typer.main.get_command_from_info(  # type: ignore[func-returns-value]
                _command(), pretty_exceptions_short=True, rich_markup_mode="rich"
            )
        ),
        rich_markup_mode="rich",
        pretty_exceptions_short=True,
    )
    with pytest.raises(Exception, match="less than or equal to 9"):
        built.make_context("pick", ["bitcoin", "--days", "10"])
    assert loaded == []
    ctx = built.make_context("pick", ["bitcoin", "-d", "4"])
    assert loaded == ["pick"]
    assert ctx.command is not built and ctx.params == {"coin": "bitcoin", "days": 4}
