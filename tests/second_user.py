"""A second service user for tests of a shared cache (root only; nothing to create or remove).

:func:`shared_home` is a directory owned by root and shared with the group :data:`OTHER_GID`
(set-group-ID, group rwx) under one every user may traverse; :func:`run_as_other_user` runs a
function in a forked child that has dropped to :data:`OTHER_UID` for good. The interpreter's own
files may be out of that user's reach, so whatever the function needs must be imported before.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["OTHER_GID", "OTHER_UID", "as_root_only", "run_as_other_user", "shared_home"]

#: the second service user and the group both users share (no passwd entry is needed)
OTHER_UID = OTHER_GID = 54321
as_root_only = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="acting as a second user needs root"
)


@contextmanager
def shared_home() -> Iterator[Path]:
    """A home shared by root and group OTHER_GID, used meanwhile with ``umask 0027``."""
    try:
        pwd.getpwuid(OTHER_UID)
        pytest.skip(f"uid {OTHER_UID} exists on this machine; the test needs an unused one")
    except KeyError:
        pass
    outer = Path(tempfile.mkdtemp(prefix="cf-shared-"))
    os.chmod(outer, 0o711)
    home = outer / "home"
    home.mkdir()
    os.chown(home, 0, OTHER_GID)
    os.chmod(home, 0o2770)
    old = os.umask(0o027)
    try:
        yield home
    finally:
        os.umask(old)
        shutil.rmtree(outer)


def run_as_other_user(fn: Callable[[], int], home: Path) -> tuple[int, str, str]:
    """``fn()`` run by OTHER_UID (group OTHER_GID, umask 0027, ``$CRYPTOFORECAST_HOME`` and
    ``$HOME`` = ``home``) in a forked child; returns its exit code, stdout and stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 70
            try:
                os.setgroups([OTHER_GID])
                os.setgid(OTHER_GID)
                os.setuid(OTHER_UID)
                os.umask(0o027)
                os.environ.update({"CRYPTOFORECAST_HOME": str(home), "HOME": str(home)})
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                code = fn()
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), out.read().decode(), err.read().decode()
