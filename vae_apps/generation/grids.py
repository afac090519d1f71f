"""Generation: sample grids, latent interpolation and the decoded latent manifold."""

import numpy as np


def generate(model, sampler, n, seed=0, temperature=1.0, binary=False):
    """Decode ``n`` latent samples.

    Args:
        model: VAE. A trained VAE.
        sampler: PriorSampler or GMMSampler. A ``vae_apps.models.samplers`` sampler (``PriorSampler``, ``GMMSampler``).
        n: int. How many images.
        seed: int. Seeds the codes (and the pixels of ``binary`` images): same seed, same images.
        temperature: float. Scales the sampler's spread (below 1: more typical images).
        binary: bool. Draw 0/1 pixels from a Bernoulli model instead of its mean images.

    Returns:
        float32 images (n, H, W, C) in [0, 1].

    Examples:
    >>> images = generate(model, PriorSampler(model.latent_dim), 64, seed=0)
    """
    codes = sampler.sample(n, seed=seed, temperature=temperature)
    if hasattr(model, "decode_top") and codes.shape[1] != model.latent_dim:
        # the top scale only: the finer ones drawn from their learnt priors
        images = model.decode_top(codes.reshape(n, *model.latent_shapes[0]), seed=seed,
                                  temperature=temperature)
    else:
        images = model.decode(codes, seed=seed)
    if binary:
        from vae_apps.io.data import binarize_images

        images = binarize_images(images, seed)
    return images


def slerp(a, b, t):
    """Spherical interpolation: keeps the norm typical of prior samples along the way.

    Args:
        a: np.ndarray. The code at ``t = 0``.
        b: np.ndarray. The code at ``t = 1``.
        t: float. Where along the arc (nearly parallel codes: linear interpolation).

    Examples:
    >>> middle = slerp(z_a, z_b, 0.5)
    """
    a_n, b_n = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(a_n, b_n), -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolate(model, image_a, image_b, steps=10, mode="linear"):
    """Encode two images, walk between their codes in ``steps`` steps, decode each step.

    Args:
        model: VAE. Encodes the ends and decodes the walk.
        image_a: np.ndarray. The first image (H, W, C).
        image_b: np.ndarray. The last image.
        steps: int. Images in the walk, both ends included.
        mode: str. ``"linear"`` or ``"slerp"`` (spherical: keeps the norm of typical codes).

    Returns:
        float32 images (steps, H, W, C).

    Examples:
    >>> walk = interpolate(model, x[0], x[1], steps=10, mode="slerp")
    """
    z_mean, _ = model.encode(np.stack([image_a, image_b]))
    a, b = z_mean
    ts = np.linspace(0.0, 1.0, steps)
    if mode == "slerp":
        path = np.stack([slerp(a, b, t) for t in ts])
    else:
        path = np.stack([(1 - t) * a + t * b for t in ts])
    return model.decode(path)


def manifold(model, n=15, quantile=0.95):
    """For a 2-D latent space: decode an n x n grid over the plane, spaced by the prior's
    quantiles (so each cell holds equal prior mass); returned row-major, top row first.

    Args:
        model: VAE. A model with ``latent_dim == 2``.
        n: int. Cells per side.
        quantile: float. The grid spans the prior's ``1 - quantile`` to ``quantile`` quantiles.

    Examples:
    >>> grid = manifold(model_2d, n=15)  # (225, H, W, C)
    """
    from scipy.stats import norm

    if model.latent_dim != 2:
        raise ValueError("the manifold grid needs a 2-D latent space")
    edge = norm.ppf(np.linspace(1 - quantile, quantile, n))
    grid = np.array([[x, y] for y in edge[::-1] for x in edge], "float32")
    return model.decode(grid)


# -- what ``vae-apps generate`` writes ---------------------------------------------------


def default_sampler(model, model_path):
    """``"gmm"`` for a model with latents at several scales and a fitted mixture beside it
    (its finer scales drawn from their priors came out as blotchy coloured noise on 64 px
    faces: docs/measurements/generation.md), else ``"prior"``.

    Examples:
    >>> default_sampler(load_vae("faces.keras"), "faces.keras")
    'gmm'
    """
    from vae_apps.models.samplers import sampler_path

    several_scales = len(getattr(model, "latent_shapes", ())) > 1
    return "gmm" if several_scales and sampler_path(model_path).exists() else "prior"


