"""Noise2Void through CAREamics on a folder of noisy images: the anchor of
benchmarks/denoise_noisy_only.py. Runs in its own virtual environment (CAREamics
needs PyTorch, which vae_apps does not):

    python -m venv N2V_VENV
    N2V_VENV/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    N2V_VENV/bin/pip install careamics pillow
    N2V_VENV/bin/python benchmarks/n2v_careamics.py NOISY/ OUT/ [--epochs 30] [--batch-size 16]

Trains one N2V model on every image of NOISY/ (8-bit PNGs, grey or colour) with
``careamics.config.create_n2v_config``'s defaults (30 epochs, flips and 90-degree
turns, 64 x 64 patches; batch 16 as in CAREamics' N2V examples), then predicts each
image whole, tiled 256 x 256 with CAREamics' default overlap. Writes OUT/NAME.npy
(float32, H x W x C, 0-1 scale) per image and OUT/timing.json (training and
prediction seconds, the settings, the CAREamics and PyTorch versions).
"""

import argparse
import json
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("noisy")
    parser.add_argument("out")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import careamics
    import numpy as np
    import torch
    from careamics import CAREamist
    from careamics.config import create_n2v_config
    from PIL import Image

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    files = sorted(Path(args.noisy).glob("*.png"))
    images = [np.asarray(Image.open(f), "float32") / 255.0 for f in files]
    colour = images[0].ndim == 3
    axes = "YXC" if colour else "YX"
    config = create_n2v_config(
        experiment_name="n2v_benchmark", data_type="array", axes=axes,
        patch_size=[args.patch, args.patch], batch_size=args.batch_size,
        num_epochs=args.epochs, n_channels=3 if colour else None)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = CAREamist(config, work_dir=out / "work", enable_progress_bar=False)
    start = time.perf_counter()
    model.train(train_data=images)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for file, image in zip(files, images):
        prediction, _ = model.predict(image, tile_size=(256, 256), axes=axes)
        result = np.asarray(prediction[0], "float32").squeeze()
        if colour and result.shape[0] == 3 and result.shape[-1] != 3:
            result = np.moveaxis(result, 0, -1)
        result = result.reshape(image.shape)
        np.save(out / f"{file.stem}.npy", np.clip(result, 0, 1)[..., None] if not colour
                else np.clip(result, 0, 1))
    predict_seconds = time.perf_counter() - start
    (out / "timing.json").write_text(json.dumps({
        "train_seconds": train_seconds, "predict_seconds": predict_seconds,
        "epochs": args.epochs, "batch_size": args.batch_size, "patch": args.patch,
        "careamics": careamics.__version__, "torch": torch.__version__}, indent=1))
    print(f"N2V: trained {train_seconds / 60:.1f} min on {len(images)} images, "
          f"predicted in {predict_seconds:.1f} s")


if __name__ == "__main__":
    main()
