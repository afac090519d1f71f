"""The colour member of the family (HierarchicalVAE) and what generates with it: seeded
samples, sizes, streamed folders, GIF walks, reconstruction grids, attribute edits and
bits/dim. Data made here: scikit-image's photos cut into small colour crops."""

import numpy as np
import pytest
from PIL import Image

from saving import assert_same_after_reload
from vae_apps_cli.cli import main

TINY = dict(widths=(8, 8, 16, 16), latent_channels=(4, 4, 2))


def _model(size=32, **kwargs):
    from vae_apps.models.hierarchical import HierarchicalVAE

    return HierarchicalVAE((size, size, 3), seed=0, **{**TINY, **kwargs})


@pytest.fixture(scope="module")
def colour_folder(tmp_path_factory):
    """40 colour crops of scikit-image's photos, of several sizes, as PNG and JPEG."""
    from skimage import data

    root = tmp_path_factory.mktemp("colour")
    rng = np.random.default_rng(0)
    photos = [data.astronaut(), data.coffee(), data.chelsea()]
    for i in range(40):
        photo = photos[i % 3]
        h, w = rng.integers(40, 90), rng.integers(40, 90)
        top, left = rng.integers(0, photo.shape[0] - h), rng.integers(0, photo.shape[1] - w)
        crop = Image.fromarray(photo[top:top + h, left:left + w])
        crop.save(root / (f"{i:02d}.png" if i % 2 else f"{i:02d}.jpg"))
    return root


@pytest.mark.parametrize("size", [32, 64, 96])
def test_shapes_at_32_64_and_96_pixels(size):
    model = _model(size)
    x = np.random.default_rng(0).random((2, size, size, 3)).astype("float32")
    codes = model.encode(x)[0]
    assert codes.shape == (2, model.latent_dim)
    assert model.decode(codes).shape == model.reconstruct(x).shape == (2, size, size, 3)
    samples = model.sample(3, seed=0)
    assert samples.shape == (3, size, size, 3) and 0 <= samples.min() and samples.max() <= 1


def test_sampling_is_seeded_and_survives_save_and_load(tmp_path):
    model = _model()
    a, b, c = model.sample(4, seed=1), model.sample(4, seed=1), model.sample(4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    assert_same_after_reload(model, lambda m: (m.sample(4, seed=1, temperature=0.7),
                                               m.encode(a)[0]), tmp_path)


def test_image_sides_must_fit_the_halvings():
    with pytest.raises(ValueError, match="multiples of 16"):
        _model(40)


def test_the_likelihood_counts_256_levels_exactly():
    """A discretised logistic: the probabilities of the 256 levels of a subpixel sum to 1."""
    from vae_apps.models.hierarchical import discretized_logistic_nll

    levels = np.arange(256, dtype="float32").reshape(1, 16, 16, 1) / 255.0
    for mean, log_scale in [(0.1, -3.0), (-0.9, -1.0), (0.99, -5.0)]:
        parameters = np.concatenate([np.full_like(levels, mean), np.full_like(levels, log_scale)],
                                    axis=-1)
        nll = np.asarray(discretized_logistic_nll(levels, parameters))  # sum over the 256 levels
        per_level = np.asarray(discretized_logistic_nll(
            levels.reshape(256, 1, 1, 1), parameters.reshape(256, 1, 1, 2)))
        assert np.exp(-per_level).sum() == pytest.approx(1.0, abs=1e-3)
        assert nll[0] == pytest.approx(per_level.sum(), rel=1e-5)


def test_a_colour_folder_streams_at_the_chosen_size(colour_folder):
    from vae_apps.io.images import list_images
    from vae_apps.training.datasets import make_image_file_dataset

    files, _ = list_images(colour_folder)
    (colour_folder / "broken.png").write_bytes(b"\x89PNG broken")
    batches = list(make_image_file_dataset([*files, colour_folder / "broken.png"], 32,
                                           batch_size=16, seed=0))
    (colour_folder / "broken.png").unlink()
    x = np.concatenate([b.numpy() for b in batches])
    assert x.shape == (40, 32, 32, 3)  # the broken file skipped, every other one cut and resized
    np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)  # 256 levels
    again = np.concatenate([b.numpy() for b in make_image_file_dataset(files, 32, 16, seed=0)])
    np.testing.assert_array_equal(np.sort(x.reshape(40, -1), axis=0),
                                  np.sort(again.reshape(40, -1), axis=0))


