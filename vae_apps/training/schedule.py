"""Adam's learning rate over a training: constant, or a warm-up then a cosine decay.

Imports Keras only when called, so the CLI's help can list ``SCHEDULES``.
"""

from vae_apps.errors import UserError


SCHEDULES = ("constant", "cosine")


def learning_rate_schedule(learning_rate, schedule, steps, warmup_steps=0):
    """Adam's learning rate: a float (``"constant"``) or a ``CosineDecay`` to 1 % over
    ``steps`` updates after a linear warm-up over ``warmup_steps`` (``"cosine"``).

    Args:
        learning_rate: float. The constant rate, or the cosine schedule's peak.
        schedule: str. One of ``SCHEDULES``.
        steps: int. All updates of the training.
        warmup_steps: int. Warm-up updates (at most ``steps // 6`` are used).

    Examples:
    >>> lr = learning_rate_schedule(3e-3, "cosine", steps=2532, warmup_steps=400)
    >>> keras.optimizers.Adam(lr)  # doctest: +SKIP
    """
    if schedule not in SCHEDULES:
        raise UserError(f"--schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if schedule == "constant":
        return learning_rate
    import keras

    # A warm-up longer than a sixth of training would leave too few updates at the peak
    # (small sets: 8x8 digits' 6 epochs at batch 128 are 84 updates).
    warmup_steps = min(int(warmup_steps), steps // 6)
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1), alpha=0.01)
    return keras.optimizers.schedules.CosineDecay(
        learning_rate / 100, max(steps - warmup_steps, 1), alpha=0.01,
        warmup_target=learning_rate, warmup_steps=warmup_steps)

