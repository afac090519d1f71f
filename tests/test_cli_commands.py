"""The inference commands end to end, as a user runs them: denoise, generate, evaluate and
encode each write what they say, print one summary, and turn a user mistake into one line
and exit status 2."""

import json

import numpy as np
import pytest
from PIL import Image

from vae_apps_cli.cli import main


def _one_line_error(capsys, *words):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_denoise_writes_every_image_like_its_input_and_reports_psnr(denoiser, noisy_folder,
                                                                    tmp_path, capsys):
    inp, ref = noisy_folder
    out = tmp_path / "out"
    assert main(["denoise", str(inp), str(out), "--model", str(denoiser),
                 "--reference", str(ref)]) == 0
    captured = capsys.readouterr()
    summary = captured.out
    inputs = sorted(p.relative_to(ref) for p in ref.rglob("*") if p.is_file())  # the readable ones
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == inputs
    assert "corrupt.png" in captured.err  # the broken file: a warning, counted, nothing written
    for rel in inputs:
        with Image.open(inp / rel) as a, Image.open(out / rel) as b:
            assert (a.size, a.mode) == (b.size, b.mode)
    assert f"denoised {len(inputs)} images" in summary and "PSNR" in summary
    # refused: writing into the input folder
    assert main(["denoise", str(inp), str(inp / "part0"), "--model", str(denoiser)]) == 2
    _one_line_error(capsys)


def test_generate_writes_a_grid_a_walk_and_single_samples(trained_digits_model, digits, tmp_path,
                                                          capsys):
    grid, each = tmp_path / "grid.png", tmp_path / "each"
    assert main(["generate", "--model", str(trained_digits_model), "--out", str(grid), "-n", "6",
                 "--seed", "1", "--save-each", str(each)]) == 0
    with Image.open(grid) as image:
        assert image.size[0] > 8 and image.size[1] > 8
    assert len(list(each.glob("*.png"))) == 6
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for path, pixels in ((a, digits.test.x[0]), (b, digits.test.x[1])):
        Image.fromarray(np.round(pixels[..., 0] * 255).astype("uint8")).save(path)
    walk = tmp_path / "walk.png"
    assert main(["generate", "--model", str(trained_digits_model), "--out", str(walk),
                 "--interpolate", str(a), str(b), "--steps", "5"]) == 0
    with Image.open(walk) as image:
        assert image.size[0] > 4 * image.size[1]  # a strip of the 5 steps and the two ends
    # the same seed, the same grid
    again = tmp_path / "again.png"
    assert main(["generate", "--model", str(trained_digits_model), "--out", str(again), "-n", "6",
                 "--seed", "1"]) == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(grid)))
    capsys.readouterr()
    assert main(["generate", "--model", str(tmp_path / "missing.keras"), "--out",
                 str(tmp_path / "x.png")]) == 2
    _one_line_error(capsys, "missing.keras")


def test_evaluate_prints_and_writes_the_bounds(trained_digits_model, tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert main(["evaluate", "digits", "--model", str(trained_digits_model), "--iwae-samples", "8",
                 "--limit", "40", "--json", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert figures["images"] == 40 and f"negative_elbo: {figures['negative_elbo']:.3f}" in printed
    assert figures["negative_elbo"] == pytest.approx(figures["reconstruction"] + figures["kl"], abs=2e-3)
    # the IWAE bound with K = 8 is at least as tight as the ELBO (K = 1)
    assert 0 < figures["iwae_nll_k8"] <= figures["negative_elbo"] + 0.05
    # refused: a model of another image size
    assert main(["evaluate", "mnist", "--model", str(trained_digits_model)]) == 2
    _one_line_error(capsys)


def test_encode_writes_codes_and_refuses_to_overwrite(trained_digits_model, tmp_path, capsys):
    out = tmp_path / "codes.npz"
    assert main(["encode", "digits", "--model", str(trained_digits_model), "--out", str(out)]) == 0
    codes = np.load(out, allow_pickle=False)
    assert codes["z_mean"].shape == (1797, 8) and np.isfinite(codes["z_mean"]).all()
    before = out.read_bytes()
    assert main(["encode", "digits", "--model", str(trained_digits_model), "--out", str(out)]) == 2
    _one_line_error(capsys, "already exists")
    assert out.read_bytes() == before
