"""Which way of training on noisy images alone: one scheme, one line (run it per scheme).

    python benchmarks/experiments/noisy_only_schemes.py --scheme neighbour-pairs --steps 960
    python benchmarks/experiments/noisy_only_schemes.py --scheme neighbour-pairs --steps 1920
    python benchmarks/experiments/noisy_only_schemes.py --scheme regularised --gamma 2 --steps 960
    python benchmarks/experiments/noisy_only_schemes.py --scheme blind-spot --steps 960
    python benchmarks/experiments/noisy_only_schemes.py --scheme j-invariant --steps 960

The folder is scikit-image's fluorescence microscopy image ``cell`` with the noise of
benchmarks/denoise_noisy_only.py (``--case``, image seed 0), the model the noisy-only
default (``vae-apps train --noisy-only``'s network, batches of 32, Adam 1e-3 with cosine
decay, the best epoch on the validation pairs kept, the better of the mean code or a
posterior draw kept), trained for ``--steps`` updates (64 an epoch) with the scheme:

- ``neighbour-pairs``: what ``--noisy-only`` does (Neighbor2Neighbor without its
  regulariser): two half images from different pixels of every 2 x 2 cell of a 128 x 128
  crop, one the input, the other the target.
- ``regularised``: the same with Neighbor2Neighbor's regulariser of weight ``--gamma``
  (``FullyConvVAE(neighbour_regularization=...)``): one more pass of the model over the
  whole crops each update.
- ``blind-spot``: Noise2Void's masking: in a 64 x 64 crop (as many pixels as a half image)
  one pixel of every 4 x 4 block is replaced by a random one of its 8 neighbours, and the
  loss is the squared error at those pixels alone (scaled by 16), the ELBO's KL unchanged.
- ``j-invariant``: Noise2Self's masking (Batson and Royer 2019): the same, but the masked
  pixels lie on a regular grid (one place of the 4 x 4 block, the same in every block of a
  crop, drawn per crop) and each is replaced by the mean of its 8 neighbours.

It prints the PSNR / SSIM of the denoised image against the clean one and the training
minutes (wall clock, training alone). A timing: run nothing else beside it.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/: common

import common  # noqa: E402,F401  (quiet TensorFlow)

SCHEMES = ("neighbour-pairs", "regularised", "blind-spot", "j-invariant")


def blind_spot_model_class(grid=False):
    import keras
    import tensorflow as tf

    from vae_apps.models.base import kl_divergence
    from vae_apps.models.fully_conv import FullyConvVAE

    class BlindSpotVAE(FullyConvVAE):
        """Trains on Noise2Void-masked crops (the top-left quarter of each noisy-only crop)."""

        cell = 4
        on_grid = grid

        def loss_terms(self, data, training=False):
            if not (training and isinstance(data, dict)):
                return super().loss_terms(data, training)
            ops = keras.ops
            crops = data["crops"]
            half = tf.shape(crops)[1] // 2
            crops = tf.cast(crops[:, :half, :half], tf.float32)
            # A new mask each update, the same ones for the same seed.
            seed = tf.stack([tf.cast(self.optimizer.iterations, tf.int32), self.seed or 0])
            masked, mask = blind_spot(crops, seed, self.cell, self.on_grid)
            z_mean, z_log_var = self.encoder(masked, training=True)
            z = self.sampling(z_mean, z_log_var)
            mean = self.pixel_parameters(z, masked, crops, training=True)
            nll = (self.cell ** 2 * ops.sum(mask * ops.square(mean - crops), axis=(1, 2, 3))
                   / (2 * self.gaussian_sigma ** 2))
            return nll, kl_divergence(z_mean, z_log_var), {}

    return BlindSpotVAE


def blind_spot(crops, seed, cell, grid=False):
    """(masked crops, mask): one pixel of every cell x cell block replaced by one of its
    8 neighbours picked at random (wrapping round at the crop's edges); with ``grid``, the
    same place in every block of a crop, replaced by the mean of its 8 neighbours."""
    import tensorflow as tf

    shape = tf.shape(crops)
    n, h, w = shape[0], shape[1], shape[2]
    if grid:
        where = tf.random.stateless_uniform([n, 1, 1], seed, 0, cell * cell, dtype=tf.int32)
        where = tf.broadcast_to(where, [n, h // cell, w // cell])
    else:
        where = tf.random.stateless_uniform([n, h // cell, w // cell], seed, 0, cell * cell,
                                            dtype=tf.int32)
    mask = tf.nn.depth_to_space(tf.one_hot(where, cell * cell), cell)
    shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    around = tf.stack([tf.roll(crops, shift, (1, 2)) for shift in shifts], axis=-1)
    if grid:
        return mask * tf.reduce_mean(around, axis=-1) + (1 - mask) * crops, mask
    which = tf.random.stateless_uniform([n, h, w, 1], tf.random.experimental.stateless_fold_in(seed, 2),
                                        0, len(shifts), dtype=tf.int32)
    replaced = tf.reduce_sum(around * tf.one_hot(which, len(shifts)), axis=-1)
    return mask * replaced + (1 - mask) * crops, mask


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheme", choices=SCHEMES, required=True)
    parser.add_argument("--steps", type=int, default=1920, help="updates, a multiple of 64")
    parser.add_argument("--gamma", type=float, default=2.0, help="--scheme regularised")
    parser.add_argument("--case", default="poisson 30", help="a noise of denoise_noisy_only.py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--filters", type=int, help="network width (default: the noisy-only default's, 16)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32,
                        help="crops an update (64 updates an epoch whatever the batch)")
    args = parser.parse_args(argv)

    from denoise_noisy_only import CASES, write_noisy_folder

    from vae_apps.denoising.full_resolution import denoise_full_resolution
    from vae_apps.denoising.quality import psnr_ssim
    from vae_apps.hardware import dtype_policy
    from vae_apps.io.photos import bundled_photo
    from vae_apps.loading import with_precision
    from vae_apps.models.fully_conv import FullyConvVAE
    from vae_apps.denoising.train import PATCH_DENOISER, train_patch_denoiser

    clean = bundled_photo("cell")
    with tempfile.TemporaryDirectory() as work:
        noisy = write_noisy_folder({"cell": clean}, CASES[args.case], Path(work) / "noisy")["cell"]
    model_class = (blind_spot_model_class(grid=args.scheme == "j-invariant")
                   if args.scheme in ("blind-spot", "j-invariant") else FullyConvVAE)
    gamma = args.gamma if args.scheme == "regularised" else 0.0
    width = {"filters": args.filters} if args.filters else {}
    model = model_class(channels=1, seed=args.seed, dtype=dtype_policy("auto"),
                        neighbour_regularization=gamma, **{**PATCH_DENOISER.noisy_only_model, **width})
    result = train_patch_denoiser([noisy], None, model=model, noisy_only=True,
                                  epochs=args.steps // 64, seed=args.seed, verbose=0,
                                  batch_size=args.batch_size, learning_rate=args.learning_rate,
                                  patches_per_image=64 * args.batch_size)
    minutes = result.seconds / 60  # fit alone, not the calibrations after it
    denoised = denoise_full_resolution(with_precision(result.model, "auto"), noisy)
    psnr, ssim = psnr_ssim(clean, denoised)
    name = args.scheme + (f" (gamma {gamma:g})" if gamma else "") + "".join(
        f", {key} {value:g}" for key, value in (("filters", model.filters),
                                               ("learning rate", args.learning_rate),
                                               ("batch", args.batch_size)))
    print(f"cell, {args.case}: {name}, {args.steps} updates: {psnr:.2f} dB, SSIM {ssim:.3f}, "
          f"trained in {minutes:.1f} min (decoded from {'a posterior draw' if result.model.fitted.decode_draws else 'the mean code'})")


if __name__ == "__main__":
    main()
