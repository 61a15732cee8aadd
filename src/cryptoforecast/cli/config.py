"""``cryptoforecast config``: the effective configuration."""

from __future__ import annotations

import json
from typing import Annotated

import typer
import yaml

from cryptoforecast.cli._common import HELP
from cryptoforecast.config import Settings, config_sources, load_config

__all__ = ["config_app"]

config_app = typer.Typer(help="Configuration.", no_args_is_help=True, context_settings=HELP)


@config_app.command("show")
def config_show(
    path: Annotated[str | None, typer.Option("--path", help="YAML config file to read.")] = None,
    schema: Annotated[
        bool,
        typer.Option(
            "--schema",
            help="Print the JSON schema instead: every key with its type, default, allowed "
            "range and description.",
        ),
    ] = False,
) -> None:
    """Print the effective configuration, after the files and variables it was read from.

    Search order (later wins): the defaults; one YAML file, the first of --path,
    $CRYPTOFORECAST_CONFIG, $CRYPTOFORECAST_HOME/config.yaml; CRYPTOFORECAST_<SECTION>__<KEY>
    environment variables. The current directory is never searched.
    """
    if schema:
        typer.echo(json.dumps(Settings.model_json_schema(), indent=2))
        return

    settings = load_config(path)
    for line in config_sources(path):
        typer.echo(f"# read: {line}")
    typer.echo(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False).rstrip())
