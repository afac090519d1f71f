"""Folder denoising speed and memory: `vae-apps denoise` against the plain cost of its I/O.

    python benchmarks/denoise_speed.py [--data ../shared/data/mnist.npz] [--count 10000]
        [--memory-counts 10000 50000] [--model DENOISER.keras]

Writes ``--count`` noisy MNIST PNGs (Gaussian sigma 0.5) into a temporary folder, then in
one run measures:

- the I/O floor: read every PNG and write it back with PIL, no model, one loop, just
  before and just after the command (this machine's speed drifts; the mean is used);
- ``vae-apps denoise IN OUT --model M`` as a subprocess, images/s end to end (process
  start, TensorFlow import, model load and exit included) and the command's own rate;
- peak resident memory of the command (its process plus its largest worker process)
  for each of ``--memory-counts`` images.

Without ``--model`` a denoiser (vae_apps' default network) is trained for one epoch on
6,000 images first; speed does not depend on how well it denoises.
The last line is ``ratio: X.XX``, vae_apps end-to-end images/s / I/O-floor images/s; the
table goes to benchmarks/results/performance.json (``denoise_speed``).
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DEFAULT_MNIST, load_mnist, table, write_noisy_pngs, write_results  # noqa: E402

# The vae-apps console script (vae_apps_cli.cli.run), reporting its peak resident memory
# (Linux: KiB) and that of its largest worker process (joined, so counted as a child).
_MEASURED_CLI = """
import os, resource, sys
from vae_apps_cli.cli import main
code = main(sys.argv[1:])
peak = sum(resource.getrusage(who).ru_maxrss
           for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
print(f"peak_rss_kib={peak}", file=sys.stderr)
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


def io_floor(in_dir, out_dir):
    """Read every PNG and write it back with PIL: the least any folder tool must do."""
    from PIL import Image

    paths = sorted(in_dir.rglob("*.png"))
    start = time.perf_counter()
    for path in paths:
        target = out_dir / path.relative_to(in_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as img:
            img.load()
            img.save(target)
    return len(paths) / (time.perf_counter() - start)


def run_denoise(in_dir, out_dir, model):
    """Run `vae-apps denoise` in a fresh process; return (wall s, summary line, peak RSS MiB)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURED_CLI, "denoise", str(in_dir),
                           str(out_dir), "--model", str(model)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"vae-apps denoise failed:\n{proc.stderr[-2000:]}")
    rss = next(int(line.split("=")[1]) for line in proc.stderr.splitlines()
               if line.startswith("peak_rss_kib="))
    return seconds, proc.stdout.strip().splitlines()[-1], rss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--memory-counts", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--model", help="a denoising .keras model for 28x28x1 images")
    parser.add_argument("--workdir", help="make the (temporary) folders under this folder, "
                                          "created if missing (default: the system's temp folder)")
    args = parser.parse_args(argv)

    import numpy as np

    data = load_mnist(args.data)
    x = np.concatenate([data.train.x, data.test.x])
    y = np.concatenate([data.train.y, data.test.y])
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        tmp = Path(tmp)
        model = args.model
        if model is None:
            from vae_apps.denoising.noise import parse_noise
            from vae_apps.training.loop import train_vae

            model = tmp / "denoiser.keras"
            train_vae(data.train.x[:6000], noise=parse_noise("gaussian:0.5"), epochs=1, beta=0.1,
                      out=model, verbose=0)
        counts = sorted({args.count, *args.memory_counts})
        for count in counts:
            write_noisy_pngs(x[:count], y[:count], tmp / f"in{count}")
        print(f"wrote {', '.join(map(str, counts))} noisy PNGs (28x28 grey)", flush=True)

        floors = [io_floor(tmp / f"in{args.count}", tmp / "floor_before")]
        rows, peaks = [], {}
        for count in counts:
            seconds, summary, peak = run_denoise(tmp / f"in{count}", tmp / f"out{count}", model)
            if count == args.count:
                floors.append(io_floor(tmp / f"in{args.count}", tmp / "floor_after"))
            peaks[count] = peak
            rows.append([f"{count:,}", f"{count / seconds:.0f}", f"{peak:.0f}", summary])
            if count == args.count:
                speed = count / seconds
            print(f"{count} images: {seconds:.1f} s, peak RSS {peak:.0f} MiB", flush=True)
        print(table(rows, ["images", "vae-apps denoise img/s (end to end)", "peak RSS MiB",
                           "command summary"]))
        floor = sum(floors) / 2
        print(f"I/O floor (PIL read + write, no model), {args.count:,} images: {floor:.0f} img/s "
              f"(before {floors[0]:.0f}, after {floors[1]:.0f})")
        low, high = min(counts), max(counts)
        print(f"peak memory {high:,} / {low:,} images: {peaks[high] / peaks[low]:.2f}x")
    print(f"ratio: {speed / floor:.2f}")
    header = ["measured", "vae_apps", "I/O floor (PIL read + write)", "ratio"]
    summary = [[f"`vae-apps denoise`, {count:,} MNIST PNGs, end to end (start, import, load, exit)",
                f"{row[1]} img/s, peak RSS {row[2]} MiB",
                f"{floor:.0f} img/s" if count == args.count else "–",
                f"**{speed / floor:.2f}**" if count == args.count else "–"]
               for count, row in zip(counts, rows)]
    summary.append([f"peak memory, {high:,} against {low:,} images", f"{peaks[high]:.0f} MiB",
                    f"{peaks[low]:.0f} MiB", f"{peaks[high] / peaks[low]:.2f}"])
    write_results("performance", tables={"denoise_speed": (header, summary)})


if __name__ == "__main__":
    main()
