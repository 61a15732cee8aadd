"""A real Dask cluster on 127.0.0.1 for tests: ``dask scheduler`` and ``dask worker`` processes.

Started as subprocesses (as a user starts them on their machines), waited for until every worker
has joined, and stopped by :meth:`DaskCluster.stop` (only the processes it started, by pid).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dask_command() -> list[str]:
    """The ``dask`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dask"]


class DaskCluster:
    """``dask scheduler`` plus ``n_workers`` single-threaded ``dask worker`` processes."""

    def __init__(
        self, workdir: Path, n_workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.workdir = Path(workdir)
        self.n_workers = n_workers
        self.env = dict(env if env is not None else os.environ)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []

    def _spawn(self, args: list[str], name: str) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                dask_command() + args, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        )

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.workdir.glob("*.log"))

    def start(self, timeout: float = 120.0) -> DaskCluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._spawn(
            ["scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
            "scheduler",
        )
        for i in range(self.n_workers):
            self._spawn(
                [
                    "worker",
                    self.address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--name",
                    f"w{i}",
                    "--local-directory",
                    str(self.workdir / f"w{i}"),
                ],
                f"worker{i}",
            )
        self.wait_for_workers(timeout)
        return self

    def wait_for_workers(self, timeout: float) -> None:
        from distributed import Client

        deadline = time.monotonic() + timeout
        while True:
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a Dask process exited: {dead}\n{self.logs()}")
            try:
                with Client(self.address, timeout="5s") as client:
                    client.wait_for_workers(
                        self.n_workers, timeout=max(1.0, deadline - time.monotonic())
                    )
                    return
            except (OSError, TimeoutError) as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not start: {exc}\n{self.logs()}") from exc
                time.sleep(0.5)

    def task_counts(self) -> dict[str, int]:
        """Training tasks each worker has run (by worker name), from the workers' own logs."""
        from distributed import Client

        def count(dask_worker: Any) -> int:
            log = dask_worker.state.log  # (key, ..., new state, ...) tuples
            done = {
                entry[0]
                for entry in log
                if "memory" in entry and str(entry[0]).startswith("train-")
            }
            return len(done)

        with Client(self.address, timeout="10s") as client:
            by_address = client.run(count)
            names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
        return {str(names[a]): n for a, n in by_address.items() if n}

    def stop(self) -> None:
        for proc in reversed(self.procs):  # workers first, the scheduler last
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> DaskCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
