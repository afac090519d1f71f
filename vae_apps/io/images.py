"""Reading and writing image files: colour modes, 16-bit, EXIF, alpha, folder walking.

Images come in as float32 arrays in [0, 1], H x W x C, and go back out with the
size, colour mode and format they came with.
"""

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from vae_apps.io.files import atomic_path

log = logging.getLogger("vae_apps")

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
# Beyond this many pixels PIL's decompression-bomb check refuses the file.
MAX_IMAGE_PIXELS = 64_000_000
# Transparent pixels are composited on this grey level (white) before denoising.
ALPHA_BACKGROUND = 1.0

GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


class ImageTooLarge(ValueError):
    """An image over ``MAX_IMAGE_PIXELS`` (a decompression-bomb guard).

    Args:
        message: str. The image's size and the limit.

    Examples:
    >>> read_image("huge.tif")  # raises ImageTooLarge  # doctest: +SKIP
    """


@dataclass(frozen=True)
class ImageInfo:
    """What is needed to write an output like its input: size, mode, format, alpha.

    Args:
        size: (int, int). (width, height), as PIL gives it.
        mode: str. The PIL mode (``"L"``, ``"RGB"``, ``"I;16"``, ``"P"`` ...).
        format: str or None. The PIL format (``"PNG"``, ``"JPEG"`` ...).
        alpha: np.ndarray or None. uint8 (H, W) transparency, put back on the output.
        save_options: dict or None. PIL ``save()`` arguments that keep quality and
            metadata (JPEG tables, ICC profile, DPI ...).

    Examples:
    >>> pixels, info = read_image("scan.png")
    >>> write_image("clean/scan.png", denoised, like=info)
    """

    size: tuple  # (width, height)
    mode: str
    format: str | None
    alpha: np.ndarray | None = None  # uint8 H x W, when the input had transparency
    save_options: dict | None = None  # PIL save() arguments that keep quality and metadata


def list_images(root):
    """Walk ``root`` recursively; return (image paths, other file paths), both sorted.

    Hidden files and folders are left out; symbolic links to folders are not
    followed, so link loops cannot trap the walk.

    Args:
        root: str or Path. The folder to walk.

    Examples:
    >>> images, others = list_images("MY_PHOTOS")
    """
    root = Path(root)
    images, others = [], []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            (images if path.suffix.lower() in IMAGE_EXTENSIONS else others).append(path)
    return images, others


