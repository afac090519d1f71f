"""Denoising whole image folders with a trained model (array files: ``denoise_arrays``).

The file side (``FolderFiles``: paths, reading, writing; no model, picklable into the
worker processes) is apart from the model side (``denoise_loaded``). Folders are streamed in batches (memory does not grow with the folder), every
output keeps its input's relative path, format, size and colour mode, and a bad
file is skipped with a warning instead of stopping the job.
"""

import errno
import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError
from vae_apps.io.files import check_output_outside, ensure_folder, remove_stale_temporaries
from vae_apps.denoising.full_resolution import PosteriorSamples
from vae_apps.denoising.presets import model_image_shape, resolve_model
from vae_apps.io.images import (describe_image_error, list_images, read_image, to_shape,
                                write_grey16, write_image)

log = logging.getLogger("vae_apps")

FIGURE_COLUMNS = 8
# Full-resolution jobs show this many pixels square from each image's centre, at 1:1.
EXAMPLE_CROP = 128
EXISTS = "output exists (pass --overwrite to replace it)"
DISK_FULL = "disk full: "
# Files per task sent to an I/O worker: large enough that the hand-over costs little,
# small enough that both workers stay busy on a short batch.
FILES_PER_TASK = 32
# Model inputs read ahead of the model (also while it loads): bounds the memory.
READ_AHEAD_BYTES = 64 * 2**20
# Posterior draws written per image with --samples-out: enough to see the variety.
KEPT_SAMPLES = 4


@dataclass
class DenoiseReport:
    """What a folder or array job did.

    Args:
        denoised: int. Images written.
        kept: list of str. Inputs whose output existed and was kept.
        skipped: list of (str, str). ``(path, reason)`` of inputs not read.
        failed: list of (str, str). ``(path, reason)`` of outputs not written.
        seconds: float. Wall time of the job.
        quality: dict. ``noisy_psnr``, ``noisy_ssim``, ``denoised_psnr``,
            ``denoised_ssim`` (means over ``compared`` images) when references were given.
        examples: dict. Row name -> images, for the before/after figure.
        full_resolution: bool. The examples are 1:1 crops of images denoised at their
            own size.
        pixels: int. Pixels of the images written, at their own sizes.

    Examples:
    >>> report = denoise_folder("photo", "scans/", "clean/")
    >>> print(report.summary())  # doctest: +SKIP
    denoised 12 images, skipped 1, failed 0 in 8.4 s (1.4 images/s, 4.31 MP/s)
    """

    denoised: int = 0
    kept: list = field(default_factory=list)  # inputs whose output existed and was kept
    skipped: list = field(default_factory=list)  # (path, reason)
    failed: list = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    quality: dict = field(default_factory=dict)
    examples: dict = field(default_factory=dict)  # row name -> list of images for a figure
    full_resolution: bool = False  # examples are 1:1 crops of images denoised at their own size
    pixels: int = 0  # of the images written, at their own sizes

    def summary(self):
        """One line: counts, time, images/s and megapixels/s and, with references, the
        quality before and after."""
        seconds = max(self.seconds, 1e-9)
        kept = f"kept {_count(len(self.kept), 'existing output')}, " if self.kept else ""
        rates = (f"{_rate(self.denoised / seconds)} images/s, "
                 f"{_rate(self.pixels / 1e6 / seconds)} MP/s")
        text = (f"denoised {_count(self.denoised, 'image')}, {kept}skipped {len(self.skipped)}, "
                f"failed {len(self.failed)} in {self.seconds:.1f} s ({rates})")
        if self.quality:
            q = self.quality
            text += (f"; PSNR {q['noisy_psnr']:.2f} -> {q['denoised_psnr']:.2f} dB, "
                     f"SSIM {q['noisy_ssim']:.3f} -> {q['denoised_ssim']:.3f}")
        return text