def write_samples(model, model_path, out, n=64, sampler="prior", seed=0, temperature=1.0,
                  binary=False, scale=1, save_each=None, overwrite=False):
    """Write an n-image grid (and each sample with ``save_each``); return the images.

    Args:
        model: VAE. The generator.
        model_path: str or Path. Its file: the GMM sampler is read from beside it.
        out: str or Path. The grid's image file.
        n: int. Images.
        sampler: str. ``"prior"`` (N(0, I)) or ``"gmm"`` (fitted on the training codes).
        seed: int. Same seed, same images.
        temperature: float. Scales the codes' spread (below 1: cleaner, less varied).
        binary: bool. Draw each pixel as Bernoulli(mean) instead of showing the mean.
        scale: int. Pixels per image pixel in the grid.
        save_each: str or Path or None. Also write every sample into this folder.
        overwrite: bool. Replace existing files.

    Examples:
    >>> images = write_samples(model, "mnist.keras", "grid.png", n=64, sampler="gmm")
    """
    from pathlib import Path

    from vae_apps.errors import UserError
    from vae_apps.io.files import check_new_output
    from vae_apps.io.images import save_uint8
    from vae_apps.plots import save_grid
    from vae_apps.models.samplers import GMMSampler, PriorSampler, sampler_path

    check_new_output(out, overwrite)
    if sampler == "gmm":
        path = sampler_path(model_path)
        if not path.exists():
            raise UserError(f"{path}: no fitted GMM sampler beside the model (vae-apps train "
                            "writes one); use --sampler prior")
        chosen = GMMSampler.load(path)
    else:
        chosen = PriorSampler(sampled_dim(model))
    images = generate(model, chosen, n, seed, temperature, binary)
    save_grid(out, images, scale=scale)
    if save_each:
        width = len(str(n - 1))
        for i, img in enumerate(images):
            target = Path(save_each) / f"sample_{i:0{width}d}.png"
            check_new_output(target, overwrite)
            save_uint8(target, img)
    return images


def sampled_dim(model):
    """How many numbers a sampler draws for ``model``: its code, or for latents at several
    scales the top scale's (the finer ones follow their learnt priors)."""
    if hasattr(model, "decode_top"):
        return int(np.prod(model.latent_shapes[0]))
    return model.latent_dim


def write_interpolation(model, path_a, path_b, out, steps=10, spherical=False, scale=1,
                        overwrite=False):
    """Write the walk between two images' codes as one strip (the images at its ends), or,
    for an ``out`` ending in ``.gif``, as an animation: the ends, then the walk there and
    back (2 x (steps + 1) frames, a loop).

    Args:
        model: VAE. Encodes the ends and decodes the walk.
        path_a: str or Path. The first image file (resized to the model's shape).
        path_b: str or Path. The last image file.
        out: str or Path. The strip's image file.
        steps: int. Decoded images between the ends.
        spherical: bool. Walk along the sphere (``slerp``) instead of a straight line.
        scale: int. Pixels per image pixel.
        overwrite: bool. Replace ``out``.

    Returns:
        The strip's images, ends included.

    Examples:
    >>> walk = write_interpolation(model, "a.png", "b.png", "walk.png", steps=8)
    """
    from vae_apps.errors import UserError
    from vae_apps.io.files import check_new_output
    from vae_apps.io.images import describe_image_error, read_image, to_shape
    from vae_apps.plots import save_grid

    check_new_output(out, overwrite)
    ends = []
    for path in (path_a, path_b):
        try:
            pixels, _ = read_image(path)
        except Exception as exc:
            raise UserError(f"{path}: {describe_image_error(exc)}") from None
        ends.append(to_shape(pixels, *model.image_shape))
    strip = interpolate(model, *ends, steps=steps, mode="slerp" if spherical else "linear")
    walk = np.concatenate([ends[:1], strip, ends[1:]])
    if str(out).lower().endswith(".gif"):
        save_gif(out, np.concatenate([walk, walk[-2:0:-1]]), scale=scale or 4)
    else:
        save_grid(out, walk, columns=steps + 2, scale=scale)
    return walk


def save_gif(path, frames, scale=4, milliseconds=120):
    """An animated GIF of ``frames`` (N x H x W x C in [0, 1]), looping, written atomically.

    Examples:
    >>> save_gif("walk.gif", walk_images)
    """
    from PIL import Image

    from vae_apps.io.files import atomic_path

    u8 = np.round(np.clip(np.asarray(frames), 0, 1) * 255).astype("uint8")
    if scale > 1:
        u8 = u8.repeat(scale, axis=1).repeat(scale, axis=2)
    images = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in u8]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=milliseconds, loop=0)


def write_reconstructions(model, data_spec, out, n=8, scale=None, overwrite=False):
    """A grid of the first ``n`` images of ``data_spec`` (top row) above their
    reconstructions (bottom row).

    Examples:
    >>> write_reconstructions(model, "faces_heldout/", "recon.png", n=8)
    """
    from vae_apps.io.data import load_data
    from vae_apps.io.files import check_new_output
    from vae_apps.plots import save_grid

    check_new_output(out, overwrite)
    h, w, c = model.image_shape
    x = load_data(data_spec, image_size=(h, w), channels=c).all().x[:n]
    rows = np.concatenate([x, model.reconstruct(x)])
    save_grid(out, rows, columns=len(x), scale=scale)
    return rows