def read_image(path, at_least=None):
    """Return (pixels, info): float32 H x W x C in [0, 1], C = 1 (grey) or 3 (colour).

    16-bit images are scaled, not clipped; EXIF orientation is applied; alpha is
    composited on white and kept in ``info`` so it can be written back. Raises
    ``OSError``/``ValueError`` (from PIL) for files that are not readable images.

    Args:
        path: str or Path. An image file PIL can open.
        at_least: int or None. A JPEG may be decoded at 1/2, 1/4 or 1/8 of its size
            (PIL's draft mode: much faster, never below this many pixels a side); for
            images only read to be shrunk. ``info.size`` is then the decoded size.

    Examples:
    >>> pixels, info = read_image("photo.jpg")
    >>> write_image("out.jpg", denoised, like=info)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:  # reads the header only
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImageTooLarge(f"{img.width}x{img.height} pixels is over the "
                                    f"{MAX_IMAGE_PIXELS:,}-pixel limit")
            if at_least:
                scale = min(img.width, img.height) / at_least
                img.draft(img.mode, (int(img.width / scale), int(img.height / scale)))
            img.load()
            fmt = img.format
            options = _save_options(img)
            # Turned upright once; the EXIF written back says so (orientation 1).
            img = ImageOps.exif_transpose(img)
            if img.info.get("exif"):
                options["exif"] = img.info["exif"]
    info_mode = img.mode
    alpha = None
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        alpha = np.asarray(img.getchannel("A"))
        img = img.convert("LA" if img.mode in ("LA", "La") else "RGBA")
    pixels = _to_unit_float(img)
    if alpha is not None:
        a = alpha[..., None].astype("float32") / 255.0
        pixels = pixels[..., :-1] * a + ALPHA_BACKGROUND * (1.0 - a)
    return pixels, ImageInfo(size=img.size, mode=info_mode, format=fmt, alpha=alpha,
                             save_options=options)


def _save_options(img):
    """What ``save`` needs to write ``img``'s format back at its own quality, with its
    colour profile, resolution and text: a JPEG keeps its quantisation tables and
    chroma subsampling (its quality, not PIL's default 75)."""
    options = {key: img.info[key] for key in ("icc_profile", "dpi") if img.info.get(key)}
    if img.format == "JPEG":
        from PIL import JpegImagePlugin

        options["qtables"] = {k: list(v) for k, v in img.quantization.items()}
        subsampling = JpegImagePlugin.get_sampling(img)
        if subsampling != -1:
            options["subsampling"] = subsampling
    elif img.format == "PNG" and getattr(img, "text", None):
        from PIL import PngImagePlugin

        text = PngImagePlugin.PngInfo()
        for key, value in img.text.items():
            text.add_text(key, value)
        options["pnginfo"] = text
    elif img.format == "TIFF" and img.info.get("compression") not in (None, "raw"):
        options["compression"] = img.info["compression"]
    elif img.format == "WEBP":
        options["lossless"] = bool(img.info.get("lossless"))
    return options


def _to_unit_float(img):
    if img.mode in _SIXTEEN_BIT_MODES:
        arr = np.asarray(img, dtype="float32") / 65535.0
    elif img.mode == "F":
        arr = np.asarray(img, dtype="float32")
    elif img.mode in ("L", "LA", "RGB", "RGBA"):
        arr = np.asarray(img, dtype="float32") / 255.0
    elif img.mode == "1":
        arr = np.asarray(img.convert("L"), dtype="float32") / 255.0
    else:  # CMYK, YCbCr, LAB, HSV ...
        arr = np.asarray(img.convert("RGB"), dtype="float32") / 255.0
    if arr.ndim == 2:
        arr = arr[..., None]
    return np.clip(arr, 0.0, 1.0)


def describe_image_error(exc):
    """One short phrase for why PIL could not read a file.

    Args:
        exc: Exception. What ``read_image`` raised.

    Examples:
    >>> describe_image_error(PIL.Image.UnidentifiedImageError("x"))  # doctest: +SKIP
    'not a readable image (unknown or corrupt format)'
    """
    if isinstance(exc, ImageTooLarge):
        return f"image too large: {exc} (decompression-bomb guard)"
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return "image too large (decompression-bomb guard)"
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not a readable image (unknown or corrupt format)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"unreadable image ({text})"


def to_shape(pixels, height, width, channels):
    """Resize and convert ``pixels`` (H x W x C float) to height x width x channels.

    Colour becomes grey by ITU-R 601 luma (as PIL's ``convert("L")``); grey becomes
    colour by repetition; sizes change by bicubic resampling.

    Args:
        pixels: np.ndarray. float32 (H, W, C) in [0, 1].
        height: int. Rows wanted.
        width: int. Columns wanted.
        channels: int. 1 or 3.

    Examples:
    >>> to_shape(np.zeros((30, 40, 3), "float32"), 28, 28, 1).shape
    (28, 28, 1)
    """
    if pixels.shape[-1] != channels:
        if channels == 1:  # ITU-R 601 luma, as PIL's convert("L")
            pixels = pixels @ np.array([[0.299], [0.587], [0.114]], "float32")
        else:
            pixels = np.repeat(pixels, channels, axis=-1)
    if pixels.shape[:2] != (height, width):
        pixels = resize(pixels, (width, height))
    return pixels.astype("float32", copy=False)


# The four quarter turns of an image, each also mirrored: the 8 variants that training
# crops are drawn in and that ``denoise_full_resolution(self_ensemble=True)`` averages over.
TURNS = 8


def turned(pixels, turn):
    """One of the ``TURNS`` variants of an H x W x C image: ``turn % 4`` quarter turns
    (anticlockwise), then mirrored left to right when ``turn >= 4``.

    Args:
        pixels: np.ndarray. An image (H, W, C).
        turn: int. 0-7; 0 is the image itself.

    Examples:
    >>> turned(np.zeros((2, 3, 1)), 1).shape
    (3, 2, 1)
    """
    variant = np.rot90(pixels, turn % 4)
    return variant[:, ::-1] if turn >= 4 else variant


def turned_back(pixels, turn):
    """The image that ``turned(image, turn)`` was made from.

    Examples:
    >>> x = np.arange(6.0).reshape(2, 3, 1)
    >>> bool((turned_back(turned(x, 5), 5) == x).all())
    True
    """
    back = pixels[:, ::-1] if turn >= 4 else pixels
    return np.rot90(back, -(turn % 4))


def resize(pixels, size):
    """Resize float H x W x C pixels to ``size`` = (width, height), channel by channel.

    Args:
        pixels: np.ndarray. float32 (H, W, C) in [0, 1].
        size: (int, int). (width, height), PIL's order.

    Examples:
    >>> resize(np.zeros((10, 20, 1), "float32"), (40, 20)).shape
    (20, 40, 1)
    """
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(pixels[..., c])).resize(size, Image.BICUBIC))
                for c in range(pixels.shape[-1])]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def write_image(path, pixels, like=None, overwrite=False):
    """Write float pixels atomically; with ``like``, in that input's size, mode and format.

    Args:
        path: str or Path. The output file (its extension picks the format without
            ``like``).
        pixels: np.ndarray. float (H, W, C) in [0, 1] (clipped).
        like: ImageInfo or None. The input this output replaces.
        overwrite: bool. Replace an existing file (default: refuse with a clear error).

    Examples:
    >>> write_image("clean/a.png", pixels, like=info)
    """
    pixels = np.asarray(pixels, "float32")
    if like is None:
        img = _from_unit_float(pixels, "L" if pixels.shape[-1] == 1 else "RGB")
        fmt = None
    else:
        if pixels.shape[1::-1] != tuple(like.size):
            pixels = resize(pixels, tuple(like.size))
        img = _from_unit_float(pixels, like.mode)
        if like.alpha is not None:
            img = img.convert("RGB" if pixels.shape[-1] == 3 else "L")
            img.putalpha(Image.fromarray(like.alpha))
        img = _convert_mode(img, like.mode)
        fmt = like.format
    options = dict(like.save_options or {}) if like is not None else {}
    if options.get("qtables") and img.mode not in ("L", "RGB", "CMYK"):
        options.pop("qtables")
        options.pop("subsampling", None)
    with atomic_path(path, overwrite=overwrite) as tmp:
        img.save(tmp, format=fmt, **options)