def _count(n, noun):
    """``1 image``, ``2 images``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _rate(value):
    """Three significant figures at most: 0.0421, 1.42, 787."""
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


class QualityMeter:
    """Running means of PSNR/SSIM of the inputs and outputs against clean references.

    Examples:
    >>> meter = QualityMeter()
    >>> meter.add(clean, noisy, denoised)
    >>> meter.result()["denoised_psnr"]  # doctest: +SKIP
    28.1
    """

    def __init__(self):
        self.sums = np.zeros(4)
        self.count = 0

    def add(self, clean, noisy, denoised):
        """Add one image's scores (arrays H x W x C in [0, 1])."""
        from vae_apps.denoising.quality import psnr_ssim

        self.sums += [*psnr_ssim(clean, noisy), *psnr_ssim(clean, denoised)]
        self.count += 1

    def result(self):
        """The means (``noisy_*``, ``denoised_*``) and ``compared``; ``{}`` if none."""
        if not self.count:
            return {}
        m = self.sums / self.count
        return {"noisy_psnr": m[0], "noisy_ssim": m[1], "denoised_psnr": m[2], "denoised_ssim": m[3],
                "compared": self.count}


class FolderFiles:
    """The file side of a folder job, shared by both engines (local workers, Ray actors):
    paths, reading and writing; no model, so it pickles into worker processes.

    Args:
        in_dir: str or Path. The folder read (never written).
        out_dir: str or Path. The folder the outputs go to, mirroring ``in_dir``.
        overwrite: bool. Replace outputs that exist (else they are kept and counted).
        image_shape: tuple. The model's input shape (``(None, None, C)``: full
            resolution, each image at its own size).
        uncertainty_dir: str or Path or None. With posterior samples: a 16-bit grey PNG
            per image of each pixel's predicted error standard deviation
            (``PosteriorSamples.std``, averaged over colour channels; v means v / 65535 on
            the 0-1 scale), same relative path.
        samples_dir: str or Path or None. With posterior samples: the kept samples, as
            ``NAME_sample1.EXT`` ... beside the same relative path, like the input.

    Examples:
    >>> files = FolderFiles("scans/", "clean/", overwrite=False, image_shape=(None, None, 1))
    >>> pixels, info, model_input = files.load("scans/a.png")  # doctest: +SKIP
    """

    def __init__(self, in_dir, out_dir, overwrite, image_shape, uncertainty_dir=None,
                 samples_dir=None):
        self.overwrite = overwrite
        self.in_dir, self.out_dir = Path(in_dir), Path(out_dir)
        self.uncertainty_dir = None if uncertainty_dir is None else Path(uncertainty_dir)
        self.samples_dir = None if samples_dir is None else Path(samples_dir)
        self.image_shape = tuple(image_shape)
        # A fully convolutional model takes every image at its own size and colour.
        self.full_resolution = self.image_shape[0] is None

    @classmethod
    def prepare(cls, in_dir, out_dir):
        """Check the folders; return (image paths, report with the non-images skipped)."""
        in_dir, out_dir = Path(in_dir), Path(out_dir)
        if not in_dir.is_dir():
            raise UserError(f"{in_dir}: no such folder")
        check_output_outside(in_dir, out_dir)
        _check_writable(out_dir)
        stale = remove_stale_temporaries(out_dir)
        if stale:
            log.warning("removed %d unfinished temporary files left by an interrupted run", stale)
        paths, others = list_images(in_dir)
        report = DenoiseReport(skipped=[(p, "not an image file") for p in others])
        for path, reason in report.skipped:
            log.warning("skipped %s: %s", path, reason)
        if not paths:
            raise UserError(f"{in_dir}: no image files found ({len(others)} other files; "
                            "formats: png, jpg, bmp, gif, webp, tiff)")
        return paths, report

    def target(self, path):
        return self.out_dir / Path(path).relative_to(self.in_dir)

    def load(self, path):
        """Return (path, (format info, model input) or None, reason it was skipped)."""
        if not self.overwrite and self.target(path).exists():
            return path, None, EXISTS
        try:
            _, info, resized = self.read_input(path)
        except Exception as exc:  # PIL raises many types for broken files
            return path, None, describe_image_error(exc)
        return path, (info, resized), None

    def read_input(self, path):
        """(pixels as read, format info, the model's input for them)."""
        pixels, info = read_image(path)
        if self.full_resolution:
            return pixels, info, pixels
        return pixels, info, to_shape(pixels, *self.image_shape)

    def save(self, path, output, info):
        """Write one output atomically (with posterior samples also its uncertainty map
        and kept samples); return the error text, or None."""
        try:
            if isinstance(output, PosteriorSamples):
                relative = Path(path).relative_to(self.in_dir)
                if self.uncertainty_dir is not None:
                    write_grey16((self.uncertainty_dir / relative).with_suffix(".png"),
                                 output.std.mean(axis=-1), overwrite=True)
                if self.samples_dir is not None:
                    for k, draw in enumerate(output.samples, start=1):
                        name = f"{relative.stem}_sample{k}{relative.suffix}"
                        write_image(self.samples_dir / relative.parent / name, draw, like=info,
                                    overwrite=True)
                output = output.mean
            write_image(self.target(path), output, like=info, overwrite=True)
            return None
        except (UserError, OSError, ValueError) as exc:
            cause = exc if isinstance(exc, OSError) else exc.__cause__
            if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
                return DISK_FULL + str(exc)
            return str(exc)


