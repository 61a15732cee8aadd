"""Helpers for the registry tests: artifact factory, and process entry points for the
concurrency test (importable by spawned children)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def register_and_promote(url: str, root: str, index: int, barrier: Any) -> None:
    """Save an artifact, wait for every worker, then register it and promote it at once."""
    from cryptoforecast.registry import ModelRegistry

    path = Path(root) / f"worker-{index}"
    path.mkdir()
    (path / "manifest.json").write_text('{"model_type": "fake"}')
    (path / "weights.bin").write_bytes(bytes([index]) * 64)
    reg = ModelRegistry(url, artifact_root=root, actor=f"worker-{index}")
    barrier.wait(timeout=120)
    model_id = reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=path,
        metrics={"val_mase": 1.0 - index / 100},
        config={"worker": index},
    )
    reg.promote(model_id, reason=f"worker {index}", force=True)  # registered by hand
    reg.close()


def write_artifact(root: Path, name: str, files: dict[str, bytes] | None = None) -> Path:
    """Create an artifact directory ``root/name`` holding ``files`` (a manifest and weights)."""
    path = root / name
    path.mkdir(parents=True)
    for rel, data in (
        files or {"manifest.json": b'{"model_type": "fake"}', "weights.bin": name.encode()}
    ).items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path
