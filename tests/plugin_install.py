"""The test plug-in ``tests/plugins/cf_ridge`` installed as a distribution (a ``.dist-info`` with
its METADATA and entry points beside the package, on a temporary ``sys.path`` entry: what pip
leaves in site-packages), and the README's example plug-in file. No network, no build step."""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from cryptoforecast.models.plugins import plugin_registry

ROOT = Path(__file__).resolve().parents[1]
CF_RIDGE = ROOT / "tests" / "plugins" / "cf_ridge"
#: the README's example, loaded as a file plug-in
EXAMPLE = f"{ROOT / 'examples' / 'ridge_momentum.py'}:RidgeMomentum"


def install_cf_ridge(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Install ``cf_ridge`` (its package and a ``.dist-info`` written from its pyproject.toml)
    into ``site``, put ``site`` first on ``sys.path`` and ``PYTHONPATH``; returns ``site``."""
    project = tomllib.loads((CF_RIDGE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    shutil.copytree(CF_RIDGE / "cf_ridge", site / "cf_ridge")
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
        encoding="utf-8",
    )
    lines = []
    for group, eps in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {value}" for name, value in eps.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))
    return site


def forget_plugins() -> None:
    """No plug-in loaded (the registry emptied, the test plug-ins' modules unimported)."""
    plugin_registry().clear()
    for name in [n for n in sys.modules if n == "cf_ridge" or n.startswith("cf_ridge.")]:
        del sys.modules[name]
    sys.modules.pop("cryptoforecast_plugin_ridge_momentum", None)
