"""Time ``import cryptoforecast`` (and its light subpackages), and the CLI's start, in fresh interpreters.

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
# The CLI root imports a command's module (and the layers it adapts) only when the command runs,
# so this is the start of --help; benchmarks/bench_cli_start.py times the command itself.
CLI_CODE = (
    "import time; t = time.perf_counter(); import cryptoforecast.cli; "
    "print(time.perf_counter() - t)"
)


def _times(code: str, repeat: int) -> list[float]:
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    times = _times(CODE, args.repeat)
    print(
        f"import cryptoforecast (+ data, models, config), {args.repeat} fresh interpreters: "
        f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms (aim: < 500 ms)"
    )
    cli = _times(CLI_CODE, args.repeat)
    print(
        f"import cryptoforecast.cli (the root, before any command), {args.repeat} fresh interpreters: "
        f"best {min(cli) * 1000:.0f} ms, median {statistics.median(cli) * 1000:.0f} ms, "
        f"worst {max(cli) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
