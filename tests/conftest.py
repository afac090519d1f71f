import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SMALL_NET = dict(filters=(8, 16), hidden_units=(32,), latent_dim=4)


@pytest.fixture(scope="session")
def digits():
    from vae_apps.io.data import load_data

    return load_data("digits")


@pytest.fixture(scope="session")
def trained_digits_model(digits, tmp_path_factory):
    """A small VAE trained briefly on digits, saved once for the whole session."""
    from vae_apps.training.loop import train_vae

    path = tmp_path_factory.mktemp("model") / "digits.keras"
    train_vae(digits.train.x, digits.test.x, epochs=15, batch_size=64, seed=0, out=path,
              verbose=0, filters=(16, 32), hidden_units=(64,), latent_dim=8)
    return path


@pytest.fixture(scope="session")
def denoiser(digits, tmp_path_factory):
    """A small denoising VAE (Gaussian noise 0.3) trained on digits, saved once."""
    from vae_apps.denoising.noise import parse_noise
    from vae_apps.training.loop import train_vae

    path = tmp_path_factory.mktemp("denoiser") / "d.keras"
    train_vae(digits.train.x, digits.test.x, epochs=20, batch_size=32, noise=parse_noise("gaussian:0.3"),
              out=path, verbose=0, filters=(16, 32), hidden_units=(64,), latent_dim=8, beta=0.1)
    return path


@pytest.fixture
def noisy_folder(tmp_path, digits):
    from PIL import Image

    from vae_apps.denoising.noise import parse_noise

    clean = digits.test.x[:24]
    noisy = parse_noise("gaussian:0.3").apply(clean, seed=0)
    inp, ref = tmp_path / "in", tmp_path / "clean"
    modes = ["L", "RGB", "RGBA", "I;16"]
    for i, (c, n) in enumerate(zip(clean, noisy)):
        sub = f"part{i % 2}/" if i % 3 else ""
        for root, img in ((inp, n), (ref, c)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            grey = Image.fromarray(np.round(img[..., 0] * 255).astype("uint8")).resize((16 + i % 5, 16))
            mode = modes[i % 4]
            ext = ".jpg" if i == 5 else ".png"
            if mode == "I;16":
                grey = Image.fromarray((np.asarray(grey).astype("uint16") * 257))
            elif mode != "L":
                grey = grey.convert(mode)
            grey.save(root / f"{sub}img {i}{ext}")
    (inp / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (inp / "readme.txt").write_text("not an image")
    return inp, ref


@pytest.fixture
def rng():
    return np.random.default_rng(0)