def denoise_loaded(model, loaded, full_resolution, batch_size=256, strength=1.0, noise_level=None,
                   samples=0, seed=0, keep=0, self_ensemble=False):
    """The model side: outputs for ``FolderFiles.load`` results that were read.

    Args:
        model: BaseVAE. The denoiser.
        loaded: list of tuple. ``FolderFiles.load`` results ``(pixels, info, resized)``.
        full_resolution: bool. Denoise each image at its own size (fully
            convolutional models) instead of the resized copies in one batch.
        batch_size: int. Images per model call at a fixed size.
        strength: float. Multiplies the noise level of models that take one.
        noise_level: float or None. The noise standard deviation (0-1 scale) for models
            that take one; None estimates it per image.
        samples: int. 0: the posterior mean; K >= 1: ``PosteriorSamples`` from K draws
            (fully convolutional models).
        seed: int. Seeds the draws (each image's from ``seed`` and its tiles).
        keep: int. Draws kept whole per image.
        self_ensemble: bool. Average the outputs for each image's 8 turns and mirror
            images (fully convolutional models; not with ``samples``).

    Examples:
    >>> outputs = denoise_loaded(model, [files.load(p) for p in paths], True)  # doctest: +SKIP
    """
    _check_self_ensemble(self_ensemble, samples, full_resolution)
    if not loaded:
        return []
    if full_resolution and samples:
        from vae_apps.denoising.full_resolution import denoise_with_samples

        return [denoise_with_samples(model, pixels, samples=samples, seed=seed, keep=keep,
                                     strength=strength, noise_level=noise_level)
                for _, _, pixels in loaded]
    if full_resolution:
        from vae_apps.denoising.full_resolution import denoise_full_resolution

        return [denoise_full_resolution(model, pixels, strength=strength, noise_level=noise_level,
                                        self_ensemble=self_ensemble)
                for _, _, pixels in loaded]
    if samples:
        raise UserError("--samples needs a fully convolutional model (the photo presets, or "
                        "vae-apps train --patch-size)")
    if strength != 1.0 or noise_level is not None:
        raise UserError("--strength and --sigma need a fully convolutional model that takes a "
                        "noise level (the photo presets, or vae-apps train --patch-size)")
    return model.reconstruct(np.stack([resized for _, _, resized in loaded]), batch_size)


def _check_self_ensemble(self_ensemble, samples, full_resolution):
    if self_ensemble and samples:
        raise UserError("--self-ensemble and --samples: choose one (the mean of the samples "
                        "is already an average)")
    if self_ensemble and not full_resolution:
        raise UserError("--self-ensemble needs a fully convolutional model (the photo "
                        "presets, or vae-apps train --patch-size)")


