"""Peak memory of ``vae-apps label`` on a folder of large JPEGs.

    python benchmarks/label_photos_memory.py --workdir runs/label_memory [--count 2000]

Makes ``--count`` JPEGs of 1600 x 1200 (quality 90) from crops of the bundled training
photos, in 4 class folders (the photo family a crop comes from), labels 2 % of them in
``labels.csv``, then runs ``vae-apps label`` in a child process and prints its peak resident
memory (the child's ``ru_maxrss``) and wall time (kept in benchmarks/results/labelling.json).
Not a timed test: one run.
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_results  # noqa: E402


def make_folder(root, count, seed=0):
    import numpy as np
    from PIL import Image

    from vae_apps.io.photos import bundled_photo

    groups = {"cat": ["chelsea"], "rocket": ["rocket"], "flowers": ["flower"], "city": ["china"]}
    sources = {g: [bundled_photo(n) for n in names] for g, names in groups.items()}
    rng = np.random.default_rng(seed)
    rows = ["path,label"]
    for i in range(count):
        group = list(groups)[i % len(groups)]
        photo = sources[group][0]
        h, w = photo.shape[:2]
        ch, cw = int(h * 0.6), int(w * 0.6)
        top, left = rng.integers(0, h - ch), rng.integers(0, w - cw)
        crop = np.round(np.clip(photo[top:top + ch, left:left + cw], 0, 1) * 255).astype("uint8")
        image = Image.fromarray(crop if crop.shape[-1] == 3 else crop[..., 0]).convert("RGB")
        path = Path(root) / group / f"{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.resize((1600, 1200), Image.BICUBIC).save(path, quality=90)
        if rng.random() < 0.02:
            rows.append(f"{group}/{path.name},{group}")
    (Path(root).parent / "labels.csv").write_text("\n".join(rows) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="runs/label_memory")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=None, help="label's training epochs")
    args = parser.parse_args()
    work = Path(args.workdir)
    folder = work / "photos"
    if not folder.exists():
        start = time.perf_counter()
        make_folder(folder, args.count)
        print(f"made {args.count} JPEGs of 1600x1200 in {time.perf_counter() - start:.0f} s")
    command = [sys.executable, "-c", "import sys; from vae_apps_cli.cli import main; "
               "sys.exit(main(sys.argv[1:]))", "label", str(folder), "--labels",
               str(work / "labels.csv"), "--out", str(work / "predictions.csv"), "--overwrite"]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # kB -> GB
    epochs = (f", `--epochs {args.epochs}` (memory holds the 64×64 copies whatever the epochs)"
              if args.epochs else "")
    line = (f"`vae-apps label` on {args.count} JPEGs of 1600×1200{epochs}: peak RSS {peak:.2f} GB "
            f"(limit 4 GB), {seconds:.0f} s")
    print(line)
    write_results("labelling", texts={"photo_folder_memory": line + "."})


if __name__ == "__main__":
    main()
