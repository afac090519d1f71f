"""Folder denoising with full-resolution models and the shipped presets."""

import hashlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from vae_apps_cli.cli import main


def _snapshot(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def fc_model(tmp_path_factory):
    from vae_apps.models.fully_conv import FullyConvVAE

    path = tmp_path_factory.mktemp("fc") / "fc.keras"
    FullyConvVAE(channels=1, filters=8, latent_channels=4, blocks=(1, 1), seed=0).save(path)
    return path


def test_full_resolution_folder_keeps_paths_sizes_modes_formats_and_16_bit(fc_model, noisy_folder,
                                                                            tmp_path, capsys):
    inp, ref = noisy_folder
    before = _snapshot(inp)
    out = tmp_path / "out"
    assert main(["denoise", str(inp), str(out), "--model", str(fc_model), "--reference", str(ref),
                 "--figure", str(tmp_path / "fig.png")]) == 0
    captured = capsys.readouterr()
    assert "denoised 24 images, skipped 2, failed 0" in captured.out and "corrupt.png" in captured.err
    assert _snapshot(inp) == before
    for path in inp.rglob("*.*"):
        if path.suffix in (".png", ".jpg") and path.name != "corrupt.png":
            with Image.open(path) as a, Image.open(out / path.relative_to(inp)) as b:
                assert (a.size, a.mode, a.format) == (b.size, b.mode, b.format)
    with Image.open(tmp_path / "fig.png") as figure:  # 1:1 crops of up to 128 pixels
        assert figure.size[0] > 24 * 3
    (out / "img 0.png").write_bytes(b"mine")  # never overwritten without --overwrite
    main(["denoise", str(inp), str(out), "--model", str(fc_model)])
    assert (out / "img 0.png").read_bytes() == b"mine"


def test_a_photo_keeps_its_jpeg_quality_icc_profile_and_exif_turned_upright_once(fc_model, tmp_path):
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    pixels = (np.random.default_rng(0).random((40, 64, 3)) * 255).astype("uint8")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the upright picture is 40 wide, 64 high
    exif[0x010F] = "TestCam"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(pixels).save(inp / "photo.jpg", quality=93, exif=exif, icc_profile=srgb,
                                 dpi=(300, 300))
    assert main(["denoise", str(inp), str(out), "--model", str(fc_model)]) == 0
    with Image.open(inp / "photo.jpg") as a, Image.open(out / "photo.jpg") as b:
        assert b.quantization == a.quantization  # quality 93, not PIL's default 75
        assert b.info["icc_profile"] == srgb and b.info["dpi"] == (300, 300)
        assert b.getexif().get(0x010F) == "TestCam"
        assert b.getexif().get(0x0112, 1) == 1 and b.size == (40, 64)


def test_the_shipped_presets_load_offline_and_know_their_channels():
    from vae_apps.errors import UserError
    from vae_apps.denoising.full_resolution import PhotoDenoiser
    from vae_apps.denoising.presets import PRESETS, load_preset, preset_path

    for name, preset in PRESETS.items():
        assert preset_path(name).stat().st_size < 5 * 2**20  # small enough to ship
        assert load_preset(name).channels == preset.channels
    assert isinstance(load_preset("photo"), PhotoDenoiser)
    with pytest.raises(UserError, match="unknown preset"):
        preset_path("photo-cmyk")


def test_denoise_without_a_model_uses_the_photo_presets(tmp_path, capsys):
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.io.photos import bundled_photo

    inp, ref, out = tmp_path / "in", tmp_path / "clean", tmp_path / "out"
    for folder in (inp, ref):
        folder.mkdir()
    for i, name in enumerate(("camera", "astronaut")):  # held out from the presets' training
        clean = bundled_photo(name)[100:260, 150:330]
        noisy = parse_noise("gaussian:0.1").apply(clean[None], seed=i)[0]
        for folder, image in ((ref, clean), (inp, noisy)):
            u8 = np.round(image * 255).astype("uint8")
            Image.fromarray(u8[..., 0] if u8.shape[-1] == 1 else u8).save(folder / f"{name}.png")
    assert main(["denoise", str(inp), str(out), "--reference", str(ref)]) == 0
    line = capsys.readouterr().out
    before, after = (float(v) for v in line.split("PSNR ")[1].split(" dB")[0].split(" -> "))
    assert after > before + 5.0
    with Image.open(out / "camera.png") as grey, Image.open(out / "astronaut.png") as colour:
        assert grey.mode == "L" and colour.mode == "RGB" and grey.size == (180, 160)


def test_turns_are_the_eight_distinct_variants_and_each_turns_back():
    from vae_apps.io.images import TURNS, turned, turned_back

    x = np.arange(3 * 5 * 2, dtype="float32").reshape(3, 5, 2)
    variants = [turned(x, turn) for turn in range(TURNS)]
    assert len({v.tobytes() + bytes(v.shape) for v in variants}) == TURNS == 8
    for turn, variant in enumerate(variants):
        np.testing.assert_array_equal(turned_back(variant, turn), x)


def test_self_ensemble_is_the_mean_of_the_turned_back_outputs_tiled_or_not():
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.io.images import TURNS, turned, turned_back
    from vae_apps.models.fully_conv import FullyConvVAE

    model = FullyConvVAE(channels=1, filters=8, latent_channels=4, blocks=(1, 1), seed=0)
    x = np.random.default_rng(0).random((45, 70, 1), dtype="float32")  # not square
    ensemble = denoise_full_resolution(model, x, self_ensemble=True)
    by_hand = np.mean([turned_back(denoise_full_resolution(model, np.ascontiguousarray(
        turned(x, turn))), turn) for turn in range(TURNS)], axis=0)
    assert ensemble.shape == x.shape
    np.testing.assert_allclose(ensemble, by_hand, atol=1e-5)
    assert not np.allclose(ensemble, denoise_full_resolution(model, x), atol=1e-3)
    tiled = denoise_full_resolution(model, x, tile=48, margin=40, self_ensemble=True)
    np.testing.assert_allclose(tiled, ensemble, atol=1e-5)


@pytest.mark.parametrize("extra,message", [(["--samples", "2"], "choose one"),
                                           (["--model", "FIXED"], "fully convolutional")])
def test_self_ensemble_misuse_is_a_clear_error_before_anything_is_written(
        fc_model, tmp_path, capsys, extra, message):
    from vae_apps.models.vae import VAE

    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((28, 28), "uint8")).save(tmp_path / "in" / "a.png")
    if "FIXED" in extra:
        VAE(image_shape=(28, 28, 1), latent_dim=2, seed=0).save(tmp_path / "fixed.keras")
        extra = ["--model", str(tmp_path / "fixed.keras")]
    else:
        extra = ["--model", str(fc_model), *extra]
    status = main(["denoise", str(tmp_path / "in"), str(tmp_path / "out"), "--self-ensemble",
                   "--quiet", *extra])
    assert status != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not any((tmp_path / "out").rglob("*.png"))


def test_cli_self_ensemble_writes_what_the_library_gives(fc_model, tmp_path):
    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.io.images import read_image
    from vae_apps.loading import load_for_inference

    (tmp_path / "in").mkdir()
    pixels = np.random.default_rng(1).integers(0, 255, (30, 41), dtype="uint8")
    Image.fromarray(pixels).save(tmp_path / "in" / "a.png")
    assert main(["denoise", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(fc_model),
                 "--self-ensemble", "--quiet"]) == 0
    expected = denoise_full_resolution(load_for_inference(fc_model),
                                       read_image(tmp_path / "in" / "a.png")[0], self_ensemble=True)
    written = np.asarray(Image.open(tmp_path / "out" / "a.png"), "float32") / 255
    np.testing.assert_allclose(written, expected[..., 0], atol=1 / 255 + 1e-6)
