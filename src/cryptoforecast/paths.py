"""Where cryptoforecast keeps its files: ``$CRYPTOFORECAST_HOME`` (default ``~/.cache/cryptoforecast``),
and :func:`confine`, which keeps a path read from a record or a manifest inside its root."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptoforecast.exceptions import ArtifactError, CryptoForecastError

__all__ = ["confine", "home_dir", "list_files", "sha256_file"]

_CHUNK = 1 << 20
HOME_ENV = "CRYPTOFORECAST_HOME"


def home_dir(create: bool = True) -> Path:
    """Return the cryptoforecast home directory, read from the environment on every call."""
    raw = os.environ.get(HOME_ENV)
    path = Path(raw).expanduser() if raw else Path.home() / ".cache" / "cryptoforecast"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _first_link(lexical: Path, resolved: Path, real_root: Path, root: Path) -> Path | None:
    """The first symbolic link on ``lexical`` below the root (either spelling of it), or None."""
    for base in (real_root, Path(os.path.normpath(root.expanduser().absolute()))):
        if _inside(lexical, base):
            parts = lexical.relative_to(base).parts
            steps = (base.joinpath(*parts[:i]) for i in range(1, len(parts) + 1))
            return next((step for step in steps if step.is_symlink()), None)
    return lexical if resolved != lexical else None  # spelled outside, resolving inside


def confine(
    path: str | os.PathLike[str],
    root: str | os.PathLike[str],
    what: str,
    *,
    error: type[CryptoForecastError] = ArtifactError,
    root_name: str = "artifact root",
) -> Path:
    """``path`` (absolute, or relative to ``root``) resolved, if it stays inside ``root``.

    Refuses, with ``error`` (:class:`ArtifactError` by default): a path that resolves outside the
    root or to the root itself (``..``, an absolute path elsewhere), and a symbolic link on any
    component between the root and the target (a link could be swapped later to point anywhere).
    ``what`` names the path in the message (``"model_path"``, ``"artifact_path of model 3"``).
    """
    real_root = Path(root).expanduser().resolve()
    raw = Path(os.fspath(path)).expanduser()
    candidate = raw if raw.is_absolute() else real_root / raw
    resolved = candidate.resolve()
    if not _inside(resolved, real_root) or resolved == real_root:
        raise error(
            f"{what} {os.fspath(path)!r} resolves to {str(resolved)!r}, which is outside the "
            f"{root_name} {str(real_root)!r}. Files are only read and written inside that root: "
            "give a path under it (or relative to it)."
        )
    link = _first_link(Path(os.path.normpath(candidate)), resolved, real_root, Path(root))
    if link is not None:
        raise error(
            f"{what} {os.fspath(path)!r} goes through a symbolic link ({str(link)!r}); only real "
            f"files and directories under the {root_name} {str(real_root)!r} are used. Copy the "
            "files there instead of linking them."
        )
    return resolved


def sha256_file(path: Path) -> str:
    """The hex sha256 of one file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def list_files(path: Path) -> dict[str, Path]:
    """Every file of an artifact (a directory, or one file) by relative POSIX path.

    A symbolic link anywhere inside is refused with :class:`ArtifactError` (a link could point
    anywhere, and a directory link would not even be listed).
    """
    if path.is_symlink():
        raise ArtifactError(f"artifact {str(path)!r} is a symbolic link; refusing to follow it")
    if path.is_file():
        return {path.name: path}
    if not path.is_dir():
        raise ArtifactError(f"artifact {str(path)!r} is neither a file nor a directory")
    files: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            entry = Path(dirpath) / name
            if entry.is_symlink():
                raise ArtifactError(
                    f"artifact {str(path)!r} holds {str(entry)!r}, which links to "
                    f"{str(entry.resolve())!r}; artifacts must be real files, never symbolic "
                    "links. Copy the file into the artifact instead."
                )
        for name in sorted(filenames):
            file = Path(dirpath) / name
            files[file.relative_to(path).as_posix()] = file
    return files