class FolderTally:
    """Counts, warnings, quality and figure examples of a folder job, in path order.

    Args:
        job: FolderFiles. The job's file side.
        report: DenoiseReport. Filled in as images are written, skipped or fail.
        reference_dir: str or Path or None. Clean images under the same relative paths:
            PSNR/SSIM before and after.
        figure_examples: int. Images kept for the before/after figure.

    Examples:
    >>> tally = FolderTally(files, DenoiseReport(), reference_dir="clean_refs/")
    >>> tally.denoised("scans/a.png")  # doctest: +SKIP
    >>> report = tally.close(seconds=3.2)  # doctest: +SKIP
    """

    def __init__(self, job, report, reference_dir=None, figure_examples=FIGURE_COLUMNS):
        self.job, self.report = job, report
        self.reference_dir, self.figure_examples = reference_dir, figure_examples
        self.meter = QualityMeter()
        self.examples = {"clean": [], "noisy": [], "denoised": []}
        self.existing = []

    def skipped(self, path, reason):
        if reason == EXISTS:
            self.existing.append(path)
        else:
            self.report.skipped.append((path, reason))
            log.warning("skipped %s: %s", path, reason)

    def failed(self, path, error):
        if error.startswith(DISK_FULL):
            raise UserError(f"{self.job.out_dir}: the disk is full: stopped after "
                            f"{self.report.denoised} images (no partial files left; free some "
                            "space and run again: finished outputs are kept)")
        self.report.failed.append((path, error))
        log.warning("failed %s: %s", path, error)

    def wants_pixels(self):
        return self.reference_dir is not None or len(self.examples["noisy"]) < self.figure_examples

    def denoised(self, path, pixels=0):
        """Count one written image (of ``pixels`` pixels); for quality and figures, read
        it and its input back."""
        self.report.denoised += 1
        self.report.pixels += pixels
        if not self.wants_pixels():
            return
        pixels, _, resized = self.job.read_input(path)
        written = _read_back(self.job.target(path))
        relative = Path(path).relative_to(self.job.in_dir)
        clean = _reference(self.reference_dir, relative, pixels.shape)
        if clean is not None:
            self.meter.add(clean, pixels, written)
        if len(self.examples["noisy"]) < self.figure_examples:
            if self.job.full_resolution:  # the centre at 1:1, where the detail shows
                show = lambda image: to_shape(centre_crop(image, EXAMPLE_CROP), EXAMPLE_CROP,
                                              EXAMPLE_CROP, 3)
            else:
                show = lambda image: to_shape(image, *resized.shape)
            self.examples["noisy"].append(show(pixels))
            self.examples["denoised"].append(show(written))
            if clean is not None:
                self.examples["clean"].append(show(clean))

    def close(self, seconds):
        report = self.report
        report.seconds = seconds
        report.kept = list(self.existing)
        if self.existing:
            log.warning("kept %d existing outputs, e.g. %s (pass --overwrite to replace them)",
                        len(self.existing), self.job.target(self.existing[0]))
        report.quality = self.meter.result()
        report.examples = {k: v for k, v in self.examples.items() if v}
        report.full_resolution = self.job.full_resolution
        if report.denoised == 0 and not report.kept:
            raise UserError(f"{self.job.in_dir}: nothing was denoised ({len(report.skipped)} "
                            f"skipped, {len(report.failed)} failed)")
        return report


