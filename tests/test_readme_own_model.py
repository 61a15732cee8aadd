"""The README's "Your own model" shows the example plug-in as it ships in ``examples/``, and the
example is a valid plug-in (the README runs it end to end in ``tests/test_readme.py``)."""

from __future__ import annotations

from pathlib import Path

from tests.test_readme import README, readme_blocks

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ridge_momentum.py"


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    (block,) = [b for b in blocks if b.mark == "file" and b.arg == "ridge_momentum.py"]
    assert block.text + "\n" == EXAMPLE.read_text(encoding="utf-8")


def test_the_readme_names_the_plugin_for_every_command_that_needs_it() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Your own model") : text.index("## Configuration")]
    for command in ("train litecoin", "backtest litecoin", "forecast litecoin"):
        (line,) = [ln for ln in section.splitlines() if f"cryptoforecast {command}" in ln]
        assert line.startswith("CRYPTOFORECAST_MODELS__PLUGINS=ridge_momentum.py:RidgeMomentum ")
