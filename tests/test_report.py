"""The demo report reads like a report: human labels with units, no raw keys or JSON
quoting, figure labels that fit; rendered in headless Chromium where it is installed."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from vae_apps.plots import rows_figure
from vae_apps.report import LABELS, SECTIONS, write_report

METRICS = {
    "settings": {"data": "digits", "images_train": 1437, "images_test": 360,
                 "image_shape": [8, 8, 1], "seed": 0, "noise": "gaussian:0.5", "epochs": 40,
                 "batch_size": 32},
    "vae": {"negative_elbo": 24.69, "reconstruction": 17.1, "kl": 7.59, "train_seconds": 30.1},
    "denoising": {"noisy_psnr": 9.4, "noisy_ssim": 0.2, "denoised_psnr": 14.7, "denoised_ssim": 0.6},
    "photo_denoising": {"noisy_psnr": 20.61, "noisy_ssim": 0.35, "nl_means_psnr": 28.84,
                        "nl_means_ssim": 0.8, "denoised_psnr": 29.14, "denoised_ssim": 0.82},
    "labeling": {"given_labels": 36, "method": "semi-supervised", "accuracy_on_unlabelled": 0.975},
    "autoencoder": {"test_reconstruction_bce": 20.5},
    "seconds": 106.0,
}


def _report(tmp_path):
    figure = "photo_denoising.png"
    rows_figure(tmp_path / figure, {"clean": [np.full((40, 40, 1), 0.5, "float32")],
                                    "NL-means 28.84 dB": [np.zeros((40, 40, 1), "float32")],
                                    "vae_apps 29.14 dB": [np.ones((40, 40, 1), "float32")]},
                actual_size=True, title="crops at 1:1")
    write_report(tmp_path / "index.html", METRICS, {figure: "A held-out photo, denoised."})
    return tmp_path / "index.html"


def _visible_text(page):
    return re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", page, flags=re.S))


def test_every_metric_has_a_human_label_and_no_raw_key_or_quote_shows(tmp_path):
    text = _visible_text(_report(tmp_path).read_text(encoding="utf-8"))
    for section in METRICS.values():
        if isinstance(section, dict):
            for key in section:
                assert key in LABELS, key
                assert "_" not in key or key not in text, key  # snake_case keys stay out
    assert '"' not in text and "PSNR of the noisy input (dB)" in text and "97.5 %" in text
    assert "8 × 8 × 1" in text


def test_the_photo_section_comes_first_and_each_section_says_what_it_shows(tmp_path):
    page = _report(tmp_path).read_text(encoding="utf-8")
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles[1] == "Photo denoising at full resolution"  # after the settings
    assert all(len(sentence.split()) > 8 for _, _, sentence, _ in SECTIONS)


def test_row_labels_of_a_one_to_one_figure_fit_inside_it(tmp_path):
    _report(tmp_path)
    pixels = np.asarray(Image.open(tmp_path / "photo_denoising.png").convert("L"))
    assert pixels[:, :2].min() > 200, "a row label touches the left edge: it is clipped"


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="Debian's chromium package is not installed")
def test_the_report_renders_in_headless_chromium(tmp_path):
    page = _report(tmp_path)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    shot = tmp_path / "shot.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(common + [f"--screenshot={shot}", "--window-size=1100,1600",
                             page.as_uri()], check=True, capture_output=True, timeout=120)
    dom = subprocess.run(common + ["--dump-dom", page.as_uri()], check=True,
                         capture_output=True, text=True, timeout=120).stdout
    text = _visible_text(dom)
    assert "PSNR of the noisy input (dB)" in text and "noisy_psnr" not in text
    image = np.asarray(Image.open(shot).convert("L"))
    assert image.shape[1] == 1100 and image.min() < 100  # something dark (text) was drawn
    assert "photo_denoising.png" in dom  # the figure is part of the page
