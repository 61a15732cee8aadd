"""Time ``cryptoforecast --help`` (and ``--version``, a command's ``--help`` and a bad option of
one command) from a fresh interpreter, as a user waits.

Each run is ``python -m cryptoforecast --help`` in a subprocess, so the time includes starting
Python; the median of ``--repeat`` runs is printed with the load average before and after (the
machine may be shared). ``--src DIR`` times another source tree (e.g. an older commit's ``src``
from ``git archive``), interleaved with this one so both see the same load.

Run: ``.venv/bin/python benchmarks/bench_cli_start.py [--repeat 7] [--src /tmp/old/src]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def start_seconds(src: Path, args: list[str]) -> float:
    """Wall time of ``python -m cryptoforecast *args`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cryptoforecast", *args],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return time.perf_counter() - t


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--src", type=Path, action="append", default=[], help="another src tree")
    opts = parser.parse_args()
    trees = {"this tree": SRC, **{str(p): p for p in opts.src}}
    print(f"load average (1/5/15 min) before: {_load()}; {os.cpu_count()} cores")
    for args in (["--help"], ["--version"], ["train", "--help"], ["train", "--bogus"]):
        times: dict[str, list[float]] = {name: [] for name in trees}
        start_seconds(SRC, args)  # warm the file cache
        for _ in range(opts.repeat):
            for name, src in trees.items():
                times[name].append(start_seconds(src, args))
        for name, ts in times.items():
            print(
                f"cryptoforecast {' '.join(args):13} ({name}), {opts.repeat} runs: "
                f"median {statistics.median(ts):.3f} s, best {min(ts):.3f} s, "
                f"worst {max(ts):.3f} s (aim: < 0.4 s on an idle machine)"
            )
    print(f"load average (1/5/15 min) after: {_load()}")


if __name__ == "__main__":
    main()
