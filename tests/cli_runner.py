"""Run the ``cryptoforecast`` command in-process, as a user would type it."""

from __future__ import annotations

import pytest

from cryptoforecast.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The exit code, standard output and standard error of ``cryptoforecast *args``."""
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err