def write_latent_map(model, data_spec, out, seed=0, overwrite=False):
    """A map of the data's codes coloured by label; for a 2-D latent, also the manifold.

    Args:
        model: VAE. Encodes the data.
        data_spec: str. Any ``load_data`` spec, resized to the model's shape.
        out: str or Path. The map's image file (the manifold goes beside it).
        seed: int. Seeds the projection.
        overwrite: bool. Replace existing files.

    Returns:
        ``(images mapped, the manifold grid's path or None)``.

    Examples:
    >>> count, manifold_path = write_latent_map(model, "digits", "map.png")
    """
    from pathlib import Path

    from vae_apps.io.data import load_data
    from vae_apps.io.files import check_new_output
    from vae_apps.plots import latent_map, project_2d, save_grid

    check_new_output(out, overwrite)
    h, w, c = model.image_shape
    images = load_data(data_spec, image_size=(h, w), channels=c).all()
    codes, _ = model.encode(images.x)
    axis_name = "PCA" if codes.shape[1] > 2 else "z"  # a 2-D latent space is shown as it is
    latent_map(out, project_2d(codes, "pca", seed), images.y, title=f"latent space of {data_spec}",
               method=axis_name, class_names=images.class_names)
    grid_path = None
    if model.latent_dim == 2:
        grid_path = Path(out).with_name(Path(out).stem + "_manifold.png")
        check_new_output(grid_path, overwrite)
        save_grid(grid_path, manifold(model), columns=15)
    return len(images), grid_path


# -- models trained with labels (vae_apps.models.semi_supervised) ------------------------------


def write_class_samples(model, out, class_name=None, n=64, seed=0, temperature=1.0, scale=1,
                        overwrite=False):
    """Images of one class (``class_name``), or one row per class when it is ``None``.

    Every column of the per-class grid shares one style z, so a column shows one
    handwriting (or pose) rendered as each class.

    Args:
        model: SemiSupervisedVAE. A model trained with labels.
        out: str or Path. The grid's image file.
        class_name: str or None. One of the model's class names.
        n: int. Images (per class: ``n // n_classes`` columns).
        seed: int. Same seed, same images.
        temperature: float. Scales the style codes' spread.
        scale: int. Pixels per image pixel.
        overwrite: bool. Replace ``out``.

    Returns:
        The images written.

    Examples:
    >>> sevens = write_class_samples(model, "sevens.png", class_name="7", n=32)
    """
    from vae_apps.errors import UserError
    from vae_apps.io.files import check_new_output
    from vae_apps.plots import save_grid

    check_new_output(out, overwrite)
    if class_name is not None:
        try:
            index = model.class_index(class_name)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        images = model.generate([index] * n, seed=seed, temperature=temperature)
        save_grid(out, images, scale=scale)
        return images
    columns = max(1, n // model.n_classes)
    z = temperature * np.random.default_rng(seed).normal(size=(columns, model.latent_dim))
    classes = np.repeat(np.arange(model.n_classes), columns)
    images = model.decode(np.tile(z, (model.n_classes, 1)), classes)
    save_grid(out, images, columns=columns, scale=scale)
    return images


def write_analogies(model, data_spec, out, n=8, scale=1, overwrite=False):
    """The style of the first ``n`` images of ``data_spec`` rendered as every class: one row
    per image, the image itself first (Kingma et al. 2014, figure 1).

    Args:
        model: SemiSupervisedVAE. A model trained with labels.
        data_spec: str. Any ``load_data`` spec, resized to the model's shape.
        out: str or Path. The grid's image file.
        n: int. Images (rows).
        scale: int. Pixels per image pixel.
        overwrite: bool. Replace ``out``.

    Returns:
        The grid's rows, (n, n_classes + 1, H, W, C).

    Examples:
    >>> rows = write_analogies(model, "digits", "analogies.png", n=8)
    """
    from vae_apps.io.data import load_data
    from vae_apps.io.files import check_new_output
    from vae_apps.plots import save_grid

    check_new_output(out, overwrite)
    h, w, c = model.image_shape
    x = load_data(data_spec, image_size=(h, w), channels=c).all().x[:n]
    rendered = model.analogies(x)
    rows = np.concatenate([x[:, None], rendered], axis=1)
    save_grid(out, rows.reshape(-1, h, w, c), columns=model.n_classes + 1, scale=scale)
    return rows
