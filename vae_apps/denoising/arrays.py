"""Denoising the image arrays of ``.npz`` / ``.npy`` files (folders: ``vae_apps.denoising.folders``)."""

import time
from pathlib import Path

import numpy as np

from vae_apps.io.data import read_array_file, to_unit_images
from vae_apps.denoising.folders import FIGURE_COLUMNS, DenoiseReport, QualityMeter
from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path
from vae_apps.loading import check_image_shape

ARRAY_KEYS = ("x", "x_train", "x_test")


def denoise_array_file(model, in_path, out_path, *, overwrite=False, batch_size=256,
                       reference=None):
    """Denoise the image arrays of a ``.npz``/``.npy`` file into a file of the same kind.

    Keys ``x``, ``x_train``, ``x_test`` are denoised; other keys (labels) are copied.
    Outputs keep the input's dtype and shape (uint8 stays 0..255).

    Args:
        model: BaseVAE. A denoiser for the arrays' image shape.
        in_path: str or Path. The ``.npz``/``.npy`` file read (never written).
        out_path: str or Path. A new file of the same kind, written atomically.
        overwrite: bool. Replace ``out_path`` if it exists.
        batch_size: int. Images per model call.
        reference: str or Path or None. Clean arrays under the same keys: PSNR/SSIM
            before and after in the report.

    Examples:
    >>> report = denoise_array_file(model, "noisy.npz", "clean.npz", reference="x.npz")
    >>> report.quality["denoised_psnr"]  # doctest: +SKIP
    19.4
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.suffix.lower() != in_path.suffix.lower():
        raise UserError(f"{out_path}: write the same kind of file as the input ({in_path.suffix})")
    if out_path.resolve() == in_path.resolve():
        raise UserError(f"{out_path}: would overwrite the input")
    start = time.perf_counter()
    arrays = read_array_file(in_path)
    report = DenoiseReport()
    outputs = {}
    for key, array in arrays.items():
        if key not in ARRAY_KEYS:
            outputs[key] = array
            continue
        x = to_unit_images(array, f"{in_path} [{key}]")
        check_image_shape(model.image_shape, x.shape[1:], in_path)
        clean = model.reconstruct(x, batch_size)
        outputs[key] = _like_array(clean, array)
        report.denoised += len(x)
        report.pixels += int(np.prod(x.shape[:3]))
        if not report.examples:
            report.examples = {"noisy": list(x[:FIGURE_COLUMNS]), "denoised": list(clean[:FIGURE_COLUMNS])}
        if reference is not None and key in reference:
            report.quality = _array_quality(reference[key], x, clean)
            report.examples = {"clean": list(reference[key][:FIGURE_COLUMNS]), **report.examples}
    if not report.denoised:
        raise UserError(f"{in_path}: no image arrays (keys {', '.join(ARRAY_KEYS)})")
    with atomic_path(out_path, overwrite) as tmp, open(tmp, "wb") as fh:
        if in_path.suffix.lower() == ".npy":
            np.save(fh, outputs["x"])
        else:
            np.savez(fh, **outputs)
    report.seconds = time.perf_counter() - start
    return report


def _like_array(images, original):
    images = images.reshape(original.shape) if original.ndim == 3 else images
    if original.dtype.kind in "iu":
        top = 65535 if original.dtype == np.uint16 else 255
        return np.round(images * top).astype(original.dtype)
    if original.dtype.kind == "f" and original.max() > 1.0:
        return (images * 255.0).astype(original.dtype)
    return images.astype(original.dtype)


def _array_quality(clean, noisy, denoised):
    clean = to_unit_images(clean)
    meter = QualityMeter()
    for c, n, d in zip(clean, noisy, denoised):
        meter.add(c, n, d)
    return meter.result()


