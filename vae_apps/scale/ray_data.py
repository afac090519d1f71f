"""Batch inference on Ray Data: the heavy stage of ``denoise`` and ``label`` on a cluster.

Work is a Ray Dataset mapped by a pool of actors (``map_batches`` with a callable
class), each loading the model once. Without an address a local Ray is started and
shut down again; with one, the job joins that cluster. The outputs equal the local
engine's: the actors run the same reader, model and writer (``vae_apps.denoising.folders``).

Folders enter Ray as their file list rather than through ``ray.data.read_images``:
that reader stops at the first broken file and converts modes on its own, where
vae_apps skips a bad file with a warning and keeps each file's mode and bit depth.
"""

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from vae_apps.errors import UserError

log = logging.getLogger("vae_apps")

INSTALL_HINT = 'the Ray engine needs Ray: pip install "ray[data]>=2.40"'
DENOISED, FAILED = "denoised", "failed"


def import_ray():
    """Ray with its Data library, or UserError with the install command.

    Examples:
    >>> ray = import_ray()  # doctest: +SKIP
    """
    try:
        import ray
        import ray.data  # noqa: F401  (the Data extra: pandas, pyarrow)
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


# Run by a detached process: while the command lives, remember every process it started
# (directly or not); once it is gone, however it ended, kill those still running. Killed
# with SIGKILL, the command cannot shut Ray down; its raylet and workers die with it, but
# Ray's dashboard and runtime-env agents were measured still alive, adopted by init, a
# minute later. Only Ray's processes are killed, and only if their start time is the one
# remembered.
_REAPER = """
import os, sys, time
parent, me, seen = int(sys.argv[1]), os.getpid(), {}

def table():
    rows = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            rows[int(entry)] = (int(fields[1]), fields[19])
        except (OSError, IndexError, ValueError):
            pass
    return rows

while os.path.exists(f"/proc/{parent}"):
    rows, family = table(), {parent}
    while True:
        more = {pid for pid, (ppid, _) in rows.items() if ppid in family and pid != me} - family
        if not more:
            break
        family |= more
    seen.update((pid, rows[pid][1]) for pid in family - {parent})
    time.sleep(0.5)
rows = table()
for pid, start in seen.items():
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            ours = b"ray" in f.read()  # Ray's processes only, never the user's others
        if ours and pid in rows and rows[pid][1] == start:
            os.kill(pid, 9)
    except OSError:
        pass
"""


