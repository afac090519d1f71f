import html
import json
import re

import numpy as np
from PIL import Image

from vae_apps.report import format_value
from vae_apps_cli.cli import main


def test_demo_on_a_small_subset_writes_a_complete_report(digits, tmp_path, capsys):
    data = tmp_path / "small.npz"
    x = np.round(digits.train.x[:300, ..., 0] * 255).astype("uint8")
    np.savez(data, x_train=x, y_train=digits.train.y[:300],
             x_test=np.round(digits.test.x[:100, ..., 0] * 255).astype("uint8"), y_test=digits.test.y[:100])
    out = tmp_path / "demo"
    assert main(["demo", str(data), "--out", str(out), "--epochs", "1", "--batch-size", "64"]) == 0
    stdout = capsys.readouterr().out
    assert "8/8 writing the report" in stdout and str(out / "index.html") in stdout

    page = (out / "index.html").read_text()
    images = re.findall(r"<img src='([^']+)'", page)
    assert len(images) == 15
    for name in images:  # every referenced figure exists and is a readable PNG (the walk a GIF)
        with Image.open(out / name) as img:
            assert img.format == ("GIF" if name.endswith(".gif") else "PNG") and min(img.size) > 20
    with Image.open(out / "colour_walk.gif") as gif:  # 10 images there and 8 back
        assert gif.n_frames == 18
    assert "http://" not in page and "https://" not in page  # viewable offline

    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"settings", "vae", "denoising", "photo_denoising", "labeling",
                            "autoencoder", "colour_generation", "seconds"}
    assert {"negative_elbo", "reconstruction", "kl"} <= set(metrics["vae"])
    assert {"noisy_psnr", "denoised_psnr"} <= set(metrics["denoising"])
    assert 0 <= metrics["labeling"]["accuracy_on_unlabelled"] <= 1
    photo = metrics["photo_denoising"]
    assert photo["denoised_psnr"] > photo["noisy_psnr"] + 3  # the shipped preset, untrained here
    colour = metrics["colour_generation"]
    assert colour["image_side"] == 32 and colour["colour_epochs"] == 1
    assert colour["colour_training_images"] == 1140  # 1,200 crops less 5 % held out
    assert 0 < colour["heldout_bits_per_dim"] < 16  # finite (17 updates: about 8, uniform pixels)
    for section in ("vae", "denoising", "photo_denoising", "labeling", "autoencoder",
                    "colour_generation"):
        for key, value in metrics[section].items():  # the page shows the JSON's numbers
            assert html.escape(format_value(key, value)) in page, key
    for model in ("vae.keras", "denoiser.keras", "vae.gmm.npz", "autoencoder.keras", "colour.keras",
                  "colour.gmm.npz"):
        assert (out / model).is_file()


def test_demo_refuses_to_overwrite_a_report(tmp_path, capsys):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "index.html").write_text("mine")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    assert (tmp_path / "demo" / "index.html").read_text() == "mine"
