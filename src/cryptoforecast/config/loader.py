"""Where the configuration comes from: the YAML file (named, from ``$CRYPTOFORECAST_CONFIG`` or
in ``$CRYPTOFORECAST_HOME``), ``CRYPTOFORECAST_<SECTION>__<KEY>`` environment variables and
explicit overrides, merged over the defaults and validated into :class:`Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from cryptoforecast.config.settings import Settings
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.paths import HOME_ENV

__all__ = [
    "CONFIG_ENV",
    "ENV_PREFIX",
    "HOME_CONFIG",
    "config_file",
    "config_sources",
    "load_config",
]

ENV_PREFIX = "CRYPTOFORECAST_"
CONFIG_ENV = "CRYPTOFORECAST_CONFIG"


def _bound(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _allowed(loc: tuple[int | str, ...]) -> str:
    """`` (allowed: >= 0 and <= 2592000)`` for the numeric setting at ``loc``; ``""`` when the
    setting declares no bounds (not a number, or not a setting)."""
    model: Any = Settings
    field = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or not fields or part not in fields:
            return ""
        field = fields[part]
        model = field.annotation
    if field is None:
        return ""
    lower = upper = ""
    for rule in field.metadata:  # pydantic's annotated-types constraints, read by their names
        for name, sign in (("ge", ">="), ("gt", ">")):
            if getattr(rule, name, None) is not None:
                lower = f"{sign} {_bound(getattr(rule, name))}"
        for name, sign in (("le", "<="), ("lt", "<")):
            if getattr(rule, name, None) is not None:
                upper = f"{sign} {_bound(getattr(rule, name))}"
    allowed = " and ".join(b for b in (lower, upper) if b)
    kind = "a whole number" if int in (model, *get_args(model)) else "a finite number"
    return f" (allowed: {kind} {allowed})" if allowed else ""


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        value = err.get("input")
        lines.append(f"{key} = {value!r}: {err['msg']}{_allowed(err['loc'])}")
    return (
        f"invalid configuration ({source}): "
        + "; ".join(lines)
        + (
            ". Fix the value in the file or environment variable named, or remove it to use the default."
        )
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}. Pass an existing YAML file.") from None
    except IsADirectoryError:
        raise ConfigError(
            f"config path {path} is a directory; pass the YAML file itself "
            "(e.g. configs/model_config.yaml)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as "
            "UTF-8 YAML"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {path}: {exc.strerror or exc}; check the path and "
            "its permissions"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of sections, got {type(data).__name__}"
        )
    return data


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    fields = set(Settings.model_fields)
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in fields:
            continue  # e.g. CRYPTOFORECAST_HOME: not a model setting
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"environment variable {name}={raw!r} is not a valid value: {exc}"
            ) from None
        _set_override(overrides, parts, value, name, environ)
    return overrides


def _set_override(
    overrides: dict[str, Any],
    parts: list[str],
    value: Any,
    name: str,
    environ: Mapping[str, str],
) -> None:
    """Put ``value`` at ``parts`` in ``overrides``; a section set both whole and by key is an
    error naming both variables (``CRYPTOFORECAST_LIGHTGBM`` and ``..._LIGHTGBM__NUM_LEAVES``)."""
    node = overrides
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        existing = node.get(part)
        clash = (last and isinstance(existing, dict)) or (
            not last and part in node and not isinstance(existing, dict)
        )
        if clash:
            whole = ENV_PREFIX + "__".join(parts[: depth + 1]).upper()
            others = sorted(k for k in environ if k.startswith(whole) and k != name)
            raise ConfigError(
                f"environment variables {name} and {', '.join(others) or whole} both set "
                f"{'.'.join(parts[: depth + 1])!r}: one sets the whole section, the other one "
                f"of its keys. Keep only the per-key variables (e.g. {whole}__<KEY>=...)."
            )
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


HOME_CONFIG = "config.yaml"
"""The config file looked for in ``$CRYPTOFORECAST_HOME`` when no other is named."""


def config_file(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path | None, str]:
    """The YAML file :func:`load_config` reads, and where its name came from (``None``: none)."""
    env = os.environ if environ is None else environ
    if path is not None:
        return Path(path), "path argument"
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]), f"${CONFIG_ENV}"
    raw_home = env.get(HOME_ENV)
    home = Path(raw_home).expanduser() if raw_home else Path.home() / ".cache" / "cryptoforecast"
    if (home / HOME_CONFIG).is_file():
        return home / HOME_CONFIG, f"${HOME_ENV}/{HOME_CONFIG}"
    return None, f"no file (none named, no ${HOME_ENV}/{HOME_CONFIG})"


def config_sources(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> list[str]:
    """What :func:`load_config` reads, in order: the defaults, the file, each variable."""
    env = os.environ if environ is None else environ
    file, why = config_file(path, env)
    lines = ["defaults (configs/model_config.yaml is a copy of them)"]
    lines.append(f"file: {file} (from the {why})" if file is not None else f"file: {why}")
    fields = set(Settings.model_fields)
    for name in sorted(env):
        if name.startswith(ENV_PREFIX):
            section = name[len(ENV_PREFIX) :].lower().split("__")[0]
            if section in fields:
                lines.append(f"environment: {name}")
    return lines


def load_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Return the effective :class:`Settings` (defaults < YAML file < environment < overrides)."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    source = "defaults"
    path, _ = config_file(path, env)
    if path is not None:
        data = _read_yaml(Path(path))
        source = str(path)
    env_data = _env_overrides(env)
    if env_data:
        data = _deep_merge(data, env_data)
        source += " + environment"
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None
