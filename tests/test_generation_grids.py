import numpy as np
from PIL import Image

from vae_apps_cli.cli import main
from vae_apps.plots import image_grid


def test_grid_layout_is_near_square_with_borders():
    images = np.zeros((10, 5, 6, 1), "float32")
    grid = image_grid(images, border=1)
    assert grid.shape == (3 * 6 + 1, 4 * 7 + 1, 1)  # 4 columns x 3 rows
    assert grid[0].min() == 1.0 and grid[1, 1] == 0.0
    assert image_grid(images, columns=5).shape == (2 * 6 + 1, 5 * 7 + 1, 1)


def test_generate_writes_a_reproducible_grid(trained_digits_model, tmp_path, capsys):
    args = ["generate", "--model", str(trained_digits_model), "-n", "12", "--seed", "4"]
    assert main([*args, "--out", str(tmp_path / "a.png"), "--save-each", str(tmp_path / "each")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.png")]) == 0
    a, b = np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(tmp_path / "b.png"))
    np.testing.assert_array_equal(a, b)
    assert len(list((tmp_path / "each").glob("sample_*.png"))) == 12
    scale = 32 // 8
    assert a.shape == (3 * (8 + 1) * scale + scale, 4 * (8 + 1) * scale + scale)
    assert main([*args, "--seed", "5", "--out", str(tmp_path / "c.png")]) == 0
    assert not np.array_equal(a, np.asarray(Image.open(tmp_path / "c.png")))


def test_generate_from_the_gmm_sampler_needs_a_fitted_one(trained_digits_model, tmp_path, capsys):
    import shutil

    alone = tmp_path / "alone.keras"  # the model without the sampler file train_vae wrote
    shutil.copy(trained_digits_model, alone)
    assert main(["generate", "--model", str(alone), "--sampler", "gmm",
                 "--out", str(tmp_path / "g.png")]) == 2
    assert "no fitted GMM sampler" in capsys.readouterr().err


def test_interpolation_and_latent_map(trained_digits_model, digits, tmp_path):
    for i, name in enumerate(("a.png", "b.png")):
        Image.fromarray(np.round(digits.test.x[i, ..., 0] * 255).astype("uint8")).save(tmp_path / name)
    base = ["generate", "--model", str(trained_digits_model)]
    assert main([*base, "--interpolate", str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                 "--steps", "6", "--out", str(tmp_path / "walk.png")]) == 0
    strip = np.asarray(Image.open(tmp_path / "walk.png"))
    assert strip.shape[1] > 7 * strip.shape[0]  # 8 tiles in one row
    assert main([*base, "--latent-map", "digits", "--out", str(tmp_path / "map.png")]) == 0
    assert Image.open(tmp_path / "map.png").size[0] > 300


def test_manifold_for_a_two_dimensional_latent_space(digits):
    from vae_apps import VAE
    from vae_apps.generation.grids import interpolate, manifold

    model = VAE(digits.image_shape, latent_dim=2, filters=(8,), hidden_units=(16,))
    assert manifold(model, n=5).shape == (25, 8, 8, 1)
    assert interpolate(model, digits.test.x[0], digits.test.x[1], steps=4, mode="slerp").shape == (4, 8, 8, 1)