def test_train_on_a_colour_folder_then_generate_walk_reconstruct_and_evaluate(
        colour_folder, tmp_path, capsys, monkeypatch):
    from vae_apps.generation import train as generation_train
    from vae_apps.loading import load_vae

    small = generation_train.ColourImageConfig(model=dict(TINY, free_bits=0.05))
    monkeypatch.setattr(generation_train, "COLOUR_IMAGES", small)
    out = tmp_path / "faces.keras"
    assert main(["train", str(colour_folder), "--image-size", "32", "--epochs", "1",
                 "--batch-size", "8", "--out", str(out), "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "bits/dim" in summary and "(32 x 32)" in summary
    model = load_vae(out)
    assert type(model).__name__ == "HierarchicalVAE" and model.image_shape == (32, 32, 3)
    assert out.with_suffix(".gmm.npz").is_file()
    # a grid from the fitted mixture of every scale's codes, the default for this model
    capsys.readouterr()
    assert main(["generate", "--model", str(out), "--out", str(tmp_path / "grid.png"), "-n", "4",
                 "--temperature", "0.8"]) == 0
    assert "wrote 4 samples (gmm, temperature 0.8" in capsys.readouterr().out
    assert main(["generate", "--model", str(out), "--out", str(tmp_path / "prior.png"), "-n", "4",
                 "--sampler", "prior"]) == 0
    assert "(prior," in capsys.readouterr().out
    # an animated walk: the two ends and 3 steps, there and back
    a, b = sorted(colour_folder.glob("*.png"))[:2]
    gif = tmp_path / "walk.gif"
    assert main(["generate", "--model", str(out), "--out", str(gif), "--interpolate", str(a),
                 str(b), "--steps", "3"]) == 0
    with Image.open(gif) as image:
        assert image.n_frames == 2 * (3 + 1)
    recon = tmp_path / "recon.png"
    assert main(["generate", "--model", str(out), "--out", str(recon), "--reconstruct",
                 str(colour_folder), "-n", "5", "--scale", "1"]) == 0
    with Image.open(recon) as image:  # 5 inputs above 5 reconstructions, 1-pixel gaps
        assert ((image.size[0] - 1) // 33, (image.size[1] - 1) // 33) == (5, 2)
    capsys.readouterr()
    assert main(["evaluate", str(colour_folder), "--model", str(out), "--iwae-samples", "4",
                 "--limit", "8", "--quiet"]) == 0
    printed = {k.strip(): v for k, v in (line.split(":") for line in capsys.readouterr().out.strip().splitlines())}
    elbo_bpd, iwae_bpd = float(printed["elbo_bits_per_dim"]), float(printed["iwae_bits_per_dim"])
    assert 0 < iwae_bpd <= elbo_bpd + 0.01 < 9


def test_the_summary_reports_the_elbo_whatever_beta_weighted_the_kl(colour_folder, tmp_path):
    import re

    from vae_apps.generation.train import ColourImageConfig, train_colour_vae

    config = ColourImageConfig(model=dict(TINY, free_bits=0.05), sampler_dims=16)
    line, result = train_colour_vae(colour_folder, tmp_path / "m.keras", image_size=32, epochs=1,
                                    batch_size=8, verbose=0, config=config, beta=0.25)
    history = result.history
    elbo = history["val_reconstruction_loss"][-1] + history["val_kl_loss"][-1]
    printed = float(re.search(r"validation -ELBO ([\d.]+) nats", line).group(1))
    assert printed == pytest.approx(elbo, abs=0.06)
    assert abs(history["val_loss"][-1] - elbo) > 0.1  # beta 0.25 weighted the KL down


@pytest.fixture
def trained_colour(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    return path


def _attribute_csv(root, rows):
    path = root / "tags.csv"
    path.write_text("path,hair\n" + "".join(f"{p},{v}\n" for p, v in rows))
    return path


def test_attribute_edits_write_a_strip_per_image(trained_colour, colour_folder, tmp_path, capsys):
    files = sorted(p.name for p in colour_folder.iterdir())
    csv = _attribute_csv(colour_folder, [(f, "blue" if i % 2 else "red") for i, f in enumerate(files[:12])])
    out = tmp_path / "edits.png"
    assert main(["generate", "--model", str(trained_colour), "--attribute", f"{csv}:blue",
                 "--edit", str(colour_folder), "-n", "3", "--amount", "1.5", "--out", str(out),
                 "--scale", "1"]) == 0
    assert "6 images with it and 6 without" in capsys.readouterr().out
    with Image.open(out) as image:  # the image, then 5 steps from less to more; 3 rows
        assert ((image.size[0] - 1) // 33, (image.size[1] - 1) // 33) == (6, 3)


def test_edits_move_codes_along_the_direction_between_the_mean_codes():
    from vae_apps.generation.attributes import attribute_direction, edit_strips

    model = _model()
    rng = np.random.default_rng(0)
    dark, light = rng.random((4, 32, 32, 3)) * 0.3, 0.7 + rng.random((4, 32, 32, 3)) * 0.3
    direction = attribute_direction(model, light.astype("float32"), dark.astype("float32"))
    expected = model.encode(light)[0].mean(0) - model.encode(dark)[0].mean(0)
    np.testing.assert_allclose(direction, expected, rtol=1e-5, atol=1e-6)
    strips = edit_strips(model, dark[:2].astype("float32"), direction, amount=1.0, steps=3)
    assert strips.shape == (2, 4, 32, 32, 3)
    np.testing.assert_allclose(strips[:, 2], model.decode(model.encode(dark[:2])[0]), atol=1e-5)


@pytest.mark.parametrize("rows, name, words", [
    ([("missing.png", "blue"), ("00.jpg", "red")], "blue", ["missing.png", "no such image file"]),
    ([("00.jpg", "blue"), ("01.png", "blue")], "blue", ["every image is labelled 'blue'"]),
    ([("00.jpg", "blue"), ("01.png", "red")], "green", ["no image is labelled 'green'"]),
    ([("../outside.png", "blue"), ("01.png", "red")], "blue", ["outside.png"]),
])
def test_attribute_csv_mistakes_are_one_line_errors(rows, name, words, trained_colour,
                                                    colour_folder, tmp_path, capsys):
    csv = _attribute_csv(colour_folder, rows)
    try:
        assert main(["generate", "--model", str(trained_colour), "--attribute", f"{csv}:{name}",
                     "--edit", str(colour_folder), "--out", str(tmp_path / "e.png")]) == 2
    finally:
        csv.unlink()
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    for word in words:
        assert word in err, err
    assert not (tmp_path / "e.png").exists()
