"""Time ``import cryptoforecast`` (and its light subpackages) in fresh interpreters.

Usage: python benchmarks/bench_import.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CODE = (
    "import time; t = time.perf_counter(); import cryptoforecast, cryptoforecast.data, "
    "cryptoforecast.models, cryptoforecast.config; print(time.perf_counter() - t)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    print(
        f"import cryptoforecast (+ data, models, config), {args.repeat} fresh interpreters: "
        f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms (aim: < 500 ms)"
    )


if __name__ == "__main__":
    main()
