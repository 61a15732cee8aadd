"""Debian's Chromium for the browser tests: where it is, and the one rule for when it is missing
(skip on a developer machine, fail under CI, where ``.ci/run`` installs it). Playwright's Python
driver drives it; ``playwright install`` is never needed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ENV = "CRYPTOFORECAST_CHROMIUM"
INSTALL_HINT = (
    "the browser tests need Chromium and Playwright's Python driver: "
    "apt-get update && apt-get install -y chromium && pip install playwright==1.65.2 "
    "(never 'playwright install'; set $CRYPTOFORECAST_CHROMIUM if the binary is not "
    "/usr/bin/chromium)"
)


def chromium_path() -> str | None:
    found = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


def require_chromium() -> str:
    """The Chromium binary, with Playwright importable; else skip (fail under ``CI=true``)."""
    path = chromium_path()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is missing under CI: {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)
    return path
