"""``cryptoforecast config``: the effective configuration."""

from __future__ import annotations

from typing import Annotated

import typer
import yaml

from cryptoforecast.config import load_config

__all__ = ["config_app"]

config_app = typer.Typer(help="Configuration.", no_args_is_help=True)


@config_app.command("show")
def config_show(
    path: Annotated[str | None, typer.Option("--path", help="YAML config file to read.")] = None,
) -> None:
    """Print the effective configuration (defaults, file, environment)."""

    settings = load_config(path)
    typer.echo(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False).rstrip())
