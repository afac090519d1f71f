"""Files saved before the package became wings still load, safely, with the same outputs."""

from pathlib import Path

import numpy as np
import pytest

from vae_apps.loading import load_vae

FIXTURES = Path(__file__).parent / "fixtures" / "v0_2_0"  # made by make_fixtures.py there


@pytest.mark.parametrize("name, method, images", [("vae", "reconstruct", "x8"),
                                                  ("fully_conv_vae", "reconstruct", "xc"),
                                                  ("semi_supervised_vae", "predict_proba", "x8")])
def test_a_model_saved_by_the_flat_release_loads_and_computes_the_same(name, method, images):
    expected = np.load(FIXTURES / "expected.npz")
    model = load_vae(FIXTURES / f"{name}.keras", compile=False)
    out = getattr(model, method)(expected[images])
    np.testing.assert_allclose(out, expected[name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("preset", ["photo-grey", "photo-rgb"])
def test_the_shipped_presets_load_with_safe_mode(preset):
    from vae_apps.denoising.presets import model_image_shape, resolve_model

    model = resolve_model(preset)
    assert tuple(model.image_shape) == model_image_shape(preset)