def denoise_folder(model, in_dir, out_dir, *, overwrite=False, batch_size=256, reference_dir=None,
                   progress=True, figure_examples=FIGURE_COLUMNS, workers=None, strength=1.0,
                   noise_level=None, samples=0, seed=0, uncertainty_dir=None, samples_dir=None,
                   keep_samples=KEPT_SAMPLES, self_ensemble=False):
    """Denoise every image under ``in_dir`` into the same relative path under ``out_dir``.

    Args:
        model: BaseVAE or str or Path. A VAE, or the path of a saved one (``.keras``) or
            a preset's name, which is then loaded (safe mode) while the workers already
            read the first images.
        in_dir: str or Path. The folder of noisy images (never modified).
        out_dir: str or Path. Where the outputs go, each written atomically.
        overwrite: bool. Replace existing outputs (default: refuse).
        batch_size: int. Images per model call at a fixed size.
        reference_dir: str or Path or None. Clean originals under the same relative
            paths: PSNR/SSIM.
        progress: bool. A progress bar.
        figure_examples: int. How many images the before/after figure shows.
        workers: int. Processes that read and write the files while this process runs
            the model (default: one per CPU but one, at most 4); 0 does the file
            work in threads of this process instead.
        strength: float. Multiplies the noise level of models that take one (the
            presets): > 1 removes more, < 1 keeps more grain and detail.
        noise_level: float or None. The noise standard deviation (0-1 scale); None
            estimates it from each image (blind).
        samples: int. 0: the posterior mean (default); K >= 1: the mean of K posterior
            draws (fully convolutional models).
        seed: int. Seeds the draws: the same seed, the same outputs.
        uncertainty_dir: str or Path or None. With ``samples``: per image, a 16-bit grey
            PNG of each pixel's predicted error standard deviation (``FolderFiles``).
        samples_dir: str or Path or None. With ``samples``: ``keep_samples`` draws per image.
        keep_samples: int. How many draws ``samples_dir`` gets per image.
        self_ensemble: bool. Average the outputs for each image's 8 turns and mirror
            images: 5-8 times the time (fully convolutional models; not with
            ``samples``).

    Returns:
        a ``DenoiseReport`` (counts, skipped files with reasons, quality, timing).

    Examples:
    >>> report = denoise_folder("denoiser.keras", "NOISY/", "CLEAN/", reference_dir="REF/")
    """
    from tqdm.auto import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    if (uncertainty_dir is not None or samples_dir is not None) and not samples:
        raise UserError("--uncertainty and --samples-out need --samples K (e.g. --samples 16)")
    paths, report = FolderFiles.prepare(in_dir, out_dir)
    for extra in (uncertainty_dir, samples_dir):
        if extra is not None:
            check_output_outside(in_dir, extra)
            _check_writable(Path(extra))
    start = time.perf_counter()
    image_shape = model_image_shape(model)
    files = FolderFiles(in_dir, out_dir, overwrite, image_shape, uncertainty_dir, samples_dir)
    _check_self_ensemble(self_ensemble, samples, files.full_resolution)
    if files.full_resolution:
        # Photos one at a time, two read ahead: memory is bounded by the largest photos.
        files_per_task, batch_size, read_ahead = 1, 1, 2
    else:
        files_per_task = FILES_PER_TASK
        input_bytes = 4 * int(np.prod(image_shape))
        read_ahead = max(2 * batch_size, READ_AHEAD_BYTES // input_bytes) // files_per_task + 1
    tasks = [paths[i:i + files_per_task] for i in range(0, len(paths), files_per_task)]

    with _io_executor(workers) as pool, logging_redirect_tqdm(), \
            tqdm(total=len(paths), unit="img", desc="denoise", disable=None if progress else True) as bar:
        reads = deque(pool.submit(_read_files, files, task) for task in tasks[:read_ahead])
        model = resolve_model(model)  # loads while the workers read the first images
        tally = FolderTally(files, report, reference_dir, figure_examples)
        writes = deque()  # (paths, their pixel counts, future of their write errors), in order
        loaded, queued = [], read_ahead

        def finish(keep):
            """Tally finished writes in path order, waiting while over ``keep`` are pending."""
            while writes and (len(writes) > keep or writes[0][2].done()):
                written, sizes, future = writes.popleft()
                for path, pixels, error in zip(written, sizes, future.result()):
                    if error:
                        tally.failed(path, error)
                    else:
                        tally.denoised(path, pixels)
                bar.update(len(written))

        while reads:
            for path, item, reason in reads.popleft().result():
                if reason:
                    tally.skipped(path, reason)
                    bar.update(1)
                else:
                    loaded.append((path, *item))
            if queued < len(tasks):
                reads.append(pool.submit(_read_files, files, tasks[queued]))
                queued += 1
            if len(loaded) >= batch_size or not reads:
                outputs = denoise_loaded(model, loaded, files.full_resolution, batch_size,
                                         strength, noise_level, samples, seed,
                                         keep_samples if samples_dir is not None else 0,
                                         self_ensemble)
                for first in range(0, len(loaded), files_per_task):
                    chunk = loaded[first:first + files_per_task]
                    paths_and_infos = [(path, info) for path, info, _ in chunk]
                    writes.append(([path for path, _ in paths_and_infos],
                                   [info.size[0] * info.size[1] for _, info in paths_and_infos],
                                   pool.submit(_write_files, files, paths_and_infos,
                                               outputs[first:first + files_per_task])))
                loaded = []
                finish(keep=max(2 * batch_size // files_per_task, 2))
        finish(keep=0)
    return tally.close(time.perf_counter() - start)


def centre_crop(pixels, size):
    """The central ``size`` x ``size`` pixels (all of a smaller side).

    Args:
        pixels: np.ndarray. An image (H, W, C).
        size: int. Side of the crop.

    Examples:
    >>> centre_crop(np.zeros((100, 50, 1)), 64).shape
    (64, 50, 1)
    """
    height, width = pixels.shape[:2]
    top, left = max((height - size) // 2, 0), max((width - size) // 2, 0)
    return pixels[top:top + size, left:left + size]


def _read_files(files, paths):
    """I/O worker: ``FolderFiles.load`` for each path."""
    return [files.load(path) for path in paths]


def _write_files(files, paths_and_infos, outputs):
    """I/O worker: write each output like its input; return the errors (None: written)."""
    return [files.save(path, output, info) for (path, info), output in zip(paths_and_infos, outputs)]


def _io_executor(workers):
    """Worker processes for the file work, or threads where processes cannot start."""
    if workers is None:
        # One core is left to the model. More writers than cores do not help either:
        # creating and renaming files in one folder serialise in the file system
        # (2 writers on 2 cores: 30 % slower than 1, measured).
        workers = max(1, min((os.cpu_count() or 1) - 1, 4))
    if workers <= 0:
        return ThreadPoolExecutor(2)
    # fork where it is safe and quick (Linux): workers run only NumPy and PIL code, and
    # start at once, also before TensorFlow is imported. Elsewhere spawn, Python's default.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    try:
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_die_with_parent, initargs=(os.getpid(),))
    except (OSError, NotImplementedError) as exc:  # e.g. no semaphores in a sandbox
        log.warning("file work runs in threads: cannot start worker processes (%s)", exc)
        return ThreadPoolExecutor(2)


def _die_with_parent(parent):
    """Worker initializer: a worker never outlives its command, even one killed by SIGKILL
    (it would otherwise wait on its queue for ever, adopted by init)."""
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    import threading

    def watch():  # elsewhere (and as a second guard): notice the adoption within a second
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _reference(reference_dir, relative, shape):
    if reference_dir is None:
        return None
    path = Path(reference_dir) / relative
    try:
        clean, _ = read_image(path)
    except Exception as exc:
        log.warning("no reference for %s: %s", relative, describe_image_error(exc))
        return None
    if clean.shape != shape:
        clean = to_shape(clean, shape[0], shape[1], shape[2])
    return clean


def _read_back(path):
    # Quality is measured on what was written (rounded to the file's bit depth).
    return read_image(path)[0]


def _check_writable(out_dir):
    ensure_folder(out_dir)
    # A name of this process's own: two runs into one folder must not remove each other's.
    probe = out_dir / f".vae_apps_write_check.{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{out_dir}: cannot write here ({exc.strerror or exc})") from None
