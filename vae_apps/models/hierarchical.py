"""``HierarchicalVAE``: colour images of one size (32-128 px) with latents at several
scales, top-down as in NVAE (Vahdat & Kautz 2020) and VDVAE (Child 2021), and a
discretised logistic likelihood, so bits per dimension are honest.

The top latent (the coarsest scale) has the N(0, I) prior; each finer one has a prior
computed from the decoder's state above it, p(z_l | z_<l), and a posterior
q(z_l | x, z_<l) from the encoder's features at that scale and the same state. The KL is
summed over every scale. Free bits keep each scale from collapsing: a scale's KL counts in
training at least ``free_bits`` nats per latent channel and position.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from vae_apps.hardware import building_in
from vae_apps.models.base import BaseVAE, in_batches, kl_divergence

LOG_HALF_BIN = math.log(127.5)


def discretized_logistic_nll(target, parameters, log_sigma=None):
    """-log P(target) summed over subpixels, each of 256 levels under a logistic whose
    mean and log-scale the decoder gives (PixelCNN++'s likelihood with one component).

    Args:
        target: tensor. Images (N, H, W, C) in [0, 1], multiples of 1/255.
        parameters: tensor. (N, H, W, 2C): means on the [-1, 1] scale, then log-scales.
        log_sigma: unused (the shared signature of the likelihoods).

    Examples:
    >>> nll = discretized_logistic_nll(x, decoder_output)  # nats, shape (N,)
    """
    channels = ops.shape(target)[-1]
    x = 2.0 * target - 1.0
    mean = ops.clip(parameters[..., :channels], -1.5, 1.5)
    log_scale = ops.clip(parameters[..., channels:], -7.0, 2.0)
    centred, inverse = x - mean, ops.exp(-log_scale)
    plus, minus = inverse * (centred + 1.0 / 255.0), inverse * (centred - 1.0 / 255.0)
    log_cdf_plus = plus - ops.softplus(plus)            # log F(x + half a bin): the 0 level
    log_survival_minus = -ops.softplus(minus)          # log (1 - F(x - half a bin)): 255
    delta = ops.sigmoid(plus) - ops.sigmoid(minus)
    middle = inverse * centred
    log_density = middle - log_scale - 2.0 * ops.softplus(middle) - LOG_HALF_BIN
    inner = ops.where(delta > 1e-5, ops.log(ops.maximum(delta, 1e-12)), log_density)
    log_p = ops.where(x < -0.999, log_cdf_plus, ops.where(x > 0.999, log_survival_minus, inner))
    return -ops.sum(log_p, axis=(1, 2, 3))


def gaussian_kl(mean_q, log_var_q, mean_p, log_var_p):
    """KL(N(mean_q, var_q) || N(mean_p, var_p)) per image, summed over every element."""
    mean_q, log_var_q, mean_p, log_var_p = (ops.cast(t, "float32") for t in
                                            (mean_q, log_var_q, mean_p, log_var_p))
    terms = (log_var_p - log_var_q + (ops.exp(log_var_q) + ops.square(mean_q - mean_p))
             * ops.exp(-log_var_p) - 1.0)
    return 0.5 * ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)


def _residual(h, width, name):
    """A residual block: two 3 x 3 convolutions with SiLU, added to its input. The second
    starts at zero (each block the identity at first, as Fixup and VDVAE's scaled last
    layers): without it the top-down stack's activations grew until the loss reached 1e12
    in the third epoch (64 px faces, bfloat16)."""
    skip = h if h.shape[-1] == width else layers.Conv2D(width, 1, name=f"{name}_skip")(h)
    h = layers.Conv2D(width, 3, padding="same", activation="silu", name=f"{name}_a")(h)
    h = layers.Conv2D(width, 3, padding="same", kernel_initializer="zeros", name=f"{name}_b")(h)
    return layers.Add(name=f"{name}_add")([skip, h])


def _gaussian_head(h, channels, name):
    """(mean, log variance) of ``channels`` latents per position, the log variance bounded
    smoothly within (-6, 0): a standard deviation from 0.05 to 1. Unbounded, the KL between
    a posterior and a prior of tiny variance blew up (64 px faces: a loss of 3e14 nats in the
    second epoch)."""
    out = layers.Conv2D(2 * channels, 3, padding="same", name=name, dtype="float32")(h)
    mean, raw = out[..., :channels], out[..., channels:]
    # means within (-5, 5): the latents are unit-scale; their KL stays finite
    return 5.0 * ops.tanh(mean / 5.0), 3.0 * ops.tanh((raw + 3.6) / 3.0) - 3.0  # -0.5 at raw 0


@keras.saving.register_keras_serializable(package="vae_apps")
class HierarchicalVAE(BaseVAE):
    """A VAE for colour images of one size with latents at several scales (top-down).

    Args:
        image_shape: (int, int, int). (height, width, channels); height and width
            multiples of 2 ** (number of widths).
        widths: tuple of int. Feature channels at half resolution (the stem reads 2 x 2
            patches), then after each further halving.
        latent_channels: tuple of int. Latent channels of each latent scale, coarsest first;
            the scales are the coarsest ``len(latent_channels)`` resolutions.
        free_bits: float. The fewest nats per latent channel and position a scale's KL
            counts in training (0: off).
        **kwargs: ``BaseVAE``'s beta, KL warm-up and seed; ``likelihood`` is
            ``"logistic"`` (discretised logistic), the only one this decoder gives.

    Examples:
    >>> vae = HierarchicalVAE((64, 64, 3))
    >>> vae.compile(keras.optimizers.Adam(1e-3)); vae.fit(faces, epochs=10)
    >>> grid = vae.sample(16, seed=0, temperature=0.8)
    """

    likelihoods = {"logistic": discretized_logistic_nll}

    def __init__(self, image_shape, widths=(64, 96, 128, 128), latent_channels=(16, 16, 8),
                 free_bits=0.05, likelihood="logistic", **kwargs):
        super().__init__(likelihood=likelihood, **kwargs)
        self.image_shape = tuple(int(s) for s in image_shape)
        self.widths = tuple(int(w) for w in widths)
        self.latent_channels = tuple(int(c) for c in latent_channels)
        self.free_bits = float(free_bits)
        height, width, channels = self.image_shape
        factor = 2 ** len(self.widths)
        if height % factor or width % factor:
            raise ValueError(f"image sides must be multiples of {factor} for {len(self.widths)} "
                             f"widths, got {height} x {width}")
        if not 1 <= len(self.latent_channels) <= len(self.widths):
            raise ValueError("latent_channels needs one entry per latent scale, at most one per width")
        # latent scale l (0: the coarsest) sits at widths index levels - 1 - l
        self.scales = [len(self.widths) - 1 - l for l in range(len(self.latent_channels))]
        self.latent_shapes = [(*self._side(s), c) for s, c in zip(self.scales, self.latent_channels)]
        self.latent_dim = int(sum(np.prod(shape) for shape in self.latent_shapes))
        with building_in(self.dtype_policy):
            self._build_networks()
        self.build((None, *self.image_shape))

    # -- networks -----------------------------------------------------------------------

    def _side(self, index):
        """(height, width) of the features at ``widths[index]``: the image halved index + 1
        times (the stem cuts 2 x 2 patches)."""
        height, width, _ = self.image_shape
        return height // 2 ** (index + 1), width // 2 ** (index + 1)

    def _build_networks(self):
        channels = self.image_shape[-1]
        image = keras.Input(self.image_shape, name="image")
        h = layers.Rescaling(2.0, offset=-1.0, name="centred")(image)
        # 2 x 2 patches in, 2 x 2 patches out: no convolution runs at full resolution, the
        # costliest part of a step (64 px: 1.5 s for 32 images with one, 2-core CPU).
        h = layers.Conv2D(self.widths[0], 2, strides=2, name="stem")(h)
        features = {}
        for i, w in enumerate(self.widths):
            h = _residual(h, w, f"enc{i}")
            features[i] = h
            if i + 1 < len(self.widths):
                h = layers.Conv2D(self.widths[i + 1], 3, strides=2, padding="same",
                                  activation="silu", name=f"down{i}")(h)
        self.encoder = keras.Model(image, [features[s] for s in self.scales], name="encoder")

        z = keras.Input(self.latent_shapes[0], name="z0")
        top_width = self.widths[self.scales[0]]
        self.top_decoder = keras.Model(
            z, _residual(layers.Conv2D(top_width, 3, padding="same", name="top_in")(z), top_width,
                         "top"), name="top_decoder")
        self.top_posterior = self._head_model((*self._side(self.scales[0]), top_width),
                                              self.latent_channels[0], "top_posterior")
        self.ups, self.priors, self.posteriors, self.merges = [], [], [], []
        for level in range(1, len(self.scales)):
            above, here = self.scales[level - 1], self.scales[level]
            self.ups.append(self._upsampler(above, here, f"up{level}"))
            shape = (*self._side(here), self.widths[here])
            c = self.latent_channels[level]
            self.priors.append(self._head_model(shape, c, f"prior{level}"))
            state, feat = keras.Input(shape), keras.Input(shape)
            joined = layers.Concatenate()([state, feat])
            mean, log_var = _gaussian_head(_residual(joined, self.widths[here], f"q{level}"), c,
                                           f"posterior{level}_out")
            self.posteriors.append(keras.Model([state, feat], [mean, log_var],
                                               name=f"posterior{level}"))
            zl = keras.Input(self.latent_shapes[level])
            merged = layers.Add()([state, layers.Conv2D(self.widths[here], 3, padding="same",
                                                        name=f"merge{level}_z")(zl)])
            self.merges.append(keras.Model([state, zl], _residual(merged, self.widths[here],
                                                                  f"merge{level}"),
                                           name=f"merge{level}"))
        last = self.scales[-1]
        d = keras.Input((*self._side(last), self.widths[last]))
        u = self._upsampler(last, 0, "out")(d) if last else d
        u = layers.Conv2DTranspose(self.widths[0] // 2, 2, strides=2, activation="silu",
                                   name="unpatch")(u)
        params = layers.Conv2D(2 * channels, 3, padding="same", dtype="float32", name="pixels")(u)
        self.pixel_head = keras.Model(d, params, name="pixel_head")

    def _upsampler(self, above, here, name):
        """The decoder's state at ``widths[above]`` -> at ``widths[here]`` (finer)."""
        d = keras.Input((*self._side(above), self.widths[above]))
        u = d
        for step, index in enumerate(range(above - 1, here - 1, -1)):
            u = layers.UpSampling2D(2, name=f"{name}_{step}")(u)
            u = layers.Conv2D(self.widths[index], 3, padding="same", activation="silu",
                              name=f"{name}_{step}_conv")(u)
            u = _residual(u, self.widths[index], f"{name}_{step}_res")
        return keras.Model(d, u, name=name)

    @staticmethod
    def _head_model(shape, channels, name):
        state = keras.Input(shape)
        mean, log_var = _gaussian_head(state, channels, f"{name}_out")
        return keras.Model(state, [mean, log_var], name=name)

    # -- the objective ------------------------------------------------------------------

    def _walk(self, top, code_at, training=False, pixels=True):
        """The decoder's one pass from the top code down; at each finer scale
        ``code_at(level, state)`` gives its code. Returns the pixel parameters (or, without
        ``pixels``, nothing: the pass was for the codes)."""
        state = self.top_decoder(top, training=training)
        for level in range(1, len(self.scales)):
            state = self.ups[level - 1](state, training=training)
            state = self.merges[level - 1]([state, code_at(level, state)], training=training)
        return self.pixel_head(state, training=training) if pixels else None

    def _posterior(self, level, state, features, training=False):
        return self.posteriors[level - 1]([state, features[level]], training=training)

    def loss_terms(self, data, training=False):
        """The discretised logistic NLL and the KL summed over every scale (with free
        bits in training). Codes are drawn in evaluation too: validation losses are ELBO
        estimates, as the base class's."""
        x, target = self._unpack(data)
        features = self.encoder(ops.convert_to_tensor(x), training=training)
        mean, log_var = self.top_posterior(features[0], training=training)
        kls = [self._floored(kl_divergence(mean, log_var), 0, training)]

        def code_at(level, state):
            prior = self.priors[level - 1](state, training=training)
            posterior = self._posterior(level, state, features, training)
            kls.append(self._floored(gaussian_kl(*posterior, *prior), level, training))
            return self.sampling(*posterior)

        parameters = self._walk(self.sampling(mean, log_var), code_at, training)
        return self.negative_log_likelihood(target, parameters), sum(kls[1:], kls[0]), {}

    def _floored(self, kl, level, training):
        if not (training and self.free_bits):
            return kl
        return ops.maximum(kl, self.free_bits * float(np.prod(self.latent_shapes[level])))

    def log_weights(self, x, seed):
        """log p(x, z) - log q(z | x) for one draw of z at every scale per image (nats,
        shape (batch,)): averaged in probability over K draws it bounds log p(x) (IWAE);
        its mean over draws is the ELBO. ``seed``: a stateless seed (2 integers)."""
        import tensorflow as tf

        def normal_log_density(z, mean, log_var):
            terms = -0.5 * (math.log(2 * math.pi) + log_var + ops.square(z - mean) * ops.exp(-log_var))
            return ops.sum(ops.reshape(terms, (ops.shape(terms)[0], -1)), axis=-1)

        def draw(mean, log_var, level):
            mean, log_var = ops.cast(mean, "float32"), ops.cast(log_var, "float32")
            noise = tf.random.stateless_normal(tf.shape(mean), seed + tf.constant([0, 1], seed.dtype) * level)
            return mean + ops.exp(0.5 * log_var) * noise, mean, log_var

        x = ops.convert_to_tensor(x, "float32")
        features = self.encoder(x, training=False)
        z, mean, log_var = draw(*self.top_posterior(features[0], training=False), 0)
        log_w = [normal_log_density(z, 0.0 * z, 0.0 * z) - normal_log_density(z, mean, log_var)]

        def code_at(level, state):
            p_mean, p_log_var = (ops.cast(t, "float32") for t in self.priors[level - 1](state))
            z, mean, log_var = draw(*self._posterior(level, state, features), level)
            log_w.append(normal_log_density(z, p_mean, p_log_var)
                         - normal_log_density(z, mean, log_var))
            return z

        parameters = self._walk(z, code_at)
        return sum(log_w[1:], log_w[0]) - self.negative_log_likelihood(x, parameters)

    # -- inference on NumPy arrays ------------------------------------------------------

    def _top_down(self, top, given=None, seed=None, temperature=1.0):
        """Decode a batch: ``top`` codes, then each finer scale's code from ``given`` (a
        list, as ``split_codes`` gives) or drawn from its prior."""
        import tensorflow as tf

        def code_at(level, state):
            if given is not None:
                return ops.convert_to_tensor(given[level], "float32")
            mean, log_var = self.priors[level - 1](state, training=False)
            noise = tf.random.stateless_normal(tf.shape(mean), [seed or 0, level])
            return mean + temperature * ops.exp(0.5 * log_var) * noise

        parameters = self._walk(ops.convert_to_tensor(top, "float32"), code_at)
        return np.asarray(ops.cast(parameters, "float32"))

    def split_codes(self, codes):
        """Flat codes (n, latent_dim) -> a list of (n, h, w, c) maps, coarsest first."""
        codes, parts, start = np.asarray(codes, "float32"), [], 0
        for shape in self.latent_shapes:
            size = int(np.prod(shape))
            parts.append(codes[:, start:start + size].reshape(-1, *shape))
            start += size
        return parts

    def encode(self, x, batch_size=64):
        """``(z_mean, z_log_var)`` of every scale, flattened and joined (coarsest first):
        the posterior means, each finer scale given the means above it."""
        def one(images):
            features = self.encoder(ops.convert_to_tensor(images), training=False)
            mean, log_var = self.top_posterior(features[0], training=False)
            means, log_vars = [mean], [log_var]

            def code_at(level, state):
                mean, log_var = self._posterior(level, state, features)
                means.append(mean)
                log_vars.append(log_var)
                return mean

            self._walk(mean, code_at, pixels=False)
            flat = lambda ts: np.concatenate(  # noqa: E731
                [np.asarray(ops.cast(t, "float32")).reshape(len(images), -1) for t in ts], axis=1)
            return flat(means), flat(log_vars)

        empty = (np.zeros((0, self.latent_dim), "float32"),) * 2
        return in_batches(one, np.asarray(x, "float32"), batch_size, empty)

    def decode(self, z, batch_size=64, seed=0):
        """The mean image of p(x | z) for flat codes of every scale, float32 in [0, 1]."""
        def one(codes):
            parts = self.split_codes(codes)
            return self._top_down(parts[0], parts)

        empty = np.zeros((0, *self.image_shape[:2], 2 * self.image_shape[2]), "float32")
        return self._mean(in_batches(one, np.asarray(z, "float32"), batch_size, empty))

    def decode_top(self, top, batch_size=64, seed=0, temperature=1.0):
        """Images from top codes (n, h, w, c) alone, the finer scales drawn from their
        priors at ``temperature`` (seeded)."""
        top = np.asarray(top, "float32")
        seeds = iter(range(seed * 100_003, seed * 100_003 + len(top)))
        out = in_batches(lambda t: self._top_down(t, seed=next(seeds), temperature=temperature),
                         top, batch_size,
                         np.zeros((0, *self.image_shape[:2], 2 * self.image_shape[2]), "float32"))
        return self._mean(out)

    def reconstruct(self, x, batch_size=64):
        return self.decode(self.encode(x, batch_size)[0], batch_size)

    def sample(self, n, seed=None, temperature=1.0):
        """``n`` images: the top code from N(0, temperature^2 I), the rest ancestrally."""
        rng = np.random.default_rng(seed)
        top = (temperature * rng.standard_normal((n, *self.latent_shapes[0]))).astype("float32")
        return self.decode_top(top, seed=0 if seed is None else seed, temperature=temperature)

    def _mean(self, parameters):
        channels = self.image_shape[-1]
        return ((np.clip(parameters[..., :channels], -1.0, 1.0) + 1.0) / 2.0).astype("float32")

    def bits_per_dim(self, nats):
        """Nats per image -> bits per dimension (subpixel)."""
        return nats / (float(np.prod(self.image_shape)) * math.log(2.0))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "widths": self.widths,
                "latent_channels": self.latent_channels, "free_bits": self.free_bits}
