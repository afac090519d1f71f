"""Real photos and scans that ship with the dependencies (no download needed).

They train the shipped photo denoisers and evaluate them. The evaluation photos
(``EVALUATION_PHOTOS``) are never used for training.
"""

import numpy as np

# Held out from every shipped model's training: the photo-denoising benchmark's test set.
EVALUATION_PHOTOS = ("camera", "astronaut", "coffee", "coins")
# scikit-image's bundled natural photos and scans (skipping synthetic and binary
# images), the stereo motorcycle pair, scikit-learn's two sample photos and
# matplotlib's portrait of Grace Hopper.
TRAINING_PHOTOS = ("chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                   "brick", "grass", "gravel", "moon", "page", "text", "cell", "clock",
                   "microaneurysms", "motorcycle_left", "motorcycle_right", "china", "flower",
                   "grace_hopper")
BUNDLED_PHOTOS_SPEC = "bundled-photos"


def bundled_photo(name):
    """One bundled photo as float32 H x W x C in [0, 1] (C = 1 or 3, as it ships).

    Args:
        name: str. A scikit-image ``data`` photo (camera, astronaut, coffee, coins, ...).

    Examples:
    >>> camera = bundled_photo("camera")  # 512 x 512 x 1
    """
    import skimage.data

    if name in ("motorcycle_left", "motorcycle_right"):
        left, right, _ = skimage.data.stereo_motorcycle()
        pixels = left if name == "motorcycle_left" else right
    elif name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        pixels = load_sample_image(f"{name}.jpg")
    elif name == "grace_hopper":
        import matplotlib.cbook
        from PIL import Image

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
            pixels = np.asarray(Image.open(f).convert("RGB"))
    else:
        pixels = getattr(skimage.data, name)()
    pixels = np.asarray(pixels, "float32") / 255.0
    return pixels[..., None] if pixels.ndim == 2 else pixels[..., :3]


def training_photos():
    """The bundled training photos (never the evaluation ones), in a fixed order.

    Examples:
    >>> photos = training_photos()  # float32 H x W x C arrays in [0, 1]
    """
    return [bundled_photo(name) for name in TRAINING_PHOTOS]


def evaluation_photos():
    """{name: photo} of the held-out evaluation photos.

    Examples:
    >>> sorted(evaluation_photos())
    ['astronaut', 'camera', 'coffee', 'coins']
    """
    return {name: bundled_photo(name) for name in EVALUATION_PHOTOS}