def write_grey16(path, values, overwrite=False):
    """Write H x W values in [0, 1] atomically as a 16-bit grey PNG (value v is stored
    as round(v x 65535)), e.g. a per-pixel uncertainty map.

    Args:
        path: str or Path. The ``.png`` file.
        values: np.ndarray. (H, W) or (H, W, 1), clipped to [0, 1].
        overwrite: bool. Replace an existing file.

    Examples:
    >>> write_grey16("std/a.png", result.std.mean(axis=-1))
    """
    values = np.clip(np.asarray(values, "float64").reshape(np.shape(values)[:2] + (1,)), 0.0, 1.0)
    with atomic_path(path, overwrite=overwrite) as tmp:
        _from_unit_float(values, "I;16").save(tmp, format="PNG")


def _from_unit_float(pixels, mode):
    grey = pixels.shape[-1] == 1
    if grey and mode in _SIXTEEN_BIT_MODES:
        return Image.fromarray(np.round(pixels[..., 0] * 65535).astype("uint16"))
    if grey and mode == "F":
        return Image.fromarray(np.ascontiguousarray(pixels[..., 0]))
    arr = np.round(np.clip(pixels, 0.0, 1.0) * 255).astype("uint8")
    return Image.fromarray(arr[..., 0] if grey else arr)


def _convert_mode(img, mode):
    if img.mode == mode or mode in _SIXTEEN_BIT_MODES and img.mode == "I;16":
        return img
    if mode == "P":
        return img.convert("RGB").quantize(colors=256)
    if mode in ("PA",):
        return img
    return img.convert(mode)


def save_uint8(path, pixels):
    """Write a float [0, 1] H x W x C picture (a figure, a grid) as PNG, atomically.

    Args:
        path: str or Path. The file (replaced if it exists).
        pixels: np.ndarray. float (H, W, C) in [0, 1].

    Examples:
    >>> save_uint8("samples/sample_00.png", images[0])
    """
    write_image(path, pixels, overwrite=True)