def _reap_local_ray_after_us():
    if not sys.platform.startswith("linux"):
        return
    import subprocess

    subprocess.Popen([sys.executable, "-c", _REAPER, str(os.getpid())],
                     start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def ray_session(address=None):
    """Join the cluster at ``address``, or run a local Ray for the duration.

    A local Ray (and every process it started) is shut down when the block ends,
    however it ends.

    Args:
        address: str or None. A Ray cluster's address (``None``: a local Ray).

    Examples:
    >>> with ray_session() as ray:  # doctest: +SKIP
    ...     ray.data.from_numpy(blocks).map_batches(...)
    """
    ray = import_ray()
    started = not ray.is_initialized()
    if started:
        # Actors import TensorFlow; keep its C++ banner out of the user's terminal.
        env = {"env_vars": {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}}
        try:
            ray.init(address=address, runtime_env=env, include_dashboard=False,
                     logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UserError(f"cannot start or join Ray at {address or 'local'}: "
                            f"{str(exc).splitlines()[0]}") from None
        if address is None:
            _reap_local_ray_after_us()
    # Ray Data logs its plans and settings; the command prints its own progress and summary.
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # outputs in input order
        context.enable_progress_bars = False
        yield ray
    finally:
        if started:
            ray.shutdown()


class _DenoiseActor:
    """One Ray actor: load the model once, then read, denoise and write batches of files."""

    def __init__(self, model_path, in_dir, out_dir, overwrite, batch_size):
        from vae_apps.denoising.folders import FolderFiles
        from vae_apps.denoising.presets import resolve_model

        self.model = resolve_model(model_path)
        self.job = FolderFiles(in_dir, out_dir, overwrite, self.model.image_shape)
        self.batch_size = batch_size

    def __call__(self, batch):
        items = [self.job.load(Path(p)) for p in batch["path"]]
        loaded = [(path, *item) for path, item, reason in items if not reason]
        from vae_apps.denoising.folders import denoise_loaded

        outputs = denoise_loaded(self.model, loaded, self.job.full_resolution, self.batch_size)
        status = {path: (reason, "", 0) for path, _, reason in items if reason}
        for (path, info, _), output in zip(loaded, outputs):
            error = self.job.save(path, output, info)
            status[path] = (FAILED, error, 0) if error else (DENOISED, "", info.size[0] * info.size[1])
        paths = [path for path, _, _ in items]
        return {"path": np.array([str(p) for p in paths]),
                "status": np.array([status[p][0] for p in paths]),
                "error": np.array([status[p][1] for p in paths]),
                "pixels": np.array([status[p][2] for p in paths], "int64")}


def denoise_folder_ray(model_path, in_dir, out_dir, *, overwrite=False, batch_size=256,
                       reference_dir=None, address=None, actors=2, progress=True, model=None):
    """``vae_apps.denoising.folders.denoise_folder`` with the reading, model and writing on Ray.

    Args:
        model_path: str or Path. A ``.keras`` file or a preset name, loaded by each actor.
        in_dir: str or Path. The folder read (never written).
        out_dir: str or Path. The folder written, mirroring ``in_dir``.
        overwrite: bool. Replace existing outputs.
        batch_size: int. Images per model call.
        reference_dir: str or Path or None. Clean references: PSNR/SSIM in the report.
        address: str or None. A Ray cluster (``None``: a local Ray).
        actors: int. Model actors (each loads the model once).
        progress: bool. A progress bar.
        model: BaseVAE or None. The file's model already loaded by the caller (else it
            is loaded here); the driver only needs it for the image shape.

    Returns:
        A ``DenoiseReport``, as ``denoise_folder``'s.

    Examples:
    >>> report = denoise_folder_ray("photo", "scans/", "clean/", actors=2)  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    from vae_apps.denoising.folders import FolderFiles, FolderTally
    from vae_apps.denoising.presets import is_preset, resolve_model

    paths, report = FolderFiles.prepare(in_dir, out_dir)
    model = resolve_model(model or model_path)
    job = FolderFiles(in_dir, out_dir, overwrite, model.image_shape)
    tally = FolderTally(job, report, reference_dir)
    if job.full_resolution:  # whole photos: a few per batch bound each actor's memory
        batch_size = min(batch_size, 2)
    start = time.perf_counter()
    with ray_session(address) as ray:
        # Absolute paths: actors may run in another working directory (or machine).
        dataset = ray.data.from_items([{"path": str(_absolute(job, p))} for p in paths])
        results = dataset.map_batches(
            _DenoiseActor, fn_constructor_kwargs=dict(
                model_path=model_path if is_preset(model_path) else str(Path(model_path).resolve()),
                in_dir=str(job.in_dir.resolve()),
                out_dir=str(job.out_dir.resolve()), overwrite=overwrite, batch_size=batch_size),
            batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors),
            batch_format="numpy")
        outcomes = {}
        with tqdm(total=len(paths), unit="img", desc="denoise (ray)",
                  disable=None if progress else True) as bar:
            for row in results.iter_rows():
                outcomes[row["path"]] = (row["status"], row["error"], int(row["pixels"]))
                bar.update(1)
    for path in paths:  # tally in path order, as the local engine does
        status, error, pixels = outcomes[str(_absolute(job, path))]
        if status == DENOISED:
            tally.denoised(path, pixels)
        elif status == FAILED:
            tally.failed(path, error)
        else:
            tally.skipped(path, status)
    return tally.close(time.perf_counter() - start)


def _absolute(job, path):
    return job.in_dir.resolve() / Path(path).relative_to(job.in_dir)


class _EncodeActor:
    """One Ray actor: load the model once, then encode batches of images."""

    def __init__(self, model_path, batch_size):
        from vae_apps.loading import load_for_inference

        self.model, self.batch_size = load_for_inference(model_path), batch_size

    def __call__(self, batch):
        z_mean, z_log_var = self.model.encode(batch["data"], self.batch_size)
        return {"z_mean": z_mean, "z_log_var": z_log_var}


def encode_ray(model_path, x, *, batch_size=256, address=None, actors=2):
    """``VAE.encode`` on Ray: (z_mean, z_log_var) for images ``x``, in order.

    Args:
        model_path: str or Path. A ``.keras`` file, loaded by each actor.
        x: np.ndarray. float32 images (N, H, W, C) in [0, 1].
        batch_size: int. Images per model call (and per Ray block).
        address: str or None. A Ray cluster (``None``: a local Ray).
        actors: int. Model actors.

    Examples:
    >>> z_mean, z_log_var = encode_ray("digits.keras", images.x)  # doctest: +SKIP
    """
    with ray_session(address) as ray:
        x = np.asarray(x, "float32")
        # One block per batch: every actor gets work, batches match the local engine's.
        blocks = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
        results = ray.data.from_numpy(blocks).map_batches(
            _EncodeActor, fn_constructor_kwargs=dict(model_path=str(Path(model_path).resolve()),
                                                     batch_size=batch_size),
            batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors),
            batch_format="numpy")
        batches = list(results.iter_batches(batch_size=None, batch_format="numpy"))
    return (np.concatenate([b["z_mean"] for b in batches]),
            np.concatenate([b["z_log_var"] for b in batches]))
