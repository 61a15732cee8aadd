"""What every command shares: the console, number formatting, the progress callback."""

from __future__ import annotations

from typing import Any

from rich.console import Console

__all__ = ["console", "error_console", "num", "advance"]


def console() -> Console:
    """A console that does not squeeze tables when output is not a terminal."""
    con = Console()
    if not con.is_terminal:
        con = Console(width=140)
    return con


def error_console() -> Console:
    """Standard error, one line per message even when it is not a terminal (logs, pipes, CI)."""
    return Console(stderr=True, soft_wrap=True)


def num(value: object, fmt: str) -> str:
    """``value`` formatted with ``fmt``, or ``-`` when it is missing or NaN."""
    return "-" if not isinstance(value, int | float) or value != value else format(value, fmt)


def advance(progress: Any, task: Any, done: int, total: int) -> None:
    """Progress callback for the backtester: move a Rich task to ``done`` of ``total``."""
    progress.update(task, completed=done, total=total)
