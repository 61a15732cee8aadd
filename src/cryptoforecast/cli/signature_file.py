"""The file :mod:`cryptoforecast.cli.signatures`: every command's signature written as literals.

``python -m cryptoforecast.cli.signature_file`` rewrites it from the commands themselves
(:func:`cryptoforecast.cli.stand_in.describe_commands`); ``tests/test_cli_stand_in.py`` renders
it again in memory and fails when the file differs.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptoforecast.cli.stand_in import describe_commands

__all__ = ["REGENERATE", "render_signatures", "write_signatures"]

REGENERATE = "python -m cryptoforecast.cli.signature_file"
"""The command that rewrites :mod:`cryptoforecast.cli.signatures` from the commands."""


def _literal(value: Any, indent: str) -> str:
    """``value`` (dicts, lists and scalars) as Python source, one item a line with trailing
    commas, as ``ruff format`` leaves it."""
    inner = indent + "    "
    if isinstance(value, dict) and value:
        items = "".join(
            f"{inner}{_literal(k, inner)}: {_literal(v, inner)},\n" for k, v in value.items()
        )
        return "{\n" + items + indent + "}"
    if isinstance(value, list) and value:
        items = "".join(f"{inner}{_literal(v, inner)},\n" for v in value)
        return "[\n" + items + indent + "]"
    if isinstance(value, str):
        return _string(value)
    if value is Ellipsis:
        return "..."
    return repr(value)


def _string(text: str) -> str:
    quoted = repr(text)
    if quoted.startswith("'") and '"' not in text:
        quoted = '"' + quoted[1:-1].replace("\\'", "'") + '"'
    return quoted


def render_signatures(signatures: Mapping[str, Any]) -> str:
    """The source of :mod:`cryptoforecast.cli.signatures` holding ``signatures``."""
    return (
        '"""Every command\'s signature as plain literals, by command path: what the command line\n'
        "needs to parse a command's arguments, and print its help, before importing its module\n"
        "(:mod:`cryptoforecast.cli.stand_in` rebuilds each command from it).\n\n"
        f"Generated from the commands by ``{REGENERATE}``: do not edit by hand.\n"
        '"""\n\n'
        "from typing import Any\n\n"
        '__all__ = ["SIGNATURES"]\n\n'
        f"SIGNATURES: dict[str, Any] = {_literal(dict(signatures), '')}\n"
    )


def write_signatures() -> None:
    """Rewrite :mod:`cryptoforecast.cli.signatures` from the commands (:data:`REGENERATE`)."""
    target = Path(__file__).with_name("signatures.py")
    target.write_text(render_signatures(describe_commands()), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")


if __name__ == "__main__":  # pragma: no cover
    write_signatures()
