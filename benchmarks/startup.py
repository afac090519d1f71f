"""Start-up time of `vae-apps --help` (TensorFlow is imported only by commands that need it).

    python benchmarks/startup.py [--runs 5]

Prints each run's wall time, the median, and whether building the parser imported TensorFlow;
writes them to benchmarks/results/performance.json (``startup``).
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402

CHECK_LAZY = ("import sys; from vae_apps_cli.cli import build_parser; build_parser(); "
              "print('tensorflow' in sys.modules)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    command = shutil.which("vae-apps")
    if command is None:
        raise SystemExit("vae-apps is not on PATH: pip install -e . first")
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    imported = subprocess.run([sys.executable, "-c", CHECK_LAZY], check=True, capture_output=True,
                              text=True).stdout.strip()
    print("runs (s): " + " ".join(f"{t:.2f}" for t in times))
    print(f"vae-apps --help: median {statistics.median(times):.2f} s; "
          f"TensorFlow imported by the parser: {imported}")
    write_results("performance", tables={"startup": (
        ["command", f"median of {args.runs} runs", "runs", "TensorFlow imported"],
        [["`vae-apps --help`", f"{statistics.median(times):.2f} s",
          " ".join(f"{t:.2f}" for t in times), "yes" if imported == "True" else "no"]])})


if __name__ == "__main__":
    main()
