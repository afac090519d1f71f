"""What every training run gets: a NaN stop, Ctrl-C, the best epoch kept, progress."""

import logging
import os
import signal
import threading
import time
from pathlib import Path

import keras

from vae_apps.errors import UserError
from vae_apps.io.files import atomic_path

log = logging.getLogger("vae_apps")


class TrainingDiverged(UserError):
    """The loss became NaN or infinite.

    Args:
        message: str. Where (epoch, step) and what to try.

    Examples:
    >>> train_vae(x, learning_rate=10.0)  # raises TrainingDiverged  # doctest: +SKIP
    """


class StopOnNaN(keras.callbacks.TerminateOnNaN):
    """``TerminateOnNaN(raise_error=True)`` whose error names the epoch and step.

    Raising (rather than stopping gracefully) keeps ``BackupAndRestore``'s backup,
    which a normal end of training deletes.

    Examples:
    >>> model.fit(ds, callbacks=[StopOnNaN()])  # fit_keeping_best adds it
    """

    def __init__(self):
        super().__init__(raise_error=True)
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError:
            raise TrainingDiverged(
                f"training diverged: the loss became NaN or infinite at epoch {self.epoch + 1}, "
                f"step {batch + 1} (try a lower --learning-rate)") from None


QUIET_ENV = "VAE_APPS_QUIET"  # set (``vae-apps --quiet``): no progress output at all


def progress_wanted():
    """False when progress output is switched off (``--quiet``, ``VAE_APPS_QUIET=1``)."""
    return os.environ.get(QUIET_ENV, "") in ("", "0")


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class TrainingProgress(keras.callbacks.Callback):
    """Progress of a whole training run with a time estimate: a bar on a terminal, a
    line per epoch (and at least one a minute) in a log.

    Args:
        desc: str. What is trained (the lines' prefix).
        stream: file or None. Where to write (default: standard error).
        every: float. Seconds between lines within an epoch when not on a terminal.

    Examples:
    >>> model.fit(ds, epochs=20, verbose=0, callbacks=[TrainingProgress("label")])
    """

    def __init__(self, desc="train", stream=None, every=60.0):
        super().__init__()
        self.desc, self.stream, self.every = desc, stream, every

    def on_train_begin(self, logs=None):
        import sys

        self.out = self.stream or sys.stderr
        self.epochs = self.params.get("epochs") or 1
        self.steps = self.params.get("steps") or None
        self.start = self.last = time.perf_counter()
        self.done = 0
        self.epoch = 0
        self.bar = None
        self.total = self.epochs * self.steps if self.steps else self.epochs
        if getattr(self.out, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="step" if self.steps else "epoch",
                            file=self.out, dynamic_ncols=True)
        else:
            per = f" of {self.steps} steps" if self.steps else ""
            self._line(f"{self.epochs} epochs{per}")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not self.steps:
            return
        self.done = self.epoch * self.steps + batch + 1
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.4g}", epoch=self.epoch + 1,
                                     refresh=False)
        elif time.perf_counter() - self.last >= self.every:
            self._status(f"epoch {self.epoch + 1}/{self.epochs}, step {batch + 1}/{self.steps}",
                         logs)

    def on_epoch_end(self, epoch, logs=None):
        self.done = (epoch + 1) * self.steps if self.steps else epoch + 1
        if self.bar is not None:
            self.bar.update(self.done - self.bar.n)
        else:
            self._status(f"epoch {epoch + 1}/{self.epochs} done", logs)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
        else:
            self._line(f"finished in {_duration(time.perf_counter() - self.start)}")

    def _status(self, where, logs):
        elapsed = time.perf_counter() - self.start
        fraction = self.done / self.total
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else float("nan")
        loss = f"; loss {float(logs['loss']):.4g}" if logs and "loss" in logs else ""
        self._line(f"{where} ({100 * fraction:.0f} %), {_duration(elapsed)} elapsed, about "
                   f"{_duration(left)} left{loss}")

    def _line(self, text):
        self.last = time.perf_counter()
        print(f"{self.desc}: {text}", file=self.out, flush=True)


class StopOnInterrupt(keras.callbacks.Callback):
    """Ctrl-C ends training after the current step, cleanly; a second Ctrl-C interrupts at once.

    Raising KeyboardInterrupt in the middle of a TensorFlow step can leave the input
    pipeline's threads hanging, so the first SIGINT only asks the fit loop to stop.

    Examples:
    >>> stop = StopOnInterrupt()
    >>> model.fit(ds, epochs=50, callbacks=[stop])
    >>> stop.interrupted  # True after a Ctrl-C  # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self.interrupted = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.model.stop_training = True
        log.warning("interrupted: stopping after this step (Ctrl-C again to stop at once)")

    def on_train_begin(self, logs=None):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupted:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class BestCheckpoint(keras.callbacks.Callback):
    """Keep the model of the epoch where ``monitor`` was best.

    With a ``path``, save it there whenever ``monitor`` improves, atomically: a write
    that fails (a full disk) leaves the previous best file intact, warns, and training
    goes on. Without one, keep its weights in memory; ``restore()`` puts them back.

    Args:
        path: str or Path or None. The ``.keras`` file to keep the best model in.
        monitor: str. The logged value to minimise (``"val_loss"``, ``"loss"``).

    Examples:
    >>> best = BestCheckpoint()
    >>> model.fit(ds, validation_data=val, epochs=10, callbacks=[best])
    >>> best.restore()  # the best epoch's weights
    """

    def __init__(self, path=None, monitor="val_loss"):
        super().__init__()
        self.path = None if path is None else Path(path)
        self.monitor, self.best, self.best_weights = monitor, float("inf"), None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value < self.best:
            return
        if self.path is None:
            self.best_weights = self.model.get_weights()
        else:
            try:
                with atomic_path(self.path) as tmp:
                    self.model.save(tmp)
            except UserError as exc:
                log.warning("epoch %d: could not write the checkpoint (%s); the previous best "
                            "model is kept", epoch + 1, exc)
                return
        self.best = value

    def restore(self):
        """Put the best epoch's weights back (kept in memory only without a ``path``)."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
