"""Encoder and decoder builders, and the evaluation-time decoder (vae_apps/models/networks.py)."""

import numpy as np
import pytest


@pytest.mark.parametrize("image_shape, filters", [((28, 28, 1), (32, 64)),
                                                  ((25, 19, 3), (8, 16, 8)),
                                                  ((8, 8, 1), (32, 64))])
def test_phase_decomposed_decoder_computes_the_same_outputs(image_shape, filters):
    import keras

    from vae_apps.models.networks import PhaseConv2DTranspose, build_decoder, phase_decomposed

    decoder = build_decoder(image_shape, latent_dim=6, filters=filters, hidden_units=(16,))
    rng = np.random.default_rng(0)
    for weight in decoder.weights:  # non-zero biases too: the bias must land on every phase
        weight.assign(rng.normal(0, 0.2, weight.shape).astype("float32"))
    fast = phase_decomposed(decoder)
    replaced = [layer for layer in fast.layers if isinstance(layer, PhaseConv2DTranspose)]
    assert len(replaced) == len(filters)  # every stride-2 layer; the stride-1 one stays
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in fast.layers)
    z = rng.normal(size=(7, 6)).astype("float32")
    expected = np.asarray(decoder(z))
    np.testing.assert_allclose(np.asarray(fast(z)), expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())


def test_phase_decomposition_leaves_other_transposed_convolutions_alone():
    import keras

    from vae_apps.models.networks import PhaseConv2DTranspose, build_fully_conv_decoder

    decoder = build_fully_conv_decoder(channels=1, filters=8, latent_channels=2)
    layer = next(l for l in decoder.layers if isinstance(l, keras.layers.Conv2DTranspose))
    assert not PhaseConv2DTranspose.applies_to(layer)  # 2x2 kernels: not this layer's case


def test_for_evaluation_copy_gives_the_same_likelihood_and_leaves_the_model_alone(digits):
    from vae_apps.generation.likelihoods import iwae_nll
    from vae_apps.loading import for_evaluation
    from vae_apps.models.vae import VAE

    model = VAE(image_shape=(8, 8, 1), latent_dim=4, filters=(8, 16), hidden_units=(16,))
    x = digits.test.x[:20]
    model(x)
    decoder = model.decoder
    copy = for_evaluation(model, "float32")
    z = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(copy.pixel_parameters(z, x[:1], x[:1])),
                               np.asarray(model.pixel_parameters(z, x[:1], x[:1])), atol=1e-5)
    assert model.decoder is decoder  # the model itself is not rewritten
    # bfloat16 networks (emulated where the CPU lacks it) with float32 log-weights.
    assert iwae_nll(model, x, num_samples=50, precision="mixed") == pytest.approx(
        iwae_nll(model, x, num_samples=50, precision="float32"), rel=1e-2)
