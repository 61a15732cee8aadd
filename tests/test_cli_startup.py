"""The command line starts at once: help, the version and argument errors import no layer below it.

Each case runs ``python -m cryptoforecast ...`` in a fresh interpreter and prints which heavy
libraries and which of our modules it loaded. The root lists its commands from one table
(``cryptoforecast.cli.COMMANDS``); the table is checked against the commands it names, so it
cannot drift from them. A command's own help and its argument errors come from its stand-in
(``tests/test_cli_stand_in.py`` checks they are the real command's), so its module stays unloaded.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import cryptoforecast
from cryptoforecast.cli import COMMANDS, LazyGroup, app

#: the source tree under test, first on the path of every probe
SRC = Path(cryptoforecast.__file__).resolve().parents[1]

#: libraries a help screen or a usage error must not load
HEAVY = (
    "pandas",
    "sqlalchemy",
    "lightgbm",
    "xgboost",
    "torch",
    "arch",
    "dask",
    "numpy",
    "scipy",
    "fastapi",
    "uvicorn",
    "statsmodels",
)

#: our layers below the command line: a help screen or a usage error loads none of them
OUR_LAYERS = (
    "cryptoforecast.training",
    "cryptoforecast.models",
    "cryptoforecast.serving",
    "cryptoforecast.registry",
    "cryptoforecast.replay",
    "cryptoforecast.backtest",
    "cryptoforecast.data",
    "cryptoforecast.features",
    "cryptoforecast.evaluation",
)

#: the modules that define the commands (the root's own ``version`` aside)
COMMAND_MODULES = tuple(sorted({e.module for e in COMMANDS.values()} - {"cryptoforecast.cli"}))

_PROBE = """
import json, runpy, sys
sys.argv = ["cryptoforecast", *json.loads(sys.argv[1])]
try:
    runpy.run_module("cryptoforecast", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""


def _run(args: list[str]) -> tuple[int, str, set[str]]:
    """Exit code, output and the top-level modules loaded by ``cryptoforecast *args``."""
    code, out, modules = _run_modules(args)
    return code, out, {m.split(".")[0] for m in modules}


def _run_modules(args: list[str]) -> tuple[int, str, set[str]]:
    """Exit code, output and every module loaded by ``cryptoforecast *args``."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE "))
    probe = json.loads(line.removeprefix("PROBE "))
    return int(probe["code"] or 0), proc.stdout + proc.stderr, set(probe["loaded"])


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["--help"], 0, "check-leakage"),
        (["-h"], 0, "registry"),
        ([], 2, "Usage:"),
        (["--version"], 0, "cryptoforecast "),
        (["version"], 0, "cryptoforecast "),
        (["nonsense-command"], 2, "No such command 'nonsense-command'"),
        (["trian"], 2, "Did you mean 'train'"),
        (["--bogus"], 2, "No such option: --bogus"),
        (["data", "--help"], 0, "update"),
        (["config", "--help"], 0, "show"),
        (["registry", "--help"], 0, "rollback"),
        (["ledger", "--help"], 0, "score"),
        (["data"], 2, "list"),
        (["data", "lst"], 2, "Did you mean 'list'"),
        (["registry", "--bogus"], 2, "No such option: --bogus"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_help_version_and_usage_errors_load_no_heavy_library(
    args: list[str], code: int, shown: str
) -> None:
    got, out, loaded = _run(args)
    assert got == code, out
    assert shown in out
    assert not loaded & set(HEAVY), f"cryptoforecast {' '.join(args)} loaded {loaded & set(HEAVY)}"


@pytest.mark.parametrize(
    ("args", "code", "shown"),
    [
        (["train", "--bogus"], 2, "No such option: --bogus"),
        (["forecast", "bitcoin", "-H", "x"], 2, "Invalid value for '--horizon' / '-H'"),
        (["backtest", "bitcoin", "--horizon", "99"], 2, "less than or equal to 14"),
        (["backtest", "bitcoin", "--fee-bps"], 2, "Option '--fee-bps' requires an argument"),
        (["registry", "promote"], 2, "Missing argument 'model_id'"),
        (["registry", "show", "1", "2"], 2, "Got unexpected extra argument(s) (2)"),
        (["data", "show", "bitcoin", "--days", "0"], 2, "greater than or equal to 1"),
        (["ledger", "score", "-H", "15"], 2, "less than or equal to 14"),
        (["train", "--help"], 0, "--no-distribution"),
        (["backtest", "-h"], 0, "--initial-train-size"),
        (["registry", "promote", "--help"], 0, "--force"),
        (["serve", "--help"], 0, "--workers"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_command_s_own_help_or_usage_error_loads_neither_its_module_nor_a_layer(
    args: list[str], code: int, shown: str
) -> None:
    # the command's stand-in answers from its recorded signature: the command's module, and
    # with it pandas, SQLAlchemy and our layers, is imported only for arguments that parse
    got, out, modules = _run_modules(args)
    assert got == code, out
    assert shown in out, out
    top = {m.split(".")[0] for m in modules}
    assert not top & set(HEAVY), f"cryptoforecast {' '.join(args)} loaded {top & set(HEAVY)}"
    ours = {m for m in modules if m.startswith(OUR_LAYERS + COMMAND_MODULES)}
    assert not ours, f"cryptoforecast {' '.join(args)} loaded {sorted(ours)}"


def test_valid_arguments_import_the_command_s_module_and_run_it() -> None:
    # the other side of the stand-in: arguments that parse reach the real command
    got, out, modules = _run_modules(["config", "show", "--schema"])
    assert got == 0, out
    assert "cryptoforecast.cli.config" in modules
    assert '"properties"' in out


def _first_paragraph(text: str | None) -> str:
    return " ".join(inspect.cleandoc(text or "").split("\n\n")[0].split())


def test_every_table_entry_names_an_existing_command() -> None:
    for name, entry in COMMANDS.items():
        defined = getattr(importlib.import_module(entry.module), entry.attribute, None)
        assert defined is not None, f"{name}: {entry.module} defines no {entry.attribute}"
        if entry.subcommands:
            assert isinstance(defined, typer.Typer), f"{name}: {entry.attribute} is no Typer"
        else:
            assert callable(defined) and not isinstance(defined, typer.Typer), name


def test_the_listed_short_help_is_each_command_s_own() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    assert list(root.commands) == list(COMMANDS)
    for name, entry in COMMANDS.items():
        real = root.commands[name]
        assert entry.help == _first_paragraph(real.help), name
        if not entry.subcommands:
            continue
        group = typer.main.get_group(
            getattr(importlib.import_module(entry.module), entry.attribute)
        )
        assert [sub for sub, _ in entry.subcommands] == list(group.commands), name
        for sub, short in entry.subcommands:
            assert short == _first_paragraph(group.commands[sub].help), f"{name} {sub}"
        # the group the root lists is the group its module declares
        assert real.help == group.help and real.no_args_is_help == group.no_args_is_help, name
        assert real.context_settings == group.context_settings, name


def test_a_group_runs_the_command_its_module_declares() -> None:
    root = typer.main.get_command(app)
    for name, entry in COMMANDS.items():
        for sub, _ in entry.subcommands:
            command = root.commands[name].commands[sub]  # type: ignore[attr-defined]
            assert command.callback is not None
            assert sys.modules[entry.module] is inspect.getmodule(command.callback), (name, sub)
