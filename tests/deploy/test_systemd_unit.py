"""The shipped systemd unit for ``cryptoforecast serve`` (deploy/systemd/cryptoforecast-serve.service):
what it runs is a command line this package accepts, with the settings the README promises, its
secret only in the environment file, and ``systemd-analyze verify`` accepts it (where installed);
the README shows the file as it is."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "deploy" / "systemd" / "cryptoforecast-serve.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_runs_the_service_as_its_own_user_on_loopback() -> None:
    service = _unit()["Service"]
    assert service["User"] == "cryptoforecast"
    assert service["Environment"] == "CRYPTOFORECAST_HOME=/var/lib/cryptoforecast"
    assert service["EnvironmentFile"] == "/etc/cryptoforecast/serve.env"
    assert service["Restart"] == "on-failure"
    exe, *args = shlex.split(service["ExecStart"])
    assert exe == f"{service['WorkingDirectory']}/.venv/bin/cryptoforecast"
    assert args == ["serve", "--host", "127.0.0.1", "--port", "8000"]
    # hardening: read-only system but for the service's home, no privilege gain, a private /tmp
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/cryptoforecast"
    assert (service["NoNewPrivileges"], service["PrivateTmp"]) == ("yes", "yes")
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_admin_token_is_never_in_the_unit() -> None:
    text = UNIT.read_text(encoding="utf-8")
    settings = [line for line in text.splitlines() if line and not line.startswith(("#", "["))]
    assert settings and not any("ADMIN_TOKEN" in line for line in settings)


def test_the_command_it_runs_is_one_the_cli_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ExecStart``'s arguments, given to this package's command line: uvicorn is asked for
    exactly that host and port (uvicorn itself is not started)."""
    from cryptoforecast.cli import main
    from cryptoforecast.cli.app_factory import SOURCE_ENV

    _, *args = shlex.split(_unit()["Service"]["ExecStart"])
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append(k))
    monkeypatch.setenv(SOURCE_ENV, "snapshot")  # serve sets it; restored after the test
    assert main(args) == 0
    ((kwargs,),) = [calls]
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("127.0.0.1", 8000, 1)


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    """``systemd-analyze verify``, with ExecStart pointed at this environment's command."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    command = Path(sys.executable).parent / "cryptoforecast"
    if not command.is_file():
        pytest.skip(f"no cryptoforecast command beside {sys.executable}: pip install -e .")
    text = UNIT.read_text(encoding="utf-8")
    shipped = "/opt/cryptoforecast/.venv/bin/cryptoforecast"
    assert shipped in text
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace(shipped, str(command)), encoding="utf-8")
    done = subprocess.run(
        [analyze, "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert done.returncode == 0 and UNIT.name not in done.stderr, done.stderr


def test_the_readme_shows_the_unit_as_shipped() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = (
        f"`{UNIT.relative_to(REPO).as_posix()}`:\n\n```ini\n{UNIT.read_text(encoding='utf-8')}```"
    )
    assert shown in readme
