"""Scaling out: the local and the Ray engine on one folder, and mirrored training on 1 and 2 devices.

    python benchmarks/experiments/scale.py [--data ../shared/data/mnist.npz] [--count 20000] [--actors 2]

1. Denoises ``--count`` noisy MNIST PNGs with the local engine and with the Ray engine
   (a local Ray, ``--actors`` actors), images/s for both, outputs compared.
2. Trains the default network for one epoch under ``MirroredStrategy`` with 1 and with 2
   logical CPU devices (each in its own process: the split must precede TensorFlow's
   start), images/s after a warm-up epoch.
On a CPU-only machine both engines and both device counts share the same cores; the
figures show the overhead of the machinery, not a speed-up (see docs/scaling.md).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/: common

from common import DEFAULT_MNIST, load_mnist, report_table, write_noisy_pngs  # noqa: E402

MIRRORED_EPOCH = r"""
import json, sys, time
sys.path.insert(0, {benchmarks!r})
from vae_apps.scale.distribute import make_strategy
strategy = make_strategy("mirrored", {devices})
from common import load_mnist
from vae_apps.training.loop import train_vae
x = load_mnist({data!r}).train.x[:{images}]
result = train_vae(x, epochs=1, batch_size=128, strategy=strategy, verbose=0)  # warm-up
start = time.perf_counter()
train_vae(x, model=result.model, epochs=1, batch_size=128, strategy=strategy, verbose=0)
print(json.dumps({{"replicas": strategy.num_replicas_in_sync,
                   "images_per_s": len(x) / (time.perf_counter() - start)}}))
"""


def mirrored_throughput(data, devices, images):
    code = MIRRORED_EPOCH.format(benchmarks=str(Path(__file__).resolve().parent.parent), devices=devices,
                                 data=str(data), images=images)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"mirrored training with {devices} devices failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_MNIST))
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--train-images", type=int, default=12800)
    args = parser.parse_args(argv)

    import numpy as np
    from PIL import Image

    from vae_apps.denoising.folders import denoise_folder
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.scale.ray_data import denoise_folder_ray
    from vae_apps.loading import load_vae
    from vae_apps.training.loop import train_vae

    data = load_mnist(args.data)
    x = np.concatenate([data.train.x, data.test.x])[: args.count]
    y = np.concatenate([data.train.y, data.test.y])[: args.count]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_path = tmp / "denoiser.keras"
        train_vae(data.train.x[:6000], noise=parse_noise("gaussian:0.5"), epochs=1, beta=0.1,
                  out=model_path, verbose=0)
        write_noisy_pngs(x, y, tmp / "in")
        print(f"wrote {len(x):,} noisy PNGs", flush=True)
        start = time.perf_counter()
        local = denoise_folder(load_vae(model_path), tmp / "in", tmp / "local", progress=False)
        local_rate = len(x) / (time.perf_counter() - start)
        start = time.perf_counter()
        remote = denoise_folder_ray(model_path, tmp / "in", tmp / "ray", actors=args.actors,
                                    progress=False)
        ray_rate = len(x) / (time.perf_counter() - start)
        worst = 0
        for path in sorted((tmp / "local").rglob("*.png"))[::50]:
            a = np.asarray(Image.open(path), "int16")
            b = np.asarray(Image.open(tmp / "ray" / path.relative_to(tmp / "local")), "int16")
            worst = max(worst, int(np.abs(a - b).max()))
        rows.append(["denoise, local engine (one file worker process)", f"{local_rate:.0f}", local.summary()])
        rows.append([f"denoise, Ray engine ({args.actors} actors, local Ray)", f"{ray_rate:.0f}",
                     remote.summary()])
        print(f"Ray vs local outputs (every 50th file): max difference {worst} grey levels",
              flush=True)
    for devices in (1, 2):
        result = mirrored_throughput(args.data, devices, args.train_images)
        rows.append([f"train, MirroredStrategy, {result['replicas']} logical CPU device(s)",
                     f"{result['images_per_s']:.0f}", "default network, batch 128 (global)"])
    report_table("scaling", "scale", rows, ["job", "images/s", "detail"])
    print(f"ratio: {ray_rate / local_rate:.2f}  (Ray / local denoising images/s)")


if __name__ == "__main__":
    main()
